//! Values that many trace events carry, shared instead of copied.
//!
//! Every event names its host, and a frame's bytes appear in the sender's
//! `FrameTx`, in the queue on the wire and in each receiver's `FrameRx`.
//! Copying them per event was a third of the simulator's time (malloc,
//! memcpy, free); an `Arc` makes each copy a reference count. Both types
//! serialise exactly as the `String` and `Vec<u8>` they replace, so saved
//! labs and exports do not change.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A frame's bytes, as it crosses the wire (shared by every event and
/// queue entry that holds it; never changed once sent).
pub type FrameBytes = Arc<[u8]>;

/// A host's name as events carry it: a `str` whose clones share one
/// allocation.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(Arc<str>);

impl Name {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name(Arc::from(s))
    }
}

impl From<String> for Name {
    fn from(s: String) -> Name {
        Name(Arc::from(s))
    }
}

impl From<Name> for String {
    fn from(n: Name) -> String {
        n.0.to_string()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        *self == *other.0
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        **self == *other.0
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        **self == *other.0
    }
}

/// Like `String`'s: quoted.
impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Name, D::Error> {
        String::deserialize(d).map(Name::from)
    }
}

/// The names a world has handed out, so that an event's host costs a
/// reference count, not an allocation. A cache, not state: two worlds
/// compare equal whatever their caches hold, and it is not saved.
#[derive(Clone, Default)]
pub struct Names(Vec<Name>);

/// More distinct names than a lab has hosts: past this, names are no
/// longer cached (a bound, should anything name hosts without end).
const NAMES_MAX: usize = 64;

impl Names {
    /// `s` as a shared name.
    pub fn get(&mut self, s: &str) -> Name {
        if let Some(n) = self.0.iter().find(|n| *n.0 == *s) {
            return n.clone();
        }
        let n = Name::from(s);
        if self.0.len() < NAMES_MAX {
            self.0.push(n.clone());
        }
        n
    }
}

impl PartialEq for Names {
    fn eq(&self, _: &Names) -> bool {
        true
    }
}

impl fmt::Debug for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Names")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_serialises_and_compares_as_its_string() {
        let n = Name::from("node01");
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"node01\"");
        assert_eq!(format!("{n:?}|{n}|{n:>8}"), "\"node01\"|node01|  node01");
        let back: Name = serde_json::from_str("\"node01\"").unwrap();
        assert_eq!(back, n);
        assert_eq!(n, "node01");
        assert_eq!("node01", n);
        let frame: FrameBytes = Arc::from(vec![1u8, 2, 3]);
        assert_eq!(serde_json::to_string(&frame).unwrap(), "[1,2,3]");
        let back: FrameBytes = serde_json::from_str("[1,2,3]").unwrap();
        assert_eq!(back, frame);
    }

    #[test]
    fn names_share_one_allocation_and_stay_bounded() {
        let mut names = Names::default();
        let a = names.get("client");
        let b = names.get("client");
        assert!(Arc::ptr_eq(&a.0, &b.0));
        for i in 0..200 {
            assert_eq!(names.get(&format!("h{i}")).as_str(), format!("h{i}"));
        }
        assert_eq!(names.0.len(), NAMES_MAX);
    }
}
