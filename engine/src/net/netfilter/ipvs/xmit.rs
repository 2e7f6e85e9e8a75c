//! IPVS's transmitters (net/netfilter/ipvs/ip_vs_xmit.c).
//!
//! Linux does, and we model: each transmitter first finds the route to the
//! real server (`__ip_vs_get_out_rt()`): a real server that is this host
//! takes the packet up the local stack (NF_ACCEPT); no unicast route drops
//! it; otherwise `decrement_ttl()` drops a packet at TTL 1 with ICMP time
//! exceeded to the client (from the VIP: the packet was for a local
//! address) and lowers the TTL of the rest. Then:
//! - `ip_vs_dr_xmit()`: the packet otherwise unchanged, sent to the real
//!   server's MAC (next hop = RIP, `IP_VS_RT_MODE_KNOWN_NH`);
//! - `ip_vs_nat_xmit()`: destination address and port rewritten to the
//!   real server (`dnat_handler`, checksums fixed), routed to it;
//! - `ip_vs_tunnel_xmit()` (IPIP): the outer source is what the route to
//!   the real server selects (`IP_VS_RT_MODE_CONNECT`: the director's own
//!   address, never the VIP); `ip_vs_prepare_tunneled_skb()` copies the
//!   inner TOS, TTL and (with `pmtu_disc`, on by default) DF into the outer
//!   header; `ip_select_ident()` gives ID 0 when DF is set, a fresh ID
//!   otherwise; protocol 4.
//!
//! Left out: the tunnel MTU check (`ensure_mtu_is_adequate()`: the lab's
//! client packets are far below 1480 bytes), GUE/GRE, IPv6, the bypass
//! and local transmitters.

use crate::net::ipv4::fib::RouteType;
use crate::net::ipv4::route::{OutRoute, TableName};
use crate::sim::trace::{DropReason, Dropped, EventKind};
use crate::sim::world::World;
use crate::wire::{Ipv4Repr, L4};
use std::net::Ipv4Addr;

/// Where `__ip_vs_get_out_rt()` sends a packet for a real server.
enum OutRt {
    /// The real server is this host.
    Local,
    Remote(OutRoute),
    /// No unicast route (traced).
    None,
}

impl World {
    fn ip_vs_get_out_rt(&mut self, host: &str, rip: Ipv4Addr) -> OutRt {
        let Some(h) = self.hosts.get(host) else {
            return OutRt::None;
        };
        match h.route_output(rip, None, None) {
            Ok(rt) if rt.rtype == RouteType::Local => OutRt::Local,
            Ok(rt) if rt.rtype == RouteType::Unicast => OutRt::Remote(rt),
            _ => {
                self.record(
                    host,
                    EventKind::Drop {
                        reason: DropReason::NoRoute,
                        what: Dropped::ToRealServer { rip },
                    },
                );
                OutRt::None
            }
        }
    }

    /// `ip_vs_dr_xmit()`: to real server `rip` by its MAC.
    pub(crate) fn dr_xmit(&mut self, host: &str, ip: &Ipv4Repr, bytes: &[u8], rip: Ipv4Addr) {
        let rt = match self.ip_vs_get_out_rt(host, rip) {
            OutRt::Local => {
                self.local_deliver_pub(host, ip.clone(), bytes.to_vec());
                return;
            }
            OutRt::Remote(rt) => rt,
            OutRt::None => return,
        };
        let (mut ip, mut packet) = (ip.clone(), bytes.to_vec());
        if !self.decrement_ttl(host, &mut ip, &mut packet) {
            return;
        }
        let rt = OutRoute {
            gateway: Some(rip),
            ..rt
        };
        self.ip_output_pub(host, &rt, packet);
    }

    /// `ip_vs_nat_xmit()`: destination rewritten to `rip:dport`.
    pub(crate) fn nat_xmit(
        &mut self,
        host: &str,
        ip: &Ipv4Repr,
        bytes: &[u8],
        rip: Ipv4Addr,
        dport: u16,
    ) {
        let rt = match self.ip_vs_get_out_rt(host, rip) {
            OutRt::Remote(rt) => rt,
            // A NAT real server on the director itself is not modelled.
            OutRt::Local | OutRt::None => return,
        };
        let (mut p, mut packet) = (ip.clone(), bytes.to_vec());
        if !self.decrement_ttl(host, &mut p, &mut packet) {
            return;
        }
        p.dst = rip;
        match &mut p.l4 {
            L4::Tcp(t) => t.dst_port = dport,
            L4::Udp(u) => u.dst_port = dport,
            _ => {}
        }
        let rt = OutRoute { src: ip.src, ..rt };
        self.ip_output_pub(host, &rt, p.emit());
    }

    /// `ip_vs_tunnel_xmit()`: IPv4-in-IPv4 to real server `rip`.
    pub(crate) fn tunnel_xmit(&mut self, host: &str, ip: &Ipv4Repr, bytes: &[u8], rip: Ipv4Addr) {
        let rt = match self.ip_vs_get_out_rt(host, rip) {
            OutRt::Local => {
                // NF_ACCEPT, no tunnel.
                self.local_deliver_pub(host, ip.clone(), bytes.to_vec());
                return;
            }
            OutRt::Remote(rt) => rt,
            OutRt::None => return,
        };
        let (mut inner, mut packet) = (ip.clone(), bytes.to_vec());
        if !self.decrement_ttl(host, &mut inner, &mut packet) {
            return;
        }
        let df = inner.dont_frag;
        let ident = if df {
            0
        } else {
            self.hosts.get_mut(host).map_or(0, |h| {
                h.ip_ident = h.ip_ident.wrapping_add(1);
                h.ip_ident
            })
        };
        let outer = Ipv4Repr {
            src: rt.src,
            dst: rip,
            ttl: inner.ttl,
            ident,
            dont_frag: df,
            tos: inner.tos,
            l4: L4::Ipip(Box::new(inner)),
        };
        let Some(h) = self.hosts.get(host) else {
            return;
        };
        let lookup = EventKind::RouteLookup {
            dst: rip,
            table: TableName(rt.table),
            prefix: rt.prefix,
            rtype: rt.rtype,
            dev: Some(h.dev_name(rt.ifindex).to_string()),
        };
        self.record(host, lookup);
        self.record(
            host,
            EventKind::IpipEncap {
                rs: rip,
                outer_src: rt.src,
                vip: ip.dst,
                ttl: outer.ttl,
                df,
            },
        );
        self.ip_output_pub(host, &rt, outer.emit());
    }
}
