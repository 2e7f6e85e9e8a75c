//! IPv4 interface addresses (`struct in_ifaddr`, net/ipv4/devinet.c).
//!
//! Linux keeps one ordered address list per device. `__inet_insert_ifa()`
//! marks a new address SECONDARY when a primary with the same mask already
//! covers it (same subnet), refuses an exact duplicate (EEXIST) and a subnet
//! mate of another scope (EINVAL); primaries are inserted after the last
//! primary of equal or wider scope, secondaries at the tail. `__inet_del_ifa()`
//! deleting a primary either deletes its secondaries or, with
//! `promote_secondaries`, promotes the first one. Labels (`eth0:8`, `lo:2`)
//! are just names on addresses: they are not devices. We model all of that;
//! left out: IFA_F_* lifetimes (always `forever`), peer addresses, IPv6.

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// Decimal digits of `v` appended to `s` (what `{}` writes).
fn push_dec(s: &mut String, v: u32) {
    let mut digits = [0u8; 10];
    let mut n = 0;
    let mut v = v;
    loop {
        digits[n] = b'0' + (v % 10) as u8;
        n += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    for &d in digits[..n].iter().rev() {
        s.push(char::from(d));
    }
}

fn push_ipv4(s: &mut String, ip: Ipv4Addr) {
    for (i, o) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        push_dec(s, u32::from(o));
    }
}

/// `net` as `a.b.c.d/len`, exactly what its `Display` writes, without the
/// formatting machinery: the trace records a route's prefix and IPVS's
/// addresses for every packet and hop, so these texts are built millions
/// of times in a benchmark (and `core::fmt` is slow in wasm).
pub fn prefix_text(net: &Ipv4Net) -> String {
    let mut s = String::with_capacity(18);
    push_ipv4(&mut s, net.addr());
    s.push('/');
    push_dec(&mut s, u32::from(net.prefix_len()));
    s
}

/// `format!("{ip}:{port}")`, built the same fast way for IPv4.
pub fn addr_port_text(ip: std::net::IpAddr, port: u16) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let mut s = String::with_capacity(21);
            push_ipv4(&mut s, v4);
            s.push(':');
            push_dec(&mut s, u32::from(port));
            s
        }
        std::net::IpAddr::V6(v6) => format!("{v6}:{port}"),
    }
}

/// Route/address scope (`enum rt_scope_t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Global = 0,
    Site = 200,
    Link = 253,
    Host = 254,
    Nowhere = 255,
}

impl Scope {
    pub fn name(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Site => "site",
            Scope::Link => "link",
            Scope::Host => "host",
            Scope::Nowhere => "nowhere",
        }
    }
    pub fn parse(s: &str) -> Option<Scope> {
        Some(match s {
            "global" | "universe" | "0" => Scope::Global,
            "site" | "200" => Scope::Site,
            "link" | "253" => Scope::Link,
            "host" | "254" => Scope::Host,
            "nowhere" | "255" => Scope::Nowhere,
            _ => return None,
        })
    }
}

/// One IPv4 address on a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IfAddr {
    pub ifindex: u32,
    /// `ifa_local` with `ifa_prefixlen`.
    pub net: Ipv4Net,
    /// `ifa_broadcast`, when one was assigned (`brd`, or ifconfig's default).
    pub broadcast: Option<Ipv4Addr>,
    /// `ifa_label`: the device name, or `dev:alias`.
    pub label: String,
    pub scope: Scope,
    /// `IFA_F_SECONDARY`.
    pub secondary: bool,
}

impl IfAddr {
    pub fn local(&self) -> Ipv4Addr {
        self.net.addr()
    }
    pub fn prefix_len(&self) -> u8 {
        self.net.prefix_len()
    }
    /// `inet_ifa_match()`: does `ip` fall into this address's subnet?
    pub fn matches(&self, ip: Ipv4Addr) -> bool {
        self.net.contains(&ip)
    }
    /// Same mask and same subnet: the test that makes an address secondary.
    pub fn same_subnet(&self, other: &IfAddr) -> bool {
        self.net.prefix_len() == other.net.prefix_len() && self.matches(other.local())
    }
}

/// Edits (insert, delete, substitute, swap two neighbours) between two
/// addresses as typed: `192.178.150.100` is one keystroke from
/// `192.168.150.100`. Not the kernel's: the explanations use it to name the
/// address a student probably meant.
pub fn typed_distance(a: Ipv4Addr, b: Ipv4Addr) -> usize {
    let (a, b) = (a.to_string().into_bytes(), b.to_string().into_bytes());
    // Optimal string alignment over at most 15 characters a side.
    let w = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * w];
    for i in 0..=a.len() {
        d[i * w] = i;
    }
    for (j, x) in d.iter_mut().enumerate().take(w) {
        *x = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[(i - 1) * w + j] + 1)
                .min(d[i * w + j - 1] + 1)
                .min(d[(i - 1) * w + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[(i - 2) * w + j - 2] + 1);
            }
            d[i * w + j] = v;
        }
    }
    d[a.len() * w + b.len()]
}

/// Of `addrs`, the first one keystroke away from `ip` as typed, loopback
/// addresses left out.
pub fn lookalike<'a>(
    mut addrs: impl Iterator<Item = &'a IfAddr>,
    ip: Ipv4Addr,
) -> Option<&'a IfAddr> {
    addrs.find(|a| !a.local().is_loopback() && typed_distance(a.local(), ip) == 1)
}

/// Why an address could not be inserted or removed (with the errno Linux returns).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddrError {
    #[error("File exists")]
    Exists,
    #[error("Invalid argument")]
    Invalid,
    #[error("Cannot assign requested address")]
    NotFound,
}

/// Insert `ifa` into `list` (one device's addresses) as `__inet_insert_ifa()`
/// does; returns the index it landed at. The caller installs the routes.
pub fn insert(list: &mut Vec<IfAddr>, mut ifa: IfAddr) -> Result<usize, AddrError> {
    ifa.secondary = false;
    let mut last_primary = 0usize;
    for (i, cur) in list.iter().enumerate() {
        if !cur.secondary && ifa.scope <= cur.scope {
            last_primary = i + 1;
        }
        if !cur.secondary && cur.same_subnet(&ifa) {
            if cur.local() == ifa.local() {
                return Err(AddrError::Exists);
            }
            if cur.scope != ifa.scope {
                return Err(AddrError::Invalid);
            }
            ifa.secondary = true;
        }
    }
    // A secondary with the same local address (e.g. different label) is a duplicate too.
    if list
        .iter()
        .any(|c| c.local() == ifa.local() && c.prefix_len() == ifa.prefix_len())
    {
        return Err(AddrError::Exists);
    }
    let at = if ifa.secondary {
        list.len()
    } else {
        last_primary
    };
    list.insert(at, ifa);
    Ok(at)
}

/// What `delete` did, so the caller can fix the FIB the way the kernel's
/// NETDEV_DOWN/NETDEV_UP address notifications do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DelOutcome {
    /// Every address removed, the requested one first.
    pub removed: Vec<IfAddr>,
    /// A secondary that became primary (`promote_secondaries`).
    pub promoted: Option<IfAddr>,
}

/// Remove `list[idx]` as `__inet_del_ifa()` does.
pub fn delete(list: &mut Vec<IfAddr>, idx: usize, promote: bool) -> DelOutcome {
    let gone = list.remove(idx);
    let mut out = DelOutcome {
        removed: vec![gone.clone()],
        promoted: None,
    };
    if gone.secondary {
        return out;
    }
    // Primary deleted: handle its secondaries (same mask, same subnet).
    let mut i = 0;
    while i < list.len() {
        let cand = &list[i];
        if cand.secondary && cand.same_subnet(&gone) {
            if promote && out.promoted.is_none() {
                let mut p = list.remove(i);
                p.secondary = false;
                // The promoted address goes where the deleted primary was
                // (`ifa_promote` is relinked after the last primary before it).
                let at = list.iter().take_while(|a| !a.secondary).count().min(idx);
                list.insert(at, p.clone());
                out.promoted = Some(p);
                // Skip past the moved element if it landed before `i`.
                if at <= i {
                    i += 1;
                }
                continue;
            } else if !promote {
                out.removed.push(list.remove(i));
                continue;
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn prefix_text_is_display() {
        for (a, len) in [
            ([0, 0, 0, 0], 0),
            ([192, 168, 150, 100], 32),
            ([10, 9, 99, 100], 8),
            ([255, 255, 255, 255], 24),
            ([1, 20, 200, 7], 17),
        ] {
            let net = super::Ipv4Net::new(std::net::Ipv4Addr::from(a), len).unwrap();
            assert_eq!(super::prefix_text(&net), net.to_string());
        }
        for v in 0..=255u8 {
            let net = super::Ipv4Net::new(std::net::Ipv4Addr::new(v, v, 0, v), v % 33).unwrap();
            assert_eq!(super::prefix_text(&net), net.to_string());
        }
        for (ip, port) in [
            ("192.168.150.100", 80u16),
            ("0.0.0.0", 0),
            ("255.255.255.255", 65535),
            ("10.0.0.1", 9),
            ("2001:db8::1", 443),
            ("::", 10),
        ] {
            let ip: std::net::IpAddr = ip.parse().unwrap();
            assert_eq!(super::addr_port_text(ip, port), format!("{ip}:{port}"));
        }
    }

    use super::*;

    fn a(s: &str, label: &str) -> IfAddr {
        IfAddr {
            ifindex: 2,
            net: s.parse().unwrap(),
            broadcast: None,
            label: label.into(),
            scope: Scope::Global,
            secondary: false,
        }
    }

    #[test]
    fn same_subnet_becomes_secondary_and_duplicates_fail() {
        let mut l = vec![];
        insert(&mut l, a("192.168.150.11/24", "eth0")).unwrap();
        insert(&mut l, a("192.168.150.100/24", "eth0:8")).unwrap();
        insert(&mut l, a("10.0.0.1/8", "eth0")).unwrap();
        assert!(!l[0].secondary);
        // the new primary lands after the last primary, before secondaries
        assert_eq!(l[1].local(), "10.0.0.1".parse::<Ipv4Addr>().unwrap());
        assert!(l[2].secondary);
        assert_eq!(
            insert(&mut l, a("192.168.150.100/24", "eth0")),
            Err(AddrError::Exists)
        );
        // a different mask is not a subnet mate: primary again
        insert(&mut l, a("192.168.150.100/32", "eth0")).unwrap();
        assert!(!l.iter().find(|x| x.prefix_len() == 32).unwrap().secondary);
    }

    #[test]
    fn deleting_primary_drops_or_promotes_secondaries() {
        let mut l = vec![];
        insert(&mut l, a("192.168.150.50/24", "eth0")).unwrap();
        insert(&mut l, a("192.168.150.51/24", "eth0")).unwrap();
        insert(&mut l, a("192.168.150.52/24", "eth0")).unwrap();
        let mut p = l.clone();
        let out = delete(&mut l, 0, false);
        assert_eq!(out.removed.len(), 3);
        assert!(l.is_empty());
        let out = delete(&mut p, 0, true);
        assert_eq!(out.promoted.unwrap().local().to_string(), "192.168.150.51");
        assert_eq!(p.len(), 2);
        assert!(!p[0].secondary && p[1].secondary);
    }

    #[test]
    fn a_typo_is_one_keystroke_and_a_neighbour_is_not() {
        let d = |a: &str, b: &str| typed_distance(a.parse().unwrap(), b.parse().unwrap());
        assert_eq!(d("192.178.150.100", "192.168.150.100"), 1);
        assert_eq!(d("192.168.105.100", "192.168.150.100"), 1, "a swap");
        assert_eq!(d("192.168.150.10", "192.168.150.100"), 1);
        assert_eq!(d("192.168.150.12", "192.168.150.100"), 2);
        assert_eq!(d("192.168.150.100", "192.168.150.100"), 0);
        let ifa = |ip: &str, label: &str| IfAddr {
            ifindex: 1,
            net: Ipv4Net::new(ip.parse().unwrap(), 32).unwrap(),
            broadcast: None,
            label: label.into(),
            scope: Scope::Host,
            secondary: false,
        };
        let addrs = [
            ifa("127.0.0.1", "lo"),
            ifa("192.168.150.12", "eth0"),
            ifa("192.178.150.100", "lo:2"),
        ];
        let vip = "192.168.150.100".parse().unwrap();
        assert_eq!(
            lookalike(addrs.iter(), vip).map(|a| a.label.as_str()),
            Some("lo:2")
        );
        assert!(lookalike(addrs[..2].iter(), vip).is_none());
    }
}
