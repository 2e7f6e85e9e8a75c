//! ARP (net/ipv4/arp.c) on top of the neighbour table (net/core/neighbour.c).
//!
//! Linux does, and we model:
//! - `arp_process()`: requests are answered when the target is a local
//!   address (`ip_route_input` gives RTN_LOCAL — any address of the host, the
//!   "weak host" model) unless `arp_ignore` (max of all/dev) says otherwise
//!   (`inet_confirm_addr()` per level 1/2/3, 8 = never) or `arp_filter`
//!   objects; the requester is learned (`neigh_event_ns`, STALE). Other ARP
//!   only updates an existing entry (REACHABLE for a unicast reply, STALE
//!   otherwise; within `locktime` a different address is ignored), or
//!   creates one with `arp_accept`.
//! - `arp_solicit()`: the sender IP of our own requests per `arp_announce`:
//!   0 the packet's source if local, 1 only if it is in the target's subnet
//!   on this device, 2 always `inet_select_addr(dev, target, link)`.
//! - The neighbour timers and the actions they ask for (solicit, flush the
//!   queue, fail), traced when an entry changes state.
//!
//! Left out: proxy ARP, `arp_notify`, ARP on non-Ethernet devices.

use crate::net::core::neighbour::{NeighAction, Nud, Update};
use crate::net::host::Host;
use crate::net::ipv4::devinet::Scope;
use crate::net::ipv4::fib::RouteType;
use crate::net::ipv4::icmp::{IcmpError, Unreach};
use crate::net::ipv4::route::{confirm_addr_indev, is_martian_source};
use crate::sim::trace::{DropReason, EventKind};
use crate::sim::world::{Pending, World};
use crate::time::SimTime;
use crate::wire::mac::Mac;
use crate::wire::{ArpOp, ArpRepr, FrameRepr, Ipv4Repr, Payload};
use std::net::Ipv4Addr;

impl Host {
    /// `arp_ignore()`: true when the request must not be answered.
    pub fn arp_ignore(&self, ifindex: u32, sip: Ipv4Addr, tip: Ipv4Addr) -> (bool, i64) {
        let level = self.sysctl.effective(
            self.dev_name(ifindex),
            crate::net::ipv4::devconf::Knob::ArpIgnore,
        );
        let empty = Vec::new();
        let list = self.addrs.get(&ifindex).unwrap_or(&empty);
        let ignore = match level {
            0 | 4..=7 => false,
            1 => confirm_addr_indev(list, None, Some(tip), Scope::Host).is_none(),
            // inet_confirm_addr() takes 0.0.0.0 for "any": a DAD probe's
            // sender is in every subnet.
            2 => confirm_addr_indev(
                list,
                Some(sip).filter(|s| !s.is_unspecified()),
                Some(tip),
                Scope::Host,
            )
            .is_none(),
            3 => !self
                .addrs
                .values()
                .any(|l| confirm_addr_indev(l, None, Some(tip), Scope::Link).is_some()),
            8 => true,
            _ => false,
        };
        (ignore, level)
    }

    /// `arp_accept` for a sender (`arp_accept()` in arp.c).
    pub(crate) fn arp_accept(&self, ifindex: u32, sip: Ipv4Addr) -> bool {
        match self.sysctl.effective(
            self.dev_name(ifindex),
            crate::net::ipv4::devconf::Knob::ArpAccept,
        ) {
            0 => false,
            1 => true,
            _ => self
                .addrs
                .get(&ifindex)
                .is_some_and(|l| confirm_addr_indev(l, Some(sip), None, Scope::Link).is_some()),
        }
    }
}

impl World {
    /// `arp_process()`.
    pub(crate) fn arp_rcv(&mut self, host: &str, ifindex: u32, a: ArpRepr, pkt_host: bool) {
        let now = self.now;
        let Some(h) = self.hosts.get(host) else {
            return;
        };
        let Some(d) = h.device(ifindex) else { return };
        if d.noarp() {
            return;
        }
        let dev_name = d.name.clone();
        let dev_mac = d.mac;
        let (sip, tip) = (a.sender_ip, a.target_ip);
        if tip.is_multicast() || tip.is_loopback() {
            return;
        }
        // DAD probe (sender 0.0.0.0).
        if sip.is_unspecified() {
            if a.op == ArpOp::Request
                && h.addr_type(tip) == RouteType::Local
                && !h.arp_ignore(ifindex, sip, tip).0
            {
                let reply = ArpRepr {
                    op: ArpOp::Reply,
                    sender_mac: dev_mac,
                    sender_ip: tip,
                    target_mac: a.sender_mac,
                    target_ip: sip,
                };
                self.send_arp(host, ifindex, a.sender_mac, reply);
            }
            return;
        }
        if a.op == ArpOp::Request {
            // ip_route_input_noref(skb, tip, sip, 0, dev)
            let input_ok = !is_martian_source(sip) && h.validate_source(sip, ifindex).is_ok();
            if input_ok && h.addr_type(tip) == RouteType::Local {
                let (ignore, level) = h.arp_ignore(ifindex, sip, tip);
                let filtered = !ignore
                    && h.sysctl
                        .effective(&dev_name, crate::net::ipv4::devconf::Knob::ArpFilter)
                        != 0
                    && h.route_output(sip, None, Some(tip))
                        .map(|r| r.ifindex != ifindex)
                        .unwrap_or(true);
                if ignore {
                    self.record(
                        host,
                        EventKind::ArpIgnored {
                            dev: dev_name,
                            target: tip,
                            level,
                        },
                    );
                } else if filtered {
                    self.record(
                        host,
                        EventKind::Drop {
                            reason: DropReason::ArpFilter,
                            what: crate::sim::trace::Dropped::ArpRequestFor { tip },
                        },
                    );
                } else {
                    let mut acts = vec![];
                    let h = self.hosts.get_mut(host).expect("host exists");
                    let u = Update {
                        mac: a.sender_mac,
                        state: Nud::Stale,
                        override_: true,
                        create: true,
                    };
                    h.neigh.update(now, ifindex, sip, u, &mut acts);
                    self.trace_neigh(host, ifindex, sip);
                    self.record(
                        host,
                        EventKind::ArpReply {
                            dev: dev_name,
                            target: tip,
                            arp_ignore: level,
                        },
                    );
                    let reply = ArpRepr {
                        op: ArpOp::Reply,
                        sender_mac: dev_mac,
                        sender_ip: tip,
                        target_mac: a.sender_mac,
                        target_ip: sip,
                    };
                    self.send_arp(host, ifindex, a.sender_mac, reply);
                    self.neigh_actions(host, acts);
                }
                return;
            }
        }
        // Update our ARP tables.
        let h = self.hosts.get(host).expect("host exists");
        let exists = h
            .neigh
            .get(ifindex, sip)
            .is_some_and(|n| n.state != Nud::None);
        let accept = h.arp_accept(ifindex, sip);
        let mut is_garp = false;
        if exists || accept {
            is_garp = sip == tip && (a.op != ArpOp::Reply || a.target_mac == a.sender_mac);
            if is_garp && h.addr_type(sip) != RouteType::Unicast {
                is_garp = false;
            }
        }
        let create = accept
            && !exists
            && (is_garp || (a.op == ArpOp::Reply && h.addr_type(sip) == RouteType::Unicast));
        if !(exists || create) {
            return;
        }
        let locktime = h.neigh.params.locktime;
        let updated = h
            .neigh
            .get(ifindex, sip)
            .map(|n| n.updated)
            .unwrap_or(SimTime(0));
        let override_ = now.0 > updated.0 + locktime || is_garp;
        let state = if a.op != ArpOp::Reply || !pkt_host {
            Nud::Stale
        } else {
            Nud::Reachable
        };
        let mut acts = vec![];
        let h = self.hosts.get_mut(host).expect("host exists");
        let u = Update {
            mac: a.sender_mac,
            state,
            override_,
            create,
        };
        h.neigh.update(now, ifindex, sip, u, &mut acts);
        self.trace_neigh(host, ifindex, sip);
        self.neigh_actions(host, acts);
    }

    pub(crate) fn trace_neigh(&mut self, host: &str, ifindex: u32, ip: Ipv4Addr) {
        let Some(h) = self.hosts.get(host) else {
            return;
        };
        let Some(n) = h.neigh.get(ifindex, ip) else {
            return;
        };
        let kind = EventKind::NeighUpdate {
            dev: h.dev_name(ifindex).to_string(),
            ip,
            mac: n.mac,
            state: n.state.name().to_string(),
        };
        self.record(host, kind);
        self.schedule_neigh_timer(host);
    }

    fn schedule_neigh_timer(&mut self, host: &str) {
        if let Some(t) = self.hosts.get(host).and_then(|h| h.neigh.next_timer()) {
            // Only the events at that very time can be a duplicate.
            let at = t.max(self.now);
            let already = self.scheduled_at(
                at,
                |p| matches!(p, Pending::NeighTimer { host: h } if h == host),
            );
            if !already {
                self.schedule(
                    t,
                    Pending::NeighTimer {
                        host: host.to_string(),
                    },
                );
            }
        }
    }

    pub(crate) fn neigh_timers(&mut self, host: &str) {
        let now = self.now;
        let mut acts = vec![];
        if let Some(h) = self.hosts.get_mut(host) {
            h.neigh.run_timers(now, &mut acts);
        }
        self.neigh_actions(host, acts);
        self.schedule_neigh_timer(host);
    }

    /// Carry out what the neighbour table asked for.
    pub(crate) fn neigh_actions(&mut self, host: &str, acts: Vec<NeighAction>) {
        for a in acts {
            match a {
                NeighAction::Solicit {
                    ifindex,
                    ip,
                    unicast_to,
                    trigger_src,
                } => self.arp_solicit(host, ifindex, ip, unicast_to, trigger_src),
                NeighAction::Flush {
                    ifindex,
                    mac,
                    packets,
                } => {
                    for p in packets {
                        self.send_ip_frame(host, ifindex, mac, p);
                    }
                }
                NeighAction::Failed {
                    ifindex,
                    ip,
                    packets,
                } => {
                    let dev = self
                        .hosts
                        .get(host)
                        .map(|h| h.dev_name(ifindex).to_string())
                        .unwrap_or_default();
                    self.record(
                        host,
                        EventKind::NeighUpdate {
                            dev,
                            ip,
                            mac: None,
                            state: "FAILED".into(),
                        },
                    );
                    for p in packets {
                        self.record(
                            host,
                            EventKind::Drop {
                                reason: DropReason::NeighFailed,
                                what: crate::sim::trace::Dropped::PacketFor { dst: ip },
                            },
                        );
                        // ipv4_link_failure(): ICMP host unreachable to the sender.
                        if let Ok(orig) = Ipv4Repr::parse(&p) {
                            self.icmp_error(host, &orig, &p, IcmpError::Unreachable(Unreach::Host));
                        }
                    }
                }
            }
        }
        self.schedule_neigh_timer(host);
    }

    /// `arp_solicit()`: choose the sender IP per arp_announce and send.
    pub(crate) fn arp_solicit(
        &mut self,
        host: &str,
        ifindex: u32,
        target: Ipv4Addr,
        unicast_to: Option<Mac>,
        trigger_src: Option<Ipv4Addr>,
    ) {
        let Some(h) = self.hosts.get(host) else {
            return;
        };
        let Some(d) = h.device(ifindex) else { return };
        let dev_name = d.name.clone();
        let announce = h
            .sysctl
            .effective(&dev_name, crate::net::ipv4::devconf::Knob::ArpAnnounce);
        let mut saddr = None;
        match announce {
            0 => {
                if let Some(s) = trigger_src {
                    if h.addr_type(s) == RouteType::Local {
                        saddr = Some(s);
                    }
                }
            }
            1 => {
                if let Some(s) = trigger_src {
                    if h.addr_type(s) == RouteType::Local {
                        // inet_addr_onlink(in_dev, target, saddr)
                        let onlink = h
                            .addrs
                            .get(&ifindex)
                            .is_some_and(|l| l.iter().any(|a| a.matches(target) && a.matches(s)));
                        if onlink {
                            saddr = Some(s);
                        }
                    }
                }
            }
            _ => {}
        }
        let from_packet = saddr.is_some();
        let sender = saddr
            .or_else(|| h.select_addr(ifindex, Some(target), Scope::Link))
            .unwrap_or(Ipv4Addr::UNSPECIFIED);
        let mac = d.mac;
        self.record(
            host,
            EventKind::ArpSolicit {
                dev: dev_name,
                target,
                sender,
                announce,
                from_packet,
            },
        );
        let req = ArpRepr {
            op: ArpOp::Request,
            sender_mac: mac,
            sender_ip: sender,
            target_mac: Mac::ZERO,
            target_ip: target,
        };
        self.send_arp(host, ifindex, unicast_to.unwrap_or(Mac::BROADCAST), req);
    }

    pub(crate) fn send_arp(&mut self, host: &str, ifindex: u32, dst: Mac, a: ArpRepr) {
        let frame = FrameRepr {
            dst,
            src: a.sender_mac,
            payload: Payload::Arp(a),
        }
        .emit();
        self.transmit(host, ifindex, frame);
    }
}
