//! The ARP neighbour table (net/core/neighbour.c, net/ipv4/arp.c).
//!
//! Linux keeps one entry per (device, IPv4 address) with a NUD state:
//! INCOMPLETE while resolving (broadcast solicitations every `retrans_time`,
//! `mcast_solicit` of them, then FAILED), REACHABLE after a confirmed unicast
//! reply (for `reachable_time`, a random value in [base/2, 3·base/2]), then
//! STALE; a STALE entry that is used goes to DELAY, and after
//! `delay_first_probe_time` without confirmation to PROBE (unicast
//! solicitations, `ucast_solicit` of them) and finally FAILED. An update that
//! would change a known address within `locktime` of the last update is
//! ignored unless it is an override (the "first reply wins" rule).
//! We model those states, timers and parameters at their defaults
//! (`/proc/sys/net/ipv4/neigh/default`). Left out: garbage collection
//! thresholds, proxy entries, NOARP/PERMANENT entries added by hand.

use crate::time::SimTime;
use crate::util::vecmap::VecMap;
use crate::wire::mac::Mac;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// Neighbour parameters, in microseconds where they are times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeighParams {
    pub base_reachable_time: u64,
    pub retrans_time: u64,
    pub delay_first_probe_time: u64,
    pub locktime: u64,
    pub ucast_solicit: u32,
    pub mcast_solicit: u32,
    pub app_solicit: u32,
    pub mcast_resolicit: u32,
    /// Packets queued while INCOMPLETE (`unres_qlen`, in packets: 101 for
    /// 212992 bytes of truesize on a default kernel; we count packets).
    pub unres_qlen: usize,
}

impl Default for NeighParams {
    fn default() -> Self {
        NeighParams {
            base_reachable_time: 30_000_000,
            retrans_time: 1_000_000,
            delay_first_probe_time: 5_000_000,
            locktime: 1_000_000,
            ucast_solicit: 3,
            mcast_solicit: 3,
            app_solicit: 0,
            mcast_resolicit: 0,
            unres_qlen: 101,
        }
    }
}

/// `NUD_*` states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Nud {
    /// `NUD_NONE`: just created, nothing known (hidden by `ip neigh show`).
    None,
    Incomplete,
    Reachable,
    Stale,
    Delay,
    Probe,
    Failed,
    Noarp,
    Permanent,
}

impl Nud {
    pub fn name(self) -> &'static str {
        match self {
            Nud::None => "NONE",
            Nud::Incomplete => "INCOMPLETE",
            Nud::Reachable => "REACHABLE",
            Nud::Stale => "STALE",
            Nud::Delay => "DELAY",
            Nud::Probe => "PROBE",
            Nud::Failed => "FAILED",
            Nud::Noarp => "NOARP",
            Nud::Permanent => "PERMANENT",
        }
    }
    /// `NUD_VALID`: the entry has a usable link-layer address.
    pub fn valid(self) -> bool {
        matches!(
            self,
            Nud::Reachable | Nud::Stale | Nud::Delay | Nud::Probe | Nud::Noarp | Nud::Permanent
        )
    }
    /// `NUD_CONNECTED`: usable without probing.
    pub fn connected(self) -> bool {
        matches!(self, Nud::Reachable | Nud::Noarp | Nud::Permanent)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Neighbour {
    pub ip: Ipv4Addr,
    pub ifindex: u32,
    pub mac: Option<Mac>,
    pub state: Nud,
    /// Last time the link-layer address or state was updated (`n->updated`).
    pub updated: SimTime,
    /// Last reachability confirmation (`n->confirmed`).
    pub confirmed: SimTime,
    /// Last use by an outgoing packet (`n->used`).
    pub used: SimTime,
    /// Solicitations sent in the current INCOMPLETE/PROBE round.
    pub probes: u32,
    /// When the state timer fires next.
    pub timer: Option<SimTime>,
    /// This entry's `reachable_time` (drawn when it became REACHABLE).
    pub reachable_time: u64,
    /// IPv4 packets waiting for resolution (serialised IP packets).
    #[serde(skip)]
    pub queue: Vec<Vec<u8>>,
    /// The source address of the first queued packet (for arp_announce).
    pub queued_src: Option<Ipv4Addr>,
}

impl Neighbour {
    fn fresh(ifindex: u32, ip: Ipv4Addr, now: SimTime) -> Neighbour {
        Neighbour {
            ip,
            ifindex,
            mac: None,
            state: Nud::None,
            updated: now,
            confirmed: SimTime(0),
            used: now,
            probes: 0,
            timer: None,
            reachable_time: 0,
            queue: Vec::new(),
            queued_src: None,
        }
    }
}

/// A host's neighbour table, ordered by (ifindex, address).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeighTable {
    pub params: NeighParams,
    #[serde(with = "crate::util::serde_util::seq_map")]
    pub entries: VecMap<(u32, Ipv4Addr), Neighbour>,
    /// A small deterministic generator for `reachable_time` (seeded per host).
    pub rng: u64,
}

/// What the caller must do after a table operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NeighAction {
    /// Send an ARP request for `ip` on `ifindex`: broadcast, or unicast to `unicast_to`.
    Solicit {
        ifindex: u32,
        ip: Ipv4Addr,
        unicast_to: Option<Mac>,
        /// The source address of the packet that triggered it, if any.
        trigger_src: Option<Ipv4Addr>,
    },
    /// Resolution succeeded: transmit these queued packets to `mac`.
    Flush {
        ifindex: u32,
        mac: Mac,
        packets: Vec<Vec<u8>>,
    },
    /// Resolution failed: these packets are dropped (ICMP host unreachable to their senders).
    Failed {
        ifindex: u32,
        ip: Ipv4Addr,
        packets: Vec<Vec<u8>>,
    },
}

/// What `neigh_update()` is told about one neighbour: the sender's
/// link-layer address, the state to enter, whether it may replace a valid
/// address (`NEIGH_UPDATE_F_OVERRIDE`), and whether a missing entry is
/// created (`__neigh_lookup()`'s `creat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Update {
    pub mac: Mac,
    pub state: Nud,
    pub override_: bool,
    pub create: bool,
}

impl NeighTable {
    pub fn with_seed(seed: u64) -> NeighTable {
        NeighTable {
            rng: seed | 1,
            ..Default::default()
        }
    }

    fn random_reachable(&mut self) -> u64 {
        // xorshift64*
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        let r = x.wrapping_mul(0x2545_f491_4f6c_dd1d);
        let base = self.params.base_reachable_time;
        base / 2 + r % base.max(1)
    }

    pub fn get(&self, ifindex: u32, ip: Ipv4Addr) -> Option<&Neighbour> {
        self.entries.get(&(ifindex, ip))
    }

    /// Resolve `ip` for an outgoing packet (`neigh_resolve_output()` /
    /// `__neigh_event_send()`). Returns the MAC to use now, or `None` with the
    /// packet queued and possibly a solicitation to send.
    pub fn output(
        &mut self,
        now: SimTime,
        ifindex: u32,
        ip: Ipv4Addr,
        packet: Vec<u8>,
        src: Ipv4Addr,
        actions: &mut Vec<NeighAction>,
    ) -> Option<Mac> {
        let params = self.params;
        let e = self
            .entries
            .entry((ifindex, ip))
            .or_insert_with(|| Neighbour::fresh(ifindex, ip, now));
        e.used = now;
        match e.state {
            Nud::Reachable | Nud::Delay | Nud::Probe | Nud::Noarp | Nud::Permanent => e.mac,
            Nud::Stale => {
                e.state = Nud::Delay;
                e.updated = now;
                e.timer = Some(SimTime(now.0 + params.delay_first_probe_time));
                e.mac
            }
            Nud::Incomplete => {
                if e.queue.len() >= params.unres_qlen {
                    e.queue.remove(0);
                }
                e.queue.push(packet);
                None
            }
            Nud::None | Nud::Failed => {
                // Start resolving: INCOMPLETE, first solicitation now.
                e.state = Nud::Incomplete;
                e.updated = now;
                e.probes = 1;
                e.queue = vec![packet];
                e.queued_src = Some(src);
                e.timer = Some(SimTime(now.0 + params.retrans_time));
                actions.push(NeighAction::Solicit {
                    ifindex,
                    ip,
                    unicast_to: None,
                    trigger_src: Some(src),
                });
                None
            }
        }
    }

    /// `neigh_update()`: new information from an ARP packet. `state` is
    /// REACHABLE for a unicast reply to us, STALE otherwise; `override_` is
    /// NEIGH_UPDATE_F_OVERRIDE (arp_process sets it when locktime has passed
    /// since the last update, or for gratuitous ARP). Creates the entry when
    /// `create` (the caller applies arp_process()'s rules for that).
    pub fn update(
        &mut self,
        now: SimTime,
        ifindex: u32,
        ip: Ipv4Addr,
        u: Update,
        actions: &mut Vec<NeighAction>,
    ) {
        let Update {
            mac,
            state,
            override_,
            create,
        } = u;
        if let crate::util::vecmap::Entry::Vacant(v) = self.entries.entry((ifindex, ip)) {
            if !create {
                return;
            }
            v.insert(Neighbour::fresh(ifindex, ip, now));
        }
        let rt = self.random_reachable();
        let p = self.params;
        let e = self
            .entries
            .get_mut(&(ifindex, ip))
            .expect("inserted above");
        let old = e.state;
        // An administrative entry is never changed by what the wire says
        // (`__neigh_update()` without NEIGH_UPDATE_F_ADMIN).
        if matches!(old, Nud::Permanent | Nud::Noarp) {
            return;
        }
        let mut new = state;
        if new.connected() {
            e.confirmed = now;
        }
        if old.valid() {
            if e.mac != Some(mac) && !override_ {
                return;
            }
            if e.mac == Some(mac) && new == Nud::Stale {
                new = old;
            }
        }
        let lladdr_changes = e.mac != Some(mac);
        if new != old || lladdr_changes {
            e.updated = now;
        }
        if new != old {
            e.timer = match new {
                Nud::Reachable => {
                    e.reachable_time = rt;
                    Some(SimTime(now.0 + rt))
                }
                Nud::Delay | Nud::Probe | Nud::Incomplete => Some(now),
                _ => None,
            };
            if new == Nud::Probe {
                e.probes = 0;
            }
            e.state = new;
        }
        if lladdr_changes {
            e.mac = Some(mac);
            if !new.connected() {
                e.confirmed = SimTime(now.0.saturating_sub(2 * p.base_reachable_time));
            }
        }
        if new == old || old.valid() {
            return;
        }
        if !e.queue.is_empty() {
            let packets = std::mem::take(&mut e.queue);
            e.used = now;
            if e.state == Nud::Stale {
                // Sending the queue uses the entry: STALE -> DELAY.
                e.state = Nud::Delay;
                e.timer = Some(SimTime(now.0 + p.delay_first_probe_time));
            }
            actions.push(NeighAction::Flush {
                ifindex,
                mac,
                packets,
            });
        }
    }

    /// `ip neigh add|replace|change`: an administrative entry.
    pub fn set_admin(
        &mut self,
        now: SimTime,
        ifindex: u32,
        ip: Ipv4Addr,
        mac: Option<Mac>,
        state: Nud,
    ) {
        let e = self
            .entries
            .entry((ifindex, ip))
            .or_insert_with(|| Neighbour::fresh(ifindex, ip, now));
        if mac.is_some() {
            e.mac = mac;
        }
        e.state = state;
        e.updated = now;
        e.confirmed = now;
        e.timer = None;
        e.probes = 0;
        e.queue.clear();
    }

    /// Upper layers confirmed reachability (TCP ACKs: `dst_confirm_neigh()`).
    pub fn confirm(&mut self, now: SimTime, ifindex: u32, ip: Ipv4Addr) {
        if let Some(e) = self.entries.get_mut(&(ifindex, ip)) {
            e.confirmed = now;
        }
    }

    /// Earliest pending timer.
    pub fn next_timer(&self) -> Option<SimTime> {
        self.entries.values().filter_map(|e| e.timer).min()
    }

    /// `neigh_timer_handler()` for every entry whose timer is due at `now`.
    pub fn run_timers(&mut self, now: SimTime, actions: &mut Vec<NeighAction>) {
        let p = self.params;
        let due: Vec<(u32, Ipv4Addr)> = self
            .entries
            .iter()
            .filter(|(_, e)| e.timer.is_some_and(|t| t <= now))
            .map(|(k, _)| *k)
            .collect();
        for key in due {
            let e = self.entries.get_mut(&key).expect("key from iteration");
            e.timer = None;
            match e.state {
                Nud::Reachable => {
                    if now.0 <= e.confirmed.0 + e.reachable_time {
                        e.timer = Some(SimTime(e.confirmed.0 + e.reachable_time));
                    } else if now.0 <= e.used.0 + p.delay_first_probe_time {
                        e.state = Nud::Delay;
                        e.updated = now;
                        e.timer = Some(SimTime(e.used.0 + p.delay_first_probe_time));
                    } else {
                        e.state = Nud::Stale;
                        e.updated = now;
                    }
                }
                Nud::Delay => {
                    if now.0 <= e.confirmed.0 + p.delay_first_probe_time {
                        e.state = Nud::Reachable;
                        e.updated = now;
                        e.timer = Some(SimTime(e.confirmed.0 + e.reachable_time.max(1)));
                    } else {
                        e.state = Nud::Probe;
                        e.updated = now;
                        e.probes = 1;
                        e.timer = Some(SimTime(now.0 + p.retrans_time));
                        actions.push(NeighAction::Solicit {
                            ifindex: e.ifindex,
                            ip: e.ip,
                            unicast_to: e.mac,
                            trigger_src: None,
                        });
                    }
                }
                Nud::Incomplete | Nud::Probe => {
                    let max = match e.state {
                        Nud::Incomplete => p.mcast_solicit + p.app_solicit,
                        _ => p.ucast_solicit + p.app_solicit + p.mcast_resolicit,
                    };
                    if e.probes >= max {
                        e.state = Nud::Failed;
                        e.updated = now;
                        let packets = std::mem::take(&mut e.queue);
                        actions.push(NeighAction::Failed {
                            ifindex: e.ifindex,
                            ip: e.ip,
                            packets,
                        });
                    } else {
                        e.probes += 1;
                        e.timer = Some(SimTime(now.0 + p.retrans_time));
                        let unicast_to = if e.state == Nud::Probe { e.mac } else { None };
                        actions.push(NeighAction::Solicit {
                            ifindex: e.ifindex,
                            ip: e.ip,
                            unicast_to,
                            trigger_src: e.queued_src,
                        });
                    }
                }
                _ => {}
            }
            // neigh_timer_handler(): "if (time_before(next, jiffies + HZ/100))
            // next = jiffies + HZ/100;" — a timer never re-fires sooner than 10 ms.
            if let Some(t) = e.timer {
                if t.0 < now.0 + 10_000 {
                    e.timer = Some(SimTime(now.0 + 10_000));
                }
            }
        }
    }

    /// `ip neigh flush dev DEV` (or all): entries that are not PERMANENT/NOARP go.
    pub fn flush(&mut self, ifindex: Option<u32>) -> usize {
        let before = self.entries.len();
        self.entries.retain(|(i, _), e| {
            ifindex.is_some_and(|d| d != *i) || matches!(e.state, Nud::Permanent | Nud::Noarp)
        });
        before - self.entries.len()
    }

    /// A device went down or lost its addresses: `neigh_ifdown()`.
    pub fn ifdown(&mut self, ifindex: u32) {
        self.entries.retain(|(i, _), _| *i != ifindex);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: Ipv4Addr = Ipv4Addr::new(192, 168, 150, 12);
    const MAC: Mac = Mac([2, 0x42, 0xc0, 0xa8, 0x96, 0x0c]);

    #[test]
    fn incomplete_then_reachable_then_stale() {
        let mut t = NeighTable::with_seed(42);
        let mut acts = vec![];
        let src = Ipv4Addr::new(192, 168, 150, 1);
        assert_eq!(t.output(SimTime(0), 2, IP, vec![1], src, &mut acts), None);
        assert!(matches!(
            acts[0],
            NeighAction::Solicit {
                unicast_to: None,
                ..
            }
        ));
        acts.clear();
        let u = Update {
            mac: MAC,
            state: Nud::Reachable,
            override_: true,
            create: false,
        };
        t.update(SimTime(100), 2, IP, u, &mut acts);
        assert!(matches!(&acts[0], NeighAction::Flush { packets, .. } if packets.len() == 1));
        assert_eq!(t.get(2, IP).unwrap().state, Nud::Reachable);
        // Long after reachable_time with no use: STALE.
        acts.clear();
        t.run_timers(SimTime(60_000_000), &mut acts);
        assert_eq!(t.get(2, IP).unwrap().state, Nud::Stale);
        // Use: DELAY, then PROBE with a unicast solicitation.
        assert_eq!(
            t.output(SimTime(61_000_000), 2, IP, vec![2], src, &mut acts),
            Some(MAC)
        );
        assert_eq!(t.get(2, IP).unwrap().state, Nud::Delay);
        t.run_timers(SimTime(66_000_001), &mut acts);
        assert_eq!(t.get(2, IP).unwrap().state, Nud::Probe);
        assert!(acts.iter().any(|a| matches!(
            a,
            NeighAction::Solicit {
                unicast_to: Some(_),
                ..
            }
        )));
    }

    #[test]
    fn unanswered_resolution_fails_after_mcast_solicit_tries() {
        let mut t = NeighTable::with_seed(1);
        let mut acts = vec![];
        let src = Ipv4Addr::new(192, 168, 150, 1);
        t.output(SimTime(0), 2, IP, vec![9], src, &mut acts);
        for s in 1..=3u64 {
            t.run_timers(SimTime(s * 1_000_000), &mut acts);
        }
        let solicits = acts
            .iter()
            .filter(|a| matches!(a, NeighAction::Solicit { .. }))
            .count();
        assert_eq!(solicits, 3);
        assert_eq!(t.get(2, IP).unwrap().state, Nud::Failed);
        assert!(
            matches!(acts.last(), Some(NeighAction::Failed { packets, .. }) if packets.len() == 1)
        );
    }
}
