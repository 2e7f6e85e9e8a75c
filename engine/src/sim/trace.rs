//! The step trace: everything that happened, as data, with explanations.
//!
//! Each event says where (host, device, switch port), when (simulated time)
//! and what, and can explain itself in English and in Chinese (the seed
//! tutorial's language). Frames are kept as their real bytes so the UI can
//! show every header field and the trace can be written as pcap.

use crate::time::SimTime;
use crate::util::shared::{FrameBytes, Name};
use crate::wire::mac::Mac;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// Languages the explanations come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Lang {
    En,
    Zh,
}

/// Why a packet or frame was dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DropReason {
    /// The device is administratively down.
    DeviceDown,
    /// Unicast frame for another MAC (`PACKET_OTHERHOST`).
    OtherHost,
    /// Malformed bytes.
    Malformed(String),
    /// arp_ignore forbids answering this request (level, target).
    ArpIgnore { level: i64 },
    /// arp_filter: the reply would leave on another device.
    ArpFilter,
    /// Not for us and forwarding is off: `dst` is none of the host's
    /// addresses; `lookalike` is the one of them that reads most like it
    /// (a keystroke away: a typo), if any.
    NotForwarding {
        dst: Ipv4Addr,
        lookalike: Option<LookAlike>,
    },
    /// No route back to the source (rp_filter / fib_validate_source).
    RpFilter,
    /// Martian source (loopback/multicast source on the wire).
    MartianSource,
    /// Neighbour resolution failed.
    NeighFailed,
    /// No route to the destination.
    NoRoute,
    /// No socket wanted it.
    NoSocket,
    /// TTL reached zero.
    TtlExceeded,
    /// An iptables rule or chain policy said DROP.
    Iptables,
}

/// A host's address that reads like another one, with the label it is
/// configured under (`lo:2`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookAlike {
    pub addr: Ipv4Addr,
    pub label: String,
}

/// What a host dropped, as the explanations name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dropped {
    /// An IPv4 packet addressed to `dst`.
    PacketFor { dst: Ipv4Addr },
    /// An IPv4 packet from `src` (its source was the problem).
    PacketFrom { src: Ipv4Addr },
    /// A packet the host itself sends to `dst`.
    PacketSent { dst: Ipv4Addr },
    /// A packet IPVS is to send to real server `rip`.
    ToRealServer { rip: Ipv4Addr },
    /// A packet of an IPVS connection whose real server was deleted.
    DeletedServerConn,
    /// The packet being handled.
    Packet,
    /// An Ethernet frame.
    Frame,
    /// A packet routed into tunl0, the fallback tunnel.
    TunlFallback,
    /// A UDP datagram for a port nothing listens on.
    UdpForPort { port: u16 },
    /// A TCP segment for a local address and port with no socket.
    TcpSegmentFor { local: std::net::SocketAddrV4 },
    /// An ARP request for `tip`.
    ArpRequestFor { tip: Ipv4Addr },
    /// A packet for `dst` that an iptables rule of `chain` dropped.
    MangleChain {
        dst: Ipv4Addr,
        chain: crate::net::netfilter::Hook,
    },
}

impl Dropped {
    /// In words, in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        use Dropped::*;
        let zh = lang == Lang::Zh;
        match (self, zh) {
            (PacketFor { dst }, false) => format!("a packet for {dst}"),
            (PacketFor { dst }, true) => format!("发往 {dst} 的包"),
            (PacketFrom { src }, false) => format!("a packet from {src}"),
            (PacketFrom { src }, true) => format!("来自 {src} 的包"),
            (PacketSent { dst }, false) => format!("a packet it sends to {dst}"),
            (PacketSent { dst }, true) => format!("它自己发往 {dst} 的包"),
            (ToRealServer { rip }, false) => format!("the packet for real server {rip}"),
            (ToRealServer { rip }, true) => format!("要发给真实服务器 {rip} 的包"),
            (DeletedServerConn, false) => {
                "a packet of a connection whose real server was deleted".into()
            }
            (DeletedServerConn, true) => "一个连接的包，而该连接的真实服务器已被删除".into(),
            (Packet, false) => "the packet".into(),
            (Packet, true) => "这个包".into(),
            (Frame, false) => "a frame".into(),
            (Frame, true) => "一个帧".into(),
            (TunlFallback, false) => "a packet routed into tunl0 (the fallback tunnel has no remote address; not modelled)".into(),
            (TunlFallback, true) => "一个被路由进 tunl0 的包（后备隧道没有远端地址；未建模）".into(),
            (UdpForPort { port }, false) => format!("a UDP datagram for port {port}"),
            (UdpForPort { port }, true) => format!("发往端口 {port} 的 UDP 数据报"),
            (TcpSegmentFor { local }, false) => format!("a TCP segment for {local}"),
            (TcpSegmentFor { local }, true) => format!("发往 {local} 的 TCP 段"),
            (ArpRequestFor { tip }, false) => format!("the ARP request for {tip}"),
            (ArpRequestFor { tip }, true) => format!("询问 {tip} 的 ARP 请求"),
            (MangleChain { dst, chain }, false) => {
                format!("a packet for {dst} in the mangle table's {} chain", chain.name())
            }
            (MangleChain { dst, chain }, true) => {
                format!("mangle 表 {} 链中发往 {dst} 的包", chain.name())
            }
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventKind {
    /// A host put a frame on a device.
    FrameTx { dev: Name, frame: FrameBytes },
    /// A host's device received a frame.
    FrameRx { dev: Name, frame: FrameBytes },
    /// The switch forwarded (or flooded) a frame from one port to others.
    Switch {
        in_port: usize,
        out_ports: Vec<usize>,
        flooded: bool,
    },
    /// An ARP request was answered.
    ArpReply {
        dev: String,
        target: Ipv4Addr,
        arp_ignore: i64,
    },
    /// An ARP request for one of our addresses was NOT answered.
    ArpIgnored {
        dev: String,
        target: Ipv4Addr,
        level: i64,
    },
    /// The source IP an ARP request carries, and why (arp_announce).
    ArpSolicit {
        dev: String,
        target: Ipv4Addr,
        sender: Ipv4Addr,
        announce: i64,
        from_packet: bool,
    },
    /// A neighbour entry changed.
    NeighUpdate {
        dev: String,
        ip: Ipv4Addr,
        mac: Option<Mac>,
        state: String,
    },
    /// A route lookup and what it matched.
    RouteLookup {
        dst: Ipv4Addr,
        table: crate::net::ipv4::route::TableName,
        prefix: ipnet::Ipv4Net,
        rtype: crate::net::ipv4::fib::RouteType,
        dev: Option<String>,
    },
    /// Local delivery of an IPv4 packet.
    LocalDeliver { dst: Ipv4Addr, proto: u8 },
    /// Dropped, and why.
    Drop { reason: DropReason, what: Dropped },
    /// IPVS took a packet for a virtual service: which connection entry,
    /// which real server, the entry's new state.
    Ipvs {
        service: String,
        client: std::net::SocketAddr,
        dest: std::net::SocketAddr,
        /// The entry's state name (`ip_vs_state_name()`).
        state: std::borrow::Cow<'static, str>,
        new_conn: bool,
        scheduler: String,
        /// The forwarding method (`Route`, `Masq`, `Tunnel`).
        method: std::borrow::Cow<'static, str>,
    },
    /// IPVS found the service but no real server to send to.
    IpvsNoDest { service: String },
    /// An iptables MARK rule changed the packet's firewall mark
    /// (`skb->mark`) in a chain of the mangle table.
    NfMark {
        chain: String,
        rule: usize,
        mark: u32,
    },
    /// `ip_vs_tunnel_xmit()`: the packet for a Tunnel real server was put
    /// inside a new IPv4 header (IPIP) addressed to the real server.
    IpipEncap {
        /// The real server (outer destination).
        rs: Ipv4Addr,
        /// Outer source: what the route to the real server chose.
        outer_src: Ipv4Addr,
        /// The inner packet's destination (the VIP), unchanged.
        vip: Ipv4Addr,
        /// Outer TTL (the inner TTL after IPVS decremented it).
        ttl: u8,
        /// Outer DF, copied from the inner packet.
        df: bool,
    },
    /// `ipip_rcv()`: an IPIP packet was taken by the tunnel device and its
    /// inner packet goes through input routing again on that device.
    IpipDecap {
        dev: String,
        outer_src: Ipv4Addr,
        inner_src: Ipv4Addr,
        inner_dst: Ipv4Addr,
    },
    /// `tunnel4_rcv()`: an IPIP packet arrived but no tunnel device takes
    /// it (no `ipip` module, or tunl0 down): ICMP port unreachable back.
    IpipNoTunnel { outer_src: Ipv4Addr, loaded: bool },
    /// `ip_vs_in_icmp()`: an ICMP error about a tunnelled packet came back
    /// from a Tunnel real server; IPVS sends the same error to the client
    /// about the client's original packet.
    IpvsIcmpRelay {
        rs: Ipv4Addr,
        client: String,
        code: u8,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub time: SimTime,
    pub host: Name,
    pub kind: EventKind,
}

impl Event {
    /// A one-line explanation of the event.
    pub fn explain(&self, lang: Lang) -> String {
        use EventKind::*;
        let zh = lang == Lang::Zh;
        match &self.kind {
            FrameTx { dev, frame } => {
                if zh {
                    format!(
                        "{} 从 {} 发出一个帧（{} 字节）",
                        self.host,
                        dev,
                        frame.len()
                    )
                } else {
                    format!(
                        "{} sends a frame on {} ({} bytes)",
                        self.host,
                        dev,
                        frame.len()
                    )
                }
            }
            FrameRx { dev, frame } => {
                if zh {
                    format!(
                        "{} 的 {} 收到一个帧（{} 字节）",
                        self.host,
                        dev,
                        frame.len()
                    )
                } else {
                    format!(
                        "{} receives a frame on {} ({} bytes)",
                        self.host,
                        dev,
                        frame.len()
                    )
                }
            }
            Switch {
                in_port,
                out_ports,
                flooded,
            } => {
                let outs = out_ports
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(",");
                match (zh, flooded) {
                    (false, true) => format!("the switch floods the frame from port {in_port} to ports {outs} (broadcast or unknown destination MAC)"),
                    (false, false) => format!("the switch forwards the frame from port {in_port} to port {outs} (destination MAC learnt there)"),
                    (true, true) => format!("交换机把来自端口 {in_port} 的帧泛洪到端口 {outs}（广播或目的 MAC 未知）"),
                    (true, false) => format!("交换机把来自端口 {in_port} 的帧转发到端口 {outs}（已学习到目的 MAC）"),
                }
            }
            ArpReply {
                dev,
                target,
                arp_ignore,
            } => {
                if zh {
                    format!("{target} 是本机地址，arp_ignore={arp_ignore} 允许应答：{} 从 {dev} 回复 ARP", self.host)
                } else {
                    format!("{target} is local and arp_ignore={arp_ignore} allows an answer: {} replies on {dev}", self.host)
                }
            }
            ArpIgnored { dev, target, level } => {
                let why_en = match level {
                    1 => format!(
                        "{target} is not configured on {dev}, the device the request came in on"
                    ),
                    2 => format!("{target} is not on {dev} in the sender's subnet"),
                    3 => format!("{target} has scope host"),
                    8 => "arp_ignore=8 never answers".to_string(),
                    _ => "the arp_ignore rule".to_string(),
                };
                let why_zh = match level {
                    1 => format!("{target} 没有配置在收到请求的接口 {dev} 上"),
                    2 => format!("{target} 不在 {dev} 上与发送方同一子网"),
                    3 => format!("{target} 的作用域是 host"),
                    8 => "arp_ignore=8 从不应答".to_string(),
                    _ => "arp_ignore 规则".to_string(),
                };
                if zh {
                    format!(
                        "{} 不应答对 {target} 的 ARP 请求（arp_ignore={level}）：{why_zh}",
                        self.host
                    )
                } else {
                    format!(
                        "{} stays silent for {target} (arp_ignore={level}): {why_en}",
                        self.host
                    )
                }
            }
            ArpSolicit {
                dev,
                target,
                sender,
                announce,
                from_packet,
            } => {
                let src_en = if *from_packet {
                    "the source address of the packet waiting for it"
                } else {
                    "the best address of the device for the target (inet_select_addr)"
                };
                let src_zh = if *from_packet {
                    "等待发送的数据包的源地址"
                } else {
                    "出接口上与目标最匹配的地址（inet_select_addr）"
                };
                if zh {
                    format!("{} 在 {dev} 上广播 ARP 请求查询 {target}，发送方 IP 用 {sender}：arp_announce={announce}，取{src_zh}", self.host)
                } else {
                    format!("{} asks who has {target} on {dev}, announcing {sender}: arp_announce={announce} picks {src_en}", self.host)
                }
            }
            NeighUpdate {
                dev,
                ip,
                mac,
                state,
            } => {
                let m = mac.map(|m| m.to_string()).unwrap_or_else(|| "-".into());
                if zh {
                    format!("{} 的邻居表：{ip} dev {dev} lladdr {m} {state}", self.host)
                } else {
                    format!(
                        "{}'s neighbour table: {ip} dev {dev} lladdr {m} {state}",
                        self.host
                    )
                }
            }
            RouteLookup {
                dst,
                table,
                prefix,
                rtype,
                dev,
            } => {
                let d = dev.clone().unwrap_or_default();
                if zh {
                    format!(
                        "{} 查路由 {dst}：{table} 表命中 {rtype} {prefix} {d}",
                        self.host
                    )
                } else {
                    format!(
                        "{} looks up {dst}: table {table} matches {rtype} {prefix} {d}",
                        self.host
                    )
                }
            }
            LocalDeliver { dst, proto } => {
                if zh {
                    format!("{dst} 是本机地址：{} 在本地接收（协议 {proto}）", self.host)
                } else {
                    format!(
                        "{dst} is local: {} delivers it to itself (protocol {proto})",
                        self.host
                    )
                }
            }
            Ipvs {
                service,
                client,
                dest,
                state,
                new_conn,
                scheduler,
                method,
            } => {
                let how_en = if method == "Route" {
                    "Direct Routing: the IP packet is not touched, only the destination MAC becomes the real server's"
                } else {
                    "forwarded"
                };
                let how_zh = if method == "Route" {
                    "直接路由：IP 包不变，只把目的 MAC 改成真实服务器的 MAC"
                } else {
                    "转发"
                };
                match (zh, new_conn) {
                    (false, true) => format!("IPVS on {}: new connection {client} → {service}, scheduler {scheduler} picks {dest}; entry {state}; {how_en}", self.host),
                    (false, false) => format!("IPVS on {}: {client} → {service} belongs to the entry for {dest}, now {state}; {how_en}", self.host),
                    (true, true) => format!("{} 上的 IPVS：新连接 {client} → {service}，调度算法 {scheduler} 选中 {dest}；连接状态 {state}；{how_zh}", self.host),
                    (true, false) => format!("{} 上的 IPVS：{client} → {service} 属于发往 {dest} 的连接，状态变为 {state}；{how_zh}", self.host),
                }
            }
            NfMark { chain, rule, mark } => {
                if zh {
                    format!(
                        "{} 的 iptables：mangle 表 {chain} 链第 {rule} 条规则把数据包的防火墙标记设为 {mark}（0x{mark:x}）；IPVS 先按标记查找服务（ip_vs_service_find），`ipvsadm -A -f {mark}` 的服务就会收到它",
                        self.host
                    )
                } else {
                    format!(
                        "iptables on {}: rule {rule} of the mangle table's {chain} chain set the packet's firewall mark to {mark} (0x{mark:x}); IPVS looks services up by mark first (ip_vs_service_find), so an `ipvsadm -A -f {mark}` service gets it",
                        self.host
                    )
                }
            }
            IpvsNoDest { service } => {
                if zh {
                    format!(
                        "{} 上的 IPVS：服务 {service} 没有可用的真实服务器，回复 ICMP 端口不可达",
                        self.host
                    )
                } else {
                    format!("IPVS on {}: service {service} has no available real server; it answers ICMP port unreachable", self.host)
                }
            }
            IpipEncap {
                rs,
                outer_src,
                vip,
                ttl,
                df,
            } => {
                if zh {
                    format!(
                        "{} 上的 IPVS（隧道模式）：把发往 {vip} 的整个 IP 包装进一个新的 IPv4 头（IPIP，协议号 4）：外层 {outer_src} → {rs}（源地址由去往真实服务器的路由选出），TTL {ttl}（内层 TTL 减 1 后的值），TOS 与内层相同，DF={}，ID {}",
                        self.host,
                        u8::from(*df),
                        if *df { "0（有 DF 时为 0）" } else { "新分配" }
                    )
                } else {
                    format!(
                        "IPVS on {} (Tunnel): the whole packet for {vip} goes inside a new IPv4 header (IPIP, protocol 4): outer {outer_src} → {rs} (source chosen by the route to the real server), TTL {ttl} (the inner TTL after IPVS decremented it), TOS copied, DF={}, ID {}",
                        self.host,
                        u8::from(*df),
                        if *df { "0 (DF set)" } else { "freshly chosen" }
                    )
                }
            }
            IpipDecap {
                dev,
                outer_src,
                inner_src,
                inner_dst,
            } => {
                if zh {
                    format!(
                        "{} 的 {dev} 收下来自 {outer_src} 的 IPIP 包，剥掉外层头：内层包 {inner_src} → {inner_dst} 被当作从 {dev} 收到的包重新做输入路由（rp_filter 会检查回 {inner_src} 的路由是否走 {dev}）",
                        self.host
                    )
                } else {
                    format!(
                        "{dev} on {} takes the IPIP packet from {outer_src} and strips the outer header: the inner packet {inner_src} → {inner_dst} is routed again as if it arrived on {dev} (rp_filter checks whether the route back to {inner_src} leaves by {dev})",
                        self.host
                    )
                }
            }
            IpipNoTunnel { outer_src, loaded } => match (zh, loaded) {
                (false, true) => format!("{} gets an IPIP packet from {outer_src} but tunl0 is down: no tunnel takes it, it answers ICMP port unreachable", self.host),
                (false, false) => format!("{} gets an IPIP packet from {outer_src} but the ipip module is not loaded (no tunl0): protocol 4 is unknown, it answers ICMP protocol unreachable", self.host),
                (true, true) => format!("{} 收到来自 {outer_src} 的 IPIP 包，但 tunl0 没有启用：没有隧道接收它，回复 ICMP 端口不可达", self.host),
                (true, false) => format!("{} 收到来自 {outer_src} 的 IPIP 包，但没有加载 ipip 模块（没有 tunl0）：不认识协议 4，回复 ICMP 协议不可达", self.host),
            },
            IpvsIcmpRelay { rs, client, code } => {
                if zh {
                    format!(
                        "{} 上的 IPVS：真实服务器 {rs} 对隧道包回了 ICMP 不可达（code {code}），IPVS 把同样的错误针对客户端 {client} 的原始包发给客户端",
                        self.host
                    )
                } else {
                    format!(
                        "IPVS on {}: real server {rs} answered a tunnelled packet with ICMP unreachable (code {code}); IPVS sends the same error to the client {client} about its original packet",
                        self.host
                    )
                }
            }
            Drop { reason, what } => {
                let r = drop_reason(reason, zh);
                let what = what.text(lang);
                if zh {
                    format!("{} 丢弃了{what}：{r}", self.host)
                } else {
                    format!("{} drops {what}: {r}", self.host)
                }
            }
        }
    }
}

impl DropReason {
    /// The reason in words, as the explanations say it.
    pub fn label(&self, lang: Lang) -> String {
        drop_reason(self, lang == Lang::Zh)
    }
}

fn drop_reason(r: &DropReason, zh: bool) -> String {
    use DropReason::*;
    let (en, cn): (String, String) = match r {
        DeviceDown => ("the device is down".into(), "接口已关闭".into()),
        OtherHost => (
            "the frame is for another MAC".into(),
            "目的 MAC 不是本机".into(),
        ),
        Malformed(s) => (format!("malformed ({s})"), format!("格式错误（{s}）")),
        ArpIgnore { level } => (format!("arp_ignore={level}"), format!("arp_ignore={level}")),
        ArpFilter => (
            "arp_filter: the reply would leave by another device".into(),
            "arp_filter：应答会从其他接口发出".into(),
        ),
        NotForwarding {
            dst,
            lookalike: Some(LookAlike { addr, label }),
        } => (
            format!("{dst} is not one of its addresses (it has {addr} on {label} instead, the nearest look-alike: a typo?), so it is not for this host, and ip_forward is 0"),
            format!("{dst} 不是它的地址（它在 {label} 上配置的是 {addr}，最相近的地址：笔误？），所以不是发给本机的，而 ip_forward 为 0"),
        ),
        NotForwarding {
            dst,
            lookalike: None,
        } => (
            format!("{dst} is not one of its addresses, so it is not for this host, and ip_forward is 0"),
            format!("{dst} 不是它的地址，所以不是发给本机的，而 ip_forward 为 0"),
        ),
        RpFilter => (
            "rp_filter: the route back to the source uses another device".into(),
            "rp_filter：回源路由不走该接口".into(),
        ),
        MartianSource => (
            "martian source address".into(),
            "非法（martian）源地址".into(),
        ),
        NeighFailed => ("ARP resolution failed".into(), "ARP 解析失败".into()),
        NoRoute => ("no route".into(), "没有路由".into()),
        NoSocket => ("no socket is listening".into(), "没有对应的套接字".into()),
        TtlExceeded => ("TTL exceeded".into(), "TTL 耗尽".into()),
        Iptables => (
            "an iptables DROP (mangle table)".into(),
            "iptables 的 DROP（mangle 表）".into(),
        ),
    };
    if zh {
        cn
    } else {
        en
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_was_dropped_reads_in_both_languages() {
        let a = Ipv4Addr::new(192, 168, 150, 100);
        let all = [
            Dropped::PacketFor { dst: a },
            Dropped::PacketFrom { src: a },
            Dropped::PacketSent { dst: a },
            Dropped::ToRealServer { rip: a },
            Dropped::DeletedServerConn,
            Dropped::Packet,
            Dropped::Frame,
            Dropped::TunlFallback,
            Dropped::UdpForPort { port: 53 },
            Dropped::TcpSegmentFor {
                local: std::net::SocketAddrV4::new(a, 80),
            },
            Dropped::ArpRequestFor { tip: a },
            Dropped::MangleChain {
                dst: a,
                chain: crate::net::netfilter::Hook::Prerouting,
            },
        ];
        for d in all {
            let (en, zh) = (d.text(Lang::En), d.text(Lang::Zh));
            assert!(en.starts_with("a ") || en.starts_with("the "), "{en}");
            assert!(
                zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{zh}"
            );
            assert!(!zh.contains("packet") && !zh.contains("frame"), "{zh}");
        }
    }
}
