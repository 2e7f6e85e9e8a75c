//! Serde helpers: maps whose keys are not strings (tuples, times) are
//! written as a sequence of `[key, value]` pairs, so every piece of lab
//! state serialises to JSON (which only allows string keys).

/// `#[serde(with = "crate::util::serde_util::seq_map")]` for any map that
/// iterates as `(&K, &V)` and collects from `(K, V)`: `BTreeMap`,
/// [`VecMap`](crate::util::vecmap::VecMap).
pub mod seq_map {
    use serde::de::Deserialize;
    use serde::ser::Serializer;
    use serde::{Deserializer, Serialize};

    pub fn serialize<'a, M, K, V, S>(m: &'a M, s: S) -> Result<S::Ok, S::Error>
    where
        &'a M: IntoIterator<Item = (&'a K, &'a V)>,
        K: Serialize + 'a,
        V: Serialize + 'a,
        S: Serializer,
    {
        s.collect_seq(m)
    }

    pub fn deserialize<'de, M, K, V, D>(d: D) -> Result<M, D::Error>
    where
        M: FromIterator<(K, V)>,
        K: Deserialize<'de>,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        let v: Vec<(K, V)> = Vec::deserialize(d)?;
        Ok(v.into_iter().collect())
    }
}
