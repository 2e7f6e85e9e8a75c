//! Building request bytes: the IPVS family's commands as neli genl
//! messages (what libipvs's `ipvs_nl_fill_*` helpers put in them).

use super::*;

pub(super) fn attr<T: NlAttrType>(t: T, payload: &[u8]) -> Result<Nlattr<T, Buffer>, MsgError> {
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
pub(super) fn nest<T: NlAttrType>(t: T) -> Result<Nlattr<T, Buffer>, MsgError> {
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

pub(super) fn nested<T: NlAttrType, C: NlAttrType>(
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
pub(super) fn inet_addr(a: IpAddr) -> [u8; 16] {
    let mut b = [0u8; 16];
    match a {
        IpAddr::V4(v) => b[..4].copy_from_slice(&v.octets()),
        IpAddr::V6(v) => b = v.octets(),
    }
    b
}

pub(super) fn af_of(a: IpAddr) -> u16 {
    if a.is_ipv4() {
        AF_INET
    } else {
        AF_INET6
    }
}

pub(super) fn key_af(k: &ServiceKey) -> u16 {
    if k.is_v6() {
        AF_INET6
    } else {
        AF_INET
    }
}

/// AF, then FWMARK or PROTOCOL + ADDR + PORT: how libipvs starts every
/// service nest, and all a GET_DEST dump sends.
pub(super) fn service_key_attrs(k: &ServiceKey) -> Result<Vec<Nlattr<SvcAttr, Buffer>>, MsgError> {
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
pub(super) fn sched_flag_bits(names: &[String]) -> u32 {
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

/// The NETMASK attribute's value as libipvs puts it
/// (`nla_put_u32(…, svc->netmask)`): an IPv4 mask is ipvsadm's `s_addr`,
/// so its bytes go in network order, as given; an IPv6 prefix length is a
/// plain host-order number.
pub(super) fn netmask_bytes(k: &ServiceKey, netmask: u32) -> [u8; 4] {
    if k.is_v6() {
        netmask.to_ne_bytes()
    } else {
        netmask.to_be_bytes()
    }
}

/// The whole service nest (`ipvs_nl_fill_service_attr`). `spec` None is a
/// command without service options (`-D`, `-Z`, `-a`, `-e`, `-d`):
/// scheduler "", flags 0, timeout 0, full netmask, as ipvsadm sends them.
pub(super) fn service_nest(
    k: &ServiceKey,
    spec: Option<&ServiceSpec>,
) -> Result<Nlattr<CmdAttr, Buffer>, MsgError> {
    let mut v = service_key_attrs(k)?;
    let (sched, flags, timeout, netmask) = match spec {
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
        None => ("", 0, 0, full_netmask(k.is_v6())),
    };
    let mut name = sched.as_bytes().to_vec();
    name.push(0);
    v.push(attr(SvcAttr::SchedName, &name)?);
    let mut fl = flags.to_ne_bytes().to_vec();
    fl.extend_from_slice(&u32::MAX.to_ne_bytes());
    v.push(attr(SvcAttr::Flags, &fl)?);
    v.push(attr(SvcAttr::Timeout, &timeout.to_ne_bytes())?);
    v.push(attr(SvcAttr::Netmask, &netmask_bytes(k, netmask))?);
    nested(CmdAttr::Service, v)
}

/// The destination nest (`ipvs_nl_fill_dest_attr`), in libipvs's order.
pub(super) fn dest_nest(d: &DestSpec) -> Result<Nlattr<CmdAttr, Buffer>, MsgError> {
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
pub(super) fn request_attrs(r: &Request) -> Result<Vec<Nlattr<CmdAttr, Buffer>>, MsgError> {
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

pub(super) fn genl_message<C: Cmd, T: NlAttrType>(
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
