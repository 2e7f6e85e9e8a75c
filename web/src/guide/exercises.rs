//! Exercises: a broken lab, a goal, hints, and a check that only asks the
//! engine (commands run on clones of the `Lab`, their output and trace read).

use super::{Tx, VIP};
use lvslab_engine::shell::Lab;
use lvslab_engine::trace::EventKind;
use std::net::Ipv4Addr;

pub struct Exercise {
    pub id: &'static str,
    /// The scenario it starts from, whatever was selected before: an
    /// exercise from the configured `seed` would start solved.
    pub scenario: &'static str,
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
            EventKind::ArpReply { target, .. } if *target == VIP => Some(e.host.to_string()),
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
    if h.sysctl
        .effective("eth0", lvslab_engine::sysctl::Knob::ArpAnnounce)
        < 2
    {
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
    let typo = Ipv4Addr::new(192, 178, 150, 100);
    for name in ["node02", "node03"] {
        let h = lab
            .world
            .host(name)
            .ok_or(("no real server", "没有真实服务器"))?;
        if h.is_local(typo) {
            return Err((
                "A real server still has the typo address configured (ip addr show lo).",
                "还有真实服务器配置着笔误的地址（ip addr show lo）。",
            ));
        }
    }
    curl_vip_twice(lab)
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
        scenario: "bare",
        id: "vip",
        host: "node01",
        title: ("Give the director its VIP", "为调度器配置 VIP"),
        story: (
            "Someone typed the tutorial's command on node01, saw it fail, and ran ifconfig eth0:8 down to undo whatever it had done.",
            "有人在 node01 上照抄了教程的命令，看到报错后又执行了 ifconfig eth0:8 down，想撤销它做过的一切。",
        ),
        goal: (
            "node01 owns 192.168.150.100/24 on the alias eth0:8 and answers ARP for it.",
            "node01 在别名 eth0:8 上拥有 192.168.150.100/24，并为它应答 ARP。",
        ),
        hints: &[
            ("Read the error: ifconfig does not understand `netmask/24` — but it had already set the address (it applies its arguments in order, a classful /24 for 192.168.x), and eth0:8 down deleted it again.", "读错误信息：ifconfig 不认识 `netmask/24`——但它已经设置了地址（参数按顺序生效，192.168.x 按类别默认 /24），而 eth0:8 down 又把它删掉了。"),
            ("Either put the prefix on the address or spell the mask out.", "要么把前缀写在地址后面，要么把掩码完整写出来。"),
            ("ifconfig eth0:8 192.168.150.100/24", "ifconfig eth0:8 192.168.150.100/24"),
        ],
        setup: &[
            ("node01", "ifconfig eth0:8 192.168.150.100 netmask/24"),
            ("node01", "ifconfig eth0:8 down"),
        ],
        check: check_vip,
    },
    Exercise {
        scenario: "bare",
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
        scenario: "bare",
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
        scenario: "pitfall-typo-192-178",
        id: "typo",
        host: "node02",
        title: ("Spot the typo", "找出笔误"),
        story: (
            "The whole LVS-DR lab was configured by copying the tutorial verbatim, director included. curl http://192.168.150.100/ on the client never gets a page.",
            "整个 LVS-DR 实验（包括调度器）都是照抄教程配置的。在客户端 curl http://192.168.150.100/ 永远得不到页面。",
        ),
        goal: (
            "Two requests to the VIP are answered, once by each real server, and no real server keeps an address that is not the VIP on lo:2.",
            "对 VIP 的两次请求都得到应答，两台真实服务器各一次；真实服务器的 lo:2 上只有 VIP，没有别的地址。",
        ),
        hints: &[
            ("Follow the SYN node01 forwards to node02: what does node02 do with it, and why?", "跟踪 node01 转发给 node02 的 SYN：node02 怎么处理它？为什么？"),
            ("ip addr show lo on a real server, and read the address digit by digit.", "在真实服务器上执行 ip addr show lo，逐位读地址。"),
            ("192.178 is not 192.168: ifconfig lo:2 192.168.150.100 netmask 255.255.255.255 on node02 and node03.", "192.178 不是 192.168：在 node02 和 node03 上执行 ifconfig lo:2 192.168.150.100 netmask 255.255.255.255。"),
        ],
        setup: &[],
        check: check_typo,
    },
    Exercise {
        scenario: "bare",
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
        scenario: "pitfall-lo-down",
        id: "synrecv",
        host: "node01",
        title: ("Why do the director's entries stay in SYN_RECV?", "为什么调度器的连接停在 SYN_RECV？"),
        story: (
            "The LVS-DR lab is configured. Every second curl -m 3 http://192.168.150.100/ on the client times out, and ipvsadm -lnc on node01 then shows an entry in SYN_RECV.",
            "LVS-DR 实验已配置好。在客户端执行 curl -m 3 http://192.168.150.100/，每两次就有一次超时，之后 node01 上 ipvsadm -lnc 显示一条 SYN_RECV 状态的连接。",
        ),
        goal: (
            "Two requests to the VIP are answered, once by each real server.",
            "对 VIP 的两次请求都得到应答，两台真实服务器各一次。",
        ),
        hints: &[
            ("SYN_RECV means the director forwarded the SYN but never saw the handshake complete: the fault is behind the director. Which real server does the SYN_RECV entry point to?", "SYN_RECV 表示调度器转发了 SYN，却没看到握手完成：问题在调度器之后。SYN_RECV 条目指向哪台真实服务器？"),
            ("Follow that SYN in the timeline to the real server, then look at its lo device (ip addr show lo, ifconfig lo:2).", "在时间线中把这个 SYN 跟踪到真实服务器，再看它的 lo 设备（ip addr show lo、ifconfig lo:2）。"),
            ("Bring the alias back: ifconfig lo:2 192.168.150.100 netmask 255.255.255.255 (or ifconfig lo:2 up).", "恢复别名：ifconfig lo:2 192.168.150.100 netmask 255.255.255.255（或 ifconfig lo:2 up）。"),
        ],
        setup: &[],
        check: curl_vip_twice,
    },
    Exercise {
        scenario: "pitfall-lo-mask-24",
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
