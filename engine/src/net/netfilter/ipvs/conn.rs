//! The connection table (`ip_vs_conn_tab`): entries by id, with indexes
//! for the lookups the packet path makes (`ip_vs_conn_in_get` by client
//! 5-tuple, `ip_vs_ct_in_get` for persistence templates) and the timers
//! ordered by expiry, so a table of tens of thousands of entries costs
//! O(log n) per packet like the kernel's hash table.

use super::{Conn, Proto, ServiceKey};
use crate::time::SimTime;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

type Key = (Proto, IpAddr, u16, IpAddr, u16);

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<Conn>", into = "Vec<Conn>")]
pub struct ConnTable {
    slots: BTreeMap<u64, Conn>,
    next: u64,
    by_key: BTreeMap<Key, u64>,
    /// NAT replies: (proto, real server addr, port, client addr, port).
    by_dest: BTreeMap<Key, u64>,
    templates: BTreeMap<(ServiceKey, IpAddr), u64>,
    timers: BTreeSet<(SimTime, u64)>,
}

impl From<Vec<Conn>> for ConnTable {
    fn from(v: Vec<Conn>) -> Self {
        let mut t = ConnTable::default();
        for c in v {
            t.insert(c);
        }
        t
    }
}

impl From<ConnTable> for Vec<Conn> {
    fn from(t: ConnTable) -> Self {
        t.slots.into_values().collect()
    }
}

impl ConnTable {
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Entries in creation order.
    pub fn iter(&self) -> impl Iterator<Item = &Conn> {
        self.slots.values()
    }

    pub fn get(&self, id: u64) -> Option<&Conn> {
        self.slots.get(&id)
    }

    /// Mutable access; change `expires` only through [`ConnTable::set_expires`].
    pub fn get_mut(&mut self, id: u64) -> Option<&mut Conn> {
        self.slots.get_mut(&id)
    }

    /// A connection (not a template) by its client-side 5-tuple.
    pub fn find(
        &self,
        proto: Proto,
        caddr: IpAddr,
        cport: u16,
        vaddr: IpAddr,
        vport: u16,
    ) -> Option<u64> {
        self.by_key
            .get(&(proto, caddr, cport, vaddr, vport))
            .copied()
    }

    /// A connection by its real-server side (`ip_vs_conn_out_get`).
    pub fn find_out(
        &self,
        proto: Proto,
        daddr: IpAddr,
        dport: u16,
        caddr: IpAddr,
        cport: u16,
    ) -> Option<u64> {
        self.by_dest
            .get(&(proto, daddr, dport, caddr, cport))
            .copied()
    }

    /// The persistence template of `service` for client prefix `ckey`.
    pub fn template(&self, service: ServiceKey, ckey: IpAddr) -> Option<u64> {
        self.templates.get(&(service, ckey)).copied()
    }

    pub fn insert(&mut self, c: Conn) -> u64 {
        let id = self.next;
        self.next += 1;
        if c.template {
            self.templates.insert((c.service, c.caddr), id);
        } else {
            self.by_key
                .insert((c.proto, c.caddr, c.cport, c.vaddr, c.vport), id);
            self.by_dest
                .insert((c.proto, c.daddr, c.dport, c.caddr, c.cport), id);
        }
        self.timers.insert((c.expires, id));
        self.slots.insert(id, c);
        id
    }

    pub fn remove(&mut self, id: u64) -> Option<Conn> {
        let c = self.slots.remove(&id)?;
        self.timers.remove(&(c.expires, id));
        if c.template {
            if self.templates.get(&(c.service, c.caddr)) == Some(&id) {
                self.templates.remove(&(c.service, c.caddr));
            }
        } else {
            let k = (c.proto, c.caddr, c.cport, c.vaddr, c.vport);
            if self.by_key.get(&k) == Some(&id) {
                self.by_key.remove(&k);
            }
            let k = (c.proto, c.daddr, c.dport, c.caddr, c.cport);
            if self.by_dest.get(&k) == Some(&id) {
                self.by_dest.remove(&k);
            }
        }
        Some(c)
    }

    pub fn set_expires(&mut self, id: u64, t: SimTime) {
        if let Some(c) = self.slots.get_mut(&id) {
            self.timers.remove(&(c.expires, id));
            c.expires = t;
            self.timers.insert((t, id));
        }
    }

    /// The first entry whose timer has run out at `now`.
    pub fn due(&self, now: SimTime) -> Option<u64> {
        self.timers
            .iter()
            .next()
            .filter(|(t, _)| *t <= now)
            .map(|(_, id)| *id)
    }

    pub fn next_expiry(&self) -> Option<SimTime> {
        self.timers.iter().next().map(|(t, _)| *t)
    }
}
