//! A real server's checks: the VIP on `lo` as a /32 (`fib_add_ifaddr()`
//! turns a wider prefix on lo into a `local` route for the whole subnet),
//! lo up, `arp_ignore`/`arp_announce` set as the effective (`IN_DEV_MAXCONF`)
//! values the kernel reads, and `rp_filter` that would drop replies.

use super::*;
use crate::net::ipv4::devinet::IfAddr;
use crate::net::ipv4::fib::TABLE_LOCAL;
use std::net::Ipv4Addr;

/// `a` and `b` differ in exactly one octet: the shape of a typo
/// (192.178.150.100 for 192.168.150.100).
fn one_octet_apart(a: Ipv4Addr, b: Ipv4Addr) -> bool {
    a.octets()
        .iter()
        .zip(b.octets().iter())
        .filter(|(x, y)| x != y)
        .count()
        == 1
}

pub(crate) fn realserver_vip(cx: &mut Ctx<'_>, vip: Ipv4Addr) {
    let host = cx.host;
    let on: Vec<&IfAddr> = host.all_addrs().filter(|a| a.local() == vip).collect();
    if on.is_empty() {
        let typo = lo_addrs(host)
            .into_iter()
            .find(|a| one_octet_apart(a.local(), vip));
        match typo {
            Some(t) => cx.findings.push(Finding {
     check: "rs-vip-typo".into(),
     severity: Severity::Error,
     subject: vip.to_string(),
     en: format!("The VIP {vip} is not configured, but {} is on {}: a typo?", t.local(), t.label),
     zh: format!("没有配置 VIP {vip}，但 {} 上有 {}：是笔误吗？", t.label, t.local()),
     why_en: "The director forwards frames whose IP destination is still the VIP. ip_route_input() finds no local route for it and, with forwarding off, drops the packet: the director's connection stays in SYN_RECV.".into(),
     why_zh: "调度器转发来的帧，IP 目的地址仍是 VIP。ip_route_input() 找不到它的本地路由，转发又是关闭的，于是丢弃该包：调度器上的连接停在 SYN_RECV。".into(),
     fix: vec![
                    format!("ip addr del {}/{} dev lo", t.local(), t.prefix_len()),
                    format!("ifconfig lo:2 {vip} netmask 255.255.255.255"),
                ],
 }),
            None => cx.findings.push(Finding {
     check: "rs-vip-missing".into(),
     severity: Severity::Error,
     subject: vip.to_string(),
     en: format!("The VIP {vip} is not configured on this real server."),
     zh: format!("这台真实服务器上没有配置 VIP {vip}。"),
     why_en: "The director forwards frames whose IP destination is still the VIP. ip_route_input() finds no local route for it and, with forwarding off, drops the packet: the director's connection stays in SYN_RECV. (`ifconfig lo:2 down` deletes the address: devinet_ioctl() calls inet_del_ifa().)".into(),
     why_zh: "调度器转发来的帧，IP 目的地址仍是 VIP。ip_route_input() 找不到它的本地路由，转发又是关闭的，于是丢弃该包：调度器上的连接停在 SYN_RECV。（`ifconfig lo:2 down` 会删除这个地址：devinet_ioctl() 调用 inet_del_ifa()。）".into(),
     fix: vec![format!("ifconfig lo:2 {vip} netmask 255.255.255.255")],
 }),
        }
        return;
    }
    for a in on {
        let dev = host.device(a.ifindex);
        let dev_name = dev.map_or("?", |d| d.name.as_str());
        let is_lo = dev.is_some_and(|d| d.is_loopback());
        if !is_lo {
            cx.findings.push(Finding {
                check: "rs-vip-on-wire-device".into(),
                severity: Severity::Error,
                subject: vip.to_string(),
                en: format!("The VIP {vip} is on {dev_name}, a device on the wire, not on lo."),
                zh: format!("VIP {vip} 配置在 {dev_name} 这个接入网络的设备上，而不是 lo 上。"),
                why_en: "arp_ignore=1 still answers ARP for an address configured on the incoming device, so this real server answers who-has VIP and competes with the director.".into(),
                why_zh: "arp_ignore=1 仍会应答配置在入口设备上的地址的 ARP，于是这台真实服务器会应答 VIP 的 ARP 请求，与调度器抢占 VIP。".into(),
                fix: vec![
                    format!("ip addr del {vip}/{} dev {dev_name}", a.prefix_len()),
                    format!("ifconfig lo:2 {vip} netmask 255.255.255.255"),
                ],
            });
            continue;
        }
        if a.prefix_len() < 32 {
            let net = a.net.trunc();
            // What the mask swallows: the gateway if there is one, else the
            // first other address of the subnet.
            let victim = host
                .fib
                .routes()
                .iter()
                .find_map(|r| r.gateway.filter(|g| net.contains(g)))
                .or_else(|| net.hosts().find(|h| *h != vip))
                .unwrap_or(vip);
            let hit = host
                .fib
                .lookup_table(TABLE_LOCAL, victim, None)
                .map_or(format!("local {net} dev lo"), |r| {
                    format!("local {} dev lo", r.dst)
                });
            cx.findings.push(Finding {
                check: "rs-vip-mask".into(),
                severity: Severity::Error,
                subject: vip.to_string(),
                en: format!("The VIP {vip} is on {} with /{} (netmask {}): the whole subnet {net} becomes local (e.g. {victim} now matches `{hit}`).", a.label, a.prefix_len(), a.net.netmask()),
                zh: format!("VIP {vip} 以 /{}（掩码 {}）配置在 {} 上：整个网段 {net} 都变成了本机地址（例如 {victim} 现在命中 `{hit}`）。", a.prefix_len(), a.net.netmask(), a.label),
                why_en: "fib_add_ifaddr() installs the prefix of an address on a loopback device as a `local` route in the local table (`local NET/len dev lo`). The local table is consulted first, so every address of the subnet, e.g. the gateway or the client, is delivered to this host itself: replies never leave.".into(),
                why_zh: "fib_add_ifaddr() 会把回环设备上地址的网段作为 `local` 路由装入 local 表（`local NET/len dev lo`）。local 表最先查找，所以该网段的每个地址（例如网关或客户端）都被当成本机：应答永远发不出去。".into(),
                fix: vec![
                    format!("ip addr del {vip}/{} dev lo", a.prefix_len()),
                    format!("ifconfig {} {vip} netmask 255.255.255.255", a.label),
                ],
            });
        } else if !host.devices.values().any(|d| d.is_loopback() && d.up) {
            cx.findings.push(Finding {
                check: "rs-lo-down".into(),
                severity: Severity::Error,
                subject: vip.to_string(),
                en: format!("The VIP {vip} is on lo, but lo is down."),
                zh: format!("VIP {vip} 在 lo 上，但 lo 处于关闭状态。"),
                why_en: "fib_disable_ip() removes the local routes of a device that goes down, so the VIP is no longer local.".into(),
                why_zh: "设备关闭时 fib_disable_ip() 会删除它的本地路由，VIP 不再是本机地址。".into(),
                fix: vec!["ip link set lo up".into()],
            });
        } else {
            cx.pass(
                "rs-vip",
                format!("VIP {vip} is on {} with /32.", a.label),
                format!("VIP {vip} 以 /32 配置在 {} 上。", a.label),
            );
        }
    }
}

pub(crate) fn realserver_arp(cx: &mut Ctx<'_>) {
    let host = cx.host;
    let devs = cx.arp_devices();
    let mut bad_ignore = Vec::new();
    let mut bad_announce = Vec::new();
    let mut mute = Vec::new();
    for d in &devs {
        let ig = host
            .sysctl
            .effective(d, crate::net::ipv4::devconf::Knob::ArpIgnore);
        let an = host
            .sysctl
            .effective(d, crate::net::ipv4::devconf::Knob::ArpAnnounce);
        match ig {
            1 | 2 => {}
            8 => mute.push(*d),
            _ => bad_ignore.push((*d, ig)),
        }
        if an < 2 {
            bad_announce.push((*d, an));
        }
    }
    let sys = |dev: &str, knob: &str| {
        format!(
            "all={}, {dev}={}",
            host.sysctl.get("all", knob).unwrap_or(0),
            host.sysctl.get(dev, knob).unwrap_or(0)
        )
    };
    if bad_ignore.is_empty() && mute.is_empty() {
        cx.pass(
            "rs-arp-ignore",
            format!("arp_ignore is 1 or 2 on {}.", devs.join(", ")),
            format!("{} 上的 arp_ignore 为 1 或 2。", devs.join("、")),
        );
    }
    for (d, v) in &bad_ignore {
        cx.findings.push(Finding {
            check: "rs-arp-ignore".into(),
            severity: Severity::Error,
            subject: d.to_string(),
            en: format!("arp_ignore on {d} is {v} (effective: max of {}); a real server needs 1.", sys(d, "arp_ignore")),
            zh: format!("{d} 上的 arp_ignore 为 {v}（有效值取 {} 中的较大者）；真实服务器需要 1。", sys(d, "arp_ignore")),
            why_en: "arp_ignore() (net/ipv4/arp.c) with 0 answers ARP for any local address on any interface, so the real server answers who-has VIP on the wire; the gateway may learn the VIP at a real server's MAC and bypass the director.".into(),
            why_zh: "arp_ignore=0 时 arp_ignore()（net/ipv4/arp.c）会为任意接口上的任意本机地址应答 ARP，于是真实服务器会在网线上应答 VIP 的 ARP；网关可能把 VIP 学到真实服务器的 MAC 上，绕过调度器。".into(),
            fix: vec![
                "echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore".into(),
                format!("echo 1 > /proc/sys/net/ipv4/conf/{d}/arp_ignore"),
            ],
        });
    }
    for d in &mute {
        cx.findings.push(Finding {
            check: "rs-arp-ignore-8".into(),
            severity: Severity::Warning,
            subject: d.to_string(),
            en: format!("arp_ignore on {d} is 8: this host answers no ARP at all, not even for its own address."),
            zh: format!("{d} 上的 arp_ignore 为 8：本机不应答任何 ARP，连自己的地址也不应答。"),
            why_en: "arp_ignore() returns 1 (do not reply) for every request when the level is 8; the director cannot resolve this real server's MAC once its cache entry expires.".into(),
            why_zh: "级别为 8 时 arp_ignore() 对所有请求都返回 1（不应答）；调度器的缓存过期后就无法解析这台真实服务器的 MAC。".into(),
            fix: vec![format!("echo 1 > /proc/sys/net/ipv4/conf/{d}/arp_ignore"), "echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore".into()],
        });
    }
    if bad_announce.is_empty() {
        cx.pass(
            "rs-arp-announce",
            format!("arp_announce is 2 on {}.", devs.join(", ")),
            format!("{} 上的 arp_announce 为 2。", devs.join("、")),
        );
    }
    for (d, v) in &bad_announce {
        cx.findings.push(Finding {
            check: "rs-arp-announce".into(),
            severity: Severity::Error,
            subject: d.to_string(),
            en: format!("arp_announce on {d} is {v} (effective: max of {}); a real server needs 2.", sys(d, "arp_announce")),
            zh: format!("{d} 上的 arp_announce 为 {v}（有效值取 {} 中的较大者）；真实服务器需要 2。", sys(d, "arp_announce")),
            why_en: "arp_solicit() uses the packet's source address as the ARP sender address unless arp_announce=2, which makes inet_select_addr() pick the device's own address. Replies come from the VIP, so the real server announces the VIP at its own MAC and neighbours update their caches.".into(),
            why_zh: "除非 arp_announce=2（让 inet_select_addr() 选出设备自己的地址），arp_solicit() 会用数据包的源地址作为 ARP 发送方地址。应答的源地址是 VIP，于是真实服务器把 VIP 与自己的 MAC 一起通告出去，邻居会更新缓存。".into(),
            fix: vec![
                "echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce".into(),
                format!("echo 2 > /proc/sys/net/ipv4/conf/{d}/arp_announce"),
            ],
        });
    }
}

pub(crate) fn realserver_rp_filter(cx: &mut Ctx<'_>) {
    let host = cx.host;
    // The device the default route leaves by: replies to clients go there.
    let default_dev = host
        .fib
        .lookup(Ipv4Addr::new(0, 0, 0, 1), None)
        .ok()
        .filter(|r| r.route.dst.prefix_len() == 0)
        .and_then(|r| r.route.ifindex);
    let mut ok = true;
    for d in cx.arp_devices() {
        let strict = host
            .sysctl
            .effective(d, crate::net::ipv4::devconf::Knob::RpFilter)
            == 1;
        let Ok(idx) = host.ifindex(d) else { continue };
        if strict && default_dev.is_some_and(|dd| dd != idx) {
            ok = false;
            let dd = host.dev_name(default_dev.unwrap_or(0)).to_string();
            cx.findings.push(Finding {
                check: "rs-rp-filter".into(),
                severity: Severity::Warning,
                subject: d.to_string(),
                en: format!("rp_filter is strict (1) on {d}, but the route back to clients leaves by {dd}: DR packets the director sends to {d} are dropped."),
                zh: format!("{d} 上的 rp_filter 为严格模式（1），但回到客户端的路由走 {dd}：调度器发到 {d} 的 DR 包会被丢弃。"),
                why_en: "fib_validate_source() does a reverse lookup of the client's address; with rp_filter=1 the packet is dropped unless that route leaves by the device the packet arrived on.".into(),
                why_zh: "fib_validate_source() 会反查客户端地址；rp_filter=1 时，除非该路由正好从包到达的设备出去，否则丢弃。".into(),
                fix: vec![
                    format!("echo 2 > /proc/sys/net/ipv4/conf/{d}/rp_filter"),
                    "echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter".into(),
                ],
            });
        }
    }
    if ok {
        cx.pass(
            "rs-rp-filter",
            "Reverse-path filtering lets client packets in on the devices they arrive by.".into(),
            "反向路径过滤允许客户端的包从其到达的设备进入。".into(),
        );
    }
}
