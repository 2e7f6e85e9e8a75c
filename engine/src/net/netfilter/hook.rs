//! Netfilter hooks (net/netfilter/core.c: `nf_hook()`): where the stack
//! hands a packet to the mangle table on PREROUTING, INPUT, FORWARD, OUTPUT
//! and POSTROUTING, and what it does with the verdict. A hook whose chain
//! holds no rule costs only the policy count (the kernel's static key
//! `nf_hooks_needed` skips empty hooks; the legacy table still counts the
//! policy, which `iptables -L -v` shows).

use crate::net::ipv4::route::OutRoute;
use crate::net::netfilter::{self, Hook};
use crate::sim::trace::{DropReason, EventKind};
use crate::sim::world::World;
use crate::wire::{Ipv4Repr, L4};
use std::net::Ipv4Addr;

/// Where a packet meets a hook (`struct nf_hook_state`): the hook, the
/// input and output devices, and the packet's length and mark (`skb->len`,
/// `skb->mark`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HookState {
    pub hook: Hook,
    pub in_if: Option<u32>,
    pub out_if: Option<u32>,
    pub len: usize,
    pub mark: u32,
}

impl HookState {
    /// A received packet at PREROUTING/INPUT on `ifindex`.
    pub fn input(hook: Hook, ifindex: u32, len: usize, mark: u32) -> HookState {
        HookState {
            hook,
            in_if: Some(ifindex),
            out_if: None,
            len,
            mark,
        }
    }
}

impl World {
    /// A netfilter hook's pass through the mangle table (`nf_hook()` →
    /// `ipt_do_table()`): counts the packet, applies MARK rules (traced
    /// when the mark changes) and returns the mark, or None when a DROP
    /// took the packet (traced).
    pub(crate) fn nf_hook(&mut self, host: &str, st: HookState, ip: &Ipv4Repr) -> Option<u32> {
        let h = self.hosts.get_mut(host)?;
        let chain = h.mangle.chain_mut(st.hook);
        if chain.rules.is_empty() {
            chain.pkts += 1;
            chain.bytes += st.len as u64;
            if chain.accept {
                return Some(st.mark);
            }
            self.nf_drop(host, st.hook, ip.dst);
            return None;
        }
        let devices = &h.devices;
        let name = |i: Option<u32>| i.map(|i| devices.get(&i).map_or("?", |d| d.name.as_str()));
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
            len: st.len as u64,
            in_if: name(st.in_if),
            out_if: name(st.out_if),
        };
        let v = h.mangle.run(st.hook, &pkt, st.mark);
        if let Some(rule) = v.marked_by {
            self.record(
                host,
                EventKind::NfMark {
                    chain: st.hook.name().into(),
                    rule,
                    mark: v.mark,
                },
            );
        }
        if !v.accept {
            self.nf_drop(host, st.hook, ip.dst);
            return None;
        }
        Some(v.mark)
    }

    fn nf_drop(&mut self, host: &str, hook: Hook, dst: Ipv4Addr) {
        self.record(
            host,
            EventKind::Drop {
                reason: DropReason::Iptables,
                what: crate::sim::trace::Dropped::MangleChain { dst, chain: hook },
            },
        );
    }

    /// [`World::nf_hook`] at OUTPUT or POSTROUTING for a packet leaving by
    /// `rt`; false when a DROP took it.
    pub(crate) fn nf_out(&mut self, host: &str, hook: Hook, rt: &OutRoute, packet: &[u8]) -> bool {
        let st = HookState {
            hook,
            in_if: None,
            out_if: Some(rt.ifindex),
            len: packet.len(),
            mark: 0,
        };
        let empty = self
            .hosts
            .get(host)
            .is_some_and(|h| h.mangle.chain(hook).rules.is_empty());
        if empty {
            // No rule can look at the packet: count it without parsing.
            let h = self.hosts.get_mut(host).expect("checked above");
            let chain = h.mangle.chain_mut(hook);
            chain.pkts += 1;
            chain.bytes += packet.len() as u64;
            if chain.accept {
                return true;
            }
        }
        match Ipv4Repr::parse(packet) {
            Ok(ip) if empty => {
                self.nf_drop(host, hook, ip.dst);
                false
            }
            Ok(ip) => self.nf_hook(host, st, &ip).is_some(),
            Err(_) => true,
        }
    }
}
