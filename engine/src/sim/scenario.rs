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

use crate::net::core::dev::DeviceKind;
use crate::net::host::Host;
use crate::net::ipv4::devinet::{IfAddr, Scope};
use crate::net::ipv4::fib::{Proto, Route, RouteType, TABLE_MAIN};
use crate::sim::world::{Port, World};
use crate::wire::mac::Mac;
use std::net::Ipv4Addr;

/// A named starting point and what it shows, in English and Chinese.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScenarioInfo {
    pub name: &'static str,
    pub en: &'static str,
    pub zh: &'static str,
}

/// The scenarios a user can load.
pub const SCENARIOS: &[ScenarioInfo] = &[
    ScenarioInfo {
        name: "bare",
        en: "The tutorial's LAN before any LVS configuration: client/gateway .1, director node01 .11, real servers node02 .12 and node03 .13.",
        zh: "教程中的局域网，尚未做任何 LVS 配置：客户端/网关 .1，调度器 node01 .11，真实服务器 node02 .12、node03 .13。",
    },
    ScenarioInfo {
        name: "seed",
        en: "The tutorial's LVS-DR lab fully configured: VIP 192.168.150.100 on node01 eth0:8, real servers with arp_ignore=1/arp_announce=2 and the VIP on lo:2 /32, httpd on both, ipvsadm rr.",
        zh: "完整配置好的 LVS-DR 实验：node01 的 eth0:8 上有 VIP 192.168.150.100，真实服务器设置 arp_ignore=1/arp_announce=2 并在 lo:2 上配置 /32 的 VIP，两台都运行 httpd，ipvsadm 使用 rr 调度。",
    },
    ScenarioInfo {
        name: "pitfall-lo-mask-24",
        en: "Pitfall: the real servers put the VIP on lo with netmask 255.255.255.0. Linux installs `local 192.168.150.0/24 dev lo` in the local table, so every LAN address is the host itself: replies to the client never leave.",
        zh: "陷阱：真实服务器在 lo 上用 255.255.255.0 掩码配置 VIP。Linux 会在 local 路由表中加入 `local 192.168.150.0/24 dev lo`，于是整个网段都被当成本机：发给客户端的应答永远发不出去。",
    },
    ScenarioInfo {
        name: "pitfall-no-arp-sysctls",
        en: "Pitfall: arp_ignore/arp_announce left at 0 on the real servers. They answer ARP for the VIP and announce it as the sender of their own requests, so the gateway can learn the VIP at a real server's MAC and bypass the director.",
        zh: "陷阱：真实服务器的 arp_ignore/arp_announce 保持为 0。它们会应答对 VIP 的 ARP 请求，并在自己的 ARP 请求中用 VIP 作发送方地址，网关可能把 VIP 学到真实服务器的 MAC 上，从而绕过调度器。",
    },
    ScenarioInfo {
        name: "pitfall-lo-down",
        en: "Pitfall: `ifconfig lo:2 down` on node02 deletes its VIP. The director still forwards SYNs there; node02 drops them, and node01's connection table shows SYN_RECV.",
        zh: "陷阱：在 node02 上执行 `ifconfig lo:2 down` 会删除它的 VIP。调度器仍把 SYN 转发过去，node02 丢弃它们，node01 的连接表显示 SYN_RECV。",
    },
    ScenarioInfo {
        name: "pitfall-typo-192-178",
        en: "Pitfall: the tutorial's typo `ifconfig lo:2 192.178.150.100`. The real servers do not own the VIP, drop what the director forwards, and the director's entries stay in SYN_RECV. Spot the bug.",
        zh: "陷阱：教程里的笔误 `ifconfig lo:2 192.178.150.100`。真实服务器并不拥有 VIP，会丢弃调度器转发来的包，调度器的连接停在 SYN_RECV。找出这个错误。",
    },
    ScenarioInfo {
        name: "pitfall-vip-before-sysctls",
        en: "Pitfall: the VIP was added on the real servers before arp_ignore/arp_announce were set, and the client talked to the VIP in between: what the client's neighbour table learned stays wrong.",
        zh: "陷阱：真实服务器先配置了 VIP，后设置 arp_ignore/arp_announce，而客户端在这期间访问过 VIP：客户端邻居表学到的错误条目会保留下来。",
    },
    ScenarioInfo {
        name: "wrr-unequal",
        en: "The seed lab with the wrr scheduler and unequal weights (node02 weight 3, node03 weight 1): three of every four connections go to node02.",
        zh: "使用 wrr 调度和不同权重（node02 权重 3，node03 权重 1）的实验：每四个连接中有三个去 node02。",
    },
    ScenarioInfo {
        name: "fwmark",
        en: "The seed lab with a firewall-mark service: iptables marks packets to VIP:80 with mark 1 in the mangle table's PREROUTING chain, and `ipvsadm -A -f 1` balances whatever carries that mark. Step a request: the MARK event comes before IPVS.",
        zh: "使用防火墙标记服务的实验：iptables 在 mangle 表的 PREROUTING 链给发往 VIP:80 的包打上标记 1，`ipvsadm -A -f 1` 负载均衡所有带该标记的包。单步执行一个请求：MARK 事件出现在 IPVS 之前。",
    },
];

/// Information about a scenario by name.
pub fn info(name: &str) -> Option<&'static ScenarioInfo> {
    SCENARIOS.iter().find(|s| s.name == name)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scenario {0:?} (known: {known})", known = SCENARIOS.iter().map(|s| s.name).collect::<Vec<_>>().join(", "))]
pub struct UnknownScenario(pub String);

pub fn load(name: &str) -> Result<World, UnknownScenario> {
    let script = script(name).ok_or_else(|| UnknownScenario(name.into()))?;
    let mut lab = crate::shell::Lab::new(bare());
    for (host, cmd) in script {
        let out = lab.run(host, &cmd);
        debug_assert!(
            out.status == 0 || cmd.contains("lo:2") || cmd.starts_with("curl"),
            "scenario {name}: {host}# {cmd}: {}",
            out.text
        );
    }
    // A scenario starts with an empty trace and a fresh clock origin for
    // what the student does next (the set-up is not part of the lesson).
    lab.world.trace.clear();
    Ok(lab.world)
}

/// The commands, in the tutorial's order, that build a scenario from `bare`.
pub fn script(name: &str) -> Option<Vec<(&'static str, String)>> {
    let vip_lo = |mask: &str, ip: &str| -> Vec<(&'static str, String)> {
        ["node02", "node03"]
            .iter()
            .map(|h| (*h, format!("ifconfig lo:2 {ip} netmask {mask}")))
            .collect()
    };
    let sysctls = || -> Vec<(&'static str, String)> {
        let mut v = Vec::new();
        for h in ["node02", "node03"] {
            for c in [
                "cd /proc/sys/net/ipv4/conf/eth0",
                "echo 1 > arp_ignore",
                "echo 2 > arp_announce",
                "cd ../all",
                "echo 1 > arp_ignore",
                "echo 2 > arp_announce",
                "cd",
            ] {
                v.push((h, c.to_string()));
            }
        }
        v
    };
    let httpd = || -> Vec<(&'static str, String)> {
        let mut v = Vec::new();
        for (h, ip) in [("node02", "12"), ("node03", "13")] {
            v.push((h, "yum install httpd".to_string()));
            v.push((h, "service httpd start".to_string()));
            v.push((
                h,
                format!("echo '<h1>from 192.168.150.{ip}</h1>' > /var/www/html/index.html"),
            ));
        }
        v
    };
    let director = |sched: &str, w12: u32, w13: u32| -> Vec<(&'static str, String)> {
        vec![
            ("node01", "yum install ipvsadm -y".to_string()),
            (
                "node01",
                format!("ipvsadm -A -t 192.168.150.100:80 -s {sched}"),
            ),
            (
                "node01",
                format!("ipvsadm -a -t 192.168.150.100:80 -r 192.168.150.12 -g -w {w12}"),
            ),
            (
                "node01",
                format!("ipvsadm -a -t 192.168.150.100:80 -r 192.168.150.13 -g -w {w13}"),
            ),
        ]
    };
    let vip_dir = vec![("node01", "ifconfig eth0:8 192.168.150.100/24".to_string())];
    let mut s: Vec<(&'static str, String)> = Vec::new();
    match name {
        "bare" => {}
        "seed" | "pitfall-lo-down" => {
            s.extend(vip_dir);
            s.extend(sysctls());
            s.extend(httpd());
            s.extend(vip_lo("255.255.255.255", "192.168.150.100"));
            s.extend(director("rr", 1, 1));
            if name == "pitfall-lo-down" {
                s.push(("node02", "ifconfig lo:2 down".to_string()));
            }
        }
        "pitfall-lo-mask-24" => {
            s.extend(vip_dir);
            s.extend(sysctls());
            s.extend(httpd());
            s.extend(vip_lo("255.255.255.0", "192.168.150.100"));
            s.extend(director("rr", 1, 1));
        }
        "pitfall-no-arp-sysctls" => {
            s.extend(vip_dir);
            s.extend(httpd());
            s.extend(vip_lo("255.255.255.255", "192.168.150.100"));
            s.extend(director("rr", 1, 1));
        }
        "pitfall-typo-192-178" => {
            s.extend(vip_dir);
            s.extend(sysctls());
            s.extend(httpd());
            s.extend(vip_lo("255.255.255.255", "192.178.150.100"));
            s.extend(director("rr", 1, 1));
        }
        "pitfall-vip-before-sysctls" => {
            s.extend(vip_dir);
            s.extend(httpd());
            s.extend(vip_lo("255.255.255.255", "192.168.150.100"));
            // The client talks to the VIP while the real servers still answer ARP for it.
            s.push((
                "node02",
                "ping -c 1 -W 1 -I 192.168.150.100 192.168.150.1".to_string(),
            ));
            s.extend(sysctls());
            s.extend(director("rr", 1, 1));
        }
        "fwmark" => {
            s.extend(vip_dir);
            s.extend(sysctls());
            s.extend(httpd());
            s.extend(vip_lo("255.255.255.255", "192.168.150.100"));
            s.push(("node01", "yum install ipvsadm -y".to_string()));
            for c in [
                "iptables -t mangle -A PREROUTING -d 192.168.150.100 -p tcp --dport 80 -j MARK --set-mark 1",
                "ipvsadm -A -f 1 -s rr",
                "ipvsadm -a -f 1 -r 192.168.150.12 -g",
                "ipvsadm -a -f 1 -r 192.168.150.13 -g",
            ] {
                s.push(("node01", c.to_string()));
            }
        }
        "wrr-unequal" => {
            s.extend(vip_dir);
            s.extend(sysctls());
            s.extend(httpd());
            s.extend(vip_lo("255.255.255.255", "192.168.150.100"));
            s.extend(director("wrr", 3, 1));
        }
        _ => return None,
    }
    Some(s)
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
                    gw_local: false,
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
        for sc in SCENARIOS {
            assert!(load(sc.name).is_ok(), "{}", sc.name);
        }
    }

    #[test]
    fn fwmark_marks_before_ipvs_and_balances() {
        use crate::sim::trace::EventKind;
        let mut lab = crate::shell::Lab::new(load("fwmark").unwrap());
        let a = lab.run("client", "curl -s http://192.168.150.100/").text;
        let b = lab.run("client", "curl -s http://192.168.150.100/").text;
        assert!(a.contains("from 192.168.150.1") && b.contains("from 192.168.150.1"));
        assert_ne!(a, b, "rr over the fwmark service");
        let at = |f: &dyn Fn(&EventKind) -> bool| {
            lab.world
                .trace
                .iter()
                .position(|e| e.host == "node01" && f(&e.kind))
        };
        let mark = at(&|k| matches!(k, EventKind::NfMark { mark: 1, .. })).expect("a MARK event");
        let ipvs = at(&|k| matches!(k, EventKind::Ipvs { .. })).expect("an IPVS event");
        assert!(mark < ipvs);
        let ev = &lab.world.trace[mark];
        assert!(ev
            .explain(crate::sim::trace::Lang::En)
            .contains("ip_vs_service_find"));
    }
}
