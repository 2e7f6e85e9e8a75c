//! # lvslab-engine
//!
//! A deterministic model of the Linux networking that an LVS-DR lab touches:
//! devices, IPv4 addresses, the FIB, ARP and sysctls, one Ethernet segment,
//! and (on top) IPVS. No I/O, no clock, no OS calls: time is a parameter and
//! every collection is ordered, so the same inputs always give the same
//! trace. Builds natively and for `wasm32-unknown-unknown`.
//!
//! The tree mirrors the kernel's: `net/core`, `net/ipv4`, `net/netfilter`,
//! `net/netfilter/ipvs`; `wire` holds the packet formats, `apps` the programs,
//! `tools` and `shell` the userspace grammars, `ops` the operator's tools and
//! `sim` the world around the hosts. Each module opens with what Linux does
//! and what we model of it.

pub mod apps;
pub mod net;
pub mod ops;
pub mod shell;
pub mod sim;
pub mod teach;
pub mod time;
pub mod tools;
pub mod util;
pub mod wire;

// The paths `web` and `native` use, kept stable across the tree's layout.
pub use net::core::{dev as device, neighbour as neigh};
pub use net::host::{self, Host};
pub use net::ipv4::{devconf as sysctl, devinet as addr, fib};
pub use net::netfilter::{self as netfilter, ipvs};
pub use ops::{apply, doctor, snapshot};
pub use sim::world::{self, World};
pub use sim::{bench, digest, pcap, scenario, trace};
pub use time::SimTime;
pub use tools::ipvsadm;
pub use util::vecmap;
pub use wire::Mac;
