//! The director's checks: the VIP is a `local` route (`ip_route_input()`
//! must deliver it for `ip_vs_in()` to see it), services have real servers
//! with weight, forwarding methods fit the lab, and fwmark services have
//! the iptables MARK rule that feeds them.

use super::*;
use crate::net::ipv4::fib::{RouteType, TABLE_LOCAL};
use crate::net::netfilter::ipvs::{Fwd, ServiceEntry, ServiceKey};
use std::net::{IpAddr, Ipv4Addr};

pub(crate) fn director(cx: &mut Ctx<'_>, services: &[ServiceEntry], vip: Option<Ipv4Addr>) {
    let host = cx.host;
    if services.is_empty() {
        cx.findings.push(Finding {
            check: "dir-no-services".into(),
            severity: Severity::Error,
            subject: "ipvs".into(),
            en: "No IPVS virtual service is configured: nothing is load balanced.".into(),
            zh: "没有配置任何 IPVS 虚拟服务：没有流量会被负载均衡。".into(),
            why_en: "ip_vs_in() only handles packets that match a virtual service (ip_vs_service_find()); everything else is delivered to the director's own sockets.".into(),
            why_zh: "ip_vs_in() 只处理匹配某个虚拟服务（ip_vs_service_find()）的包，其余的都交给调度器本机的套接字。".into(),
            fix: vec![format!("ipvsadm -A -t {}:80 -s rr", vip.map_or("VIP".to_string(), |v| v.to_string()))],
        });
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
                    cx.findings.push(Finding {
                        check: "dir-vip-not-local".into(),
                        severity: Severity::Error,
                        subject: vip.to_string(),
                        en: format!("VIP {vip} is not configured on the director, so {name} never sees a packet."),
                        zh: format!("调度器上没有配置 VIP {vip}，{name} 永远收不到包。"),
                        why_en: "IPVS hooks NF_INET_LOCAL_IN: ip_route_input() must find a `local` route for the destination, otherwise the packet is forwarded or dropped before IPVS looks at it. Nobody answers ARP for the VIP either.".into(),
                        why_zh: "IPVS 挂在 NF_INET_LOCAL_IN 上：ip_route_input() 必须为目的地址找到 `local` 路由，否则包在 IPVS 看到之前就被转发或丢弃。也没有主机应答该 VIP 的 ARP。".into(),
                        fix: vec![format!("ifconfig {dev}:8 {vip} netmask 255.255.255.255 up")],
                    });
                }
            }
        }
        if s.dests.is_empty() {
            cx.findings.push(Finding {
                check: "dir-service-no-dests".into(),
                severity: Severity::Error,
                subject: name.clone(),
                en: format!("Virtual service {name} has no real servers: clients get \"connection refused\"."),
                zh: format!("虚拟服务 {name} 没有真实服务器：客户端会收到“连接被拒绝”。"),
                why_en: "ip_vs_schedule() finds no destination; ip_vs_leave() then answers ICMP port unreachable and drops the packet.".into(),
                why_zh: "ip_vs_schedule() 找不到目的服务器；随后 ip_vs_leave() 回应 ICMP 端口不可达并丢弃该包。".into(),
                fix: vec![format!("ipvsadm -a {opt} -r RIP -g -w 1")],
            });
            continue;
        }
        let zero: Vec<&crate::net::netfilter::ipvs::DestEntry> =
            s.dests.iter().filter(|d| d.spec.weight == 0).collect();
        if !zero.is_empty() {
            let all = zero.len() == s.dests.len();
            for d in &zero {
                let rip = d.spec.addr;
                cx.findings.push(Finding {
                    check: "dir-dest-weight-zero".into(),
                    severity: if all { Severity::Error } else { Severity::Warning },
                    subject: format!("{name} -> {rip}:{}", d.spec.port),
                    en: if all {
                        format!("Real server {rip}:{} of {name} has weight 0, and so do all the others: no new connection can be scheduled.", d.spec.port)
                    } else {
                        format!("Real server {rip}:{} of {name} has weight 0: it gets no new connections (quiesced).", d.spec.port)
                    },
                    zh: if all {
                        format!("{name} 的真实服务器 {rip}:{} 权重为 0，其他的也都是 0：无法调度任何新连接。", d.spec.port)
                    } else {
                        format!("{name} 的真实服务器 {rip}:{} 权重为 0：它不会再收到新连接（已静默）。", d.spec.port)
                    },
                    why_en: "Every scheduler skips destinations with weight 0 (IP_VS_DEST_F_OVERLOAD aside, weight 0 is how ipvsadm quiesces a server); existing connections stay.".into(),
                    why_zh: "所有调度算法都会跳过权重为 0 的目的服务器（这是 ipvsadm 静默一台服务器的方式），已有连接保持不变。".into(),
                    fix: vec![format!("ipvsadm -e {opt} -r {} -w 1", fmt_dest(rip, d.spec.port))],
                });
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
                    Ok(r) if r.route.rtype == RouteType::Local => cx.findings.push(Finding {
     check: "dir-dr-dest-local".into(),
     severity: Severity::Error,
     subject: rip.to_string(),
     en: format!("DR real server {rip} of {name} is an address of the director itself."),
     zh: format!("{name} 的 DR 真实服务器 {rip} 是调度器自己的地址。"),
     why_en: "A destination that is local becomes IP_VS_CONN_F_LOCALNODE: the director serves the connection itself instead of routing it.".into(),
     why_zh: "本机地址作为目的服务器会变成 IP_VS_CONN_F_LOCALNODE：由调度器自己处理连接，而不是转发。".into(),
     fix: vec![format!("ipvsadm -d {opt} -r {rip}")],
 }),
                    Ok(r) => cx.findings.push(Finding {
     check: "dir-dr-dest-not-on-link".into(),
     severity: Severity::Error,
     subject: rip.to_string(),
     en: format!("DR real server {rip} of {name} is reached via the gateway {}, not on a directly connected subnet.", r.route.gateway.map_or("?".into(), |g| g.to_string())),
     zh: format!("{name} 的 DR 真实服务器 {rip} 要经过网关 {} 才能到达，不在直连网段。", r.route.gateway.map_or("?".into(), |g| g.to_string())),
     why_en: "Direct routing only rewrites the destination MAC: ip_vs_dr_xmit() sends the frame to the real server's own MAC (IP_VS_RT_MODE_KNOWN_NH), so the real server must share the director's Ethernet segment. A remote real server needs tunnelling (-i) or NAT (-m).".into(),
     why_zh: "直接路由只改写目的 MAC：ip_vs_dr_xmit() 把帧直接发往真实服务器自己的 MAC（IP_VS_RT_MODE_KNOWN_NH），所以真实服务器必须和调度器在同一个以太网段。远程真实服务器需要隧道（-i）或 NAT（-m）。".into(),
     fix: vec![format!("ipvsadm -e {opt} -r {rip} -i")],
 }),
                    Err(e) => cx.findings.push(Finding {
     check: "dir-dest-no-route".into(),
     severity: Severity::Error,
     subject: rip.to_string(),
     en: format!("The director has no route to real server {rip} of {name} ({e})."),
     zh: format!("调度器没有到 {name} 的真实服务器 {rip} 的路由（{e}）。"),
     why_en: "__ip_vs_get_out_rt() fails the route lookup and the packet is dropped.".into(),
     why_zh: "__ip_vs_get_out_rt() 查路由失败，包被丢弃。".into(),
     fix: vec![format!("ip route add {rip}/32 dev eth0")],
 }),
                },
                Fwd::Masq if host.sysctl.ip_forward() == 0 => cx.findings.push(Finding {
     check: "dir-nat-no-forwarding".into(),
     severity: Severity::Error,
     subject: rip.to_string(),
     en: format!("NAT real server {rip} of {name}: IP forwarding is off on the director."),
     zh: format!("{name} 的 NAT 真实服务器 {rip}：调度器没有开启 IP 转发。"),
     why_en: "In NAT mode the replies pass through the director and are rewritten by ip_vs_out() on the FORWARD path; with net.ipv4.ip_forward=0 ip_route_input() refuses to forward them.".into(),
     why_zh: "NAT 模式下应答要经过调度器，在 FORWARD 路径上由 ip_vs_out() 改写；net.ipv4.ip_forward=0 时 ip_route_input() 拒绝转发。".into(),
     fix: vec!["sysctl -w net.ipv4.ip_forward=1".into()],
 }),
                _ => {}
            }
        }
    }
}

/// A fwmark service gets only packets that an iptables MARK rule marked
/// before IPVS sees them (mangle PREROUTING for traffic from the wire).
pub(crate) fn fwmark_rules(cx: &mut Ctx<'_>, services: &[ServiceEntry], vip: Option<Ipv4Addr>) {
    use crate::net::netfilter::{Hook, Target};
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
            cx.findings.push(Finding {
                check: "dir-fwmark-no-rule".into(),
                severity: Severity::Error,
                subject: name.clone(),
                en: format!("{name} receives nothing: no iptables rule in the mangle table's PREROUTING chain sets firewall mark {mark}."),
                zh: format!("{name} 收不到任何包：mangle 表的 PREROUTING 链里没有设置防火墙标记 {mark} 的 iptables 规则。"),
                why_en: "ip_vs_service_find() matches a fwmark service only by skb->mark, which only a MARK target sets (xt_MARK, before routing); an unmarked packet is looked up by protocol, address and port instead.".into(),
                why_zh: "ip_vs_service_find() 只按 skb->mark 匹配防火墙标记服务，而标记只能由 MARK 目标（xt_MARK，在路由之前）设置；未打标记的包改按协议、地址和端口查找。".into(),
                fix: vec![format!("iptables -t mangle -A PREROUTING -d {vip} -p tcp --dport 80 -j MARK --set-mark {mark}")],
            });
        }
    }
}

fn fmt_dest(a: IpAddr, port: u16) -> String {
    match a {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}
