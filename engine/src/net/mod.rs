//! The kernel's networking, one file per part of `net/` (a Linux reader finds
//! `net/ipv4/arp.c`'s rules in `net/ipv4/arp.rs`), plus [`host::Host`]: one
//! host's network namespace (`struct net`) with its devices, addresses,
//! tables, sysctls, neighbours, sockets and IPVS state.

pub mod core;
pub mod host;
pub mod ipv4;
pub mod netfilter;
