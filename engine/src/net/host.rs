//! A Linux host: devices, addresses, routes, sysctls (one network namespace).
//!
//! The kernel reacts to address and link changes through notifiers
//! (`inetaddr_chain`, `netdev_chain`); `fib_inetaddr_event()` and
//! `fib_netdev_event()` add and remove the routes an address implies. This
//! module performs the same reactions synchronously, so the FIB is always
//! what `ip route show table all` would print on a real host.

use crate::net::core::dev::{Device, DeviceKind};
use crate::net::core::neighbour::NeighTable;
use crate::net::ipv4::devconf::Sysctls;
use crate::net::ipv4::devinet::{self, AddrError, IfAddr, Scope};
use crate::net::ipv4::fib::{Fib, Proto, Route, RouteType, TABLE_LOCAL, TABLE_MAIN};
use crate::net::ipv4::tcp::TcpTable;
use crate::util::vecmap::VecMap;
use crate::wire::mac::Mac;
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Host {
    pub name: String,
    /// Devices by ifindex.
    pub devices: VecMap<u32, Device>,
    /// Each device's IPv4 addresses in kernel list order.
    pub addrs: VecMap<u32, Vec<IfAddr>>,
    pub fib: Fib,
    pub sysctl: Sysctls,
    pub neigh: NeighTable,
    /// Next IPv4 identification for packets without DF.
    #[serde(default)]
    pub ip_ident: u16,
    /// TCP sockets.
    #[serde(default)]
    pub tcp: TcpTable,
    /// Plain files (path → content): /var/www/html/index.html and the like.
    #[serde(default)]
    pub files: VecMap<String, String>,
    /// The IPVS table of this host.
    #[serde(default)]
    pub ipvs: crate::net::netfilter::ipvs::Ipvs,
    /// UDP sockets opened so far (picks the next ephemeral port).
    #[serde(default)]
    pub udp_ports: u16,
    /// iptables' mangle table (fwmark rules).
    #[serde(default)]
    pub mangle: crate::net::netfilter::Mangle,
    /// Capture files `tcpdump -w` wrote (path → frames), for `tcpdump -r`.
    #[serde(default)]
    pub captures: VecMap<String, Vec<crate::apps::tcpdump::Captured>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    #[error("Cannot find device \"{0}\"")]
    NoDevice(String),
    #[error("device {0} already exists")]
    DeviceExists(String),
    #[error(transparent)]
    Addr(#[from] AddrError),
}

impl Host {
    /// A fresh namespace: only `lo`, down, no addresses (like `ip netns add`).
    pub fn new(name: &str) -> Host {
        let mut h = Host {
            name: name.into(),
            devices: VecMap::new(),
            addrs: VecMap::new(),
            fib: Fib::default(),
            sysctl: Sysctls::default(),
            neigh: NeighTable::with_seed(name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            })),
            ip_ident: 0,
            tcp: TcpTable::new(
                name.bytes()
                    .fold(7u16, |a, b| a.wrapping_mul(31).wrapping_add(u16::from(b))),
            ),
            files: VecMap::new(),
            captures: VecMap::new(),
            ipvs: crate::net::netfilter::ipvs::Ipvs::default(),
            udp_ports: 0,
            mangle: Default::default(),
        };
        h.insert_device(Device::loopback());
        h
    }

    fn insert_device(&mut self, d: Device) {
        self.sysctl.add_device(&d.name);
        self.addrs.insert(d.ifindex, Vec::new());
        self.devices.insert(d.ifindex, d);
    }

    /// Next free ifindex (`dev_index_reserve()` takes the lowest free one above the last).
    fn next_ifindex(&self) -> u32 {
        self.devices.keys().next_back().copied().unwrap_or(0) + 1
    }

    pub fn add_device(&mut self, kind: DeviceKind, name: &str, mac: Mac) -> Result<u32, HostError> {
        if self.device_by_name(name).is_some() {
            return Err(HostError::DeviceExists(name.into()));
        }
        let idx = self.next_ifindex();
        let d = match kind {
            DeviceKind::Loopback => return Err(HostError::DeviceExists("lo".into())),
            DeviceKind::Ether => Device::ether(idx, name, mac),
            DeviceKind::Dummy => Device::dummy(idx, name, mac),
            DeviceKind::Ipip => Device::ipip_fallback(idx),
        };
        self.insert_device(d);
        Ok(idx)
    }

    /// `modprobe ipip`: the module's per-namespace init creates the fallback
    /// tunnel `tunl0`, down; loading it again changes nothing. Returns
    /// true when tunl0 was created now.
    pub fn load_ipip(&mut self) -> bool {
        if self
            .devices
            .values()
            .any(|d| d.kind == DeviceKind::Ipip && d.name == "tunl0")
        {
            return false;
        }
        let idx = self.next_ifindex();
        self.insert_device(Device::ipip_fallback(idx));
        true
    }

    /// The fallback IPIP tunnel, when `ipip` is loaded.
    pub fn tunl0(&self) -> Option<&Device> {
        self.devices
            .values()
            .find(|d| d.kind == DeviceKind::Ipip && d.name == "tunl0")
    }

    /// `ip link del`: the device, its addresses, routes and neighbours go.
    pub fn remove_device(&mut self, ifindex: u32) {
        if let Some(d) = self.devices.remove(&ifindex) {
            self.addrs.remove(&ifindex);
            self.fib.retain(|r| r.ifindex != Some(ifindex));
            self.neigh.ifdown(ifindex);
            self.sysctl.remove_device(&d.name);
        }
    }

    pub fn device(&self, ifindex: u32) -> Option<&Device> {
        self.devices.get(&ifindex)
    }

    pub fn device_by_name(&self, name: &str) -> Option<&Device> {
        self.devices.values().find(|d| d.name == name)
    }

    pub fn ifindex(&self, name: &str) -> Result<u32, HostError> {
        self.device_by_name(name)
            .map(|d| d.ifindex)
            .ok_or_else(|| HostError::NoDevice(name.into()))
    }

    pub fn dev_name(&self, ifindex: u32) -> &str {
        self.devices
            .get(&ifindex)
            .map(|d| d.name.as_str())
            .unwrap_or("?")
    }

    /// All addresses of all devices, in `ip addr` order.
    pub fn all_addrs(&self) -> impl Iterator<Item = &IfAddr> {
        self.addrs.values().flatten()
    }

    /// Is `ip` one of this host's own addresses (type `local` in the FIB)?
    pub fn is_local(&self, ip: Ipv4Addr) -> bool {
        self.fib
            .lookup_table(TABLE_LOCAL, ip, None)
            .is_some_and(|r| r.rtype == RouteType::Local)
    }

    /// `ip link set DEV up|down` / `ifconfig DEV up|down`.
    pub fn set_link(&mut self, ifindex: u32, up: bool) {
        let Some(d) = self.devices.get_mut(&ifindex) else {
            return;
        };
        if d.up == up {
            return;
        }
        d.up = up;
        if up {
            d.qdisc_attached = true;
        }
        if up {
            // NETDEV_UP: fib_add_ifaddr() for every address of the device.
            let list = self.addrs.get(&ifindex).cloned().unwrap_or_default();
            for ifa in &list {
                self.fib_add_ifaddr(ifa);
            }
        } else {
            // NETDEV_DOWN: fib_disable_ip() -> fib_sync_down_dev(): every
            // route through the device dies except the `local` routes of
            // its addresses (scope-host nexthops are not marked dead: they
            // belong to the host, not the link; `lo` included).
            self.neigh.ifdown(ifindex);
            self.fib
                .retain(|r| r.ifindex != Some(ifindex) || r.rtype == RouteType::Local);
        }
    }

    /// Add an address (`ip addr add`, `ifconfig`): kernel insert + routes.
    pub fn add_addr(&mut self, ifindex: u32, ifa: IfAddr) -> Result<(), HostError> {
        let list = self
            .addrs
            .get_mut(&ifindex)
            .ok_or_else(|| HostError::NoDevice(ifindex.to_string()))?;
        let at = devinet::insert(list, ifa)?;
        let ifa = list[at].clone();
        self.fib_add_ifaddr(&ifa);
        Ok(())
    }

    /// Delete the address at `idx` of `ifindex` (`inet_del_ifa()`).
    pub fn del_addr(&mut self, ifindex: u32, idx: usize) -> Vec<IfAddr> {
        let dev_name = self.dev_name(ifindex).to_string();
        let promote = self.sysctl.effective(
            &dev_name,
            crate::net::ipv4::devconf::Knob::PromoteSecondaries,
        ) != 0;
        let Some(list) = self.addrs.get_mut(&ifindex) else {
            return vec![];
        };
        if idx >= list.len() {
            return vec![];
        }
        let out = devinet::delete(list, idx, promote);
        let now_empty = list.is_empty();
        for gone in out.removed.iter().rev() {
            self.fib_del_ifaddr(ifindex, gone);
        }
        if now_empty {
            // "Last address was deleted from this interface. Disable IP."
            // (fib_inetaddr_event -> fib_disable_ip(dev, force)): every
            // route through the device goes, and its neighbours.
            self.fib.retain(|r| r.ifindex != Some(ifindex));
            self.neigh.ifdown(ifindex);
        }
        if let Some(p) = &out.promoted {
            // The promoted address gets its own prefix routes; every
            // secondary of the subnet re-announces itself with the new primary as prefsrc.
            let old_src = out.removed[0].local();
            let stale = self.local_route(ifindex, p.local(), old_src);
            self.fib.kernel_del(&stale);
            self.fib_add_ifaddr(p);
            let mates: Vec<IfAddr> = self.addrs[&ifindex]
                .iter()
                .filter(|a| a.secondary && a.same_subnet(p))
                .cloned()
                .collect();
            for m in &mates {
                let old_local = Route {
                    prefsrc: Some(out.removed[0].local()),
                    ..self.local_route(ifindex, m.local(), out.removed[0].local())
                };
                self.fib.kernel_del(&old_local);
                self.fib_add_ifaddr(m);
            }
        }
        out.removed
    }

    /// The primary that owns `ifa`'s subnet (`inet_ifa_byprefix()`).
    fn primary_for(&self, ifindex: u32, ifa: &IfAddr) -> Option<IfAddr> {
        if !ifa.secondary {
            return Some(ifa.clone());
        }
        self.addrs
            .get(&ifindex)?
            .iter()
            .find(|a| !a.secondary && a.same_subnet(ifa))
            .cloned()
    }

    fn local_route(&self, ifindex: u32, addr: Ipv4Addr, src: Ipv4Addr) -> Route {
        Route {
            table: TABLE_LOCAL,
            rtype: RouteType::Local,
            dst: Ipv4Net::new(addr, 32).expect("32 is a valid prefix"),
            gateway: None,
            ifindex: Some(ifindex),
            prefsrc: Some(src),
            scope: Scope::Host,
            proto: Proto::Kernel,
            metric: 0,
            gw_local: false,
        }
    }

    /// The routes `fib_add_ifaddr()` installs for one address.
    fn ifaddr_routes(&self, ifa: &IfAddr) -> Vec<Route> {
        let ifindex = ifa.ifindex;
        let Some(prim) = self.primary_for(ifindex, ifa) else {
            return vec![];
        };
        let Some(dev) = self.devices.get(&ifindex) else {
            return vec![];
        };
        let src = prim.local();
        let mut out = vec![self.local_route(ifindex, ifa.local(), src)];
        if !dev.up {
            return out;
        }
        let mk = |table, rtype, dst: Ipv4Net, scope| Route {
            table,
            rtype,
            dst,
            gateway: None,
            ifindex: Some(ifindex),
            prefsrc: Some(src),
            scope,
            proto: Proto::Kernel,
            metric: 0,
            gw_local: false,
        };
        let host32 = |a: Ipv4Addr| Ipv4Net::new(a, 32).expect("32 is a valid prefix");
        if let Some(b) = ifa.broadcast {
            if b != Ipv4Addr::BROADCAST && b != Ipv4Addr::UNSPECIFIED {
                out.push(mk(
                    TABLE_LOCAL,
                    RouteType::Broadcast,
                    host32(b),
                    Scope::Link,
                ));
            }
        }
        let prefix = ifa.net.trunc();
        let zeronet = prefix.network().octets()[0] == 0;
        if !zeronet && !ifa.secondary && (prefix.network() != ifa.local() || ifa.prefix_len() < 32)
        {
            if dev.is_loopback() {
                out.push(mk(TABLE_LOCAL, RouteType::Local, prefix, Scope::Host));
            } else {
                out.push(mk(TABLE_MAIN, RouteType::Unicast, prefix, Scope::Link));
            }
            if ifa.prefix_len() < 31 {
                out.push(mk(
                    TABLE_LOCAL,
                    RouteType::Broadcast,
                    host32(prefix.broadcast()),
                    Scope::Link,
                ));
            }
        }
        out
    }

    fn fib_add_ifaddr(&mut self, ifa: &IfAddr) {
        for r in self.ifaddr_routes(ifa) {
            self.fib.kernel_add(r);
        }
    }

    /// `fib_del_ifaddr()`: remove what `ifa` installed unless an address still
    /// on the device (with the same prefsrc) installs the same route.
    fn fib_del_ifaddr(&mut self, ifindex: u32, gone: &IfAddr) {
        // Compute what `gone` had installed, as if it were still present and
        // the device in its current state.
        let mut probe = self.clone();
        if let Some(l) = probe.addrs.get_mut(&ifindex) {
            l.push(gone.clone());
        }
        let mut gone_routes = probe.ifaddr_routes(gone);
        if gone.secondary {
            // Its primary may already be gone; fall back to its own address.
            if probe.primary_for(ifindex, gone).is_none() {
                gone_routes = vec![self.local_route(ifindex, gone.local(), gone.local())];
            }
        }
        let still: Vec<Route> = self
            .addrs
            .get(&ifindex)
            .into_iter()
            .flatten()
            .flat_map(|a| self.ifaddr_routes(a))
            .collect();
        for r in gone_routes {
            if !still.iter().any(|s| s.same_kernel_route(&r)) {
                self.fib.kernel_del(&r);
            }
        }
        // fib_sync_down_addr(): routes preferring the vanished source die too.
        if !self.all_addrs().any(|a| a.local() == gone.local()) {
            let l = gone.local();
            self.fib
                .retain(|r| r.proto == Proto::Kernel || r.prefsrc != Some(l));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ifa(host: &Host, dev: &str, net: &str, label: &str) -> IfAddr {
        IfAddr {
            ifindex: host.ifindex(dev).unwrap(),
            net: net.parse().unwrap(),
            broadcast: None,
            label: label.into(),
            scope: Scope::Global,
            secondary: false,
        }
    }

    #[test]
    fn vip_on_lo_with_24_makes_the_whole_lan_local() {
        let mut h = Host::new("node02");
        h.set_link(1, true);
        let a = ifa(&h, "lo", "192.168.150.100/24", "lo:2");
        h.add_addr(1, a).unwrap();
        assert!(h.is_local("192.168.150.1".parse().unwrap()));
        let b = ifa(&h, "lo", "192.168.150.100/32", "lo:2");
        let mut h2 = Host::new("node02");
        h2.set_link(1, true);
        h2.add_addr(1, b).unwrap();
        assert!(!h2.is_local("192.168.150.1".parse().unwrap()));
        assert!(h2.is_local("192.168.150.100".parse().unwrap()));
    }

    #[test]
    fn deleting_an_address_removes_its_routes() {
        let mut h = Host::new("n");
        let e = h
            .add_device(DeviceKind::Ether, "eth0", Mac([2, 0, 0, 0, 0, 1]))
            .unwrap();
        h.set_link(e, true);
        h.add_addr(e, ifa(&h, "eth0", "192.168.150.12/24", "eth0"))
            .unwrap();
        assert_eq!(h.fib.routes().len(), 3);
        h.del_addr(e, 0);
        assert!(h.fib.routes().is_empty(), "{:?}", h.fib.routes());
    }
}
