//! A small ordered map: a `Vec` of `(key, value)` pairs kept sorted by key.
//!
//! Linux keeps per-host tables that hold a handful of entries (a host's
//! devices, its addresses, the switch's forwarding database, sysctl
//! directories) in lists and hash tables; we model them as ordered maps so
//! every iteration is deterministic. For maps this small a sorted vector is
//! as fast as a B-tree, and in the browser build it costs far less code:
//! each distinct `BTreeMap<K, V>` brings its own copy of the B-tree's node
//! handling (~8 KB of wasm), while `VecMap<K, V>` is a binary search and a
//! `Vec` insert. Iteration is in ascending key order, exactly like
//! `BTreeMap`, and so are `Debug` and serde's map form, so transcripts and
//! saved labs do not change. Large tables (the IPVS connection table, the
//! event queue, TCP sockets) stay `BTreeMap`: inserting into a sorted
//! vector is linear in its length.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, Serializer};
use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;

/// Up to this many entries a lookup scans instead of bisecting.
const SCAN_MAX: usize = 8;

/// An ordered map on a sorted `Vec<(K, V)>`; the API is the subset of
/// `BTreeMap`'s that the engine uses, with the same semantics.
#[derive(Clone, PartialEq, Eq)]
pub struct VecMap<K, V> {
    items: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap { items: Vec::new() }
    }
}

impl<K, V> VecMap<K, V> {
    pub const fn new() -> Self {
        VecMap { items: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn clear(&mut self) {
        self.items.clear();
    }

    /// The entries in ascending key order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter(self.items.iter())
    }

    /// The entries in ascending key order, values mutable.
    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        IterMut(self.items.iter_mut())
    }

    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator + Clone {
        self.items.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator + Clone {
        self.items.iter().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> + ExactSizeIterator {
        self.items.iter_mut().map(|(_, v)| v)
    }

    pub fn into_values(self) -> impl DoubleEndedIterator<Item = V> + ExactSizeIterator {
        self.items.into_iter().map(|(_, v)| v)
    }

    /// The entry with the smallest key.
    pub fn first_key_value(&self) -> Option<(&K, &V)> {
        self.items.first().map(|(k, v)| (k, v))
    }

    /// The entry with the largest key.
    pub fn last_key_value(&self) -> Option<(&K, &V)> {
        self.items.last().map(|(k, v)| (k, v))
    }

    /// Keep only the entries for which `f` is true (in key order).
    pub fn retain(&mut self, mut f: impl FnMut(&K, &mut V) -> bool) {
        self.items.retain_mut(|(k, v)| f(k, v));
    }
}

impl<K: Ord, V> VecMap<K, V> {
    /// `Ok(index)` of `key`, or `Err(index)` where it would be inserted.
    fn find<Q>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.items.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    /// The index of `key`, for lookups only: the maps on the packet path
    /// (a host's devices and sysctl directories, the hosts themselves) hold
    /// a handful of string keys, and a scan that compares lengths first
    /// beats a binary search's byte-wise `cmp` there.
    fn index_of<Q>(&self, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        if self.items.len() <= SCAN_MAX {
            self.items.iter().position(|(k, _)| k.borrow() == key)
        } else {
            self.find(key).ok()
        }
    }

    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.index_of(key).map(|i| &self.items[i].1)
    }

    pub fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|i| {
            let (k, v) = &self.items[i];
            (k, v)
        })
    }

    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.index_of(key).map(|i| &mut self.items[i].1)
    }

    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).is_ok()
    }

    /// Insert or replace; the old value, if any (the stored key is kept,
    /// as `BTreeMap` does).
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.items[i].1, value)),
            Err(i) => {
                self.items.insert(i, (key, value));
                None
            }
        }
    }

    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        match self.find(key) {
            Ok(i) => Some(self.items.remove(i).1),
            Err(_) => None,
        }
    }

    pub fn entry(&mut self, key: K) -> Entry<'_, K, V> {
        match self.find(&key) {
            Ok(index) => Entry::Occupied(OccupiedEntry { map: self, index }),
            Err(index) => Entry::Vacant(VacantEntry {
                map: self,
                index,
                key,
            }),
        }
    }
}

/// A view into one key's slot, like `btree_map::Entry`.
pub enum Entry<'a, K, V> {
    Occupied(OccupiedEntry<'a, K, V>),
    Vacant(VacantEntry<'a, K, V>),
}

pub struct OccupiedEntry<'a, K, V> {
    map: &'a mut VecMap<K, V>,
    index: usize,
}

pub struct VacantEntry<'a, K, V> {
    map: &'a mut VecMap<K, V>,
    index: usize,
    key: K,
}

impl<'a, K, V> Entry<'a, K, V> {
    pub fn or_insert_with(self, f: impl FnOnce() -> V) -> &'a mut V {
        match self {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => v.insert(f()),
        }
    }

    pub fn or_insert(self, value: V) -> &'a mut V {
        self.or_insert_with(|| value)
    }

    pub fn or_default(self) -> &'a mut V
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }
}

impl<'a, K, V> OccupiedEntry<'a, K, V> {
    pub fn key(&self) -> &K {
        &self.map.items[self.index].0
    }

    pub fn get(&self) -> &V {
        &self.map.items[self.index].1
    }

    pub fn get_mut(&mut self) -> &mut V {
        &mut self.map.items[self.index].1
    }

    pub fn into_mut(self) -> &'a mut V {
        &mut self.map.items[self.index].1
    }

    pub fn remove(self) -> V {
        self.map.items.remove(self.index).1
    }
}

impl<'a, K, V> VacantEntry<'a, K, V> {
    pub fn key(&self) -> &K {
        &self.key
    }

    pub fn insert(self, value: V) -> &'a mut V {
        self.map.items.insert(self.index, (self.key, value));
        &mut self.map.items[self.index].1
    }
}

/// Borrowing iterator in key order (`(&K, &V)` items, like `btree_map::Iter`).
#[derive(Clone)]
pub struct Iter<'a, K, V>(std::slice::Iter<'a, (K, V)>);

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<K, V> DoubleEndedIterator for Iter<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k, v))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}

/// Mutably borrowing iterator in key order.
pub struct IterMut<'a, K, V>(std::slice::IterMut<'a, (K, V)>);

impl<'a, K, V> Iterator for IterMut<'a, K, V> {
    type Item = (&'a K, &'a mut V);
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (&*k, v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl<K, V> DoubleEndedIterator for IterMut<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (&*k, v))
    }
}

impl<K, V> ExactSizeIterator for IterMut<'_, K, V> {}

impl<'a, K, V> IntoIterator for &'a VecMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, K, V> IntoIterator for &'a mut VecMap<K, V> {
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter_mut()
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// Like `BTreeMap`: for equal keys the last value wins.
impl<K: Ord, V> FromIterator<(K, V)> for VecMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut m = VecMap::new();
        m.extend(iter);
        m
    }
}

impl<K: Ord, V> Extend<(K, V)> for VecMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K: Ord, V, const N: usize> From<[(K, V); N]> for VecMap<K, V> {
    fn from(a: [(K, V); N]) -> Self {
        a.into_iter().collect()
    }
}

/// `map[&key]`; panics when the key is absent, like `BTreeMap`'s `Index`.
impl<K: Ord + Borrow<Q>, Q: Ord + ?Sized, V> std::ops::Index<&Q> for VecMap<K, V> {
    type Output = V;
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("no entry found for key")
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for VecMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Serialised as a map in key order: the same as a `BTreeMap`.
impl<K: Serialize, V: Serialize> Serialize for VecMap<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> Deserialize<'de> for VecMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> Visitor<'de> for MapVisitor<K, V> {
            type Value = VecMap<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut m = VecMap::new();
                while let Some((k, v)) = a.next_entry()? {
                    m.insert(k, v);
                }
                Ok(m)
            }
        }
        d.deserialize_map(MapVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, u16),
        Remove(u8),
        Entry(u8, u16),
        Retain(u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (any::<u8>(), any::<u16>()).prop_map(|(k, v)| Op::Insert(k % 32, v)),
            any::<u8>().prop_map(|k| Op::Remove(k % 32)),
            (any::<u8>(), any::<u16>()).prop_map(|(k, v)| Op::Entry(k % 32, v)),
            any::<u8>().prop_map(|m| Op::Retain(m % 5 + 2)),
        ]
    }

    proptest! {
        /// Every operation gives what `BTreeMap` gives, and iteration,
        /// `Debug` and JSON agree with it after each step.
        #[test]
        fn behaves_like_btreemap(ops in proptest::collection::vec(op(), 0..200)) {
            let mut b: BTreeMap<u8, u16> = BTreeMap::new();
            let mut v: VecMap<u8, u16> = VecMap::new();
            for o in ops {
                match o {
                    Op::Insert(k, x) => prop_assert_eq!(b.insert(k, x), v.insert(k, x)),
                    Op::Remove(k) => prop_assert_eq!(b.remove(&k), v.remove(&k)),
                    Op::Entry(k, x) => {
                        let e = b.entry(k).or_insert(x);
                        *e = e.wrapping_add(1);
                        let e = v.entry(k).or_insert(x);
                        *e = e.wrapping_add(1);
                    }
                    Op::Retain(m) => {
                        b.retain(|k, _| k % m != 0);
                        v.retain(|k, _| k % m != 0);
                    }
                }
                prop_assert_eq!(b.len(), v.len());
                prop_assert!(b.iter().eq(v.iter()));
                prop_assert_eq!(format!("{b:?}"), format!("{v:?}"));
                prop_assert_eq!(b.get(&7), v.get(&7));
                prop_assert_eq!(b.contains_key(&9), v.contains_key(&9));
            }
            prop_assert_eq!(serde_json::to_string(&b).unwrap(), serde_json::to_string(&v).unwrap());
        }
    }

    #[test]
    fn from_iter_last_wins_and_sorts() {
        let v: VecMap<&str, i32> = [("b", 1), ("a", 2), ("b", 3)].into_iter().collect();
        assert_eq!(v.iter().collect::<Vec<_>>(), vec![(&"a", &2), (&"b", &3)]);
    }

    #[test]
    fn json_round_trip_and_bad_input() {
        let v: VecMap<String, i64> = [("x".to_string(), 1), ("a".to_string(), 2)].into();
        let s = serde_json::to_string(&v).unwrap();
        assert_eq!(s, r#"{"a":2,"x":1}"#);
        let back: VecMap<String, i64> = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
        // Duplicate keys: the last one wins, as for BTreeMap.
        let dup: VecMap<String, i64> = serde_json::from_str(r#"{"b":1,"a":2,"b":3}"#).unwrap();
        assert_eq!(format!("{dup:?}"), r#"{"a": 2, "b": 3}"#);
        assert!(serde_json::from_str::<VecMap<String, i64>>("[1,2]").is_err());
    }
}
