//! The operator's tools on engine types: the pitfall doctor, the declarative
//! apply (plan and execute over any `IpvsBackend`), and host snapshots.

pub mod apply;
pub mod doctor;
pub mod snapshot;
