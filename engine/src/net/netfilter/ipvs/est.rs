//! The rate estimator (net/netfilter/ipvs/ip_vs_est.c).
//!
//! Linux does, and we model: per-netns, every 2 s (`IPVS_EST_TICK`), each
//! service's, destination's and the total's counters are sampled and
//! smoothed into rates with the kernel's scaled averages (`ip_vs_read_estimator`,
//! `estimation_timer`); `ipvsadm --rate` shows them. Counters (conns,
//! packets, bytes in/out) are `struct ip_vs_kstats`.
//!
//! Left out: the kthread estimator of Linux 6.2+ (this is 6.1's timer).

use super::*;
use crate::time::SimTime;
use serde::{Deserialize, Serialize};

/// Counters (`struct ip_vs_kstats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub conns: u64,
    pub inpkts: u64,
    pub outpkts: u64,
    pub inbytes: u64,
    pub outbytes: u64,
}

/// Rates as the estimator reports them (per second).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rates {
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    pub inbps: u64,
    pub outbps: u64,
}

/// The estimator's scaled state (`struct ip_vs_estimator`) plus the
/// counter snapshot it publishes (`kstats`) and the `-Z` zero point
/// (`kstats0`): what ipvsadm shows only changes at estimator ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estimator {
    last: Stats,
    snap: Stats,
    zero: Stats,
    cps: u64,
    inpps: u64,
    outpps: u64,
    inbps: u64,
    outbps: u64,
}

impl Estimator {
    /// One 2-second sample (`ip_vs_estimation_timer` / `ip_vs_chain_estimation`):
    /// rate = delta << 9 (packets, conns) or << 4 (bytes) per 2 s,
    /// avg += (rate - avg) >> 2.
    pub(crate) fn sample(&mut self, s: &Stats) {
        self.snap = *s;
        fn upd(avg: &mut u64, cur: u64, last: u64, shift: u32) {
            let rate = (cur.wrapping_sub(last) << shift) as i64;
            let a = *avg as i64;
            *avg = (a + ((rate - a) >> 2)).max(0) as u64;
        }
        upd(&mut self.cps, s.conns, self.last.conns, 9);
        upd(&mut self.inpps, s.inpkts, self.last.inpkts, 9);
        upd(&mut self.outpps, s.outpkts, self.last.outpkts, 9);
        upd(&mut self.inbps, s.inbytes, self.last.inbytes, 4);
        upd(&mut self.outbps, s.outbytes, self.last.outbytes, 4);
        self.last = *s;
    }

    /// The counters as exported (`ip_vs_copy_stats`): the last snapshot
    /// minus the zero point.
    pub fn shown(&self) -> Stats {
        Stats {
            conns: self.snap.conns.wrapping_sub(self.zero.conns),
            inpkts: self.snap.inpkts.wrapping_sub(self.zero.inpkts),
            outpkts: self.snap.outpkts.wrapping_sub(self.zero.outpkts),
            inbytes: self.snap.inbytes.wrapping_sub(self.zero.inbytes),
            outbytes: self.snap.outbytes.wrapping_sub(self.zero.outbytes),
        }
    }

    /// `ip_vs_zero_stats()`: the current snapshot becomes zero, averages reset.
    pub fn zero(&mut self) {
        let snap = self.snap;
        *self = Estimator {
            last: snap,
            snap,
            zero: snap,
            ..Estimator::default()
        };
    }

    /// `ip_vs_read_estimator()`: back to per-second units.
    pub fn rates(&self) -> Rates {
        Rates {
            cps: (self.cps + 0x1FF) >> 10,
            inpps: (self.inpps + 0x1FF) >> 10,
            outpps: (self.outpps + 0x1FF) >> 10,
            inbps: (self.inbps + 0xF) >> 5,
            outbps: (self.outbps + 0xF) >> 5,
        }
    }
}

impl Ipvs {
    /// Start the estimator when the first service appears.
    pub fn ensure_estimator(&mut self, now: SimTime) {
        if self.next_est.is_none() {
            self.next_est = Some(now.plus(2_000_000));
        }
    }

    /// Run estimator samples due up to `now` (every 2 s).
    pub fn run_estimator(&mut self, now: SimTime) {
        while let Some(t) = self.next_est {
            if t > now {
                break;
            }
            self.total_est.sample(&self.total);
            for s in &mut self.services {
                s.est.sample(&s.stats);
                for d in &mut s.dests {
                    d.est.sample(&d.stats);
                }
            }
            self.next_est = Some(t.plus(2_000_000));
        }
    }
}
