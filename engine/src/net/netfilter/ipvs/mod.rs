//! IPVS, the kernel's layer-4 load balancer (net/netfilter/ipvs/).
//!
//! Linux does, and we model: virtual services keyed by (protocol, VIP,
//! port) or by firewall mark, each with a scheduler, optional persistence
//! (timeout and client netmask) and a list of real servers (address, port,
//! forwarding method, weight, upper/lower thresholds). `ip_vs_in()` (the
//! LOCAL_IN hook) takes packets to a local VIP: an existing connection
//! entry is looked up by the client's address and port; otherwise a TCP SYN
//! (only a SYN) is scheduled and a connection entry created. Entries follow
//! the TCP state tables of ip_vs_proto_tcp.c — the INPUT-ONLY table for
//! DR/TUN destinations (`IP_VS_CONN_F_NOOUTPUT`: the director never sees the
//! replies) — with per-state timeouts; counters (conns, packets, bytes in/out)
//! per destination, service and in total, and rates from the estimator
//! (2 s samples, the kernel's scaled averages). Direct Routing sends the
//! packet to the real server's MAC with only the TTL lowered
//! (`ip_vs_dr_xmit`); NAT rewrites the destination on the way in
//! (`ip_vs_nat_xmit`) and the source back to the VIP on the way out
//! (`ip_vs_out` on FORWARD), with the INPUT/OUTPUT state tables. Tunnel
//! (`ip_vs_tunnel_xmit`, IPIP) wraps the packet in a new IPv4 header to the
//! real server (see `crate::net::netfilter::ipvs::core`), and ICMP errors the real server
//! sends about such packets are relayed to the client (`ip_vs_in_icmp`).
//! UDP services (`-u`) schedule every datagram of a new client port and
//! keep one `UDP` state with the `udp` timeout.
//! Left out: GUE/GRE tunnel types, the NAT reply path of UDP, the IPv6
//! data path (services exist in the grammar and tables), SCTP, sync daemons, one-packet
//! scheduling, persistence engines.

pub mod conn;
pub mod conn_entry;
pub mod core;
pub mod ctl;
pub mod est;
pub mod proc;
pub mod proto_tcp;
pub mod proto_udp;
pub mod sched;
pub mod xmit;

pub use conn_entry::{Conn, ConnEntry, ConnParam, CONN_TAB_SIZE};
pub use ctl::{Change, IpvsBackend, SimBackend};
pub use est::{Estimator, Rates, Stats};
pub use proc::{proc_ip_vs, proc_ip_vs_conn};
pub use proto_tcp::{tcp_transition, ConnState, Dir, TcpEvent, Timeouts, Verdict};

use crate::time::SimTime;
use ctl::update_overload;
use sched::SchedState;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Transport protocol of a virtual service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Proto {
    Tcp,
    Udp,
    Sctp,
}

impl Proto {
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "TCP",
            Proto::Udp => "UDP",
            Proto::Sctp => "SCTP",
        }
    }
    pub fn number(self) -> u16 {
        match self {
            Proto::Tcp => 6,
            Proto::Udp => 17,
            Proto::Sctp => 132,
        }
    }
}

/// How a virtual service is identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ServiceKey {
    Addr {
        proto: Proto,
        addr: IpAddr,
        port: u16,
    },
    Fwmark {
        mark: u32,
        v6: bool,
    },
}

impl ServiceKey {
    pub fn is_v6(&self) -> bool {
        match self {
            ServiceKey::Addr { addr, .. } => addr.is_ipv6(),
            ServiceKey::Fwmark { v6, .. } => *v6,
        }
    }
}

/// Forwarding methods (`IP_VS_CONN_F_*`), with ipvsadm's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fwd {
    /// `-m`, NAT.
    Masq,
    /// `-i`, IP-in-IP tunnelling.
    Tunnel,
    /// `-g`, gatewaying: Direct Routing.
    Route,
    /// A real server on the director itself.
    Local,
}

impl Fwd {
    pub fn name(self) -> &'static str {
        match self {
            Fwd::Masq => "Masq",
            Fwd::Tunnel => "Tunnel",
            Fwd::Route => "Route",
            Fwd::Local => "Local",
        }
    }
    /// `IP_VS_CONN_F_FWD_MASK` values, as netlink carries them.
    pub fn flag(self) -> u32 {
        match self {
            Fwd::Masq => 0,
            Fwd::Local => 1,
            Fwd::Tunnel => 2,
            Fwd::Route => 3,
        }
    }
    pub fn from_flag(f: u32) -> Fwd {
        match f & 7 {
            0 => Fwd::Masq,
            1 => Fwd::Local,
            2 => Fwd::Tunnel,
            _ => Fwd::Route,
        }
    }
}

/// A virtual service as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSpec {
    pub key: ServiceKey,
    pub scheduler: String,
    /// Persistence timeout in seconds (`-p`).
    pub persistent: Option<u32>,
    /// Persistence granularity (`-M`): the service's `netmask` as ipvsadm
    /// sends it and the kernel keeps it (`IPVS_SVC_ATTR_NETMASK`). IPv4:
    /// the mask's 32 bits (`255.255.255.0` is `0xffff_ff00`), kept as
    /// given, contiguous or not, `0.0.0.0` included; IPv6: a prefix length,
    /// which `ip_vs_add_service()` accepts from 1 to 128. ipvsadm sends the
    /// full mask when `-M` is absent ([`full_netmask`]).
    pub netmask: u32,
    /// Scheduler flags (`-b`), e.g. `sh-port`.
    pub sched_flags: Vec<String>,
}

/// A real server as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestSpec {
    pub addr: IpAddr,
    pub port: u16,
    pub fwd: Fwd,
    pub weight: i32,
    /// Upper/lower connection thresholds (`-x`, `-y`); 0 = none.
    pub u_threshold: u32,
    pub l_threshold: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dest {
    pub spec: DestSpec,
    pub active: u32,
    pub inactive: u32,
    pub persist: u32,
    pub overloaded: bool,
    pub stats: Stats,
    pub est: Estimator,
}

impl Dest {
    /// Is this the real server of a connection to `addr:port`? A
    /// destination added without a port (fwmark or port-0 services) takes
    /// the packet's port (`ip_vs_schedule()`: `dest->port ? dest->port :
    /// vport`).
    pub fn serves(&self, addr: IpAddr, port: u16) -> bool {
        self.spec.addr == addr && (self.spec.port == port || self.spec.port == 0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    pub spec: ServiceSpec,
    /// Kernel list order: newest first.
    pub dests: Vec<Dest>,
    pub stats: Stats,
    pub est: Estimator,
    pub sched: SchedState,
}

/// Errors a backend reports, named for the errno the kernel returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum IpvsError {
    /// EEXIST on add_service.
    #[error("Service already exists")]
    ServiceExists,
    /// ESRCH on update/del/zero of a service.
    #[error("No such service")]
    NoService,
    /// ESRCH on a destination operation.
    #[error("Service not defined")]
    ServiceNotDefined,
    /// EEXIST on add_dest.
    #[error("Destination already exists")]
    DestExists,
    /// ENOENT on update/del dest.
    #[error("No such destination")]
    NoDest,
    /// ENOENT on add/edit service: the scheduler module is missing.
    #[error("Scheduler or persistence engine not found")]
    NoScheduler(String),
    /// The kernel has it, the lab does not model it (the simulator only;
    /// a real kernel never answers this).
    #[error("lvslab: {0} is not modelled in this lab")]
    NotModelled(String),
    /// ERANGE on add/edit dest (ipvsadm has no text of its own for it).
    #[error("Numerical result out of range")]
    OutOfRange,
    /// EINVAL.
    #[error("Invalid operation.  Possibly wrong module version, address not unicast, ...")]
    Invalid,
    /// EPERM.
    #[error("Permission denied (you must be root)")]
    Permission,
    /// ENOPROTOOPT / the family is missing: IPVS not in the kernel.
    #[error("Protocol not available")]
    NotAvailable,
    /// Anything else the backend reports.
    #[error("{0}")]
    Other(String),
}

/// What `ipvsadm` shows of a service (the same for the simulator and a
/// real kernel, so one formatter prints both).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEntry {
    pub spec: ServiceSpec,
    pub stats: Stats,
    pub rates: Rates,
    pub dests: Vec<DestEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestEntry {
    pub spec: DestSpec,
    pub active: u32,
    pub inactive: u32,
    pub persist: u32,
    pub stats: Stats,
    pub rates: Rates,
}

/// Version and connection table size (`IPVS_CMD_GET_INFO`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    /// (major, minor, patch): 1.2.1 on every kernel since 2.6.
    pub version: (u8, u8, u8),
    pub conn_tab_size: u32,
}

/// A host's IPVS state (one network namespace).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ipvs {
    /// Whether the module is loaded (the first ipvsadm use loads it).
    pub loaded: bool,
    pub services: Vec<Service>,
    pub conns: conn::ConnTable,
    /// Deleted destinations that connections still reference
    /// (`ipvs->dest_trash`): re-adding the same one revives it with its
    /// connection counters.
    #[serde(default)]
    pub trash: Vec<(ServiceKey, Dest, bool)>,
    pub timeouts: Timeouts,
    pub total: Stats,
    pub total_est: Estimator,
    /// Next estimator sample.
    pub next_est: Option<SimTime>,
}

/// The persistence netmask ipvsadm gives when `-M` is absent: the whole
/// address (`process_options()` sets `0xffffffff`; `parse_service()` and
/// `-6` set 128 for IPv6).
pub fn full_netmask(v6: bool) -> u32 {
    if v6 {
        128
    } else {
        u32::MAX
    }
}

impl ServiceSpec {
    /// The netmask as ipvsadm prints it after `mask` (`-L`) or `-M`
    /// (`-S`): dotted for IPv4, the prefix length for IPv6.
    pub fn netmask_text(&self) -> String {
        if self.key.is_v6() {
            self.netmask.to_string()
        } else {
            Ipv4Addr::from(self.netmask).to_string()
        }
    }

    /// The client network a persistence template is keyed by
    /// (`ip_vs_sched_persist()`: `src & netmask` for IPv4,
    /// `ipv6_addr_prefix()` for IPv6).
    pub fn persist_net(&self, client: IpAddr) -> IpAddr {
        match client {
            IpAddr::V4(v) => IpAddr::V4(Ipv4Addr::from(u32::from(v) & self.netmask)),
            IpAddr::V6(v) => {
                let plen = self.netmask.min(128);
                let m = u128::MAX.checked_shl(128 - plen).unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(v) & m))
            }
        }
    }
}

impl Ipvs {
    /// `ip_vs_schedule()`: pick a destination (persistence first), create
    /// the connection entry; returns its index.
    fn schedule(&mut self, now: SimTime, key: ServiceKey, p: &ConnParam) -> Option<u64> {
        let ConnParam {
            proto,
            caddr,
            cport,
            vaddr,
            vport,
        } = *p;
        let svc = self.service(&key)?.clone();
        let mut chosen: Option<usize> = None;
        let sched_port = if svc
            .spec
            .sched_flags
            .iter()
            .any(|f| f == "sh-port" || f == "mh-port")
        {
            cport
        } else {
            0
        };
        if let Some(ptime) = svc.spec.persistent {
            let ckey = svc.spec.persist_net(caddr);
            if let Some(tid) = self.conns.template(key, ckey) {
                let t = self.conns.get(tid).expect("indexed template");
                let di = svc
                    .dests
                    .iter()
                    .position(|d| d.spec.addr == t.daddr && d.spec.port == t.dport);
                // A template pointing at a quiesced server is still honoured
                // (expire_quiescent_template = 0); a new connection through
                // it re-arms it (ip_vs_conn_put).
                if let Some(di) = di {
                    self.conns
                        .set_expires(tid, now.plus(u64::from(ptime) * 1_000_000));
                    chosen = Some(di);
                }
            }
            if chosen.is_none() {
                let views = Self::views(&svc);
                let s = self.service_mut(&key)?;
                let di =
                    s.sched
                        .schedule_port(&svc.spec.scheduler, &views, caddr, sched_port, vaddr)?;
                chosen = Some(di);
                let d = &svc.dests[di];
                self.conns.insert(Conn {
                    proto: match key {
                        ServiceKey::Addr { proto, .. } => proto,
                        ServiceKey::Fwmark { .. } => Proto::Tcp,
                    },
                    caddr: ckey,
                    cport: 0,
                    // ip_vs_sched_persist(): a fwmark service's template
                    // has the mark as its virtual address, protocol IP.
                    vaddr: match key {
                        ServiceKey::Fwmark { mark, v6: false } => IpAddr::V4(Ipv4Addr::from(mark)),
                        _ => vaddr,
                    },
                    vport: match key {
                        ServiceKey::Addr { port, .. } => port,
                        ServiceKey::Fwmark { .. } => 0,
                    },
                    daddr: d.spec.addr,
                    dport: d.spec.port,
                    state: ConnState::None,
                    expires: now.plus(u64::from(ptime) * 1_000_000),
                    fwd: d.spec.fwd,
                    inactive: false,
                    no_output: true,
                    template: true,
                    service: key,
                    fwmark: match key {
                        ServiceKey::Fwmark { mark, .. } => mark,
                        _ => 0,
                    },
                    ctl_key: None,
                    n_control: 0,
                });
                if let Some(dd) = self.service_mut(&key).and_then(|s| s.dests.get_mut(di)) {
                    dd.persist += 1;
                }
            }
        }
        let di = match chosen {
            Some(d) => d,
            None => {
                let views = Self::views(&svc);
                let s = self.service_mut(&key)?;
                s.sched
                    .schedule_port(&svc.spec.scheduler, &views, caddr, sched_port, vaddr)?
            }
        };
        let d = svc.dests[di].spec.clone();
        let dport = if d.port == 0 { vport } else { d.port };
        let ctl_key = svc.spec.persistent.map(|_| svc.spec.persist_net(caddr));
        if let Some(tid) = ctl_key.and_then(|k| self.conns.template(key, k)) {
            if let Some(t) = self.conns.get_mut(tid) {
                t.n_control += 1;
            }
        }
        let id = self.conns.insert(Conn {
            proto,
            caddr,
            cport,
            vaddr,
            vport,
            daddr: d.addr,
            dport,
            state: ConnState::None,
            expires: now.plus(3_000_000),
            fwd: d.fwd,
            inactive: true,
            no_output: d.fwd != Fwd::Masq,
            template: false,
            service: key,
            fwmark: 0,
            ctl_key,
            n_control: 0,
        });
        if let Some(s) = self.service_mut(&key) {
            s.stats.conns += 1;
            if let Some(dd) = s.dests.get_mut(di) {
                dd.stats.conns += 1;
                dd.inactive += 1;
                update_overload(dd);
            }
        }
        self.total.conns += 1;
        Some(id)
    }
}

impl Ipvs {
    /// `ip_vs_in_icmp()` for an ICMP error quoting an IPIP packet this
    /// director sent: only when a Tunnel destination has the quoted outer
    /// destination address (`ip_vs_find_tunnel()`) and the quoted inner
    /// packet belongs to a connection (`conn_in_get`; no new entry is made
    /// for ICMP of a tunnel). Then IPVS relays the error to the client and
    /// counts it out (`ip_vs_out_stats()`, `bytes` = the quoted inner
    /// packet). Returns the real server's connection entry, or None when
    /// the error is not IPVS's (NF_ACCEPT: it goes up the local stack).
    pub fn tunnel_icmp(&mut self, rs: IpAddr, p: &ConnParam, bytes: u64) -> Option<Conn> {
        let ConnParam {
            proto,
            caddr,
            cport,
            vaddr,
            vport,
        } = *p;
        let is_tunnel = self
            .services
            .iter()
            .flat_map(|s| &s.dests)
            .any(|d| d.spec.addr == rs && d.spec.fwd == Fwd::Tunnel);
        if !is_tunnel {
            return None;
        }
        let id = self.conns.find(proto, caddr, cport, vaddr, vport)?;
        let c = self.conns.get(id)?.clone();
        self.count_out(&c, bytes);
        Some(c)
    }

    pub fn count_out(&mut self, c: &Conn, bytes: u64) {
        self.count_packet(c, true, bytes);
    }

    /// `ip_vs_in_stats()` / `ip_vs_out_stats()`: one packet of `bytes` on
    /// `c`'s destination, its service and the totals.
    fn count_packet(&mut self, c: &Conn, out: bool, bytes: u64) {
        let count = |st: &mut Stats| {
            if out {
                st.outpkts += 1;
                st.outbytes += bytes;
            } else {
                st.inpkts += 1;
                st.inbytes += bytes;
            }
        };
        if let Some(s) = self.services.iter_mut().find(|s| s.spec.key == c.service) {
            count(&mut s.stats);
            if let Some(d) = s.dests.iter_mut().find(|d| d.serves(c.daddr, c.dport)) {
                count(&mut d.stats);
            }
        }
        count(&mut self.total);
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Addr {
                proto,
                addr: IpAddr::V6(a),
                port,
            } => write!(f, "{} [{a}]:{port}", proto.name()),
            ServiceKey::Addr { proto, addr, port } => write!(f, "{} {addr}:{port}", proto.name()),
            ServiceKey::Fwmark { mark, .. } => write!(f, "FWM {mark}"),
        }
    }
}

#[cfg(test)]
mod tests;
