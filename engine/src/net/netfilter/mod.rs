//! The mangle table of iptables: how fwmark virtual services get their
//! packets.
//!
//! Linux does: `iptable_mangle` registers the table's five built-in chains
//! on the netfilter hooks (PREROUTING before the routing decision, INPUT
//! for local delivery, FORWARD, OUTPUT for locally sent packets — which
//! includes what IPVS transmits, `ip_vs_send_or_cont()` → LOCAL_OUT — and
//! POSTROUTING). `ipt_do_table()` walks a chain's rules in order; a rule
//! whose matches all hold counts the packet (`skb->len`, the IP packet) and
//! runs its target. `MARK` (`mark_tg()`, xt_mark.c) sets
//! `skb->mark = (skb->mark & ~mask) ^ mark` and continues with the next
//! rule; ACCEPT and DROP end the walk; RETURN in a built-in chain applies
//! the policy. A packet that reaches the end gets the chain's policy,
//! counted in the policy counters. IPVS (`ip_vs_service_find()`) then looks
//! a marked packet up by its mark before address and port.
//!
//! We model the mangle table of the legacy back end as iptables 1.8.9
//! drives it (Debian 12): matches `-s -d -i -o -p`, `tcp`/`udp` ports,
//! `multiport`, `mark`; targets MARK, ACCEPT, DROP, RETURN; listings and
//! rule specs in iptables' own formats. One libiptc quirk of 1.8.9 is kept
//! because it shows in every `-L -v`: each change of the table resets the
//! built-in chains' policy counters (netfilter bugzilla #912, fixed in
//! 1.8.10); rule counters survive. Left out: other tables (filter, nat, raw
//! need modules the lab kernel lacks), user-defined chains, IPv6 and the
//! mark's other consumers (policy routing, local IPVS clients).

pub mod hook;
pub mod ipvs;
pub mod mangle;

pub use mangle::{
    Chain, Cidr, Mangle, Match, Pkt, PortDir, Ports, Rule, RuleSpec, TableError, Target, Verdict,
};

use serde::{Deserialize, Serialize};

/// A built-in chain of the mangle table, in `iptc_first_chain()` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Hook {
    Prerouting,
    Input,
    Forward,
    Output,
    Postrouting,
}

impl Hook {
    pub const ALL: [Hook; 5] = [
        Hook::Prerouting,
        Hook::Input,
        Hook::Forward,
        Hook::Output,
        Hook::Postrouting,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Hook::Prerouting => "PREROUTING",
            Hook::Input => "INPUT",
            Hook::Forward => "FORWARD",
            Hook::Output => "OUTPUT",
            Hook::Postrouting => "POSTROUTING",
        }
    }
    pub fn from_name(s: &str) -> Option<Hook> {
        Hook::ALL.into_iter().find(|h| h.name() == s)
    }
    fn index(self) -> usize {
        Hook::ALL.iter().position(|h| *h == self).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests;
