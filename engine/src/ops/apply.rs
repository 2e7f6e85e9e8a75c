//! Declarative IPVS configuration: desired state, plan, all-or-nothing apply.
//!
//! Linux has no transaction for IPVS: every `IPVS_CMD_*` message (one
//! `ipvsadm` call) takes `__ip_vs_mutex`, changes one service or one
//! destination and returns. A configuration made of many commands can stop
//! halfway (a scheduler module missing answers ENOENT, a service created
//! meanwhile by someone else answers EEXIST).
//!
//! We model a reconciliation on top of those single commands, the same for
//! the simulator and the netlink driver (both are an [`IpvsBackend`]):
//! [`Desired`] is the configuration (TOML in `lvslab apply`, JSON in the live
//! API), parsed through the ipvsadm grammar itself so that every field means
//! exactly what the matching ipvsadm option means; [`plan`] compares it with
//! the table as listed and yields the commands that would change it, printed
//! as ipvsadm lines; [`execute`] runs them and, when one fails, runs the
//! inverse of every command already done, newest first, so the table ends
//! as it was (counters of deleted objects aside: the kernel cannot restore
//! those).

use crate::net::netfilter::ipvs::{
    full_netmask, Change, DestEntry, DestSpec, Fwd, IpvsBackend, IpvsError, ServiceEntry,
    ServiceKey, ServiceSpec,
};
use crate::tools::ipvsadm::{self, Command};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// The desired IPVS table: the services a file or a request declares.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Desired {
    #[serde(default, rename = "service")]
    pub services: Vec<DesiredService>,
}

/// One virtual service; exactly one of `tcp`, `udp`, `sctp`, `fwmark`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DesiredService {
    /// `-t ADDR:PORT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<String>,
    /// `-u ADDR:PORT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub udp: Option<String>,
    /// `--sctp-service ADDR:PORT`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sctp: Option<String>,
    /// `-f MARK`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fwmark: Option<u32>,
    /// `-6` for a fwmark service.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ipv6: bool,
    /// `-s` (ipvsadm's default: wlc).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<String>,
    /// `-p SECONDS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistent: Option<u32>,
    /// `-M NETMASK` (with `persistent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub netmask: Option<String>,
    /// `-b FLAGS`, e.g. `["sh-port"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sched_flags: Vec<String>,
    #[serde(default, rename = "server")]
    pub servers: Vec<DesiredServer>,
}

/// One real server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesiredServer {
    /// `-r ADDR[:PORT]` (the port defaults to the service's).
    pub address: String,
    /// `dr` (`-g`, the default), `tun` (`-i`) or `nat` (`-m`); ipvsadm's
    /// long names `gatewaying`, `ipip`, `masquerading` work too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// `-w` (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i32>,
    /// `-x`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upper: Option<u32>,
    /// `-y`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lower: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DesiredError {
    #[error("service #{0}: give exactly one of tcp, udp, sctp, fwmark")]
    ServiceKey(usize),
    #[error("service #{index} ({name}): {message}")]
    Service {
        index: usize,
        name: String,
        message: String,
    },
    #[error("service {service}, server {server}: {message}")]
    Server {
        service: String,
        server: String,
        message: String,
    },
    #[error("service #{index}: scheduler {name:?}: {why}")]
    Scheduler {
        index: usize,
        name: String,
        why: &'static str,
    },
    /// `ipv6` on an address: its family is the address's own (ipvsadm
    /// refuses `-6` anywhere but after `-f`).
    #[error("service #{0}: ipv6 is for a fwmark service (an address's family is its own)")]
    Ipv6NotFwmark(usize),
    #[error("service {0} is declared twice")]
    DuplicateService(String),
    #[error("service {service}: server {server} is declared twice")]
    DuplicateServer { service: String, server: String },
}

/// A service and its real servers, as typed commands would create them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub spec: ServiceSpec,
    pub dests: Vec<DestSpec>,
}

impl DesiredService {
    fn key_args(&self, index: usize) -> Result<Vec<String>, DesiredError> {
        let mut keys = Vec::new();
        if let Some(a) = &self.tcp {
            keys.push(vec!["-t".to_string(), a.clone()]);
        }
        if let Some(a) = &self.udp {
            keys.push(vec!["-u".to_string(), a.clone()]);
        }
        if let Some(a) = &self.sctp {
            keys.push(vec!["--sctp-service".to_string(), a.clone()]);
        }
        if let Some(m) = self.fwmark {
            let mut v = vec!["-f".to_string(), m.to_string()];
            if self.ipv6 {
                v.push("-6".into());
            }
            keys.push(v);
        }
        if self.ipv6 && self.fwmark.is_none() && keys.len() == 1 {
            return Err(DesiredError::Ipv6NotFwmark(index + 1));
        }
        match keys.len() {
            1 => Ok(keys.remove(0)),
            _ => Err(DesiredError::ServiceKey(index + 1)),
        }
    }
}

/// A scheduler name the kernel can take: `IPVS_SVC_ATTR_SCHED_NAME` is an
/// `NLA_NUL_STRING` of at most `IP_VS_SCHEDNAME_MAXLEN - 1` = 15 bytes, and
/// the kernel finds the scheduler by loading the module `ip_vs_NAME`,
/// whose name is letters, digits and `_`. A desired state is checked before
/// anything is planned, so no control character reaches the plan, the log or
/// netlink (ipvsadm itself passes what it is given to the kernel, which
/// answers "No such file or directory").
fn check_sched_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("empty");
    }
    if name.len() > 15 {
        return Err("longer than the kernel's 15 bytes (IP_VS_SCHEDNAME_MAXLEN - 1)");
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err("a kernel module name has only letters, digits and _");
    }
    Ok(())
}

impl Desired {
    /// Every service and server through the ipvsadm grammar (`-A …`, `-a …`).
    pub fn targets(&self) -> Result<Vec<Target>, DesiredError> {
        let mut out: Vec<Target> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, s) in self.services.iter().enumerate() {
            let key = s.key_args(i)?;
            if let Some(sched) = &s.scheduler {
                check_sched_name(sched).map_err(|why| DesiredError::Scheduler {
                    index: i + 1,
                    name: sched.clone(),
                    why,
                })?;
            }
            let name = key.join(" ");
            let mut args = vec!["-A".to_string()];
            args.extend(key.iter().cloned());
            args.push("-s".into());
            args.push(s.scheduler.clone().unwrap_or_else(|| "wlc".into()));
            if let Some(p) = s.persistent {
                args.push("-p".into());
                args.push(p.to_string());
            }
            if let Some(m) = &s.netmask {
                args.push("-M".into());
                args.push(m.clone());
            }
            if !s.sched_flags.is_empty() {
                args.push("-b".into());
                args.push(s.sched_flags.join(","));
            }
            let spec = match ipvsadm::parse(&args) {
                Ok(Command::Change(Change::AddService(spec))) => spec,
                Ok(other) => {
                    return Err(DesiredError::Service {
                        index: i + 1,
                        name,
                        message: format!("not a service definition: {other:?}"),
                    })
                }
                Err(e) => {
                    return Err(DesiredError::Service {
                        index: i + 1,
                        name,
                        message: first_line(&e.message),
                    })
                }
            };
            if !seen.insert(spec.key) {
                return Err(DesiredError::DuplicateService(name));
            }
            let mut dests: Vec<DestSpec> = Vec::new();
            for r in &s.servers {
                let mut args = vec!["-a".to_string()];
                args.extend(key.iter().cloned());
                args.push("-r".into());
                args.push(r.address.clone());
                let m = r.method.as_deref().unwrap_or("dr");
                args.push(
                    match m {
                        "dr" | "gatewaying" | "route" | "direct" => "-g",
                        "tun" | "ipip" | "tunnel" => "-i",
                        "nat" | "masquerading" | "masq" => "-m",
                        other => {
                            return Err(DesiredError::Server {
                                service: name,
                                server: r.address.clone(),
                                message: format!("unknown method \"{other}\" (use dr, tun or nat)"),
                            })
                        }
                    }
                    .into(),
                );
                for (flag, v) in [
                    ("-w", r.weight.map(i64::from)),
                    ("-x", r.upper.map(i64::from)),
                    ("-y", r.lower.map(i64::from)),
                ] {
                    if let Some(v) = v {
                        args.push(flag.into());
                        args.push(v.to_string());
                    }
                }
                let d = match ipvsadm::parse(&args) {
                    Ok(Command::Change(Change::AddDest(_, d))) => d,
                    Ok(other) => {
                        return Err(DesiredError::Server {
                            service: name,
                            server: r.address.clone(),
                            message: format!("not a real server definition: {other:?}"),
                        })
                    }
                    Err(e) => {
                        return Err(DesiredError::Server {
                            service: name,
                            server: r.address.clone(),
                            message: first_line(&e.message),
                        })
                    }
                };
                // The kernel refuses it (ERANGE in ip_vs_add_dest()): say so
                // before any change is made rather than fail half-way.
                if d.l_threshold > d.u_threshold {
                    return Err(DesiredError::Server {
                        service: name,
                        server: r.address.clone(),
                        message: format!(
                            "lower threshold {} is above the upper threshold {} (0 means none; the kernel refuses this with ERANGE)",
                            d.l_threshold, d.u_threshold
                        ),
                    });
                }
                if dests.iter().any(|x| x.addr == d.addr && x.port == d.port) {
                    return Err(DesiredError::DuplicateServer {
                        service: name,
                        server: r.address.clone(),
                    });
                }
                dests.push(d);
            }
            out.push(Target { spec, dests });
        }
        Ok(out)
    }

    /// The desired state that describes a table as it is (for export, and
    /// for applying the simulator's configuration to a kernel).
    pub fn from_entries(services: &[ServiceEntry]) -> Desired {
        let services = services
            .iter()
            .map(|s| {
                let mut d = DesiredService::default();
                match s.spec.key {
                    ServiceKey::Addr { proto, addr, port } => {
                        let a = sock(addr, port);
                        match proto {
                            crate::net::netfilter::ipvs::Proto::Tcp => d.tcp = Some(a),
                            crate::net::netfilter::ipvs::Proto::Udp => d.udp = Some(a),
                            crate::net::netfilter::ipvs::Proto::Sctp => d.sctp = Some(a),
                        }
                    }
                    ServiceKey::Fwmark { mark, v6 } => {
                        d.fwmark = Some(mark);
                        d.ipv6 = v6;
                    }
                }
                d.scheduler = Some(s.spec.scheduler.clone());
                d.persistent = s.spec.persistent;
                if s.spec.persistent.is_some() && s.spec.netmask != full_netmask(s.spec.key.is_v6())
                {
                    d.netmask = Some(s.spec.netmask_text());
                }
                d.sched_flags = s.spec.sched_flags.clone();
                // The kernel lists the newest first; declare in creation order.
                d.servers = s
                    .dests
                    .iter()
                    .rev()
                    .map(|x| DesiredServer {
                        address: sock(x.spec.addr, x.spec.port),
                        method: Some(
                            match x.spec.fwd {
                                Fwd::Route | Fwd::Local => "dr",
                                Fwd::Tunnel => "tun",
                                Fwd::Masq => "nat",
                            }
                            .into(),
                        ),
                        weight: Some(x.spec.weight),
                        upper: (x.spec.u_threshold != 0).then_some(x.spec.u_threshold),
                        lower: (x.spec.l_threshold != 0).then_some(x.spec.l_threshold),
                    })
                    .collect();
                d
            })
            .collect();
        Desired { services }
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

fn sock(a: IpAddr, port: u16) -> String {
    match a {
        IpAddr::V4(a) => format!("{a}:{port}"),
        IpAddr::V6(a) => format!("[{a}]:{port}"),
    }
}

/// One change to the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    AddService(ServiceSpec),
    EditService {
        old: ServiceSpec,
        new: ServiceSpec,
    },
    /// With the service's real servers, so that a rollback can recreate it.
    DelService {
        spec: ServiceSpec,
        dests: Vec<DestSpec>,
    },
    AddDest(ServiceKey, DestSpec),
    EditDest {
        key: ServiceKey,
        old: DestSpec,
        new: DestSpec,
    },
    DelDest(ServiceKey, DestSpec),
}

impl Op {
    /// The ipvsadm command line that performs it.
    pub fn command(&self) -> String {
        let k = |key: &ServiceKey| ipvsadm::service_opt(key, true);
        match self {
            Op::AddService(s) => format!("-A {}{}", k(&s.key), ipvsadm::service_args(s)),
            Op::EditService { new, .. } => {
                format!("-E {}{}", k(&new.key), ipvsadm::service_args(new))
            }
            Op::DelService { spec, .. } => format!("-D {}", k(&spec.key)),
            Op::AddDest(key, d) => format!(
                "-a {}{}{}",
                k(key),
                ipvsadm::dest_args(d, true),
                thresholds(d)
            ),
            Op::EditDest { key, new, .. } => {
                format!(
                    "-e {}{}{}",
                    k(key),
                    ipvsadm::dest_args(new, true),
                    thresholds(new)
                )
            }
            Op::DelDest(key, d) => format!("-d {} -r {}", k(key), sock(d.addr, d.port)),
        }
    }

    /// What it changes from, for edits (`-s rr` → `-s wrr`).
    pub fn was(&self) -> Option<String> {
        match self {
            Op::EditService { old, .. } => Some(ipvsadm::service_args(old).trim().to_string()),
            Op::EditDest { old, .. } => Some(
                format!("{}{}", ipvsadm::dest_args(old, true), thresholds(old))
                    .trim()
                    .to_string(),
            ),
            _ => None,
        }
    }

    fn sign(&self) -> char {
        match self {
            Op::AddService(_) | Op::AddDest(..) => '+',
            Op::EditService { .. } | Op::EditDest { .. } => '~',
            Op::DelService { .. } | Op::DelDest(..) => '-',
        }
    }

    /// Perform it.
    pub fn run(&self, b: &mut dyn IpvsBackend) -> Result<(), IpvsError> {
        match self {
            Op::AddService(s) => b.add_service(s),
            Op::EditService { new, .. } => b.edit_service(new),
            Op::DelService { spec, .. } => b.del_service(&spec.key),
            Op::AddDest(k, d) => b.add_dest(k, d),
            Op::EditDest { key, new, .. } => b.edit_dest(key, new),
            Op::DelDest(k, d) => b.del_dest(k, d.addr, d.port),
        }
    }

    /// The operations that undo it.
    pub fn inverse(&self) -> Vec<Op> {
        match self {
            Op::AddService(s) => vec![Op::DelService {
                spec: s.clone(),
                dests: Vec::new(),
            }],
            Op::EditService { old, new } => vec![Op::EditService {
                old: new.clone(),
                new: old.clone(),
            }],
            Op::DelService { spec, dests } => {
                let mut v = vec![Op::AddService(spec.clone())];
                // Re-added oldest first, so the kernel's list order returns.
                v.extend(dests.iter().rev().map(|d| Op::AddDest(spec.key, d.clone())));
                v
            }
            Op::AddDest(k, d) => vec![Op::DelDest(*k, d.clone())],
            Op::EditDest { key, old, new } => vec![Op::EditDest {
                key: *key,
                old: new.clone(),
                new: old.clone(),
            }],
            Op::DelDest(k, d) => vec![Op::AddDest(*k, d.clone())],
        }
    }
}

fn thresholds(d: &DestSpec) -> String {
    let mut s = String::new();
    if d.u_threshold != 0 {
        s.push_str(&format!(" -x {}", d.u_threshold));
    }
    if d.l_threshold != 0 {
        s.push_str(&format!(" -y {}", d.l_threshold));
    }
    s
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ipvsadm {}", self.sign(), self.command())?;
        if let Some(w) = self.was() {
            write!(f, "   (was: {w})")?;
        }
        Ok(())
    }
}

/// The changes that make the table match the desired state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub ops: Vec<Op>,
    /// Services present but not declared, left alone (no `--prune`).
    pub untouched: Vec<ServiceKey>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for op in &self.ops {
            writeln!(f, "{op}")?;
        }
        for k in &self.untouched {
            writeln!(
                f,
                "  (not declared, left alone: {}; --prune deletes it)",
                ipvsadm::service_opt(k, true)
            )?;
        }
        Ok(())
    }
}

/// A real server's configuration equals the desired one. The kernel
/// reports a destination that is a local address as `Local` whatever
/// method it was given (`__ip_vs_update_dest()` sets LOCALNODE).
fn same_dest(cur: &DestSpec, want: &DestSpec) -> bool {
    (cur.fwd == want.fwd || cur.fwd == Fwd::Local)
        && cur.weight == want.weight
        && cur.u_threshold == want.u_threshold
        && cur.l_threshold == want.l_threshold
}

fn same_service(cur: &ServiceSpec, want: &ServiceSpec) -> bool {
    let mut a = cur.sched_flags.clone();
    let mut b = want.sched_flags.clone();
    a.sort();
    b.sort();
    // No -M is the family's full mask (the grammar fills it in, as
    // ipvsadm does), which is what the kernel lists back.
    cur.scheduler == want.scheduler
        && cur.persistent == want.persistent
        && (cur.persistent.is_none() || cur.netmask == want.netmask)
        && a == b
}

/// Compare the desired state with the table `current` (as listed).
pub fn plan(
    desired: &Desired,
    current: &[ServiceEntry],
    prune: bool,
) -> Result<Plan, DesiredError> {
    let targets = desired.targets()?;
    let mut p = Plan::default();
    let by_key: std::collections::HashMap<&ServiceKey, &ServiceEntry> =
        current.iter().map(|c| (&c.spec.key, c)).collect();
    let declared: std::collections::HashSet<&ServiceKey> =
        targets.iter().map(|t| &t.spec.key).collect();
    for t in &targets {
        let key = &t.spec.key;
        match by_key.get(key).copied() {
            None => {
                p.ops.push(Op::AddService(t.spec.clone()));
                p.ops
                    .extend(t.dests.iter().map(|d| Op::AddDest(*key, d.clone())));
            }
            Some(c) => {
                if !same_service(&c.spec, &t.spec) {
                    p.ops.push(Op::EditService {
                        old: c.spec.clone(),
                        new: t.spec.clone(),
                    });
                }
                let find = |d: &DestSpec| -> Option<&DestEntry> {
                    c.dests
                        .iter()
                        .find(|x| x.spec.addr == d.addr && x.spec.port == d.port)
                };
                // Deletions first (oldest first, as listed newest first), then
                // edits and additions in declaration order.
                for x in c.dests.iter().rev() {
                    if !t
                        .dests
                        .iter()
                        .any(|d| d.addr == x.spec.addr && d.port == x.spec.port)
                    {
                        p.ops.push(Op::DelDest(*key, x.spec.clone()));
                    }
                }
                for d in &t.dests {
                    match find(d) {
                        None => p.ops.push(Op::AddDest(*key, d.clone())),
                        Some(x) if !same_dest(&x.spec, d) => p.ops.push(Op::EditDest {
                            key: *key,
                            old: x.spec.clone(),
                            new: d.clone(),
                        }),
                        Some(_) => {}
                    }
                }
            }
        }
    }
    // The kernel lists services in per-boot hash order: deletions and the
    // services left alone come in a stable order instead (by key).
    let mut rest: Vec<&ServiceEntry> = current
        .iter()
        .filter(|c| !declared.contains(&c.spec.key))
        .collect();
    rest.sort_by_key(|c| c.spec.key);
    for c in rest {
        if prune {
            p.ops.push(Op::DelService {
                spec: c.spec.clone(),
                dests: c.dests.iter().map(|d| d.spec.clone()).collect(),
            });
        } else {
            p.untouched.push(c.spec.key);
        }
    }
    Ok(p)
}

/// What an apply did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub done: Vec<Op>,
}

/// An apply that failed at one operation and was rolled back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// The operation the backend refused, and why.
    pub op: Op,
    pub error: IpvsError,
    /// Operations done before it, now undone (newest first).
    pub rolled_back: Vec<Op>,
    /// Undo operations that failed in turn (the table may differ from before).
    pub rollback_errors: Vec<(Op, IpvsError)>,
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "failed: ipvsadm {}: {}", self.op.command(), self.error)?;
        if self.rolled_back.is_empty() {
            writeln!(f, "nothing had been changed")?;
        } else {
            writeln!(
                f,
                "rolled back {} change(s) made by this run:",
                self.rolled_back.len()
            )?;
            for op in &self.rolled_back {
                writeln!(f, "  undone: ipvsadm {}", op.command())?;
            }
        }
        for (op, e) in &self.rollback_errors {
            writeln!(
                f,
                "  ROLLBACK FAILED: ipvsadm {}: {e} (the table is not as before)",
                op.command()
            )?;
        }
        Ok(())
    }
}

/// Run the plan; on the first failure undo what was done.
pub fn execute(plan: &Plan, b: &mut dyn IpvsBackend) -> Result<Applied, Box<Failed>> {
    let mut done: Vec<Op> = Vec::new();
    for op in &plan.ops {
        if let Err(error) = op.run(b) {
            let mut rollback_errors = Vec::new();
            for d in done.iter().rev() {
                for inv in d.inverse() {
                    if let Err(e) = inv.run(b) {
                        rollback_errors.push((inv, e));
                    }
                }
            }
            done.reverse();
            return Err(Box::new(Failed {
                op: op.clone(),
                error,
                rolled_back: done,
                rollback_errors,
            }));
        }
        done.push(op.clone());
    }
    Ok(Applied { done })
}

#[cfg(test)]
mod tests;
