//! ICMP errors (net/ipv4/icmp.c).
//!
//! Linux does, and we model: `icmp_send()`: the error quotes as much of the
//! offending packet as fits in 576 bytes; its source is the offending
//! packet's destination when that was one of our addresses (`RTCF_LOCAL`),
//! else the route's choice. Echo requests are answered in `input.rs`.
//!
//! Left out: ICMP rate limiting (`icmp_global_allow()`), redirects.

use crate::net::ipv4::fib::RouteType;
use crate::sim::world::World;
use crate::wire::{IcmpRepr, Ipv4Repr, L4};
use std::net::Ipv4Addr;

impl World {
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
    pub(crate) fn icmp_error(&mut self, host: &str, orig: &Ipv4Repr, orig_bytes: &[u8], code: u8) {
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
