//! ICMP errors (net/ipv4/icmp.c).
//!
//! Linux does, and we model: `icmp_send()`: the error quotes as much of the
//! offending packet as fits in 576 bytes; its source is the offending
//! packet's destination when that was one of our addresses (`RTCF_LOCAL`),
//! else the route's choice. No error is sent about an ICMP error
//! (`icmp_pointers[].error`). Echo requests are answered in `input.rs`.
//!
//! Left out: ICMP rate limiting (`icmp_global_allow()`), redirects.

use crate::net::ipv4::fib::RouteType;
use crate::sim::world::World;
use crate::wire::{IcmpRepr, Ipv4Repr, L4};
use std::net::Ipv4Addr;

/// Destination-unreachable codes the lab's stack sends (`ICMP_NET_UNREACH`
/// …); a received error may carry any other (`Other`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreach {
    Net,
    Host,
    Protocol,
    Port,
    FragNeeded,
    Other(u8),
}

impl Unreach {
    pub fn code(self) -> u8 {
        match self {
            Unreach::Net => 0,
            Unreach::Host => 1,
            Unreach::Protocol => 2,
            Unreach::Port => 3,
            Unreach::FragNeeded => 4,
            Unreach::Other(c) => c,
        }
    }

    pub fn from_code(code: u8) -> Unreach {
        match code {
            0 => Unreach::Net,
            1 => Unreach::Host,
            2 => Unreach::Protocol,
            3 => Unreach::Port,
            4 => Unreach::FragNeeded,
            c => Unreach::Other(c),
        }
    }
}

/// The errors `icmp_send()` is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpError {
    /// `ICMP_DEST_UNREACH`.
    Unreachable(Unreach),
    /// `ICMP_TIME_EXCEEDED`, `ICMP_EXC_TTL`: a router's (or IPVS's) TTL
    /// check (`ip_forward()`, `decrement_ttl()`).
    TtlExceeded,
}

impl World {
    /// `icmp_send()`: an ICMP error about `orig` (its bytes `orig_bytes`).
    pub(crate) fn icmp_error(
        &mut self,
        host: &str,
        orig: &Ipv4Repr,
        orig_bytes: &[u8],
        kind: IcmpError,
    ) {
        if matches!(&orig.l4, L4::Icmp(m) if m.is_error() || matches!(m, IcmpRepr::Other { .. })) {
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
        let original = orig_bytes[..take].to_vec();
        let icmp = match kind {
            IcmpError::Unreachable(u) => IcmpRepr::DestUnreachable {
                code: u.code(),
                original,
            },
            IcmpError::TtlExceeded => IcmpRepr::TimeExceeded { code: 0, original },
        };
        let err = Ipv4Repr {
            src,
            dst: orig.src,
            ttl: crate::net::ipv4::output::DEFAULT_TTL,
            ident: 0,
            dont_frag: false,
            tos: 0xc0,
            l4: L4::Icmp(icmp),
        };
        self.ip_send_own(host, err);
    }
}
