//! ICMP errors for TCP (net/ipv4/tcp_ipv4.c: `tcp_v4_err()`).
//!
//! Linux does, and we model: the error's quote names a socket by its
//! addresses and ports; a socket in SYN_SENT fails at once (`tcp_done()`,
//! `sk_err` for connect()): port unreachable gives ECONNREFUSED, the other
//! unreachable codes and time exceeded give EHOSTUNREACH-like errors
//! (`icmp_err_convert[]`, `ICMP_TIME_EXCEEDED` → EHOSTUNREACH).
//! Left out: errors for established sockets (soft errors, PMTU updates).

use crate::net::ipv4::icmp::{IcmpError, Unreach};
use crate::net::ipv4::tcp::io::ConnError;
use crate::net::ipv4::tcp::TcpState;
use crate::sim::world::World;
use std::net::Ipv4Addr;

impl World {
    /// `tcp_v4_err()` for an ICMP error whose quote is `original`.
    pub(crate) fn tcp_v4_err(&mut self, host: &str, kind: IcmpError, original: &[u8]) {
        if original.len() < 28 || original[9] != 6 {
            return;
        }
        let src = Ipv4Addr::new(original[12], original[13], original[14], original[15]);
        let dst = Ipv4Addr::new(original[16], original[17], original[18], original[19]);
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
                s.state == TcpState::SynSent
                    && *s.local.ip() == src
                    && s.local.port() == sport
                    && *s.remote.ip() == dst
                    && s.remote.port() == dport
            })
            .map(|s| s.id);
        if let Some(id) = id {
            let err = match kind {
                IcmpError::Unreachable(Unreach::Port) => ConnError::Refused,
                IcmpError::Unreachable(_) | IcmpError::TtlExceeded => ConnError::Unreachable,
            };
            self.tcp_fail_pub(host, id, err);
        }
    }
}
