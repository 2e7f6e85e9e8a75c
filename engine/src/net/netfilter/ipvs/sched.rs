//! IPVS schedulers (net/netfilter/ipvs/ip_vs_{rr,wrr,lc,wlc,sed,nq,sh,dh}.c).
//!
//! Every scheduler walks the service's destination list in kernel order —
//! `ip_vs_add_dest()` links a new destination at the HEAD of the list, so
//! the list is newest first — and skips destinations that are overloaded
//! (`IP_VS_DEST_F_OVERLOAD`, set by the upper threshold) or quiesced
//! (weight 0; `lc`/`wlc`/`sed`/`nq` skip weight 0, `rr` and `wrr` too).
//! Overheads: `ip_vs_dest_conn_overhead()` = active·256 + inactive for
//! lc/wlc; active + 1 for sed/nq. `sh`/`dh` fill a 256-bucket table from the
//! list, each destination taking `weight` consecutive buckets, and hash the
//! client (sh) or destination (dh; one bucket each) address with `hash_32`.
//! `fo` picks the highest weight; `ovf` the highest weight whose active
//! connections do not exceed it; `mh` builds the Maglev table (4093
//! slots, hsiphash). Left out: the `sh-fallback`/`sh-port` flags and the
//! locality-based `lblc`/`lblcr` (the kernel has them: the lab says they
//! are not modelled rather than that they do not exist).

use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The schedulers we model.
pub const SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "sed", "nq", "sh", "dh", "mh", "fo", "ovf",
];

/// The schedulers Debian's 6.1 kernel has that the lab does not model.
pub const KERNEL_ONLY: &[&str] = &["lblc", "lblcr"];

/// What a scheduler needs to know about one destination.
#[derive(Debug, Clone, Copy)]
pub struct DestView {
    pub weight: i32,
    pub active: u32,
    pub inactive: u32,
    pub overloaded: bool,
    pub addr: IpAddr,
    /// The destination port in host order (mh hashes address + port).
    pub port_fold: u32,
}

impl DestView {
    fn available(&self) -> bool {
        !self.overloaded && self.weight > 0
    }
    /// `ip_vs_dest_conn_overhead()` as Debian's 6.1 stable kernel computes
    /// it: `(activeconns << 8) + totalconns` (upstream 6.1.0 added only the
    /// inactive ones).
    fn conn_overhead(&self) -> i64 {
        (i64::from(self.active) << 8) + i64::from(self.active) + i64::from(self.inactive)
    }
}

/// Per-service scheduler state (`svc->sched_data`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedState {
    /// rr/wrr: index of the last chosen destination in the list, or None
    /// for "the list head" (start of a pass).
    pub last: Option<usize>,
    /// wrr: current weight, max weight, gcd.
    pub cw: i32,
    pub mw: i32,
    pub di: i32,
    /// sh/dh: 256 buckets of destination indexes.
    pub buckets: Vec<Option<usize>>,
}

fn gcd(a: i32, b: i32) -> i32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

const TAB_BITS: u32 = 8;
const TAB_SIZE: usize = 1 << TAB_BITS;

/// `hash_32(val, bits)` from include/linux/hash.h.
fn hash_32(val: u32, bits: u32) -> u32 {
    val.wrapping_mul(0x61C8_8647) >> (32 - bits)
}

fn addr_fold(a: IpAddr) -> u32 {
    match a {
        IpAddr::V4(v) => u32::from(v),
        IpAddr::V6(v) => {
            let o = v.octets();
            let w = |i: usize| u32::from_be_bytes([o[i], o[i + 1], o[i + 2], o[i + 3]]);
            w(0) ^ w(4) ^ w(8) ^ w(12)
        }
    }
}

impl SchedState {
    /// Recompute what depends on the destination list (`*_update_svc` /
    /// `ip_vs_wrr_dest_changed` / `ip_vs_sh_reassign`).
    pub fn dests_changed(&mut self, sched: &str, dests: &[DestView]) {
        match sched {
            "wrr" => {
                // ip_vs_wrr_dest_changed(): back to the list head, new gcd
                // and max; cw kept unless above max or zero.
                let di = dests
                    .iter()
                    .map(|d| d.weight)
                    .filter(|w| *w > 0)
                    .fold(0, gcd)
                    .max(1);
                let max = dests.iter().map(|d| d.weight).max().unwrap_or(0);
                self.last = None;
                self.di = di;
                self.mw = max - (di - 1);
                if self.cw > self.mw || self.cw == 0 {
                    self.cw = self.mw;
                } else if di > 1 {
                    self.cw = (self.cw / di) * di + 1;
                }
            }
            "mh" => self.mh_populate(dests),
            "dh" => {
                // One bucket per destination in turn, whatever the weight.
                self.buckets = vec![None; TAB_SIZE];
                if !dests.is_empty() {
                    for (i, b) in self.buckets.iter_mut().enumerate() {
                        *b = Some(i % dests.len());
                    }
                }
            }
            "sh" => {
                self.buckets = vec![None; TAB_SIZE];
                if dests.is_empty() {
                    return;
                }
                let mut p = 0usize;
                let mut count = 0i32;
                for b in self.buckets.iter_mut() {
                    *b = Some(p);
                    count += 1;
                    if count >= dests[p].weight {
                        p = (p + 1) % dests.len();
                        count = 0;
                    }
                }
            }
            _ => {}
        }
    }

    /// A destination at `idx` was removed: keep rr/wrr positions valid.
    pub fn dest_removed(&mut self, idx: usize) {
        if let Some(l) = self.last {
            self.last = if l == idx {
                l.checked_sub(1)
            } else if l > idx {
                Some(l - 1)
            } else {
                Some(l)
            };
        }
    }

    /// A destination was linked at the head of the list: indexes shift.
    pub fn dest_added_at_head(&mut self) {
        if let Some(l) = self.last {
            self.last = Some(l + 1);
        }
    }

    /// Pick a destination index, or None ("no destination available").
    pub fn schedule(
        &mut self,
        sched: &str,
        dests: &[DestView],
        client: IpAddr,
        dst: IpAddr,
    ) -> Option<usize> {
        self.schedule_port(sched, dests, client, 0, dst)
    }

    /// As [`SchedState::schedule`], with the client's source port for the
    /// `sh-port`/`mh-port` flags (`port` is 0 without them).
    pub fn schedule_port(
        &mut self,
        sched: &str,
        dests: &[DestView],
        client: IpAddr,
        port: u16,
        dst: IpAddr,
    ) -> Option<usize> {
        match sched {
            "rr" => self.rr(dests),
            "wrr" => self.wrr(dests),
            "lc" => dests
                .iter()
                .enumerate()
                .filter(|(_, d)| d.available())
                .min_by_key(|(i, d)| (d.conn_overhead(), *i))
                .map(|(i, _)| i),
            "wlc" => weighted_least(dests, |d| d.conn_overhead(), false),
            "sed" => weighted_least(dests, |d| i64::from(d.active) + 1, false),
            "nq" => weighted_least(dests, |d| i64::from(d.active) + 1, true),
            "fo" => dests
                .iter()
                .enumerate()
                .filter(|(_, d)| d.available())
                .fold(None, |best: Option<(usize, i32)>, (i, d)| match best {
                    Some((_, w)) if w >= d.weight => best,
                    _ => Some((i, d.weight)),
                })
                .map(|(i, _)| i),
            // ip_vs_ovf_schedule(): the highest weight among those not
            // overloaded whose active connections do not exceed their
            // weight; the first of equal weights.
            "ovf" => dests
                .iter()
                .enumerate()
                .filter(|(_, d)| {
                    !d.overloaded && d.weight > 0 && i64::from(d.active) <= i64::from(d.weight)
                })
                .fold(None, |best: Option<(usize, i32)>, (i, d)| match best {
                    Some((_, w)) if w >= d.weight => best,
                    _ => Some((i, d.weight)),
                })
                .map(|(i, _)| i),
            "mh" => {
                if self.buckets.len() != MH_SIZE {
                    self.mh_populate(dests);
                }
                let h = (hsiphash(u32::from(port).wrapping_add(addr_fold(client)), MH_K1)
                    % MH_SIZE as u32) as usize;
                let i = self.buckets.get(h).copied().flatten()?;
                dests.get(i).filter(|d| d.available()).map(|_| i)
            }
            "sh" | "dh" => {
                if self.buckets.len() != TAB_SIZE {
                    self.dests_changed(sched, dests);
                }
                let b = if sched == "sh" {
                    hash_32(u32::from(port).wrapping_add(addr_fold(client)), TAB_BITS) as usize
                        & (TAB_SIZE - 1)
                } else {
                    hash_32(addr_fold(dst), TAB_BITS) as usize & (TAB_SIZE - 1)
                };
                let i = self.buckets.get(b).copied().flatten()?;
                dests.get(i).filter(|d| d.available()).map(|_| i)
            }
            _ => None,
        }
    }

    /// `ip_vs_rr_schedule()`: continue after the last pick, one full circle.
    fn rr(&mut self, dests: &[DestView]) -> Option<usize> {
        let n = dests.len();
        if n == 0 {
            return None;
        }
        let start = self.last.map_or(0, |l| (l + 1) % n);
        for k in 0..n {
            let i = (start + k) % n;
            if dests[i].available() {
                self.last = Some(i);
                return Some(i);
            }
        }
        None
    }

    /// `ip_vs_wrr_schedule()`: interleaved weighted round robin. `last`
    /// None is the list head (`mark->cl == &svc->destinations`).
    fn wrr(&mut self, dests: &[DestView]) -> Option<usize> {
        let n = dests.len();
        if self.mw == 0 || n == 0 {
            return None;
        }
        let last = self.last;
        let mut pos = self.last;
        let mut stop: Option<Option<usize>> = None;
        let mut last_pass = false;
        let mut restarted = false;
        loop {
            // list_for_each_entry_continue: from after `pos` to the end.
            let start = pos.map_or(0, |p| p + 1);
            for (i, d) in dests.iter().enumerate().skip(start) {
                if !d.overloaded && d.weight >= self.cw {
                    self.last = Some(i);
                    return Some(i);
                }
                if stop == Some(Some(i)) {
                    return None;
                }
            }
            self.cw -= self.di;
            if self.cw <= 0 {
                self.cw = self.mw;
                if last_pass || last.is_none() {
                    return None;
                }
                restarted = true;
            }
            last_pass = self.cw <= self.di;
            if last_pass && restarted && last.is_some() {
                stop = Some(last);
            }
            pos = None;
        }
    }
}

/// Maglev lookup table size (`IP_VS_MH_TAB_INDEX` 12 → primes[4]).
const MH_SIZE: usize = 4093;
const MH_K1: u64 = 2_654_435_761;
const MH_K2: u64 = 2_654_446_892;

/// `hsiphash()` of one u32 on 64-bit kernels: SipHash-1-3 with `k0 = k1 = key`.
fn hsiphash(v: u32, key: u64) -> u32 {
    let (mut v0, mut v1, mut v2, mut v3) = (
        0x736f_6d65_7073_6575 ^ key,
        0x646f_7261_6e64_6f6d ^ key,
        0x6c79_6765_6e65_7261 ^ key,
        0x7465_6462_7974_6573 ^ key,
    );
    let round = |v0: &mut u64, v1: &mut u64, v2: &mut u64, v3: &mut u64| {
        *v0 = v0.wrapping_add(*v1);
        *v1 = v1.rotate_left(13);
        *v1 ^= *v0;
        *v0 = v0.rotate_left(32);
        *v2 = v2.wrapping_add(*v3);
        *v3 = v3.rotate_left(16);
        *v3 ^= *v2;
        *v0 = v0.wrapping_add(*v3);
        *v3 = v3.rotate_left(21);
        *v3 ^= *v0;
        *v2 = v2.wrapping_add(*v1);
        *v1 = v1.rotate_left(17);
        *v1 ^= *v2;
        *v2 = v2.rotate_left(32);
    };
    let b = (4u64 << 56) | u64::from(v);
    v3 ^= b;
    round(&mut v0, &mut v1, &mut v2, &mut v3);
    v0 ^= b;
    v2 ^= 0xff;
    for _ in 0..3 {
        round(&mut v0, &mut v1, &mut v2, &mut v3);
    }
    ((v0 ^ v1) ^ (v2 ^ v3)) as u32
}

impl SchedState {
    /// `ip_vs_mh_populate()`: each destination walks its permutation
    /// (offset, skip from two hashes of its address and port) and claims
    /// `turns` free slots per round, in list order, until the table is full.
    fn mh_populate(&mut self, dests: &[DestView]) {
        self.buckets = vec![None; MH_SIZE];
        let g = dests
            .iter()
            .map(|d| d.weight)
            .filter(|w| *w > 0)
            .fold(0, gcd);
        if g == 0 {
            return;
        }
        let mw = dests.iter().map(|d| d.weight).max().unwrap_or(0);
        let shift = (32 - ((mw / g) as u32).leading_zeros()).saturating_sub(6);
        struct Perm {
            skip: usize,
            perm: usize,
            turns: i32,
        }
        let mut ps: Vec<Perm> = dests
            .iter()
            .map(|d| {
                let key = d.port_fold.wrapping_add(addr_fold(d.addr));
                let off = (hsiphash(key, MH_K1) % MH_SIZE as u32) as usize;
                let skip = (hsiphash(key, MH_K2) % (MH_SIZE as u32 - 1)) as usize + 1;
                let t = (d.weight / g) >> shift;
                Perm {
                    skip,
                    perm: off,
                    turns: if t > 0 { t } else { i32::from(d.weight != 0) },
                }
            })
            .collect();
        let mut n = 0;
        let mut dt = 0;
        while n < MH_SIZE {
            let mut i = 0;
            while i < ps.len() {
                if ps[i].turns < 1 {
                    i += 1;
                    continue;
                }
                let mut c = ps[i].perm;
                while self.buckets[c].is_some() {
                    ps[i].perm += ps[i].skip;
                    if ps[i].perm >= MH_SIZE {
                        ps[i].perm -= MH_SIZE;
                    }
                    c = ps[i].perm;
                }
                self.buckets[c] = Some(i);
                n += 1;
                if n == MH_SIZE {
                    return;
                }
                dt += 1;
                if dt >= ps[i].turns {
                    dt = 0;
                    i += 1;
                }
            }
        }
    }
}

/// wlc/sed/nq: the first available destination, then any with a lower
/// overhead/weight ratio (`loh * w(d) > doh * w(least)`); nq returns the
/// first idle one at once.
fn weighted_least(
    dests: &[DestView],
    overhead: impl Fn(&DestView) -> i64,
    nq: bool,
) -> Option<usize> {
    let mut least: Option<(usize, i64)> = None;
    for (i, d) in dests.iter().enumerate() {
        if !d.available() {
            continue;
        }
        let doh = overhead(d);
        if nq && d.active == 0 {
            return Some(i);
        }
        match least {
            None => least = Some((i, doh)),
            Some((li, loh)) => {
                if loh * i64::from(d.weight) > doh * i64::from(dests[li].weight) {
                    least = Some((i, doh));
                }
            }
        }
    }
    least.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(weight: i32, active: u32) -> DestView {
        DestView {
            weight,
            active,
            inactive: 0,
            overloaded: false,
            addr: "10.0.0.1".parse().unwrap(),
            port_fold: 80,
        }
    }

    #[test]
    fn rr_cycles_and_skips_weight_zero() {
        let mut s = SchedState::default();
        let ds = [d(1, 0), d(0, 0), d(1, 0)];
        let picks: Vec<_> = (0..4)
            .map(|_| {
                s.schedule(
                    "rr",
                    &ds,
                    "1.1.1.1".parse().unwrap(),
                    "2.2.2.2".parse().unwrap(),
                )
                .unwrap()
            })
            .collect();
        assert_eq!(picks, [0, 2, 0, 2]);
    }

    #[test]
    fn wrr_interleaves_by_weight() {
        let mut s = SchedState::default();
        let ds = [d(3, 0), d(1, 0)];
        s.dests_changed("wrr", &ds);
        let picks: Vec<_> = (0..8)
            .map(|_| {
                s.schedule(
                    "wrr",
                    &ds,
                    "1.1.1.1".parse().unwrap(),
                    "2.2.2.2".parse().unwrap(),
                )
                .unwrap()
            })
            .collect();
        assert_eq!(picks.iter().filter(|p| **p == 0).count(), 6);
        assert_eq!(picks.iter().filter(|p| **p == 1).count(), 2);
    }

    #[test]
    fn wlc_prefers_less_loaded_per_weight() {
        let mut s = SchedState::default();
        let ds = [d(1, 2), d(2, 2)];
        assert_eq!(
            s.schedule(
                "wlc",
                &ds,
                "1.1.1.1".parse().unwrap(),
                "2.2.2.2".parse().unwrap()
            ),
            Some(1)
        );
        let ds = [d(1, 0), d(1, 1)];
        assert_eq!(
            s.schedule(
                "nq",
                &ds,
                "1.1.1.1".parse().unwrap(),
                "2.2.2.2".parse().unwrap()
            ),
            Some(0)
        );
    }
}
