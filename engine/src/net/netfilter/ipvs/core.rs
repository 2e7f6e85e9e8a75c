//! The director's packet path: `ip_vs_in()` on LOCAL_IN and the
//! transmitters (see `crate::net::netfilter::ipvs` for the model).
//!
//! Linux does, and we model:
//! - `ip_vs_dr_xmit()`: route to the real server, TTL − 1, the packet
//!   otherwise unchanged, sent to the real server's MAC.
//! - `ip_vs_nat_xmit()`: destination address and port rewritten.
//! - `ip_vs_tunnel_xmit()` (IPIP): `__ip_vs_get_out_rt()` routes to the
//!   real server (`IP_VS_RT_MODE_CONNECT`: the outer source is what that
//!   route selects, the director's own address, never the VIP) and
//!   decrements the inner TTL; `ip_vs_prepare_tunneled_skb()` copies the
//!   inner TOS, TTL and (with `pmtu_disc`, on by default) DF into the outer
//!   header; `ip_select_ident()` gives ID 0 when DF is set (no socket), a
//!   fresh ID otherwise; protocol 4. A real server that is this host gets
//!   the packet locally, unencapsulated.
//! - `ip_vs_in_icmp()`: an ICMP error that quotes one of our IPIP packets
//!   (its outer destination a Tunnel real server, its inner packet a known
//!   connection) is answered by sending the same error to the client about
//!   the client's own packet, from the VIP (`icmp_send()`), counted out
//!   (`ip_vs_out_stats()` on the quoted request). The real 6.1 kernel
//!   counts it a second time, as recorded in the VM, and we do too: the
//!   error `icmp_send()` generated leaves through LOCAL_OUT, where
//!   `ip_vs_local_reply4()` → `ip_vs_out_icmp()` finds the same
//!   connection by the quoted client→VIP header (`ip_vs_conn_out_get()`
//!   matches a non-NAT entry by its virtual address) and
//!   `handle_response_icmp()` jumps to `after_nat` for DR/TUN entries,
//!   which is `ip_vs_out_stats()` again.
//!
//! Left out: the tunnel MTU check (`ensure_mtu_is_adequate()`: the lab's
//! client packets are far below 1480 bytes), GUE/GRE, IPv6.

use crate::net::ipv4::route::OutRoute;
use crate::net::netfilter::ipvs::{Fwd, ServiceKey, TcpEvent, Verdict};
use crate::sim::trace::EventKind;
use crate::sim::world::{Pending, World};
use crate::wire::{tcp_flags as F, IcmpRepr, Ipv4Repr, L4};
use std::net::{IpAddr, Ipv4Addr};

impl World {
    /// Offer a locally addressed packet to IPVS; true when IPVS took it.
    /// `mark` is the packet's firewall mark (`skb->mark`, set by iptables'
    /// MARK): fwmark services are looked up by it first.
    pub(crate) fn ipvs_in(&mut self, host: &str, ip: &Ipv4Repr, bytes: &[u8], mark: u32) -> bool {
        if let L4::Icmp(IcmpRepr::DestUnreachable { code, original }) = &ip.l4 {
            return self.ipvs_in_icmp_tunnel(host, *code, original);
        }
        let (proto, sport, vport) = match &ip.l4 {
            L4::Tcp(t) => (
                crate::net::netfilter::ipvs::Proto::Tcp,
                t.src_port,
                t.dst_port,
            ),
            L4::Udp(u) => (
                crate::net::netfilter::ipvs::Proto::Udp,
                u.src_port,
                u.dst_port,
            ),
            _ => return false,
        };
        let now = self.now;
        let Some(h) = self.hosts.get_mut(host) else {
            return false;
        };
        let svc = h
            .ipvs
            .find_service(proto, IpAddr::V4(ip.dst), vport, mark)
            .map(|s| (s.spec.key, s.spec.scheduler.clone()));
        let verdict = match &ip.l4 {
            L4::Tcp(t) => h.ipvs.tcp_in(
                now,
                IpAddr::V4(ip.src),
                sport,
                IpAddr::V4(ip.dst),
                vport,
                TcpEvent::of(t),
                t.has(F::SYN),
                bytes.len() as u64,
                mark,
            ),
            _ => h.ipvs.udp_in(
                now,
                IpAddr::V4(ip.src),
                sport,
                IpAddr::V4(ip.dst),
                vport,
                bytes.len() as u64,
                mark,
            ),
        };
        let service = svc.as_ref().map(|(k, _)| match k {
            ServiceKey::Addr { addr, port, .. } => {
                crate::net::ipv4::devinet::addr_port_text(*addr, *port)
            }
            ServiceKey::Fwmark { mark, .. } => format!("fwmark {mark}"),
        });
        match verdict {
            Verdict::Accept => false,
            Verdict::Drop => {
                self.record(
                    host,
                    EventKind::Drop {
                        reason: crate::sim::trace::DropReason::NoRoute,
                        what: "a packet of a connection whose real server was deleted".into(),
                    },
                );
                true
            }
            Verdict::NoDest => {
                self.record(
                    host,
                    EventKind::IpvsNoDest {
                        service: service.unwrap_or_default(),
                    },
                );
                self.icmp_send_error(host, ip, bytes, 3);
                true
            }
            Verdict::Forward {
                daddr,
                dport,
                fwd,
                new_conn,
                state,
            } => {
                self.record(
                    host,
                    EventKind::Ipvs {
                        service: service.unwrap_or_default(),
                        client: crate::net::ipv4::devinet::addr_port_text(
                            IpAddr::V4(ip.src),
                            sport,
                        ),
                        dest: crate::net::ipv4::devinet::addr_port_text(daddr, dport),
                        state: state.name().into(),
                        new_conn,
                        scheduler: svc.map(|(_, s)| s).unwrap_or_default(),
                        method: fwd.name().into(),
                    },
                );
                self.schedule_ipvs_timer(host);
                let IpAddr::V4(rip) = daddr else { return true };
                match fwd {
                    Fwd::Route => {
                        // ip_vs_dr_xmit(): route to the real server
                        // (__ip_vs_get_out_rt(), which also decrements the
                        // TTL), addresses and ports unchanged, sent to the
                        // real server's MAC (next hop = RIP).
                        let Some(h) = self.hosts.get(host) else {
                            return true;
                        };
                        let rt = h.route_output(rip, None, None);
                        if let Ok(r) = &rt {
                            if r.rtype == crate::net::ipv4::fib::RouteType::Local {
                                // The real server is this host: the packet
                                // goes up the local stack (NF_ACCEPT).
                                self.local_deliver_pub(host, ip.clone(), bytes.to_vec());
                                return true;
                            }
                        }
                        match rt {
                            Ok(rt) if rt.rtype == crate::net::ipv4::fib::RouteType::Unicast => {
                                let rt = OutRoute {
                                    gateway: Some(rip),
                                    ..rt
                                };
                                // decrement_ttl() + ip_send_check(): TTL-1 and a new header checksum.
                                let mut pkt = bytes.to_vec();
                                if pkt.len() >= 20 {
                                    if pkt[8] <= 1 {
                                        self.record(
                                            host,
                                            EventKind::Drop {
                                                reason: crate::sim::trace::DropReason::TtlExceeded,
                                                what: "the packet".into(),
                                            },
                                        );
                                        return true;
                                    }
                                    pkt[8] -= 1;
                                    pkt[10] = 0;
                                    pkt[11] = 0;
                                    let hl = usize::from(pkt[0] & 0x0f) * 4;
                                    let mut sum: u32 = 0;
                                    for c in pkt[..hl.min(pkt.len())].chunks(2) {
                                        sum += u32::from(u16::from_be_bytes([
                                            c[0],
                                            *c.get(1).unwrap_or(&0),
                                        ]));
                                    }
                                    while sum > 0xffff {
                                        sum = (sum & 0xffff) + (sum >> 16);
                                    }
                                    let ck = !(sum as u16);
                                    pkt[10..12].copy_from_slice(&ck.to_be_bytes());
                                }
                                self.ip_output_pub(host, &rt, pkt);
                            }
                            _ => {
                                self.drop_no_route_to_rs(host, rip);
                            }
                        }
                    }
                    Fwd::Masq => {
                        // ip_vs_nat_xmit(): destination rewritten to the
                        // real server (address and port, checksums fixed),
                        // TTL-1, routed to it.
                        let mut p = ip.clone();
                        p.dst = rip;
                        p.ttl = p.ttl.saturating_sub(1);
                        match &mut p.l4 {
                            L4::Tcp(t) => t.dst_port = dport,
                            L4::Udp(u) => u.dst_port = dport,
                            _ => {}
                        }
                        let Some(h) = self.hosts.get(host) else {
                            return true;
                        };
                        match h.route_output(rip, None, None) {
                            Ok(rt) if rt.rtype == crate::net::ipv4::fib::RouteType::Unicast => {
                                let rt = OutRoute { src: ip.src, ..rt };
                                self.ip_output_pub(host, &rt, p.emit());
                            }
                            _ => self.record(
                                host,
                                EventKind::Drop {
                                    reason: crate::sim::trace::DropReason::NoRoute,
                                    what: format!("the packet for real server {rip}"),
                                },
                            ),
                        }
                    }
                    Fwd::Tunnel => self.ipvs_tunnel_xmit(host, ip, rip),
                    Fwd::Local => {
                        self.record(
                            host,
                            EventKind::Drop {
                                reason: crate::sim::trace::DropReason::Malformed(format!(
                                    "{} forwarding is not simulated (Direct Routing and NAT are)",
                                    fwd.name()
                                )),
                                what: "the packet".into(),
                            },
                        );
                    }
                }
                true
            }
        }
    }

    /// `ip_vs_tunnel_xmit()`: IPv4-in-IPv4 to real server `rip`.
    fn ipvs_tunnel_xmit(&mut self, host: &str, ip: &Ipv4Repr, rip: Ipv4Addr) {
        let Some(h) = self.hosts.get(host) else {
            return;
        };
        let rt = match h.route_output(rip, None, None) {
            Ok(rt) if rt.rtype == crate::net::ipv4::fib::RouteType::Local => {
                // The real server is this host: NF_ACCEPT, no tunnel.
                self.local_deliver_pub(host, ip.clone(), ip.emit());
                return;
            }
            Ok(rt) if rt.rtype == crate::net::ipv4::fib::RouteType::Unicast => rt,
            _ => {
                self.drop_no_route_to_rs(host, rip);
                return;
            }
        };
        // decrement_ttl() on the inner packet.
        if ip.ttl <= 1 {
            self.record(
                host,
                EventKind::Drop {
                    reason: crate::sim::trace::DropReason::TtlExceeded,
                    what: "the packet".into(),
                },
            );
            return;
        }
        let mut inner = ip.clone();
        inner.ttl -= 1;
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
        let h = self.hosts.get(host).expect("host exists");
        let lookup = EventKind::RouteLookup {
            dst: rip,
            table: crate::net::ipv4::route::table_name(rt.table),
            prefix: crate::net::ipv4::devinet::prefix_text(&rt.prefix),
            rtype: rt.rtype.name().into(),
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

    /// `ip_vs_in_icmp()`, IPIP case: relay a real server's ICMP error about
    /// a tunnelled packet to the client. True when IPVS took the error.
    fn ipvs_in_icmp_tunnel(&mut self, host: &str, code: u8, quoted: &[u8]) -> bool {
        // The quote: our outer header, then the inner (client's) packet.
        if quoted.len() < 2 * crate::wire::IPV4_HLEN + 4 || quoted[9] != 4 {
            return false;
        }
        let rs = Ipv4Addr::new(quoted[16], quoted[17], quoted[18], quoted[19]);
        let inner = &quoted[crate::wire::IPV4_HLEN..];
        if inner[0] >> 4 != 4 || inner[0] & 0x0f != 5 || inner[9] != 6 {
            return false;
        }
        let csrc = Ipv4Addr::new(inner[12], inner[13], inner[14], inner[15]);
        let cdst = Ipv4Addr::new(inner[16], inner[17], inner[18], inner[19]);
        let cport = u16::from_be_bytes([inner[20], inner[21]]);
        let vport = u16::from_be_bytes([inner[22], inner[23]]);
        let inner_len = usize::from(u16::from_be_bytes([inner[2], inner[3]]));
        let Some(h) = self.hosts.get_mut(host) else {
            return false;
        };
        let Some(conn) = h.ipvs.tunnel_icmp(
            IpAddr::V4(rs),
            crate::net::netfilter::ipvs::Proto::Tcp,
            IpAddr::V4(csrc),
            cport,
            IpAddr::V4(cdst),
            vport,
            inner_len.min(inner.len()) as u64,
        ) else {
            return false;
        };
        self.record(
            host,
            EventKind::IpvsIcmpRelay {
                rs,
                client: format!("{csrc}:{cport}"),
                code,
            },
        );
        // icmp_send() about the client's original packet (the quote may be
        // cut short; the header and ports are what matter).
        let orig = Ipv4Repr {
            src: csrc,
            dst: cdst,
            ttl: inner[8],
            ident: u16::from_be_bytes([inner[4], inner[5]]),
            dont_frag: inner[6] & 0x40 != 0,
            tos: inner[1],
            l4: L4::Raw {
                protocol: 6,
                data: inner[crate::wire::IPV4_HLEN..].to_vec(),
            },
        };
        self.icmp_send_error(host, &orig, inner, code);
        // The error message sent to the client is counted out as well: on
        // 6.1 a relayed error shows as 2 OutPkts, the quoted request plus
        // the ICMP message (60 + 88 bytes for a SYN; tests/vm script
        // 43-tun-no-tunnel, recorded on the real kernel).
        let sent =
            (crate::wire::IPV4_HLEN + 8 + inner.len().min(576 - crate::wire::IPV4_HLEN - 8)) as u64;
        if let Some(h) = self.hosts.get_mut(host) {
            h.ipvs.count_out(&conn, sent);
        }
        true
    }

    /// `ip_vs_out()` on FORWARD: a NAT real server's reply passing through
    /// the director gets the VIP back as its source. True when rewritten.
    pub(crate) fn ipvs_out_forward(&mut self, host: &str, ip: &mut Ipv4Repr) -> bool {
        let L4::Tcp(t) = &mut ip.l4 else { return false };
        let now = self.now;
        let ev = TcpEvent::of(t);
        let bytes = (crate::wire::IPV4_HLEN + 20 + t.options.len() + t.payload.len()) as u64;
        let Some(h) = self.hosts.get_mut(host) else {
            return false;
        };
        let Some((vaddr, vport)) = h.ipvs.nat_out(
            now,
            IpAddr::V4(ip.src),
            t.src_port,
            IpAddr::V4(ip.dst),
            t.dst_port,
            ev,
            bytes,
        ) else {
            return false;
        };
        let IpAddr::V4(v) = vaddr else { return false };
        t.src_port = vport;
        ip.src = v;
        true
    }

    /// `__ip_vs_get_out_rt()` found no usable route to the real server.
    fn drop_no_route_to_rs(&mut self, host: &str, rip: impl std::fmt::Display) {
        self.record(
            host,
            EventKind::Drop {
                reason: crate::sim::trace::DropReason::NoRoute,
                what: format!("the packet for real server {rip}"),
            },
        );
    }

    pub fn schedule_ipvs_timer(&mut self, host: &str) {
        let Some(h) = self.hosts.get(host) else {
            return;
        };
        let Some(t) = h.ipvs.next_est else { return };
        let already = self.ipvs_timers.get(host).is_some_and(|n| *n > 0);
        if !already {
            self.schedule(
                t,
                Pending::IpvsTimer {
                    host: host.to_string(),
                },
            );
        }
    }

    pub(crate) fn ipvs_timer(&mut self, host: &str) {
        let now = self.now;
        let Some(h) = self.hosts.get_mut(host) else {
            return;
        };
        h.ipvs.run_estimator(now);
        h.ipvs.expire(now);
        if h.ipvs.services.is_empty() {
            h.ipvs.next_est = None;
            return;
        }
        self.schedule_ipvs_timer(host);
    }

    /// A TCP socket in SYN_SENT hears ICMP port/host unreachable: the
    /// connect fails (`tcp_v4_err`: hard errors abort a connecting socket).
    pub(crate) fn tcp_icmp_error(&mut self, host: &str, code: u8, original: &[u8]) {
        if original.len() < 28 || original[9] != 6 {
            return;
        }
        let src = std::net::Ipv4Addr::new(original[12], original[13], original[14], original[15]);
        let dst = std::net::Ipv4Addr::new(original[16], original[17], original[18], original[19]);
        let sport = u16::from_be_bytes([original[20], original[21]]);
        let dport = u16::from_be_bytes([original[22], original[23]]);
        let Some(h) = self.hosts.get(host) else {
            return;
        };
        let id = h
            .tcp
            .socks()
            .values()
            .find(|s| {
                s.state == crate::net::ipv4::tcp::TcpState::SynSent
                    && *s.local.ip() == src
                    && s.local.port() == sport
                    && *s.remote.ip() == dst
                    && s.remote.port() == dport
            })
            .map(|s| s.id);
        if let Some(id) = id {
            let err = if code == 3 {
                crate::net::ipv4::tcp::io::ConnError::Refused
            } else {
                crate::net::ipv4::tcp::io::ConnError::Unreachable
            };
            self.tcp_fail_pub(host, id, err);
        }
    }
}

impl IcmpRepr {
    /// Is this an error message (not a query)?
    pub fn is_error(&self) -> bool {
        matches!(self, IcmpRepr::DestUnreachable { .. })
    }
}
