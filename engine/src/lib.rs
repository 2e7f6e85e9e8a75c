//! # lvslab-engine
//!
//! A deterministic model of the Linux networking that an LVS-DR lab touches:
//! devices, IPv4 addresses, the FIB, ARP and sysctls, one Ethernet segment,
//! and (on top) IPVS. No I/O, no clock, no OS calls: time is a parameter and
//! every collection is ordered, so the same inputs always give the same
//! trace. Builds natively and for `wasm32-unknown-unknown`.
//!
//! Each module opens with what Linux does and what we model of it.

pub mod addr;
pub mod apply;
pub mod apps;
pub mod apps_tcp;
pub mod bench;
pub mod device;
pub mod doctor;
pub mod fib;
pub mod host;
pub mod ipvs;
pub mod ipvs_io;
pub mod ipvsadm;
pub mod mac;
pub mod neigh;
pub mod netfilter;
pub mod pcap;
pub mod scenario;
pub mod serde_util;
pub mod shell;
pub mod snapshot;
pub mod stack;
pub mod sysctl;
pub mod tcp;
pub mod tcp_io;
pub mod trace;
pub mod vecmap;
pub mod wire;
pub mod world;

pub use host::Host;
pub use mac::Mac;
pub use world::{SimTime, World};
