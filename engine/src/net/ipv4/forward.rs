//! Forwarding (net/ipv4/ip_forward.c) and the TTL rule every forwarder
//! shares.
//!
//! Linux does, and we model: with `net.ipv4.ip_forward` on, a packet not
//! for this host is routed again and sent on. `ip_forward()` drops a
//! packet whose TTL is 1 or less and answers it with ICMP time exceeded
//! (`icmp_send(ICMP_TIME_EXCEEDED, ICMP_EXC_TTL)`), else lowers it by one
//! (`ip_decrease_ttl()`) before the FORWARD hook. IPVS's transmitters do
//! the same in `__ip_vs_get_out_rt()` → `decrement_ttl()` for every packet
//! they send on to a real server that is not this host (DR, NAT, tunnel).
//!
//! Left out: redirects, MTU checks (the lab's packets fit).

use crate::net::ipv4::icmp::IcmpError;
use crate::net::ipv4::route::OutRoute;
use crate::sim::trace::{DropReason, EventKind};
use crate::sim::world::World;
use crate::wire::{ipv4_decrease_ttl, Ipv4Repr};

impl World {
    /// The TTL check and decrement of `ip_forward()` and IPVS's
    /// `decrement_ttl()`, on the packet and its bytes together: false when
    /// the packet died here (traced, ICMP time exceeded sent).
    pub(crate) fn decrement_ttl(
        &mut self,
        host: &str,
        ip: &mut Ipv4Repr,
        packet: &mut [u8],
    ) -> bool {
        if ip.ttl <= 1 {
            self.record(
                host,
                EventKind::Drop {
                    reason: DropReason::TtlExceeded,
                    what: crate::sim::trace::Dropped::PacketFor { dst: ip.dst },
                },
            );
            self.icmp_error(host, ip, packet, IcmpError::TtlExceeded);
            return false;
        }
        ip.ttl -= 1;
        ipv4_decrease_ttl(packet);
        true
    }

    /// `ip_forward_finish()`: after the FORWARD hook (and IPVS's `ip_vs_out`
    /// on it, which puts the VIP back on NAT replies), routed and sent.
    pub(crate) fn ip_forward(&mut self, host: &str, mut ip: Ipv4Repr) {
        if self
            .hosts
            .get(host)
            .is_some_and(|h| !h.ipvs.conns.is_empty())
        {
            self.ipvs_out_forward(host, &mut ip);
        }
        let Some(h) = self.hosts.get(host) else {
            return;
        };
        let Ok(rt) = h.route_output(ip.dst, None, None) else {
            return;
        };
        let rt = OutRoute { src: ip.src, ..rt };
        self.ip_output(host, &rt, ip.emit());
    }
}
