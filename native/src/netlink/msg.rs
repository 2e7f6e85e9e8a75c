//! Building the netlink messages the driver sends, and decoding what the
//! kernel answers, without a socket: the byte-level half of the driver.
//!
//! Requests carry exactly the attributes ipvsadm 1.31 (libipvs) sends, in
//! its order (`notes/ipvs-spec.md` §4), so a request can be compared byte
//! for byte with a capture of the real tool (`tests/netlink_golden.rs`):
//! service commands carry the whole service nest (AF, FWMARK or
//! PROTOCOL/ADDR/PORT, SCHED_NAME, FLAGS, TIMEOUT, NETMASK), with ipvsadm's
//! defaults (empty scheduler, no flags, full netmask) where the command has
//! no value; destination commands add the whole destination nest (with -g
//! and weight 1 as defaults, as ipvsadm's `-d` does); dumps of destinations
//! carry only the service's key.

use super::attrs::{
    svc_flags, CmdAttr, DestAttr, InfoAttr, IpvsCmd, StatsAttr, SvcAttr, AF_INET, AF_INET6,
    FAMILY_NAME, GENL_VERSION,
};
use lvslab_engine::ipvs::{
    DestEntry, DestSpec, Fwd, Info, Proto, Rates, ServiceEntry, ServiceKey, ServiceSpec, Stats,
    Timeouts,
};
use neli::{
    attr::Attribute,
    consts::{
        genl::{Cmd, CtrlAttr, CtrlCmd, NlAttrType},
        nl::{GenlId, NlmF},
    },
    genl::{AttrTypeBuilder, GenlAttrHandle, Genlmsghdr, GenlmsghdrBuilder, Nlattr, NlattrBuilder},
    nl::{NlPayload, NlmsghdrBuilder},
    types::{Buffer, GenlBuffer},
    FromBytesWithInput, ToBytes,
};
use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `NLMSG_ERROR`, `NLMSG_DONE`.
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
/// `GENL_ID_CTRL`.
pub const GENL_ID_CTRL: u16 = 0x10;
/// Size of `struct nlmsghdr`.
pub const NLMSG_HDRLEN: usize = 16;

/// One IPVS request, typed. Everything the backend asks the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    GetInfo,
    GetConfig,
    SetConfig(Timeouts),
    Flush,
    Zero(Option<ServiceKey>),
    NewService(ServiceSpec),
    SetService(ServiceSpec),
    DelService(ServiceKey),
    NewDest(ServiceKey, DestSpec),
    SetDest(ServiceKey, DestSpec),
    DelDest(ServiceKey, IpAddr, u16),
    /// GET_SERVICE as a dump: every service.
    DumpServices,
    /// GET_DEST as a dump: the destinations of one service.
    DumpDests(ServiceKey),
}

impl Request {
    pub fn cmd(&self) -> IpvsCmd {
        match self {
            Request::GetInfo => IpvsCmd::GetInfo,
            Request::GetConfig => IpvsCmd::GetConfig,
            Request::SetConfig(_) => IpvsCmd::SetConfig,
            Request::Flush => IpvsCmd::Flush,
            Request::Zero(_) => IpvsCmd::Zero,
            Request::NewService(_) => IpvsCmd::NewService,
            Request::SetService(_) => IpvsCmd::SetService,
            Request::DelService(_) => IpvsCmd::DelService,
            Request::NewDest(..) => IpvsCmd::NewDest,
            Request::SetDest(..) => IpvsCmd::SetDest,
            Request::DelDest(..) => IpvsCmd::DelDest,
            Request::DumpServices => IpvsCmd::GetService,
            Request::DumpDests(_) => IpvsCmd::GetDest,
        }
    }

    pub fn is_dump(&self) -> bool {
        matches!(self, Request::DumpServices | Request::DumpDests(_))
    }
}

/// A message could not be built or decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsgError(pub String);

impl std::fmt::Display for MsgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err(e: impl std::fmt::Display) -> MsgError {
    MsgError(e.to_string())
}

// ------------------------------------------------------------ encoding ----

fn attr<T: NlAttrType>(t: T, payload: &[u8]) -> Result<Nlattr<T, Buffer>, MsgError> {
    NlattrBuilder::default()
        .nla_type(
            AttrTypeBuilder::default()
                .nla_type(t)
                .build()
                .map_err(err)?,
        )
        .nla_payload(Buffer::from(payload))
        .build()
        .map_err(err)
}

/// An empty attribute marked `NLA_F_NESTED`, to `nest()` children into.
fn nest<T: NlAttrType>(t: T) -> Result<Nlattr<T, Buffer>, MsgError> {
    NlattrBuilder::default()
        .nla_type(
            AttrTypeBuilder::default()
                .nla_type(t)
                .nla_nested(true)
                .build()
                .map_err(err)?,
        )
        .nla_payload(Buffer::new())
        .build()
        .map_err(err)
}

fn nested<T: NlAttrType, C: NlAttrType>(
    t: T,
    children: Vec<Nlattr<C, Buffer>>,
) -> Result<Nlattr<T, Buffer>, MsgError> {
    let mut n = nest(t)?;
    for c in &children {
        n = n.nest(c).map_err(err)?;
    }
    Ok(n)
}

/// `union nf_inet_addr`: 16 bytes, IPv4 in the first 4.
fn inet_addr(a: IpAddr) -> [u8; 16] {
    let mut b = [0u8; 16];
    match a {
        IpAddr::V4(v) => b[..4].copy_from_slice(&v.octets()),
        IpAddr::V6(v) => b = v.octets(),
    }
    b
}

fn af_of(a: IpAddr) -> u16 {
    if a.is_ipv4() {
        AF_INET
    } else {
        AF_INET6
    }
}

fn key_af(k: &ServiceKey) -> u16 {
    if k.is_v6() {
        AF_INET6
    } else {
        AF_INET
    }
}

/// AF, then FWMARK or PROTOCOL + ADDR + PORT: how libipvs starts every
/// service nest, and all a GET_DEST dump sends.
fn service_key_attrs(k: &ServiceKey) -> Result<Vec<Nlattr<SvcAttr, Buffer>>, MsgError> {
    let mut v = vec![attr(SvcAttr::Af, &key_af(k).to_ne_bytes())?];
    match *k {
        ServiceKey::Fwmark { mark, .. } => v.push(attr(SvcAttr::Fwmark, &mark.to_ne_bytes())?),
        ServiceKey::Addr { proto, addr, port } => {
            v.push(attr(SvcAttr::Protocol, &proto.number().to_ne_bytes())?);
            v.push(attr(SvcAttr::Addr, &inet_addr(addr))?);
            v.push(attr(SvcAttr::Port, &port.to_be_bytes())?);
        }
    }
    Ok(v)
}

/// The `-b` names as `IP_VS_SVC_F_SCHED*` bits.
fn sched_flag_bits(names: &[String]) -> u32 {
    names
        .iter()
        .map(|n| match n.as_str() {
            "flag-1" | "sh-fallback" | "mh-fallback" => svc_flags::SCHED1,
            "flag-2" | "sh-port" | "mh-port" => svc_flags::SCHED2,
            "flag-3" => svc_flags::SCHED3,
            _ => 0,
        })
        .fold(0, |a, b| a | b)
}

/// The NETMASK attribute's value: an IPv4 mask in network order, or an
/// IPv6 prefix length; a prefix of 0 means "not given" (full mask).
fn netmask_bytes(k: &ServiceKey, prefix: u8) -> [u8; 4] {
    if k.is_v6() {
        let p = if prefix == 0 { 128 } else { u32::from(prefix) };
        p.to_ne_bytes()
    } else {
        let p = if prefix == 0 {
            32
        } else {
            u32::from(prefix.min(32))
        };
        let m = u32::MAX.checked_shl(32 - p).unwrap_or(0);
        m.to_be_bytes()
    }
}

/// The whole service nest (`ipvs_nl_fill_service_attr`). `spec` None is a
/// command without service options (`-D`, `-Z`, `-a`, `-e`, `-d`):
/// scheduler "", flags 0, timeout 0, full netmask, as ipvsadm sends them.
fn service_nest(
    k: &ServiceKey,
    spec: Option<&ServiceSpec>,
) -> Result<Nlattr<CmdAttr, Buffer>, MsgError> {
    let mut v = service_key_attrs(k)?;
    let (sched, flags, timeout, prefix) = match spec {
        Some(s) => {
            let mut f = sched_flag_bits(&s.sched_flags);
            if s.persistent.is_some() {
                f |= svc_flags::PERSISTENT;
            }
            (
                s.scheduler.as_str(),
                f,
                s.persistent.unwrap_or(0),
                s.netmask,
            )
        }
        None => ("", 0, 0, 0),
    };
    let mut name = sched.as_bytes().to_vec();
    name.push(0);
    v.push(attr(SvcAttr::SchedName, &name)?);
    let mut fl = flags.to_ne_bytes().to_vec();
    fl.extend_from_slice(&u32::MAX.to_ne_bytes());
    v.push(attr(SvcAttr::Flags, &fl)?);
    v.push(attr(SvcAttr::Timeout, &timeout.to_ne_bytes())?);
    v.push(attr(SvcAttr::Netmask, &netmask_bytes(k, prefix))?);
    nested(CmdAttr::Service, v)
}

/// The destination nest (`ipvs_nl_fill_dest_attr`), in libipvs's order.
fn dest_nest(d: &DestSpec) -> Result<Nlattr<CmdAttr, Buffer>, MsgError> {
    let v = vec![
        attr(DestAttr::AddrFamily, &af_of(d.addr).to_ne_bytes())?,
        attr(DestAttr::Addr, &inet_addr(d.addr))?,
        attr(DestAttr::Port, &d.port.to_be_bytes())?,
        attr(DestAttr::FwdMethod, &d.fwd.flag().to_ne_bytes())?,
        attr(DestAttr::Weight, &d.weight.to_ne_bytes())?,
        // ipip, no tunnel port, no checksum flags: what ipvsadm sends
        // when no --tun-* option is given.
        attr(DestAttr::TunType, &[0u8])?,
        attr(DestAttr::TunPort, &0u16.to_be_bytes())?,
        attr(DestAttr::TunFlags, &0u16.to_ne_bytes())?,
        attr(DestAttr::UThresh, &d.u_threshold.to_ne_bytes())?,
        attr(DestAttr::LThresh, &d.l_threshold.to_ne_bytes())?,
    ];
    nested(CmdAttr::Dest, v)
}

/// The top-level attributes of a request.
fn request_attrs(r: &Request) -> Result<Vec<Nlattr<CmdAttr, Buffer>>, MsgError> {
    Ok(match r {
        Request::GetInfo | Request::GetConfig | Request::Flush | Request::DumpServices => vec![],
        Request::Zero(None) => vec![],
        Request::SetConfig(t) => vec![
            attr(CmdAttr::TimeoutTcp, &t.tcp.to_ne_bytes())?,
            attr(CmdAttr::TimeoutTcpFin, &t.tcp_fin.to_ne_bytes())?,
            attr(CmdAttr::TimeoutUdp, &t.udp.to_ne_bytes())?,
        ],
        Request::Zero(Some(k)) | Request::DelService(k) => vec![service_nest(k, None)?],
        Request::NewService(s) | Request::SetService(s) => vec![service_nest(&s.key, Some(s))?],
        Request::NewDest(k, d) | Request::SetDest(k, d) => {
            vec![service_nest(k, None)?, dest_nest(d)?]
        }
        Request::DelDest(k, addr, port) => {
            // ipvsadm -d fills the destination with its defaults.
            let d = DestSpec {
                addr: *addr,
                port: *port,
                fwd: Fwd::Route,
                weight: 1,
                u_threshold: 0,
                l_threshold: 0,
            };
            vec![service_nest(k, None)?, dest_nest(&d)?]
        }
        Request::DumpDests(k) => vec![nested(CmdAttr::Service, service_key_attrs(k)?)?],
    })
}

fn genl_message<C: Cmd, T: NlAttrType>(
    nl_type: u16,
    flags: NlmF,
    seq: u32,
    cmd: C,
    attrs: Vec<Nlattr<T, Buffer>>,
) -> Result<Vec<u8>, MsgError> {
    let genl: Genlmsghdr<C, T> = GenlmsghdrBuilder::default()
        .cmd(cmd)
        .version(GENL_VERSION)
        .attrs(attrs.into_iter().collect::<GenlBuffer<T, Buffer>>())
        .build()
        .map_err(err)?;
    let msg = NlmsghdrBuilder::default()
        .nl_type(nl_type)
        .nl_flags(flags)
        .nl_seq(seq)
        .nl_pid(0)
        .nl_payload(NlPayload::Payload(genl))
        .build()
        .map_err(err)?;
    let mut c = Cursor::new(Vec::new());
    msg.to_bytes(&mut c).map_err(err)?;
    Ok(c.into_inner())
}

/// An IPVS request to the family `family` (REQUEST|ACK, or a dump).
pub fn encode(family: u16, seq: u32, r: &Request) -> Result<Vec<u8>, MsgError> {
    let flags = if r.is_dump() {
        NlmF::REQUEST | NlmF::ACK | NlmF::DUMP
    } else {
        NlmF::REQUEST | NlmF::ACK
    };
    genl_message(family, flags, seq, r.cmd(), request_attrs(r)?)
}

/// Clear NLM_F_ACK in an encoded request: the kernel then answers it
/// only if it fails (`netlink_rcv_skb()` acks when `NLM_F_ACK || err`).
pub fn without_ack(mut b: Vec<u8>) -> Vec<u8> {
    if b.len() >= NLMSG_HDRLEN {
        let flags = u16::from_ne_bytes([b[6], b[7]]) & !0x4;
        b[6..8].copy_from_slice(&flags.to_ne_bytes());
    }
    b
}

/// CTRL_CMD_GETFAMILY "IPVS" (REQUEST|ACK), as libnl's `genl_ctrl_resolve`.
pub fn encode_getfamily(seq: u32) -> Result<Vec<u8>, MsgError> {
    let mut name = FAMILY_NAME.as_bytes().to_vec();
    name.push(0);
    genl_message(
        GenlId::Ctrl.into(),
        NlmF::REQUEST | NlmF::ACK,
        seq,
        CtrlCmd::Getfamily,
        vec![attr(CtrlAttr::FamilyName, &name)?],
    )
}

// ------------------------------------------------------------ decoding ----

/// One netlink message of a received buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// NLMSG_ERROR with error 0.
    Ack { seq: u32 },
    /// NLMSG_ERROR: the errno, positive.
    Error { seq: u32, errno: i32 },
    /// NLMSG_DONE (end of a dump), with its error if any (positive).
    Done { seq: u32, errno: i32 },
    /// A genl message of family `nl_type`: the genl header and attributes.
    Genl {
        seq: u32,
        nl_type: u16,
        cmd: u8,
        attrs: GenlBuffer<u16, Buffer>,
    },
    /// Anything else (NLMSG_NOOP, …): skipped.
    Other { seq: u32 },
}

impl Message {
    pub fn seq(&self) -> u32 {
        match self {
            Message::Ack { seq }
            | Message::Error { seq, .. }
            | Message::Done { seq, .. }
            | Message::Genl { seq, .. }
            | Message::Other { seq } => *seq,
        }
    }
}

fn ne_u16(b: &[u8]) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(..2)?.try_into().ok()?))
}
fn ne_u32(b: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(..4)?.try_into().ok()?))
}
fn ne_u64(b: &[u8]) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(..8)?.try_into().ok()?))
}
fn ne_i32(b: &[u8]) -> Option<i32> {
    Some(i32::from_ne_bytes(b.get(..4)?.try_into().ok()?))
}

/// Split one received datagram into messages (`NLMSG_OK`/`NLMSG_NEXT`).
/// The 16-byte `nlmsghdr` is read here; the genl header and attributes by
/// neli.
pub fn parse_messages(buf: &[u8]) -> Result<Vec<Message>, MsgError> {
    let mut out = Vec::new();
    let mut off = 0;
    while buf.len() - off >= NLMSG_HDRLEN {
        let h = &buf[off..];
        let len = ne_u32(h).unwrap_or(0) as usize;
        if len < NLMSG_HDRLEN || len > h.len() {
            return Err(MsgError(format!(
                "bad netlink message length {len} at offset {off} of {}",
                buf.len()
            )));
        }
        let nl_type = ne_u16(&h[4..]).unwrap_or(0);
        let seq = ne_u32(&h[8..]).unwrap_or(0);
        let body = &h[NLMSG_HDRLEN..len];
        out.push(match nl_type {
            NLMSG_ERROR => {
                let e = ne_i32(body).ok_or_else(|| MsgError("short NLMSG_ERROR".into()))?;
                if e == 0 {
                    Message::Ack { seq }
                } else {
                    Message::Error {
                        seq,
                        errno: e.saturating_neg(),
                    }
                }
            }
            NLMSG_DONE => Message::Done {
                seq,
                errno: ne_i32(body).unwrap_or(0).saturating_neg(),
            },
            t if t >= GENL_ID_CTRL => {
                let g = Genlmsghdr::<u8, u16>::from_bytes_with_input(
                    &mut Cursor::new(body),
                    body.len(),
                )
                .map_err(|e| MsgError(format!("undecodable generic netlink message: {e}")))?;
                Message::Genl {
                    seq,
                    nl_type,
                    cmd: *g.cmd(),
                    attrs: g.attrs().clone(),
                }
            }
            _ => Message::Other { seq },
        });
        off += (len + 3) & !3;
    }
    Ok(out)
}

/// The payload of attribute `t`, if present.
fn raw<'a, T: NlAttrType>(h: &'a GenlAttrHandle<'_, T>, t: T) -> Option<&'a [u8]> {
    h.get_attribute(t).map(|a| a.payload().as_ref())
}

fn typed<T: NlAttrType>(
    attrs: &GenlBuffer<u16, Buffer>,
) -> Result<GenlAttrHandle<'_, T>, MsgError> {
    attrs.get_typed_attr_handle::<T>().map_err(err)
}

fn nested_handle<'a, T: NlAttrType, S: NlAttrType>(
    h: &'a GenlAttrHandle<'_, T>,
    t: T,
) -> Option<GenlAttrHandle<'a, S>> {
    h.get_nested_attributes::<S>(t).ok()
}

fn missing(what: &str) -> MsgError {
    MsgError(format!("kernel reply without {what}"))
}

fn string(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn inet(af: u16, b: &[u8]) -> Result<IpAddr, MsgError> {
    match af {
        AF_INET => {
            let o: [u8; 4] = b
                .get(..4)
                .and_then(|s| s.try_into().ok())
                .ok_or_else(|| missing("an IPv4 address"))?;
            Ok(IpAddr::V4(Ipv4Addr::from(o)))
        }
        AF_INET6 => {
            let o: [u8; 16] = b
                .get(..16)
                .and_then(|s| s.try_into().ok())
                .ok_or_else(|| missing("an IPv6 address"))?;
            Ok(IpAddr::V6(Ipv6Addr::from(o)))
        }
        other => Err(MsgError(format!("unknown address family {other}"))),
    }
}

fn be_port(b: Option<&[u8]>) -> Result<u16, MsgError> {
    let b = b.ok_or_else(|| missing("a port"))?;
    Ok(u16::from_be_bytes(
        b.get(..2)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| missing("a port"))?,
    ))
}

/// The family id from a CTRL_CMD_NEWFAMILY reply.
pub fn decode_family(attrs: &GenlBuffer<u16, Buffer>) -> Result<u16, MsgError> {
    let h = typed::<CtrlAttr>(attrs)?;
    raw(&h, CtrlAttr::FamilyId)
        .and_then(ne_u16)
        .ok_or_else(|| missing("FAMILY_ID"))
}

/// The GET_INFO reply (cmd SET_INFO).
pub fn decode_info(attrs: &GenlBuffer<u16, Buffer>) -> Result<Info, MsgError> {
    let h = typed::<InfoAttr>(attrs)?;
    let v = raw(&h, InfoAttr::Version)
        .and_then(ne_u32)
        .ok_or_else(|| missing("INFO_VERSION"))?;
    let size = raw(&h, InfoAttr::ConnTabSize)
        .and_then(ne_u32)
        .ok_or_else(|| missing("INFO_CONN_TAB_SIZE"))?;
    Ok(Info {
        version: ((v >> 16) as u8, (v >> 8) as u8, v as u8),
        conn_tab_size: size,
    })
}

/// The GET_CONFIG reply (cmd SET_CONFIG).
pub fn decode_timeouts(attrs: &GenlBuffer<u16, Buffer>) -> Result<Timeouts, MsgError> {
    let h = typed::<CmdAttr>(attrs)?;
    let get = |t: CmdAttr, n: &str| raw(&h, t).and_then(ne_u32).ok_or_else(|| missing(n));
    Ok(Timeouts {
        tcp: get(CmdAttr::TimeoutTcp, "TIMEOUT_TCP")?,
        tcp_fin: get(CmdAttr::TimeoutTcpFin, "TIMEOUT_TCP_FIN")?,
        udp: get(CmdAttr::TimeoutUdp, "TIMEOUT_UDP")?,
    })
}

/// Counters and rates from a STATS64 nest (all u64), or from the older
/// STATS nest (u32, bytes u64) when STATS64 is missing.
fn decode_stats<T: NlAttrType>(
    h: &GenlAttrHandle<'_, T>,
    stats64: T,
    stats32: T,
) -> (Stats, Rates) {
    let (n, wide) = match nested_handle::<T, StatsAttr>(h, stats64) {
        Some(n) => (Some(n), true),
        None => (nested_handle::<T, StatsAttr>(h, stats32), false),
    };
    let Some(n) = n else {
        return (Stats::default(), Rates::default());
    };
    let get = |t: StatsAttr, is_bytes: bool| -> u64 {
        let b = raw(&n, t);
        if wide || is_bytes {
            b.and_then(ne_u64).unwrap_or(0)
        } else {
            b.and_then(ne_u32).map(u64::from).unwrap_or(0)
        }
    };
    (
        Stats {
            conns: get(StatsAttr::Conns, false),
            inpkts: get(StatsAttr::Inpkts, false),
            outpkts: get(StatsAttr::Outpkts, false),
            inbytes: get(StatsAttr::Inbytes, true),
            outbytes: get(StatsAttr::Outbytes, true),
        },
        Rates {
            cps: get(StatsAttr::Cps, false),
            inpps: get(StatsAttr::Inpps, false),
            outpps: get(StatsAttr::Outpps, false),
            inbps: get(StatsAttr::Inbps, false),
            outbps: get(StatsAttr::Outbps, false),
        },
    )
}

/// The `-b` names of `IP_VS_SVC_F_SCHED*` bits, as ipvsadm prints them.
fn sched_flag_names(sched: &str, flags: u32) -> Vec<String> {
    let names: [&str; 3] = match sched {
        "sh" => ["sh-fallback", "sh-port", ""],
        "mh" => ["mh-fallback", "mh-port", ""],
        _ => ["flag-1", "flag-2", "flag-3"],
    };
    [svc_flags::SCHED1, svc_flags::SCHED2, svc_flags::SCHED3]
        .iter()
        .zip(names)
        .filter(|(bit, name)| flags & **bit != 0 && !name.is_empty())
        .map(|(_, name)| name.to_string())
        .collect()
}

/// A NEW_SERVICE message of a GET_SERVICE dump. Destinations are filled
/// in later (GET_DEST).
pub fn decode_service(attrs: &GenlBuffer<u16, Buffer>) -> Result<ServiceEntry, MsgError> {
    let top = typed::<CmdAttr>(attrs)?;
    let h = nested_handle::<CmdAttr, SvcAttr>(&top, CmdAttr::Service)
        .ok_or_else(|| missing("a SERVICE nest"))?;
    let af = raw(&h, SvcAttr::Af)
        .and_then(ne_u16)
        .ok_or_else(|| missing("SVC_ATTR_AF"))?;
    let fwmark = raw(&h, SvcAttr::Fwmark).and_then(ne_u32).unwrap_or(0);
    let key = if fwmark != 0 {
        ServiceKey::Fwmark {
            mark: fwmark,
            v6: af == AF_INET6,
        }
    } else {
        let p = raw(&h, SvcAttr::Protocol)
            .and_then(ne_u16)
            .ok_or_else(|| missing("SVC_ATTR_PROTOCOL"))?;
        let proto = match p {
            6 => Proto::Tcp,
            17 => Proto::Udp,
            132 => Proto::Sctp,
            other => return Err(MsgError(format!("service of unknown protocol {other}"))),
        };
        ServiceKey::Addr {
            proto,
            addr: inet(
                af,
                raw(&h, SvcAttr::Addr).ok_or_else(|| missing("SVC_ATTR_ADDR"))?,
            )?,
            port: be_port(raw(&h, SvcAttr::Port))?,
        }
    };
    let scheduler = raw(&h, SvcAttr::SchedName).map(string).unwrap_or_default();
    let flags = raw(&h, SvcAttr::Flags).and_then(ne_u32).unwrap_or(0);
    let timeout = raw(&h, SvcAttr::Timeout).and_then(ne_u32).unwrap_or(0);
    let netmask = match raw(&h, SvcAttr::Netmask) {
        Some(b) if af == AF_INET6 => ne_u32(b).unwrap_or(128).min(128) as u8,
        Some(b) => b
            .get(..4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map(|o| u32::from_be_bytes(o).leading_ones() as u8)
            .unwrap_or(32),
        None if af == AF_INET6 => 128,
        None => 32,
    };
    let (stats, rates) = decode_stats(&h, SvcAttr::Stats64, SvcAttr::Stats);
    Ok(ServiceEntry {
        spec: ServiceSpec {
            key,
            sched_flags: sched_flag_names(&scheduler, flags),
            scheduler,
            persistent: (flags & svc_flags::PERSISTENT != 0).then_some(timeout),
            netmask,
        },
        stats,
        rates,
        dests: vec![],
    })
}

/// A NEW_DEST message of a GET_DEST dump; `svc_af` is the service's
/// family, for kernels that do not send ADDR_FAMILY.
pub fn decode_dest(attrs: &GenlBuffer<u16, Buffer>, svc_af: u16) -> Result<DestEntry, MsgError> {
    let top = typed::<CmdAttr>(attrs)?;
    let h = nested_handle::<CmdAttr, DestAttr>(&top, CmdAttr::Dest)
        .ok_or_else(|| missing("a DEST nest"))?;
    let af = raw(&h, DestAttr::AddrFamily)
        .and_then(ne_u16)
        .unwrap_or(svc_af);
    let u32_of = |t: DestAttr| raw(&h, t).and_then(ne_u32).unwrap_or(0);
    let (stats, rates) = decode_stats(&h, DestAttr::Stats64, DestAttr::Stats);
    Ok(DestEntry {
        spec: DestSpec {
            addr: inet(
                af,
                raw(&h, DestAttr::Addr).ok_or_else(|| missing("DEST_ATTR_ADDR"))?,
            )?,
            port: be_port(raw(&h, DestAttr::Port))?,
            fwd: Fwd::from_flag(u32_of(DestAttr::FwdMethod)),
            weight: u32_of(DestAttr::Weight) as i32,
            u_threshold: u32_of(DestAttr::UThresh),
            l_threshold: u32_of(DestAttr::LThresh),
        },
        active: u32_of(DestAttr::ActiveConns),
        inactive: u32_of(DestAttr::InactConns),
        persist: u32_of(DestAttr::PersistConns),
        stats,
        rates,
    })
}

/// The address family of a service key, as the kernel reports it.
pub fn service_af(k: &ServiceKey) -> u16 {
    key_af(k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lvslab_engine::ipvsadm::{parse, Command};

    fn spec(argv: &str) -> ServiceSpec {
        let a: Vec<String> = argv.split_whitespace().map(String::from).collect();
        match parse(&a).unwrap() {
            Command::AddService(s) => s,
            c => panic!("{c:?}"),
        }
    }

    fn round_trip(s: &ServiceSpec) -> ServiceSpec {
        let b = encode(0x20, 1, &Request::NewService(s.clone())).unwrap();
        let m = parse_messages(&b).unwrap();
        let [Message::Genl { cmd: 1, attrs, .. }] = m.as_slice() else {
            panic!("{m:?}")
        };
        decode_service(attrs).unwrap().spec
    }

    #[test]
    fn service_options_survive_the_wire() {
        let s = spec("-A -t 10.0.0.1:80 -s sh -b sh-fallback,sh-port -p 60 -M 255.255.255.0");
        let back = round_trip(&s);
        assert_eq!(back.netmask, 24);
        assert_eq!(back.persistent, Some(60));
        assert_eq!(back.sched_flags, ["sh-fallback", "sh-port"]);
        assert_eq!((back.key, back.scheduler.as_str()), (s.key, "sh"));
        // The mask travels in network order, as ipvsadm sends it.
        let b = encode(0x20, 1, &Request::NewService(s)).unwrap();
        assert!(b.windows(8).any(|w| w == [8, 0, 9, 0, 0xff, 0xff, 0xff, 0]));

        let s = spec("-A -f 7 -s wlc");
        let back = round_trip(&s);
        assert_eq!(back.key, ServiceKey::Fwmark { mark: 7, v6: false });
        assert_eq!((back.netmask, back.persistent), (32, None));
        let s = spec("-A -u [2001:db8::1]:53 -s rr -p");
        let back = round_trip(&s);
        assert_eq!((back.netmask, back.persistent), (128, Some(360)));
    }

    #[test]
    fn truncated_or_foreign_messages_are_errors_not_panics() {
        let b = encode(0x20, 1, &Request::GetInfo).unwrap();
        assert!(parse_messages(&b[..10]).unwrap().is_empty());
        let mut bad = b.clone();
        bad[0] = 200;
        assert!(parse_messages(&bad).is_err());
        let empty = GenlBuffer::<u16, Buffer>::new();
        assert!(decode_info(&empty).is_err());
        assert!(decode_service(&empty).is_err());
        assert!(decode_dest(&empty, AF_INET).is_err());
        assert!(decode_timeouts(&empty).is_err());
    }
}
