//! The lab: hosts joined by one Ethernet segment, the event queue and the
//! simulated clock.
//!
//! Time is passed in, never read: the world only advances when told to, so a
//! run is a pure function of its inputs (the turmoil/smoltcp way). Events
//! are ordered by (time, sequence number); the segment is a learning switch
//! (an `fdb` of MAC → port, like a Linux bridge with STP off).

use crate::apps::App;
use crate::net::host::Host;
use crate::sim::trace::{Event, EventKind};
pub use crate::time::SimTime;
use crate::util::shared::{FrameBytes, Name, Names};
use crate::util::vecmap::VecMap;
use crate::wire::mac::Mac;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One wire hop (host → switch, or switch → host), in microseconds.
pub const HOP_DELAY: u64 = 25;
/// A trip through the loopback device.
pub const LOOPBACK_DELAY: u64 = 5;

/// A port of the lab switch: which host's which device is plugged in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    pub host: Name,
    pub ifindex: u32,
}

/// Something scheduled to happen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Pending {
    /// A frame reaches the switch on `port` (0-based).
    SwitchIn { port: usize, frame: FrameBytes },
    /// A frame reaches the host plugged into `port`.
    HostIn { port: usize, frame: FrameBytes },
    /// An IPv4 packet comes back through a host's loopback device.
    LoopbackIn { host: String, packet: Vec<u8> },
    /// A host's neighbour timers may be due.
    NeighTimer { host: String },
    /// An application's timer.
    AppTimer { app: u32 },
    /// A host's TCP timers may be due.
    TcpTimer { host: String },
    /// A host's IPVS estimator sample is due.
    IpvsTimer { host: String },
}

/// The most events a trace holds before [`World::trim_trace`] drops the
/// oldest, and how many it keeps then (far above any tutorial path: the
/// whole seed lab with two requests is under 400).
pub const TRACE_MAX: usize = 250_000;
pub const TRACE_KEEP: usize = 200_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct World {
    pub now: SimTime,
    /// Hosts by name (ordered: iteration is deterministic).
    pub hosts: VecMap<String, Host>,
    /// The switch's ports, in port-number order (port 1 first).
    pub ports: Vec<Port>,
    /// The segment's IPv4 network, for display.
    pub segment: ipnet::Ipv4Net,
    /// The switch's forwarding database.
    #[serde(default)]
    pub fdb: VecMap<Mac, usize>,
    /// What is scheduled, by (time, sequence number): the sequence number
    /// orders events of one time in the order they were scheduled.
    /// Private with `seq` and `ipvs_timers`: only [`World::schedule`] and
    /// [`World::step`] change them, which keeps `seq` above every key and
    /// `ipvs_timers` equal to the queue's `IpvsTimer` count per host.
    #[serde(default, with = "crate::util::serde_util::seq_map")]
    queue: BTreeMap<(SimTime, u64), Pending>,
    #[serde(default)]
    seq: u64,
    #[serde(default)]
    pub trace: Vec<Event>,
    /// Events dropped from the front of the trace ([`World::trim_trace`]):
    /// `trace[0]` is the run's event number `trace_dropped`.
    #[serde(default)]
    pub trace_dropped: u64,
    /// Running programs (ping, arping, …).
    #[serde(skip)]
    pub apps: VecMap<u32, App>,
    #[serde(default)]
    pub next_app: u32,
    /// How many `IpvsTimer` events each host has in `queue` (an index, so
    /// scheduling does not scan the queue).
    #[serde(default)]
    ipvs_timers: VecMap<String, u32>,
    /// The host names events carry, shared (a cache, not saved).
    #[serde(skip)]
    pub(crate) names: Names,
}

impl World {
    pub fn new(segment: ipnet::Ipv4Net) -> World {
        World {
            now: SimTime(0),
            hosts: VecMap::new(),
            ports: Vec::new(),
            segment,
            fdb: VecMap::new(),
            queue: BTreeMap::new(),
            seq: 0,
            trace: Vec::new(),
            trace_dropped: 0,
            apps: VecMap::new(),
            next_app: 1,
            ipvs_timers: VecMap::new(),
            names: Names::default(),
        }
    }

    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.get(name)
    }

    pub fn host_mut(&mut self, name: &str) -> Option<&mut Host> {
        self.hosts.get_mut(name)
    }

    /// The switch port a host's device is plugged into.
    pub fn port_of(&self, host: &str, ifindex: u32) -> Option<usize> {
        self.ports
            .iter()
            .position(|p| p.host == host && p.ifindex == ifindex)
    }

    pub fn schedule(&mut self, at: SimTime, p: Pending) {
        self.seq += 1;
        if let Pending::IpvsTimer { host } = &p {
            *self.ipvs_timers.entry(host.clone()).or_default() += 1;
        }
        self.queue.insert((at.max(self.now), self.seq), p);
    }

    /// Bound the trace between commands: past [`TRACE_MAX`] events the
    /// oldest go, down to [`TRACE_KEEP`]. Returns how many went (callers
    /// holding trace indices shift them). Never called inside a command,
    /// so the indices a command's own code holds stay valid.
    pub fn trim_trace(&mut self) -> usize {
        if self.trace.len() <= TRACE_MAX {
            return 0;
        }
        let d = self.trace.len() - TRACE_KEEP;
        self.trace.drain(..d);
        self.trace_dropped += d as u64;
        d
    }

    pub(crate) fn record(&mut self, host: &str, kind: EventKind) {
        let host = self.names.get(host);
        self.trace.push(Event {
            time: self.now,
            host,
            kind,
        });
    }

    /// Whether an event at exactly `at` matches `pred` (only the events of
    /// one time can duplicate a timer, so this looks at no other).
    pub(crate) fn scheduled_at(&self, at: SimTime, pred: impl Fn(&Pending) -> bool) -> bool {
        self.queue
            .range((at, 0)..=(at, u64::MAX))
            .any(|(_, p)| pred(p))
    }

    /// Whether an IPVS estimator sample is scheduled for `host`.
    pub(crate) fn ipvs_timer_pending(&self, host: &str) -> bool {
        self.ipvs_timers.get(host).is_some_and(|n| *n > 0)
    }

    /// Time of the next scheduled event.
    pub fn next_event_time(&self) -> Option<SimTime> {
        self.queue.keys().next().map(|(t, _)| *t)
    }

    /// Process the next event; false when nothing is scheduled.
    pub fn step(&mut self) -> bool {
        let Some((key, p)) = self.queue.pop_first() else {
            return false;
        };
        if let Pending::IpvsTimer { host } = &p {
            if let Some(n) = self.ipvs_timers.get_mut(host) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.ipvs_timers.remove(host);
                }
            }
        }
        self.now = self.now.max(key.0);
        self.dispatch(p);
        true
    }

    /// Process every event up to and including `t`, then set the clock to `t`.
    pub fn run_until(&mut self, t: SimTime) {
        while let Some(next) = self.next_event_time() {
            if next > t {
                break;
            }
            self.step();
        }
        self.now = self.now.max(t);
    }

    /// Let `us` microseconds pass (the shell's `sleep`).
    pub fn advance(&mut self, us: u64) {
        let t = self.now.plus(us);
        self.run_until(t);
    }

    fn dispatch(&mut self, p: Pending) {
        match p {
            Pending::SwitchIn { port, frame } => self.switch_in(port, frame),
            Pending::HostIn { port, frame } => self.host_in(port, frame),
            Pending::LoopbackIn { host, packet } => self.loopback_in(&host, packet),
            Pending::NeighTimer { host } => self.neigh_timers(&host),
            Pending::AppTimer { app } => self.app_timer(app),
            Pending::TcpTimer { host } => self.tcp_timers(&host),
            Pending::IpvsTimer { host } => self.ipvs_timer(&host),
        }
    }

    /// The learning switch: learn the source, forward to the known port or
    /// flood to every other port.
    fn switch_in(&mut self, in_port: usize, frame: FrameBytes) {
        if frame.len() < 12 {
            return;
        }
        let mut dst = [0u8; 6];
        dst.copy_from_slice(&frame[0..6]);
        let mut src = [0u8; 6];
        src.copy_from_slice(&frame[6..12]);
        let (dst, src) = (Mac(dst), Mac(src));
        if !src.is_multicast() {
            self.fdb.insert(src, in_port);
        }
        let known = if dst.is_multicast() {
            None
        } else {
            self.fdb.get(&dst).copied()
        };
        // Ports as the trace numbers them, 1-based.
        let out_ports: Vec<usize> = match known {
            Some(p) if p == in_port => vec![],
            Some(p) => vec![p + 1],
            // A Linux bridge floods along its port list, which
            // br_add_if() builds newest first: the last port plugged in
            // hears a broadcast first.
            None => (0..self.ports.len())
                .rev()
                .filter(|&p| p != in_port)
                .map(|p| p + 1)
                .collect(),
        };
        let at = self.now.plus(HOP_DELAY);
        for &p in &out_ports {
            self.schedule(
                at,
                Pending::HostIn {
                    port: p - 1,
                    frame: frame.clone(),
                },
            );
        }
        self.record(
            "switch",
            EventKind::Switch {
                in_port: in_port + 1,
                out_ports,
                flooded: known.is_none(),
            },
        );
    }
}
