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
    full_netmask, Change, DestEntry, DestSpec, Fwd, Info, Proto, Rates, ServiceEntry, ServiceKey,
    ServiceSpec, Stats, Timeouts,
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

impl From<Change> for Request {
    /// The set command that performs a change.
    fn from(c: Change) -> Request {
        match c {
            Change::AddService(s) => Request::NewService(s),
            Change::EditService(s) => Request::SetService(s),
            Change::DelService(k) => Request::DelService(k),
            Change::Flush => Request::Flush,
            Change::AddDest(k, d) => Request::NewDest(k, d),
            Change::EditDest(k, d) => Request::SetDest(k, d),
            Change::DelDest(k, a, p) => Request::DelDest(k, a, p),
            Change::Zero(k) => Request::Zero(k),
            Change::SetTimeouts(t) => Request::SetConfig(t),
        }
    }
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

mod decode;
mod encode;
pub use decode::*;
pub use encode::*;

#[cfg(test)]
mod tests {
    use super::*;
    use lvslab_engine::ipvsadm::{parse, Command};

    fn spec(argv: &str) -> ServiceSpec {
        let a: Vec<String> = argv.split_whitespace().map(String::from).collect();
        match parse(&a).unwrap() {
            Command::Change(Change::AddService(s)) => s,
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
        assert_eq!(back.netmask, 0xffff_ff00);
        assert_eq!(back.persistent, Some(60));
        assert_eq!(back.sched_flags, ["sh-fallback", "sh-port"]);
        assert_eq!((back.key, back.scheduler.as_str()), (s.key, "sh"));
        // The mask travels in network order, as ipvsadm sends it.
        let b = encode(0x20, 1, &Request::NewService(s)).unwrap();
        assert!(b.windows(8).any(|w| w == [8, 0, 9, 0, 0xff, 0xff, 0xff, 0]));

        let s = spec("-A -f 7 -s wlc");
        let back = round_trip(&s);
        assert_eq!(back.key, ServiceKey::Fwmark { mark: 7, v6: false });
        assert_eq!((back.netmask, back.persistent), (u32::MAX, None));
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
