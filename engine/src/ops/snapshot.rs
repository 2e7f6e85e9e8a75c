//! A real host's network state, carried into the engine.
//!
//! Linux exposes what the lab cares about through rtnetlink dumps
//! (`RTM_GETLINK`, `RTM_GETADDR`, `RTM_GETROUTE` for the local, main and
//! default tables), `/proc/sys/net/ipv4/conf/*` and the IPVS table
//! (`IPVS_CMD_GET_SERVICE`/`GET_DEST`). The native side reads them into a
//! [`HostSnapshot`] (plain data, serialisable, so a snapshot can be saved,
//! served to the browser and reloaded anywhere).
//!
//! We model a snapshot as one engine [`Host`] with the devices, addresses
//! and routes exactly as dumped (the routes are not recomputed from the
//! addresses, so whatever an administrator added is kept), the modelled
//! sysctls, and the IPVS services and real servers (counters start at 0).
//! What the engine cannot represent (other device types, other routing
//! tables, IPv6) is listed in `notes`, never silently dropped.
//! [`world`] puts the host on a simulated LAN with a client and, for each
//! real server on the segment, a real server configured as the tutorial's.

use crate::net::core::dev::{DevStats, Device, DeviceKind};
use crate::net::host::Host;
use crate::net::ipv4::devinet::{IfAddr, Scope};
use crate::net::ipv4::fib::{Proto, Route, RouteType, TABLE_DEFAULT, TABLE_LOCAL, TABLE_MAIN};
use crate::net::netfilter::ipvs::{Fwd, IpvsBackend, ServiceEntry, SimBackend};
use crate::shell::Lab;
use crate::sim::world::{Port, World};
use crate::wire::mac::Mac;
use crate::SimTime;
use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSnapshot {
    pub hostname: String,
    pub links: Vec<SnapLink>,
    /// IPv4 addresses in dump order (per device: primary first).
    pub addrs: Vec<SnapAddr>,
    /// IPv4 routes of every table.
    pub routes: Vec<SnapRoute>,
    /// `conf/<scope>/<knob>` for `all`, `default` and each device.
    pub sysctl: crate::util::vecmap::VecMap<String, crate::util::vecmap::VecMap<String, i64>>,
    /// The IPVS table as listed; empty when IPVS is not loaded.
    #[serde(default)]
    pub ipvs: Vec<ServiceEntry>,
    /// What the reader could not get (e.g. "IPVS: not loaded").
    #[serde(default)]
    pub notes: Vec<String>,
    /// The mangle table's rules as `iptables-save -t mangle` prints them
    /// (`-A CHAIN …` lines); None when they could not be read.
    #[serde(default)]
    pub mangle: Option<Vec<String>>,
}

/// The note [`HostSnapshot::to_host`] gives when the iptables rules are
/// unknown: checks that need them (fwmark services) are skipped.
pub const NOTE_NO_IPTABLES: &str =
    "iptables: the mangle table's rules were not read; fwmark checks skipped";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapLink {
    pub ifindex: u32,
    pub name: String,
    /// `loopback`, `ether` (veth, bridges, NICs: anything with ARPHRD_ETHER)
    /// `dummy` or `ipip` (IFLA_INFO_KIND; tunl0 of the ipip module);
    /// anything else is kept as its kind.
    pub kind: String,
    pub mac: Mac,
    /// IFF_UP.
    pub up: bool,
    pub mtu: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapAddr {
    pub ifindex: u32,
    pub local: Ipv4Addr,
    pub prefix_len: u8,
    pub broadcast: Option<Ipv4Addr>,
    pub label: String,
    /// `rt_scope_t` value.
    pub scope: u8,
    pub secondary: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapRoute {
    pub table: u32,
    /// `RTN_*`.
    pub rtype: u8,
    pub dst: Ipv4Addr,
    pub dst_len: u8,
    pub gateway: Option<Ipv4Addr>,
    pub oif: Option<u32>,
    pub prefsrc: Option<Ipv4Addr>,
    pub scope: u8,
    /// `RTPROT_*`.
    pub protocol: u8,
    pub metric: u32,
}

fn scope_of(v: u8) -> Scope {
    match v {
        0 => Scope::Global,
        200 => Scope::Site,
        253 => Scope::Link,
        254 => Scope::Host,
        _ => Scope::Nowhere,
    }
}

fn rtype_of(v: u8) -> Option<RouteType> {
    Some(match v {
        1 => RouteType::Unicast,
        2 => RouteType::Local,
        3 => RouteType::Broadcast,
        6 => RouteType::Blackhole,
        7 => RouteType::Unreachable,
        8 => RouteType::Prohibit,
        9 => RouteType::Throw,
        _ => return None,
    })
}

impl HostSnapshot {
    /// The snapshot a reader would take of a simulated host (for tests,
    /// and to carry a simulated host like a real one).
    pub fn of_host(h: &Host) -> HostSnapshot {
        let links = h
            .devices
            .values()
            .map(|d| SnapLink {
                ifindex: d.ifindex,
                name: d.name.clone(),
                kind: match d.kind {
                    DeviceKind::Loopback => "loopback",
                    DeviceKind::Ether => "ether",
                    DeviceKind::Dummy => "dummy",
                    DeviceKind::Ipip => "ipip",
                }
                .into(),
                mac: d.mac,
                up: d.up,
                mtu: d.mtu,
            })
            .collect();
        let addrs = h
            .all_addrs()
            .map(|a| SnapAddr {
                ifindex: a.ifindex,
                local: a.local(),
                prefix_len: a.prefix_len(),
                broadcast: a.broadcast,
                label: a.label.clone(),
                scope: a.scope as u8,
                secondary: a.secondary,
            })
            .collect();
        let routes = h
            .fib
            .routes()
            .iter()
            .map(|r| SnapRoute {
                table: r.table,
                rtype: match r.rtype {
                    RouteType::Unicast => 1,
                    RouteType::Local => 2,
                    RouteType::Broadcast => 3,
                    RouteType::Blackhole => 6,
                    RouteType::Unreachable => 7,
                    RouteType::Prohibit => 8,
                    RouteType::Throw => 9,
                },
                dst: r.dst.addr(),
                dst_len: r.dst.prefix_len(),
                gateway: r.gateway,
                oif: r.ifindex,
                prefsrc: r.prefsrc,
                scope: r.scope as u8,
                protocol: match r.proto {
                    Proto::Kernel => 2,
                    Proto::Boot => 3,
                    Proto::Static => 4,
                },
                metric: r.metric,
            })
            .collect();
        let mut ipvs = h.ipvs.clone();
        let services = if ipvs.loaded {
            SimBackend {
                ipvs: &mut ipvs,
                now: SimTime(0),
            }
            .services()
            .unwrap()
        } else {
            Vec::new()
        };
        HostSnapshot {
            hostname: h.name.clone(),
            links,
            addrs,
            routes,
            sysctl: h
                .sysctl
                .conf
                .iter()
                .map(|(scope, c)| {
                    let knobs = c.iter().map(|(k, v)| (k.to_string(), v)).collect();
                    (scope.clone(), knobs)
                })
                .collect(),
            ipvs: services,
            notes: Vec::new(),
            mangle: Some(
                crate::net::netfilter::Hook::ALL
                    .iter()
                    .flat_map(|&hk| {
                        h.mangle.chain(hk).rules.iter().map(move |r| {
                            format!(
                                "-A {}{}",
                                hk.name(),
                                crate::tools::iptables::rule_args(&r.spec)
                            )
                        })
                    })
                    .collect(),
            ),
        }
    }

    /// The engine host; the second value lists what was left out.
    pub fn to_host(&self) -> (Host, Vec<String>) {
        let mut notes = self.notes.clone();
        let name = if self.hostname.is_empty() {
            "host".to_string()
        } else {
            self.hostname.clone()
        };
        let mut h = Host::new(&name);
        h.devices.clear();
        h.addrs.clear();
        h.fib = Default::default();
        h.sysctl = Default::default();
        match &self.mangle {
            None => notes.push(NOTE_NO_IPTABLES.into()),
            Some(lines) => {
                for line in lines {
                    match crate::shell::parse_save_line(line) {
                        Ok((hook, spec)) => h.mangle.append(hook, spec),
                        Err(e) => notes.push(format!("iptables rule not modelled: {line} ({e})")),
                    }
                }
            }
        }
        for l in &self.links {
            let kind = match l.kind.as_str() {
                "loopback" => DeviceKind::Loopback,
                "ether" => DeviceKind::Ether,
                "dummy" => DeviceKind::Dummy,
                "ipip" => DeviceKind::Ipip,
                other => {
                    notes.push(format!("device {} ({other}) is not modelled", l.name));
                    continue;
                }
            };
            h.devices.insert(
                l.ifindex,
                Device {
                    ifindex: l.ifindex,
                    name: l.name.clone(),
                    kind,
                    mac: l.mac,
                    up: l.up,
                    mtu: l.mtu,
                    txqueuelen: 1000,
                    stats: DevStats::default(),
                    qdisc_attached: l.up,
                },
            );
            h.addrs.insert(l.ifindex, Vec::new());
            h.sysctl.add_device(&l.name);
        }
        for (scope, knobs) in &self.sysctl {
            for (k, v) in knobs {
                let knob = crate::net::ipv4::devconf::Knob::from_name(k);
                if let (Some(c), Some(knob)) = (h.sysctl.conf.get_mut(scope), knob) {
                    c.set(knob, *v);
                }
            }
        }
        for a in &self.addrs {
            let Some(list) = h.addrs.get_mut(&a.ifindex) else {
                continue;
            };
            let Ok(net) = Ipv4Net::new(a.local, a.prefix_len) else {
                notes.push(format!("address {}/{}: bad prefix", a.local, a.prefix_len));
                continue;
            };
            list.push(IfAddr {
                ifindex: a.ifindex,
                net,
                broadcast: a.broadcast,
                label: a.label.clone(),
                scope: scope_of(a.scope),
                secondary: a.secondary,
            });
        }
        let mut other_tables = crate::util::vecmap::VecMap::<u32, usize>::new();
        let mut routes = Vec::with_capacity(self.routes.len());
        for r in &self.routes {
            if ![TABLE_LOCAL, TABLE_MAIN, TABLE_DEFAULT].contains(&r.table) {
                *other_tables.entry(r.table).or_default() += 1;
                continue;
            }
            let Some(rtype) = rtype_of(r.rtype) else {
                notes.push(format!(
                    "route {}/{} of type {} is not modelled",
                    r.dst, r.dst_len, r.rtype
                ));
                continue;
            };
            if r.oif.is_some_and(|i| !h.devices.contains_key(&i)) {
                continue;
            }
            let Ok(dst) = Ipv4Net::new(r.dst, r.dst_len) else {
                continue;
            };
            let proto = match r.protocol {
                2 => Proto::Kernel,
                3 => Proto::Boot,
                _ => Proto::Static,
            };
            routes.push(Route {
                table: r.table,
                rtype,
                dst,
                gateway: r.gateway,
                ifindex: r.oif,
                prefsrc: r.prefsrc,
                scope: scope_of(r.scope),
                proto,
                metric: r.metric,
                gw_local: false,
            });
        }
        // In the table's order first (a stable sort keeps the dump's order
        // among equal keys, as inserting one by one would): each insert
        // then appends, and a table of any order loads in n log n.
        routes.sort_by_key(crate::net::ipv4::fib::sort_key);
        for r in routes {
            let _ = h.fib.insert(r);
        }
        for (t, n) in other_tables {
            notes.push(format!(
                "{n} route(s) of table {t} not modelled (policy routing)"
            ));
        }
        if !self.ipvs.is_empty() {
            let mut b = SimBackend {
                ipvs: &mut h.ipvs,
                now: SimTime(0),
            };
            let _ = b.info();
            for s in &self.ipvs {
                if let Err(e) = b.add_service(&s.spec) {
                    notes.push(format!("IPVS service {:?}: {e}", s.spec.key));
                    continue;
                }
                // Listed newest first: add oldest first to keep the order.
                for d in s.dests.iter().rev() {
                    if let Err(e) = b.add_dest(&s.spec.key, &d.spec) {
                        notes.push(format!("IPVS real server {}: {e}", d.spec.addr));
                    }
                }
            }
        }
        (h, notes)
    }
}

/// The LAN the snapshot host sits on: its first up Ethernet device with an
/// IPv4 address, and that address's subnet.
fn home(h: &Host) -> Option<(u32, Ipv4Net)> {
    h.devices
        .values()
        .filter(|d| d.kind == DeviceKind::Ether && d.up)
        .find_map(|d| {
            h.addrs
                .get(&d.ifindex)?
                .iter()
                .find(|a| !a.secondary && a.prefix_len() < 31)
                .map(|a| (d.ifindex, a.net.trunc()))
        })
}

/// A simulated lab around the snapshot host: the host itself, a `client`
/// (at the host's default gateway when that is on the segment, as in the
/// tutorial), and for each IPVS real server on the segment a host
/// configured like the tutorial's real servers (VIP on lo:2 /32,
/// arp_ignore=1, arp_announce=2, httpd answering "from RIP").
/// Returns the world and what was simulated or left out, one line each.
pub fn world(snap: &HostSnapshot) -> (World, Vec<String>) {
    let Layout {
        host,
        notes,
        home,
        client_ip,
        peers,
    } = layout(snap);
    let name = host.name.clone();
    let Some((ifindex, net)) = home else {
        let mut w = World::new("0.0.0.0/0".parse().expect("valid"));
        w.hosts.insert(name, host);
        return (w, notes);
    };
    let mut w = World::new(net);
    w.ports.push(Port {
        host: name.as_str().into(),
        ifindex,
    });
    w.hosts.insert(name.clone(), host);
    build_peers(w, net, client_ip, &peers, notes)
}

/// What [`world`] says it simulates or leaves out, without building it
/// (building runs the shell on every simulated host: a table of 10,000
/// services puts 10,000 VIPs on each real server).
pub fn notes(snap: &HostSnapshot) -> Vec<String> {
    layout(snap).notes
}

/// The snapshot host, its simulated peers (name, address, VIPs) and the
/// notes on them: everything [`world`] decides before it builds.
struct Layout {
    host: Host,
    notes: Vec<String>,
    home: Option<(u32, Ipv4Net)>,
    client_ip: Option<Ipv4Addr>,
    peers: Vec<(String, Ipv4Addr, Vec<Ipv4Addr>)>,
}

fn layout(snap: &HostSnapshot) -> Layout {
    let (host, mut notes) = snap.to_host();
    let Some((ifindex, net)) = home(&host) else {
        notes.push("no up Ethernet device with an IPv4 address: the host is alone".into());
        return Layout {
            host,
            notes,
            home: None,
            client_ip: None,
            peers: Vec::new(),
        };
    };
    let taken: Vec<Ipv4Addr> = host.all_addrs().map(|a| a.local()).collect();
    let gw = host
        .fib
        .routes()
        .iter()
        .filter(|r| r.table == TABLE_MAIN && r.dst.prefix_len() == 0)
        .find_map(|r| r.gateway.filter(|g| net.contains(g)));
    let mut used = taken.clone();
    let mut rss: Vec<(Ipv4Addr, Vec<Ipv4Addr>)> = Vec::new();
    for s in &snap.ipvs {
        let vip = match s.spec.key {
            crate::net::netfilter::ipvs::ServiceKey::Addr {
                addr: IpAddr::V4(v),
                ..
            } => Some(v),
            _ => None,
        };
        for d in &s.dests {
            let IpAddr::V4(rip) = d.spec.addr else {
                continue;
            };
            if !net.contains(&rip)
                || taken.contains(&rip)
                || !matches!(d.spec.fwd, Fwd::Route | Fwd::Tunnel | Fwd::Masq)
            {
                continue;
            }
            match rss.iter_mut().find(|(r, _)| *r == rip) {
                Some((_, v)) => v.extend(vip),
                None => rss.push((rip, vip.into_iter().collect())),
            }
            used.push(rip);
        }
    }
    let client_ip = gw
        .filter(|g| !taken.contains(g))
        .or_else(|| net.hosts().find(|h| !used.contains(h)));
    let mut peers: Vec<(String, Ipv4Addr, Vec<Ipv4Addr>)> = Vec::new();
    if let Some(c) = client_ip {
        peers.push(("client".into(), c, Vec::new()));
        notes.push(format!(
            "simulated client at {c}{}",
            if Some(c) == gw {
                " (the default gateway)"
            } else {
                ""
            }
        ));
    }
    for (i, (rip, vips)) in rss.iter().enumerate() {
        let n = format!("rs{}", i + 1);
        notes.push(format!("simulated real server {n} at {rip}, configured as the tutorial's (VIP on lo:2 /32, arp_ignore=1, arp_announce=2, httpd)"));
        peers.push((n, *rip, vips.clone()));
    }
    Layout {
        host,
        notes,
        home: Some((ifindex, net)),
        client_ip,
        peers,
    }
}

/// The simulated peers of [`world`], added to `w` and configured.
fn build_peers(
    mut w: World,
    net: Ipv4Net,
    client_ip: Option<Ipv4Addr>,
    peers: &[(String, Ipv4Addr, Vec<Ipv4Addr>)],
    notes: Vec<String>,
) -> (World, Vec<String>) {
    for (n, ip, _) in peers {
        let mut h = Host::new(n);
        h.set_link(1, true);
        let _ = h.add_addr(
            1,
            IfAddr {
                ifindex: 1,
                net: "127.0.0.1/8".parse().expect("valid"),
                broadcast: None,
                label: "lo".into(),
                scope: Scope::Host,
                secondary: false,
            },
        );
        let o = ip.octets();
        let mac = Mac([0x02, 0x42, o[0], o[1], o[2], o[3]]);
        let Ok(eth0) = h.add_device(DeviceKind::Ether, "eth0", mac) else {
            continue;
        };
        h.set_link(eth0, true);
        let Ok(ipn) = Ipv4Net::new(*ip, net.prefix_len()) else {
            continue;
        };
        let _ = h.add_addr(
            eth0,
            IfAddr {
                ifindex: eth0,
                net: ipn,
                broadcast: Some(net.broadcast()),
                label: "eth0".into(),
                scope: Scope::Global,
                secondary: false,
            },
        );
        if n != "client" {
            if let Some(g) = client_ip {
                let _ = h.fib.insert(Route {
                    table: TABLE_MAIN,
                    rtype: RouteType::Unicast,
                    dst: "0.0.0.0/0".parse().expect("valid"),
                    gateway: Some(g),
                    ifindex: Some(eth0),
                    prefsrc: None,
                    scope: Scope::Global,
                    proto: Proto::Boot,
                    metric: 0,
                    gw_local: false,
                });
            }
        }
        w.ports.push(Port {
            host: n.as_str().into(),
            ifindex: eth0,
        });
        w.hosts.insert(n.clone(), h);
    }
    let mut lab = Lab::new(w);
    for (n, ip, vips) in peers {
        if n == "client" {
            continue;
        }
        for c in [
            "echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore",
            "echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce",
            "echo 1 > /proc/sys/net/ipv4/conf/eth0/arp_ignore",
            "echo 2 > /proc/sys/net/ipv4/conf/eth0/arp_announce",
            "service httpd start",
        ] {
            lab.run(n, c);
        }
        lab.run(n, &format!("echo 'from {ip}' > /var/www/html/index.html"));
        for (k, v) in vips.iter().enumerate() {
            let label = if k == 0 {
                "lo:2".to_string()
            } else {
                format!("lo:{}", k + 2)
            };
            lab.run(n, &format!("ifconfig {label} {v} netmask 255.255.255.255"));
        }
    }
    lab.world.trace.clear();
    (lab.world, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario;

    #[test]
    fn round_trip_keeps_the_host() {
        let w = scenario::load("seed").unwrap();
        for name in ["node01", "node02"] {
            let h = w.host(name).unwrap();
            let snap = HostSnapshot::of_host(h);
            let json = serde_json::to_string(&snap).unwrap();
            let back: HostSnapshot = serde_json::from_str(&json).unwrap();
            let (h2, notes) = back.to_host();
            assert!(notes.is_empty(), "{notes:?}");
            assert_eq!(h2.devices, h.devices);
            assert_eq!(h2.addrs, h.addrs);
            assert_eq!(h2.fib.routes(), h.fib.routes());
            assert_eq!(h2.sysctl, h.sysctl);
            assert_eq!(HostSnapshot::of_host(&h2).ipvs, snap.ipvs);
        }
    }

    #[test]
    fn the_director_snapshot_serves_http_in_the_simulator() {
        let w = scenario::load("seed").unwrap();
        let snap = HostSnapshot::of_host(w.host("node01").unwrap());
        let (world, notes) = world(&snap);
        assert!(
            notes
                .iter()
                .any(|n| n == "simulated client at 192.168.150.1 (the default gateway)"),
            "{notes:?}"
        );
        assert_eq!(super::notes(&snap), notes);
        assert_eq!(world.hosts.len(), 4);
        let mut lab = Lab::new(world);
        let a = lab.run("client", "curl -s http://192.168.150.100/");
        let b = lab.run("client", "curl -s http://192.168.150.100/");
        let mut got = [a.text.trim().to_string(), b.text.trim().to_string()];
        got.sort();
        assert_eq!(got, ["from 192.168.150.12", "from 192.168.150.13"]);
        let l = lab.run("node01", "ipvsadm -Ln");
        assert!(l.text.contains("-> 192.168.150.12:80"), "{}", l.text);
    }

    #[test]
    fn unknown_fields_and_devices() {
        assert!(serde_json::from_str::<HostSnapshot>(
            r#"{"hostname":"x","links":[],"addrs":[],"routes":[],"sysctl":{},"bogus":1}"#
        )
        .is_err());
        let mut snap = HostSnapshot::of_host(scenario::bare().host("node01").unwrap());
        snap.links.push(SnapLink {
            ifindex: 9,
            name: "wg0".into(),
            kind: "wireguard".into(),
            mac: Mac::ZERO,
            up: true,
            mtu: 1420,
        });
        snap.routes.push(SnapRoute {
            table: 100,
            rtype: 1,
            dst: Ipv4Addr::UNSPECIFIED,
            dst_len: 0,
            gateway: None,
            oif: Some(9),
            prefsrc: None,
            scope: 0,
            protocol: 3,
            metric: 0,
        });
        let (_, notes) = snap.to_host();
        assert_eq!(
            notes,
            [
                "device wg0 (wireguard) is not modelled",
                "1 route(s) of table 100 not modelled (policy routing)"
            ]
        );
    }
}
