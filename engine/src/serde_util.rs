//! Serde helpers: maps whose keys are not strings (tuples, times) are
//! written as a sequence of `[key, value]` pairs, so every piece of lab
//! state serialises to JSON (which only allows string keys).

/// `#[serde(with = "crate::serde_util::seq_map")]` for a `BTreeMap<K, V>`.
pub mod seq_map {
    use serde::de::Deserialize;
    use serde::ser::Serializer;
    use serde::{Deserializer, Serialize};
    use std::collections::BTreeMap;

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        m: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(m.iter())
    }

    pub fn deserialize<
        'de,
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    >(
        d: D,
    ) -> Result<BTreeMap<K, V>, D::Error> {
        let v: Vec<(K, V)> = Vec::deserialize(d)?;
        Ok(v.into_iter().collect())
    }
}

/// `#[serde(with = "crate::serde_util::seq_vecmap")]`: [`seq_map`]'s form
/// for a [`VecMap`](crate::vecmap::VecMap).
pub mod seq_vecmap {
    use crate::vecmap::VecMap;
    use serde::de::Deserialize;
    use serde::ser::Serializer;
    use serde::{Deserializer, Serialize};

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        m: &VecMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(m.iter())
    }

    pub fn deserialize<
        'de,
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    >(
        d: D,
    ) -> Result<VecMap<K, V>, D::Error> {
        let v: Vec<(K, V)> = Vec::deserialize(d)?;
        Ok(v.into_iter().collect())
    }
}
