//! The IPv4 forwarding information base (net/ipv4/fib_frontend.c, fib_trie.c,
//! fib_rules.c).
//!
//! Linux looks a destination up through its policy rules — by default
//! `0: lookup local`, `32766: lookup main`, `32767: lookup default` — and in
//! each table takes the longest matching prefix. Addresses install routes
//! themselves (`fib_add_ifaddr()`): `local ADDR/32` in the local table, the
//! subnet broadcast `broadcast PREFIX|~MASK` (for prefixes shorter than /31)
//! and the prefix route — `unicast` in main for an ordinary device, but
//! **`local` in the local table when the device is a loopback**. That last
//! rule is why a VIP on `lo` must be /32: `192.168.150.100/24` on `lo` makes
//! every address of the LAN local to the real server. We model the three
//! tables, the default rules, route types unicast/local/broadcast/blackhole/
//! unreachable/prohibit/throw, gateways, prefsrc, metrics and scopes.
//! Left out on purpose: policy rules other than the defaults, multipath,
//! TOS-keyed routes, route caching and exceptions (PMTU, redirects).

use crate::net::ipv4::devinet::Scope;
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::Ipv4Addr;

/// Routing table ids (`enum rt_class_t`).
pub const TABLE_DEFAULT: u32 = 253;
pub const TABLE_MAIN: u32 = 254;
pub const TABLE_LOCAL: u32 = 255;

/// Route types (`RTN_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteType {
    Unicast,
    Local,
    Broadcast,
    Blackhole,
    Unreachable,
    Prohibit,
    Throw,
}

impl RouteType {
    pub fn name(self) -> &'static str {
        match self {
            RouteType::Unicast => "unicast",
            RouteType::Local => "local",
            RouteType::Broadcast => "broadcast",
            RouteType::Blackhole => "blackhole",
            RouteType::Unreachable => "unreachable",
            RouteType::Prohibit => "prohibit",
            RouteType::Throw => "throw",
        }
    }
    pub fn parse(s: &str) -> Option<RouteType> {
        Some(match s {
            "unicast" => RouteType::Unicast,
            "local" => RouteType::Local,
            "broadcast" => RouteType::Broadcast,
            "blackhole" => RouteType::Blackhole,
            "unreachable" => RouteType::Unreachable,
            "prohibit" => RouteType::Prohibit,
            "throw" => RouteType::Throw,
            _ => return None,
        })
    }
    /// Types that have no device (`fib_props[type].error != 0`).
    pub fn is_reject(self) -> bool {
        matches!(
            self,
            RouteType::Blackhole | RouteType::Unreachable | RouteType::Prohibit | RouteType::Throw
        )
    }
}

/// `rtm_protocol`: who installed the route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    /// Installed by the kernel for an address (`proto kernel`).
    Kernel,
    /// Installed by an administrator (`proto boot`, iproute2's default).
    Boot,
    Static,
}

impl Proto {
    pub fn name(self) -> &'static str {
        match self {
            Proto::Kernel => "kernel",
            Proto::Boot => "boot",
            Proto::Static => "static",
        }
    }
}

/// One route (`struct fib_alias` + `struct fib_info`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub table: u32,
    pub rtype: RouteType,
    pub dst: Ipv4Net,
    pub gateway: Option<Ipv4Addr>,
    /// Output device; `None` only for reject types.
    pub ifindex: Option<u32>,
    pub prefsrc: Option<Ipv4Addr>,
    pub scope: Scope,
    pub proto: Proto,
    pub metric: u32,
    /// The gateway is one of the host's own addresses: the nexthop's scope
    /// is host (`fib_check_nh_v4_gw()` found a local route), and
    /// `rt_set_nexthop()` uses a gateway only of link scope, so packets go
    /// to their destination directly on the nexthop's device.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub gw_local: bool,
}

impl Route {
    /// Does this route match `(table, type, dst, ifindex, prefsrc)`? Used for
    /// the kernel's own deletions (`fib_magic(RTM_DELROUTE, …)`).
    pub(crate) fn same_kernel_route(&self, other: &Route) -> bool {
        self.table == other.table
            && self.rtype == other.rtype
            && self.dst == other.dst
            && self.ifindex == other.ifindex
            && self.prefsrc == other.prefsrc
    }
}

/// The outcome of a lookup (`struct fib_result`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FibResult {
    pub route: Route,
}

/// Why a lookup found nothing usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum FibError {
    /// ENETUNREACH: no route in any table.
    #[error("Network is unreachable")]
    NetUnreachable,
    /// EHOSTUNREACH: an `unreachable` route.
    #[error("No route to host")]
    HostUnreachable,
    /// EACCES: a `prohibit` route.
    #[error("Permission denied")]
    Prohibited,
    /// EINVAL: a `blackhole` route.
    #[error("Invalid argument")]
    Blackhole,
}

/// All routing tables of one host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fib {
    /// Every route of every table, kept in the order `ip route show` dumps
    /// them: by table, then by destination key, longer prefixes first, then
    /// lower metric first (`fib_find_alias()` orders a leaf's aliases by
    /// priority), then insertion order (`ip route append`).
    routes: Vec<Route>,
    /// Set once an administrator adds a `local` route: from then on source
    /// validation always does the full reverse lookup.
    #[serde(default)]
    pub custom_local_routes: bool,
}

/// The order of `Fib::routes` (see there).
pub(crate) fn sort_key(r: &Route) -> (u32, u32, u8, u32) {
    (
        r.table,
        u32::from(r.dst.network()),
        32 - r.dst.prefix_len(),
        r.metric,
    )
}

impl Fib {
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    pub fn table(&self, id: u32) -> impl Iterator<Item = &Route> {
        self.routes.iter().filter(move |r| r.table == id)
    }

    /// Insert; an identical route (same table, dst, type, metric and next
    /// hop) is EEXIST, as `fib_table_insert()` with NLM_F_EXCL.
    pub fn insert(&mut self, r: Route) -> Result<(), RouteInsertError> {
        if r.rtype == RouteType::Local && r.proto != Proto::Kernel {
            // fib_table_insert(): `net->ipv4.fib_has_custom_local_routes = true`
            self.custom_local_routes = true;
        }
        // Routes that could be the same one share a sort key and lie
        // together: look only there (a binary search, so loading a table
        // of n routes is n log n, not n²).
        let k = sort_key(&r);
        let from = self.routes.partition_point(|x| sort_key(x) < k);
        let at = from + self.routes[from..].partition_point(|x| sort_key(x) <= k);
        if self.routes[from..at].iter().any(|x| {
            x.table == r.table
                && x.dst == r.dst
                && x.metric == r.metric
                && (x.rtype == r.rtype
                    || x.rtype != RouteType::Local && r.rtype != RouteType::Local)
                && (r.proto != Proto::Kernel
                    || (x.ifindex == r.ifindex && x.prefsrc == r.prefsrc && x.rtype == r.rtype))
        }) {
            return Err(RouteInsertError::Exists);
        }
        self.routes.insert(at, r);
        Ok(())
    }

    /// The kernel adding a route for an address: duplicates are silently
    /// ignored (NLM_F_APPEND finds the identical alias and stops).
    pub(crate) fn kernel_add(&mut self, r: Route) {
        if !self.routes.iter().any(|x| x.same_kernel_route(&r)) {
            let _ = self.insert(r);
        }
    }

    pub(crate) fn kernel_del(&mut self, r: &Route) {
        if let Some(i) = self.routes.iter().position(|x| x.same_kernel_route(r)) {
            self.routes.remove(i);
        }
    }

    /// Keep only the routes matching a predicate (device down, flush).
    pub fn retain(&mut self, f: impl FnMut(&Route) -> bool) {
        self.routes.retain(f);
    }

    /// Delete the first route matching an administrator's `ip route del` spec.
    pub fn delete(&mut self, spec: &RouteSpec) -> Result<Route, RouteDeleteError> {
        let pos = self.routes.iter().position(|r| spec.matches(r));
        match pos {
            Some(i) => Ok(self.routes.remove(i)),
            None => Err(RouteDeleteError::NoSuchProcess),
        }
    }

    /// Longest-prefix match in one table (`fib_table_lookup()`); among equal
    /// prefixes the lowest metric wins, then insertion order. `oif`
    /// restricts to routes through that device (used with `-I`/`oif`).
    /// A large table is searched as the kernel's trie would be, prefix
    /// length by prefix length, longest first: the routes are kept sorted,
    /// so each length is a binary search (the doctor asks once per
    /// service and real server: 10,000 services on 200,000 routes).
    pub fn lookup_table(&self, table: u32, dst: Ipv4Addr, oif: Option<u32>) -> Option<&Route> {
        self.lookup_table_scoped(table, dst, oif, Scope::Global)
    }

    /// [`Fib::lookup_table`] among the routes of at least `scope`
    /// (`fib_table_lookup()` skips an alias whose `fib_scope` is below the
    /// flow's `flowi4_scope`).
    fn lookup_table_scoped(
        &self,
        table: u32,
        dst: Ipv4Addr,
        oif: Option<u32>,
        scope: Scope,
    ) -> Option<&Route> {
        let via = |r: &&Route| {
            r.scope >= scope
                && match (oif, r.ifindex) {
                    (None, _) => true,
                    (Some(o), Some(i)) => o == i,
                    (Some(_), None) => true,
                }
        };
        if self.routes.len() <= 32 {
            return self
                .routes
                .iter()
                .filter(|r| r.table == table && r.dst.contains(&dst))
                .filter(via)
                .min_by_key(|r| (32 - r.dst.prefix_len(), r.metric));
        }
        let d = u32::from(dst);
        (0..=32u8).rev().find_map(|len| {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            let key = (table, d & mask, 32 - len);
            let from = self
                .routes
                .partition_point(|x| sort_key(x) < (key.0, key.1, key.2, 0));
            self.routes[from..]
                .iter()
                .take_while(|x| {
                    let k = sort_key(x);
                    (k.0, k.1, k.2) == key
                })
                .find(via)
        })
    }

    /// Full policy lookup through the default rules (`fib_lookup()`).
    pub fn lookup(&self, dst: Ipv4Addr, oif: Option<u32>) -> Result<FibResult, FibError> {
        self.lookup_scoped(dst, oif, Scope::Global)
    }

    /// The local and main tables as the one trie they are without custom
    /// rules: the longest prefix over both, local first on a tie.
    pub fn lookup_merged(&self, dst: Ipv4Addr, oif: Option<u32>, scope: Scope) -> Option<&Route> {
        if self.routes.len() <= 32 {
            // One walk: longest prefix, then local before main, then the
            // lowest metric, then the first added.
            return self
                .routes
                .iter()
                .filter(|r| {
                    (r.table == TABLE_LOCAL || r.table == TABLE_MAIN)
                        && r.scope >= scope
                        && r.dst.contains(&dst)
                        && match (oif, r.ifindex) {
                            (Some(o), Some(i)) => o == i,
                            _ => true,
                        }
                })
                .min_by_key(|r| (32 - r.dst.prefix_len(), r.table != TABLE_LOCAL, r.metric));
        }
        let local = self.lookup_table_scoped(TABLE_LOCAL, dst, oif, scope);
        let main = self.lookup_table_scoped(TABLE_MAIN, dst, oif, scope);
        match (local, main) {
            (Some(l), Some(m)) if m.dst.prefix_len() > l.dst.prefix_len() => Some(m),
            (l, m) => l.or(m),
        }
    }

    /// [`Fib::lookup`] for a flow of `scope`: what `fib_check_nh_v4_gw()`
    /// asks for a gateway (`flowi4_scope` at least RT_SCOPE_LINK, so only
    /// on-link and local routes can answer).
    pub fn lookup_scoped(
        &self,
        dst: Ipv4Addr,
        oif: Option<u32>,
        scope: Scope,
    ) -> Result<FibResult, FibError> {
        // Without custom rules (the lab has none: `ip rule` only lists the
        // defaults) the local and main tables share one trie
        // (fib_trie_table() makes main an alias of local; fib_unmerge()
        // splits them when a rule is added), so fib_lookup() takes the
        // longest prefix over both, and on the same prefix the local
        // table's alias (fib_find_alias() orders a leaf by table id,
        // highest first). A /22 on lo does not capture the LAN's /24.
        let merged = self.lookup_merged(dst, oif, scope);
        let default = || self.lookup_table_scoped(TABLE_DEFAULT, dst, oif, scope);
        for r in [merged, default()].into_iter().flatten() {
            {
                return match r.rtype {
                    RouteType::Throw => continue,
                    RouteType::Unreachable => Err(FibError::HostUnreachable),
                    RouteType::Prohibit => Err(FibError::Prohibited),
                    RouteType::Blackhole => Err(FibError::Blackhole),
                    _ => Ok(FibResult { route: r.clone() }),
                };
            }
        }
        Err(FibError::NetUnreachable)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RouteInsertError {
    #[error("File exists")]
    Exists,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RouteDeleteError {
    #[error("No such process")]
    NoSuchProcess,
}

/// The selectors of `ip route del` (unset fields match anything).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteSpec {
    pub table: u32,
    pub dst: Option<Ipv4Net>,
    pub rtype: Option<RouteType>,
    pub gateway: Option<Ipv4Addr>,
    pub ifindex: Option<u32>,
    pub metric: Option<u32>,
    pub prefsrc: Option<Ipv4Addr>,
}

impl RouteSpec {
    pub fn matches(&self, r: &Route) -> bool {
        r.table == self.table
            && self.dst.is_none_or(|d| d == r.dst)
            && self.rtype.is_none_or(|t| t == r.rtype)
            && self.gateway.is_none_or(|g| Some(g) == r.gateway)
            && self.ifindex.is_none_or(|i| Some(i) == r.ifindex)
            && self.metric.is_none_or(|m| m == r.metric)
            && self.prefsrc.is_none_or(|s| Some(s) == r.prefsrc)
    }
}

impl fmt::Display for RouteType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(table: u32, t: RouteType, dst: &str, ifindex: u32) -> Route {
        Route {
            table,
            rtype: t,
            dst: dst.parse().unwrap(),
            gateway: None,
            ifindex: Some(ifindex),
            prefsrc: None,
            scope: Scope::Link,
            proto: Proto::Kernel,
            metric: 0,
            gw_local: false,
        }
    }

    #[test]
    fn local_table_wins_over_main_on_the_same_prefix() {
        let mut fib = Fib::default();
        fib.kernel_add(route(TABLE_MAIN, RouteType::Unicast, "192.168.150.0/24", 2));
        fib.kernel_add(route(TABLE_LOCAL, RouteType::Local, "192.168.150.0/24", 1));
        let got = fib.lookup("192.168.150.1".parse().unwrap(), None).unwrap();
        assert_eq!(got.route.rtype, RouteType::Local);
        assert_eq!(got.route.ifindex, Some(1));
    }

    /// Local and main are one trie: a shorter local prefix (an address
    /// /22 on lo) loses to main's longer one (conformance 100-lo-short-prefix).
    #[test]
    fn the_longest_prefix_wins_across_local_and_main() {
        let mut fib = Fib::default();
        fib.kernel_add(route(TABLE_MAIN, RouteType::Unicast, "192.168.150.0/24", 2));
        fib.kernel_add(route(TABLE_LOCAL, RouteType::Local, "192.168.148.0/22", 1));
        let got = fib.lookup("192.168.150.13".parse().unwrap(), None).unwrap();
        assert_eq!(
            (got.route.rtype, got.route.ifindex),
            (RouteType::Unicast, Some(2))
        );
        let got = fib.lookup("192.168.149.1".parse().unwrap(), None).unwrap();
        assert_eq!(
            (got.route.rtype, got.route.ifindex),
            (RouteType::Local, Some(1))
        );
    }

    /// The lookup of a large table (by prefix length) picks what a walk
    /// over every route picks: longest prefix, lowest metric, first added.
    #[test]
    fn large_tables_are_searched_like_a_walk_over_every_route() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u32| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % u64::from(n)) as u32
        };
        let mut fib = Fib::default();
        for _ in 0..600 {
            let len = [0, 8, 16, 24, 28, 30, 32][next(7) as usize];
            let addr = 0x0a00_0000 | next(1 << 12) << 8 | next(256);
            let mut r = route(
                [TABLE_MAIN, TABLE_LOCAL][next(2) as usize],
                RouteType::Unicast,
                &format!("{}/{len}", Ipv4Addr::from(addr)),
                1 + next(3),
            );
            r.metric = next(3);
            r.proto = Proto::Boot;
            r.gateway = Some(Ipv4Addr::from(next(u32::MAX)));
            let _ = fib.insert(r);
        }
        assert!(fib.routes().len() > 400);
        for _ in 0..5000 {
            let dst = Ipv4Addr::from(0x0a00_0000 | next(1 << 12) << 8 | next(256));
            let oif = [None, Some(1), Some(2), Some(4)][next(4) as usize];
            for table in [TABLE_MAIN, TABLE_LOCAL] {
                let walk = fib
                    .routes()
                    .iter()
                    .filter(|r| r.table == table && r.dst.contains(&dst))
                    .filter(|r| oif.is_none() || r.ifindex == oif)
                    .min_by_key(|r| (32 - r.dst.prefix_len(), r.metric));
                assert_eq!(fib.lookup_table(table, dst, oif), walk, "{dst} {oif:?}");
            }
        }
    }

    #[test]
    fn longest_prefix_and_dump_order() {
        let mut fib = Fib::default();
        fib.kernel_add(route(TABLE_MAIN, RouteType::Unicast, "0.0.0.0/0", 2));
        fib.kernel_add(route(TABLE_MAIN, RouteType::Unicast, "10.0.0.0/8", 3));
        fib.kernel_add(route(TABLE_MAIN, RouteType::Unicast, "10.0.0.0/16", 4));
        let got = fib.lookup("10.0.1.1".parse().unwrap(), None).unwrap();
        assert_eq!(got.route.ifindex, Some(4));
        let order: Vec<_> = fib.routes().iter().map(|r| r.dst.to_string()).collect();
        assert_eq!(order, ["0.0.0.0/0", "10.0.0.0/16", "10.0.0.0/8"]);
        assert_eq!(
            fib.lookup("11.0.0.1".parse().unwrap(), Some(9)),
            Err(FibError::NetUnreachable)
        );
    }
}
