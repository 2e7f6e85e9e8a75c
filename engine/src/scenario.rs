//! Named starting points for a lab.
//!
//! `bare`: the tutorial's LAN before any LVS configuration. One segment
//! 192.168.150.0/24, kernel-default sysctls, `lo` up with 127.0.0.1/8:
//!
//! | host | eth0 | MAC | default route |
//! |---|---|---|---|
//! | client | 192.168.150.1/24 | 02:42:c0:a8:96:01 | none (it is the gateway) |
//! | node01 | 192.168.150.11/24 | 02:42:c0:a8:96:0b | via 192.168.150.1 |
//! | node02 | 192.168.150.12/24 | 02:42:c0:a8:96:0c | via 192.168.150.1 |
//! | node03 | 192.168.150.13/24 | 02:42:c0:a8:96:0d | via 192.168.150.1 |

use crate::addr::{IfAddr, Scope};
use crate::device::DeviceKind;
use crate::fib::{Proto, Route, RouteType, TABLE_MAIN};
use crate::host::Host;
use crate::mac::Mac;
use crate::world::{Port, World};
use std::net::Ipv4Addr;

/// The scenarios a user can load, with a one-line description.
pub const SCENARIOS: &[(&str, &str)] =
    &[("bare", "The tutorial's LAN before any LVS configuration")];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scenario {0:?} (known: {known})", known = SCENARIOS.iter().map(|s| s.0).collect::<Vec<_>>().join(", "))]
pub struct UnknownScenario(pub String);

pub fn load(name: &str) -> Result<World, UnknownScenario> {
    match name {
        "bare" => Ok(bare()),
        _ => Err(UnknownScenario(name.into())),
    }
}

const LAN: [(&str, u8); 4] = [
    ("client", 1),
    ("node01", 11),
    ("node02", 12),
    ("node03", 13),
];

/// Build the bare LAN.
pub fn bare() -> World {
    let mut w = World::new("192.168.150.0/24".parse().expect("valid prefix"));
    for (name, octet) in LAN {
        let mut h = Host::new(name);
        h.set_link(1, true);
        h.add_addr(
            1,
            IfAddr {
                ifindex: 1,
                net: "127.0.0.1/8".parse().expect("valid prefix"),
                broadcast: None,
                label: "lo".into(),
                scope: Scope::Host,
                secondary: false,
            },
        )
        .expect("fresh host");
        let mac = Mac([0x02, 0x42, 0xc0, 0xa8, 0x96, octet]);
        let eth0 = h
            .add_device(DeviceKind::Ether, "eth0", mac)
            .expect("fresh host");
        h.set_link(eth0, true);
        h.add_addr(
            eth0,
            IfAddr {
                ifindex: eth0,
                net: format!("192.168.150.{octet}/24")
                    .parse()
                    .expect("valid prefix"),
                broadcast: Some(Ipv4Addr::new(192, 168, 150, 255)),
                label: "eth0".into(),
                scope: Scope::Global,
                secondary: false,
            },
        )
        .expect("fresh host");
        if octet != 1 {
            h.fib
                .insert(Route {
                    table: TABLE_MAIN,
                    rtype: RouteType::Unicast,
                    dst: "0.0.0.0/0".parse().expect("valid prefix"),
                    gateway: Some(Ipv4Addr::new(192, 168, 150, 1)),
                    ifindex: Some(eth0),
                    prefsrc: None,
                    scope: Scope::Global,
                    proto: Proto::Boot,
                    metric: 0,
                })
                .expect("fresh table");
        }
        w.ports.push(Port {
            host: name.into(),
            ifindex: eth0,
        });
        w.hosts.insert(name.into(), h);
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_has_four_hosts_on_one_segment() {
        let w = load("bare").unwrap();
        assert_eq!(w.hosts.len(), 4);
        assert_eq!(w.ports.len(), 4);
        let n1 = w.host("node01").unwrap();
        let r = n1.fib.lookup("8.8.8.8".parse().unwrap(), None).unwrap();
        assert_eq!(r.route.gateway, Some(Ipv4Addr::new(192, 168, 150, 1)));
        assert!(load("nope").is_err());
    }
}
