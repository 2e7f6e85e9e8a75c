//! The host doctor: the tutorial's pitfalls, found in a host's state.
//!
//! Linux decides an LVS-DR packet's fate with a handful of rules spread over
//! the stack: `ip_vs_in()` only sees packets that `ip_route_input()` delivered
//! locally (the VIP must be a `local` route on the director);
//! `arp_ignore()` (net/ipv4/arp.c) answers ARP for any local address unless
//! `arp_ignore` ≥ 1; `inet_select_addr()` picks the ARP sender address unless
//! `arp_announce` = 2; `fib_add_ifaddr()` (fib_frontend.c) turns the prefix
//! of an address on `lo` into a `local` route, so a /24 on `lo` swallows the
//! whole subnet; `fib_validate_source()` drops what fails the strict reverse
//! path check; `ip_vs_schedule()` finds no destination when a service has
//! none or all have weight 0.
//!
//! We model the doctor as pure checks over an engine [`Host`] (built from the
//! simulator or from a real host's snapshot, see `crate::snapshot`) and the
//! IPVS table as `ipvsadm` lists it. Each [`Finding`] carries the check's id,
//! what is wrong, the kernel's reason and the commands that fix it, in
//! English and Chinese. The checks read the *effective* sysctl values, as
//! the kernel does (`IN_DEV_MAXCONF`: the larger of `all` and the device).

use crate::addr::IfAddr;
use crate::device::DeviceKind;
use crate::fib::{RouteType, TABLE_LOCAL};
use crate::host::Host;
use crate::ipvs::{Fwd, ServiceEntry, ServiceKey};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};

/// What the host is in the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Director,
    Realserver,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Director => "director",
            Role::Realserver => "realserver",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "director" | "dir" | "lb" => Some(Role::Director),
            "realserver" | "real-server" | "rs" => Some(Role::Realserver),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Traffic is lost or misrouted.
    Error,
    /// Works now, breaks under a condition the text names.
    Warning,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id for scripts, e.g. `rs-vip-mask`.
    pub check: String,
    pub severity: Severity,
    /// What it is about: an address, a device, a service.
    pub subject: String,
    pub en: String,
    pub zh: String,
    /// The kernel's reason.
    pub why_en: String,
    pub why_zh: String,
    /// Shell commands that fix it, in order.
    pub fix: Vec<String>,
}

/// One check that was run and found nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passed {
    pub check: String,
    pub en: String,
    pub zh: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    pub role: Option<Role>,
    pub vip: Option<Ipv4Addr>,
    /// The host's iptables rules could not be read
    /// ([`crate::snapshot::NOTE_NO_IPTABLES`]): skip the fwmark checks.
    #[serde(default)]
    pub iptables_unknown: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub host: String,
    /// The role examined; `None` when none was given and none could be told.
    pub role: Option<Role>,
    /// Whether the role was given or inferred.
    pub role_inferred: bool,
    pub vips: Vec<Ipv4Addr>,
    pub findings: Vec<Finding>,
    pub passed: Vec<Passed>,
}

impl Report {
    pub fn problems(&self) -> usize {
        self.findings.len()
    }
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }
}

struct Ctx<'a> {
    host: &'a Host,
    findings: Vec<Finding>,
    passed: Vec<Passed>,
}

impl<'a> Ctx<'a> {
    #[allow(clippy::too_many_arguments)]
    fn find(
        &mut self,
        check: &str,
        severity: Severity,
        subject: String,
        en: String,
        zh: String,
        why_en: &str,
        why_zh: &str,
        fix: Vec<String>,
    ) {
        self.findings.push(Finding {
            check: check.into(),
            severity,
            subject,
            en,
            zh,
            why_en: why_en.into(),
            why_zh: why_zh.into(),
            fix,
        });
    }
    fn pass(&mut self, check: &str, en: String, zh: String) {
        self.passed.push(Passed {
            check: check.into(),
            en,
            zh,
        });
    }
    /// Up devices that talk ARP on the wire (not lo, not NOARP).
    fn arp_devices(&self) -> Vec<&'a str> {
        self.host
            .devices
            .values()
            .filter(|d| d.kind == DeviceKind::Ether && d.up)
            .map(|d| d.name.as_str())
            .collect()
    }
}

fn lo_addrs(host: &Host) -> Vec<&IfAddr> {
    host.devices
        .values()
        .filter(|d| d.is_loopback())
        .flat_map(|d| host.addrs.get(&d.ifindex).into_iter().flatten())
        .filter(|a| !a.local().is_loopback())
        .collect()
}

fn service_v4(k: &ServiceKey) -> Option<(Ipv4Addr, String)> {
    match k {
        ServiceKey::Addr {
            addr: IpAddr::V4(a),
            port,
            proto,
        } => Some((*a, format!("{} {a}:{port}", proto.name()))),
        _ => None,
    }
}

fn service_name(k: &ServiceKey) -> String {
    match k {
        ServiceKey::Addr { proto, addr, port } => match addr {
            IpAddr::V4(a) => format!("{} {a}:{port}", proto.name()),
            IpAddr::V6(a) => format!("{} [{a}]:{port}", proto.name()),
        },
        ServiceKey::Fwmark { mark, .. } => format!("FWM {mark}"),
    }
}

fn service_opt(k: &ServiceKey) -> String {
    match k {
        ServiceKey::Addr { proto, addr, port } => {
            let flag = match proto.name() {
                "UDP" => "-u",
                "SCTP" => "--sctp-service",
                _ => "-t",
            };
            match addr {
                IpAddr::V4(a) => format!("{flag} {a}:{port}"),
                IpAddr::V6(a) => format!("{flag} [{a}]:{port}"),
            }
        }
        ServiceKey::Fwmark { mark, .. } => format!("-f {mark}"),
    }
}

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

/// Examine `host` (with `services` as `ipvsadm -Ln` lists them).
pub fn examine(host: &Host, services: &[ServiceEntry], opts: &Options) -> Report {
    // The kernel lists services in hash-bucket order (keyed per boot) and
    // real servers newest first: report in a stable order instead.
    let mut sorted = services.to_vec();
    sorted.sort_by_key(|s| s.spec.key);
    for s in &mut sorted {
        s.dests.sort_by_key(|d| (d.spec.addr, d.spec.port));
    }
    let services = &sorted[..];
    let (role, inferred) = match opts.role {
        Some(r) => (Some(r), false),
        None if !services.is_empty() => (Some(Role::Director), true),
        None if opts.vip.is_some() || !lo_addrs(host).is_empty() => (Some(Role::Realserver), true),
        None => (None, true),
    };
    let mut cx = Ctx {
        host,
        findings: Vec::new(),
        passed: Vec::new(),
    };
    let vips = match role {
        Some(Role::Director) => {
            let mut v: Vec<Ipv4Addr> = services
                .iter()
                .filter_map(|s| service_v4(&s.spec.key).map(|x| x.0))
                .collect();
            if let Some(x) = opts.vip {
                v.push(x);
            }
            v.sort();
            v.dedup();
            v
        }
        Some(Role::Realserver) => match opts.vip {
            Some(v) => vec![v],
            None => {
                let mut v: Vec<Ipv4Addr> = lo_addrs(host).iter().map(|a| a.local()).collect();
                v.dedup();
                v
            }
        },
        None => Vec::new(),
    };
    match role {
        Some(Role::Director) => {
            director(&mut cx, services, opts.vip);
            if !opts.iptables_unknown {
                fwmark_rules(&mut cx, services, opts.vip.or(vips.first().copied()));
            }
        }
        Some(Role::Realserver) => {
            for &vip in &vips {
                realserver_vip(&mut cx, vip);
            }
            realserver_arp(&mut cx);
            realserver_rp_filter(&mut cx);
        }
        None => {}
    }
    Report {
        host: host.name.clone(),
        role,
        role_inferred: inferred,
        vips,
        findings: cx.findings,
        passed: cx.passed,
    }
}

fn director(cx: &mut Ctx<'_>, services: &[ServiceEntry], vip: Option<Ipv4Addr>) {
    let host = cx.host;
    if services.is_empty() {
        cx.find(
            "dir-no-services",
            Severity::Error,
            "ipvs".into(),
            "No IPVS virtual service is configured: nothing is load balanced.".into(),
            "没有配置任何 IPVS 虚拟服务：没有流量会被负载均衡。".into(),
            "ip_vs_in() only handles packets that match a virtual service (ip_vs_service_find()); everything else is delivered to the director's own sockets.",
            "ip_vs_in() 只处理匹配某个虚拟服务（ip_vs_service_find()）的包，其余的都交给调度器本机的套接字。",
            vec![format!("ipvsadm -A -t {}:80 -s rr", vip.map_or("VIP".to_string(), |v| v.to_string()))],
        );
    }
    let mut vips_seen = Vec::new();
    for s in services {
        let name = service_name(&s.spec.key);
        let opt = service_opt(&s.spec.key);
        if let Some((vip, _)) = service_v4(&s.spec.key) {
            if !vips_seen.contains(&vip) {
                vips_seen.push(vip);
                let local = host
                    .fib
                    .lookup_table(TABLE_LOCAL, vip, None)
                    .is_some_and(|r| r.rtype == RouteType::Local);
                if local {
                    cx.pass(
                        "dir-vip-local",
                        format!("VIP {vip} is a local address of the director."),
                        format!("VIP {vip} 是调度器的本机地址。"),
                    );
                } else {
                    let dev = host
                        .fib
                        .lookup(vip, None)
                        .ok()
                        .and_then(|r| r.route.ifindex)
                        .map(|i| host.dev_name(i).to_string())
                        .filter(|d| d != "lo")
                        .unwrap_or_else(|| "eth0".into());
                    cx.find(
                        "dir-vip-not-local",
                        Severity::Error,
                        vip.to_string(),
                        format!("VIP {vip} is not configured on the director, so {name} never sees a packet."),
                        format!("调度器上没有配置 VIP {vip}，{name} 永远收不到包。"),
                        "IPVS hooks NF_INET_LOCAL_IN: ip_route_input() must find a `local` route for the destination, otherwise the packet is forwarded or dropped before IPVS looks at it. Nobody answers ARP for the VIP either.",
                        "IPVS 挂在 NF_INET_LOCAL_IN 上：ip_route_input() 必须为目的地址找到 `local` 路由，否则包在 IPVS 看到之前就被转发或丢弃。也没有主机应答该 VIP 的 ARP。",
                        vec![format!("ifconfig {dev}:8 {vip} netmask 255.255.255.255 up")],
                    );
                }
            }
        }
        if s.dests.is_empty() {
            cx.find(
                "dir-service-no-dests",
                Severity::Error,
                name.clone(),
                format!("Virtual service {name} has no real servers: clients get \"connection refused\"."),
                format!("虚拟服务 {name} 没有真实服务器：客户端会收到“连接被拒绝”。"),
                "ip_vs_schedule() finds no destination; ip_vs_leave() then answers ICMP port unreachable and drops the packet.",
                "ip_vs_schedule() 找不到目的服务器；随后 ip_vs_leave() 回应 ICMP 端口不可达并丢弃该包。",
                vec![format!("ipvsadm -a {opt} -r RIP -g -w 1")],
            );
            continue;
        }
        let zero: Vec<&crate::ipvs::DestEntry> =
            s.dests.iter().filter(|d| d.spec.weight == 0).collect();
        if !zero.is_empty() {
            let all = zero.len() == s.dests.len();
            for d in &zero {
                let rip = d.spec.addr;
                cx.find(
                    "dir-dest-weight-zero",
                    if all { Severity::Error } else { Severity::Warning },
                    format!("{name} -> {rip}:{}", d.spec.port),
                    if all {
                        format!("Real server {rip}:{} of {name} has weight 0, and so do all the others: no new connection can be scheduled.", d.spec.port)
                    } else {
                        format!("Real server {rip}:{} of {name} has weight 0: it gets no new connections (quiesced).", d.spec.port)
                    },
                    if all {
                        format!("{name} 的真实服务器 {rip}:{} 权重为 0，其他的也都是 0：无法调度任何新连接。", d.spec.port)
                    } else {
                        format!("{name} 的真实服务器 {rip}:{} 权重为 0：它不会再收到新连接（已静默）。", d.spec.port)
                    },
                    "Every scheduler skips destinations with weight 0 (IP_VS_DEST_F_OVERLOAD aside, weight 0 is how ipvsadm quiesces a server); existing connections stay.",
                    "所有调度算法都会跳过权重为 0 的目的服务器（这是 ipvsadm 静默一台服务器的方式），已有连接保持不变。",
                    vec![format!("ipvsadm -e {opt} -r {} -w 1", fmt_dest(rip, d.spec.port))],
                );
            }
        } else {
            cx.pass(
                "dir-dest-weights",
                format!(
                    "{name}: {} real server(s), all with weight > 0.",
                    s.dests.len()
                ),
                format!("{name}：{} 台真实服务器，权重都大于 0。", s.dests.len()),
            );
        }
        for d in &s.dests {
            let IpAddr::V4(rip) = d.spec.addr else {
                continue;
            };
            match d.spec.fwd {
                Fwd::Route => match host.fib.lookup(rip, None) {
                    Ok(r) if r.route.gateway.is_none() && r.route.rtype == RouteType::Unicast => {
                        cx.pass(
                            "dir-dr-on-link",
                            format!("DR real server {rip} is on a directly connected subnet ({}).", host.dev_name(r.route.ifindex.unwrap_or(0))),
                            format!("DR 真实服务器 {rip} 位于直连网段（{}）。", host.dev_name(r.route.ifindex.unwrap_or(0))),
                        );
                    }
                    Ok(r) if r.route.rtype == RouteType::Local => cx.find(
                        "dir-dr-dest-local",
                        Severity::Error,
                        rip.to_string(),
                        format!("DR real server {rip} of {name} is an address of the director itself."),
                        format!("{name} 的 DR 真实服务器 {rip} 是调度器自己的地址。"),
                        "A destination that is local becomes IP_VS_CONN_F_LOCALNODE: the director serves the connection itself instead of routing it.",
                        "本机地址作为目的服务器会变成 IP_VS_CONN_F_LOCALNODE：由调度器自己处理连接，而不是转发。",
                        vec![format!("ipvsadm -d {opt} -r {rip}")],
                    ),
                    Ok(r) => cx.find(
                        "dir-dr-dest-not-on-link",
                        Severity::Error,
                        rip.to_string(),
                        format!("DR real server {rip} of {name} is reached via the gateway {}, not on a directly connected subnet.", r.route.gateway.map_or("?".into(), |g| g.to_string())),
                        format!("{name} 的 DR 真实服务器 {rip} 要经过网关 {} 才能到达，不在直连网段。", r.route.gateway.map_or("?".into(), |g| g.to_string())),
                        "Direct routing only rewrites the destination MAC: ip_vs_dr_xmit() sends the frame to the real server's own MAC (IP_VS_RT_MODE_KNOWN_NH), so the real server must share the director's Ethernet segment. A remote real server needs tunnelling (-i) or NAT (-m).",
                        "直接路由只改写目的 MAC：ip_vs_dr_xmit() 把帧直接发往真实服务器自己的 MAC（IP_VS_RT_MODE_KNOWN_NH），所以真实服务器必须和调度器在同一个以太网段。远程真实服务器需要隧道（-i）或 NAT（-m）。",
                        vec![format!("ipvsadm -e {opt} -r {rip} -i")],
                    ),
                    Err(e) => cx.find(
                        "dir-dest-no-route",
                        Severity::Error,
                        rip.to_string(),
                        format!("The director has no route to real server {rip} of {name} ({e})."),
                        format!("调度器没有到 {name} 的真实服务器 {rip} 的路由（{e}）。"),
                        "__ip_vs_get_out_rt() fails the route lookup and the packet is dropped.",
                        "__ip_vs_get_out_rt() 查路由失败，包被丢弃。",
                        vec![format!("ip route add {rip}/32 dev eth0")],
                    ),
                },
                Fwd::Masq if host.sysctl.ip_forward() == 0 => cx.find(
                    "dir-nat-no-forwarding",
                    Severity::Error,
                    rip.to_string(),
                    format!("NAT real server {rip} of {name}: IP forwarding is off on the director."),
                    format!("{name} 的 NAT 真实服务器 {rip}：调度器没有开启 IP 转发。"),
                    "In NAT mode the replies pass through the director and are rewritten by ip_vs_out() on the FORWARD path; with net.ipv4.ip_forward=0 ip_route_input() refuses to forward them.",
                    "NAT 模式下应答要经过调度器，在 FORWARD 路径上由 ip_vs_out() 改写；net.ipv4.ip_forward=0 时 ip_route_input() 拒绝转发。",
                    vec!["sysctl -w net.ipv4.ip_forward=1".into()],
                ),
                _ => {}
            }
        }
    }
}

/// A fwmark service gets only packets that an iptables MARK rule marked
/// before IPVS sees them (mangle PREROUTING for traffic from the wire).
fn fwmark_rules(cx: &mut Ctx<'_>, services: &[ServiceEntry], vip: Option<Ipv4Addr>) {
    use crate::netfilter::{Hook, Target};
    let pre = &cx.host.mangle.chain(Hook::Prerouting).rules;
    for s in services {
        let ServiceKey::Fwmark { mark, .. } = s.spec.key else {
            continue;
        };
        // The mark a rule gives an unmarked packet: (0 & !mask) ^ value.
        let marked = pre
            .iter()
            .any(|r| matches!(r.spec.target, Some(Target::Mark { value, .. }) if value == mark));
        let name = service_name(&s.spec.key);
        if marked {
            cx.pass(
                "dir-fwmark-rule",
                format!("{name}: an iptables mangle PREROUTING rule sets mark {mark}."),
                format!("{name}：有 iptables mangle PREROUTING 规则设置标记 {mark}。"),
            );
        } else {
            let vip = vip.map_or("VIP".to_string(), |v| v.to_string());
            cx.find(
                "dir-fwmark-no-rule",
                Severity::Error,
                name.clone(),
                format!("{name} receives nothing: no iptables rule in the mangle table's PREROUTING chain sets firewall mark {mark}."),
                format!("{name} 收不到任何包：mangle 表的 PREROUTING 链里没有设置防火墙标记 {mark} 的 iptables 规则。"),
                "ip_vs_service_find() matches a fwmark service only by skb->mark, which only a MARK target sets (xt_MARK, before routing); an unmarked packet is looked up by protocol, address and port instead.",
                "ip_vs_service_find() 只按 skb->mark 匹配防火墙标记服务，而标记只能由 MARK 目标（xt_MARK，在路由之前）设置；未打标记的包改按协议、地址和端口查找。",
                vec![format!("iptables -t mangle -A PREROUTING -d {vip} -p tcp --dport 80 -j MARK --set-mark {mark}")],
            );
        }
    }
}

fn fmt_dest(a: IpAddr, port: u16) -> String {
    match a {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

fn realserver_vip(cx: &mut Ctx<'_>, vip: Ipv4Addr) {
    let host = cx.host;
    let on: Vec<&IfAddr> = host.all_addrs().filter(|a| a.local() == vip).collect();
    if on.is_empty() {
        let typo = lo_addrs(host)
            .into_iter()
            .find(|a| one_octet_apart(a.local(), vip));
        match typo {
            Some(t) => cx.find(
                "rs-vip-typo",
                Severity::Error,
                vip.to_string(),
                format!("The VIP {vip} is not configured, but {} is on {}: a typo?", t.local(), t.label),
                format!("没有配置 VIP {vip}，但 {} 上有 {}：是笔误吗？", t.label, t.local()),
                "The director forwards frames whose IP destination is still the VIP. ip_route_input() finds no local route for it and, with forwarding off, drops the packet: the director's connection stays in SYN_RECV.",
                "调度器转发来的帧，IP 目的地址仍是 VIP。ip_route_input() 找不到它的本地路由，转发又是关闭的，于是丢弃该包：调度器上的连接停在 SYN_RECV。",
                vec![
                    format!("ip addr del {}/{} dev lo", t.local(), t.prefix_len()),
                    format!("ifconfig lo:2 {vip} netmask 255.255.255.255"),
                ],
            ),
            None => cx.find(
                "rs-vip-missing",
                Severity::Error,
                vip.to_string(),
                format!("The VIP {vip} is not configured on this real server."),
                format!("这台真实服务器上没有配置 VIP {vip}。"),
                "The director forwards frames whose IP destination is still the VIP. ip_route_input() finds no local route for it and, with forwarding off, drops the packet: the director's connection stays in SYN_RECV. (`ifconfig lo:2 down` deletes the address: devinet_ioctl() calls inet_del_ifa().)",
                "调度器转发来的帧，IP 目的地址仍是 VIP。ip_route_input() 找不到它的本地路由，转发又是关闭的，于是丢弃该包：调度器上的连接停在 SYN_RECV。（`ifconfig lo:2 down` 会删除这个地址：devinet_ioctl() 调用 inet_del_ifa()。）",
                vec![format!("ifconfig lo:2 {vip} netmask 255.255.255.255")],
            ),
        }
        return;
    }
    for a in on {
        let dev = host.device(a.ifindex);
        let dev_name = dev.map_or("?", |d| d.name.as_str());
        let is_lo = dev.is_some_and(|d| d.is_loopback());
        if !is_lo {
            cx.find(
                "rs-vip-on-wire-device",
                Severity::Error,
                vip.to_string(),
                format!("The VIP {vip} is on {dev_name}, a device on the wire, not on lo."),
                format!("VIP {vip} 配置在 {dev_name} 这个接入网络的设备上，而不是 lo 上。"),
                "arp_ignore=1 still answers ARP for an address configured on the incoming device, so this real server answers who-has VIP and competes with the director.",
                "arp_ignore=1 仍会应答配置在入口设备上的地址的 ARP，于是这台真实服务器会应答 VIP 的 ARP 请求，与调度器抢占 VIP。",
                vec![
                    format!("ip addr del {vip}/{} dev {dev_name}", a.prefix_len()),
                    format!("ifconfig lo:2 {vip} netmask 255.255.255.255"),
                ],
            );
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
            cx.find(
                "rs-vip-mask",
                Severity::Error,
                vip.to_string(),
                format!("The VIP {vip} is on {} with /{} (netmask {}): the whole subnet {net} becomes local (e.g. {victim} now matches `{hit}`).", a.label, a.prefix_len(), a.net.netmask()),
                format!("VIP {vip} 以 /{}（掩码 {}）配置在 {} 上：整个网段 {net} 都变成了本机地址（例如 {victim} 现在命中 `{hit}`）。", a.prefix_len(), a.net.netmask(), a.label),
                "fib_add_ifaddr() installs the prefix of an address on a loopback device as a `local` route in the local table (`local NET/len dev lo`). The local table is consulted first, so every address of the subnet, e.g. the gateway or the client, is delivered to this host itself: replies never leave.",
                "fib_add_ifaddr() 会把回环设备上地址的网段作为 `local` 路由装入 local 表（`local NET/len dev lo`）。local 表最先查找，所以该网段的每个地址（例如网关或客户端）都被当成本机：应答永远发不出去。",
                vec![
                    format!("ip addr del {vip}/{} dev lo", a.prefix_len()),
                    format!("ifconfig {} {vip} netmask 255.255.255.255", a.label),
                ],
            );
        } else if !host.devices.values().any(|d| d.is_loopback() && d.up) {
            cx.find(
                "rs-lo-down",
                Severity::Error,
                vip.to_string(),
                format!("The VIP {vip} is on lo, but lo is down."),
                format!("VIP {vip} 在 lo 上，但 lo 处于关闭状态。"),
                "fib_disable_ip() removes the local routes of a device that goes down, so the VIP is no longer local.",
                "设备关闭时 fib_disable_ip() 会删除它的本地路由，VIP 不再是本机地址。",
                vec!["ip link set lo up".into()],
            );
        } else {
            cx.pass(
                "rs-vip",
                format!("VIP {vip} is on {} with /32.", a.label),
                format!("VIP {vip} 以 /32 配置在 {} 上。", a.label),
            );
        }
    }
}

fn realserver_arp(cx: &mut Ctx<'_>) {
    let host = cx.host;
    let devs = cx.arp_devices();
    let mut bad_ignore = Vec::new();
    let mut bad_announce = Vec::new();
    let mut mute = Vec::new();
    for d in &devs {
        let ig = host.sysctl.effective(d, "arp_ignore");
        let an = host.sysctl.effective(d, "arp_announce");
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
        cx.find(
            "rs-arp-ignore",
            Severity::Error,
            d.to_string(),
            format!("arp_ignore on {d} is {v} (effective: max of {}); a real server needs 1.", sys(d, "arp_ignore")),
            format!("{d} 上的 arp_ignore 为 {v}（有效值取 {} 中的较大者）；真实服务器需要 1。", sys(d, "arp_ignore")),
            "arp_ignore() (net/ipv4/arp.c) with 0 answers ARP for any local address on any interface, so the real server answers who-has VIP on the wire; the gateway may learn the VIP at a real server's MAC and bypass the director.",
            "arp_ignore=0 时 arp_ignore()（net/ipv4/arp.c）会为任意接口上的任意本机地址应答 ARP，于是真实服务器会在网线上应答 VIP 的 ARP；网关可能把 VIP 学到真实服务器的 MAC 上，绕过调度器。",
            vec![
                "echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore".into(),
                format!("echo 1 > /proc/sys/net/ipv4/conf/{d}/arp_ignore"),
            ],
        );
    }
    for d in &mute {
        cx.find(
            "rs-arp-ignore-8",
            Severity::Warning,
            d.to_string(),
            format!("arp_ignore on {d} is 8: this host answers no ARP at all, not even for its own address."),
            format!("{d} 上的 arp_ignore 为 8：本机不应答任何 ARP，连自己的地址也不应答。"),
            "arp_ignore() returns 1 (do not reply) for every request when the level is 8; the director cannot resolve this real server's MAC once its cache entry expires.",
            "级别为 8 时 arp_ignore() 对所有请求都返回 1（不应答）；调度器的缓存过期后就无法解析这台真实服务器的 MAC。",
            vec![format!("echo 1 > /proc/sys/net/ipv4/conf/{d}/arp_ignore"), "echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore".into()],
        );
    }
    if bad_announce.is_empty() {
        cx.pass(
            "rs-arp-announce",
            format!("arp_announce is 2 on {}.", devs.join(", ")),
            format!("{} 上的 arp_announce 为 2。", devs.join("、")),
        );
    }
    for (d, v) in &bad_announce {
        cx.find(
            "rs-arp-announce",
            Severity::Error,
            d.to_string(),
            format!("arp_announce on {d} is {v} (effective: max of {}); a real server needs 2.", sys(d, "arp_announce")),
            format!("{d} 上的 arp_announce 为 {v}（有效值取 {} 中的较大者）；真实服务器需要 2。", sys(d, "arp_announce")),
            "arp_solicit() uses the packet's source address as the ARP sender address unless arp_announce=2, which makes inet_select_addr() pick the device's own address. Replies come from the VIP, so the real server announces the VIP at its own MAC and neighbours update their caches.",
            "除非 arp_announce=2（让 inet_select_addr() 选出设备自己的地址），arp_solicit() 会用数据包的源地址作为 ARP 发送方地址。应答的源地址是 VIP，于是真实服务器把 VIP 与自己的 MAC 一起通告出去，邻居会更新缓存。",
            vec![
                "echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce".into(),
                format!("echo 2 > /proc/sys/net/ipv4/conf/{d}/arp_announce"),
            ],
        );
    }
}

fn realserver_rp_filter(cx: &mut Ctx<'_>) {
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
        let strict = host.sysctl.effective(d, "rp_filter") == 1;
        let Ok(idx) = host.ifindex(d) else { continue };
        if strict && default_dev.is_some_and(|dd| dd != idx) {
            ok = false;
            let dd = host.dev_name(default_dev.unwrap_or(0)).to_string();
            cx.find(
                "rs-rp-filter",
                Severity::Warning,
                d.to_string(),
                format!("rp_filter is strict (1) on {d}, but the route back to clients leaves by {dd}: DR packets the director sends to {d} are dropped."),
                format!("{d} 上的 rp_filter 为严格模式（1），但回到客户端的路由走 {dd}：调度器发到 {d} 的 DR 包会被丢弃。"),
                "fib_validate_source() does a reverse lookup of the client's address; with rp_filter=1 the packet is dropped unless that route leaves by the device the packet arrived on.",
                "fib_validate_source() 会反查客户端地址；rp_filter=1 时，除非该路由正好从包到达的设备出去，否则丢弃。",
                vec![
                    format!("echo 2 > /proc/sys/net/ipv4/conf/{d}/rp_filter"),
                    "echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter".into(),
                ],
            );
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

impl std::fmt::Display for Report {
    /// The text `lvslab doctor` prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let role = match self.role {
            Some(r) => format!(
                "{}{}",
                r.name(),
                if self.role_inferred {
                    " (inferred)"
                } else {
                    ""
                }
            ),
            None => "unknown".into(),
        };
        write!(f, "{}: role {role}", self.host)?;
        if !self.vips.is_empty() {
            let v: Vec<String> = self.vips.iter().map(|v| v.to_string()).collect();
            write!(f, ", VIP {}", v.join(", "))?;
        }
        writeln!(f)?;
        if self.role.is_none() {
            writeln!(
                f,
                "  no IPVS services and no VIP on lo: nothing to check; pass --role and --vip"
            )?;
        }
        for p in &self.passed {
            writeln!(f, "  ok    {}", p.en)?;
        }
        for x in &self.findings {
            let tag = match x.severity {
                Severity::Error => "ERROR",
                Severity::Warning => "WARN ",
            };
            writeln!(f, "  {tag} [{}] {}", x.check, x.en)?;
            writeln!(f, "        why: {}", x.why_en)?;
            for c in &x.fix {
                writeln!(f, "        fix: {c}")?;
            }
        }
        match self.findings.len() {
            0 => writeln!(f, "no problems found"),
            1 => writeln!(f, "1 problem found"),
            n => writeln!(f, "{n} problems found"),
        }
    }
}

/// Examine a simulated host, with its own IPVS table.
pub fn examine_host(host: &Host, opts: &Options) -> Report {
    use crate::ipvs::{IpvsBackend, SimBackend};
    let mut ipvs = host.ipvs.clone();
    let services = if ipvs.loaded {
        SimBackend {
            ipvs: &mut ipvs,
            now: crate::SimTime(0),
        }
        .services()
        .unwrap_or_default()
    } else {
        Vec::new()
    };
    examine(host, &services, opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;

    fn ids(world: &crate::World, host: &str, opts: &Options) -> Vec<String> {
        let r = examine_host(world.host(host).unwrap(), opts);
        r.findings.iter().map(|f| f.check.clone()).collect()
    }

    #[test]
    fn seed_is_healthy() {
        let w = scenario::load("seed").unwrap();
        let d = examine_host(w.host("node01").unwrap(), &Options::default());
        assert_eq!(d.role, Some(Role::Director));
        assert!(d.findings.is_empty(), "{d}");
        assert!(d.passed.iter().any(|p| p.check == "dir-vip-local"));
        for rs in ["node02", "node03"] {
            let r = examine_host(w.host(rs).unwrap(), &Options::default());
            assert_eq!(r.role, Some(Role::Realserver));
            assert_eq!(r.vips, vec![Ipv4Addr::new(192, 168, 150, 100)]);
            assert!(r.findings.is_empty(), "{r}");
            assert!(r.to_string().ends_with("no problems found\n"));
        }
    }

    #[test]
    fn each_pitfall_is_found() {
        let vip = Options {
            role: Some(Role::Realserver),
            vip: Some(Ipv4Addr::new(192, 168, 150, 100)),
            ..Default::default()
        };
        let w = scenario::load("pitfall-lo-mask-24").unwrap();
        assert_eq!(ids(&w, "node02", &vip), ["rs-vip-mask"]);
        let r = examine_host(w.host("node02").unwrap(), &vip);
        assert!(
            r.findings[0]
                .en
                .contains("192.168.150.1 now matches `local 192.168.150.0/24 dev lo`"),
            "{r}"
        );

        let w = scenario::load("pitfall-no-arp-sysctls").unwrap();
        assert_eq!(
            ids(&w, "node03", &vip),
            ["rs-arp-ignore", "rs-arp-announce"]
        );

        let w = scenario::load("pitfall-lo-down").unwrap();
        assert_eq!(ids(&w, "node02", &vip), ["rs-vip-missing"]);
        assert!(ids(&w, "node03", &vip).is_empty());

        let w = scenario::load("pitfall-typo-192-178").unwrap();
        let r = examine_host(w.host("node02").unwrap(), &vip);
        assert_eq!(r.findings.len(), 1, "{r}");
        assert_eq!(r.findings[0].check, "rs-vip-typo");
        assert_eq!(
            r.findings[0].fix[0],
            "ip addr del 192.178.150.100/32 dev lo"
        );
        // Without --vip the doctor takes the address on lo as the VIP.
        let r = examine_host(w.host("node02").unwrap(), &Options::default());
        assert_eq!(r.vips, vec![Ipv4Addr::new(192, 178, 150, 100)]);
    }

    #[test]
    fn director_checks() {
        let mut lab = crate::shell::Lab::new(scenario::load("seed").unwrap());
        let none = Options::default();
        lab.run(
            "node01",
            "ipvsadm -e -t 192.168.150.100:80 -r 192.168.150.12 -g -w 0",
        );
        assert_eq!(ids(&lab.world, "node01", &none), ["dir-dest-weight-zero"]);
        let r = examine_host(lab.world.host("node01").unwrap(), &none);
        assert_eq!(r.findings[0].severity, Severity::Warning);
        lab.run(
            "node01",
            "ipvsadm -e -t 192.168.150.100:80 -r 192.168.150.13 -g -w 0",
        );
        let r = examine_host(lab.world.host("node01").unwrap(), &none);
        assert!(
            r.findings.iter().all(|f| f.severity == Severity::Error),
            "{r}"
        );
        lab.run("node01", "ipvsadm -A -t 192.168.150.200:80 -s rr");
        lab.run("node01", "ipvsadm -A -t 192.168.150.100:443 -s rr");
        lab.run("node01", "ipvsadm -a -t 192.168.150.100:443 -r 10.9.9.9 -g");
        lab.run(
            "node01",
            "ipvsadm -a -t 192.168.150.100:443 -r 192.168.150.14 -m",
        );
        let got = ids(&lab.world, "node01", &none);
        for want in [
            "dir-vip-not-local",
            "dir-service-no-dests",
            "dir-dr-dest-not-on-link",
            "dir-nat-no-forwarding",
        ] {
            assert!(got.iter().any(|g| g == want), "{want} missing in {got:?}");
        }
        assert!(examine_host(lab.world.host("node01").unwrap(), &none).problems() >= 6);
    }

    #[test]
    fn nothing_to_check() {
        let w = scenario::bare();
        let r = examine_host(w.host("node02").unwrap(), &Options::default());
        assert_eq!(r.role, None);
        assert!(r.findings.is_empty());
        assert!(r.to_string().contains("nothing to check"));
        // A given role is examined even on a bare host.
        let r = examine_host(
            w.host("node02").unwrap(),
            &Options {
                role: Some(Role::Realserver),
                vip: Some(Ipv4Addr::new(192, 168, 150, 100)),
                ..Default::default()
            },
        );
        assert_eq!(
            r.findings
                .iter()
                .map(|f| f.check.as_str())
                .collect::<Vec<_>>(),
            ["rs-vip-missing", "rs-arp-ignore", "rs-arp-announce"]
        );
    }

    #[test]
    fn a_fwmark_service_needs_a_mark_rule() {
        let mut lab = crate::shell::Lab::new(scenario::load("seed").unwrap());
        lab.run(
            "node01",
            "ipvsadm -A -f 7 -s rr; ipvsadm -a -f 7 -r 192.168.150.12 -g",
        );
        let opts = Options {
            role: Some(Role::Director),
            ..Default::default()
        };
        let has = |lab: &crate::shell::Lab, o: &Options| {
            ids(&lab.world, "node01", o).contains(&"dir-fwmark-no-rule".to_string())
        };
        assert!(has(&lab, &opts));
        let unknown = Options {
            iptables_unknown: true,
            ..opts.clone()
        };
        assert!(!has(&lab, &unknown), "skipped when the rules are unknown");
        lab.run(
            "node01",
            "iptables -t mangle -A PREROUTING -d 192.168.150.100 -p tcp --dport 80 -j MARK --set-mark 7",
        );
        assert!(!has(&lab, &opts));
        // A snapshot carries the rules (as iptables-save lines) and back.
        let snap = crate::snapshot::HostSnapshot::of_host(lab.world.host("node01").unwrap());
        let (h, notes) = snap.to_host();
        assert!(!notes.iter().any(|n| n.contains("iptables")), "{notes:?}");
        assert_eq!(
            h.mangle
                .chain(crate::netfilter::Hook::Prerouting)
                .rules
                .len(),
            1
        );
        let mut blind = snap.clone();
        blind.mangle = None;
        assert!(blind
            .to_host()
            .1
            .contains(&crate::snapshot::NOTE_NO_IPTABLES.to_string()));
    }
}
