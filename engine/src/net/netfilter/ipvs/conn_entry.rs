//! A connection entry (`struct ip_vs_conn`, net/netfilter/ipvs/ip_vs_conn.c):
//! client, virtual and real server addresses, forwarding method, state and
//! timer; expiry returns its counts to the destination (`ip_vs_conn_expire`,
//! `ip_vs_unbind_dest`).

use super::*;

/// The addresses that name a connection (`struct ip_vs_conn_param`): the
/// protocol, the client's address and port, and the virtual address and
/// port (for a lookup of the reply direction, `ip_vs_conn_out_get()`, the
/// "virtual" pair carries the real server's, as the kernel fills it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnParam {
    pub proto: Proto,
    pub caddr: IpAddr,
    pub cport: u16,
    pub vaddr: IpAddr,
    pub vport: u16,
}
use crate::time::SimTime;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// A connection entry (`struct ip_vs_conn`), or a persistence template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conn {
    pub proto: Proto,
    pub caddr: IpAddr,
    pub cport: u16,
    pub vaddr: IpAddr,
    pub vport: u16,
    pub daddr: IpAddr,
    pub dport: u16,
    pub state: ConnState,
    pub expires: SimTime,
    pub fwd: Fwd,
    /// Counted as inactive on its destination (`IP_VS_CONN_F_INACTIVE`).
    pub inactive: bool,
    /// Uses the INPUT-ONLY table (`IP_VS_CONN_F_NOOUTPUT`).
    pub no_output: bool,
    pub template: bool,
    /// The service it belongs to.
    pub service: ServiceKey,
    /// Firewall mark of the service, for templates of fwmark services.
    pub fwmark: u32,
    /// For a connection made through a persistence template: the
    /// template's client prefix (`cp->control`).
    #[serde(default)]
    pub ctl_key: Option<IpAddr>,
    /// For a template: how many connections it controls (`n_control`).
    #[serde(default)]
    pub n_control: u32,
}

/// A line of `/proc/net/ip_vs_conn`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnEntry {
    /// `TCP`, `UDP`, or `IP` for a template of a fwmark service.
    pub proto: String,
    pub caddr: IpAddr,
    pub cport: u16,
    pub vaddr: IpAddr,
    pub vport: u16,
    pub daddr: IpAddr,
    pub dport: u16,
    pub state: String,
    /// Seconds until it expires.
    pub expires: u64,
}

/// Connection table size of a default kernel (CONFIG_IP_VS_TAB_BITS=12).
pub const CONN_TAB_SIZE: u32 = 4096;

impl Ipvs {
    /// Expire connection entries whose timer ran out (`ip_vs_conn_expire`).
    /// A template with live controlled connections is re-armed instead.
    pub fn expire(&mut self, now: SimTime) {
        while let Some(id) = self.conns.due(now) {
            if self
                .conns
                .get(id)
                .is_some_and(|c| c.template && c.n_control > 0)
            {
                // ip_vs_conn_expire(): still controlling: "expire later", 60 s.
                self.conns.set_expires(id, now.plus(60_000_000));
                continue;
            }
            if let Some(c) = self.conns.remove(id) {
                self.unaccount(&c);
            }
        }
    }

    pub(crate) fn unaccount(&mut self, c: &Conn) {
        if let Some(tk) = c.ctl_key {
            if let Some(tid) = self.conns.template(c.service, tk) {
                if let Some(t) = self.conns.get_mut(tid) {
                    t.n_control = t.n_control.saturating_sub(1);
                }
            }
        }
        let matches = |d: &Dest| d.serves(c.daddr, c.dport) || d.spec.addr == c.daddr && c.template;
        let live = self
            .services
            .iter_mut()
            .find(|s| s.spec.key == c.service)
            .and_then(|s| s.dests.iter_mut().find(|d| matches(d)));
        let d = match live {
            Some(d) => d,
            None => match self
                .trash
                .iter_mut()
                .find(|(k, d, _)| *k == c.service && matches(d))
            {
                Some((_, d, _)) => d,
                None => return,
            },
        };
        if c.template {
            d.persist = d.persist.saturating_sub(1);
        } else if c.inactive {
            d.inactive = d.inactive.saturating_sub(1);
        } else {
            d.active = d.active.saturating_sub(1);
        }
        update_overload(d);
    }

    /// Next moment something expires (for the world's timer).
    pub fn next_deadline(&self) -> Option<SimTime> {
        let c = self.conns.next_expiry();
        match (c, self.next_est) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}
