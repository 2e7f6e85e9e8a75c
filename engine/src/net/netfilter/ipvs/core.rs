//! The director's packet path: `ip_vs_in()` on LOCAL_IN and the
//! transmitters (see `crate::net::netfilter::ipvs` for the model).
//!
//! Linux does, and we model (the transmitters are in `xmit.rs`):
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
//! Left out: IPv6.

use crate::net::netfilter::ipvs::{ConnParam, Fwd, ServiceKey, TcpEvent, Verdict};
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
        let param = ConnParam {
            proto,
            caddr: IpAddr::V4(ip.src),
            cport: sport,
            vaddr: IpAddr::V4(ip.dst),
            vport,
        };
        let verdict = match &ip.l4 {
            L4::Tcp(t) => h.ipvs.tcp_in(
                now,
                &param,
                TcpEvent::of(t),
                t.has(F::SYN),
                bytes.len() as u64,
                mark,
            ),
            _ => h.ipvs.udp_in(now, &param, bytes.len() as u64, mark),
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
                        what: crate::sim::trace::Dropped::DeletedServerConn,
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
                self.icmp_error(
                    host,
                    ip,
                    bytes,
                    crate::net::ipv4::icmp::IcmpError::Unreachable(
                        crate::net::ipv4::icmp::Unreach::Port,
                    ),
                );
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
                        client: std::net::SocketAddr::new(IpAddr::V4(ip.src), sport),
                        dest: std::net::SocketAddr::new(daddr, dport),
                        state: std::borrow::Cow::Borrowed(state.name()),
                        new_conn,
                        scheduler: svc.map(|(_, s)| s).unwrap_or_default(),
                        method: std::borrow::Cow::Borrowed(fwd.name()),
                    },
                );
                self.schedule_ipvs_timer(host);
                let IpAddr::V4(rip) = daddr else { return true };
                match fwd {
                    Fwd::Route => self.dr_xmit(host, ip, bytes, rip),
                    Fwd::Masq => self.nat_xmit(host, ip, bytes, rip, dport),
                    Fwd::Tunnel => self.tunnel_xmit(host, ip, bytes, rip),
                    Fwd::Local => {
                        self.record(
                            host,
                            EventKind::Drop {
                                reason: crate::sim::trace::DropReason::Malformed(format!(
                                    "{} forwarding is not simulated (Direct Routing and NAT are)",
                                    fwd.name()
                                )),
                                what: crate::sim::trace::Dropped::Packet,
                            },
                        );
                    }
                }
                true
            }
        }
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
        let param = ConnParam {
            proto: crate::net::netfilter::ipvs::Proto::Tcp,
            caddr: IpAddr::V4(csrc),
            cport,
            vaddr: IpAddr::V4(cdst),
            vport,
        };
        let Some(conn) =
            h.ipvs
                .tunnel_icmp(IpAddr::V4(rs), &param, inner_len.min(inner.len()) as u64)
        else {
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
        self.icmp_error(
            host,
            &orig,
            inner,
            crate::net::ipv4::icmp::IcmpError::Unreachable(
                crate::net::ipv4::icmp::Unreach::from_code(code),
            ),
        );
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
        let param = ConnParam {
            proto: crate::net::netfilter::ipvs::Proto::Tcp,
            caddr: IpAddr::V4(ip.dst),
            cport: t.dst_port,
            vaddr: IpAddr::V4(ip.src),
            vport: t.src_port,
        };
        let Some((vaddr, vport)) = h.ipvs.nat_out(now, &param, ev, bytes) else {
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
        let already = self.ipvs_timer_pending(host);
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
}

impl IcmpRepr {
    /// Is this an error message (not a query)?
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            IcmpRepr::DestUnreachable { .. } | IcmpRepr::TimeExceeded { .. }
        )
    }
}
