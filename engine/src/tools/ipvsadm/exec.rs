//! Running one ipvsadm invocation against an [`IpvsBackend`]: `ipvs_init()`
//! (GET_INFO), the command, its listing or its change, and the exit status
//! and messages ipvsadm gives for each kernel error.

use super::*;
use crate::net::netfilter::ipvs::{Change, IpvsBackend, IpvsError};
use std::fmt::Write as _;

/// `ipvsadm -h`, verbatim (Debian 12's ipvsadm 1.31).
pub const HELP: &str = include_str!("help.txt");

pub const VERSION: &str = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n";

/// Result of running ipvsadm: (stdout, stderr, exit status).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

/// Execute one ipvsadm invocation against a backend. `stdin` feeds `-R`.
pub fn run(backend: &mut dyn IpvsBackend, args: &[String], stdin: &str) -> Run {
    let mut r = Run::default();
    // ipvs_init(): resolve the family, GET_INFO.
    if let Err(e) = backend.info() {
        r.stderr = format!("Can't initialize ipvs: {e}\nAre you sure that IP Virtual Server is built in the kernel or as module?\n");
        r.status = 2;
        return r;
    }
    exec(backend, args, stdin, &mut r);
    r
}

pub(crate) fn exec(backend: &mut dyn IpvsBackend, args: &[String], stdin: &str, r: &mut Run) {
    let cmd = match parse(args) {
        Ok(c) => c,
        Err(e) => {
            r.stderr.push_str(&e.message);
            r.stderr.push('\n');
            r.status = e.code;
            return;
        }
    };
    let res: Result<(), IpvsError> = match cmd {
        Command::Change(c) => c.run_on(backend),
        Command::Daemon => Err(IpvsError::Other("No such device".into())),
        Command::Help => {
            r.stdout.push_str(HELP);
            return;
        }
        Command::Version => {
            r.stdout.push_str(VERSION);
            return;
        }
        Command::Save { numeric } => {
            return match backend.services() {
                Ok(mut s) => {
                    sort_services(&mut s);
                    r.stdout.push_str(&format_save(&s, numeric));
                }
                Err(e) => {
                    r.stderr.push_str(&format!("{e}\n"));
                    r.status = 1;
                }
            };
        }
        Command::Restore => {
            // config_stream: each line is an argument list ("ipvsadm" words
            // dropped); a fail() aborts, kernel errors print and go on; the
            // status is the last line's.
            // Consecutive table changes go to the backend in one batch
            // (`run_changes`); their outcome is printed in line order, as
            // if run one by one.
            let mut pending: Vec<Change> = Vec::new();
            let flush = |backend: &mut dyn IpvsBackend, pending: &mut Vec<Change>, r: &mut Run| {
                for res in backend.run_changes(pending) {
                    r.status = 0;
                    if let Err(e) = res {
                        r.stderr.push_str(&format!("{e}\n"));
                        r.status = 255;
                    }
                }
                pending.clear();
            };
            for line in stdin.lines() {
                let words: Vec<String> = line
                    .split([' ', '\t', '\r'])
                    .filter(|w| !w.is_empty() && *w != "ipvsadm")
                    .map(String::from)
                    .collect();
                if words.is_empty() {
                    continue;
                }
                if words[0] == "-R" || words[0] == "--restore" {
                    flush(backend, &mut pending, r);
                    r.stderr.push_str(TRYHELP);
                    r.stderr.push('\n');
                    r.status = 255;
                    return;
                }
                match parse(&words) {
                    Ok(Command::Change(c)) => {
                        pending.push(c);
                        continue;
                    }
                    _ => flush(backend, &mut pending, r),
                }
                let mut sub = Run::default();
                exec(backend, &words, "", &mut sub);
                r.stdout.push_str(&sub.stdout);
                r.stderr.push_str(&sub.stderr);
                r.status = sub.status;
                if sub.status == 2 || (sub.status == 255 && sub.stderr.starts_with("Try ")) {
                    return;
                }
            }
            flush(backend, &mut pending, r);
            return;
        }
        Command::List(o) => {
            match list(backend, &o) {
                Ok(s) => r.stdout.push_str(&s),
                Err((partial, e)) => {
                    r.stdout.push_str(&partial);
                    r.stderr.push_str(&format!("{e}\n"));
                    r.status = 1;
                }
            }
            return;
        }
    };
    if let Err(e) = res {
        r.stderr.push_str(&format!("{e}\n"));
        r.status = 255;
    }
}

pub(crate) fn list(
    backend: &mut dyn IpvsBackend,
    o: &ListOpts,
) -> Result<String, (String, IpvsError)> {
    let mut out = String::new();
    if o.connections {
        return backend
            .connections()
            .map(|c| format_conns(&c, o.numeric))
            .map_err(|e| (out, e));
    }
    // Only the plain listing can do with the short form of the table.
    let plain = !(o.stats || o.rate || o.thresholds || o.persistent_conn);
    let fetch = |b: &mut dyn IpvsBackend| {
        if plain {
            b.services_for_listing()
        } else {
            b.services()
        }
    };
    if let Some(k) = &o.service {
        let services = fetch(backend).map_err(|e| (String::new(), e))?;
        let Some(mut s) = services.into_iter().find(|s| s.spec.key == *k) else {
            return Err((String::new(), IpvsError::NoService));
        };
        if !o.nosort {
            sort_services(std::slice::from_mut(&mut s));
        }
        title(&mut out, o);
        service_line(&mut out, &s, o);
        return Ok(out);
    }
    if o.timeout {
        let t = backend.timeouts().map_err(|e| (String::new(), e))?;
        return Ok(format!(
            "Timeout (tcp tcpfin udp): {} {} {}\n",
            t.tcp, t.tcp_fin, t.udp
        ));
    }
    if o.daemon {
        return Ok(String::new());
    }
    let info = backend.info().map_err(|e| (String::new(), e))?;
    let _ = writeln!(
        out,
        "IP Virtual Server version {}.{}.{} (size={})",
        info.version.0, info.version.1, info.version.2, info.conn_tab_size
    );
    title(&mut out, o);
    let mut services = fetch(backend).map_err(|e| (out.clone(), e))?;
    if !o.nosort {
        sort_services(&mut services);
    }
    for s in &services {
        service_line(&mut out, s, o);
    }
    Ok(out)
}
