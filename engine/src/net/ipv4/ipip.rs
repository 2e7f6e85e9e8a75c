//! IPv4-in-IPv4 receive (net/ipv4/tunnel4.c, ipip.c, ip_tunnel.c).
//!
//! Linux does, and we model: `tunnel4_rcv()` → `ipip_rcv()` →
//! `ip_tunnel_rcv()`: a protocol-4 packet for a local address is taken by the
//! fallback tunnel `tunl0` when it is up (remote/local "any" match every
//! packet); the outer header is stripped, tunl0 counts the inner packet, and
//! the inner packet goes through `ip_rcv()` again with tunl0 as its input
//! device: input routing, `fib_validate_source()` against tunl0 (the
//! rp_filter pitfall of IPVS tunnelling), local delivery. No tunnel (tunl0
//! down): ICMP port unreachable; no `ipip` module: ICMP protocol unreachable
//! (`ip_local_deliver_finish()`).
//!
//! Left out: ECN decapsulation rules (the lab's packets are not
//! ECN-capable), configured tunnels with remote/local addresses.

use crate::net::ipv4::icmp::{IcmpError, Unreach};
use crate::sim::trace::EventKind;
use crate::sim::world::World;
use crate::wire::Ipv4Repr;

impl World {
    /// `tunnel4_rcv()` → `ipip_rcv()`: decapsulate on tunl0 or refuse.
    pub(crate) fn ipip_rcv(
        &mut self,
        host: &str,
        outer: &Ipv4Repr,
        outer_bytes: &[u8],
        inner: &Ipv4Repr,
    ) {
        let Some(h) = self.hosts.get(host) else {
            return;
        };
        let tunl = h.tunl0().map(|d| (d.ifindex, d.up, d.name.clone()));
        let Some((idx, true, dev)) = tunl else {
            // No ipip module: no protocol handler (ICMP protocol
            // unreachable, code 2); tunl0 down: ip_tunnel_lookup() finds no
            // tunnel and tunnel4 answers port unreachable (code 3).
            let loaded = tunl.is_some();
            self.record(
                host,
                EventKind::IpipNoTunnel {
                    outer_src: outer.src,
                    loaded,
                },
            );
            let code = if loaded {
                Unreach::Port
            } else {
                Unreach::Protocol
            };
            self.icmp_error(host, outer, outer_bytes, IcmpError::Unreachable(code));
            return;
        };
        let inner_bytes = outer_bytes
            .get(crate::wire::IPV4_HLEN..)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        if let Some(d) = self
            .hosts
            .get_mut(host)
            .and_then(|h| h.devices.get_mut(&idx))
        {
            // ip_tunnel_rcv(): dev_sw_netstats_rx_add(dev, skb->len), the
            // inner packet's length.
            d.stats.rx_packets += 1;
            d.stats.rx_bytes += inner_bytes.len() as u64;
        }
        self.record(
            host,
            EventKind::IpipDecap {
                dev,
                outer_src: outer.src,
                inner_src: inner.src,
                inner_dst: inner.dst,
            },
        );
        self.ip_rcv(host, idx, inner.clone(), inner_bytes, false);
    }
}
