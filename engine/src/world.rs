//! The lab: hosts joined by one Ethernet segment, and the simulated clock.
//!
//! Time is passed in, never read: the world only advances when told to, so a
//! run is a pure function of its inputs (the turmoil/smoltcp way).

use crate::host::Host;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Milliseconds since the lab started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SimTime(pub u64);

/// A port of the lab switch: which host's which device is plugged in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    pub host: String,
    pub ifindex: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct World {
    pub now: SimTime,
    /// Hosts by name (ordered: iteration is deterministic).
    pub hosts: BTreeMap<String, Host>,
    /// The switch's ports, in port-number order (port 1 first).
    pub ports: Vec<Port>,
    /// The segment's IPv4 network, for display.
    pub segment: ipnet::Ipv4Net,
}

impl World {
    pub fn new(segment: ipnet::Ipv4Net) -> World {
        World {
            now: SimTime(0),
            hosts: BTreeMap::new(),
            ports: Vec::new(),
            segment,
        }
    }

    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.get(name)
    }

    pub fn host_mut(&mut self, name: &str) -> Option<&mut Host> {
        self.hosts.get_mut(name)
    }
}
