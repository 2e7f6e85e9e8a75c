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
//! real server (see `crate::ipvs_io`), and ICMP errors the real server
//! sends about such packets are relayed to the client (`ip_vs_in_icmp`).
//! UDP services (`-u`) schedule every datagram of a new client port and
//! keep one `UDP` state with the `udp` timeout.
//! Left out: GUE/GRE tunnel types, the NAT reply path of UDP, the IPv6
//! data path (services exist in the grammar and tables), SCTP, sync daemons, one-packet
//! scheduling, persistence engines.

pub mod conn;
pub mod sched;

use crate::world::SimTime;
use sched::{DestView, SchedState};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

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
    /// Persistence netmask (`-M`) as a prefix length.
    pub netmask: u8,
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

/// Counters (`struct ip_vs_kstats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub conns: u64,
    pub inpkts: u64,
    pub outpkts: u64,
    pub inbytes: u64,
    pub outbytes: u64,
}

/// Rates as the estimator reports them (per second).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rates {
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    pub inbps: u64,
    pub outbps: u64,
}

/// The estimator's scaled state (`struct ip_vs_estimator`) plus the
/// counter snapshot it publishes (`kstats`) and the `-Z` zero point
/// (`kstats0`): what ipvsadm shows only changes at estimator ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Estimator {
    last: Stats,
    snap: Stats,
    zero: Stats,
    cps: u64,
    inpps: u64,
    outpps: u64,
    inbps: u64,
    outbps: u64,
}

impl Estimator {
    /// One 2-second sample (`ip_vs_estimation_timer` / `ip_vs_chain_estimation`):
    /// rate = delta << 9 (packets, conns) or << 4 (bytes) per 2 s,
    /// avg += (rate - avg) >> 2.
    fn sample(&mut self, s: &Stats) {
        self.snap = *s;
        fn upd(avg: &mut u64, cur: u64, last: u64, shift: u32) {
            let rate = (cur.wrapping_sub(last) << shift) as i64;
            let a = *avg as i64;
            *avg = (a + ((rate - a) >> 2)).max(0) as u64;
        }
        upd(&mut self.cps, s.conns, self.last.conns, 9);
        upd(&mut self.inpps, s.inpkts, self.last.inpkts, 9);
        upd(&mut self.outpps, s.outpkts, self.last.outpkts, 9);
        upd(&mut self.inbps, s.inbytes, self.last.inbytes, 4);
        upd(&mut self.outbps, s.outbytes, self.last.outbytes, 4);
        self.last = *s;
    }

    /// The counters as exported (`ip_vs_copy_stats`): the last snapshot
    /// minus the zero point.
    pub fn shown(&self) -> Stats {
        Stats {
            conns: self.snap.conns.wrapping_sub(self.zero.conns),
            inpkts: self.snap.inpkts.wrapping_sub(self.zero.inpkts),
            outpkts: self.snap.outpkts.wrapping_sub(self.zero.outpkts),
            inbytes: self.snap.inbytes.wrapping_sub(self.zero.inbytes),
            outbytes: self.snap.outbytes.wrapping_sub(self.zero.outbytes),
        }
    }

    /// `ip_vs_zero_stats()`: the current snapshot becomes zero, averages reset.
    pub fn zero(&mut self) {
        let snap = self.snap;
        *self = Estimator {
            last: snap,
            snap,
            zero: snap,
            ..Estimator::default()
        };
    }

    /// `ip_vs_read_estimator()`: back to per-second units.
    pub fn rates(&self) -> Rates {
        Rates {
            cps: (self.cps + 0x1FF) >> 10,
            inpps: (self.inpps + 0x1FF) >> 10,
            outpps: (self.outpps + 0x1FF) >> 10,
            inbps: (self.inbps + 0xF) >> 5,
            outbps: (self.outbps + 0xF) >> 5,
        }
    }
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

/// TCP connection states of IPVS (`IP_VS_TCP_S_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnState {
    None,
    Established,
    SynSent,
    SynRecv,
    FinWait,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    SynAck,
    /// UDP entries (`UDP` state) and templates show as `NONE`/`UDP`.
    Udp,
    /// A persistence template whose controlled connection got established.
    Assured,
}

impl ConnState {
    pub fn name(self) -> &'static str {
        match self {
            ConnState::None => "NONE",
            ConnState::Established => "ESTABLISHED",
            ConnState::SynSent => "SYN_SENT",
            ConnState::SynRecv => "SYN_RECV",
            ConnState::FinWait => "FIN_WAIT",
            ConnState::TimeWait => "TIME_WAIT",
            ConnState::Close => "CLOSE",
            ConnState::CloseWait => "CLOSE_WAIT",
            ConnState::LastAck => "LAST_ACK",
            ConnState::Listen => "LISTEN",
            ConnState::SynAck => "SYNACK",
            ConnState::Udp => "UDP",
            ConnState::Assured => "ASSURED",
        }
    }
    fn index(self) -> usize {
        match self {
            ConnState::None => 0,
            ConnState::Established => 1,
            ConnState::SynSent => 2,
            ConnState::SynRecv => 3,
            ConnState::FinWait => 4,
            ConnState::TimeWait => 5,
            ConnState::Close => 6,
            ConnState::CloseWait => 7,
            ConnState::LastAck => 8,
            ConnState::Listen => 9,
            ConnState::SynAck => 10,
            ConnState::Udp | ConnState::Assured => 0,
        }
    }
}

/// Per-state timeouts in seconds (`tcp_timeouts[]`), and the UDP one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timeouts {
    /// ESTABLISHED (`--set tcp`), default 900.
    pub tcp: u32,
    /// FIN_WAIT (`--set tcpfin`), default 120.
    pub tcp_fin: u32,
    /// UDP (`--set udp`), default 300.
    pub udp: u32,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300,
        }
    }
}

impl Timeouts {
    /// Seconds an entry in `state` lives without traffic.
    pub fn for_state(&self, s: ConnState) -> u32 {
        match s {
            ConnState::None => 2,
            ConnState::Established => self.tcp,
            ConnState::SynSent => 120,
            ConnState::SynRecv => 60,
            ConnState::FinWait => self.tcp_fin,
            ConnState::TimeWait => 120,
            ConnState::Close => 10,
            ConnState::CloseWait => 60,
            ConnState::LastAck => 30,
            ConnState::Listen => 120,
            ConnState::SynAck => 120,
            ConnState::Udp => self.udp,
            ConnState::Assured => 0,
        }
    }
}

/// A connection entry (`struct ip_vs_conn`), or a persistence template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conn {
    pub proto: Proto,
    pub caddr: IpAddr,
    pub cport: u16,
    pub vaddr: IpAddr,
    pub vport: u16,
    pub daddr: IpAddr,
    pub dport: u16,
    pub state: ConnState,
    pub expires: SimTime,
    pub fwd: Fwd,
    /// Counted as inactive on its destination (`IP_VS_CONN_F_INACTIVE`).
    pub inactive: bool,
    /// Uses the INPUT-ONLY table (`IP_VS_CONN_F_NOOUTPUT`).
    pub no_output: bool,
    pub template: bool,
    /// The service it belongs to.
    pub service: ServiceKey,
    /// Firewall mark of the service, for templates of fwmark services.
    pub fwmark: u32,
    /// For a connection made through a persistence template: the
    /// template's client prefix (`cp->control`).
    #[serde(default)]
    pub ctl_key: Option<IpAddr>,
    /// For a template: how many connections it controls (`n_control`).
    #[serde(default)]
    pub n_control: u32,
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

/// A line of `/proc/net/ip_vs_conn`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnEntry {
    /// `TCP`, `UDP`, or `IP` for a template of a fwmark service.
    pub proto: String,
    pub caddr: IpAddr,
    pub cport: u16,
    pub vaddr: IpAddr,
    pub vport: u16,
    pub daddr: IpAddr,
    pub dport: u16,
    pub state: String,
    /// Seconds until it expires.
    pub expires: u64,
}

/// Version and connection table size (`IPVS_CMD_GET_INFO`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    /// (major, minor, patch): 1.2.1 on every kernel since 2.6.
    pub version: (u8, u8, u8),
    pub conn_tab_size: u32,
}

/// What both the simulator and the real kernel (netlink) implement. One
/// grammar (`crate::ipvsadm`) drives either.
pub trait IpvsBackend {
    fn info(&mut self) -> Result<Info, IpvsError>;
    fn add_service(&mut self, s: &ServiceSpec) -> Result<(), IpvsError>;
    fn edit_service(&mut self, s: &ServiceSpec) -> Result<(), IpvsError>;
    fn del_service(&mut self, k: &ServiceKey) -> Result<(), IpvsError>;
    fn flush(&mut self) -> Result<(), IpvsError>;
    fn add_dest(&mut self, k: &ServiceKey, d: &DestSpec) -> Result<(), IpvsError>;
    fn edit_dest(&mut self, k: &ServiceKey, d: &DestSpec) -> Result<(), IpvsError>;
    fn del_dest(&mut self, k: &ServiceKey, addr: IpAddr, port: u16) -> Result<(), IpvsError>;
    fn zero(&mut self, k: Option<&ServiceKey>) -> Result<(), IpvsError>;
    fn set_timeouts(&mut self, t: &Timeouts) -> Result<(), IpvsError>;
    fn timeouts(&mut self) -> Result<Timeouts, IpvsError>;
    /// Services in the kernel's dump order, destinations in list order.
    fn services(&mut self) -> Result<Vec<ServiceEntry>, IpvsError>;
    /// The table for a plain listing (`-L` without `--stats`, `--rate`,
    /// `--thresholds` or `--persistent-conn`), which prints of each
    /// destination only its address, port, forwarding method, weight and
    /// active/inactive connections. A backend may leave the destinations'
    /// other fields (counters, rates, thresholds, persistent count) at zero
    /// if that is faster; the default is [`IpvsBackend::services`].
    fn services_for_listing(&mut self) -> Result<Vec<ServiceEntry>, IpvsError> {
        self.services()
    }
    fn connections(&mut self) -> Result<Vec<ConnEntry>, IpvsError>;
    /// Run table changes one after another, each whatever the others'
    /// outcome (how `ipvsadm -R` treats kernel errors), and return each
    /// one's result. Only changes: `crate::ipvsadm::Command::is_change`.
    /// The default runs them one by one; a backend may send them in bulk.
    fn run_changes(&mut self, cmds: &[crate::ipvsadm::Command]) -> Vec<Result<(), IpvsError>> {
        let mut out = Vec::with_capacity(cmds.len());
        for c in cmds {
            out.push(crate::ipvsadm::run_change(self, c));
        }
        out
    }
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

/// Connection table size of a default kernel (CONFIG_IP_VS_TAB_BITS=12).
pub const CONN_TAB_SIZE: u32 = 4096;

fn default_netmask(v6: bool) -> u8 {
    if v6 {
        128
    } else {
        32
    }
}

impl Ipvs {
    pub fn service(&self, k: &ServiceKey) -> Option<&Service> {
        self.services.iter().find(|s| s.spec.key == *k)
    }

    fn service_mut(&mut self, k: &ServiceKey) -> Option<&mut Service> {
        self.services.iter_mut().find(|s| s.spec.key == *k)
    }

    fn views(s: &Service) -> Vec<DestView> {
        s.dests
            .iter()
            .map(|d| DestView {
                weight: d.spec.weight,
                active: d.active,
                inactive: d.inactive,
                overloaded: d.overloaded,
                addr: d.spec.addr,
                port_fold: u32::from(d.spec.port),
            })
            .collect()
    }

    /// The service a packet to (proto, daddr, dport) with firewall mark
    /// `mark` belongs to (`ip_vs_service_find`): the fwmark table first
    /// (a marked packet goes to an `-f MARK` service of its address family
    /// even when an address/port service matches too), then
    /// protocol/address/port, then a persistent port-0 service.
    pub fn find_service(
        &self,
        proto: Proto,
        daddr: IpAddr,
        dport: u16,
        mark: u32,
    ) -> Option<&Service> {
        let by_mark = (mark != 0).then(|| {
            let key = ServiceKey::Fwmark {
                mark,
                v6: daddr.is_ipv6(),
            };
            self.services.iter().find(|s| s.spec.key == key)
        });
        if let Some(Some(s)) = by_mark {
            return Some(s);
        }
        self.services
            .iter()
            .find(|s| {
                s.spec.key
                    == ServiceKey::Addr {
                        proto,
                        addr: daddr,
                        port: dport,
                    }
            })
            .or_else(|| {
                // A persistent service with port 0 catches every port.
                self.services.iter().find(|s| {
                    s.spec.persistent.is_some()
                        && s.spec.key
                            == ServiceKey::Addr {
                                proto,
                                addr: daddr,
                                port: 0,
                            }
                })
            })
    }

    /// Does any service listen on this address (for ARP/route decisions)?
    pub fn has_vip(&self, ip: Ipv4Addr) -> bool {
        self.services
            .iter()
            .any(|s| matches!(s.spec.key, ServiceKey::Addr { addr, .. } if addr == IpAddr::V4(ip)))
    }

    /// Start the estimator when the first service appears.
    pub fn ensure_estimator(&mut self, now: SimTime) {
        if self.next_est.is_none() {
            self.next_est = Some(now.plus(2_000_000));
        }
    }

    /// Run estimator samples due up to `now` (every 2 s).
    pub fn run_estimator(&mut self, now: SimTime) {
        while let Some(t) = self.next_est {
            if t > now {
                break;
            }
            self.total_est.sample(&self.total);
            for s in &mut self.services {
                s.est.sample(&s.stats);
                for d in &mut s.dests {
                    d.est.sample(&d.stats);
                }
            }
            self.next_est = Some(t.plus(2_000_000));
        }
    }

    /// Expire connection entries whose timer ran out (`ip_vs_conn_expire`).
    /// A template with live controlled connections is re-armed instead.
    pub fn expire(&mut self, now: SimTime) {
        while let Some(id) = self.conns.due(now) {
            if self
                .conns
                .get(id)
                .is_some_and(|c| c.template && c.n_control > 0)
            {
                // ip_vs_conn_expire(): still controlling: "expire later", 60 s.
                self.conns.set_expires(id, now.plus(60_000_000));
                continue;
            }
            if let Some(c) = self.conns.remove(id) {
                self.unaccount(&c);
            }
        }
    }

    fn unaccount(&mut self, c: &Conn) {
        if let Some(tk) = c.ctl_key {
            if let Some(tid) = self.conns.template(c.service, tk) {
                if let Some(t) = self.conns.get_mut(tid) {
                    t.n_control = t.n_control.saturating_sub(1);
                }
            }
        }
        let matches = |d: &Dest| d.serves(c.daddr, c.dport) || d.spec.addr == c.daddr && c.template;
        let live = self
            .services
            .iter_mut()
            .find(|s| s.spec.key == c.service)
            .and_then(|s| s.dests.iter_mut().find(|d| matches(d)));
        let d = match live {
            Some(d) => d,
            None => match self
                .trash
                .iter_mut()
                .find(|(k, d, _)| *k == c.service && matches(d))
            {
                Some((_, d, _)) => d,
                None => return,
            },
        };
        if c.template {
            d.persist = d.persist.saturating_sub(1);
        } else if c.inactive {
            d.inactive = d.inactive.saturating_sub(1);
        } else {
            d.active = d.active.saturating_sub(1);
        }
        update_overload(d);
    }

    /// Next moment something expires (for the world's timer).
    pub fn next_deadline(&self) -> Option<SimTime> {
        let c = self.conns.next_expiry();
        match (c, self.next_est) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// `IP_VS_DEST_F_OVERLOAD` from the thresholds (`ip_vs_bind_dest`/`unbind`).
fn update_overload(d: &mut Dest) {
    let conns = d.active + d.inactive;
    if d.spec.u_threshold > 0 && conns >= d.spec.u_threshold {
        d.overloaded = true;
    } else if d.overloaded {
        let l = if d.spec.l_threshold > 0 {
            d.spec.l_threshold
        } else {
            d.spec.u_threshold * 3 / 4
        };
        if conns <= l {
            d.overloaded = false;
        }
    }
}

/// TCP flags a packet carries, as the state tables see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpEvent {
    Syn,
    Fin,
    Ack,
    Rst,
}

impl TcpEvent {
    /// The event a segment is for the state tables (`set_tcp_state`): RST
    /// first, then SYN, FIN, else ACK.
    pub fn of(t: &crate::wire::TcpRepr) -> TcpEvent {
        use crate::wire::tcp_flags as F;
        if t.has(F::RST) {
            TcpEvent::Rst
        } else if t.has(F::SYN) {
            TcpEvent::Syn
        } else if t.has(F::FIN) {
            TcpEvent::Fin
        } else {
            TcpEvent::Ack
        }
    }
}

/// Which table: INPUT (client → server), OUTPUT (server → client), or
/// INPUT-ONLY (DR/TUN: replies bypass the director).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Input,
    Output,
    InputOnly,
}

/// `tcp_states[]` of ip_vs_proto_tcp.c: [dir][event][state] → state.
/// Columns: sNO sES sSS sSR sFW sTW sCL sCW sLA sLI sSA.
pub fn tcp_transition(dir: Dir, ev: TcpEvent, cur: ConnState) -> ConnState {
    use ConnState::*;
    const NO: ConnState = None;
    const ES: ConnState = Established;
    const SS: ConnState = SynSent;
    const SR: ConnState = SynRecv;
    const FW: ConnState = FinWait;
    const TW: ConnState = TimeWait;
    const CL: ConnState = Close;
    const CW: ConnState = CloseWait;
    const LA: ConnState = LastAck;
    const LI: ConnState = Listen;
    const SA: ConnState = SynAck;
    let _ = (NO, SA);
    let table: [[ConnState; 11]; 4] = match dir {
        Dir::Input => [
            [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
            [CL, CW, SS, TW, TW, TW, CL, CW, LA, LI, TW],
            [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
            [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, SR],
        ],
        Dir::Output => [
            [SS, ES, SS, SR, SS, SS, SS, SS, SS, LI, SR],
            [TW, FW, SS, TW, FW, TW, CL, TW, LA, LI, TW],
            [ES, ES, SS, ES, FW, TW, CL, CW, LA, ES, ES],
            [CL, CL, SS, CL, CL, TW, CL, CL, CL, CL, CL],
        ],
        Dir::InputOnly => [
            [SR, ES, ES, SR, SR, SR, SR, SR, SR, SR, SR],
            [CL, FW, SS, TW, FW, TW, CL, CW, LA, LI, TW],
            [ES, ES, SS, ES, FW, TW, CL, CW, CL, LI, ES],
            [CL, CL, CL, SR, CL, CL, CL, CL, LA, LI, CL],
        ],
    };
    let row = match ev {
        TcpEvent::Syn => 0,
        TcpEvent::Fin => 1,
        TcpEvent::Ack => 2,
        TcpEvent::Rst => 3,
    };
    table[row][cur.index()]
}

/// What `ip_vs_in` decided for a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not for IPVS: deliver locally as usual.
    Accept,
    /// Forward to this real server by this method.
    Forward {
        daddr: IpAddr,
        dport: u16,
        fwd: Fwd,
        new_conn: bool,
        state: ConnState,
    },
    /// A service exists but no real server is available.
    NoDest,
    /// The entry's real server was deleted: the packet is dropped.
    Drop,
}

impl Ipvs {
    /// `ip_vs_in()` for a TCP segment from `c` to `v`.
    #[allow(clippy::too_many_arguments)]
    pub fn tcp_in(
        &mut self,
        now: SimTime,
        caddr: IpAddr,
        cport: u16,
        vaddr: IpAddr,
        vport: u16,
        ev: TcpEvent,
        syn_only: bool,
        bytes: u64,
        mark: u32,
    ) -> Verdict {
        self.expire(now);
        let mut idx = self.conns.find(Proto::Tcp, caddr, cport, vaddr, vport);
        // conn_reuse_mode=1: a SYN reusing the ports of an entry in
        // TIME_WAIT or CLOSE is scheduled afresh.
        if let Some(i) = idx {
            if ev == TcpEvent::Syn
                && self
                    .conns
                    .get(i)
                    .is_some_and(|c| matches!(c.state, ConnState::TimeWait | ConnState::Close))
            {
                if let Some(old) = self.conns.remove(i) {
                    self.unaccount(&old);
                }
                idx = None;
            }
        }
        // A connection whose real server is gone (deleted): dropped
        // (expire_nodest_conn=0), its timer not re-armed.
        if let Some(i) = idx {
            if !self.dest_alive(self.conns.get(i).expect("found above")) {
                return Verdict::Drop;
            }
        }
        let (idx, new_conn) = match idx {
            Some(i) => (i, false),
            None => {
                if !syn_only {
                    return Verdict::Accept;
                }
                let Some(svc) = self.find_service(Proto::Tcp, vaddr, vport, mark) else {
                    return Verdict::Accept;
                };
                let key = svc.spec.key;
                match self.schedule(now, key, Proto::Tcp, caddr, cport, vaddr, vport) {
                    Some(i) => (i, true),
                    None => return Verdict::NoDest,
                }
            }
        };
        let dir = if self.conns.get(idx).is_some_and(|c| c.no_output) {
            Dir::InputOnly
        } else {
            Dir::Input
        };
        let Some(c) = self.set_state(now, idx, dir, ev, Some(bytes)) else {
            return Verdict::Drop;
        };
        let new = c.state;
        Verdict::Forward {
            daddr: c.daddr,
            dport: c.dport,
            fwd: c.fwd,
            new_conn,
            state: new,
        }
    }

    /// `ip_vs_schedule()`: pick a destination (persistence first), create
    /// the connection entry; returns its index.
    #[allow(clippy::too_many_arguments)]
    fn schedule(
        &mut self,
        now: SimTime,
        key: ServiceKey,
        proto: Proto,
        caddr: IpAddr,
        cport: u16,
        vaddr: IpAddr,
        vport: u16,
    ) -> Option<u64> {
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
        let masked = |a: IpAddr| -> IpAddr {
            match a {
                IpAddr::V4(v) => {
                    let m = u32::MAX
                        .checked_shl(32 - u32::from(svc.spec.netmask))
                        .unwrap_or(0);
                    IpAddr::V4(Ipv4Addr::from(u32::from(v) & m))
                }
                v6 => v6,
            }
        };
        if let Some(ptime) = svc.spec.persistent {
            let ckey = masked(caddr);
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
        let ctl_key = svc.spec.persistent.map(|_| masked(caddr));
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
    /// `ip_vs_out()` for a TCP segment the director itself sends (a real
    /// server on the director answering through LOCAL_OUT): the reply
    /// direction of an entry; the first one clears NOOUTPUT.
    pub fn tcp_out(
        &mut self,
        now: SimTime,
        src: IpAddr,
        sport: u16,
        dst: IpAddr,
        dport: u16,
        ev: TcpEvent,
    ) {
        let Some(id) = self.conns.find(Proto::Tcp, dst, dport, src, sport) else {
            return;
        };
        if let Some(c) = self.conns.get_mut(id) {
            c.no_output = false;
        }
        self.set_state(now, id, Dir::Output, ev, None);
    }

    /// `set_tcp_state()` and what follows it for one packet of entry `id`:
    /// the state table for `dir`, the timer re-armed to the new state's
    /// timeout, the destination's active/inactive counters
    /// (`tcp_state_active`: SYN_SENT, SYN_RECV, ESTABLISHED, SYNACK are
    /// active), the controlling template ASSURED on ESTABLISHED, and the
    /// packet counted (`bytes`: in for INPUT tables, out for OUTPUT).
    fn set_state(
        &mut self,
        now: SimTime,
        id: u64,
        dir: Dir,
        ev: TcpEvent,
        bytes: Option<u64>,
    ) -> Option<Conn> {
        let timeouts = self.timeouts;
        let c = self.conns.get_mut(id)?;
        let new = tcp_transition(dir, ev, c.state);
        c.state = new;
        let active_state = matches!(
            new,
            ConnState::Established | ConnState::SynSent | ConnState::SynRecv | ConnState::SynAck
        );
        let (becomes_active, becomes_inactive) =
            (c.inactive && active_state, !c.inactive && !active_state);
        if becomes_active || becomes_inactive {
            c.inactive = becomes_inactive;
        }
        let c = c.clone();
        self.conns
            .set_expires(id, now.plus(u64::from(timeouts.for_state(new)) * 1_000_000));
        if new == ConnState::Established {
            if let Some(tid) = c.ctl_key.and_then(|k| self.conns.template(c.service, k)) {
                if let Some(t) = self.conns.get_mut(tid) {
                    if t.state == ConnState::None {
                        t.state = ConnState::Assured;
                    }
                }
            }
        }
        let out = dir == Dir::Output;
        let count = |st: &mut Stats, b: u64| {
            if out {
                st.outpkts += 1;
                st.outbytes += b;
            } else {
                st.inpkts += 1;
                st.inbytes += b;
            }
        };
        if let Some(s) = self.services.iter_mut().find(|s| s.spec.key == c.service) {
            if let Some(b) = bytes {
                count(&mut s.stats, b);
            }
            if let Some(d) = s.dests.iter_mut().find(|d| d.serves(c.daddr, c.dport)) {
                if let Some(b) = bytes {
                    count(&mut d.stats, b);
                }
                if becomes_active {
                    d.inactive = d.inactive.saturating_sub(1);
                    d.active += 1;
                } else if becomes_inactive {
                    d.active = d.active.saturating_sub(1);
                    d.inactive += 1;
                }
            }
        }
        if let Some(b) = bytes {
            count(&mut self.total, b);
        }
        Some(c)
    }
}

impl Ipvs {
    /// `ip_vs_out()` for a NAT reply (real server → client): OUTPUT state
    /// table, out counters; returns the VIP and port to put back as source.
    #[allow(clippy::too_many_arguments)]
    pub fn nat_out(
        &mut self,
        now: SimTime,
        saddr: IpAddr,
        sport: u16,
        daddr: IpAddr,
        dport: u16,
        ev: TcpEvent,
        bytes: u64,
    ) -> Option<(IpAddr, u16)> {
        let id = self
            .conns
            .find_out(Proto::Tcp, saddr, sport, daddr, dport)?;
        if self.conns.get(id)?.fwd != Fwd::Masq {
            return None;
        }
        let c = self.set_state(now, id, Dir::Output, ev, Some(bytes))?;
        Some((c.vaddr, c.vport))
    }
}

impl Ipvs {
    /// `ip_vs_in()` for a UDP datagram to a VIP (ip_vs_proto_udp.c): every
    /// datagram of a new client address and port is scheduled (no
    /// handshake), later ones follow the entry. UDP entries have one state,
    /// `UDP`, re-armed to the `udp` timeout (300 s) by every datagram in
    /// either direction, and count as inactive on their destination for
    /// their whole life (`IP_VS_CONN_F_INACTIVE` is never cleared for UDP).
    #[allow(clippy::too_many_arguments)]
    pub fn udp_in(
        &mut self,
        now: SimTime,
        caddr: IpAddr,
        cport: u16,
        vaddr: IpAddr,
        vport: u16,
        bytes: u64,
        mark: u32,
    ) -> Verdict {
        self.expire(now);
        let idx = self.conns.find(Proto::Udp, caddr, cport, vaddr, vport);
        if let Some(i) = idx {
            if !self.dest_alive(self.conns.get(i).expect("found above")) {
                return Verdict::Drop;
            }
        }
        let (idx, new_conn) = match idx {
            Some(i) => (i, false),
            None => {
                let Some(svc) = self.find_service(Proto::Udp, vaddr, vport, mark) else {
                    return Verdict::Accept;
                };
                let key = svc.spec.key;
                match self.schedule(now, key, Proto::Udp, caddr, cport, vaddr, vport) {
                    Some(i) => (i, true),
                    None => return Verdict::NoDest,
                }
            }
        };
        let timeout = u64::from(self.timeouts.udp) * 1_000_000;
        let Some(c) = self.conns.get_mut(idx) else {
            return Verdict::Drop;
        };
        c.state = ConnState::Udp;
        let c = c.clone();
        self.conns.set_expires(idx, now.plus(timeout));
        self.count_packet(&c, false, bytes);
        Verdict::Forward {
            daddr: c.daddr,
            dport: c.dport,
            fwd: c.fwd,
            new_conn,
            state: ConnState::Udp,
        }
    }

    /// `ip_vs_in_icmp()` for an ICMP error quoting an IPIP packet this
    /// director sent: only when a Tunnel destination has the quoted outer
    /// destination address (`ip_vs_find_tunnel()`) and the quoted inner
    /// packet belongs to a connection (`conn_in_get`; no new entry is made
    /// for ICMP of a tunnel). Then IPVS relays the error to the client and
    /// counts it out (`ip_vs_out_stats()`, `bytes` = the quoted inner
    /// packet). Returns the real server's connection entry, or None when
    /// the error is not IPVS's (NF_ACCEPT: it goes up the local stack).
    #[allow(clippy::too_many_arguments)]
    pub fn tunnel_icmp(
        &mut self,
        rs: IpAddr,
        proto: Proto,
        caddr: IpAddr,
        cport: u16,
        vaddr: IpAddr,
        vport: u16,
        bytes: u64,
    ) -> Option<Conn> {
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

    /// `ip_vs_out_stats()`: one packet of `bytes` out on `c`'s
    /// destination, its service and the totals.
    /// Is `c`'s real server still in its service (not deleted)?
    fn dest_alive(&self, c: &Conn) -> bool {
        self.service(&c.service)
            .is_some_and(|s| s.dests.iter().any(|d| d.serves(c.daddr, c.dport)))
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

/// The simulator's backend: a host's `Ipvs` at simulated time `now`.
pub struct SimBackend<'a> {
    pub ipvs: &'a mut Ipvs,
    pub now: SimTime,
}

impl SimBackend<'_> {
    fn check_sched(&self, s: &ServiceSpec) -> Result<(), IpvsError> {
        if !sched::SCHEDULERS.contains(&s.scheduler.as_str()) {
            return Err(IpvsError::NoScheduler(s.scheduler.clone()));
        }
        Ok(())
    }
}

impl IpvsBackend for SimBackend<'_> {
    fn info(&mut self) -> Result<Info, IpvsError> {
        // Loading ip_vs starts the per-netns estimator timer (2 s period).
        self.ipvs.loaded = true;
        self.ipvs.ensure_estimator(self.now);
        Ok(Info {
            version: (1, 2, 1),
            conn_tab_size: CONN_TAB_SIZE,
        })
    }

    fn add_service(&mut self, s: &ServiceSpec) -> Result<(), IpvsError> {
        self.check_sched(s)?;
        if self.ipvs.service(&s.key).is_some() {
            return Err(IpvsError::ServiceExists);
        }
        let mut spec = s.clone();
        if spec.netmask == 0 {
            spec.netmask = default_netmask(spec.key.is_v6());
        }
        self.ipvs.services.push(Service {
            spec,
            dests: vec![],
            stats: Stats::default(),
            est: Estimator::default(),
            sched: SchedState::default(),
        });
        self.ipvs.ensure_estimator(self.now);
        Ok(())
    }

    fn edit_service(&mut self, s: &ServiceSpec) -> Result<(), IpvsError> {
        self.check_sched(s)?;
        let svc = self.ipvs.service_mut(&s.key).ok_or(IpvsError::NoService)?;
        if svc.spec.scheduler != s.scheduler {
            svc.sched = SchedState::default();
            let views = Ipvs::views(svc);
            svc.sched.dests_changed(&s.scheduler, &views);
        }
        svc.spec = s.clone();
        if svc.spec.netmask == 0 {
            svc.spec.netmask = default_netmask(s.key.is_v6());
        }
        Ok(())
    }

    fn del_service(&mut self, k: &ServiceKey) -> Result<(), IpvsError> {
        let i = self
            .ipvs
            .services
            .iter()
            .position(|s| s.spec.key == *k)
            .ok_or(IpvsError::NoService)?;
        // Connections stay (their destinations go to the trash) and die
        // at their timers; packets on them are dropped meanwhile.
        let svc = self.ipvs.services.remove(i);
        // The service object is gone: a revived destination belongs to a
        // new one, so its statistics restart (ip_vs_trash_get_dest).
        self.ipvs
            .trash
            .extend(svc.dests.into_iter().map(|d| (svc.spec.key, d, true)));
        Ok(())
    }

    fn flush(&mut self) -> Result<(), IpvsError> {
        for svc in std::mem::take(&mut self.ipvs.services) {
            self.ipvs
                .trash
                .extend(svc.dests.into_iter().map(|d| (svc.spec.key, d, true)));
        }
        Ok(())
    }

    fn add_dest(&mut self, k: &ServiceKey, d: &DestSpec) -> Result<(), IpvsError> {
        let svc = self
            .ipvs
            .service_mut(k)
            .ok_or(IpvsError::ServiceNotDefined)?;
        if svc
            .dests
            .iter()
            .any(|x| x.spec.addr == d.addr && x.spec.port == d.port)
        {
            return Err(IpvsError::DestExists);
        }
        // ip_vs_trash_get_dest(): the same destination of the same
        // service, deleted but still referenced, comes back with its
        // connection counters (and its statistics).
        let revived = self
            .ipvs
            .trash
            .iter()
            .position(|(tk, x, _)| tk == k && x.spec.addr == d.addr && x.spec.port == d.port);
        let dest = match revived {
            Some(i) => {
                let (_, mut x, other_service) = self.ipvs.trash.remove(i);
                if other_service {
                    x.stats = Stats::default();
                    x.est = Estimator::default();
                }
                x.spec = d.clone();
                update_overload(&mut x);
                x
            }
            None => Dest {
                spec: d.clone(),
                active: 0,
                inactive: 0,
                persist: 0,
                overloaded: false,
                stats: Stats::default(),
                est: Estimator::default(),
            },
        };
        let svc = self.ipvs.service_mut(k).expect("checked above");
        svc.dests.insert(0, dest);
        svc.sched.dest_added_at_head();
        let sched = svc.spec.scheduler.clone();
        let views = Ipvs::views(svc);
        svc.sched.dests_changed(&sched, &views);
        Ok(())
    }

    fn edit_dest(&mut self, k: &ServiceKey, d: &DestSpec) -> Result<(), IpvsError> {
        let svc = self
            .ipvs
            .service_mut(k)
            .ok_or(IpvsError::ServiceNotDefined)?;
        let x = svc
            .dests
            .iter_mut()
            .find(|x| x.spec.addr == d.addr && x.spec.port == d.port)
            .ok_or(IpvsError::NoDest)?;
        x.spec = d.clone();
        update_overload(x);
        let sched = svc.spec.scheduler.clone();
        let views = Ipvs::views(svc);
        svc.sched.dests_changed(&sched, &views);
        Ok(())
    }

    fn del_dest(&mut self, k: &ServiceKey, addr: IpAddr, port: u16) -> Result<(), IpvsError> {
        let svc = self
            .ipvs
            .service_mut(k)
            .ok_or(IpvsError::ServiceNotDefined)?;
        let i = svc
            .dests
            .iter()
            .position(|x| x.spec.addr == addr && x.spec.port == port)
            .ok_or(IpvsError::NoDest)?;
        let gone = svc.dests.remove(i);
        svc.sched.dest_removed(i);
        let sched = svc.spec.scheduler.clone();
        let views = Ipvs::views(svc);
        svc.sched.dests_changed(&sched, &views);
        self.ipvs.trash.push((*k, gone, false));
        Ok(())
    }

    fn zero(&mut self, k: Option<&ServiceKey>) -> Result<(), IpvsError> {
        if let Some(k) = k {
            let s = self.ipvs.service_mut(k).ok_or(IpvsError::NoService)?;
            s.est.zero();
            for d in &mut s.dests {
                d.est.zero();
            }
            return Ok(());
        }
        for s in &mut self.ipvs.services {
            s.est.zero();
            for d in &mut s.dests {
                d.est.zero();
            }
        }
        self.ipvs.total_est.zero();
        Ok(())
    }

    fn set_timeouts(&mut self, t: &Timeouts) -> Result<(), IpvsError> {
        // A zero leaves that timeout unchanged (ipvsadm --set semantics).
        let cur = &mut self.ipvs.timeouts;
        if t.tcp != 0 {
            cur.tcp = t.tcp;
        }
        if t.tcp_fin != 0 {
            cur.tcp_fin = t.tcp_fin;
        }
        if t.udp != 0 {
            cur.udp = t.udp;
        }
        Ok(())
    }

    fn timeouts(&mut self) -> Result<Timeouts, IpvsError> {
        Ok(self.ipvs.timeouts)
    }

    fn services(&mut self) -> Result<Vec<ServiceEntry>, IpvsError> {
        self.ipvs.run_estimator(self.now);
        self.ipvs.expire(self.now);
        Ok(self
            .ipvs
            .services
            .iter()
            .map(|s| ServiceEntry {
                spec: s.spec.clone(),
                stats: s.est.shown(),
                rates: s.est.rates(),
                dests: s
                    .dests
                    .iter()
                    .map(|d| DestEntry {
                        spec: d.spec.clone(),
                        active: d.active,
                        inactive: d.inactive,
                        persist: d.persist,
                        stats: d.est.shown(),
                        rates: d.est.rates(),
                    })
                    .collect(),
            })
            .collect())
    }

    fn connections(&mut self) -> Result<Vec<ConnEntry>, IpvsError> {
        self.ipvs.expire(self.now);
        let now = self.now;
        Ok(self
            .ipvs
            .conns
            .iter()
            .map(|c| ConnEntry {
                proto: if c.template && c.fwmark != 0 {
                    "IP".into()
                } else {
                    c.proto.name().into()
                },
                caddr: c.caddr,
                cport: c.cport,
                vaddr: c.vaddr,
                vport: c.vport,
                daddr: c.daddr,
                dport: c.dport,
                state: c.state.name().into(),
                expires: c.expires.0.saturating_sub(now.0) / 1_000_000,
            })
            .collect())
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

fn hex_addr(a: IpAddr) -> String {
    match a {
        IpAddr::V4(v) => format!("{:08X}", u32::from(v)),
        IpAddr::V6(v) => {
            let s = v.segments();
            s.iter()
                .map(|x| format!("{x:04x}"))
                .collect::<Vec<_>>()
                .join(":")
        }
    }
}

/// `/proc/net/ip_vs` (`ip_vs_info_seq_show`): the table in hex, kernel order.
pub fn proc_ip_vs(ipvs: &Ipvs) -> String {
    let mut out = format!(
        "IP Virtual Server version 1.2.1 (size={CONN_TAB_SIZE})\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n"
    );
    for s in &ipvs.services {
        let flags = match s.spec.persistent {
            Some(t) => {
                let m = u32::MAX
                    .checked_shl(32 - u32::from(s.spec.netmask.min(32)))
                    .unwrap_or(0);
                format!("persistent {t} {m:08X}")
            }
            None => String::new(),
        };
        match s.spec.key {
            ServiceKey::Addr { proto, addr, port } => out.push_str(&format!(
                "{}  {}:{port:04X} {}  {flags}\n",
                proto.name(),
                hex_addr(addr),
                s.spec.scheduler
            )),
            ServiceKey::Fwmark { mark, .. } => {
                out.push_str(&format!("FWM  {mark:08X} {}  {flags}\n", s.spec.scheduler))
            }
        }
        for d in &s.dests {
            out.push_str(&format!(
                "  -> {}:{:04X}      {:<7} {:<6} {:<10} {:<10}\n",
                hex_addr(d.spec.addr),
                d.spec.port,
                d.spec.fwd.name(),
                d.spec.weight,
                d.active,
                d.inactive
            ));
        }
    }
    out
}

/// `/proc/net/ip_vs_conn` (`ip_vs_conn_seq_show`).
pub fn proc_ip_vs_conn(ipvs: &Ipvs, now: SimTime) -> String {
    let mut out = String::from(
        "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n",
    );
    for c in ipvs.conns.iter() {
        let proto = if c.template && c.fwmark != 0 {
            "IP"
        } else {
            c.proto.name()
        };
        let state = c.state.name();
        let exp = c.expires.0.saturating_sub(now.0) / 1_000_000;
        out.push_str(&format!(
            "{proto:<3} {} {:04X} {} {:04X} {} {:04X} {state:<11} {exp:>7}\n",
            hex_addr(c.caddr),
            c.cport,
            hex_addr(c.vaddr),
            c.vport,
            hex_addr(c.daddr),
            c.dport
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dr_connections_use_the_input_only_table() {
        // SYN, ACK, FIN, ACK as the director sees them in DR.
        let mut s = ConnState::None;
        for (ev, want) in [
            (TcpEvent::Syn, ConnState::SynRecv),
            (TcpEvent::Ack, ConnState::Established),
            (TcpEvent::Fin, ConnState::FinWait),
            (TcpEvent::Ack, ConnState::FinWait),
        ] {
            s = tcp_transition(Dir::InputOnly, ev, s);
            assert_eq!(s, want);
        }
    }

    #[test]
    fn estimator_converges_to_the_rate() {
        let mut e = Estimator::default();
        let mut st = Stats::default();
        for _ in 0..40 {
            st.conns += 20; // 10 per second over a 2 s sample
            st.inbytes += 2000;
            e.sample(&st);
        }
        let r = e.rates();
        assert_eq!(r.cps, 10);
        assert_eq!(r.inbps, 1000);
    }
}
