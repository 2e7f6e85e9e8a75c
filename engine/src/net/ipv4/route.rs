//! Routing decisions (net/ipv4/route.c, fib_frontend.c, devinet.c).
//!
//! Linux does, and we model:
//! - `inet_select_addr()` and `inet_confirm_addr()`: which local address a
//!   host uses towards a destination, per scope and device.
//! - Routing of output (`ip_route_output_key`: local → loopback, source from
//!   prefsrc or `inet_select_addr`).
//! - `fib_validate_source()` for input: rp_filter and the "source is one of
//!   my addresses" rule; martian sources (`ip_route_input_slow()`).
//!
//! Left out: policy routing rules other than the local and main tables,
//! multipath, route caching.

use crate::net::host::Host;
use crate::net::ipv4::devinet::{IfAddr, Scope};
use crate::net::ipv4::fib::{FibError, RouteType, TABLE_LOCAL, TABLE_MAIN};
use crate::sim::trace::DropReason;
use std::net::Ipv4Addr;

/// The result of an output route lookup (`struct rtable` for output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutRoute {
    pub rtype: RouteType,
    /// Output device (the loopback for local destinations).
    pub ifindex: u32,
    pub gateway: Option<Ipv4Addr>,
    pub src: Ipv4Addr,
    /// Table and prefix that matched (for traces and `ip route get`).
    pub table: u32,
    pub prefix: ipnet::Ipv4Net,
}

/// Errors of the output path, with the errno userspace sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OutError {
    #[error(transparent)]
    Fib(#[from] FibError),
    /// EADDRNOTAVAIL: the requested source is not local.
    #[error("Cannot assign requested address")]
    BadSource,
}

/// `inet_confirm_addr()`/`confirm_addr_indev()` over one device's list.
pub(crate) fn confirm_addr_indev(
    list: &[IfAddr],
    dst: Option<Ipv4Addr>,
    local: Option<Ipv4Addr>,
    scope: Scope,
) -> Option<Ipv4Addr> {
    let mut addr: Option<Ipv4Addr> = None;
    let mut same = false;
    for ifa in list {
        let min_scope = ifa.scope.min(Scope::Host);
        if addr.is_none() && (local.is_none() || local == Some(ifa.local())) && min_scope <= scope {
            addr = Some(ifa.local());
            if same {
                break;
            }
        }
        if !same {
            same = local.is_none_or(|l| ifa.matches(l)) && dst.is_none_or(|d| ifa.matches(d));
            if same {
                if let Some(a) = addr {
                    if local.is_some() || dst.is_none() {
                        break;
                    }
                    if ifa.matches(a) {
                        break;
                    }
                    if min_scope <= scope {
                        addr = Some(ifa.local());
                        break;
                    }
                    same = false;
                }
            }
        }
    }
    if same {
        addr
    } else {
        None
    }
}

impl Host {
    /// `inet_select_addr(dev, dst, scope)`.
    pub fn select_addr(
        &self,
        ifindex: u32,
        dst: Option<Ipv4Addr>,
        scope: Scope,
    ) -> Option<Ipv4Addr> {
        let mut addr = None;
        if let Some(list) = self.addrs.get(&ifindex) {
            for ifa in list {
                if ifa.secondary || ifa.scope.min(Scope::Host) > scope {
                    continue;
                }
                if dst.is_none_or(|d| ifa.matches(d)) {
                    return Some(ifa.local());
                }
                if addr.is_none() {
                    addr = Some(ifa.local());
                }
            }
        }
        if addr.is_some() {
            return addr;
        }
        // Any device, loopback first: in_dev_select_addr().
        for list in self.addrs.values() {
            for ifa in list {
                if !ifa.secondary && ifa.scope.min(Scope::Host) <= scope && ifa.scope != Scope::Link
                {
                    return Some(ifa.local());
                }
            }
        }
        None
    }

    /// `inet_addr_type_dev_table()`: the type of `ip` in the local table.
    pub fn addr_type(&self, ip: Ipv4Addr) -> RouteType {
        if ip == Ipv4Addr::BROADCAST {
            return RouteType::Broadcast;
        }
        // __inet_dev_addr_type() looks in the local table, which without
        // custom rules is one trie with main (Fib::lookup_merged): a main
        // route more specific than a local one makes the address unicast,
        // and so does a reject route (its lookup fails).
        match self.fib.lookup_merged(ip, None, Scope::Global) {
            Some(r) if !r.rtype.is_reject() => r.rtype,
            _ => RouteType::Unicast,
        }
    }

    /// Output route lookup (`ip_route_output_key_hash_rcu`).
    pub fn route_output(
        &self,
        dst: Ipv4Addr,
        oif: Option<u32>,
        src: Option<Ipv4Addr>,
    ) -> Result<OutRoute, OutError> {
        if let Some(s) = src {
            if !s.is_unspecified() && self.addr_type(s) != RouteType::Local {
                return Err(OutError::BadSource);
            }
        }
        // __ip_route_output_key(): an output device that is down (or has
        // no IPv4 configuration) is ENETUNREACH before any lookup.
        if let Some(o) = oif {
            if self.device(o).is_none_or(|d| !d.up) {
                return Err(FibError::NetUnreachable.into());
            }
        }
        let lookup = self.fib.lookup(dst, oif);
        let r = match lookup {
            Ok(r) => r.route,
            Err(FibError::NetUnreachable) if oif.is_some() => {
                // "Apparently, routing tables are wrong. Assume, that the
                // destination is on link."
                let oif = oif.expect("checked");
                let s = src
                    .filter(|s| !s.is_unspecified())
                    .or_else(|| self.select_addr(oif, None, Scope::Link));
                return Ok(OutRoute {
                    rtype: RouteType::Unicast,
                    ifindex: oif,
                    gateway: None,
                    src: s.unwrap_or(Ipv4Addr::UNSPECIFIED),
                    table: TABLE_MAIN,
                    prefix: ipnet::Ipv4Net::default(),
                });
            }
            Err(e) => return Err(e.into()),
        };
        let mut ifindex = r.ifindex.unwrap_or(1);
        if r.rtype == RouteType::Local {
            // Local destinations go through the loopback device; the source
            // is the route's prefsrc, else the destination itself.
            let s = src
                .filter(|s| !s.is_unspecified())
                .or(r.prefsrc)
                .unwrap_or(dst);
            ifindex = 1;
            return Ok(OutRoute {
                rtype: r.rtype,
                ifindex,
                gateway: None,
                src: s,
                table: r.table,
                prefix: r.dst,
            });
        }
        let s = match src.filter(|s| !s.is_unspecified()) {
            Some(s) => s,
            None => r
                .prefsrc
                // fib_info_update_nhc_saddr(): inet_select_addr() on the
                // nexthop's device towards its gateway.
                .or_else(|| self.select_addr(ifindex, r.gateway, r.scope))
                .unwrap_or(Ipv4Addr::UNSPECIFIED),
        };
        if let Some(o) = oif {
            ifindex = o;
        }
        Ok(OutRoute {
            rtype: r.rtype,
            ifindex,
            // rt_set_nexthop(): only a link-scope nexthop's gateway.
            gateway: r.gateway.filter(|_| !r.gw_local),
            src: s,
            table: r.table,
            prefix: r.dst,
        })
    }

    /// `fib_validate_source()`: Ok(()) when a packet from `src` arriving on
    /// `ifindex` is acceptable, Err with the reason otherwise. With
    /// rp_filter off (and no custom local routes) Linux only refuses a
    /// source that is exactly one of its own interface addresses
    /// (`inet_lookup_ifaddr_rcu`); otherwise it does the full reverse lookup
    /// (`__fib_validate_source`): the route back must be unicast (local
    /// only with accept_local) and, for rp_filter=1, leave by `ifindex`.
    pub fn validate_source(&self, src: Ipv4Addr, ifindex: u32) -> Result<(), DropReason> {
        let dev = self.dev_name(ifindex);
        let rpf = self
            .sysctl
            .effective(dev, crate::net::ipv4::devconf::Knob::RpFilter);
        let accept_local = self
            .sysctl
            .effective(dev, crate::net::ipv4::devconf::Knob::AcceptLocal)
            != 0;
        if rpf == 0 && !self.fib.custom_local_routes {
            if accept_local || !self.all_addrs().any(|a| a.local() == src) {
                return Ok(());
            }
            return Err(DropReason::MartianSource);
        }
        match self.fib.lookup(src, None) {
            Ok(res) => {
                let r = res.route;
                if r.rtype != RouteType::Unicast && (r.rtype != RouteType::Local || !accept_local) {
                    return Err(DropReason::MartianSource);
                }
                if rpf == 1 && r.ifindex != Some(ifindex) {
                    return Err(DropReason::RpFilter);
                }
                Ok(())
            }
            Err(_) => {
                if rpf != 0 {
                    Err(DropReason::RpFilter)
                } else {
                    Ok(())
                }
            }
        }
    }

    pub(crate) fn next_ident(&mut self) -> u16 {
        self.ip_ident = self.ip_ident.wrapping_add(1);
        self.ip_ident
    }
}

pub(crate) fn is_martian_source(ip: Ipv4Addr) -> bool {
    ip.is_multicast() || ip == Ipv4Addr::BROADCAST || ip.octets()[0] == 0 || ip.is_loopback()
}

pub fn table_name(id: u32) -> String {
    TableName(id).to_string()
}

/// A routing table as `ip route` names it (iproute2's `rt_tables`: 255
/// local, 254 main, 253 default, any other by its number). The trace keeps
/// the number and writes the name only when it is shown or serialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableName(pub u32);

impl std::fmt::Display for TableName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            TABLE_LOCAL => f.write_str("local"),
            TABLE_MAIN => f.write_str("main"),
            253 => f.write_str("default"),
            n => write!(f, "{n}"),
        }
    }
}

impl serde::Serialize for TableName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for TableName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "local" => Ok(TableName(TABLE_LOCAL)),
            "main" => Ok(TableName(TABLE_MAIN)),
            "default" => Ok(TableName(253)),
            n => n
                .parse()
                .map(TableName)
                .map_err(|_| serde::de::Error::custom(format!("not a routing table: {n:?}"))),
        }
    }
}
