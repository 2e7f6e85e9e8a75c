//! Benchmark workloads, one definition for every place that measures them.
//!
//! Linux moves a packet hop by hop (`dev_queue_xmit` on the sender, the
//! bridge or switch, `netif_receive_skb` on the receiver); we model one
//! packet-hop as one frame crossing one link: a `FrameTx` or `FrameRx` event
//! in the trace. The native benches (`engine/benches/lan.rs`, `director.rs`)
//! and the browser (the web crate's `lvslab_bench` export) both run the
//! workloads below, so their packet-hops per second compare like for like.
//! This module has no clock: the caller times [`Bench::run`].

use crate::apps::curl::CurlApp;
use crate::apps::{AppKind, PingApp};
use crate::sim::scenario;
use crate::sim::trace::EventKind;
use crate::World;
use std::net::{Ipv4Addr, SocketAddrV4};

/// A benchmark workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workload {
    /// A ping flood on the bare LAN: client → node02 and back, `n` echoes.
    Lan,
    /// `n` HTTP requests from the client to the VIP through the DR director
    /// of the `seed` lab, each a whole TCP connection.
    Director,
}

/// The workload name is not one of [`Workload::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown benchmark workload {0:?} (known: lan, director)")]
pub struct UnknownWorkload(pub String);

impl Workload {
    pub const ALL: [Workload; 2] = [Workload::Lan, Workload::Director];

    pub fn name(self) -> &'static str {
        match self {
            Workload::Lan => "lan",
            Workload::Director => "director",
        }
    }

    pub fn parse(name: &str) -> Result<Workload, UnknownWorkload> {
        Workload::ALL
            .into_iter()
            .find(|w| w.name() == name)
            .ok_or_else(|| UnknownWorkload(name.to_string()))
    }

    /// The count the native bench runs by default (pings or requests).
    pub fn default_count(self) -> u32 {
        match self {
            Workload::Lan => 20_000,
            Workload::Director => 10_000,
        }
    }
}

/// A prepared run: the lab is built, nothing has been sent yet.
pub struct Bench {
    workload: Workload,
    count: u32,
    world: World,
}

/// What a run did. `hops` is deterministic for a given workload and count.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub workload: Workload,
    /// Pings or requests started.
    pub count: u32,
    /// Echo replies received, or requests answered with exit status 0.
    pub answered: u32,
    /// Frames that crossed a link (`FrameTx` + `FrameRx` events).
    pub hops: u64,
    /// Director only: requests answered by node02 and by node03.
    pub by_server: [u32; 2],
    /// Simulated time at the end, in seconds.
    pub simulated_s: f64,
}

impl Outcome {
    /// One line for a report, `secs` being the wall time of [`Bench::run`].
    pub fn summary(&self, secs: f64) -> String {
        let what = match self.workload {
            Workload::Lan => format!("{} echo round trips on the bare LAN", self.count),
            Workload::Director => format!(
                "{} HTTP requests through the DR director ({} to node02, {} to node03)",
                self.count, self.by_server[0], self.by_server[1]
            ),
        };
        format!(
            "{}: {what}, {} packet-hops in {secs:.3} s wall ({:.1} s simulated): {:.0} packet-hops/s",
            self.workload.name(),
            self.hops,
            self.simulated_s,
            self.hops as f64 / secs
        )
    }
}

const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 150, 1);
const NODE02: Ipv4Addr = Ipv4Addr::new(192, 168, 150, 12);
const VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 150, 100);

fn hops(w: &World) -> u64 {
    w.trace
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::FrameTx { .. } | EventKind::FrameRx { .. }
            )
        })
        .count() as u64
}

impl Bench {
    /// Build the lab for `workload` (not part of the timed run).
    pub fn new(workload: Workload, count: u32) -> Result<Bench, scenario::UnknownScenario> {
        let world = match workload {
            Workload::Lan => scenario::bare(),
            Workload::Director => scenario::load("seed")?,
        };
        Ok(Bench {
            workload,
            count,
            world,
        })
    }

    /// Run the workload to completion. Time this call.
    pub fn run(mut self) -> Outcome {
        match self.workload {
            Workload::Lan => self.run_lan(),
            Workload::Director => self.run_director(),
        }
    }

    fn run_lan(&mut self) -> Outcome {
        let w = &mut self.world;
        let start = w.now;
        let id = w.spawn(AppKind::Ping(PingApp {
            host: "client".into(),
            dst: NODE02,
            src: CLIENT,
            oif: None,
            count: self.count,
            interval_us: 1_000_000,
            linger_s: 1.0,
            deadline_s: None,
            ident: 0x4242,
            ttl: None,
            start,
            sent: 0,
            received: 0,
            errors: 0,
            pipesize: 0,
            rtts: vec![],
            send_times: vec![],
            exit_at: None,
        }));
        let answered = match w.run_app(id).map(|a| a.kind) {
            Some(AppKind::Ping(p)) => p.received,
            _ => 0,
        };
        Outcome {
            workload: self.workload,
            count: self.count,
            answered,
            hops: hops(w),
            by_server: [0; 2],
            simulated_s: w.now.0 as f64 / 1e6,
        }
    }

    fn run_director(&mut self) -> Outcome {
        let w = &mut self.world;
        let mut total = 0u64;
        let mut answered = 0u32;
        let mut by_server = [0u32; 2];
        for _ in 0..self.count {
            let now = w.now;
            let mut app = CurlApp::new("client", "curl", SocketAddrV4::new(VIP, 80), CLIENT, now);
            app.silent = true;
            app.max_time_s = Some(5.0);
            let id = w.spawn(AppKind::Curl(app));
            let app = w.run_app(id);
            // Let the closing handshake finish, as between two real requests.
            w.advance(1_000);
            if let Some(app) = app.filter(|a| a.status == 0) {
                answered += 1;
                by_server[usize::from(!app.text.contains(".12<"))] += 1;
            }
            total += hops(w);
            w.trace.clear();
        }
        Outcome {
            workload: self.workload,
            count: self.count,
            answered,
            hops: total,
            by_server,
            simulated_s: w.now.0 as f64 / 1e6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workloads_are_answered_and_deterministic() {
        for w in Workload::ALL {
            assert_eq!(Workload::parse(w.name()), Ok(w));
            let a = Bench::new(w, 20).unwrap().run();
            assert_eq!(a.answered, 20, "{w:?}");
            assert_eq!(Bench::new(w, 20).unwrap().run(), a);
        }
        // Every echo is four hops once ARP is done (request and reply, each
        // sent and received).
        let lan = Bench::new(Workload::Lan, 20).unwrap().run();
        let lan2 = Bench::new(Workload::Lan, 21).unwrap().run();
        assert_eq!(lan2.hops - lan.hops, 4);
        let d = Bench::new(Workload::Director, 20).unwrap().run();
        assert_eq!(d.by_server, [10, 10]);
        assert!(Workload::parse("nope").is_err());
    }
}
