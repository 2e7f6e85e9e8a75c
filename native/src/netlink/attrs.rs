//! The IPVS generic netlink family as typed neli constants
//! (include/uapi/linux/ip_vs.h, Linux 6.1; `notes/ipvs-spec.md` §4).
//! Values the kernel sends that are not listed here decode as
//! `UnrecognizedConst` and are ignored.

use neli::neli_enum;

/// The genl family name; its id is dynamic (resolved through nlctrl).
pub const FAMILY_NAME: &str = "IPVS";
/// `IPVS_GENL_VERSION`.
pub const GENL_VERSION: u8 = 1;

/// `enum ipvs_cmd` (`genlmsghdr.cmd`).
#[neli_enum(serialized_type = "u8")]
pub enum IpvsCmd {
    Unspec = 0,
    NewService = 1,
    SetService = 2,
    DelService = 3,
    GetService = 4,
    NewDest = 5,
    SetDest = 6,
    DelDest = 7,
    GetDest = 8,
    NewDaemon = 9,
    DelDaemon = 10,
    GetDaemon = 11,
    SetConfig = 12,
    GetConfig = 13,
    SetInfo = 14,
    GetInfo = 15,
    Zero = 16,
    Flush = 17,
}
impl neli::consts::genl::Cmd for IpvsCmd {}

/// `IPVS_CMD_ATTR_*`: the top level of every IPVS message (but the
/// GET_INFO reply, see [`InfoAttr`]).
#[neli_enum(serialized_type = "u16")]
pub enum CmdAttr {
    Unspec = 0,
    /// Nested [`SvcAttr`].
    Service = 1,
    /// Nested [`DestAttr`].
    Dest = 2,
    Daemon = 3,
    /// u32 seconds (ESTABLISHED).
    TimeoutTcp = 4,
    /// u32 seconds (FIN_WAIT).
    TimeoutTcpFin = 5,
    /// u32 seconds.
    TimeoutUdp = 6,
}
impl neli::consts::genl::NlAttrType for CmdAttr {}

/// `IPVS_SVC_ATTR_*`, inside [`CmdAttr::Service`].
#[neli_enum(serialized_type = "u16")]
pub enum SvcAttr {
    Unspec = 0,
    /// u16 address family (AF_INET 2, AF_INET6 10).
    Af = 1,
    /// u16 IPPROTO_*.
    Protocol = 2,
    /// 16 bytes, `union nf_inet_addr` (IPv4 in the first 4).
    Addr = 3,
    /// u16 in network order.
    Port = 4,
    /// u32.
    Fwmark = 5,
    /// NUL-terminated string.
    SchedName = 6,
    /// `struct ip_vs_flags { u32 flags; u32 mask; }`.
    Flags = 7,
    /// u32 persistence timeout, seconds.
    Timeout = 8,
    /// u32: IPv4 mask in network order, or IPv6 prefix length.
    Netmask = 9,
    /// Nested [`StatsAttr`], 32-bit counters.
    Stats = 10,
    /// NUL-terminated persistence-engine name.
    PeName = 11,
    /// Nested [`StatsAttr`], 64-bit counters.
    Stats64 = 12,
}
impl neli::consts::genl::NlAttrType for SvcAttr {}

/// `IPVS_DEST_ATTR_*`, inside [`CmdAttr::Dest`].
#[neli_enum(serialized_type = "u16")]
pub enum DestAttr {
    Unspec = 0,
    Addr = 1,
    /// u16 in network order.
    Port = 2,
    /// u32 `IP_VS_CONN_F_FWD_MASK` bits.
    FwdMethod = 3,
    /// u32 (a signed int in the kernel).
    Weight = 4,
    UThresh = 5,
    LThresh = 6,
    ActiveConns = 7,
    InactConns = 8,
    PersistConns = 9,
    Stats = 10,
    /// u16 address family of the real server.
    AddrFamily = 11,
    Stats64 = 12,
    /// u8 `IP_VS_CONN_F_TUNNEL_TYPE_*`.
    TunType = 13,
    /// u16 in network order.
    TunPort = 14,
    /// u16.
    TunFlags = 15,
}
impl neli::consts::genl::NlAttrType for DestAttr {}

/// `IPVS_STATS_ATTR_*`, inside the STATS/STATS64 nests.
#[neli_enum(serialized_type = "u16")]
pub enum StatsAttr {
    Unspec = 0,
    Conns = 1,
    Inpkts = 2,
    Outpkts = 3,
    Inbytes = 4,
    Outbytes = 5,
    Cps = 6,
    Inpps = 7,
    Outpps = 8,
    Inbps = 9,
    Outbps = 10,
    Pad = 11,
}
impl neli::consts::genl::NlAttrType for StatsAttr {}

/// `IPVS_INFO_ATTR_*`: the top level of the GET_INFO reply (cmd SET_INFO).
#[neli_enum(serialized_type = "u16")]
pub enum InfoAttr {
    Unspec = 0,
    /// u32 0x00MMmmpp.
    Version = 1,
    /// u32.
    ConnTabSize = 2,
}
impl neli::consts::genl::NlAttrType for InfoAttr {}

/// `IP_VS_SVC_F_*` service flags (HASHED 0x2, which dumps report, and
/// ONEPACKET 0x4 have no place in the engine's service and are ignored).
pub mod svc_flags {
    pub const PERSISTENT: u32 = 0x0001;
    pub const SCHED1: u32 = 0x0008;
    pub const SCHED2: u32 = 0x0010;
    pub const SCHED3: u32 = 0x0020;
}

/// Address families.
pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 10;
