//! Forwarding (net/ipv4/ip_forward.c): with `net.ipv4.ip_forward` on, a
//! packet not for this host is routed again and sent on; `ip_forward()`
//! decrements the TTL and answers TTL expiry with ICMP time exceeded.
//!
//! Left out: redirects, MTU checks (the lab's packets fit).

use crate::net::ipv4::route::OutRoute;
use crate::sim::trace::{DropReason, EventKind};
use crate::sim::world::World;
use crate::wire::Ipv4Repr;

impl World {
    pub(crate) fn ip_forward(&mut self, host: &str, mut ip: Ipv4Repr) {
        if self
            .hosts
            .get(host)
            .is_some_and(|h| !h.ipvs.conns.is_empty())
        {
            self.ipvs_out_forward(host, &mut ip);
        }
        if ip.ttl <= 1 {
            self.record(
                host,
                EventKind::Drop {
                    reason: DropReason::TtlExceeded,
                    what: format!("a packet for {}", ip.dst),
                },
            );
            return;
        }
        ip.ttl -= 1;
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
