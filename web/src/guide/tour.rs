//! The guided tour: the tutorial's steps with its own commands.

use super::Tx;
use lvslab_engine::scenario;
use lvslab_engine::shell::Lab;

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
