//! A host's IPv4 stack: receive and transmit paths (net/ipv4/arp.c,
//! route.c, ip_input.c, ip_output.c, icmp.c, devinet.c).
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
//! - Routing of output (`ip_route_output_key`: local → loopback, source
//!   from prefsrc or `inet_select_addr`) and input (`ip_route_input_slow`:
//!   martian checks, `fib_validate_source` with rp_filter and the "source
//!   is one of my addresses" rule), local delivery, forwarding when
//!   `forwarding` is on, ICMP echo replies and host-unreachable errors.
//! - `icmp_send()`: the error quotes as much of the offending packet as fits
//!   in 576 bytes; its source is the offending packet's destination when
//!   that was one of our addresses (`RTCF_LOCAL`), else the route's choice.
//! - IPv4-in-IPv4 receive (`tunnel4_rcv()` → `ipip_rcv()` →
//!   `ip_tunnel_rcv()`): a protocol-4 packet for a local address is taken
//!   by the fallback tunnel `tunl0` when it is up (remote/local "any" match
//!   every packet); the outer header is stripped, tunl0 counts the inner
//!   packet, and the inner packet goes through `ip_rcv()` again with tunl0
//!   as its input device: input routing, `fib_validate_source()` against
//!   tunl0 (the rp_filter pitfall of IPVS tunnelling), local delivery. No
//!   tunnel (tunl0 down): ICMP port unreachable; no `ipip` module: ICMP
//!   protocol unreachable (`ip_local_deliver_finish()`).
//! - UDP: a connected socket's datagram (`udp_send`, what bash's
//!   `/dev/udp` does); nothing listens on UDP in the lab, so a unicast
//!   datagram for a local address gets ICMP port unreachable
//!   (`__udp4_lib_rcv()`).
//!
//! Left out: IP options, fragmentation, multicast, proxy ARP, redirects,
//! ECN decapsulation rules (the lab's packets are not ECN-capable), sending
//! through tunl0 (the fallback tunnel has no remote: such packets are
//! dropped here).

use crate::addr::{IfAddr, Scope};
use crate::device::DeviceKind;
use crate::fib::{FibError, RouteType, TABLE_LOCAL, TABLE_MAIN};
use crate::host::Host;
use crate::mac::Mac;
use crate::neigh::{NeighAction, Nud};
use crate::netfilter::{self, Hook};
use crate::trace::{DropReason, EventKind};
use crate::wire::{ArpOp, ArpRepr, FrameRepr, IcmpRepr, Ipv4Repr, Payload, L4};
use crate::world::{Pending, SimTime, World, HOP_DELAY, LOOPBACK_DELAY};
use std::net::Ipv4Addr;

/// The result of an output route lookup (`struct rtable` for output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutRoute {
    pub rtype: RouteType,
    /// Output device (the loopback for local destinations).
    pub ifindex: u32,
    pub gateway: Option<Ipv4Addr>,
    pub src: Ipv4Addr,
    /// Table and prefix that matched (for traces and `ip route get`).
    pub table: u32,
    pub prefix: ipnet::Ipv4Net,
}

/// Errors of the output path, with the errno userspace sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OutError {
    #[error(transparent)]
    Fib(#[from] FibError),
    /// EADDRNOTAVAIL: the requested source is not local.
    #[error("Cannot assign requested address")]
    BadSource,
}

/// `inet_confirm_addr()`/`confirm_addr_indev()` over one device's list.
fn confirm_addr_indev(
    list: &[IfAddr],
    dst: Option<Ipv4Addr>,
    local: Option<Ipv4Addr>,
    scope: Scope,
) -> Option<Ipv4Addr> {
    let mut addr: Option<Ipv4Addr> = None;
    let mut same = false;
    for ifa in list {
        let min_scope = ifa.scope.min(Scope::Host);
        if addr.is_none() && (local.is_none() || local == Some(ifa.local())) && min_scope <= scope {
            addr = Some(ifa.local());
            if same {
                break;
            }
        }
        if !same {
            same = local.is_none_or(|l| ifa.matches(l)) && dst.is_none_or(|d| ifa.matches(d));
            if same {
                if let Some(a) = addr {
                    if local.is_some() || dst.is_none() {
                        break;
                    }
                    if ifa.matches(a) {
                        break;
                    }
                    if min_scope <= scope {
                        addr = Some(ifa.local());
                        break;
                    }
                    same = false;
                }
            }
        }
    }
    if same {
        addr
    } else {
        None
    }
}

impl Host {
    /// `inet_select_addr(dev, dst, scope)`.
    pub fn select_addr(
        &self,
        ifindex: u32,
        dst: Option<Ipv4Addr>,
        scope: Scope,
    ) -> Option<Ipv4Addr> {
        let mut addr = None;
        if let Some(list) = self.addrs.get(&ifindex) {
            for ifa in list {
                if ifa.secondary || ifa.scope.min(Scope::Host) > scope {
                    continue;
                }
                if dst.is_none_or(|d| ifa.matches(d)) {
                    return Some(ifa.local());
                }
                if addr.is_none() {
                    addr = Some(ifa.local());
                }
            }
        }
        if addr.is_some() {
            return addr;
        }
        // Any device, loopback first: in_dev_select_addr().
        for list in self.addrs.values() {
            for ifa in list {
                if !ifa.secondary && ifa.scope.min(Scope::Host) <= scope && ifa.scope != Scope::Link
                {
                    return Some(ifa.local());
                }
            }
        }
        None
    }

    /// `arp_ignore()`: true when the request must not be answered.
    pub fn arp_ignore(&self, ifindex: u32, sip: Ipv4Addr, tip: Ipv4Addr) -> (bool, i64) {
        let level = self.sysctl.effective(self.dev_name(ifindex), "arp_ignore");
        let empty = Vec::new();
        let list = self.addrs.get(&ifindex).unwrap_or(&empty);
        let ignore = match level {
            0 | 4..=7 => false,
            1 => confirm_addr_indev(list, None, Some(tip), Scope::Host).is_none(),
            2 => confirm_addr_indev(list, Some(sip), Some(tip), Scope::Host).is_none(),
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
    fn arp_accept(&self, ifindex: u32, sip: Ipv4Addr) -> bool {
        match self.sysctl.effective(self.dev_name(ifindex), "arp_accept") {
            0 => false,
            1 => true,
            _ => self
                .addrs
                .get(&ifindex)
                .is_some_and(|l| confirm_addr_indev(l, Some(sip), None, Scope::Link).is_some()),
        }
    }

    /// `inet_addr_type_dev_table()`: the type of `ip` in the local table.
    pub fn addr_type(&self, ip: Ipv4Addr) -> RouteType {
        if ip == Ipv4Addr::BROADCAST {
            return RouteType::Broadcast;
        }
        match self.fib.lookup_table(TABLE_LOCAL, ip, None) {
            Some(r) => r.rtype,
            None => RouteType::Unicast,
        }
    }

    /// Output route lookup (`ip_route_output_key_hash_rcu`).
    pub fn route_output(
        &self,
        dst: Ipv4Addr,
        oif: Option<u32>,
        src: Option<Ipv4Addr>,
    ) -> Result<OutRoute, OutError> {
        if let Some(s) = src {
            if !s.is_unspecified() && self.addr_type(s) != RouteType::Local {
                return Err(OutError::BadSource);
            }
        }
        let lookup = self.fib.lookup(dst, oif);
        let r = match lookup {
            Ok(r) => r.route,
            Err(FibError::NetUnreachable) if oif.is_some() => {
                // "Apparently, routing tables are wrong. Assume, that the
                // destination is on link."
                let oif = oif.expect("checked");
                let s = src
                    .filter(|s| !s.is_unspecified())
                    .or_else(|| self.select_addr(oif, None, Scope::Link));
                return Ok(OutRoute {
                    rtype: RouteType::Unicast,
                    ifindex: oif,
                    gateway: None,
                    src: s.unwrap_or(Ipv4Addr::UNSPECIFIED),
                    table: TABLE_MAIN,
                    prefix: ipnet::Ipv4Net::default(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        let mut ifindex = r.ifindex.unwrap_or(1);
        if r.rtype == RouteType::Local {
            // Local destinations go through the loopback device; the source
            // is the route's prefsrc, else the destination itself.
            let s = src
                .filter(|s| !s.is_unspecified())
                .or(r.prefsrc)
                .unwrap_or(dst);
            ifindex = 1;
            return Ok(OutRoute {
                rtype: r.rtype,
                ifindex,
                gateway: None,
                src: s,
                table: r.table,
                prefix: r.dst,
            });
        }
        let s = match src.filter(|s| !s.is_unspecified()) {
            Some(s) => s,
            None => r
                .prefsrc
                .or_else(|| self.select_addr(ifindex, None, r.scope))
                .unwrap_or(Ipv4Addr::UNSPECIFIED),
        };
        if let Some(o) = oif {
            ifindex = o;
        }
        Ok(OutRoute {
            rtype: r.rtype,
            ifindex,
            gateway: r.gateway,
            src: s,
            table: r.table,
            prefix: r.dst,
        })
    }

    /// `fib_validate_source()`: Ok(()) when a packet from `src` arriving on
    /// `ifindex` is acceptable, Err with the reason otherwise. With
    /// rp_filter off (and no custom local routes) Linux only refuses a
    /// source that is exactly one of its own interface addresses
    /// (`inet_lookup_ifaddr_rcu`); otherwise it does the full reverse lookup
    /// (`__fib_validate_source`): the route back must be unicast (local
    /// only with accept_local) and, for rp_filter=1, leave by `ifindex`.
    pub fn validate_source(&self, src: Ipv4Addr, ifindex: u32) -> Result<(), DropReason> {
        let dev = self.dev_name(ifindex);
        let rpf = self.sysctl.effective(dev, "rp_filter");
        let accept_local = self.sysctl.effective(dev, "accept_local") != 0;
        if rpf == 0 && !self.fib.custom_local_routes {
            if accept_local || !self.all_addrs().any(|a| a.local() == src) {
                return Ok(());
            }
            return Err(DropReason::MartianSource);
        }
        match self.fib.lookup(src, None) {
            Ok(res) => {
                let r = res.route;
                if r.rtype != RouteType::Unicast && (r.rtype != RouteType::Local || !accept_local) {
                    return Err(DropReason::MartianSource);
                }
                if rpf == 1 && r.ifindex != Some(ifindex) {
                    return Err(DropReason::RpFilter);
                }
                Ok(())
            }
            Err(_) => {
                if rpf != 0 {
                    Err(DropReason::RpFilter)
                } else {
                    Ok(())
                }
            }
        }
    }

    fn next_ident(&mut self) -> u16 {
        self.ip_ident = self.ip_ident.wrapping_add(1);
        self.ip_ident
    }
}

fn is_martian_source(ip: Ipv4Addr) -> bool {
    ip.is_multicast() || ip == Ipv4Addr::BROADCAST || ip.octets()[0] == 0 || ip.is_loopback()
}

impl World {
    fn host_dev(&self, host: &str, ifindex: u32) -> Option<(bool, Mac, DeviceKind, String)> {
        let h = self.hosts.get(host)?;
        let d = h.device(ifindex)?;
        Some((d.up, d.mac, d.kind, d.name.clone()))
    }

    /// Put a frame on a device: trace, count, and send it to the switch.
    pub(crate) fn transmit(&mut self, host: &str, ifindex: u32, frame: Vec<u8>) {
        let Some((up, _, kind, dev)) = self.host_dev(host, ifindex) else {
            return;
        };
        if !up {
            return;
        }
        if let Some(h) = self.hosts.get_mut(host) {
            if let Some(d) = h.devices.get_mut(&ifindex) {
                d.stats.tx_packets += 1;
                d.stats.tx_bytes += frame.len() as u64;
            }
        }
        self.record(
            host,
            EventKind::FrameTx {
                dev,
                frame: frame.clone(),
            },
        );
        if kind != DeviceKind::Ether {
            return; // dummy: dropped after counting, like dummy_xmit()
        }
        if let Some(port) = self.port_of(host, ifindex) {
            let at = self.now.plus(HOP_DELAY);
            self.schedule(at, Pending::SwitchIn { port, frame });
        }
    }

    /// A frame arrives at a host from the switch.
    pub(crate) fn host_in(&mut self, port: usize, frame: Vec<u8>) {
        let Some(p) = self.ports.get(port).cloned() else {
            return;
        };
        let Some((up, mac, _, dev)) = self.host_dev(&p.host, p.ifindex) else {
            return;
        };
        if !up {
            return; // a down port has no carrier: the frame is lost on the wire
        }
        if let Some(h) = self.hosts.get_mut(&p.host) {
            if let Some(d) = h.devices.get_mut(&p.ifindex) {
                d.stats.rx_packets += 1;
                d.stats.rx_bytes += frame.len() as u64;
            }
        }
        self.record(
            &p.host,
            EventKind::FrameRx {
                dev: dev.clone(),
                frame: frame.clone(),
            },
        );
        let parsed = match FrameRepr::parse(&frame) {
            Ok(f) => f,
            Err(e) => {
                self.record(
                    &p.host,
                    EventKind::Drop {
                        reason: DropReason::Malformed(e.to_string()),
                        what: "a frame".into(),
                    },
                );
                return;
            }
        };
        let to_us = parsed.dst == mac;
        if !to_us && !parsed.dst.is_multicast() {
            self.record(
                &p.host,
                EventKind::Drop {
                    reason: DropReason::OtherHost,
                    what: "a frame".into(),
                },
            );
            return;
        }
        self.apps_frame_in(&p.host, p.ifindex, &parsed, to_us);
        match parsed.payload {
            Payload::Arp(a) => self.arp_rcv(&p.host, p.ifindex, a, to_us),
            Payload::Ipv4(ip) => {
                let bytes = frame[crate::wire::ETH_HLEN..].to_vec();
                self.ip_rcv(&p.host, p.ifindex, ip, bytes, !to_us)
            }
            Payload::Other { .. } => {}
        }
    }

    /// `arp_process()`.
    fn arp_rcv(&mut self, host: &str, ifindex: u32, a: ArpRepr, pkt_host: bool) {
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
                    && h.sysctl.effective(&dev_name, "arp_filter") != 0
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
                            what: format!("the ARP request for {tip}"),
                        },
                    );
                } else {
                    let mut acts = vec![];
                    let h = self.hosts.get_mut(host).expect("host exists");
                    h.neigh.update(
                        now,
                        ifindex,
                        sip,
                        a.sender_mac,
                        Nud::Stale,
                        true,
                        true,
                        &mut acts,
                    );
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
        h.neigh.update(
            now,
            ifindex,
            sip,
            a.sender_mac,
            state,
            override_,
            create,
            &mut acts,
        );
        self.trace_neigh(host, ifindex, sip);
        self.neigh_actions(host, acts);
    }

    fn trace_neigh(&mut self, host: &str, ifindex: u32, ip: Ipv4Addr) {
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
            let already = self
                .queue
                .range((at, 0)..=(at, u64::MAX))
                .any(|(_, p)| matches!(p, Pending::NeighTimer { host: h } if h == host));
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
    fn neigh_actions(&mut self, host: &str, acts: Vec<NeighAction>) {
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
                                what: format!("a packet for {ip}"),
                            },
                        );
                        // ipv4_link_failure(): ICMP host unreachable to the sender.
                        if let Ok(orig) = Ipv4Repr::parse(&p) {
                            self.icmp_error(host, &orig, &p, 1);
                        }
                    }
                }
            }
        }
        self.schedule_neigh_timer(host);
    }

    /// `arp_solicit()`: choose the sender IP per arp_announce and send.
    fn arp_solicit(
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
        let announce = h.sysctl.effective(&dev_name, "arp_announce");
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

    fn send_ip_frame(&mut self, host: &str, ifindex: u32, dst: Mac, packet: Vec<u8>) {
        let Some(src) = self
            .hosts
            .get(host)
            .and_then(|h| h.device(ifindex))
            .map(|d| d.mac)
        else {
            return;
        };
        let mut frame = Vec::with_capacity(14 + packet.len());
        frame.extend_from_slice(&dst.0);
        frame.extend_from_slice(&src.0);
        frame.extend_from_slice(&0x0800u16.to_be_bytes());
        frame.extend_from_slice(&packet);
        self.transmit(host, ifindex, frame);
    }

    /// Send an IPv4 packet from `host` (`ip_queue_xmit`/`ip_push_pending_frames`):
    /// route, pick the source, resolve the next hop. `ip.src` unspecified
    /// means "choose". Returns the route used.
    pub fn ip_send(
        &mut self,
        host: &str,
        mut ip: Ipv4Repr,
        oif: Option<u32>,
    ) -> Result<OutRoute, OutError> {
        let Some(h) = self.hosts.get_mut(host) else {
            return Err(OutError::Fib(FibError::NetUnreachable));
        };
        let src = (!ip.src.is_unspecified()).then_some(ip.src);
        let rt = h.route_output(ip.dst, oif, src)?;
        ip.src = rt.src;
        if !ip.dont_frag && ip.ident == 0 {
            ip.ident = h.next_ident();
        }
        if let L4::Tcp(t) = &ip.l4 {
            if !h.ipvs.conns.is_empty() {
                let ev = crate::ipvs::TcpEvent::of(t);
                let now = self.now;
                h.ipvs.tcp_out(
                    now,
                    std::net::IpAddr::V4(ip.src),
                    t.src_port,
                    std::net::IpAddr::V4(ip.dst),
                    t.dst_port,
                    ev,
                );
            }
        }
        let kind = EventKind::RouteLookup {
            dst: ip.dst,
            table: table_name(rt.table),
            prefix: crate::addr::prefix_text(&rt.prefix),
            rtype: rt.rtype.name().into(),
            dev: Some(h.dev_name(rt.ifindex).to_string()),
        };
        self.record(host, kind);
        let packet = ip.emit();
        let out = Some(rt.ifindex);
        if self
            .nf_hook(host, Hook::Output, &ip, packet.len(), None, out, 0)
            .is_some()
        {
            self.ip_output(host, &rt, packet);
        }
        Ok(rt)
    }

    /// A connected UDP socket writes one datagram (what bash's
    /// `> /dev/udp/HOST/PORT` does: `socket()`, `connect()`, one `write()`
    /// per write of the command). The source port is an ephemeral one
    /// (`udp_lib_get_port()`: 32768-60999, the kernel picks it at random;
    /// here a per-host sequence). Returns the source port.
    pub fn udp_send(
        &mut self,
        host: &str,
        dst: Ipv4Addr,
        dport: u16,
        payload: Vec<u8>,
    ) -> Result<u16, OutError> {
        let Some(h) = self.hosts.get_mut(host) else {
            return Err(OutError::Fib(FibError::NetUnreachable));
        };
        h.route_output(dst, None, None)?;
        h.udp_ports = h.udp_ports.wrapping_add(1);
        let seed = h
            .name
            .bytes()
            .fold(0u32, |a, b| a.wrapping_mul(31).wrapping_add(u32::from(b)));
        let sport = 32768 + ((seed.wrapping_add(u32::from(h.udp_ports) * 4099)) % 28232) as u16;
        let ip = Ipv4Repr {
            src: Ipv4Addr::UNSPECIFIED,
            dst,
            ttl: 64,
            ident: 0,
            // IP_PMTUDISC_WANT on a connected socket: DF set.
            dont_frag: true,
            tos: 0,
            l4: L4::Udp(crate::wire::UdpRepr {
                src_port: sport,
                dst_port: dport,
                payload,
            }),
        };
        self.ip_send(host, ip, None)?;
        Ok(sport)
    }

    /// Hand a routed packet to its device (`ip_finish_output2`).
    fn ip_output(&mut self, host: &str, rt: &OutRoute, packet: Vec<u8>) {
        if !self.nf_out(host, Hook::Postrouting, rt, &packet) {
            return;
        }
        let now = self.now;
        let Some((up, _, kind, _)) = self.host_dev(host, rt.ifindex) else {
            return;
        };
        if !up {
            return;
        }
        match kind {
            DeviceKind::Loopback => {
                if let Some(h) = self.hosts.get_mut(host) {
                    if let Some(d) = h.devices.get_mut(&1) {
                        // loopback_xmit() counts skb->len after the
                        // Ethernet header was pulled: the IP packet alone.
                        d.stats.tx_packets += 1;
                        d.stats.tx_bytes += packet.len() as u64;
                        d.stats.rx_packets += 1;
                        d.stats.rx_bytes += packet.len() as u64;
                    }
                }
                let at = now.plus(LOOPBACK_DELAY);
                self.schedule(
                    at,
                    Pending::LoopbackIn {
                        host: host.into(),
                        packet,
                    },
                );
            }
            DeviceKind::Dummy => {
                self.transmit(host, rt.ifindex, packet);
            }
            DeviceKind::Ipip => {
                if let Some(d) = self
                    .hosts
                    .get_mut(host)
                    .and_then(|h| h.devices.get_mut(&rt.ifindex))
                {
                    d.stats.tx_dropped += 1;
                }
                self.record(
                    host,
                    EventKind::Drop {
                        reason: DropReason::NoRoute,
                        what: "a packet routed into tunl0 (the fallback tunnel has no remote address; not modelled)".into(),
                    },
                );
            }
            DeviceKind::Ether => {
                let dst_ip = Ipv4Repr::parse(&packet)
                    .map(|p| p.dst)
                    .unwrap_or(Ipv4Addr::UNSPECIFIED);
                if rt.rtype == RouteType::Broadcast || dst_ip == Ipv4Addr::BROADCAST {
                    self.send_ip_frame(host, rt.ifindex, Mac::BROADCAST, packet);
                    return;
                }
                let nexthop = rt.gateway.unwrap_or(dst_ip);
                let src = Ipv4Repr::parse(&packet).map(|p| p.src).unwrap_or(rt.src);
                let mut acts = vec![];
                let h = self.hosts.get_mut(host).expect("host exists");
                let before = h.neigh.get(rt.ifindex, nexthop).map(|n| n.state);
                let mac = h
                    .neigh
                    .output(now, rt.ifindex, nexthop, packet.clone(), src, &mut acts);
                let after = h.neigh.get(rt.ifindex, nexthop).map(|n| n.state);
                if before != after {
                    self.trace_neigh(host, rt.ifindex, nexthop);
                }
                if let Some(mac) = mac {
                    self.send_ip_frame(host, rt.ifindex, mac, packet);
                }
                self.neigh_actions(host, acts);
            }
        }
    }

    pub(crate) fn loopback_in(&mut self, host: &str, packet: Vec<u8>) {
        let Ok(ip) = Ipv4Repr::parse(&packet) else {
            return;
        };
        if self
            .nf_hook(host, Hook::Prerouting, &ip, packet.len(), Some(1), None, 0)
            .is_none()
            || self
                .nf_hook(host, Hook::Input, &ip, packet.len(), Some(1), None, 0)
                .is_none()
        {
            return;
        }
        self.local_deliver(host, 1, ip, packet);
    }

    /// A netfilter hook's pass through the mangle table (`nf_hook()` →
    /// `ipt_do_table()`): counts the packet, applies MARK rules (traced
    /// when the mark changes) and returns the mark, or None when a DROP
    /// took the packet (traced).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn nf_hook(
        &mut self,
        host: &str,
        hook: Hook,
        ip: &Ipv4Repr,
        len: usize,
        in_if: Option<u32>,
        out_if: Option<u32>,
        mark: u32,
    ) -> Option<u32> {
        let h = self.hosts.get_mut(host)?;
        let name = |i: Option<u32>| i.map(|i| h.dev_name(i).to_string());
        let (in_name, out_name) = (name(in_if), name(out_if));
        let ports = match &ip.l4 {
            L4::Tcp(t) => Some((t.src_port, t.dst_port)),
            L4::Udp(u) => Some((u.src_port, u.dst_port)),
            _ => None,
        };
        let pkt = netfilter::Pkt {
            src: ip.src,
            dst: ip.dst,
            proto: ip.protocol(),
            ports,
            len: len as u64,
            in_if: in_name.as_deref(),
            out_if: out_name.as_deref(),
        };
        let v = h.mangle.run(hook, &pkt, mark);
        if let Some(rule) = v.marked_by {
            self.record(
                host,
                EventKind::NfMark {
                    chain: hook.name().into(),
                    rule,
                    mark: v.mark,
                },
            );
        }
        if !v.accept {
            self.record(
                host,
                EventKind::Drop {
                    reason: DropReason::Iptables,
                    what: format!(
                        "a packet for {} in the mangle table's {} chain",
                        ip.dst,
                        hook.name()
                    ),
                },
            );
            return None;
        }
        Some(v.mark)
    }

    /// `ip_rcv()` + `ip_route_input_slow()`.
    fn ip_rcv(&mut self, host: &str, ifindex: u32, ip: Ipv4Repr, bytes: Vec<u8>, link_bcast: bool) {
        let Some(mark) = self.nf_hook(
            host,
            Hook::Prerouting,
            &ip,
            bytes.len(),
            Some(ifindex),
            None,
            0,
        ) else {
            return;
        };
        let Some(h) = self.hosts.get(host) else {
            return;
        };
        if is_martian_source(ip.src) && !ip.src.is_unspecified() || ip.dst.is_loopback() {
            self.record(
                host,
                EventKind::Drop {
                    reason: DropReason::MartianSource,
                    what: format!("a packet from {}", ip.src),
                },
            );
            return;
        }
        if ip.dst == Ipv4Addr::BROADCAST {
            if self
                .nf_hook(
                    host,
                    Hook::Input,
                    &ip,
                    bytes.len(),
                    Some(ifindex),
                    None,
                    mark,
                )
                .is_some()
            {
                self.local_deliver(host, ifindex, ip, bytes);
            }
            return;
        }
        let res = h.fib.lookup(ip.dst, None);
        let route = match res {
            Ok(r) => r.route,
            Err(_) => {
                self.record(
                    host,
                    EventKind::Drop {
                        reason: DropReason::NoRoute,
                        what: format!("a packet for {}", ip.dst),
                    },
                );
                return;
            }
        };
        let kind = EventKind::RouteLookup {
            dst: ip.dst,
            table: table_name(route.table),
            prefix: crate::addr::prefix_text(&route.dst),
            rtype: route.rtype.name().into(),
            dev: route.ifindex.map(|i| h.dev_name(i).to_string()),
        };
        self.record(host, kind);
        let h = self.hosts.get(host).expect("host exists");
        match route.rtype {
            RouteType::Local | RouteType::Broadcast => {
                if let Err(reason) = h.validate_source(ip.src, ifindex) {
                    self.record(
                        host,
                        EventKind::Drop {
                            reason,
                            what: format!("a packet from {}", ip.src),
                        },
                    );
                    return;
                }
                let Some(mark) = self.nf_hook(
                    host,
                    Hook::Input,
                    &ip,
                    bytes.len(),
                    Some(ifindex),
                    None,
                    mark,
                ) else {
                    return;
                };
                let h = self.hosts.get(host).expect("host exists");
                if route.rtype == RouteType::Local
                    && !h.ipvs.services.is_empty()
                    && self.ipvs_in(host, &ip, &bytes, mark)
                {
                    return;
                }
                self.local_deliver(host, ifindex, ip, bytes);
            }
            RouteType::Unicast => {
                if link_bcast {
                    return;
                }
                let dev = h.dev_name(ifindex).to_string();
                if h.sysctl.effective(&dev, "forwarding") == 0 {
                    self.record(
                        host,
                        EventKind::Drop {
                            reason: DropReason::NotForwarding,
                            what: format!("a packet for {}", ip.dst),
                        },
                    );
                    return;
                }
                if let Err(reason) = h.validate_source(ip.src, ifindex) {
                    self.record(
                        host,
                        EventKind::Drop {
                            reason,
                            what: format!("a packet from {}", ip.src),
                        },
                    );
                    return;
                }
                let out = route.ifindex;
                if self
                    .nf_hook(
                        host,
                        Hook::Forward,
                        &ip,
                        bytes.len(),
                        Some(ifindex),
                        out,
                        mark,
                    )
                    .is_some()
                {
                    self.ip_forward(host, ip);
                }
            }
            _ => {
                self.record(
                    host,
                    EventKind::Drop {
                        reason: DropReason::NoRoute,
                        what: format!("a packet for {}", ip.dst),
                    },
                );
            }
        }
    }

    fn ip_forward(&mut self, host: &str, mut ip: Ipv4Repr) {
        if self
            .hosts
            .get(host)
            .is_some_and(|h| !h.ipvs.conns.is_empty())
        {
            self.ipvs_out_forward(host, &mut ip);
        }
        if ip.ttl <= 1 {
            self.record(
                host,
                EventKind::Drop {
                    reason: DropReason::TtlExceeded,
                    what: format!("a packet for {}", ip.dst),
                },
            );
            return;
        }
        ip.ttl -= 1;
        let Some(h) = self.hosts.get(host) else {
            return;
        };
        let Ok(rt) = h.route_output(ip.dst, None, None) else {
            return;
        };
        let rt = OutRoute { src: ip.src, ..rt };
        self.ip_output(host, &rt, ip.emit());
    }

    /// `ip_local_deliver()`: ICMP echo is answered here; everything goes to
    /// the host's programs (raw sockets).
    fn local_deliver(&mut self, host: &str, ifindex: u32, ip: Ipv4Repr, bytes: Vec<u8>) {
        self.record(
            host,
            EventKind::LocalDeliver {
                dst: ip.dst,
                proto: ip.protocol(),
            },
        );
        self.apps_ip_in(host, ifindex, &ip);
        if let L4::Tcp(t) = &ip.l4 {
            self.tcp_rcv(host, &ip, t);
            return;
        }
        if let L4::Ipip(inner) = &ip.l4 {
            self.ipip_rcv(host, &ip, &bytes, inner);
            return;
        }
        if let L4::Udp(u) = &ip.l4 {
            // __udp4_lib_rcv(): nothing in the lab listens on UDP; a unicast
            // datagram to a closed port gets ICMP port unreachable.
            self.record(
                host,
                EventKind::Drop {
                    reason: DropReason::NoSocket,
                    what: format!("a UDP datagram for port {}", u.dst_port),
                },
            );
            let bcast = self
                .hosts
                .get(host)
                .is_some_and(|h| h.addr_type(ip.dst) == RouteType::Broadcast);
            if !bcast && ip.dst != Ipv4Addr::BROADCAST && !ip.dst.is_multicast() {
                self.icmp_error(host, &ip, &bytes, 3);
            }
            return;
        }
        if ip.protocol() == 4 {
            // A protocol-4 packet that did not parse as IPv4-in-IPv4.
            return;
        }
        if let L4::Icmp(IcmpRepr::DestUnreachable { code, original }) = &ip.l4 {
            self.tcp_icmp_error(host, *code, original);
        }
        if let L4::Icmp(IcmpRepr::EchoRequest { ident, seq, data }) = &ip.l4 {
            let is_bcast = self
                .hosts
                .get(host)
                .is_some_and(|h| h.addr_type(ip.dst) == RouteType::Broadcast);
            if is_bcast || ip.dst == Ipv4Addr::BROADCAST {
                return; // icmp_echo_ignore_broadcasts = 1
            }
            let reply = Ipv4Repr {
                src: ip.dst,
                dst: ip.src,
                ttl: 64,
                ident: 0,
                dont_frag: false,
                tos: ip.tos,
                l4: L4::Icmp(IcmpRepr::EchoReply {
                    ident: *ident,
                    seq: *seq,
                    data: data.clone(),
                }),
            };
            let _ = self.ip_send(host, reply, None);
        }
        let _ = bytes;
    }

    /// `tunnel4_rcv()` → `ipip_rcv()`: decapsulate on tunl0 or refuse.
    fn ipip_rcv(&mut self, host: &str, outer: &Ipv4Repr, outer_bytes: &[u8], inner: &Ipv4Repr) {
        let Some(h) = self.hosts.get(host) else {
            return;
        };
        let tunl = h.tunl0().map(|d| (d.ifindex, d.up, d.name.clone()));
        let Some((idx, true, dev)) = tunl else {
            // No ipip module: no protocol handler (ICMP protocol
            // unreachable, code 2); tunl0 down: ip_tunnel_lookup() finds no
            // tunnel and tunnel4 answers port unreachable (code 3).
            let loaded = tunl.is_some();
            self.record(
                host,
                EventKind::IpipNoTunnel {
                    outer_src: outer.src,
                    loaded,
                },
            );
            self.icmp_error(host, outer, outer_bytes, if loaded { 3 } else { 2 });
            return;
        };
        let inner_bytes = outer_bytes
            .get(crate::wire::IPV4_HLEN..)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        if let Some(d) = self
            .hosts
            .get_mut(host)
            .and_then(|h| h.devices.get_mut(&idx))
        {
            // ip_tunnel_rcv(): dev_sw_netstats_rx_add(dev, skb->len), the
            // inner packet's length.
            d.stats.rx_packets += 1;
            d.stats.rx_bytes += inner_bytes.len() as u64;
        }
        self.record(
            host,
            EventKind::IpipDecap {
                dev,
                outer_src: outer.src,
                inner_src: inner.src,
                inner_dst: inner.dst,
            },
        );
        self.ip_rcv(host, idx, inner.clone(), inner_bytes, false);
    }

    pub(crate) fn local_deliver_pub(&mut self, host: &str, ip: Ipv4Repr, bytes: Vec<u8>) {
        self.local_deliver(host, 1, ip, bytes);
    }

    /// What IPVS transmits: `ip_vs_send_or_cont()` → LOCAL_OUT, then out.
    pub(crate) fn ip_output_pub(&mut self, host: &str, rt: &OutRoute, packet: Vec<u8>) {
        if self.nf_out(host, Hook::Output, rt, &packet) {
            self.ip_output(host, rt, packet);
        }
    }

    /// [`World::nf_hook`] at OUTPUT or POSTROUTING for a packet leaving by
    /// `rt`; false when a DROP took it.
    fn nf_out(&mut self, host: &str, hook: Hook, rt: &OutRoute, packet: &[u8]) -> bool {
        match Ipv4Repr::parse(packet) {
            Ok(ip) => self
                .nf_hook(host, hook, &ip, packet.len(), None, Some(rt.ifindex), 0)
                .is_some(),
            Err(_) => true,
        }
    }

    pub(crate) fn icmp_send_error(
        &mut self,
        host: &str,
        orig: &Ipv4Repr,
        orig_bytes: &[u8],
        code: u8,
    ) {
        self.icmp_error(host, orig, orig_bytes, code);
    }

    /// `icmp_send()`: an ICMP destination-unreachable about `orig`.
    fn icmp_error(&mut self, host: &str, orig: &Ipv4Repr, orig_bytes: &[u8], code: u8) {
        if matches!(
            orig.l4,
            L4::Icmp(IcmpRepr::DestUnreachable { .. } | IcmpRepr::Other { .. })
        ) {
            return;
        }
        // icmp_send(): room = 576 - IP header - ICMP header of the original.
        let take = orig_bytes.len().min(576 - crate::wire::IPV4_HLEN - 8);
        // The offending packet was for us (RTCF_LOCAL): answer from the
        // address it was sent to; else let the route choose.
        let src = match self.hosts.get(host) {
            Some(h) if h.addr_type(orig.dst) == RouteType::Local => orig.dst,
            _ => Ipv4Addr::UNSPECIFIED,
        };
        let err = Ipv4Repr {
            src,
            dst: orig.src,
            ttl: 64,
            ident: 0,
            dont_frag: false,
            tos: 0xc0,
            l4: L4::Icmp(IcmpRepr::DestUnreachable {
                code,
                original: orig_bytes[..take].to_vec(),
            }),
        };
        let _ = self.ip_send(host, err, None);
    }
}

pub fn table_name(id: u32) -> String {
    match id {
        TABLE_LOCAL => "local".into(),
        TABLE_MAIN => "main".into(),
        253 => "default".into(),
        n => n.to_string(),
    }
}
