//! Live mode (`lvslab serve --live`): the director's real IPVS table in the
//! web app, read through the same backend trait the simulator implements.
//!
//! Linux keeps the virtual services, their real servers and 64-bit
//! counters in `ip_vs_ctl.c` (dumped over the "IPVS" generic netlink
//! family: `IPVS_CMD_GET_SERVICE`/`GET_DEST`), publishes rates from the
//! per-netns estimator (`ip_vs_est.c`, 2 s samples), and lists the
//! connection table in `/proc/net/ip_vs_conn` (`ip_vs_conn_seq_show`:
//! state and seconds until expiry). We model a *live source*
//! ([`LiveHost`]): anything that answers [`IpvsBackend`] — the kernel over
//! netlink ([`KernelHost`]), or the engine's simulated host
//! ([`SimHost`], for tests and demos on machines without IPVS) — and we
//! turn what it reports into the JSON views of the HTTP API
//! ([`http`]). The HTTP layer never knows which one it talks to.

pub mod http;
#[cfg(test)]
mod tests;

use lvslab_engine::doctor;
use lvslab_engine::host::Host;
use lvslab_engine::ipvs::{
    ConnEntry, IpvsBackend, IpvsError, Rates, ServiceEntry, ServiceKey, SimBackend, Stats, Timeouts,
};
use lvslab_engine::shell::Lab;
use lvslab_engine::snapshot::HostSnapshot;
use lvslab_engine::world::SimTime;
use serde::Serialize;
use std::time::Duration;

/// How many connection entries a response carries at most: a busy director
/// has millions, and the page shows the first ones (with the total).
pub const MAX_CONNS: usize = 1000;

/// Packet-trace events a simulated live host keeps (it drops older ones).
pub const MAX_SIM_TRACE: usize = 10_000;

/// What the live view reads and (through `apply`) changes.
pub trait LiveHost: Send {
    /// Where the data comes from, for the page and the logs.
    fn source(&self) -> Source;
    /// Let wall-clock time pass (the simulator runs its clock; the kernel
    /// has its own).
    fn tick(&mut self, _elapsed: Duration) {}
    /// The IPVS backend of this host, for reads and for executing applies.
    fn backend(&mut self) -> Box<dyn IpvsBackend + '_>;
    /// This host's links, addresses, routes, sysctls and IPVS table (what
    /// `lvslab sim --from-host` reads).
    fn snapshot(&mut self) -> Result<HostSnapshot, String>;
    /// This host as an engine host model, with what the model leaves out:
    /// what the doctor examines.
    fn host_model(&mut self) -> Result<(Host, Vec<String>), String> {
        Ok(self.snapshot()?.to_host())
    }
    /// The first `max` entries of the connection table, and how many there
    /// are in all.
    fn connections(&mut self, max: usize) -> Result<ConnsView, IpvsError> {
        let mut conns = self.backend().connections()?;
        let total = conns.len();
        conns.truncate(max);
        Ok(ConnsView {
            total,
            truncated: total > max,
            connections: conns,
        })
    }
}

/// Run the engine's doctor over `host`'s model and IPVS table; also
/// returns the notes on what the host model leaves out.
pub fn doctor(
    host: &mut dyn LiveHost,
    opts: &doctor::Options,
) -> Result<(doctor::Report, Vec<String>), String> {
    doctor_inputs(host).map(|i| i.examine(opts))
}

/// What the doctor reads from a host (the rest of its work needs only
/// this, not the host: the live server does it without the host's lock).
pub struct DoctorInputs {
    services: Vec<ServiceEntry>,
    model: Host,
    notes: Vec<String>,
}

/// Read what the doctor examines.
pub fn doctor_inputs(host: &mut dyn LiveHost) -> Result<DoctorInputs, String> {
    let services = host
        .backend()
        .services()
        .map_err(|e| format!("cannot read IPVS: {e}"))?;
    let (model, notes) = host.host_model()?;
    Ok(DoctorInputs {
        services,
        model,
        notes,
    })
}

impl DoctorInputs {
    /// The doctor's report, and the notes on what the host model leaves out.
    pub fn examine(self, opts: &doctor::Options) -> (doctor::Report, Vec<String>) {
        let opts = doctor::Options {
            iptables_unknown: self
                .notes
                .iter()
                .any(|n| n == lvslab_engine::snapshot::NOTE_NO_IPTABLES),
            ..opts.clone()
        };
        (
            doctor::examine(&self.model, &self.services, &opts),
            self.notes,
        )
    }
}

/// Where live data comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// `kernel` or `simulated`.
    pub kind: &'static str,
    /// A human description ("this host's kernel", "simulated scenario seed, host node01").
    pub detail: String,
}

/// The kernel's IPVS over generic netlink.
#[cfg(target_os = "linux")]
pub struct KernelHost {
    nl: crate::netlink::NetlinkBackend<crate::netlink::SocketTransport>,
}

#[cfg(target_os = "linux")]
impl KernelHost {
    /// Open the netlink socket and resolve the IPVS family (loading the
    /// module if needed, as ipvsadm does).
    pub fn open() -> Result<KernelHost, IpvsError> {
        Ok(KernelHost {
            nl: crate::netlink::NetlinkBackend::new()?,
        })
    }
}

#[cfg(target_os = "linux")]
impl LiveHost for KernelHost {
    fn source(&self) -> Source {
        Source {
            kind: "kernel",
            detail: "this host's kernel (generic netlink IPVS, /proc/net/ip_vs_conn)".into(),
        }
    }
    fn backend(&mut self) -> Box<dyn IpvsBackend + '_> {
        Box::new(Borrowed(&mut self.nl))
    }
    fn snapshot(&mut self) -> Result<HostSnapshot, String> {
        crate::hostsnap::read().map_err(|e| format!("cannot read this host: {e:#}"))
    }
    /// Streamed from /proc: a busy director has millions of entries, and
    /// only the first `max` are kept (the rest are counted).
    fn connections(&mut self, max: usize) -> Result<ConnsView, IpvsError> {
        let path = std::path::Path::new(crate::netlink::conn::PROC_IP_VS_CONN);
        let (connections, total) =
            crate::netlink::conn::read_bounded(path, max).map_err(IpvsError::Other)?;
        Ok(ConnsView {
            total,
            truncated: total > connections.len(),
            connections,
        })
    }
}

/// An `&mut` backend as a boxed trait object.
struct Borrowed<'a, B: IpvsBackend>(&'a mut B);

impl<B: IpvsBackend> IpvsBackend for Borrowed<'_, B> {
    fn info(&mut self) -> Result<lvslab_engine::ipvs::Info, IpvsError> {
        self.0.info()
    }
    fn add_service(&mut self, s: &lvslab_engine::ipvs::ServiceSpec) -> Result<(), IpvsError> {
        self.0.add_service(s)
    }
    fn edit_service(&mut self, s: &lvslab_engine::ipvs::ServiceSpec) -> Result<(), IpvsError> {
        self.0.edit_service(s)
    }
    fn del_service(&mut self, k: &ServiceKey) -> Result<(), IpvsError> {
        self.0.del_service(k)
    }
    fn flush(&mut self) -> Result<(), IpvsError> {
        self.0.flush()
    }
    fn add_dest(
        &mut self,
        k: &ServiceKey,
        d: &lvslab_engine::ipvs::DestSpec,
    ) -> Result<(), IpvsError> {
        self.0.add_dest(k, d)
    }
    fn edit_dest(
        &mut self,
        k: &ServiceKey,
        d: &lvslab_engine::ipvs::DestSpec,
    ) -> Result<(), IpvsError> {
        self.0.edit_dest(k, d)
    }
    fn del_dest(
        &mut self,
        k: &ServiceKey,
        addr: std::net::IpAddr,
        port: u16,
    ) -> Result<(), IpvsError> {
        self.0.del_dest(k, addr, port)
    }
    fn zero(&mut self, k: Option<&ServiceKey>) -> Result<(), IpvsError> {
        self.0.zero(k)
    }
    fn set_timeouts(&mut self, t: &Timeouts) -> Result<(), IpvsError> {
        self.0.set_timeouts(t)
    }
    fn timeouts(&mut self) -> Result<Timeouts, IpvsError> {
        self.0.timeouts()
    }
    fn services(&mut self) -> Result<Vec<ServiceEntry>, IpvsError> {
        self.0.services()
    }
    fn connections(&mut self) -> Result<Vec<ConnEntry>, IpvsError> {
        self.0.connections()
    }
}

/// A simulated director: an engine lab whose clock follows the wall clock,
/// optionally with a client that requests each TCP virtual service once per
/// second (so counters, rates and the connection table move). The hidden
/// `--live-sim SCENARIO` flag serves this for tests and demos; it is never
/// the kernel.
pub struct SimHost {
    pub lab: Lab,
    pub scenario: String,
    /// The host whose IPVS is shown.
    pub director: String,
    /// The host that sends the generated traffic, if any.
    pub client: Option<String>,
    /// The URLs the client requests every second.
    targets: Vec<String>,
    /// Wall-clock time not yet simulated, and time since the last request.
    pending: Duration,
    since_request: Duration,
}

/// A `--live-sim` scenario that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum SimHostError {
    #[error(transparent)]
    Scenario(#[from] lvslab_engine::scenario::UnknownScenario),
    #[error("scenario {0:?} has no host to show (it needs a host named node01 or one with IPVS services)")]
    NoDirector(String),
}

impl SimHost {
    /// Scenario `name`; the director is the first host with IPVS services
    /// (else `node01`); traffic comes from `client` when there is one and
    /// `traffic` is set.
    pub fn new(name: &str, traffic: bool) -> Result<SimHost, SimHostError> {
        let world = lvslab_engine::scenario::load(name)?;
        let director = world
            .hosts
            .iter()
            .find(|(_, h)| !h.ipvs.services.is_empty())
            .map(|(n, _)| n.clone())
            .or_else(|| world.host("node01").map(|_| "node01".to_string()))
            .ok_or_else(|| SimHostError::NoDirector(name.into()))?;
        let client = world
            .host("client")
            .filter(|_| traffic)
            .map(|_| "client".to_string());
        let targets = world.host(&director).map(service_urls).unwrap_or_default();
        Ok(SimHost {
            targets,
            lab: Lab::new(world),
            scenario: name.into(),
            director,
            client,
            pending: Duration::ZERO,
            since_request: Duration::ZERO,
        })
    }

    /// One request from the client to each TCP virtual service the
    /// scenario had (what `curl` does in the lab shell, on simulated time).
    fn request_each_service(&mut self) {
        let Some(client) = self.client.clone() else {
            return;
        };
        for url in self.targets.clone() {
            let out = self.lab.run(&client, &format!("curl -s -m 2 {url}"));
            if out.status != 0 {
                tracing::debug!(%url, status = out.status, "simulated request failed");
            }
        }
    }

    /// Add `n` TCP services on 10.0.0.1:80 upwards, each a copy of the
    /// first service (scheduler, real servers): a large table for load
    /// tests. The generated traffic still goes to the scenario's own
    /// services only.
    pub fn add_services(&mut self, n: u32) -> Result<(), IpvsError> {
        let template = self
            .backend()
            .services()?
            .into_iter()
            .next()
            .ok_or_else(|| IpvsError::Other("the scenario has no service to copy".into()))?;
        let mut b = self.backend();
        for i in 0..n {
            let key = ServiceKey::Addr {
                proto: lvslab_engine::ipvs::Proto::Tcp,
                addr: std::net::IpAddr::V4(std::net::Ipv4Addr::from(
                    0x0a00_0001u32.wrapping_add(i),
                )),
                port: 80,
            };
            let mut spec = template.spec.clone();
            spec.key = key;
            b.add_service(&spec)?;
            for d in &template.dests {
                b.add_dest(&key, &d.spec)?;
            }
        }
        Ok(())
    }
}

/// The URLs of a host's TCP virtual services.
fn service_urls(h: &Host) -> Vec<String> {
    h.ipvs
        .services
        .iter()
        .filter_map(|s| match s.spec.key {
            ServiceKey::Addr {
                proto: lvslab_engine::ipvs::Proto::Tcp,
                addr: std::net::IpAddr::V4(a),
                port,
            } => Some(format!("http://{a}:{port}/")),
            _ => None,
        })
        .collect()
}

impl LiveHost for SimHost {
    fn source(&self) -> Source {
        Source {
            kind: "simulated",
            detail: format!(
                "simulated scenario {}, host {} (not a kernel)",
                self.scenario, self.director
            ),
        }
    }

    fn tick(&mut self, elapsed: Duration) {
        self.pending += elapsed;
        self.since_request += elapsed;
        if self.since_request >= Duration::from_secs(1) {
            self.since_request = Duration::ZERO;
            self.request_each_service();
        }
        // The shell's commands advance the clock themselves; simulate only
        // what they did not.
        let us = self.pending.as_micros().min(u128::from(u64::MAX)) as u64;
        self.pending = Duration::ZERO;
        let target = SimTime(self.lab.world.now.0.saturating_add(us));
        self.lab.world.run_until(target);
        // Nobody reads a live director's packet trace: keep only the newest
        // events, so a server that runs for days does not grow without end.
        let trace = &mut self.lab.world.trace;
        if trace.len() > 2 * MAX_SIM_TRACE {
            trace.drain(..trace.len() - MAX_SIM_TRACE);
        }
    }

    fn backend(&mut self) -> Box<dyn IpvsBackend + '_> {
        let now = self.lab.world.now;
        match self.lab.world.hosts.get_mut(&self.director) {
            Some(h) => {
                h.ipvs.run_estimator(now);
                Box::new(SimBackend {
                    ipvs: &mut h.ipvs,
                    now,
                })
            }
            None => Box::new(Missing(self.director.clone())),
        }
    }

    fn snapshot(&mut self) -> Result<HostSnapshot, String> {
        let now = self.lab.world.now;
        let mut snap = HostSnapshot::of_host(&self.host_model()?.0);
        // The table as listed now (with counters), like the kernel reader.
        if let Some(h) = self.lab.world.hosts.get_mut(&self.director) {
            if h.ipvs.loaded {
                snap.ipvs = SimBackend {
                    ipvs: &mut h.ipvs,
                    now,
                }
                .services()
                .map_err(|e| e.to_string())?;
            }
        }
        Ok(snap)
    }

    /// The simulated host itself (not a round trip through a snapshot).
    fn host_model(&mut self) -> Result<(Host, Vec<String>), String> {
        self.lab
            .world
            .host(&self.director)
            .cloned()
            .map(|h| (h, Vec::new()))
            .ok_or_else(|| format!("host {} is not in the lab", self.director))
    }
}

/// A backend for a host that is not there: every call fails clearly.
struct Missing(String);

impl Missing {
    fn err<T>(&self) -> Result<T, IpvsError> {
        Err(IpvsError::Other(format!(
            "host {} is not in the lab",
            self.0
        )))
    }
}

impl IpvsBackend for Missing {
    fn info(&mut self) -> Result<lvslab_engine::ipvs::Info, IpvsError> {
        self.err()
    }
    fn add_service(&mut self, _: &lvslab_engine::ipvs::ServiceSpec) -> Result<(), IpvsError> {
        self.err()
    }
    fn edit_service(&mut self, _: &lvslab_engine::ipvs::ServiceSpec) -> Result<(), IpvsError> {
        self.err()
    }
    fn del_service(&mut self, _: &ServiceKey) -> Result<(), IpvsError> {
        self.err()
    }
    fn flush(&mut self) -> Result<(), IpvsError> {
        self.err()
    }
    fn add_dest(
        &mut self,
        _: &ServiceKey,
        _: &lvslab_engine::ipvs::DestSpec,
    ) -> Result<(), IpvsError> {
        self.err()
    }
    fn edit_dest(
        &mut self,
        _: &ServiceKey,
        _: &lvslab_engine::ipvs::DestSpec,
    ) -> Result<(), IpvsError> {
        self.err()
    }
    fn del_dest(&mut self, _: &ServiceKey, _: std::net::IpAddr, _: u16) -> Result<(), IpvsError> {
        self.err()
    }
    fn zero(&mut self, _: Option<&ServiceKey>) -> Result<(), IpvsError> {
        self.err()
    }
    fn set_timeouts(&mut self, _: &Timeouts) -> Result<(), IpvsError> {
        self.err()
    }
    fn timeouts(&mut self) -> Result<Timeouts, IpvsError> {
        self.err()
    }
    fn services(&mut self) -> Result<Vec<ServiceEntry>, IpvsError> {
        self.err()
    }
    fn connections(&mut self) -> Result<Vec<ConnEntry>, IpvsError> {
        self.err()
    }
}

/// A virtual service as the live view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceView {
    /// As ipvsadm -Ln prints it: `TCP  192.168.150.100:80`, `FWM  5`.
    pub key: String,
    pub proto: String,
    pub addr: Option<String>,
    pub port: Option<u16>,
    pub fwmark: Option<u32>,
    pub scheduler: String,
    pub persistent: Option<u32>,
    /// As ipvsadm prints it: `255.255.255.0`; a prefix length for IPv6.
    pub netmask: String,
    pub flags: Vec<String>,
    pub stats: Stats,
    pub rates: Rates,
    pub dests: Vec<DestView>,
}

/// A real server as the live view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DestView {
    /// `192.168.150.12:80` (`[v6]:port` for IPv6).
    pub key: String,
    pub addr: String,
    pub port: u16,
    /// `Route` (DR), `Masq` (NAT), `Tunnel`, `Local`.
    pub fwd: &'static str,
    pub weight: i32,
    pub active: u32,
    pub inactive: u32,
    pub persist: u32,
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub stats: Stats,
    pub rates: Rates,
}

fn hostport(addr: std::net::IpAddr, port: u16) -> String {
    match addr {
        std::net::IpAddr::V4(a) => format!("{a}:{port}"),
        std::net::IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

impl ServiceView {
    pub fn of(e: &ServiceEntry) -> ServiceView {
        let (key, proto, addr, port, fwmark) = match e.spec.key {
            ServiceKey::Addr { proto, addr, port } => (
                format!("{}  {}", proto.name(), hostport(addr, port)),
                proto.name().to_string(),
                Some(addr.to_string()),
                Some(port),
                None,
            ),
            ServiceKey::Fwmark { mark, v6 } => (
                format!("FWM  {mark}{}", if v6 { " IPv6" } else { "" }),
                "FWM".to_string(),
                None,
                None,
                Some(mark),
            ),
        };
        ServiceView {
            key,
            proto,
            addr,
            port,
            fwmark,
            scheduler: e.spec.scheduler.clone(),
            persistent: e.spec.persistent,
            netmask: e.spec.netmask_text(),
            flags: e.spec.sched_flags.clone(),
            stats: e.stats,
            rates: e.rates,
            dests: e
                .dests
                .iter()
                .map(|d| DestView {
                    key: hostport(d.spec.addr, d.spec.port),
                    addr: d.spec.addr.to_string(),
                    port: d.spec.port,
                    fwd: d.spec.fwd.name(),
                    weight: d.spec.weight,
                    active: d.active,
                    inactive: d.inactive,
                    persist: d.persist,
                    u_threshold: d.spec.u_threshold,
                    l_threshold: d.spec.l_threshold,
                    stats: d.stats,
                    rates: d.rates,
                })
                .collect(),
        }
    }
}

/// The IPVS table of a live host: services, timeouts.
#[derive(Debug, Clone, Serialize)]
pub struct ServicesView {
    pub services: Vec<ServiceView>,
    pub timeouts: Timeouts,
}

/// The connection table (first [`MAX_CONNS`] entries of `total`).
#[derive(Debug, Clone, Serialize)]
pub struct ConnsView {
    pub total: usize,
    pub truncated: bool,
    pub connections: Vec<ConnEntry>,
}

/// Read the IPVS table.
pub fn read_services(host: &mut dyn LiveHost) -> Result<ServicesView, IpvsError> {
    let mut b = host.backend();
    let services = b.services()?;
    let timeouts = b.timeouts()?;
    Ok(ServicesView {
        services: services.iter().map(ServiceView::of).collect(),
        timeouts,
    })
}

/// Read the connection table (capped at `max` entries).
pub fn read_conns(host: &mut dyn LiveHost, max: usize) -> Result<ConnsView, IpvsError> {
    host.connections(max)
}
