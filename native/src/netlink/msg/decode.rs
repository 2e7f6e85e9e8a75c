//! Decoding the kernel's answers: netlink framing, then the IPVS
//! attributes of services, destinations, stats, info and timeouts.

use super::*;

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

pub(super) fn ne_u16(b: &[u8]) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(..2)?.try_into().ok()?))
}
pub(super) fn ne_u32(b: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(..4)?.try_into().ok()?))
}
pub(super) fn ne_u64(b: &[u8]) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(..8)?.try_into().ok()?))
}
pub(super) fn ne_i32(b: &[u8]) -> Option<i32> {
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
pub(super) fn raw<'a, T: NlAttrType>(h: &'a GenlAttrHandle<'_, T>, t: T) -> Option<&'a [u8]> {
    h.get_attribute(t).map(|a| a.payload().as_ref())
}

pub(super) fn typed<T: NlAttrType>(
    attrs: &GenlBuffer<u16, Buffer>,
) -> Result<GenlAttrHandle<'_, T>, MsgError> {
    attrs.get_typed_attr_handle::<T>().map_err(err)
}

pub(super) fn nested_handle<'a, T: NlAttrType, S: NlAttrType>(
    h: &'a GenlAttrHandle<'_, T>,
    t: T,
) -> Option<GenlAttrHandle<'a, S>> {
    h.get_nested_attributes::<S>(t).ok()
}

pub(super) fn missing(what: &str) -> MsgError {
    MsgError(format!("kernel reply without {what}"))
}

pub(super) fn string(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

pub(super) fn inet(af: u16, b: &[u8]) -> Result<IpAddr, MsgError> {
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

pub(super) fn be_port(b: Option<&[u8]>) -> Result<u16, MsgError> {
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
pub(super) fn decode_stats<T: NlAttrType>(
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
pub(super) fn sched_flag_names(sched: &str, flags: u32) -> Vec<String> {
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
    // As the kernel keeps it (`nla_put_be32(…, svc->netmask)`): the IPv4
    // mask's bytes in network order, whatever they are; an IPv6 prefix
    // length in host order.
    let netmask = match raw(&h, SvcAttr::Netmask) {
        Some(b) if af == AF_INET6 => ne_u32(b).unwrap_or(128),
        Some(b) => b
            .get(..4)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map(u32::from_be_bytes)
            .unwrap_or(u32::MAX),
        None => full_netmask(af == AF_INET6),
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
