//! Reading the engine's trace for display: what kind of packet a frame is
//! (for colours and labels), a one-line summary, and which trace events carry
//! the same frame (a `FrameTx`, the `Switch` event that forwarded it and the
//! `FrameRx` events where it arrived).
//!
//! Nothing here decides what the network does: frames are parsed by the
//! engine (`wire::FrameRepr::parse`) and the pairing only follows the trace's
//! own bookkeeping (a frame sent at t reaches the switch at t + HOP_DELAY on
//! the sender's port, and each out port's host at t + 2·HOP_DELAY).

use crate::i18n::{t, Lang};
use lvslab_engine::trace::{Event, EventKind};
use lvslab_engine::wire::{tcp_flags, ArpOp, FrameRepr, IcmpRepr, Payload, L4};
use lvslab_engine::world::HOP_DELAY;
use lvslab_engine::World;

/// What a frame is, for colour and labels. New protocols (TCP: SYN, SYN-ACK,
/// data, FIN, RST) become new variants here plus one CSS colour each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PktKind {
    ArpRequest,
    ArpReply,
    EchoRequest,
    EchoReply,
    IcmpError,
    Syn,
    SynAck,
    Ack,
    Data,
    Fin,
    Rst,
    Ipv4,
    Other,
}

impl PktKind {
    pub const ALL: [PktKind; 13] = [
        PktKind::ArpRequest,
        PktKind::ArpReply,
        PktKind::EchoRequest,
        PktKind::EchoReply,
        PktKind::IcmpError,
        PktKind::Syn,
        PktKind::SynAck,
        PktKind::Ack,
        PktKind::Data,
        PktKind::Fin,
        PktKind::Rst,
        PktKind::Ipv4,
        PktKind::Other,
    ];

    /// CSS class suffix (`pk-…`), also the i18n key suffix.
    pub fn css(self) -> &'static str {
        match self {
            PktKind::ArpRequest => "arpreq",
            PktKind::ArpReply => "arprep",
            PktKind::EchoRequest => "echoreq",
            PktKind::EchoReply => "echorep",
            PktKind::IcmpError => "icmperr",
            PktKind::Syn => "syn",
            PktKind::SynAck => "synack",
            PktKind::Ack => "ack",
            PktKind::Data => "data",
            PktKind::Fin => "fin",
            PktKind::Rst => "rst",
            PktKind::Ipv4 => "ip",
            PktKind::Other => "other",
        }
    }

    pub fn name(self, lang: Lang) -> &'static str {
        t(
            lang,
            match self {
                PktKind::ArpRequest => "pk.arpreq",
                PktKind::ArpReply => "pk.arprep",
                PktKind::EchoRequest => "pk.echoreq",
                PktKind::EchoReply => "pk.echorep",
                PktKind::IcmpError => "pk.icmperr",
                PktKind::Syn => "pk.syn",
                PktKind::SynAck => "pk.synack",
                PktKind::Ack => "pk.ack",
                PktKind::Data => "pk.data",
                PktKind::Fin => "pk.fin",
                PktKind::Rst => "pk.rst",
                PktKind::Ipv4 => "pk.ip",
                PktKind::Other => "pk.other",
            },
        )
    }

    /// The short tag drawn on the moving packet.
    pub fn tag(self, lang: Lang) -> &'static str {
        t(
            lang,
            match self {
                PktKind::ArpRequest => "tag.arpreq",
                PktKind::ArpReply => "tag.arprep",
                PktKind::EchoRequest => "tag.echoreq",
                PktKind::EchoReply => "tag.echorep",
                PktKind::IcmpError => "tag.icmperr",
                PktKind::Syn => "tag.syn",
                PktKind::SynAck => "tag.synack",
                PktKind::Ack => "tag.ack",
                PktKind::Data => "tag.data",
                PktKind::Fin => "tag.fin",
                PktKind::Rst => "tag.rst",
                PktKind::Ipv4 => "tag.ip",
                PktKind::Other => "tag.other",
            },
        )
    }
}

pub fn classify(f: &FrameRepr) -> PktKind {
    match &f.payload {
        Payload::Arp(a) => match a.op {
            ArpOp::Request => PktKind::ArpRequest,
            ArpOp::Reply => PktKind::ArpReply,
        },
        Payload::Ipv4(ip) => match &ip.l4 {
            L4::Icmp(IcmpRepr::EchoRequest { .. }) => PktKind::EchoRequest,
            L4::Icmp(IcmpRepr::EchoReply { .. }) => PktKind::EchoReply,
            L4::Icmp(IcmpRepr::DestUnreachable { .. }) => PktKind::IcmpError,
            L4::Tcp(tcp) => {
                if tcp.has(tcp_flags::RST) {
                    PktKind::Rst
                } else if tcp.has(tcp_flags::SYN) && tcp.has(tcp_flags::ACK) {
                    PktKind::SynAck
                } else if tcp.has(tcp_flags::SYN) {
                    PktKind::Syn
                } else if tcp.has(tcp_flags::FIN) {
                    PktKind::Fin
                } else if !tcp.payload.is_empty() {
                    PktKind::Data
                } else {
                    PktKind::Ack
                }
            }
            _ => PktKind::Ipv4,
        },
        _ => PktKind::Other,
    }
}

/// The frame bytes an event carries itself (FrameTx/FrameRx).
pub fn frame_bytes(e: &Event) -> Option<&[u8]> {
    match &e.kind {
        EventKind::FrameTx { frame, .. } | EventKind::FrameRx { frame, .. } => Some(frame),
        _ => None,
    }
}

/// One line saying what a frame is, tcpdump style.
pub fn summary(f: &FrameRepr, lang: Lang) -> String {
    let zh = lang == Lang::Zh;
    match &f.payload {
        Payload::Arp(a) => match (a.op, zh) {
            (ArpOp::Request, false) => {
                format!("ARP who-has {} tell {}", a.target_ip, a.sender_ip)
            }
            (ArpOp::Request, true) => {
                format!("ARP 谁是 {}？请告诉 {}", a.target_ip, a.sender_ip)
            }
            (ArpOp::Reply, false) => format!("ARP {} is-at {}", a.sender_ip, a.sender_mac),
            (ArpOp::Reply, true) => format!("ARP {} 在 {}", a.sender_ip, a.sender_mac),
        },
        Payload::Ipv4(ip) => {
            let what = match &ip.l4 {
                L4::Icmp(IcmpRepr::EchoRequest { seq, .. }) => {
                    format!("ICMP {} seq={seq}", t(lang, "v.echoreq"))
                }
                L4::Icmp(IcmpRepr::EchoReply { seq, .. }) => {
                    format!("ICMP {} seq={seq}", t(lang, "v.echorep"))
                }
                L4::Icmp(IcmpRepr::DestUnreachable { code, .. }) => {
                    format!("ICMP {} code={code}", t(lang, "v.unreach"))
                }
                L4::Icmp(_) => "ICMP".to_string(),
                L4::Tcp(tcp) => {
                    let mut s = format!(
                        "TCP {}→{} [{}] seq {} ack {} win {}",
                        tcp.src_port,
                        tcp.dst_port,
                        tcp.flag_string(),
                        tcp.seq,
                        tcp.ack,
                        tcp.window
                    );
                    if !tcp.payload.is_empty() {
                        s.push_str(&format!(" len {}", tcp.payload.len()));
                        if let Some(line) = first_line(&tcp.payload) {
                            s.push_str(&format!(" “{line}”"));
                        }
                    }
                    s
                }
                _ => format!("{} {}", t(lang, "f.proto"), ip.protocol()),
            };
            format!("{} → {} {what}", ip.src, ip.dst)
        }
        Payload::Other { ethertype } => format!("EtherType 0x{ethertype:04x}"),
    }
}

/// The first line of a text payload (an HTTP request or status line).
pub fn first_line(data: &[u8]) -> Option<String> {
    let end = data
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(data.len());
    let line = std::str::from_utf8(&data[..end.min(60)]).ok()?;
    (!line.is_empty() && line.chars().all(|c| !c.is_control())).then(|| line.to_string())
}

/// Simulated time as seconds, like tcpdump's relative timestamps.
pub fn fmt_time(us: u64) -> String {
    format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
}

/// For a host's decision about a frame it received (drop, ARP answer or
/// silence, local delivery, IPVS), the `FrameRx` it is about: the latest
/// frame received by the same host at the same instant.
pub fn context_frame(trace: &[Event], i: usize) -> Option<usize> {
    let e = trace.get(i)?;
    if !e.kind.about_input() {
        return None;
    }
    (0..i)
        .rev()
        .take_while(|&j| trace[j].time == e.time)
        .find(|&j| trace[j].host == e.host && matches!(trace[j].kind, EventKind::FrameRx { .. }))
}

/// Which events carry which frame.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// For each event, the `FrameTx` event whose frame it carries (a
    /// `FrameTx` points at itself; a `Switch` and a `FrameRx` at the send).
    pub origin: Vec<Option<usize>>,
    /// For each `FrameTx`, the `Switch` event and the `FrameRx` events.
    pub hops: lvslab_engine::vecmap::VecMap<usize, (Option<usize>, Vec<usize>)>,
}

fn port_of_dev(w: &World, host: &str, dev: &str) -> Option<usize> {
    let h = w.host(host)?;
    let d = h.device_by_name(dev)?;
    w.port_of(host, d.ifindex)
}

impl Links {
    pub fn build(w: &World) -> Links {
        let trace = &w.trace;
        let mut origin = vec![None; trace.len()];
        let mut hops: lvslab_engine::vecmap::VecMap<usize, (Option<usize>, Vec<usize>)> =
            Default::default();
        // (arrival time at the switch, port, tx event)
        let mut to_switch: Vec<(u64, usize, usize)> = Vec::new();
        // (arrival time at the host, port, tx event)
        let mut to_host: Vec<(u64, usize, usize)> = Vec::new();
        for (i, e) in trace.iter().enumerate() {
            match &e.kind {
                EventKind::FrameTx { dev, .. } => {
                    origin[i] = Some(i);
                    hops.insert(i, (None, Vec::new()));
                    if let Some(p) = port_of_dev(w, &e.host, dev) {
                        to_switch.push((e.time.0 + HOP_DELAY, p, i));
                    }
                }
                EventKind::Switch {
                    in_port, out_ports, ..
                } => {
                    let port = in_port.saturating_sub(1);
                    let pos = to_switch
                        .iter()
                        .position(|&(tm, p, _)| p == port && tm == e.time.0)
                        .or_else(|| to_switch.iter().position(|&(_, p, _)| p == port));
                    if let Some(pos) = pos {
                        let (_, _, tx) = to_switch.remove(pos);
                        origin[i] = Some(tx);
                        if let Some(h) = hops.get_mut(&tx) {
                            h.0 = Some(i);
                        }
                        for op in out_ports {
                            to_host.push((e.time.0 + HOP_DELAY, op.saturating_sub(1), tx));
                        }
                    }
                }
                EventKind::FrameRx { dev, frame } => {
                    let Some(port) = port_of_dev(w, &e.host, dev) else {
                        continue;
                    };
                    let same = |tx: usize| frame_bytes(&trace[tx]) == Some(&frame[..]);
                    let pos = to_host
                        .iter()
                        .position(|&(tm, p, tx)| p == port && tm == e.time.0 && same(tx))
                        .or_else(|| to_host.iter().position(|&(_, p, tx)| p == port && same(tx)));
                    if let Some(pos) = pos {
                        let (_, _, tx) = to_host.remove(pos);
                        origin[i] = Some(tx);
                        if let Some(h) = hops.get_mut(&tx) {
                            h.1.push(i);
                        }
                    }
                }
                _ => {}
            }
            // Frames lost on the wire (a port whose device is down) never
            // arrive: forget what is long overdue.
            let now = e.time.0;
            to_switch.retain(|&(tm, _, _)| tm + 10 * HOP_DELAY >= now);
            to_host.retain(|&(tm, _, _)| tm + 10 * HOP_DELAY >= now);
        }
        Links { origin, hops }
    }

    /// The frame (parsed by the engine) an event carries or concerns.
    pub fn frame<'a>(&self, trace: &'a [Event], i: usize) -> Option<&'a [u8]> {
        let e = trace.get(i)?;
        frame_bytes(e).or_else(|| {
            self.origin
                .get(i)
                .copied()
                .flatten()
                .and_then(|o| frame_bytes(&trace[o]))
        })
    }
}
