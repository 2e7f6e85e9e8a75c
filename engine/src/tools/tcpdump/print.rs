//! tcpdump 4.99's one-line decode (print-ether.c, print-arp.c, print-ip.c,
//! print-icmp.c, print-tcp.c, print-udp.c, print-http.c), for the frames
//! the lab carries: Ethernet with `-e`, ARP, IPv4 (IPIP nested), ICMP echo
//! and unreachable, TCP with tcpdump's relative sequence numbers and its
//! option list, UDP, and the first line of HTTP.
//!
//! Relative sequence numbers follow `tcp_print()`: only segments with ACK
//! take part; the first of a conversation (or any SYN) records both
//! initial numbers and prints them absolute, later ones print `seq - isn`
//! and `ack - isn` of their direction. Without `-n` ports are named from
//! `/etc/services`, and 127.0.0.1 is `localhost` (the lab's /etc/hosts has
//! no other name).
//! With `-v` (`ndo_vflag` 1): `ip_print()`'s header line `(tos 0x0, ttl 64,
//! id N, offset 0, flags [DF], proto ICMP (1), length 84)` and the decode
//! on the next line indented by four spaces, ARP's `Ethernet (len 6), IPv4
//! (len 4), `, TCP's `cksum 0x… (correct)` and UDP's `[udp sum ok]`.
//! Without `-n` an Ethernet address is followed by its OUI's name
//! (`etheraddr_string()`: ` (oui Unknown)`, the broadcast address is
//! `Broadcast`). Left out: the quoted packet `-v` prints under an ICMP
//! error, checksum offload (a real sender's own TCP/UDP segments carry a
//! partial checksum until the NIC fills it in, which tcpdump reports as
//! incorrect; the lab's are always complete), IPv6, fragments.

use crate::time::SimTime;
use crate::tools::services::port_name;
use crate::wire::{ArpOp, FrameRepr, IcmpRepr, Ipv4Repr, Payload, TcpRepr, L4};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

/// The decode options of the command line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrintOpts {
    /// `-n`: no name conversion (ports stay numbers).
    pub numeric: bool,
    /// `-e`: the link-level header.
    pub link: bool,
    /// `-t`: no timestamp.
    pub no_time: bool,
    /// `-v`: the IPv4 header's fields, ARP's address formats, TCP's and
    /// UDP's checksums.
    pub verbose: bool,
}

type ConvKey = (Ipv4Addr, Ipv4Addr, u32);

/// One tcpdump process's decoder: it remembers TCP conversations.
#[derive(Debug, Clone, Default)]
pub struct Printer {
    opts: PrintOpts,
    /// `tcp_seq_hash`: the initial (seq, ack) of each conversation, keyed
    /// in tcpdump's collating order.
    isn: BTreeMap<ConvKey, (u32, u32)>,
}

/// `HH:MM:SS.uuuuuu` of the lab's clock (time of day, lab start = 00:00).
pub fn timestamp(t: SimTime) -> String {
    let us = t.0 % 86_400_000_000;
    let s = us / 1_000_000;
    format!(
        "{:02}:{:02}:{:02}.{:06}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        us % 1_000_000
    )
}

impl Printer {
    pub fn new(opts: PrintOpts) -> Printer {
        Printer {
            opts,
            isn: BTreeMap::new(),
        }
    }

    /// The line tcpdump prints for `frame` captured at `t`.
    pub fn line(&mut self, t: SimTime, frame: &[u8]) -> String {
        let mut out = String::new();
        if !self.opts.no_time {
            out.push_str(&timestamp(t));
            out.push(' ');
        }
        let Ok(f) = FrameRepr::parse(frame) else {
            if frame.len() >= 14 {
                let _ = write!(
                    out,
                    "{} > {}, ethertype Unknown (0x{:02x}{:02x}), length {}: ",
                    mac_of(&frame[6..12]),
                    mac_of(&frame[0..6]),
                    frame[12],
                    frame[13],
                    frame.len()
                );
            }
            out.push_str("[|ether]");
            return out;
        };
        if self.opts.link {
            let (name, code) = ethertype(&f);
            let _ = write!(
                out,
                "{} > {}, ethertype {name} (0x{code:04x}), length {}: ",
                self.mac(f.src),
                self.mac(f.dst),
                frame.len()
            );
        }
        self.body(&mut out, &f, frame);
        out
    }

    /// The line for a LINUX_SLL2 record (`-i any`, print-sll.c): the
    /// device's name and the packet's direction, with -e the device's
    /// index, the link-layer source and the record's length (a 20-byte
    /// header instead of Ethernet's 14).
    pub fn cooked_line(
        &mut self,
        t: SimTime,
        frame: &[u8],
        ifname: &str,
        ifindex: u32,
        direction: &str,
    ) -> String {
        let mut out = String::new();
        if !self.opts.no_time {
            out.push_str(&timestamp(t));
            out.push(' ');
        }
        let _ = write!(out, "{ifname:<5} {direction:<3} ");
        let Ok(f) = FrameRepr::parse(frame) else {
            out.push_str("[|sll2]");
            return out;
        };
        if self.opts.link {
            let (name, code) = ethertype(&f);
            let _ = write!(
                out,
                "ifindex {ifindex} {} ethertype {name} (0x{code:04x}), length {}: ",
                self.mac(f.src),
                frame.len().saturating_sub(crate::wire::ETH_HLEN) + 20
            );
        }
        self.body(&mut out, &f, frame);
        out
    }

    /// What follows the link-level header.
    fn body(&mut self, out: &mut String, f: &FrameRepr, frame: &[u8]) {
        match &f.payload {
            Payload::Arp(a) => {
                if !self.opts.link {
                    out.push_str("ARP, ");
                }
                if self.opts.verbose {
                    out.push_str("Ethernet (len 6), IPv4 (len 4), ");
                }
                match a.op {
                    ArpOp::Request => {
                        let _ = write!(out, "Request who-has {}", a.target_ip);
                        if a.target_mac != crate::wire::Mac::ZERO {
                            let _ = write!(out, " ({})", self.mac(a.target_mac));
                        }
                        let _ = write!(out, " tell {}", a.sender_ip);
                    }
                    ArpOp::Reply => {
                        let _ = write!(
                            out,
                            "Reply {} is-at {}",
                            a.sender_ip,
                            self.mac(a.sender_mac)
                        );
                    }
                }
                out.push_str(", length 28");
            }
            Payload::Ipv4(ip) => {
                let bytes = &frame[crate::wire::ETH_HLEN..];
                self.ip(out, ip, bytes, !self.opts.link);
            }
            Payload::Other { .. } => {}
        }
    }

    /// `etheraddr_string()`: the address, and without -n its OUI's name.
    fn mac(&self, m: crate::wire::Mac) -> String {
        if self.opts.numeric {
            return m.to_string();
        }
        if m == crate::wire::Mac::BROADCAST {
            return "Broadcast".into();
        }
        let oui = if m.0[..3] == [0, 0, 0] {
            "Ethernet"
        } else {
            "Unknown"
        };
        format!("{m} (oui {oui})")
    }

    /// `ip_print()`'s header fields under -v, from the header's bytes.
    fn ip_header(out: &mut String, b: &[u8]) {
        let Some(h) = b.get(..20) else {
            return;
        };
        let be16 = |i: usize| u16::from_be_bytes([h[i], h[i + 1]]);
        let off = be16(6);
        let mut flags: Vec<&str> = Vec::new();
        for (bit, name) in [(0x2000u16, "+"), (0x4000, "DF"), (0x8000, "rsvd")] {
            if off & bit != 0 {
                flags.push(name);
            }
        }
        let flags = if flags.is_empty() {
            "none".to_string()
        } else {
            flags.join(", ")
        };
        let proto = match h[9] {
            1 => "ICMP",
            4 => "IPIP",
            6 => "TCP",
            17 => "UDP",
            _ => "unknown",
        };
        let _ = write!(out, "(tos 0x{:x}", h[1]);
        if h[8] >= 1 {
            let _ = write!(out, ", ttl {}", h[8]);
        }
        let _ = write!(
            out,
            ", id {}, offset {}, flags [{flags}], proto {proto} ({}), length {})\n    ",
            be16(4),
            (off & 0x1fff) * 8,
            h[9],
            be16(2)
        );
    }

    /// `ipaddr_string()`: without -n a name from /etc/hosts, which on the
    /// lab's hosts (as on Debian's) names only the loopback address.
    fn host(&self, a: Ipv4Addr) -> String {
        if !self.opts.numeric && a == Ipv4Addr::LOCALHOST {
            return "localhost".into();
        }
        a.to_string()
    }

    fn port(&self, p: u16) -> String {
        match (self.opts.numeric, port_name(p)) {
            (false, Some(n)) => n.to_string(),
            _ => p.to_string(),
        }
    }

    /// `ip_print()`: `IP ` (without -e) then the protocol's decode.
    fn ip(&mut self, out: &mut String, ip: &Ipv4Repr, bytes: &[u8], prefix: bool) {
        if prefix {
            out.push_str("IP ");
        }
        if self.opts.verbose {
            Self::ip_header(out, bytes);
        }
        let hlen = usize::from(bytes.first().copied().unwrap_or(0x45) & 0x0f) * 4;
        let total = bytes
            .get(2..4)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .unwrap_or(bytes.len());
        let l4_len = total.saturating_sub(hlen);
        match &ip.l4 {
            L4::Tcp(t) => {
                let _ = write!(
                    out,
                    "{}.{} > {}.{}: ",
                    self.host(ip.src),
                    self.port(t.src_port),
                    self.host(ip.dst),
                    self.port(t.dst_port)
                );
                let cksum = bytes
                    .get(hlen + 16..hlen + 18)
                    .map(|b| u16::from_be_bytes([b[0], b[1]]));
                self.tcp(out, ip, t, l4_len, cksum);
            }
            L4::Udp(u) => {
                let _ = write!(
                    out,
                    "{}.{} > {}.{}: ",
                    self.host(ip.src),
                    self.port(u.src_port),
                    self.host(ip.dst),
                    self.port(u.dst_port),
                );
                if self.opts.verbose {
                    let sum = bytes.get(hlen + 6..hlen + 8).unwrap_or(&[0, 0]);
                    out.push_str(if sum == [0, 0] {
                        "[no cksum] "
                    } else {
                        "[udp sum ok] "
                    });
                }
                let _ = write!(out, "UDP, length {}", u.payload.len());
            }
            L4::Icmp(icmp) => {
                let _ = write!(out, "{} > {}: ICMP ", self.host(ip.src), self.host(ip.dst));
                self.icmp(out, icmp, l4_len);
            }
            L4::Ipip(inner) => {
                let _ = write!(out, "{} > {}: ", self.host(ip.src), self.host(ip.dst));
                let inner_bytes = bytes.get(hlen..).unwrap_or(&[]);
                self.ip(out, inner, inner_bytes, true);
            }
            L4::Raw { protocol, data } => {
                let _ = write!(
                    out,
                    "{} > {}:  ip-proto-{protocol} {}",
                    self.host(ip.src),
                    self.host(ip.dst),
                    data.len()
                );
            }
        }
    }

    /// `icmp_print()`.
    fn icmp(&self, out: &mut String, icmp: &IcmpRepr, len: usize) {
        match icmp {
            IcmpRepr::EchoRequest { ident, seq, .. } => {
                let _ = write!(out, "echo request, id {ident}, seq {seq}");
            }
            IcmpRepr::EchoReply { ident, seq, .. } => {
                let _ = write!(out, "echo reply, id {ident}, seq {seq}");
            }
            IcmpRepr::DestUnreachable { code, original } => {
                let quoted = quoted_dst_proto(original);
                match (code, quoted) {
                    (0, Some(q)) => {
                        let _ = write!(out, "net {} unreachable", q.0);
                    }
                    (1, Some(q)) => {
                        let _ = write!(out, "host {} unreachable", q.0);
                    }
                    (2, Some(q)) => {
                        let _ = write!(out, "{} protocol {} unreachable", q.0, q.1);
                    }
                    (3, Some(q)) => {
                        let port = original
                            .get(usize::from(original[0] & 0x0f) * 4 + 2..)
                            .and_then(|b| b.get(..2))
                            .map(|b| u16::from_be_bytes([b[0], b[1]]));
                        let proto = match q.1 {
                            6 => "tcp",
                            17 => "udp",
                            _ => "ip-proto",
                        };
                        match port {
                            Some(p) => {
                                let _ = write!(
                                    out,
                                    "{} {proto} port {} unreachable",
                                    q.0,
                                    self.port(p)
                                );
                            }
                            None => {
                                let _ = write!(out, "{} {proto} port unreachable", q.0);
                            }
                        }
                    }
                    (c, _) => {
                        let _ = write!(out, "unreachable code {c}");
                    }
                }
            }
            IcmpRepr::TimeExceeded { code, .. } => out.push_str(match code {
                0 => "time exceeded in-transit",
                1 => "ip reassembly time exceeded",
                _ => "time exceeded",
            }),
            IcmpRepr::Other { icmp_type, code } => {
                let _ = write!(out, "type-#{icmp_type}");
                if *code != 0 {
                    let _ = write!(out, " code {code}");
                }
            }
        }
        let _ = write!(out, ", length {len}");
    }

    /// `tcp_print()` after the addresses.
    fn tcp(
        &mut self,
        out: &mut String,
        ip: &Ipv4Repr,
        t: &TcpRepr,
        l4_len: usize,
        cksum: Option<u16>,
    ) {
        use crate::wire::tcp_flags as F;
        let mut flags = String::new();
        for (bit, c) in [
            (F::FIN, 'F'),
            (F::SYN, 'S'),
            (F::RST, 'R'),
            (F::PSH, 'P'),
            (F::ACK, '.'),
            (F::URG, 'U'),
            (0x40, 'E'),
            (0x80, 'W'),
        ] {
            if t.flags & bit != 0 {
                flags.push(c);
            }
        }
        if flags.is_empty() {
            flags.push_str("none");
        }
        let _ = write!(out, "Flags [{flags}]");
        if let (true, Some(c)) = (self.opts.verbose, cksum) {
            let _ = write!(out, ", cksum 0x{c:04x} (correct)");
        }
        let (mut seq, mut ack) = (t.seq, t.ack);
        if t.has(F::ACK) {
            let (sport, dport) = (t.src_port, t.dst_port);
            let rev = sport > dport || (sport == dport && ip.src.octets() > ip.dst.octets());
            let key = if rev {
                (ip.dst, ip.src, u32::from(dport) << 16 | u32::from(sport))
            } else {
                (ip.src, ip.dst, u32::from(sport) << 16 | u32::from(dport))
            };
            match self.isn.get(&key) {
                Some(&(s, a)) if !t.has(F::SYN) => {
                    // th->seq is the "src" side's ISN, th->ack the other's.
                    if rev {
                        seq = seq.wrapping_sub(a);
                        ack = ack.wrapping_sub(s);
                    } else {
                        seq = seq.wrapping_sub(s);
                        ack = ack.wrapping_sub(a);
                    }
                }
                _ => {
                    let entry = if rev {
                        (t.ack.wrapping_sub(1), t.seq)
                    } else {
                        (t.seq, t.ack.wrapping_sub(1))
                    };
                    self.isn.insert(key, entry);
                }
            }
        }
        let hlen = 20 + t.options.len();
        let len = l4_len.saturating_sub(hlen);
        if len > 0 || t.flags & (F::SYN | F::FIN | F::RST) != 0 {
            let _ = write!(out, ", seq {seq}");
            if len > 0 {
                let _ = write!(out, ":{}", seq.wrapping_add(len as u32));
            }
        }
        if t.has(F::ACK) {
            let _ = write!(out, ", ack {ack}");
        }
        let _ = write!(out, ", win {}", t.window);
        if !t.options.is_empty() {
            out.push_str(", options [");
            tcp_options(out, &t.options);
            out.push(']');
        }
        let _ = write!(out, ", length {len}");
        if len > 0
            && [80, 8080]
                .iter()
                .any(|p| *p == t.src_port || *p == t.dst_port)
        {
            out.push_str(": ");
            http(out, &t.payload);
        }
    }
}

/// The ethertype's name and number as print-ether.c names them.
fn ethertype(f: &FrameRepr) -> (&'static str, u16) {
    match &f.payload {
        Payload::Arp(_) => ("ARP", 0x0806),
        Payload::Ipv4(_) => ("IPv4", 0x0800),
        Payload::Other { ethertype } => ("Unknown", *ethertype),
    }
}

/// The destination and protocol of the IPv4 header an ICMP error quotes.
fn quoted_dst_proto(original: &[u8]) -> Option<(Ipv4Addr, u8)> {
    let h = original.get(..20)?;
    Some((Ipv4Addr::new(h[16], h[17], h[18], h[19]), h[9]))
}

fn mac_of(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The option list as `tcp_print()` names it.
fn tcp_options(out: &mut String, mut opts: &[u8]) {
    let mut first = true;
    while let Some(&kind) = opts.first() {
        if !first {
            out.push(',');
        }
        first = false;
        if kind == 0 || kind == 1 {
            out.push_str(if kind == 0 { "eol" } else { "nop" });
            opts = &opts[1..];
            if kind == 0 {
                break;
            }
            continue;
        }
        let Some(&len) = opts.get(1) else {
            out.push_str("[bad opt]");
            return;
        };
        let len = usize::from(len);
        if len < 2 || len > opts.len() {
            out.push_str("[bad opt]");
            return;
        }
        let data = &opts[2..len];
        let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        match (kind, data.len()) {
            (2, 2) => {
                let _ = write!(out, "mss {}", u16::from_be_bytes([data[0], data[1]]));
            }
            (3, 1) => {
                let _ = write!(out, "wscale {}", data[0]);
            }
            (4, 0) => out.push_str("sackOK"),
            (8, 8) => {
                let _ = write!(out, "TS val {} ecr {}", be32(&data[..4]), be32(&data[4..]));
            }
            (5, n) if n % 8 == 0 => {
                let _ = write!(out, "sack {} ", n / 8);
                for b in data.chunks(8) {
                    let _ = write!(out, "{{{}:{}}}", be32(&b[..4]), be32(&b[4..]));
                }
            }
            (k, _) => {
                let _ = write!(out, "unknown-{k}");
                if !data.is_empty() {
                    out.push_str(" 0x");
                    for b in data {
                        let _ = write!(out, "{b:02x}");
                    }
                }
            }
        }
        opts = &opts[len..];
    }
}

/// HTTP request methods `http_print()` knows (print-http.c's list).
const HTTP_CMDS: &[&str] = &[
    "OPTIONS",
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "TRACE",
    "CONNECT",
    "PATCH",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
];

/// `txtproto_print()` for HTTP without -v: `HTTP`, and `: FIRST LINE` when
/// the segment starts with a request or a status line.
fn http(out: &mut String, payload: &[u8]) {
    out.push_str("HTTP");
    let line_end = payload
        .windows(2)
        .position(|w| w == b"\r\n")
        .or_else(|| payload.iter().position(|&b| b == b'\n'));
    let Some(end) = line_end else {
        return;
    };
    let line = String::from_utf8_lossy(&payload[..end]);
    let mut tokens = line.split(' ');
    let first = tokens.next().unwrap_or("");
    let second = tokens.next().unwrap_or("");
    let request = HTTP_CMDS.iter().any(|c| c.eq_ignore_ascii_case(first));
    let response = second.len() == 3 && second.bytes().all(|b| b.is_ascii_digit());
    if request || response {
        out.push_str(": ");
        for c in line.chars() {
            if c.is_ascii_graphic() || c == ' ' {
                out.push(c);
            } else {
                out.push('.');
            }
        }
    }
}
