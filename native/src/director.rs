//! `lvslab doctor`, `lvslab apply`, `lvslab snapshot`: the director tools.
//!
//! Thin edges over the engine: the checks live in `lvslab_engine::doctor`,
//! the reconciliation in `lvslab_engine::apply`, the host model in
//! `lvslab_engine::snapshot`. Here we only read this host (`hostsnap`),
//! drive the kernel (`netlink`), parse TOML and print.

use anyhow::{bail, Context, Result};
use lvslab_engine::apply::{self, Desired};
use lvslab_engine::doctor::{self, Options, Role};
use lvslab_engine::ipvs::IpvsBackend;
use lvslab_engine::scenario;
use lvslab_engine::snapshot::{self, HostSnapshot};
use std::net::Ipv4Addr;

/// Where a snapshot comes from.
pub enum Source {
    /// This host, read now.
    Host,
    /// A saved `lvslab snapshot` file (`-` reads stdin).
    File(String),
    /// A simulated host of a scenario (`SCENARIO:HOST`): for trying the
    /// tools without a lab, and for tests.
    Sim { scenario: String, host: String },
}

impl Source {
    pub fn parse(snapshot: Option<String>) -> Result<Source> {
        let Some(s) = snapshot else {
            return Ok(Source::Host);
        };
        if let Some(rest) = s.strip_prefix("sim:") {
            let Some((sc, h)) = rest.split_once(':') else {
                bail!("--snapshot sim:SCENARIO:HOST, e.g. sim:pitfall-lo-mask-24:node02");
            };
            return Ok(Source::Sim {
                scenario: sc.into(),
                host: h.into(),
            });
        }
        Ok(Source::File(s))
    }

    pub fn read(&self) -> Result<HostSnapshot> {
        match self {
            Source::Host => read_host(),
            Source::File(f) => {
                let text = if f == "-" {
                    let mut s = String::new();
                    std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                        .context("reading the snapshot from stdin")?;
                    s
                } else {
                    std::fs::read_to_string(f).with_context(|| format!("reading {f}"))?
                };
                serde_json::from_str(&text).with_context(|| format!("{f}: not an lvslab snapshot"))
            }
            Source::Sim { scenario, host } => {
                let w = scenario::load(scenario)?;
                let h = w.host(host).with_context(|| {
                    format!(
                        "scenario {scenario} has no host {host} (hosts: {})",
                        w.hosts.keys().cloned().collect::<Vec<_>>().join(", ")
                    )
                })?;
                Ok(HostSnapshot::of_host(h))
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn read_host() -> Result<HostSnapshot> {
    crate::hostsnap::read()
}

#[cfg(not(target_os = "linux"))]
fn read_host() -> Result<HostSnapshot> {
    bail!("reading the host's network state needs Linux (rtnetlink); use --snapshot FILE")
}

/// The names a snapshot brings from a file or a host (hostname, links,
/// labels, iptables rules, scheduler names, notes) with their control
/// characters escaped, so printing them cannot drive the terminal or
/// forge a line of the report. Device names stay consistent (the sysctl
/// table is keyed by them, escaped the same way).
pub fn printable(snap: &mut HostSnapshot) {
    use crate::text::escape_control as esc;
    snap.hostname = esc(&snap.hostname);
    for l in &mut snap.links {
        l.name = esc(&l.name);
        l.kind = esc(&l.kind);
    }
    for a in &mut snap.addrs {
        a.label = esc(&a.label);
    }
    if snap.sysctl.keys().any(|k| k.chars().any(char::is_control)) {
        snap.sysctl = std::mem::take(&mut snap.sysctl)
            .into_iter()
            .map(|(k, v)| (esc(&k), v))
            .collect();
    }
    for s in &mut snap.ipvs {
        s.spec.scheduler = esc(&s.spec.scheduler);
        for f in &mut s.spec.sched_flags {
            *f = esc(f);
        }
    }
    for r in snap.mangle.iter_mut().flatten() {
        *r = esc(r);
    }
    for n in &mut snap.notes {
        *n = esc(n);
    }
}

/// `lvslab doctor`: 0 healthy, 1 problems found, 2 could not examine.
pub fn doctor(src: &Source, role: Option<&str>, vip: Option<Ipv4Addr>, json: bool) -> Result<i32> {
    let role = match role {
        None => None,
        Some(r) => Some(
            Role::parse(r)
                .with_context(|| format!("--role {r}: expected director or realserver"))?,
        ),
    };
    let mut snap = src.read()?;
    if !matches!(src, Source::Sim { .. }) {
        printable(&mut snap);
    }
    let (host, notes) = snap.to_host();
    let iptables_unknown = notes.iter().any(|n| n == snapshot::NOTE_NO_IPTABLES);
    let report = doctor::examine(
        &host,
        &snap.ipvs,
        &Options {
            role,
            vip,
            iptables_unknown,
        },
    );
    if json {
        let v = serde_json::json!({
            "report": report,
            "notes": notes,
            "problems": report.problems(),
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{report}");
        for n in &notes {
            println!("  note: {n}");
        }
    }
    Ok(if report.problems() == 0 { 0 } else { 1 })
}

/// Parse an apply file (TOML).
pub fn read_desired(path: &str) -> Result<Desired> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
    // toml's message quotes the offending line: a file of one 20 MB line
    // would be echoed whole.
    let d: Desired = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{path}: {}", crate::text::shorten(&e.to_string(), 200)))?;
    d.targets()
        .with_context(|| format!("{path}: invalid configuration"))?;
    Ok(d)
}

/// `lvslab apply FILE`: 0 applied or nothing to do, 1 failed (rolled back).
#[cfg(target_os = "linux")]
pub fn apply(path: &str, dry_run: bool, prune: bool) -> Result<i32> {
    use crate::netlink::{init_error_text, NetlinkBackend};
    let desired = read_desired(path)?;
    let mut b = NetlinkBackend::new().map_err(|e| anyhow::anyhow!(init_error_text(&e)))?;
    // Held from reading the table to the last change (see applylock).
    // A dry run changes nothing: it needs no lock.
    let _lock = if dry_run {
        None
    } else {
        use crate::applylock::{ApplyLock, LockError};
        match ApplyLock::take() {
            Ok(l) => Some(l),
            Err(e @ LockError::Busy(_)) => bail!("{e}"),
            Err(e) => bail!("{e}; nothing was done"),
        }
    };
    let current = b
        .services()
        .map_err(|e| anyhow::anyhow!("listing the IPVS table: {e}"))?;
    let plan = apply::plan(&desired, &current, prune)?;
    print!("{plan}");
    if plan.is_empty() {
        println!("no changes: the kernel already matches {path}");
        return Ok(0);
    }
    if dry_run {
        println!("dry run: {} change(s) not applied", plan.ops.len());
        return Ok(0);
    }
    match apply::execute(&plan, &mut b) {
        Ok(done) => {
            println!("applied {} change(s)", done.done.len());
            Ok(0)
        }
        Err(f) => {
            eprint!("lvslab apply: {f}");
            for h in b.take_hints() {
                eprintln!("lvslab: {h}");
            }
            Ok(1)
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub fn apply(_path: &str, _dry_run: bool, _prune: bool) -> Result<i32> {
    bail!("`lvslab apply` drives the Linux kernel's IPVS: it only runs on Linux")
}

/// `lvslab snapshot`: the host's state as JSON.
pub fn snapshot(src: &Source) -> Result<i32> {
    let snap = src.read()?;
    println!("{}", serde_json::to_string_pretty(&snap)?);
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_a_snapshot_file_cannot_drive_the_terminal() {
        let mut snap = Source::Sim {
            scenario: "seed".into(),
            host: "node02".into(),
        }
        .read()
        .unwrap();
        snap.hostname = "node02\x1b[2J\nlvslab: all good".into();
        let lo = snap.links.iter().position(|l| l.name == "lo").unwrap();
        snap.links[lo].name = "lo\x1b]0;owned\x07".into();
        let conf = snap.sysctl.get("lo").cloned().unwrap_or_default();
        snap.sysctl.insert("lo\x1b]0;owned\x07".into(), conf);
        printable(&mut snap);
        let (host, _) = snap.to_host();
        let report = doctor::examine(&host, &snap.ipvs, &Options::default());
        let text = report.to_string();
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text}");
        assert!(
            text.contains("node02\\u{1b}[2J\\u{a}lvslab: all good"),
            "{text}"
        );
        assert!(!text.lines().any(|l| l.starts_with("lvslab: all good")));
        // The device keeps its sysctls under its escaped name.
        assert!(snap.sysctl.get("lo\\u{1b}]0;owned\\u{7}").is_some());
    }

    #[test]
    fn a_toml_error_does_not_echo_a_huge_line() {
        let p = std::env::temp_dir().join(format!("lvslab-toml-{}.toml", std::process::id()));
        std::fs::write(
            &p,
            format!("[[service]]\ntcp = \"{}", "9".repeat(5_000_000)),
        )
        .unwrap();
        let e = read_desired(p.to_str().unwrap()).unwrap_err().to_string();
        assert!(e.len() < 2_000, "{} bytes", e.len());
        assert!(e.contains("more bytes"), "{e}");
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn the_doctor_is_linear_in_routes() {
        // 200,000 routes in no particular order. Each insert used to walk
        // every route for a duplicate (the issue measured 11 s; a debug
        // build here did not finish in 120 s); now it searches only the
        // routes with its key, in a table loaded in order (under 1 s).
        let mut snap = Source::Sim {
            scenario: "seed".into(),
            host: "node01".into(),
        }
        .read()
        .unwrap();
        let template = snap.routes[0].clone();
        let n: u32 = 200_000;
        let before = snap.routes.len();
        for i in 0..n {
            let j = (u64::from(i) * 7919 % u64::from(n)) as u32; // a permutation
            let mut r = template.clone();
            r.dst = Ipv4Addr::from(0x0b00_0000 + j * 4);
            r.dst_len = 30;
            snap.routes.push(r);
        }
        // And 2,000 services: each VIP and real server is looked up in the
        // routes (that was services × routes: 48 s for 10,000 services on
        // 200,000 routes in a release build; now 1 s).
        let service = snap.ipvs[0].clone();
        for i in 0..2000u32 {
            let mut s = service.clone();
            if let lvslab_engine::ipvs::ServiceKey::Addr { addr, .. } = &mut s.spec.key {
                *addr = std::net::IpAddr::V4(Ipv4Addr::from(0x0a00_0001 + i));
            }
            snap.ipvs.push(s);
        }
        let started = std::time::Instant::now();
        let (host, _) = snap.to_host();
        let report = doctor::examine(&host, &snap.ipvs, &Options::default());
        let took = started.elapsed();
        assert!(host.fib.routes().len() >= before + n as usize - 1);
        assert!(!report.to_string().is_empty());
        assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    }
}
