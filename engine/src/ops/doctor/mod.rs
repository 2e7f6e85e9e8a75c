//! The host doctor: the tutorial's pitfalls, found in a host's state.
//!
//! Linux decides an LVS-DR packet's fate with a handful of rules spread over
//! the stack: `ip_vs_in()` only sees packets that `ip_route_input()` delivered
//! locally (the VIP must be a `local` route on the director);
//! `arp_ignore()` (net/ipv4/arp.c) answers ARP for any local address unless
//! `arp_ignore` ≥ 1; `inet_select_addr()` picks the ARP sender address unless
//! `arp_announce` = 2; `fib_add_ifaddr()` (fib_frontend.c) turns the prefix
//! of an address on `lo` into a `local` route, so a /24 on `lo` swallows the
//! whole subnet; `fib_validate_source()` drops what fails the strict reverse
//! path check; `ip_vs_schedule()` finds no destination when a service has
//! none or all have weight 0.
//!
//! We model the doctor as pure checks over an engine [`Host`] (built from the
//! simulator or from a real host's snapshot, see `crate::ops::snapshot`) and the
//! IPVS table as `ipvsadm` lists it. Each [`Finding`] carries the check's id,
//! what is wrong, the kernel's reason and the commands that fix it, in
//! English and Chinese. The checks read the *effective* sysctl values, as
//! the kernel does (`IN_DEV_MAXCONF`: the larger of `all` and the device).

mod director;
mod realserver;

use director::{director, fwmark_rules};
use realserver::{realserver_arp, realserver_rp_filter, realserver_vip};

use crate::net::core::dev::DeviceKind;
use crate::net::host::Host;
use crate::net::ipv4::devinet::IfAddr;
use crate::net::netfilter::ipvs::{ServiceEntry, ServiceKey};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};

/// What the host is in the lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Director,
    Realserver,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Director => "director",
            Role::Realserver => "realserver",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "director" | "dir" | "lb" => Some(Role::Director),
            "realserver" | "real-server" | "rs" => Some(Role::Realserver),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Traffic is lost or misrouted.
    Error,
    /// Works now, breaks under a condition the text names.
    Warning,
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable id for scripts, e.g. `rs-vip-mask`.
    pub check: String,
    pub severity: Severity,
    /// What it is about: an address, a device, a service.
    pub subject: String,
    pub en: String,
    pub zh: String,
    /// The kernel's reason.
    pub why_en: String,
    pub why_zh: String,
    /// Shell commands that fix it, in order.
    pub fix: Vec<String>,
}

/// One check that was run and found nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passed {
    pub check: String,
    pub en: String,
    pub zh: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Options {
    pub role: Option<Role>,
    pub vip: Option<Ipv4Addr>,
    /// The host's iptables rules could not be read
    /// ([`crate::ops::snapshot::NOTE_NO_IPTABLES`]): skip the fwmark checks.
    #[serde(default)]
    pub iptables_unknown: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub host: String,
    /// The role examined; `None` when none was given and none could be told.
    pub role: Option<Role>,
    /// Whether the role was given or inferred.
    pub role_inferred: bool,
    pub vips: Vec<Ipv4Addr>,
    pub findings: Vec<Finding>,
    pub passed: Vec<Passed>,
}

impl Report {
    pub fn problems(&self) -> usize {
        self.findings.len()
    }
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }
}

struct Ctx<'a> {
    host: &'a Host,
    findings: Vec<Finding>,
    passed: Vec<Passed>,
}

impl<'a> Ctx<'a> {
    fn pass(&mut self, check: &str, en: String, zh: String) {
        self.passed.push(Passed {
            check: check.into(),
            en,
            zh,
        });
    }
    /// Up devices that talk ARP on the wire (not lo, not NOARP).
    fn arp_devices(&self) -> Vec<&'a str> {
        self.host
            .devices
            .values()
            .filter(|d| d.kind == DeviceKind::Ether && d.up)
            .map(|d| d.name.as_str())
            .collect()
    }
}

fn lo_addrs(host: &Host) -> Vec<&IfAddr> {
    host.devices
        .values()
        .filter(|d| d.is_loopback())
        .flat_map(|d| host.addrs.get(&d.ifindex).into_iter().flatten())
        .filter(|a| !a.local().is_loopback())
        .collect()
}

fn service_v4(k: &ServiceKey) -> Option<(Ipv4Addr, String)> {
    match k {
        ServiceKey::Addr {
            addr: IpAddr::V4(a),
            port,
            proto,
        } => Some((*a, format!("{} {a}:{port}", proto.name()))),
        _ => None,
    }
}

fn service_name(k: &ServiceKey) -> String {
    match k {
        ServiceKey::Addr { proto, addr, port } => match addr {
            IpAddr::V4(a) => format!("{} {a}:{port}", proto.name()),
            IpAddr::V6(a) => format!("{} [{a}]:{port}", proto.name()),
        },
        ServiceKey::Fwmark { mark, .. } => format!("FWM {mark}"),
    }
}

fn service_opt(k: &ServiceKey) -> String {
    match k {
        ServiceKey::Addr { proto, addr, port } => {
            let flag = match proto.name() {
                "UDP" => "-u",
                "SCTP" => "--sctp-service",
                _ => "-t",
            };
            match addr {
                IpAddr::V4(a) => format!("{flag} {a}:{port}"),
                IpAddr::V6(a) => format!("{flag} [{a}]:{port}"),
            }
        }
        ServiceKey::Fwmark { mark, .. } => format!("-f {mark}"),
    }
}

/// Examine `host` (with `services` as `ipvsadm -Ln` lists them).
pub fn examine(host: &Host, services: &[ServiceEntry], opts: &Options) -> Report {
    // The kernel lists services in hash-bucket order (keyed per boot) and
    // real servers newest first: report in a stable order instead.
    let mut sorted = services.to_vec();
    sorted.sort_by_key(|s| s.spec.key);
    for s in &mut sorted {
        s.dests.sort_by_key(|d| (d.spec.addr, d.spec.port));
    }
    let services = &sorted[..];
    let (role, inferred) = match opts.role {
        Some(r) => (Some(r), false),
        None if !services.is_empty() => (Some(Role::Director), true),
        None if opts.vip.is_some() || !lo_addrs(host).is_empty() => (Some(Role::Realserver), true),
        None => (None, true),
    };
    let mut cx = Ctx {
        host,
        findings: Vec::new(),
        passed: Vec::new(),
    };
    let vips = match role {
        Some(Role::Director) => {
            let mut v: Vec<Ipv4Addr> = services
                .iter()
                .filter_map(|s| service_v4(&s.spec.key).map(|x| x.0))
                .collect();
            if let Some(x) = opts.vip {
                v.push(x);
            }
            v.sort();
            v.dedup();
            v
        }
        Some(Role::Realserver) => match opts.vip {
            Some(v) => vec![v],
            None => {
                let mut v: Vec<Ipv4Addr> = lo_addrs(host).iter().map(|a| a.local()).collect();
                v.dedup();
                v
            }
        },
        None => Vec::new(),
    };
    match role {
        Some(Role::Director) => {
            director(&mut cx, services, opts.vip);
            if !opts.iptables_unknown {
                fwmark_rules(&mut cx, services, opts.vip.or(vips.first().copied()));
            }
        }
        Some(Role::Realserver) => {
            for &vip in &vips {
                realserver_vip(&mut cx, vip);
            }
            realserver_arp(&mut cx);
            realserver_rp_filter(&mut cx);
        }
        None => {}
    }
    Report {
        host: host.name.clone(),
        role,
        role_inferred: inferred,
        vips,
        findings: cx.findings,
        passed: cx.passed,
    }
}

impl std::fmt::Display for Report {
    /// The text `lvslab doctor` prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let role = match self.role {
            Some(r) => format!(
                "{}{}",
                r.name(),
                if self.role_inferred {
                    " (inferred)"
                } else {
                    ""
                }
            ),
            None => "unknown".into(),
        };
        write!(f, "{}: role {role}", self.host)?;
        if !self.vips.is_empty() {
            let v: Vec<String> = self.vips.iter().map(|v| v.to_string()).collect();
            write!(f, ", VIP {}", v.join(", "))?;
        }
        writeln!(f)?;
        if self.role.is_none() {
            writeln!(
                f,
                "  no IPVS services and no VIP on lo: nothing to check; pass --role and --vip"
            )?;
        }
        for p in &self.passed {
            writeln!(f, "  ok    {}", p.en)?;
        }
        for x in &self.findings {
            let tag = match x.severity {
                Severity::Error => "ERROR",
                Severity::Warning => "WARN ",
            };
            writeln!(f, "  {tag} [{}] {}", x.check, x.en)?;
            writeln!(f, "        why: {}", x.why_en)?;
            for c in &x.fix {
                writeln!(f, "        fix: {c}")?;
            }
        }
        match self.findings.len() {
            0 => writeln!(f, "no problems found"),
            1 => writeln!(f, "1 problem found"),
            n => writeln!(f, "{n} problems found"),
        }
    }
}

/// Examine a simulated host, with its own IPVS table.
pub fn examine_host(host: &Host, opts: &Options) -> Report {
    use crate::net::netfilter::ipvs::{IpvsBackend, SimBackend};
    let mut ipvs = host.ipvs.clone();
    let services = if ipvs.loaded {
        SimBackend {
            ipvs: &mut ipvs,
            now: crate::SimTime(0),
        }
        .services()
        .unwrap_or_default()
    } else {
        Vec::new()
    };
    examine(host, &services, opts)
}

#[cfg(test)]
mod tests;
