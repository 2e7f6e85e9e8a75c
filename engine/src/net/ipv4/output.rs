//! The IPv4 output path (net/ipv4/ip_output.c, udp.c's send side).
//!
//! Linux does, and we model: `ip_queue_xmit()` (route, pick the source,
//! LOCAL_OUT), `ip_finish_output2()` (POSTROUTING, then the device: loopback
//! back into input, Ethernet through the neighbour table, dummy counted and
//! dropped), and a connected UDP socket's `write()` (`udp_sendmsg()`).
//!
//! A packet the kernel sends by itself and cannot route is dropped, as
//! `ip_route_output()` failing in `tcp_v4_send_synack()`, `icmp_reply()`
//! and friends drops it (counted, not reported): the trace records it.
//!
//! Left out: fragmentation (`ip_fragment()`: the lab's packets fit), GSO,
//! sending through tunl0 (the fallback tunnel has no remote: such packets
//! are dropped here).

use crate::net::core::dev::DeviceKind;
use crate::net::ipv4::fib::{FibError, RouteType};
use crate::net::ipv4::route::{OutError, OutRoute, TableName};
use crate::net::netfilter::hook::HookState;
use crate::net::netfilter::Hook;
use crate::sim::trace::{DropReason, EventKind};
use crate::sim::world::{Pending, World, LOOPBACK_DELAY};
use crate::wire::mac::Mac;
use crate::wire::{Ipv4Repr, L4};
use std::net::Ipv4Addr;

/// The TTL a packet gets when its sender sets none: filled in by
/// [`World::ip_send`] from `net.ipv4.ip_default_ttl`.
pub const DEFAULT_TTL: u8 = 0;

impl World {
    pub(crate) fn send_ip_frame(&mut self, host: &str, ifindex: u32, dst: Mac, packet: Vec<u8>) {
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

    /// Send an IPv4 packet from `host` (a TTL of [`DEFAULT_TTL`] takes the
    /// host's `net.ipv4.ip_default_ttl`, as `ip_select_ttl()` does for a
    /// socket without IP_TTL) (`ip_queue_xmit`/`ip_push_pending_frames`):
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
        if ip.ttl == DEFAULT_TTL {
            ip.ttl = h.sysctl.ttl();
        }
        if !ip.dont_frag && ip.ident == 0 {
            ip.ident = h.next_ident();
        }
        if let L4::Tcp(t) = &ip.l4 {
            if !h.ipvs.conns.is_empty() {
                let ev = crate::net::netfilter::ipvs::TcpEvent::of(t);
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
            table: TableName(rt.table),
            prefix: rt.prefix,
            rtype: rt.rtype,
            dev: Some(h.dev_name(rt.ifindex).to_string()),
        };
        self.record(host, kind);
        let packet = ip.emit();
        let out = Some(rt.ifindex);
        if self
            .nf_hook(
                host,
                HookState {
                    hook: Hook::Output,
                    in_if: None,
                    out_if: out,
                    len: packet.len(),
                    mark: 0,
                },
                &ip,
            )
            .is_some()
        {
            self.ip_output(host, &rt, packet);
        }
        Ok(rt)
    }

    /// A packet the kernel sends by itself (TCP segments and resets, echo
    /// replies, ICMP errors). When `ip_route_output()` finds no route,
    /// Linux drops it and counts `IPSTATS_MIB_OUTNOROUTES`; the trace
    /// records the drop.
    pub(crate) fn ip_send_own(&mut self, host: &str, ip: Ipv4Repr) {
        let dst = ip.dst;
        if let Err(OutError::Fib(_)) = self.ip_send(host, ip, None) {
            self.record(
                host,
                EventKind::Drop {
                    reason: DropReason::NoRoute,
                    what: crate::sim::trace::Dropped::PacketSent { dst },
                },
            );
        }
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
            ttl: DEFAULT_TTL,
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
    pub(crate) fn ip_output(&mut self, host: &str, rt: &OutRoute, packet: Vec<u8>) {
        if !self.nf_out(host, Hook::Postrouting, rt, &packet) {
            return;
        }
        let now = self.now;
        let Some((up, _, kind)) = self.host_dev(host, rt.ifindex) else {
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
                self.packet_taps(
                    host,
                    1,
                    &crate::apps::tcpdump::loopback_frame(&packet),
                    crate::apps::tcpdump::Dir::Out,
                );
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
                        what: crate::sim::trace::Dropped::TunlFallback,
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

    /// What IPVS transmits: `ip_vs_send_or_cont()` → LOCAL_OUT, then out.
    pub(crate) fn ip_output_pub(&mut self, host: &str, rt: &OutRoute, packet: Vec<u8>) {
        if self.nf_out(host, Hook::Output, rt, &packet) {
            self.ip_output(host, rt, packet);
        }
    }
}
