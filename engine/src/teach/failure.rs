//! Why a command's packets were dropped or went unanswered, in one line for
//! the terminal's margin.
//!
//! A program says only what its socket saw: curl's "(28) Connection timed
//! out", ping's "100% packet loss". Where the packet died is in the kernel of
//! another host, and the trace has it: `ip_route_input_slow()` found no
//! local route and, with `ip_forward` 0, `ip_rcv_finish()` dropped it (the
//! tutorial's typo, `lo:2` down); `fib_add_ifaddr()` turned a /24 on lo into
//! `local NET/24 dev lo`, so the reply was delivered to its sender itself;
//! `arp_ignore()` kept every owner of an address silent; `ip_route_output()`
//! found no route.
//!
//! We model the teacher, not the kernel: from the command's own events (its
//! first drop that decides anything, else the ARP request nobody answered,
//! else the route lookup the program's `connect()` would do), the state of
//! the host where it happened, and the doctor's findings on that host in its
//! role in the lab (`teach::badges::findings`), we say in English and
//! Chinese which host dropped what and why, with the doctor's fix. Nothing
//! here reads the scenario's name.

use crate::doctor::Finding;
use crate::teach::badges;
use crate::trace::{DropReason, Dropped, Event, EventKind, Lang, LookAlike};
use crate::wire::{tcp_flags, ArpOp, FrameRepr, IcmpRepr, Ipv4Repr, Payload, L4};
use crate::World;
use std::net::Ipv4Addr;
use std::ops::Range;

/// The programs whose failures are explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Curl,
    Wget,
    Nc,
    Ping,
    Arping,
}

impl Tool {
    /// The tool a command line runs in the foreground, if it is one of them.
    pub fn of(line: &str) -> Option<Tool> {
        let line = line.trim();
        if line.ends_with('&') {
            return None;
        }
        let first = line.split_whitespace().next()?;
        match first.rsplit('/').next()? {
            "curl" => Some(Tool::Curl),
            "wget" => Some(Tool::Wget),
            "nc" | "ncat" => Some(Tool::Nc),
            "ping" => Some(Tool::Ping),
            "arping" => Some(Tool::Arping),
            _ => None,
        }
    }
}

/// One failed command, explained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The host where it went wrong.
    pub host: String,
    /// The trace event it is about (an index into the world's trace).
    pub event: Option<usize>,
    pub en: String,
    pub zh: String,
    /// The doctor's check that names the cause, and its fix.
    pub check: Option<String>,
    pub fix: Vec<String>,
}

impl Failure {
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Zh => &self.zh,
        }
    }
}

/// Explain the command `line` run on `host` that exited with `status` and
/// recorded the events `events` of `w.trace`; `None` when it succeeded, is
/// not a network tool, or nothing in the trace or the lab says why.
pub fn summarize(
    w: &World,
    host: &str,
    line: &str,
    status: i32,
    events: Range<usize>,
) -> Option<Failure> {
    if status == 0 {
        return None;
    }
    diagnose(w, host, line, events)
}

/// The same reading for a command still running (a curl still retrying its
/// SYN): what went wrong so far, if its packets already met a drop.
pub fn diagnose(w: &World, host: &str, line: &str, events: Range<usize>) -> Option<Failure> {
    let tool = Tool::of(line)?;
    let base = events.start;
    let trace = w.trace.get(events).unwrap_or(&[]);
    if let Some((i, en, zh)) = routed_to_itself(w, trace) {
        let h = trace[i].host.as_str();
        let fs = badges::findings(w, h);
        let f = pick(&fs, |f| f.check == "rs-vip-mask");
        return Some(with_doctor(h, en, zh, f).at(base + i));
    }
    for (i, e) in trace.iter().enumerate() {
        match &e.kind {
            EventKind::Drop { reason, what } if *reason != DropReason::OtherHost => {
                return Some(dropped(w, trace, i, reason, what).at(base + i));
            }
            EventKind::IpvsNoDest { service } => {
                let fs = badges::findings(w, &e.host);
                let f = pick(&fs, |f| f.check.starts_with("dir-"));
                let en = format!(
                    "{} has no real server to send {service} to: IPVS answers port unreachable.",
                    e.host
                );
                let zh = format!(
                    "{} 上的服务 {service} 没有可用的真实服务器：IPVS 回复端口不可达。",
                    e.host
                );
                return Some(with_doctor(&e.host, en, zh, f).at(base + i));
            }
            _ => {}
        }
    }
    if let Some(f) = unanswered_arp(w, trace, base) {
        return Some(f);
    }
    if trace.is_empty() && tool != Tool::Arping {
        return no_route(w, host, line);
    }
    None
}

impl Failure {
    fn at(mut self, i: usize) -> Failure {
        self.event = Some(i);
        self
    }
}

fn with_doctor(host: &str, en: String, zh: String, f: Option<&Finding>) -> Failure {
    Failure {
        host: host.to_string(),
        event: None,
        en,
        zh,
        check: f.map(|f| f.check.clone()),
        fix: f.map(|f| f.fix.clone()).unwrap_or_default(),
    }
}

/// The finding `want` picks, else the host's first error.
fn pick(fs: &[Finding], want: impl Fn(&Finding) -> bool) -> Option<&Finding> {
    fs.iter().find(|f| want(f)).or_else(|| {
        fs.iter()
            .find(|f| f.severity == crate::doctor::Severity::Error)
    })
}

/// A packet in words (en, zh).
fn packet_words(ip: &Ipv4Repr) -> (String, String) {
    match &ip.l4 {
        L4::Tcp(t) => {
            let (en, zh) = match (t.has(tcp_flags::SYN), t.has(tcp_flags::ACK)) {
                (true, false) => ("SYN", "SYN"),
                (true, true) => ("SYN-ACK", "SYN-ACK"),
                _ if t.has(tcp_flags::RST) => ("RST", "RST"),
                _ if t.has(tcp_flags::FIN) => ("FIN", "FIN"),
                _ => ("TCP segment", "TCP 报文段"),
            };
            let path = format!("{}:{} → {}:{}", ip.src, t.src_port, ip.dst, t.dst_port);
            (format!("the {en} {path}"), format!("{zh} {path}"))
        }
        L4::Icmp(IcmpRepr::EchoRequest { .. }) => (
            format!("the ping (echo request) {} → {}", ip.src, ip.dst),
            format!("ping 请求（echo request）{} → {}", ip.src, ip.dst),
        ),
        L4::Icmp(IcmpRepr::EchoReply { .. }) => (
            format!("the ping reply {} → {}", ip.src, ip.dst),
            format!("ping 应答 {} → {}", ip.src, ip.dst),
        ),
        _ => (
            format!("the packet {} → {}", ip.src, ip.dst),
            format!("数据包 {} → {}", ip.src, ip.dst),
        ),
    }
}

/// The packet `host` received last before event `i`, in words, and the
/// host that sent the frame with whether it is a director (it forwarded).
fn received(w: &World, trace: &[Event], i: usize) -> Option<(String, String, String, bool)> {
    let host = &trace[i].host;
    let frame = trace[..i].iter().rev().find_map(|e| match &e.kind {
        EventKind::FrameRx { frame, .. } if &e.host == host => Some(frame),
        _ => None,
    })?;
    let f = FrameRepr::parse(frame).ok()?;
    let Payload::Ipv4(ip) = &f.payload else {
        return None;
    };
    let (en, zh) = packet_words(ip);
    let sender = w
        .hosts
        .values()
        .find(|h| h.devices.values().any(|d| d.mac == f.src))?;
    Some((
        en,
        zh,
        sender.name.clone(),
        !sender.ipvs.services.is_empty(),
    ))
}

fn dropped(w: &World, trace: &[Event], i: usize, reason: &DropReason, what: &Dropped) -> Failure {
    let h = trace[i].host.as_str();
    let (what, what_zh) = (what.text(Lang::En), what.text(Lang::Zh));
    let fs = badges::findings(w, h);
    match reason {
        DropReason::NotForwarding { dst, lookalike } => {
            let f = pick(&fs, |f| {
                f.check.starts_with("rs-vip") && f.subject == dst.to_string()
            });
            let (pkt_en, pkt_zh) = match received(w, trace, i) {
                Some((en, zh, from, fwd)) => (
                    format!(
                        "{en} that {from} {}",
                        if fwd { "forwarded" } else { "sent it" }
                    ),
                    format!("{from} {}的 {zh}", if fwd { "转发来" } else { "发来" }),
                ),
                None => (what.clone(), what_zh.clone()),
            };
            let (own_en, own_zh) = match lookalike {
                Some(LookAlike { addr, label }) => (
                    format!("it has {addr} on {label} instead, the nearest look-alike: a typo?"),
                    format!("它在 {label} 上配置的是 {addr}，最相近的地址：笔误？"),
                ),
                None => (
                    "no address of it reads like that one".to_string(),
                    "它没有与之相近的地址".to_string(),
                ),
            };
            let en = format!("{h} dropped {pkt_en}: {h} does not own {dst} ({own_en}), and with ip_forward 0 it does not route it on either.");
            let zh = format!("{h} 丢弃了 {pkt_zh}：{h} 并不拥有 {dst}（{own_zh}），而 ip_forward 为 0，它也不会转发。");
            with_doctor(h, en, zh, f)
        }
        DropReason::NoSocket => {
            let en = format!(
                "{h} dropped {what}: no socket is listening there (is the service started?)."
            );
            let zh = format!("{h} 丢弃了{what_zh}：那里没有套接字在监听（服务启动了吗？）。");
            with_doctor(h, en, zh, None)
        }
        DropReason::NoRoute => {
            let default = has_default_route(w, h);
            let (en_tail, zh_tail) = if default {
                ("", "")
            } else {
                (" and it has no default route", "，也没有默认路由")
            };
            let en = format!("{h} dropped {what}: no route covers it{en_tail}.");
            let zh = format!("{h} 丢弃了{what_zh}：没有路由覆盖它{zh_tail}。");
            with_doctor(h, en, zh, pick(&fs, |_| false))
        }
        r => {
            let f = pick(&fs, |_| false);
            let (mut en, mut zh) = (
                format!("{h} dropped {what}: {}.", r.label(Lang::En)),
                format!("{h} 丢弃了{what_zh}：{}。", r.label(Lang::Zh)),
            );
            if let Some(f) = f {
                en.push_str(&format!(" Doctor: {}", f.en));
                zh.push_str(&format!(" 诊断：{}", f.zh));
            }
            with_doctor(h, en, zh, f)
        }
    }
}

fn has_default_route(w: &World, h: &str) -> bool {
    w.host(h).is_some_and(|h| {
        h.fib
            .routes()
            .iter()
            .any(|r| r.dst.prefix_len() == 0 && r.table == crate::fib::TABLE_MAIN)
    })
}

/// The first route lookup in `trace` that made a host send a packet to
/// itself although the destination is none of its addresses: a prefix
/// wider than /32 on lo turned the whole subnet `local`. Its index and the
/// explanation (en, zh).
fn routed_to_itself(w: &World, trace: &[Event]) -> Option<(usize, String, String)> {
    trace.iter().enumerate().find_map(|(i, e)| {
        let EventKind::RouteLookup {
            dst, table, prefix, ..
        } = &e.kind
        else {
            return None;
        };
        let host = w.host(&e.host)?;
        if table.0 != crate::net::ipv4::fib::TABLE_LOCAL || host.all_addrs().any(|a| a.local() == *dst) {
            return None;
        }
        let wide = host
            .devices
            .values()
            .filter(|d| d.is_loopback())
            .filter_map(|d| host.addrs.get(&d.ifindex))
            .flatten()
            .find(|a| a.prefix_len() < 32 && !a.local().is_loopback() && a.matches(*dst))?;
        let (h, addr, len, label) = (&e.host, wide.local(), wide.prefix_len(), &wide.label);
        Some((
            i,
            format!("{h} never sent its reply to {dst}: there {dst} matches `local {prefix} dev lo` (from {addr}/{len} on {label}, not /32), so {h} delivered the reply to itself and it never reached the wire."),
            format!("{h} 的应答没有发往 {dst}：在 {h} 上 {dst} 命中 `local {prefix} dev lo`（来自 {label} 上的 {addr}/{len}，不是 /32），于是 {h} 把应答交给了自己，应答没有发到网线上。"),
        ))
    })
}

/// The address an event asks the LAN for: the kernel's own ARP request
/// (`arp_solicit()`) or one a program sent (arping); gratuitous ARP asks
/// nothing.
fn asks_for(e: &Event) -> Option<Ipv4Addr> {
    match &e.kind {
        EventKind::ArpSolicit { target, .. } => Some(*target),
        EventKind::FrameTx { frame, .. } => match FrameRepr::parse(frame).ok()?.payload {
            Payload::Arp(a) if a.op == ArpOp::Request && a.sender_ip != a.target_ip => {
                Some(a.target_ip)
            }
            _ => None,
        },
        _ => None,
    }
}

/// The first ARP request in `trace` that no host answered.
fn unanswered_arp(w: &World, trace: &[Event], base: usize) -> Option<Failure> {
    let (i, asker, target) = trace.iter().enumerate().find_map(|(i, e)| {
        let target = asks_for(e)?;
        let answered = trace
            .iter()
            .any(|r| matches!(&r.kind, EventKind::ArpReply { target: t, .. } if *t == target));
        (!answered).then_some((i, e.host.as_str(), target))
    })?;
    let mut silent: Vec<(&str, i64)> = Vec::new();
    for e in trace {
        if let EventKind::ArpIgnored {
            target: t, level, ..
        } = &e.kind
        {
            if *t == target && !silent.iter().any(|(h, _)| *h == e.host) {
                silent.push((&e.host, *level));
            }
        }
    }
    silent.sort_unstable();
    let owners: Vec<&str> = w
        .hosts
        .values()
        .filter(|h| h.all_addrs().any(|a| a.local() == target))
        .map(|h| h.name.as_str())
        .collect();
    let start_en = format!("Nobody answered {asker}'s ARP request for {target}");
    let start_zh = format!("没有主机应答 {asker} 对 {target} 的 ARP 请求");
    let (host, en, zh, f) = if let Some(&(first, level)) = silent.first() {
        let names = silent.iter().map(|s| s.0).collect::<Vec<_>>();
        let fs = badges::findings(w, first);
        let f = pick(&fs, |f| f.check == "rs-vip-typo").cloned();
        (
            first,
            format!("{start_en}: {} own it but stay silent (arp_ignore={level}: it is not on the device the request came in on), and no other host has it.", names.join(", ")),
            format!("{start_zh}：{} 拥有它但保持沉默（arp_ignore={level}：它不在收到请求的接口上），也没有其他主机拥有它。", names.join("、")),
            f,
        )
    } else if owners.is_empty() {
        (
            asker,
            format!("{start_en}: no host on this LAN has {target}."),
            format!("{start_zh}：这个局域网上没有主机拥有 {target}。"),
            None,
        )
    } else {
        (
            asker,
            format!(
                "{start_en}: {} own it but did not answer.",
                owners.join(", ")
            ),
            format!("{start_zh}：{} 拥有它但没有应答。", owners.join("、")),
            None,
        )
    };
    Some(with_doctor(host, en, zh, f.as_ref()).at(base + i))
}

/// The address a command line talks to: its last word that is an IPv4
/// address (a URL's host included).
fn target_of(line: &str) -> Option<Ipv4Addr> {
    line.split_whitespace().rev().find_map(|w| {
        let w = w
            .strip_prefix("http://")
            .or_else(|| w.strip_prefix("https://"))
            .unwrap_or(w);
        let host = w.split(['/', ':']).next().unwrap_or(w);
        host.parse().ok()
    })
}

/// The command sent nothing: its host has no route to the target.
fn no_route(w: &World, host: &str, line: &str) -> Option<Failure> {
    let target = target_of(line)?;
    let h = w.host(host)?;
    if h.fib.lookup(target, None).is_ok() {
        return None;
    }
    let (en_tail, zh_tail) = if has_default_route(w, host) {
        ("", "")
    } else {
        (" and there is no default route", "，也没有默认路由")
    };
    Some(with_doctor(
        host,
        format!("{host} has no route to {target}: no entry of its routing table covers it{en_tail} (`ip route` lists them), so nothing was sent."),
        format!("{host} 没有去往 {target} 的路由：路由表中没有覆盖它的条目{zh_tail}（`ip route` 可以查看），所以什么也没有发出。"),
        None,
    ))
}

#[cfg(test)]
mod tests;
