//! Frames as real bytes: parse and emit through `pnet_packet`.
//!
//! Everything that crosses the simulated segment is an Ethernet frame in its
//! wire format (no FCS, no padding to 60 bytes: a veth hands the stack the
//! frame as built, and that is what `tcpdump` on one shows), so a trace can be
//! written to pcap as it is. This module turns bytes into `Repr`s (parsed,
//! validated views) and back, like smoltcp's `wire`. Modelled: Ethernet II,
//! ARP for IPv4 over Ethernet, IPv4 without options or fragments, ICMP echo
//! and destination-unreachable, TCP, UDP, and IPv4-in-IPv4 (RFC 2003, protocol 4:
//! the packet IPVS tunnelling sends, an outer IPv4 header whose payload is
//! the whole inner IPv4 packet).

pub mod mac;
pub use mac::Mac;

use pnet_base::MacAddr;
use pnet_packet::arp::{ArpHardwareTypes, ArpOperations, ArpPacket, MutableArpPacket};
use pnet_packet::ethernet::{EtherType, EtherTypes, EthernetPacket, MutableEthernetPacket};
use pnet_packet::icmp::{IcmpCode, IcmpPacket, IcmpType, IcmpTypes, MutableIcmpPacket};
use pnet_packet::ip::{IpNextHeaderProtocol, IpNextHeaderProtocols};
use pnet_packet::ipv4::{Ipv4Flags, Ipv4Packet, MutableIpv4Packet};
use pnet_packet::tcp::{MutableTcpPacket, TcpPacket};
use pnet_packet::udp::{MutableUdpPacket, UdpPacket};
use pnet_packet::Packet;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

pub const ETH_HLEN: usize = 14;
pub const ARP_LEN: usize = 28;
pub const IPV4_HLEN: usize = 20;
pub const ICMP_HLEN: usize = 8;

fn to_pnet(m: Mac) -> MacAddr {
    let b = m.0;
    MacAddr(b[0], b[1], b[2], b[3], b[4], b[5])
}

fn from_pnet(m: MacAddr) -> Mac {
    Mac([m.0, m.1, m.2, m.3, m.4, m.5])
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("truncated {0}")]
    Truncated(&'static str),
    #[error("malformed {0}")]
    Malformed(&'static str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArpOp {
    Request,
    Reply,
}

/// An ARP packet for IPv4 over Ethernet (RFC 826).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArpRepr {
    pub op: ArpOp,
    pub sender_mac: Mac,
    pub sender_ip: Ipv4Addr,
    pub target_mac: Mac,
    pub target_ip: Ipv4Addr,
}

/// ICMP messages we model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IcmpRepr {
    EchoRequest {
        ident: u16,
        seq: u16,
        data: Vec<u8>,
    },
    EchoReply {
        ident: u16,
        seq: u16,
        data: Vec<u8>,
    },
    /// Type 3; `original` is the offending IP header plus 8 bytes.
    DestUnreachable {
        code: u8,
        original: Vec<u8>,
    },
    /// Type 11 (code 0: TTL exceeded in transit); `original` as above.
    TimeExceeded {
        code: u8,
        original: Vec<u8>,
    },
    Other {
        icmp_type: u8,
        code: u8,
    },
}

/// TCP flag bits (RFC 793 + ECN), as in the header's 13th byte.
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
}

/// A TCP segment. `options` are the raw option bytes (a multiple of 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    pub options: Vec<u8>,
    pub payload: Vec<u8>,
}

impl TcpRepr {
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Sequence space the segment occupies (SYN and FIN count one each).
    pub fn seq_len(&self) -> u32 {
        self.payload.len() as u32
            + u32::from(self.has(tcp_flags::SYN))
            + u32::from(self.has(tcp_flags::FIN))
    }

    /// tcpdump-style flag letters: `S`, `S.`, `.`, `P.`, `F.`, `R`, `R.`.
    pub fn flag_string(&self) -> String {
        let mut s = String::new();
        for (f, c) in [
            (tcp_flags::SYN, 'S'),
            (tcp_flags::FIN, 'F'),
            (tcp_flags::PSH, 'P'),
            (tcp_flags::RST, 'R'),
            (tcp_flags::URG, 'U'),
        ] {
            if self.has(f) {
                s.push(c);
            }
        }
        if self.has(tcp_flags::ACK) {
            s.push('.');
        }
        s
    }

    fn emit(&self, src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
        let hlen = 20 + self.options.len();
        let mut buf = vec![0u8; hlen + self.payload.len()];
        buf[20..hlen].copy_from_slice(&self.options);
        buf[hlen..].copy_from_slice(&self.payload);
        let mut p = MutableTcpPacket::new(&mut buf).expect("buffer sized for the header");
        p.set_source(self.src_port);
        p.set_destination(self.dst_port);
        p.set_sequence(self.seq);
        p.set_acknowledgement(self.ack);
        p.set_data_offset((hlen / 4) as u8);
        p.set_flags(self.flags);
        p.set_window(self.window);
        p.set_urgent_ptr(0);
        let c = csum::ipv4_pseudo(p.packet(), 8, src, dst, 6);
        p.set_checksum(c);
        buf
    }

    fn parse(bytes: &[u8], src: Ipv4Addr, dst: Ipv4Addr) -> Result<TcpRepr, WireError> {
        let p = TcpPacket::new(bytes).ok_or(WireError::Truncated("TCP header"))?;
        let hlen = usize::from(p.get_data_offset()) * 4;
        if hlen < 20 || hlen > bytes.len() {
            return Err(WireError::Malformed("TCP data offset"));
        }
        if csum::ipv4_pseudo(bytes, 8, src, dst, 6) != p.get_checksum() {
            return Err(WireError::Malformed("TCP checksum"));
        }
        Ok(TcpRepr {
            src_port: p.get_source(),
            dst_port: p.get_destination(),
            seq: p.get_sequence(),
            ack: p.get_acknowledgement(),
            flags: p.get_flags(),
            window: p.get_window(),
            options: bytes[20..hlen].to_vec(),
            payload: bytes[hlen..].to_vec(),
        })
    }
}

/// A UDP datagram (RFC 768), checksummed over the IPv4 pseudo-header as
/// Linux sends it (a computed checksum of 0 goes out as 0xffff).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UdpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: Vec<u8>,
}

impl UdpRepr {
    fn emit(&self, src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
        let mut buf = vec![0u8; 8 + self.payload.len()];
        buf[8..].copy_from_slice(&self.payload);
        let mut p = MutableUdpPacket::new(&mut buf).expect("buffer sized for the header");
        p.set_source(self.src_port);
        p.set_destination(self.dst_port);
        p.set_length((8 + self.payload.len()) as u16);
        let c = csum::ipv4_pseudo(p.packet(), 3, src, dst, 17);
        p.set_checksum(if c == 0 { 0xffff } else { c });
        buf
    }

    fn parse(bytes: &[u8], src: Ipv4Addr, dst: Ipv4Addr) -> Result<UdpRepr, WireError> {
        let p = UdpPacket::new(bytes).ok_or(WireError::Truncated("UDP header"))?;
        let len = usize::from(p.get_length());
        if len < 8 || len > bytes.len() {
            return Err(WireError::Malformed("UDP length"));
        }
        let sum = p.get_checksum();
        if sum != 0 {
            let c = csum::ipv4_pseudo(bytes, 3, src, dst, 17);
            if c != sum && !(c == 0 && sum == 0xffff) {
                return Err(WireError::Malformed("UDP checksum"));
            }
        }
        Ok(UdpRepr {
            src_port: p.get_source(),
            dst_port: p.get_destination(),
            payload: bytes[8..len].to_vec(),
        })
    }
}

/// What an IPv4 packet carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum L4 {
    Icmp(IcmpRepr),
    Tcp(TcpRepr),
    Udp(UdpRepr),
    /// IPv4 in IPv4 (protocol 4, `IPPROTO_IPIP`): the inner packet.
    Ipip(Box<Ipv4Repr>),
    /// Any other protocol, kept as raw bytes.
    Raw {
        protocol: u8,
        data: Vec<u8>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ipv4Repr {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    pub ident: u16,
    pub dont_frag: bool,
    pub tos: u8,
    pub l4: L4,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Payload {
    Arp(ArpRepr),
    Ipv4(Ipv4Repr),
    Other { ethertype: u16 },
}

/// A parsed Ethernet frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameRepr {
    pub dst: Mac,
    pub src: Mac,
    pub payload: Payload,
}

impl IcmpRepr {
    fn emit(&self) -> Vec<u8> {
        let (ty, code, rest, body): (IcmpType, u8, [u8; 4], &[u8]) = match self {
            IcmpRepr::EchoRequest { ident, seq, data } => {
                (IcmpTypes::EchoRequest, 0, id_seq(*ident, *seq), data)
            }
            IcmpRepr::EchoReply { ident, seq, data } => {
                (IcmpTypes::EchoReply, 0, id_seq(*ident, *seq), data)
            }
            IcmpRepr::DestUnreachable { code, original } => {
                (IcmpTypes::DestinationUnreachable, *code, [0; 4], original)
            }
            IcmpRepr::TimeExceeded { code, original } => {
                (IcmpTypes::TimeExceeded, *code, [0; 4], original)
            }
            IcmpRepr::Other { icmp_type, code } => (IcmpType(*icmp_type), *code, [0; 4], &[]),
        };
        let mut buf = vec![0u8; ICMP_HLEN + body.len()];
        buf[4..8].copy_from_slice(&rest);
        buf[8..].copy_from_slice(body);
        let mut p = MutableIcmpPacket::new(&mut buf).expect("buffer sized for the header");
        p.set_icmp_type(ty);
        p.set_icmp_code(IcmpCode(code));
        let c = csum::checksum(p.packet(), 1);
        p.set_checksum(c);
        buf
    }

    fn parse(bytes: &[u8]) -> Result<IcmpRepr, WireError> {
        let p = IcmpPacket::new(bytes).ok_or(WireError::Truncated("ICMP header"))?;
        if csum::checksum(bytes, 1) != p.get_checksum() {
            return Err(WireError::Malformed("ICMP checksum"));
        }
        let ident = u16::from_be_bytes([bytes[4], bytes[5]]);
        let seq = u16::from_be_bytes([bytes[6], bytes[7]]);
        let data = bytes[ICMP_HLEN..].to_vec();
        Ok(match p.get_icmp_type() {
            IcmpTypes::EchoRequest => IcmpRepr::EchoRequest { ident, seq, data },
            IcmpTypes::EchoReply => IcmpRepr::EchoReply { ident, seq, data },
            IcmpTypes::DestinationUnreachable => IcmpRepr::DestUnreachable {
                code: p.get_icmp_code().0,
                original: data,
            },
            IcmpTypes::TimeExceeded => IcmpRepr::TimeExceeded {
                code: p.get_icmp_code().0,
                original: data,
            },
            t => IcmpRepr::Other {
                icmp_type: t.0,
                code: p.get_icmp_code().0,
            },
        })
    }
}

/// `ip_decrease_ttl()` on an IPv4 packet in place: TTL − 1 and the header
/// checksum updated incrementally (RFC 1624: the TTL is the high byte of
/// its 16-bit word, so the checksum grows by 0x0100 with end-around
/// carry). The caller has checked that the TTL is above 1.
pub fn ipv4_decrease_ttl(packet: &mut [u8]) {
    if packet.len() < IPV4_HLEN || packet[8] == 0 {
        return;
    }
    packet[8] -= 1;
    let check = u32::from(u16::from_be_bytes([packet[10], packet[11]])) + 0x0100;
    let check = (check & 0xffff) + (check >> 16);
    packet[10..12].copy_from_slice(&(check as u16).to_be_bytes());
}

fn id_seq(ident: u16, seq: u16) -> [u8; 4] {
    let i = ident.to_be_bytes();
    let s = seq.to_be_bytes();
    [i[0], i[1], s[0], s[1]]
}

impl Ipv4Repr {
    pub fn protocol(&self) -> u8 {
        match &self.l4 {
            L4::Icmp(_) => IpNextHeaderProtocols::Icmp.0,
            L4::Tcp(_) => IpNextHeaderProtocols::Tcp.0,
            L4::Udp(_) => IpNextHeaderProtocols::Udp.0,
            L4::Ipip(_) => IpNextHeaderProtocols::Ipv4.0,
            L4::Raw { protocol, .. } => *protocol,
        }
    }

    pub fn emit(&self) -> Vec<u8> {
        let l4 = match &self.l4 {
            L4::Icmp(i) => i.emit(),
            L4::Tcp(t) => t.emit(self.src, self.dst),
            L4::Udp(u) => u.emit(self.src, self.dst),
            L4::Ipip(inner) => inner.emit(),
            L4::Raw { data, .. } => data.clone(),
        };
        let total = IPV4_HLEN + l4.len();
        let mut buf = vec![0u8; total];
        buf[IPV4_HLEN..].copy_from_slice(&l4);
        let mut p = MutableIpv4Packet::new(&mut buf).expect("buffer sized for the header");
        p.set_version(4);
        p.set_header_length(5);
        p.set_dscp(self.tos >> 2);
        p.set_ecn(self.tos & 3);
        p.set_total_length(total as u16);
        p.set_identification(self.ident);
        p.set_flags(if self.dont_frag {
            Ipv4Flags::DontFragment
        } else {
            0
        });
        p.set_fragment_offset(0);
        p.set_ttl(self.ttl);
        p.set_next_level_protocol(IpNextHeaderProtocol(self.protocol()));
        p.set_source(self.src);
        p.set_destination(self.dst);
        let c = csum::ipv4_header(p.packet(), p.get_header_length());
        p.set_checksum(c);
        buf
    }

    pub fn parse(bytes: &[u8]) -> Result<Ipv4Repr, WireError> {
        let p = Ipv4Packet::new(bytes).ok_or(WireError::Truncated("IPv4 header"))?;
        if p.get_version() != 4 || p.get_header_length() < 5 {
            return Err(WireError::Malformed("IPv4 header"));
        }
        let hl = p.get_header_length() as usize * 4;
        let total = p.get_total_length() as usize;
        if total < hl || total > bytes.len() {
            return Err(WireError::Truncated("IPv4 packet"));
        }
        if csum::ipv4_header(bytes, p.get_header_length()) != p.get_checksum() {
            return Err(WireError::Malformed("IPv4 checksum"));
        }
        let body = &bytes[hl..total];
        let proto = p.get_next_level_protocol();
        let l4 = if proto == IpNextHeaderProtocols::Icmp {
            L4::Icmp(IcmpRepr::parse(body)?)
        } else if proto == IpNextHeaderProtocols::Tcp {
            L4::Tcp(TcpRepr::parse(body, p.get_source(), p.get_destination())?)
        } else if proto == IpNextHeaderProtocols::Udp {
            L4::Udp(UdpRepr::parse(body, p.get_source(), p.get_destination())?)
        } else if proto == IpNextHeaderProtocols::Ipv4 {
            L4::Ipip(Box::new(Ipv4Repr::parse(body)?))
        } else {
            L4::Raw {
                protocol: proto.0,
                data: body.to_vec(),
            }
        };
        Ok(Ipv4Repr {
            src: p.get_source(),
            dst: p.get_destination(),
            ttl: p.get_ttl(),
            ident: p.get_identification(),
            dont_frag: p.get_flags() & Ipv4Flags::DontFragment != 0,
            tos: (p.get_dscp() << 2) | p.get_ecn(),
            l4,
        })
    }
}

impl ArpRepr {
    fn emit(&self) -> Vec<u8> {
        let mut buf = vec![0u8; ARP_LEN];
        let mut p = MutableArpPacket::new(&mut buf).expect("buffer sized for ARP");
        p.set_hardware_type(ArpHardwareTypes::Ethernet);
        p.set_protocol_type(EtherTypes::Ipv4);
        p.set_hw_addr_len(6);
        p.set_proto_addr_len(4);
        p.set_operation(match self.op {
            ArpOp::Request => ArpOperations::Request,
            ArpOp::Reply => ArpOperations::Reply,
        });
        p.set_sender_hw_addr(to_pnet(self.sender_mac));
        p.set_sender_proto_addr(self.sender_ip);
        p.set_target_hw_addr(to_pnet(self.target_mac));
        p.set_target_proto_addr(self.target_ip);
        buf
    }

    fn parse(bytes: &[u8]) -> Result<ArpRepr, WireError> {
        let p = ArpPacket::new(bytes).ok_or(WireError::Truncated("ARP"))?;
        if p.get_hardware_type() != ArpHardwareTypes::Ethernet
            || p.get_protocol_type() != EtherTypes::Ipv4
            || p.get_hw_addr_len() != 6
            || p.get_proto_addr_len() != 4
        {
            return Err(WireError::Malformed("ARP (not IPv4 over Ethernet)"));
        }
        let op = match p.get_operation() {
            ArpOperations::Request => ArpOp::Request,
            ArpOperations::Reply => ArpOp::Reply,
            _ => return Err(WireError::Malformed("ARP operation")),
        };
        Ok(ArpRepr {
            op,
            sender_mac: from_pnet(p.get_sender_hw_addr()),
            sender_ip: p.get_sender_proto_addr(),
            target_mac: from_pnet(p.get_target_hw_addr()),
            target_ip: p.get_target_proto_addr(),
        })
    }
}

impl FrameRepr {
    pub fn ethertype(&self) -> u16 {
        match &self.payload {
            Payload::Arp(_) => EtherTypes::Arp.0,
            Payload::Ipv4(_) => EtherTypes::Ipv4.0,
            Payload::Other { ethertype } => *ethertype,
        }
    }

    pub fn emit(&self) -> Vec<u8> {
        let body = match &self.payload {
            Payload::Arp(a) => a.emit(),
            Payload::Ipv4(ip) => ip.emit(),
            Payload::Other { .. } => Vec::new(),
        };
        let mut buf = vec![0u8; ETH_HLEN + body.len()];
        buf[ETH_HLEN..].copy_from_slice(&body);
        let mut e = MutableEthernetPacket::new(&mut buf).expect("buffer sized for Ethernet");
        e.set_destination(to_pnet(self.dst));
        e.set_source(to_pnet(self.src));
        e.set_ethertype(EtherType(self.ethertype()));
        buf
    }

    pub fn parse(bytes: &[u8]) -> Result<FrameRepr, WireError> {
        let e = EthernetPacket::new(bytes).ok_or(WireError::Truncated("Ethernet header"))?;
        let payload = match e.get_ethertype() {
            EtherTypes::Arp => Payload::Arp(ArpRepr::parse(e.payload())?),
            EtherTypes::Ipv4 => Payload::Ipv4(Ipv4Repr::parse(e.payload())?),
            t => Payload::Other { ethertype: t.0 },
        };
        Ok(FrameRepr {
            dst: from_pnet(e.get_destination()),
            src: from_pnet(e.get_source()),
            payload,
        })
    }
}

/// The Internet checksum (RFC 1071) as `pnet_packet::util` computes it (the
/// same 16-bit sums and folding, so the same values), written as a plain
/// loop over 16-bit words: every packet is checksummed when built and
/// again when parsed at each hop, and pnet's per-word slicing is slow in
/// the wasm build.
mod csum {
    use std::net::Ipv4Addr;

    /// Sum of the big-endian 16-bit words of `data` (a last odd byte is
    /// the high byte of a word), minus word `skip` (the checksum field).
    fn sum(data: &[u8], skip: usize) -> u32 {
        let mut words = data.chunks_exact(2);
        let mut s = 0u32;
        for w in &mut words {
            s += u32::from(u16::from_be_bytes([w[0], w[1]]));
        }
        if let [b] = words.remainder() {
            s += u32::from(*b) << 8;
        }
        let at = 2 * skip;
        if at + 2 <= data.len() {
            s -= u32::from(u16::from_be_bytes([data[at], data[at + 1]]));
        } else if at + 1 == data.len() {
            s -= u32::from(data[at]) << 8;
        }
        s
    }

    fn finish(mut s: u32) -> u16 {
        while s >> 16 != 0 {
            s = (s >> 16) + (s & 0xffff);
        }
        !(s as u16)
    }

    /// `pnet_packet::util::checksum`: 0 for no data.
    pub fn checksum(data: &[u8], skip: usize) -> u16 {
        if data.is_empty() {
            return 0;
        }
        finish(sum(data, skip))
    }

    /// `pnet_packet::ipv4::checksum`: over the header, its length
    /// (`ihl` words) clamped to 20 bytes and to the packet.
    pub fn ipv4_header(packet: &[u8], ihl: u8) -> u16 {
        let hl = (usize::from(ihl) * 4).max(20).min(packet.len());
        checksum(&packet[..hl], 5)
    }

    /// `pnet_packet::util::ipv4_checksum`: over the IPv4 pseudo-header
    /// (addresses, protocol, length) and `data`.
    pub fn ipv4_pseudo(data: &[u8], skip: usize, src: Ipv4Addr, dst: Ipv4Addr, proto: u8) -> u16 {
        let ip = |a: Ipv4Addr| {
            let o = a.octets();
            u32::from(u16::from_be_bytes([o[0], o[1]]))
                + u32::from(u16::from_be_bytes([o[2], o[3]]))
        };
        finish(ip(src) + ip(dst) + u32::from(proto) + data.len() as u32 + sum(data, skip))
    }
}

#[cfg(test)]
mod tests;
