//! Netfilter hooks (net/netfilter/core.c: `nf_hook()`): where the stack
//! hands a packet to the mangle table on PREROUTING, INPUT, FORWARD, OUTPUT
//! and POSTROUTING, and what it does with the verdict.

use crate::net::ipv4::route::OutRoute;
use crate::net::netfilter::{self, Hook};
use crate::sim::trace::{DropReason, EventKind};
use crate::sim::world::World;
use crate::wire::{Ipv4Repr, L4};

impl World {
    /// A netfilter hook's pass through the mangle table (`nf_hook()` →
    /// `ipt_do_table()`): counts the packet, applies MARK rules (traced
    /// when the mark changes) and returns the mark, or None when a DROP
    /// took the packet (traced).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn nf_hook(
        &mut self,
        host: &str,
        hook: Hook,
        ip: &Ipv4Repr,
        len: usize,
        in_if: Option<u32>,
        out_if: Option<u32>,
        mark: u32,
    ) -> Option<u32> {
        let h = self.hosts.get_mut(host)?;
        let name = |i: Option<u32>| i.map(|i| h.dev_name(i).to_string());
        let (in_name, out_name) = (name(in_if), name(out_if));
        let ports = match &ip.l4 {
            L4::Tcp(t) => Some((t.src_port, t.dst_port)),
            L4::Udp(u) => Some((u.src_port, u.dst_port)),
            _ => None,
        };
        let pkt = netfilter::Pkt {
            src: ip.src,
            dst: ip.dst,
            proto: ip.protocol(),
            ports,
            len: len as u64,
            in_if: in_name.as_deref(),
            out_if: out_name.as_deref(),
        };
        let v = h.mangle.run(hook, &pkt, mark);
        if let Some(rule) = v.marked_by {
            self.record(
                host,
                EventKind::NfMark {
                    chain: hook.name().into(),
                    rule,
                    mark: v.mark,
                },
            );
        }
        if !v.accept {
            self.record(
                host,
                EventKind::Drop {
                    reason: DropReason::Iptables,
                    what: format!(
                        "a packet for {} in the mangle table's {} chain",
                        ip.dst,
                        hook.name()
                    ),
                },
            );
            return None;
        }
        Some(v.mark)
    }

    /// [`World::nf_hook`] at OUTPUT or POSTROUTING for a packet leaving by
    /// `rt`; false when a DROP took it.
    pub(crate) fn nf_out(&mut self, host: &str, hook: Hook, rt: &OutRoute, packet: &[u8]) -> bool {
        match Ipv4Repr::parse(packet) {
            Ok(ip) => self
                .nf_hook(host, hook, &ip, packet.len(), None, Some(rt.ifindex), 0)
                .is_some(),
            Err(_) => true,
        }
    }
}
