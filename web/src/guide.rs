//! Teaching content: the guided tour (the tutorial's steps, its own
//! commands), exercises (a broken lab, a goal, hints, an automatic check)
//! and the "why" views (two copies of the lab side by side, real output).
//!
//! Checks and why-views only *ask the engine*: they run commands on clones of
//! a `Lab` and read the output, the trace and the state it reports.

use crate::html::{esc, H};
use crate::i18n::{t, Lang};
use crate::state::{st, Motion, St};
use leptos::prelude::*;
use lvslab_engine::scenario;
use lvslab_engine::shell::Lab;
use lvslab_engine::trace::EventKind;
use std::fmt::Write;
use std::net::Ipv4Addr;

/// Text in both languages.
pub type Tx = (&'static str, &'static str);

pub fn pick(lang: Lang, s: Tx) -> &'static str {
    match lang {
        Lang::En => s.0,
        Lang::Zh => s.1,
    }
}

const VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 150, 100);

// ---------------------------------------------------------------- tour

pub struct TourStep {
    pub title: Tx,
    pub text: Tx,
    pub cmds: &'static [(&'static str, &'static str)],
    /// A command the simulator must know for this step to run (steps
    /// waiting for a model that is not there yet are shown, not run).
    pub needs: Option<&'static str>,
}

const SYSCTL_STEPS: [(&str, &str); 8] = [
    ("node02", "cd /proc/sys/net/ipv4/conf/eth0"),
    ("node02", "echo 1 > arp_ignore"),
    ("node02", "cat arp_ignore"),
    ("node02", "echo 2 > arp_announce"),
    ("node02", "cat arp_announce"),
    ("node02", "cd ../all"),
    ("node02", "echo 1 > arp_ignore"),
    ("node02", "echo 2 > arp_announce"),
];

const SYSCTL_STEPS3: [(&str, &str); 6] = [
    ("node03", "cd /proc/sys/net/ipv4/conf/eth0"),
    ("node03", "echo 1 > arp_ignore"),
    ("node03", "echo 2 > arp_announce"),
    ("node03", "cd ../all"),
    ("node03", "echo 1 > arp_ignore"),
    ("node03", "echo 2 > arp_announce"),
];

pub const TOUR: &[TourStep] = &[
    TourStep {
        title: ("1 · The LAN and a first packet", "1 · 局域网与第一个数据包"),
        text: (
            "One switch, four hosts on 192.168.150.0/24: the client (which is also the gateway, .1), the director node01 (.11) and the real servers node02 (.12) and node03 (.13). Run the ping below, then step through the timeline with →: the client does not know node01's MAC address, so it first broadcasts an ARP request (the switch floods it to every port), node01 answers, and only then the ICMP echo request leaves.",
            "一台交换机，四台主机，网段 192.168.150.0/24：客户端（同时也是网关 .1）、调度器 node01（.11）、真实服务器 node02（.12）和 node03（.13）。执行下面的 ping，然后用 → 在时间线中逐步查看：客户端不知道 node01 的 MAC 地址，所以先广播 ARP 请求（交换机泛洪到所有端口），node01 应答后，ICMP 回显请求才发出。",
        ),
        cmds: &[("client", "ping -c 1 192.168.150.11")],
        needs: None,
    },
    TourStep {
        title: ("2 · The director gets the VIP", "2 · 调度器配置 VIP"),
        text: (
            "On node01 the tutorial adds the virtual IP 192.168.150.100 as the alias eth0:8. Its command is written `netmask/24`, which real ifconfig rejects: the simulator answers like net-tools does. The correct forms are `192.168.150.100/24` or `netmask 255.255.255.0`. The alias is just a label on a second address of eth0 (see the topology).",
            "教程在 node01 上把虚拟 IP 192.168.150.100 配置为别名 eth0:8。原文写成 `netmask/24`，真实的 ifconfig 会拒绝：模拟器的回答与 net-tools 一致。正确写法是 `192.168.150.100/24` 或 `netmask 255.255.255.0`。别名只是 eth0 上第二个地址的标签（见拓扑图）。",
        ),
        cmds: &[
            ("node01", "ifconfig eth0:8 192.168.150.100 netmask/24"),
            ("node01", "ifconfig eth0:8 192.168.150.100/24"),
            ("node01", "ifconfig eth0:8"),
        ],
        needs: None,
    },
    TourStep {
        title: ("3 · Real servers: kernel parameters first", "3 · 真实服务器：先改内核参数"),
        text: (
            "Before a real server gets the VIP it must promise never to talk about it on the LAN. arp_ignore=1: answer an ARP request only for addresses configured on the interface it arrived on (the VIP will live on lo, so eth0 stays silent). arp_announce=2: never use the VIP as the sender address of our own ARP requests. Linux uses the maximum of conf/all and conf/eth0, which is why the tutorial sets both. Watch the live tables: the effective value changes.",
            "真实服务器在配置 VIP 之前，必须保证不在局域网上“说出”它。arp_ignore=1：只有当目标地址配置在收到请求的接口上时才应答（VIP 将在 lo 上，所以 eth0 保持沉默）。arp_announce=2：自己发 ARP 请求时绝不用 VIP 作发送方地址。Linux 取 conf/all 与 conf/eth0 的最大值，所以教程两个都设置。注意实时表中的生效值。",
        ),
        cmds: &SYSCTL_STEPS,
        needs: None,
    },
    TourStep {
        title: ("4 · The same on node03", "4 · node03 同样配置"),
        text: (
            "node03 gets the same four values. Order matters: a VIP added before these knobs could already have answered an ARP request for it, and the gateway would then send VIP traffic straight to a real server, bypassing the director.",
            "node03 设置同样的四个值。顺序很重要：如果先配 VIP 再改参数，VIP 可能已经应答过 ARP 请求，网关就会把发往 VIP 的流量直接发给真实服务器，绕过调度器。",
        ),
        cmds: &SYSCTL_STEPS3,
        needs: None,
    },
    TourStep {
        title: ("5 · Web servers", "5 · Web 服务"),
        text: (
            "Each real server runs httpd with a different page, so that the balancing is visible later.",
            "每台真实服务器运行 httpd，页面内容不同，以便之后能看出负载均衡的效果。",
        ),
        cmds: &[
            ("node02", "yum install httpd"),
            ("node02", "service httpd start"),
            ("node02", "echo '<h1>from 192.168.150.12</h1>' > /var/www/html/index.html"),
            ("node03", "yum install httpd"),
            ("node03", "service httpd start"),
            ("node03", "echo '<h1>from 192.168.150.13</h1>' > /var/www/html/index.html"),
        ],
        needs: Some("service"),
    },
    TourStep {
        title: ("6 · The hidden VIP on lo:2", "6 · lo:2 上的隐藏 VIP"),
        text: (
            "Now the VIP goes on the loopback alias lo:2 with mask 255.255.255.255. (The tutorial's text has a typo here, 192.178.150.100: see the exercise “Spot the typo”.) The real server now accepts packets for the VIP, yet never answers ARP for it.",
            "现在把 VIP 配置在回环别名 lo:2 上，掩码 255.255.255.255。（教程原文此处有笔误 192.178.150.100，见练习“找出笔误”。）真实服务器从此接收发往 VIP 的包，但从不为它应答 ARP。",
        ),
        cmds: &[
            ("node02", "ifconfig lo:2 192.168.150.100 netmask 255.255.255.255"),
            ("node03", "ifconfig lo:2 192.168.150.100 netmask 255.255.255.255"),
            ("node02", "ip addr show lo"),
        ],
        needs: None,
    },
    TourStep {
        title: ("7 · Who answers for the VIP?", "7 · 谁来应答 VIP？"),
        text: (
            "Three hosts own 192.168.150.100 now. The gateway asks who has it: step through the events. The request is flooded to all three; node01 answers; node02 and node03 stay silent, and the timeline says why (arp_ignore=1: the VIP is not configured on eth0, where the request came in). So all traffic for the VIP reaches the director first.",
            "现在三台主机都拥有 192.168.150.100。网关询问谁拥有它：逐步查看事件。请求被泛洪到三台主机；node01 应答；node02 和 node03 保持沉默，时间线说明了原因（arp_ignore=1：VIP 不在收到请求的 eth0 上）。所以所有发往 VIP 的流量都先到达调度器。",
        ),
        cmds: &[("client", "arping -c 1 -I eth0 192.168.150.100")],
        needs: None,
    },
    TourStep {
        title: ("8 · Why the mask must be /32", "8 · 为什么掩码必须是 /32"),
        text: (
            "With /32 only the VIP itself is local. Run the two commands: the local table has `local 192.168.150.100 dev lo`, and the gateway is still reached through eth0. Open the “Why?” tab to see what /24 would have done.",
            "用 /32 时只有 VIP 本身是本机地址。执行这两条命令：local 表中是 `local 192.168.150.100 dev lo`，网关仍然经 eth0 到达。打开“为什么？”标签页看看 /24 会导致什么。",
        ),
        cmds: &[
            ("node02", "ip route show table local"),
            ("node02", "ip route get 192.168.150.1"),
        ],
        needs: None,
    },
    TourStep {
        title: ("9 · Direct access to the real servers", "9 · 直接访问真实服务器"),
        text: (
            "Both web servers answer on their own addresses. Step through a TCP connection: SYN, SYN-ACK, ACK, the HTTP request, the response, FIN.",
            "两台 Web 服务器都能通过自己的地址访问。逐步查看一次 TCP 连接：SYN、SYN-ACK、ACK、HTTP 请求、响应、FIN。",
        ),
        cmds: &[
            ("client", "curl http://192.168.150.12/"),
            ("client", "curl http://192.168.150.13/"),
        ],
        needs: Some("curl"),
    },
    TourStep {
        title: ("10 · IPVS on the director", "10 · 调度器上的 IPVS"),
        text: (
            "The virtual service 192.168.150.100:80 with round robin, and the two real servers in gatewaying (Direct Routing) mode, weight 1.",
            "虚拟服务 192.168.150.100:80，轮询调度；两台真实服务器以 gatewaying（直接路由）模式加入，权重 1。",
        ),
        cmds: &[
            ("node01", "yum install ipvsadm -y"),
            ("node01", "ipvsadm -A -t 192.168.150.100:80 -s rr"),
            ("node01", "ipvsadm -a -t 192.168.150.100:80 -r 192.168.150.12 -g -w 1"),
            ("node01", "ipvsadm -a -t 192.168.150.100:80 -r 192.168.150.13 -g -w 1"),
            ("node01", "ipvsadm -ln"),
        ],
        needs: Some("ipvsadm"),
    },
    TourStep {
        title: ("11 · Round robin, and the reply that bypasses the director", "11 · 轮询，以及绕过调度器的回包"),
        text: (
            "Two requests to the VIP alternate between the real servers. Select the frame node01 forwards: only the destination MAC changed. The reply goes from the real server straight to the client, with the VIP as its source: the director never sees it, so netstat on node01 shows no connection.",
            "两次请求 VIP 会轮流到达两台真实服务器。选中 node01 转发的帧：只有目的 MAC 改变了。回包从真实服务器直接发给客户端，源地址是 VIP：调度器根本看不到它，所以 node01 上的 netstat 看不到连接。",
        ),
        cmds: &[
            ("client", "curl http://192.168.150.100/"),
            ("client", "curl http://192.168.150.100/"),
            ("node01", "netstat -natp"),
            ("node02", "netstat -natp"),
            ("node01", "ipvsadm -lnc"),
        ],
        needs: Some("ipvsadm"),
    },
];

/// Is a command known to the simulator? (Asked once, on a throwaway lab.)
pub fn command_known(cmd: &str) -> bool {
    let mut lab = Lab::new(scenario::bare());
    let o = lab.run("client", &format!("{cmd} --version"));
    !(o.status == 127 && o.text.contains("command not found"))
}

// ---------------------------------------------------------------- exercises

pub struct Exercise {
    pub id: &'static str,
    /// The scenario it starts from (default: the one selected).
    pub scenario: Option<&'static str>,
    /// The terminal to open.
    pub host: &'static str,
    pub title: Tx,
    pub story: Tx,
    pub goal: Tx,
    pub hints: &'static [Tx],
    pub setup: &'static [(&'static str, &'static str)],
    /// Ok, or the reason (both languages) it is not solved yet.
    pub check: fn(&Lab) -> Result<(), Tx>,
}

pub fn exercise(id: &str) -> Option<&'static Exercise> {
    EXERCISES.iter().find(|e| e.id == id)
}

pub fn exercise_id(id: &str) -> Option<&'static str> {
    exercise(id).map(|e| e.id)
}

/// Run `line` on a clone and return the output and the events it added.
fn probe(lab: &Lab, host: &str, line: &str) -> (String, Lab, usize) {
    let mut c = lab.clone();
    let start = c.world.trace.len();
    let o = c.run(host, line);
    (o.text, c, start)
}

fn arp_answerers(lab: &Lab) -> Vec<String> {
    let (_, c, start) = probe(lab, "client", "arping -c 1 -w 1 -I eth0 192.168.150.100");
    c.world.trace[start..]
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::ArpReply { target, .. } if *target == VIP => Some(e.host.clone()),
            _ => None,
        })
        .collect()
}

fn check_vip(lab: &Lab) -> Result<(), Tx> {
    let h = lab
        .world
        .host("node01")
        .ok_or(("no node01", "没有 node01"))?;
    let ok = h
        .all_addrs()
        .any(|a| a.label == "eth0:8" && a.local() == VIP && a.prefix_len() == 24);
    if !ok {
        return Err((
            "node01 has no address 192.168.150.100/24 labelled eth0:8 yet (ip addr show eth0).",
            "node01 上还没有标签为 eth0:8 的地址 192.168.150.100/24（ip addr show eth0）。",
        ));
    }
    if !arp_answerers(lab).iter().any(|h| h == "node01") {
        return Err((
            "The address is there, but node01 does not answer ARP for it: is eth0 up?",
            "地址已配置，但 node01 不为它应答 ARP：eth0 是否已启用？",
        ));
    }
    Ok(())
}

fn check_arp(lab: &Lab) -> Result<(), Tx> {
    let who = arp_answerers(lab);
    if who.iter().any(|h| h == "node02") {
        return Err((
            "node02 still answers the gateway's ARP request for 192.168.150.100 (arping on a copy of the lab got a reply from 02:42:c0:a8:96:0c).",
            "node02 仍然应答网关对 192.168.150.100 的 ARP 请求（在实验副本上执行 arping，收到了 02:42:c0:a8:96:0c 的应答）。",
        ));
    }
    if !who.iter().any(|h| h == "node01") {
        return Err((
            "Nobody answers for the VIP any more: the director must keep answering.",
            "现在没有主机应答 VIP 了：调度器必须继续应答。",
        ));
    }
    let h = lab
        .world
        .host("node02")
        .ok_or(("no node02", "没有 node02"))?;
    if !h.is_local(VIP) {
        return Err((
            "node02 must keep the VIP (on lo:2), or it would drop what the director forwards.",
            "node02 必须保留 VIP（在 lo:2 上），否则会丢弃调度器转发来的包。",
        ));
    }
    if h.sysctl.effective("eth0", "arp_announce") < 2 {
        return Err((
            "ARP replies are fixed; now make sure node02 never announces the VIP either (arp_announce).",
            "ARP 应答已修好；还要确保 node02 也不会通告 VIP（arp_announce）。",
        ));
    }
    Ok(())
}

fn check_mask(lab: &Lab) -> Result<(), Tx> {
    let h = lab
        .world
        .host("node02")
        .ok_or(("no node02", "没有 node02"))?;
    if !h.is_local(VIP) {
        return Err((
            "node02 no longer owns the VIP: it must stay on lo:2.",
            "node02 不再拥有 VIP：它必须保留在 lo:2 上。",
        ));
    }
    let (out, _, _) = probe(lab, "node02", "ip route get 192.168.150.1");
    if out.starts_with("local") || !out.contains("dev eth0") {
        return Err((
            "node02 still routes the gateway 192.168.150.1 to itself (ip route get 192.168.150.1 says local … dev lo).",
            "node02 仍把网关 192.168.150.1 路由给自己（ip route get 192.168.150.1 显示 local … dev lo）。",
        ));
    }
    Ok(())
}

fn check_typo(lab: &Lab) -> Result<(), Tx> {
    let h = lab
        .world
        .host("node02")
        .ok_or(("no node02", "没有 node02"))?;
    if h.is_local(Ipv4Addr::new(192, 178, 150, 100)) {
        return Err((
            "node02 still has the typo address configured.",
            "node02 上仍然配置着笔误的地址。",
        ));
    }
    if !h.is_local(VIP) {
        return Err((
            "node02 does not own the VIP 192.168.150.100 yet.",
            "node02 还没有拥有 VIP 192.168.150.100。",
        ));
    }
    let (out, _, _) = probe(lab, "node02", "ip route get 192.168.150.1");
    if !out.contains("dev eth0") {
        return Err((
            "The VIP is there, but node02 cannot reach the gateway: check the mask.",
            "VIP 已配置，但 node02 无法到达网关：检查掩码。",
        ));
    }
    Ok(())
}

fn check_web(lab: &Lab) -> Result<(), Tx> {
    let (out, _, _) = probe(lab, "client", "curl -s http://192.168.150.12/");
    if out.contains("from 192.168.150.12") {
        Ok(())
    } else {
        Err((
            "curl http://192.168.150.12/ from the client does not return the page “from 192.168.150.12” yet.",
            "从客户端 curl http://192.168.150.12/ 还得不到页面“from 192.168.150.12”。",
        ))
    }
}

fn curl_vip_twice(lab: &Lab) -> Result<(), Tx> {
    let mut c = lab.clone();
    let a = c.run("client", "curl -s -m 2 http://192.168.150.100/").text;
    let b = c.run("client", "curl -s -m 2 http://192.168.150.100/").text;
    let both = |x: &str| a.contains(x) || b.contains(x);
    if both("from 192.168.150.12") && both("from 192.168.150.13") {
        Ok(())
    } else {
        Err((
            "Two requests to http://192.168.150.100/ (on a copy of the lab) should be answered once by each real server; they are not yet.",
            "（在实验副本上）对 http://192.168.150.100/ 的两次请求应当由两台真实服务器各应答一次；现在还不是。",
        ))
    }
}

pub const EXERCISES: &[Exercise] = &[
    Exercise {
        scenario: None,
        id: "vip",
        host: "node01",
        title: ("Give the director its VIP", "为调度器配置 VIP"),
        story: (
            "Someone typed the tutorial's command on node01 and it failed.",
            "有人在 node01 上照抄了教程的命令，结果失败了。",
        ),
        goal: (
            "node01 owns 192.168.150.100/24 on the alias eth0:8 and answers ARP for it.",
            "node01 在别名 eth0:8 上拥有 192.168.150.100/24，并为它应答 ARP。",
        ),
        hints: &[
            ("Read the error: ifconfig does not understand `netmask/24`.", "读错误信息：ifconfig 不认识 `netmask/24`。"),
            ("Either put the prefix on the address or spell the mask out.", "要么把前缀写在地址后面，要么把掩码完整写出来。"),
            ("ifconfig eth0:8 192.168.150.100/24", "ifconfig eth0:8 192.168.150.100/24"),
        ],
        setup: &[("node01", "ifconfig eth0:8 192.168.150.100 netmask/24")],
        check: check_vip,
    },
    Exercise {
        scenario: None,
        id: "arp",
        host: "node02",
        title: ("Silence node02 about the VIP", "让 node02 对 VIP 保持沉默"),
        story: (
            "The director has the VIP, and node02 got it on lo:2 BEFORE its kernel parameters were changed. When the gateway asks who has 192.168.150.100, node02 answers too, and may win.",
            "调度器已有 VIP，而 node02 在修改内核参数之前就在 lo:2 上配置了 VIP。网关询问谁拥有 192.168.150.100 时，node02 也会应答，而且可能抢先。",
        ),
        goal: (
            "Only node01 answers ARP for the VIP; node02 keeps the VIP and never announces it (arp_announce).",
            "只有 node01 应答 VIP 的 ARP；node02 保留 VIP，且从不通告它（arp_announce）。",
        ),
        hints: &[
            ("Run arping -c 1 -I eth0 192.168.150.100 on the client and step through: who replies?", "在客户端执行 arping -c 1 -I eth0 192.168.150.100 并逐步查看：谁应答了？"),
            ("The knobs live in /proc/sys/net/ipv4/conf/ (all and eth0).", "参数在 /proc/sys/net/ipv4/conf/ 下（all 和 eth0）。"),
            ("cd /proc/sys/net/ipv4/conf/eth0, then echo 1 > arp_ignore and echo 2 > arp_announce (and the same in ../all).", "cd /proc/sys/net/ipv4/conf/eth0，然后 echo 1 > arp_ignore、echo 2 > arp_announce（../all 中同样设置）。"),
        ],
        setup: &[
            ("node01", "ifconfig eth0:8 192.168.150.100/24"),
            ("node02", "ifconfig lo:2 192.168.150.100 netmask 255.255.255.255"),
        ],
        check: check_arp,
    },
    Exercise {
        scenario: None,
        id: "mask",
        host: "node02",
        title: ("The real server lost its gateway", "真实服务器找不到网关了"),
        story: (
            "node02's kernel parameters are right, but the VIP went on lo:2 with netmask 255.255.255.0. Now node02 cannot reach 192.168.150.1 (try ping -c 1 192.168.150.1 and look at who answers).",
            "node02 的内核参数是对的，但 VIP 在 lo:2 上配置成了掩码 255.255.255.0。现在 node02 到不了 192.168.150.1（试试 ping -c 1 192.168.150.1，看看是谁应答的）。",
        ),
        goal: (
            "node02 keeps the VIP on lo:2 and reaches the gateway through eth0 again.",
            "node02 在 lo:2 上保留 VIP，并重新经 eth0 到达网关。",
        ),
        hints: &[
            ("ip route show table local: which local route covers 192.168.150.1?", "ip route show table local：哪条 local 路由覆盖了 192.168.150.1？"),
            ("An address on a loopback device makes its whole prefix local.", "回环设备上的地址会把它的整个前缀都变成本机地址。"),
            ("ifconfig lo:2 192.168.150.100 netmask 255.255.255.255", "ifconfig lo:2 192.168.150.100 netmask 255.255.255.255"),
        ],
        setup: &[
            ("node02", "echo 1 > /proc/sys/net/ipv4/conf/eth0/arp_ignore"),
            ("node02", "echo 2 > /proc/sys/net/ipv4/conf/eth0/arp_announce"),
            ("node02", "echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore"),
            ("node02", "echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce"),
            ("node02", "ifconfig lo:2 192.168.150.100 netmask 255.255.255.0"),
        ],
        check: check_mask,
    },
    Exercise {
        scenario: None,
        id: "typo",
        host: "node02",
        title: ("Spot the typo", "找出笔误"),
        story: (
            "node02 was configured by copying the tutorial verbatim. The director would forward requests to it, and node02 would drop them all.",
            "node02 是照抄教程配置的。调度器转发给它的请求，会被它全部丢弃。",
        ),
        goal: (
            "node02 owns the VIP 192.168.150.100 (on lo:2, /32) and nothing else new.",
            "node02 拥有 VIP 192.168.150.100（在 lo:2 上，/32），且没有多余的地址。",
        ),
        hints: &[
            ("ip addr show lo, and read the address digit by digit.", "执行 ip addr show lo，逐位读地址。"),
            ("192.178 is not 192.168. Remove the wrong one (ifconfig lo:2 down or ip addr del …) and add the right one.", "192.178 不是 192.168。删掉错误的（ifconfig lo:2 down 或 ip addr del …），再添加正确的。"),
        ],
        setup: &[
            ("node02", "echo 1 > /proc/sys/net/ipv4/conf/eth0/arp_ignore"),
            ("node02", "echo 2 > /proc/sys/net/ipv4/conf/eth0/arp_announce"),
            ("node02", "echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore"),
            ("node02", "echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce"),
            ("node02", "ifconfig lo:2 192.178.150.100 netmask 255.255.255.255"),
        ],
        check: check_typo,
    },
    Exercise {
        scenario: None,
        id: "web",
        host: "node02",
        title: ("Serve the page", "提供网页"),
        story: (
            "node02 should serve <h1>from 192.168.150.12</h1> over HTTP, but nothing listens on port 80.",
            "node02 应当通过 HTTP 提供 <h1>from 192.168.150.12</h1>，但 80 端口上没有任何服务在监听。",
        ),
        goal: (
            "curl http://192.168.150.12/ on the client shows “from 192.168.150.12”.",
            "在客户端执行 curl http://192.168.150.12/ 能看到“from 192.168.150.12”。",
        ),
        hints: &[
            ("yum install httpd, then service httpd start.", "yum install httpd，然后 service httpd start。"),
            ("The page is /var/www/html/index.html: write it with echo '…' > …", "页面是 /var/www/html/index.html：用 echo '…' > … 写入。"),
        ],
        setup: &[],
        check: check_web,
    },
    Exercise {
        scenario: Some("pitfall-typo-192-178"),
        id: "synrecv",
        host: "node01",
        title: ("Why do the director's entries stay in SYN_RECV?", "为什么调度器的连接停在 SYN_RECV？"),
        story: (
            "The whole LVS-DR lab is configured, exactly as the tutorial's text says. Yet curl http://192.168.150.100/ on the client hangs, and ipvsadm -lnc on node01 shows SYN_RECV entries.",
            "整个 LVS-DR 实验都按教程原文配置好了。但在客户端 curl http://192.168.150.100/ 会卡住，node01 上 ipvsadm -lnc 显示 SYN_RECV 状态的连接。",
        ),
        goal: (
            "Two requests to the VIP are answered, once by each real server.",
            "对 VIP 的两次请求都得到应答，两台真实服务器各一次。",
        ),
        hints: &[
            ("SYN_RECV means the director forwarded the SYN but the handshake never completed: the fault is behind the director. Follow the SYN in the timeline.", "SYN_RECV 表示调度器转发了 SYN，但握手没有完成：问题在调度器之后。在时间线中跟踪这个 SYN。"),
            ("What does a real server do with a packet for 192.168.150.100? Look at its addresses (ip addr show lo).", "真实服务器如何处理发往 192.168.150.100 的包？看看它的地址（ip addr show lo）。"),
            ("Fix lo:2 on both real servers: ifconfig lo:2 192.168.150.100 netmask 255.255.255.255", "在两台真实服务器上修正 lo:2：ifconfig lo:2 192.168.150.100 netmask 255.255.255.255"),
        ],
        setup: &[],
        check: curl_vip_twice,
    },
    Exercise {
        scenario: Some("pitfall-lo-mask-24"),
        id: "mask24",
        host: "node02",
        title: ("The replies never leave", "回包永远发不出去"),
        story: (
            "The real servers put the VIP on lo with netmask 255.255.255.0. Requests reach them, but the client never gets an answer.",
            "真实服务器在 lo 上用 255.255.255.0 掩码配置了 VIP。请求能到达它们，客户端却收不到任何应答。",
        ),
        goal: (
            "Two requests to the VIP are answered, once by each real server.",
            "对 VIP 的两次请求都得到应答，两台真实服务器各一次。",
        ),
        hints: &[
            ("curl the VIP once and follow the SYN-ACK: where does the real server send it?", "curl 一次 VIP，跟踪 SYN-ACK：真实服务器把它发到哪里了？"),
            ("ip route get 192.168.150.1 on node02, then open the “Why?” tab.", "在 node02 上执行 ip route get 192.168.150.1，然后打开“为什么？”标签页。"),
            ("On node02 and node03: ifconfig lo:2 192.168.150.100 netmask 255.255.255.255", "在 node02 和 node03 上：ifconfig lo:2 192.168.150.100 netmask 255.255.255.255"),
        ],
        setup: &[],
        check: curl_vip_twice,
    },
];

// ---------------------------------------------------------------- why views

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
fn column(h: &mut H, title: &str, cls: &str, text: &str, other: &str) {
    let others: Vec<&str> = other.lines().collect();
    let _ = write!(
        h.0,
        "<div class=\"why-col {cls}\"><div class=\"why-col-title\">{}</div><pre class=\"why-out\">",
        esc(title)
    );
    for l in text.lines() {
        if others.contains(&l) {
            let _ = writeln!(h.0, "<span>{}</span>", esc(l));
        } else {
            let _ = writeln!(h.0, "<span class=\"diff\">{}</span>", esc(l));
        }
    }
    h.raw("</pre></div>");
}

fn rows_html(h: &mut H, rows: &[WhyRow], left: &str, right: &str) {
    for r in rows {
        let _ = write!(
            h.0,
            "<div class=\"why-cmd\"><code class=\"why-line\">{}</code><div class=\"why-cols\">",
            esc(&format!("[root@{} ~]# {}", r.host, r.line))
        );
        column(h, left, "bad", &r.left, &r.right);
        column(h, right, "good", &r.right, &r.left);
        h.raw("</div></div>");
    }
}

fn events_html(h: &mut H, left: &[String], right: &[String]) {
    h.raw("<div class=\"why-cols\">");
    for (cls, list) in [("bad", left), ("good", right)] {
        let _ = write!(
            h.0,
            "<div class=\"why-col {cls}\"><ol class=\"why-events\">"
        );
        for e in list {
            h.el("li", "", e);
        }
        h.raw("</ol></div>");
    }
    h.raw("</div>");
}

fn paras(h: &mut H, ps: &[Tx], lang: Lang) {
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

fn why_mask(lang: Lang) -> String {
    let mut h = H::new();
    h.el("h3", "", t(lang, "why.mask.title"));
    paras(&mut h, &MASK_WHY[..2], lang);
    let _ = write!(
        h.0,
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
    h.done()
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

fn why_arp(lang: Lang) -> String {
    let mut h = H::new();
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
    h.done()
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

fn why_reply(lang: Lang) -> String {
    use lvslab_engine::wire::{FrameRepr, Payload, L4};
    let mut h = H::new();
    h.el("h3", "", t(lang, "why.reply.title"));
    h.raw(REPLY_SVG);
    paras(&mut h, &REPLY_WHY[..2], lang);
    let Ok(world) = scenario::load("seed") else {
        return h.done();
    };
    let mut lab = Lab::new(world);
    let start = lab.world.trace.len();
    let cmd = "curl -s http://192.168.150.100/";
    let out = lab.run("client", cmd).text;
    let _ = write!(
        h.0,
        "<p class=\"muted\">{}</p><div class=\"why-cmd\"><code class=\"why-line\">{}</code><pre class=\"why-out\">{}</pre></div>",
        esc(pick(lang, (
            "The real trace of one request in the fully configured lab (scenario seed): every TCP frame put on the wire.",
            "完整配置好的实验（seed 场景）中一次请求的真实轨迹：线上的每一个 TCP 帧。",
        ))),
        esc(&format!("[root@client ~]# {cmd}")),
        esc(&out)
    );
    // Who owns which MAC, to name the frame's destination.
    let owner = |m: lvslab_engine::Mac| -> String {
        lab.world
            .hosts
            .values()
            .find(|x| x.devices.values().any(|d| d.mac == m))
            .map(|x| x.name.clone())
            .unwrap_or_else(|| m.to_string())
    };
    let _ = write!(
        h.0,
        "<table class=\"diff why-frames\"><thead><tr><th>#</th><th>{}</th><th>{}</th><th>IP</th><th>TCP</th></tr></thead><tbody>",
        esc(t(lang, "sent.by")),
        esc(pick(lang, ("to MAC of", "目的 MAC 属于")))
    );
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
            " class=\"fwd\""
        } else if from_rs {
            replies += 1;
            " class=\"reply\""
        } else {
            ""
        };
        let _ = write!(
            h.0,
            "<tr{cls}><td>{}</td><td>{}</td><td>{}</td><td class=\"mono\">{} → {}</td><td class=\"mono\">[{}]</td></tr>",
            i + 1,
            esc(&e.host),
            esc(&owner(f.dst)),
            ip.src,
            ip.dst,
            esc(&tcp.flag_string())
        );
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
        let _ = write!(h.0, "<div class=\"why-cmd\"><code class=\"why-line\">{}</code><pre class=\"why-out\">{}</pre></div>", esc(&format!("[root@{host} ~]# {cmd}")), esc(&out));
    }
    let mut rs = Lab::new(scenario::bare());
    rs.run(
        "node02",
        "ifconfig lo:2 192.168.150.100 netmask 255.255.255.255",
    );
    let cmd = "ip route get 192.168.150.1 from 192.168.150.100";
    let out = rs.run("node02", cmd).text;
    let _ = write!(h.0, "<div class=\"why-cmd\"><code class=\"why-line\">{}</code><pre class=\"why-out\">{}</pre></div>", esc(&format!("[root@node02 ~]# {cmd}")), esc(&out));
    h.done()
}

const WHY_TABS: [&str; 3] = ["why.t.mask", "why.t.arp", "why.t.reply"];

#[component]
pub fn WhyPanel() -> impl IntoView {
    let s = st();
    crate::html::markup(
        "why-panel",
        Box::new(move || {
            let l = s.lang.get();
            let tab = s.why_tab.get();
            let mut h = String::from("<div class=\"why-tabs\">");
            for (k, key) in WHY_TABS.iter().enumerate() {
                let on = k as u8 == tab;
                let _ = write!(
                    h,
                    "<button class=\"chip{}\" aria-pressed=\"{on}\" data-act=\"why-tab\" data-arg=\"{k}\">{}</button>",
                    if on { " on" } else { "" },
                    esc(t(l, key))
                );
            }
            h.push_str("</div><section class=\"why\">");
            h.push_str(&match tab {
                1 => why_arp(l),
                2 => why_reply(l),
                _ => why_mask(l),
            });
            if tab == 0 {
                let _ = write!(
                    h,
                    "<button class=\"btn\" data-act=\"why-try\">{}</button>",
                    esc(t(l, "why.try"))
                );
            }
            h.push_str("</section>");
            h
        }),
    )
}

// ---------------------------------------------------------------- panels

fn run_step(s: &St, i: usize) {
    let Some(step) = TOUR.get(i) else { return };
    let before = s.trace_len.get_untracked();
    for (h, l) in step.cmds {
        s.host_tab.set(h.to_string());
        s.run(h, l, true);
    }
    // Show the step's first packet, not the last command's.
    let after = s.trace_len.get_untracked();
    if after > before {
        s.select(Some(before), Motion::Jump);
        s.fresh.set(after - before);
    }
}

/// Which tour steps' commands the simulator knows (asked once).
fn tour_known() -> Vec<bool> {
    thread_local! {
        static KNOWN: Vec<bool> = TOUR.iter().map(|t| t.needs.is_none_or(command_known)).collect();
    }
    KNOWN.with(|k| k.clone())
}

/// Has tour step `i` been run in this lab (its commands are in the log)?
fn step_ran(cmds: &[crate::state::Cmd], i: usize) -> bool {
    let want = TOUR[i].cmds;
    !want.is_empty()
        && cmds.windows(want.len()).any(|w| {
            w.iter()
                .zip(want.iter())
                .all(|(c, (h, l))| c.host == *h && c.line == *l)
        })
}

fn button(h: &mut String, cls: &str, act: &str, arg: &str, enabled: bool, label: &str) {
    let _ = write!(
        h,
        "<button class=\"btn {cls}\" data-act=\"{act}\" data-arg=\"{}\"{}>{}</button>",
        esc(arg),
        if enabled { "" } else { " disabled" },
        esc(label)
    );
}

fn tour_html(s: &St) -> String {
    let l = s.lang.get();
    let i = s.tour_step.get().min(TOUR.len() - 1);
    let cmds = s.cmds.get();
    let known = tour_known();
    let mut h = format!(
        "<div class=\"tour\"><ol class=\"tour-steps\" aria-label=\"{}\">",
        esc(t(l, "tab.tour"))
    );
    for (k, ts) in TOUR.iter().enumerate() {
        let mut cls = String::from("tour-dot");
        if k == i {
            cls.push_str(" on");
        }
        if step_ran(&cmds, k) {
            cls.push_str(" done");
        }
        let _ = write!(
            h,
            "<li><button class=\"{cls}\" data-act=\"tour-go\" data-arg=\"{k}\" title=\"{}\" aria-current=\"{}\">{}</button></li>",
            esc(pick(l, ts.title)),
            if k == i { "step" } else { "false" },
            k + 1
        );
    }
    h.push_str("</ol>");
    let ts = &TOUR[i];
    let ok = known[i];
    let _ = write!(
        h,
        "<article class=\"tour-card\"><h3>{}</h3><p>{}</p><pre class=\"cmds\">",
        esc(pick(l, ts.title)),
        esc(pick(l, ts.text))
    );
    for (host, c) in ts.cmds {
        let _ = writeln!(
            h,
            "<span class=\"cmd-host\">[root@{host}]# </span>{}",
            esc(c)
        );
    }
    h.push_str("</pre>");
    if !ok {
        h.push_str("<p class=\"note\">");
        h.push_str(&esc(pick(l, (
            "Not in the simulator yet: this step waits for the model it needs. The commands are shown so you know what comes.",
            "模拟器尚未支持：此步骤需要的模型还未完成。先列出命令，让你知道接下来会做什么。",
        ))));
        h.push_str("</p>");
    }
    h.push_str("<div class=\"row\">");
    button(
        &mut h,
        "",
        "tour-prev",
        "",
        i > 0,
        &format!("← {}", t(l, "prev.step")),
    );
    let run_label = if step_ran(&cmds, i) {
        format!("✓ {} · {}", t(l, "ran"), t(l, "run.step"))
    } else {
        t(l, "run.step").to_string()
    };
    button(&mut h, "primary", "tour-run", "", ok, &run_label);
    button(
        &mut h,
        "",
        "tour-next",
        "",
        i + 1 < TOUR.len(),
        &format!("{} →", t(l, "next.step")),
    );
    button(
        &mut h,
        "subtle",
        "tour-restart",
        "",
        true,
        t(l, "tour.start"),
    );
    h.push_str("</div></article></div>");
    h
}

#[component]
pub fn TourPanel() -> impl IntoView {
    let s = st();
    crate::html::markup("tour-panel", Box::new(move || tour_html(&s)))
}

/// Check the active exercise and record progress.
pub fn check_now(s: &St) {
    let Some(ex) = s.exercise.get_untracked().and_then(exercise) else {
        s.ex_result.set(None);
        return;
    };
    let r = s.lab.with_untracked(|l| (ex.check)(l));
    if r.is_ok() && !s.solved.with_untracked(|v| v.iter().any(|x| x == ex.id)) {
        s.solved.update(|v| v.push(ex.id.to_string()));
        s.solved.with_untracked(|v| crate::share::save_solved(v));
    }
    s.ex_result.set(Some(r));
}

/// Check automatically after every command while an exercise is open.
pub fn auto_check(s: St) {
    Effect::new(move |_| {
        let n = s.cmds.with(|c| c.len());
        let _ = s.exercise.get();
        if n == 0 {
            s.ex_result.set(None);
        } else {
            untrack(|| check_now(&s));
        }
    });
}

fn exercises_html(s: &St) -> String {
    let l = s.lang.get();
    let solved = s.solved.get();
    let active = s.exercise.get();
    let is_solved = |id: &str| solved.iter().any(|x| x == id);
    let n = EXERCISES.iter().filter(|e| is_solved(e.id)).count();
    let mut h = format!(
        "<div class=\"ex\"><p class=\"muted\">{n} / {} {}</p><ul class=\"ex-list\">",
        EXERCISES.len(),
        esc(t(l, "ex.progress"))
    );
    for e in EXERCISES {
        let ok = is_solved(e.id);
        let _ = write!(
            h,
            "<li class=\"{}\"><span class=\"ex-state{}\" title=\"{}\">{}</span><span class=\"ex-title\">{}</span><button class=\"btn small\" data-ex=\"{id}\" data-act=\"ex-start\" data-arg=\"{id}\">{}</button></li>",
            if active == Some(e.id) { "active" } else { "" },
            if ok { " ok" } else { "" },
            esc(t(l, if ok { "ex.solved" } else { "ex.open" })),
            if ok { "✓" } else { "○" },
            esc(pick(l, e.title)),
            esc(t(l, "ex.start")),
            id = e.id,
        );
    }
    h.push_str("</ul>");
    if let Some(ex) = active.and_then(exercise) {
        let hints = s.ex_hints.get();
        let _ = write!(
            h,
            "<article class=\"ex-card\" data-exercise=\"{}\"><h3>{}: {}</h3><p><b>{}</b> {}</p><pre class=\"cmds dim\">",
            ex.id,
            esc(t(l, "ex.active")),
            esc(pick(l, ex.title)),
            esc(t(l, "ex.setup")),
            esc(pick(l, ex.story))
        );
        for (host, c) in ex.setup {
            let _ = writeln!(h, "[root@{host}]# {}", esc(c));
        }
        let _ = write!(
            h,
            "</pre><p class=\"goal\"><b>{}:</b> {}</p><ol class=\"hints\">",
            esc(t(l, "ex.goal")),
            esc(pick(l, ex.goal))
        );
        for hint in ex.hints.iter().take(hints) {
            let _ = write!(h, "<li>{}</li>", esc(pick(l, *hint)));
        }
        h.push_str("</ol><div class=\"row\">");
        button(&mut h, "primary", "ex-check", "", true, t(l, "ex.check"));
        button(
            &mut h,
            "",
            "ex-hint",
            "",
            hints < ex.hints.len(),
            &format!("{} ({hints}/{})", t(l, "ex.hint"), ex.hints.len()),
        );
        h.push_str("</div>");
        match s.ex_result.get() {
            Some(Ok(())) => {
                let _ = write!(
                    h,
                    "<p class=\"verdict ok\" role=\"status\">✓ {}</p>",
                    esc(t(l, "ex.ok"))
                );
            }
            Some(Err(why)) => {
                let _ = write!(
                    h,
                    "<p class=\"verdict no\" role=\"status\">✗ {}</p>",
                    esc(pick(l, why))
                );
            }
            None => {}
        }
        h.push_str("</article>");
    }
    h.push_str("</div>");
    h
}

#[component]
pub fn ExercisePanel() -> impl IntoView {
    let s = st();
    crate::html::markup("ex-panel", Box::new(move || exercises_html(&s)))
}

/// Actions of the buttons in the tour, exercise and why panels.
pub fn act(s: &St, act: &str, arg: &str) {
    match act {
        "tour-go" => s.tour_step.set(arg.parse().unwrap_or(0)),
        "tour-prev" => s.tour_step.update(|x| *x = x.saturating_sub(1)),
        "tour-next" => s.tour_step.update(|x| *x = (*x + 1).min(TOUR.len() - 1)),
        "tour-run" => run_step(s, s.tour_step.get_untracked()),
        "tour-restart" => {
            s.load_new(&s.scenario.get_untracked(), None);
            s.tour_step.set(0);
        }
        "ex-start" => {
            if let Some(id) = exercise_id(arg) {
                s.ex_hints.set(0);
                s.ex_result.set(None);
                s.load_new(&s.scenario.get_untracked(), Some(id));
            }
        }
        "ex-check" => check_now(s),
        "ex-hint" => s.ex_hints.update(|h| *h += 1),
        "why-tab" => s.why_tab.set(arg.parse().unwrap_or(0)),
        "why-try" => {
            s.host_tab.set("node02".into());
            s.run(
                "node02",
                "ifconfig lo:2 192.168.150.100 netmask 255.255.255.0",
                true,
            );
            s.run("node02", "ip route show table local", true);
            s.run("node02", "ip route get 192.168.150.1", true);
        }
        _ => {}
    }
}
