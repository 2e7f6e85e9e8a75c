//! The director's packet path: `ip_vs_in()` on LOCAL_IN and the Direct
//! Routing transmitter `ip_vs_dr_xmit()` (see `crate::ipvs` for the model).

use crate::ipvs::{Fwd, ServiceKey, TcpEvent, Verdict};
use crate::stack::OutRoute;
use crate::trace::EventKind;
use crate::wire::{tcp_flags as F, IcmpRepr, Ipv4Repr, L4};
use crate::world::{Pending, World};
use std::net::IpAddr;

impl World {
    /// Offer a locally addressed packet to IPVS; true when IPVS took it.
    pub(crate) fn ipvs_in(&mut self, host: &str, ip: &Ipv4Repr, bytes: &[u8]) -> bool {
        let L4::Tcp(t) = &ip.l4 else { return false };
        let now = self.now;
        let ev = TcpEvent::of(t);
        let Some(h) = self.hosts.get_mut(host) else {
            return false;
        };
        let svc = h
            .ipvs
            .find_service(crate::ipvs::Proto::Tcp, IpAddr::V4(ip.dst), t.dst_port)
            .map(|s| (s.spec.key, s.spec.scheduler.clone()));
        let verdict = h.ipvs.tcp_in(
            now,
            IpAddr::V4(ip.src),
            t.src_port,
            IpAddr::V4(ip.dst),
            t.dst_port,
            ev,
            t.has(F::SYN),
            bytes.len() as u64,
        );
        let service = svc.as_ref().map(|(k, _)| match k {
            ServiceKey::Addr { addr, port, .. } => format!("{addr}:{port}"),
            ServiceKey::Fwmark { mark, .. } => format!("fwmark {mark}"),
        });
        match verdict {
            Verdict::Accept => false,
            Verdict::Drop => {
                self.record(
                    host,
                    EventKind::Drop {
                        reason: crate::trace::DropReason::NoRoute,
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
                        client: format!("{}:{}", ip.src, t.src_port),
                        dest: format!("{daddr}:{dport}"),
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
                        // ip_vs_dr_xmit(): route to the real server, the
                        // packet itself unchanged (not even the TTL), sent
                        // to the real server's MAC (next hop = RIP).
                        let Some(h) = self.hosts.get(host) else {
                            return true;
                        };
                        let rt = h.route_output(rip, None, None);
                        if let Ok(r) = &rt {
                            if r.rtype == crate::fib::RouteType::Local {
                                // The real server is this host: the packet
                                // goes up the local stack (NF_ACCEPT).
                                self.local_deliver_pub(host, ip.clone(), bytes.to_vec());
                                return true;
                            }
                        }
                        match rt {
                            Ok(rt) if rt.rtype == crate::fib::RouteType::Unicast => {
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
                                                reason: crate::trace::DropReason::TtlExceeded,
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
                                self.record(
                                    host,
                                    EventKind::Drop {
                                        reason: crate::trace::DropReason::NoRoute,
                                        what: format!("the packet for real server {rip}"),
                                    },
                                );
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
                        if let L4::Tcp(t) = &mut p.l4 {
                            t.dst_port = dport;
                        }
                        let Some(h) = self.hosts.get(host) else {
                            return true;
                        };
                        match h.route_output(rip, None, None) {
                            Ok(rt) if rt.rtype == crate::fib::RouteType::Unicast => {
                                let rt = OutRoute { src: ip.src, ..rt };
                                self.ip_output_pub(host, &rt, p.emit());
                            }
                            _ => self.record(
                                host,
                                EventKind::Drop {
                                    reason: crate::trace::DropReason::NoRoute,
                                    what: format!("the packet for real server {rip}"),
                                },
                            ),
                        }
                    }
                    Fwd::Tunnel | Fwd::Local => {
                        self.record(
                            host,
                            EventKind::Drop {
                                reason: crate::trace::DropReason::Malformed(format!(
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
            .socks
            .values()
            .find(|s| {
                s.state == crate::tcp::TcpState::SynSent
                    && *s.local.ip() == src
                    && s.local.port() == sport
                    && *s.remote.ip() == dst
                    && s.remote.port() == dport
            })
            .map(|s| s.id);
        if let Some(id) = id {
            let err = if code == 3 {
                crate::tcp_io::ConnError::Refused
            } else {
                crate::tcp_io::ConnError::Unreachable
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
