//! The IPv4 receive path (net/ipv4/ip_input.c, route.c's input half).
//!
//! Linux does, and we model: `ip_rcv()` (PREROUTING), `ip_route_input_slow()`
//! (martian checks, `fib_validate_source()`, local / broadcast / forward /
//! unreachable), `ip_local_deliver()` (INPUT, IPVS's LOCAL_IN hook, then the
//! protocol: ICMP, TCP, UDP, IPIP), and packets coming back through the
//! loopback device.
//!
//! Left out: IP options, reassembly, multicast, redirects.

use crate::net::ipv4::fib::RouteType;
use crate::net::ipv4::icmp::{IcmpError, Unreach};
use crate::net::ipv4::route::{is_martian_source, TableName};
use crate::net::netfilter::hook::HookState;
use crate::net::netfilter::Hook;
use crate::sim::trace::{DropReason, Dropped, EventKind, LookAlike};
use crate::sim::world::World;
use crate::wire::{IcmpRepr, Ipv4Repr, L4};
use std::net::Ipv4Addr;

impl World {
    pub(crate) fn loopback_in(&mut self, host: &str, packet: Vec<u8>) {
        self.packet_taps(
            host,
            1,
            &crate::apps::tcpdump::loopback_frame(&packet),
            crate::apps::tcpdump::Dir::In,
        );
        let Ok(ip) = Ipv4Repr::parse(&packet) else {
            return;
        };
        if self
            .nf_hook(
                host,
                HookState::input(Hook::Prerouting, 1, packet.len(), 0),
                &ip,
            )
            .is_none()
            || self
                .nf_hook(host, HookState::input(Hook::Input, 1, packet.len(), 0), &ip)
                .is_none()
        {
            return;
        }
        self.local_deliver(host, 1, ip, packet);
    }

    /// `ip_rcv()` + `ip_route_input_slow()`.
    pub(crate) fn ip_rcv(
        &mut self,
        host: &str,
        ifindex: u32,
        ip: Ipv4Repr,
        bytes: Vec<u8>,
        link_bcast: bool,
    ) {
        let Some(mark) = self.nf_hook(
            host,
            HookState::input(Hook::Prerouting, ifindex, bytes.len(), 0),
            &ip,
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
                    what: Dropped::PacketFrom { src: ip.src },
                },
            );
            return;
        }
        if ip.dst == Ipv4Addr::BROADCAST {
            if self
                .nf_hook(
                    host,
                    HookState::input(Hook::Input, ifindex, bytes.len(), mark),
                    &ip,
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
                        what: Dropped::PacketFor { dst: ip.dst },
                    },
                );
                return;
            }
        };
        let kind = EventKind::RouteLookup {
            dst: ip.dst,
            table: TableName(route.table),
            prefix: route.dst,
            rtype: route.rtype,
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
                            what: Dropped::PacketFrom { src: ip.src },
                        },
                    );
                    return;
                }
                let Some(mark) = self.nf_hook(
                    host,
                    HookState::input(Hook::Input, ifindex, bytes.len(), mark),
                    &ip,
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
                if h.sysctl
                    .effective(&dev, crate::net::ipv4::devconf::Knob::Forwarding)
                    == 0
                {
                    // What the explanation names: the address of this host
                    // that reads like the destination (a typo?).
                    let lookalike = crate::net::ipv4::devinet::lookalike(h.all_addrs(), ip.dst)
                        .map(|a| LookAlike {
                            addr: a.local(),
                            label: a.label.clone(),
                        });
                    self.record(
                        host,
                        EventKind::Drop {
                            reason: DropReason::NotForwarding {
                                dst: ip.dst,
                                lookalike,
                            },
                            what: Dropped::PacketFor { dst: ip.dst },
                        },
                    );
                    return;
                }
                if let Err(reason) = h.validate_source(ip.src, ifindex) {
                    self.record(
                        host,
                        EventKind::Drop {
                            reason,
                            what: Dropped::PacketFrom { src: ip.src },
                        },
                    );
                    return;
                }
                // ip_forward(): the TTL check and decrement come before
                // the FORWARD hook.
                let (mut ip, mut bytes) = (ip, bytes);
                if !self.decrement_ttl(host, &mut ip, &mut bytes) {
                    return;
                }
                let out = route.ifindex;
                if self
                    .nf_hook(
                        host,
                        HookState {
                            hook: Hook::Forward,
                            in_if: Some(ifindex),
                            out_if: out,
                            len: bytes.len(),
                            mark,
                        },
                        &ip,
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
                        what: Dropped::PacketFor { dst: ip.dst },
                    },
                );
            }
        }
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
                    what: Dropped::UdpForPort { port: u.dst_port },
                },
            );
            let bcast = self
                .hosts
                .get(host)
                .is_some_and(|h| h.addr_type(ip.dst) == RouteType::Broadcast);
            if !bcast && ip.dst != Ipv4Addr::BROADCAST && !ip.dst.is_multicast() {
                self.icmp_error(host, &ip, &bytes, IcmpError::Unreachable(Unreach::Port));
            }
            return;
        }
        if ip.protocol() == 4 {
            // A protocol-4 packet that did not parse as IPv4-in-IPv4.
            return;
        }
        match &ip.l4 {
            L4::Icmp(IcmpRepr::DestUnreachable { code, original }) => {
                let kind = IcmpError::Unreachable(Unreach::from_code(*code));
                self.tcp_v4_err(host, kind, original);
            }
            L4::Icmp(IcmpRepr::TimeExceeded { original, .. }) => {
                self.tcp_v4_err(host, IcmpError::TtlExceeded, original);
            }
            _ => {}
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
                ttl: crate::net::ipv4::output::DEFAULT_TTL,
                ident: 0,
                dont_frag: false,
                tos: ip.tos,
                l4: L4::Icmp(IcmpRepr::EchoReply {
                    ident: *ident,
                    seq: *seq,
                    data: data.clone(),
                }),
            };
            self.ip_send_own(host, reply);
        }
        let _ = bytes;
    }

    pub(crate) fn local_deliver_pub(&mut self, host: &str, ip: Ipv4Repr, bytes: Vec<u8>) {
        self.local_deliver(host, 1, ip, bytes);
    }
}
