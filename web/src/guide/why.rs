//! The "why" views: two copies of the lab side by side, real output.

use super::{pick, Tx, VIP};
use crate::act::Act;
use crate::html::{esc, Markup};
use crate::i18n::{t, Lang};
use crate::state::st;
use crate::w;
use leptos::prelude::*;
use lvslab_engine::scenario;
use lvslab_engine::shell::Lab;
use lvslab_engine::trace::EventKind;

/// One command run on both copies.
pub struct WhyRow {
    pub host: &'static str,
    pub line: &'static str,
    pub left: String,
    pub right: String,
}

/// Run `setup_*` on two fresh labs, then each probe on both.
fn compare(
    setup_left: &[(&str, &str)],
    setup_right: &[(&str, &str)],
    probes: &[(&'static str, &'static str)],
) -> (Vec<WhyRow>, Lab, Lab) {
    let mut a = Lab::new(scenario::bare());
    let mut b = Lab::new(scenario::bare());
    for (h, l) in setup_left {
        a.run(h, l);
    }
    for (h, l) in setup_right {
        b.run(h, l);
    }
    let rows = probes
        .iter()
        .map(|(h, l)| WhyRow {
            host: h,
            line: l,
            left: a.run(h, l).text,
            right: b.run(h, l).text,
        })
        .collect();
    (rows, a, b)
}

/// The explanations of the events a probe produced.
fn explained(
    lab: &Lab,
    from: usize,
    lang: Lang,
    keep: impl Fn(&lvslab_engine::trace::Event) -> bool,
) -> Vec<String> {
    lab.world.trace[from..]
        .iter()
        .filter(|e| keep(e))
        .map(|e| e.explain(lang))
        .collect()
}

/// One output column; lines absent from the other column are marked.
fn column(h: &mut Markup, title: &str, cls: &str, text: &str, other: &str) {
    let others: Vec<&str> = other.lines().collect();
    w!(
        h,
        "<div class=\"why-col {}\"><div class=\"why-col-title\">{}</div><pre class=\"why-out\">",
        cls,
        esc(title)
    );
    for l in text.lines() {
        if others.contains(&l) {
            w!(h, "<span>{}</span>\n", esc(l));
        } else {
            w!(h, "<span class=\"diff\">{}</span>\n", esc(l));
        }
    }
    h.raw("</pre></div>");
}

fn rows_html(h: &mut Markup, rows: &[WhyRow], left: &str, right: &str) {
    for r in rows {
        w!(
            h,
            "<div class=\"why-cmd\"><code class=\"why-line\">{}</code><div class=\"why-cols\">",
            esc(&format!("[root@{} ~]# {}", r.host, r.line))
        );
        column(h, left, "bad", &r.left, &r.right);
        column(h, right, "good", &r.right, &r.left);
        h.raw("</div></div>");
    }
}

fn events_html(h: &mut Markup, left: &[String], right: &[String]) {
    h.raw("<div class=\"why-cols\">");
    for (cls, list) in [("bad", left), ("good", right)] {
        w!(
            h,
            "<div class=\"why-col {}\"><ol class=\"why-events\">",
            cls
        );
        for e in list {
            h.el("li", "", e);
        }
        h.raw("</ol></div>");
    }
    h.raw("</div>");
}

fn paras(h: &mut Markup, ps: &[Tx], lang: Lang) {
    for p in ps {
        h.el("p", "", pick(lang, *p));
    }
}

const MASK_WHY: [Tx; 3] = [
    (
        "The tutorial's intuition: with 255.255.255.0, lo:2 also “reaches” 192.168.150.0/24, like eth0 does, and the kernel prefers the closer, virtual interface, so packets to the gateway never leave the host.",
        "教程的直觉解释：掩码为 255.255.255.0 时，lo:2 也“能到达” 192.168.150.0/24，和 eth0 一样；内核更偏向“更近”的虚拟接口，于是发往网关的包永远出不了主机。",
    ),
    (
        "The exact kernel rule: for an address on a LOOPBACK device, fib_add_ifaddr() installs the whole prefix as type local in the local table (local 192.168.150.0/24 dev lo). The local table is consulted before main (ip rule: 0 local, 32766 main), so every address of the LAN, the gateway included, is treated as the host itself. With /32 only the VIP is local.",
        "准确的内核规则：对回环设备上的地址，fib_add_ifaddr() 会把整个前缀作为 local 类型装入 local 表（local 192.168.150.0/24 dev lo）。local 表先于 main 表查询（ip rule：0 local，32766 main），所以局域网内所有地址（包括网关）都被当作本机。用 /32 时只有 VIP 是本机地址。",
    ),
    (
        "Last, the same ping from node02 to the gateway: with /24 the route lookup hits the local table and the packet is delivered to node02 itself (the ping “succeeds” without a single frame on the wire); with /32 it goes out of eth0.",
        "最后是 node02 向网关发出的同一个 ping：用 /24 时，路由查找命中 local 表，包被交付给 node02 自己（ping “成功”，但线上没有任何帧）；用 /32 时，包从 eth0 发出。",
    ),
];

fn why_mask(lang: Lang) -> Markup {
    let mut h = Markup::new();
    h.el("h3", "", t(lang, "why.mask.title"));
    paras(&mut h, &MASK_WHY[..2], lang);
    w!(
        h,
        "<p class=\"muted\">{} {}</p>",
        esc(t(lang, "why.engine")),
        esc(t(lang, "why.diff"))
    );
    let l24 = "ifconfig lo:2 192.168.150.100 netmask 255.255.255.0";
    let l32 = "ifconfig lo:2 192.168.150.100 netmask 255.255.255.255";
    let (mut rows, mut a, mut b) = compare(
        &[("node02", l24)],
        &[("node02", l32)],
        &[
            ("node02", "ip route show table local"),
            ("node02", "ip route get 192.168.150.1"),
        ],
    );
    rows.insert(
        0,
        WhyRow {
            host: "node02",
            line: "ifconfig lo:2 192.168.150.100 netmask …",
            left: format!("{l24}\n"),
            right: format!("{l32}\n"),
        },
    );
    rows_html(
        &mut h,
        &rows,
        "/24 (255.255.255.0)",
        "/32 (255.255.255.255)",
    );
    paras(&mut h, &MASK_WHY[2..], lang);
    let (na, nb) = (a.world.trace.len(), b.world.trace.len());
    let ping = "ping -c 1 -W 1 192.168.150.1";
    let pr = WhyRow {
        host: "node02",
        line: ping,
        left: a.run("node02", ping).text,
        right: b.run("node02", ping).text,
    };
    rows_html(&mut h, std::slice::from_ref(&pr), "/24", "/32");
    let keep = |e: &lvslab_engine::trace::Event| {
        matches!(
            e.kind,
            EventKind::RouteLookup { .. }
                | EventKind::LocalDeliver { .. }
                | EventKind::FrameTx { .. }
        )
    };
    let ea: Vec<String> = explained(&a, na, lang, keep).into_iter().take(3).collect();
    let eb: Vec<String> = explained(&b, nb, lang, keep).into_iter().take(3).collect();
    events_html(&mut h, &ea, &eb);
    h
}

const ARP_WHY: [Tx; 2] = [
    (
        "Three hosts own 192.168.150.100: the director on eth0:8 and both real servers on lo:2. The gateway must learn the director's MAC for it, or the client's packets would skip the director. Both copies below have the VIP on node01 and node02; only the right one has node02's kernel parameters set.",
        "三台主机拥有 192.168.150.100：调度器在 eth0:8 上，两台真实服务器在 lo:2 上。网关必须为它学到调度器的 MAC，否则客户端的包会绕过调度器。下面两份副本中 node01 和 node02 都配置了 VIP；只有右边设置了 node02 的内核参数。",
    ),
    (
        "Left: node02 answers too (arp_ignore=0 answers for any local address on any interface) and the gateway keeps whichever reply came first. Right: node02 stays silent because the VIP is not configured on eth0, where the request arrived.",
        "左边：node02 也应答了（arp_ignore=0 时，任何接口都会为任何本机地址应答），网关保留最先到达的应答。右边：node02 保持沉默，因为 VIP 不在收到请求的 eth0 上。",
    ),
];

fn why_arp(lang: Lang) -> Markup {
    let mut h = Markup::new();
    h.el("h3", "", t(lang, "why.arp.title"));
    paras(&mut h, &ARP_WHY, lang);
    let vip = [
        ("node01", "ifconfig eth0:8 192.168.150.100/24"),
        (
            "node02",
            "ifconfig lo:2 192.168.150.100 netmask 255.255.255.255",
        ),
    ];
    let fixed = [
        ("node02", "echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore"),
        (
            "node02",
            "echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce",
        ),
        vip[0],
        vip[1],
    ];
    let (rows, a, b) = compare(
        &vip,
        &fixed,
        &[
            ("client", "arping -c 1 -I eth0 192.168.150.100"),
            ("client", "ip neigh show 192.168.150.100"),
        ],
    );
    rows_html(
        &mut h,
        &rows,
        "arp_ignore=0, arp_announce=0",
        "arp_ignore=1, arp_announce=2",
    );
    let keep = |e: &lvslab_engine::trace::Event| {
        e.host == "node02"
            && matches!(
                e.kind,
                EventKind::ArpReply { .. } | EventKind::ArpIgnored { .. }
            )
    };
    events_html(
        &mut h,
        &explained(&a, 0, lang, keep),
        &explained(&b, 0, lang, keep),
    );
    h
}

const REPLY_WHY: [Tx; 3] = [
    (
        "In Direct Routing the director only changes the destination MAC address of the client's frame (to a real server's MAC) and puts it back on the same LAN. The IP packet is untouched: its destination is still the VIP, which the real server owns on lo:2, so it accepts the packet as its own.",
        "在直接路由模式下，调度器只把客户端帧的目的 MAC 改成某台真实服务器的 MAC，再放回同一个局域网。IP 包本身不变：目的地址仍是 VIP，而真实服务器在 lo:2 上拥有 VIP，所以把它当作发给自己的包接收。",
    ),
    (
        "The real server answers from the address the request was sent to, the VIP, to the client's address. Its routing table sends that straight out of eth0 to the client (the client is on the same LAN, or the gateway is): nothing in that path involves the director. The last command below is the lookup a real server makes for its reply.",
        "真实服务器以请求的目的地址（VIP）为源地址，回复客户端地址。它的路由表把回包直接从 eth0 发给客户端（客户端或网关就在同一个局域网）：这条路径与调度器毫无关系。下面最后一条命令就是真实服务器为回包做的路由查找。",
    ),
    (
        "So the director sees every request but never a reply, holds no TCP socket (netstat -natp on node01 is empty) and only keeps a connection entry in its IPVS table (ipvsadm -lnc).",
        "所以调度器能看到每个请求，却看不到任何回包；它没有 TCP 套接字（node01 上 netstat -natp 为空），只在 IPVS 连接表中保留条目（ipvsadm -lnc）。",
    ),
];

const REPLY_SVG: &str = r##"<svg class="why-diagram" viewBox="0 0 640 150" role="img" aria-label="request and reply paths"><defs><marker id="ah" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="currentColor"/></marker></defs><g class="wd-node"><rect x="10" y="55" width="120" height="40" rx="6"/><text x="70" y="80">client</text></g><g class="wd-node"><rect x="260" y="10" width="120" height="40" rx="6"/><text x="320" y="35">node01</text></g><g class="wd-node"><rect x="510" y="55" width="120" height="40" rx="6"/><text x="570" y="80">node02</text></g><path class="wd-req" d="M130,65 L260,35" marker-end="url(#ah)"/><path class="wd-req" d="M380,35 L510,65" marker-end="url(#ah)"/><path class="wd-rep" d="M510,90 C400,140 240,140 130,90" marker-end="url(#ah)"/><text class="wd-l" x="150" y="40">dst VIP · MAC node01</text><text class="wd-l" x="400" y="40">dst VIP · MAC node02</text><text class="wd-l wd-lr" x="320" y="145">src VIP → client (eth0, direct)</text></svg>"##;

fn why_reply(lang: Lang) -> Markup {
    use lvslab_engine::wire::{FrameRepr, Payload, L4};
    let mut h = Markup::new();
    h.el("h3", "", t(lang, "why.reply.title"));
    h.raw(REPLY_SVG);
    paras(&mut h, &REPLY_WHY[..2], lang);
    let Ok(world) = scenario::load("seed") else {
        return h;
    };
    let mut lab = Lab::new(world);
    let start = lab.world.trace.len();
    let cmd = "curl -s http://192.168.150.100/";
    let out = lab.run("client", cmd).text;
    w!(h, "<p class=\"muted\">{}</p><div class=\"why-cmd\"><code class=\"why-line\">{}</code><pre class=\"why-out\">{}</pre></div>", esc(pick(lang, (
            "The real trace of one request in the fully configured lab (scenario seed): every TCP frame put on the wire.",
            "完整配置好的实验（seed 场景）中一次请求的真实轨迹：线上的每一个 TCP 帧。",
        ))), esc(&format!("[root@client ~]# {cmd}")), esc(&out));
    // Who owns which MAC, to name the frame's destination.
    let owner = |m: lvslab_engine::Mac| -> String {
        lab.world
            .hosts
            .values()
            .find(|x| x.devices.values().any(|d| d.mac == m))
            .map(|x| x.name.clone())
            .unwrap_or_else(|| m.to_string())
    };
    w!(h, "<table class=\"diff why-frames\"><thead><tr><th>#</th><th>{}</th><th>{}</th><th>IP</th><th>TCP</th></tr></thead><tbody>", esc(t(lang, "sent.by")), esc(pick(lang, ("to MAC of", "目的 MAC 属于"))));
    let (mut fwd, mut replies, mut dir_saw_reply) = (0, 0, 0);
    for (i, e) in lab.world.trace.iter().enumerate().skip(start) {
        let (tx, bytes) = match &e.kind {
            EventKind::FrameTx { frame, .. } => (true, frame),
            EventKind::FrameRx { frame, .. } => (false, frame),
            _ => continue,
        };
        let Ok(f) = FrameRepr::parse(bytes) else {
            continue;
        };
        let Payload::Ipv4(ip) = &f.payload else {
            continue;
        };
        let L4::Tcp(tcp) = &ip.l4 else { continue };
        let from_rs = ip.src == VIP && e.host != "node01";
        if !tx {
            if e.host == "node01" && ip.src == VIP {
                dir_saw_reply += 1;
            }
            continue;
        }
        let cls = if e.host == "node01" {
            fwd += 1;
            "fwd"
        } else if from_rs {
            replies += 1;
            "reply"
        } else {
            ""
        };
        w!(h, "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{} → {}</td><td class=\"mono\">[{}]</td></tr>", cls, i + 1, esc(&e.host), esc(&owner(f.dst)), ip.src, ip.dst, esc(&tcp.flag_string()));
    }
    h.raw("</tbody></table>");
    let summary = match lang {
        Lang::En => format!("node01 forwarded {fwd} frames, each to a real server's MAC with the IP packet unchanged (destination still the VIP). The real server sent {replies} frames straight to the client's MAC, with the VIP as source. Frames from the VIP that node01 received: {dir_saw_reply}."),
        Lang::Zh => format!("node01 转发了 {fwd} 个帧，每个都发往真实服务器的 MAC，IP 包不变（目的地址仍是 VIP）。真实服务器直接向客户端的 MAC 发出 {replies} 个帧，源地址是 VIP。node01 收到的来自 VIP 的帧：{dir_saw_reply} 个。"),
    };
    h.el("p", "why-sum", &summary);
    paras(&mut h, &REPLY_WHY[2..], lang);
    for (host, cmd) in [
        ("node01", "netstat -natp"),
        ("node03", "netstat -natp"),
        ("node02", "netstat -natp"),
        ("node01", "ipvsadm -lnc"),
    ] {
        let out = lab.run(host, cmd).text;
        w!(h, "<div class=\"why-cmd\"><code class=\"why-line\">{}</code><pre class=\"why-out\">{}</pre></div>", esc(&format!("[root@{host} ~]# {cmd}")), esc(&out));
    }
    let mut rs = Lab::new(scenario::bare());
    rs.run(
        "node02",
        "ifconfig lo:2 192.168.150.100 netmask 255.255.255.255",
    );
    let cmd = "ip route get 192.168.150.1 from 192.168.150.100";
    let out = rs.run("node02", cmd).text;
    w!(h, "<div class=\"why-cmd\"><code class=\"why-line\">{}</code><pre class=\"why-out\">{}</pre></div>", esc(&format!("[root@node02 ~]# {cmd}")), esc(&out));
    h
}

const WHY_TABS: [&str; 3] = ["why.t.mask", "why.t.arp", "why.t.reply"];

#[component]
pub fn WhyPanel() -> impl IntoView {
    let s = st();
    crate::act::markup(
        "why-panel",
        Box::new(move || {
            let l = s.lang.get();
            let tab = s.why_tab.get();
            let mut h = Markup::new();
            h.raw("<div class=\"why-tabs\">");
            for (k, key) in WHY_TABS.iter().enumerate() {
                let on = k as u8 == tab;
                w!(
                    h,
                    "<button class=\"chip{}\" aria-pressed=\"{}\"{}>{}</button>",
                    if on { " on" } else { "" },
                    on,
                    Act::WhyTab(k as u8).attrs(),
                    t(l, key)
                );
            }
            h.raw("</div><section class=\"why\">");
            h.push(&match tab {
                1 => why_arp(l),
                2 => why_reply(l),
                _ => why_mask(l),
            });
            if tab == 0 {
                w!(
                    h,
                    "<button class=\"btn\"{}>{}</button>",
                    Act::WhyTry.attrs(),
                    t(l, "why.try")
                );
            }
            h.raw("</section>");
            h
        }),
    )
}
