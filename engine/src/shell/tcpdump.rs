//! `tcpdump` at the lab terminal and `kill %N` for the background job it
//! usually is. A foreground capture runs the lab until `-c` frames were
//! captured; one without `-c` would run until Ctrl+C, so the lab stops it
//! once nothing more happens (or after ten simulated minutes) and says so.
//! `tcpdump … -w FILE &` captures in the background while the student
//! works in other terminals; `kill %1` (or `-c`) ends it and writes the
//! file, which `tcpdump -r FILE` prints. `-i lo` captures loopback
//! packets (Ethernet framing with zero addresses, as `lo` has), `-i any`
//! every device's frames as LINUX_SLL2 records (see
//! `crate::apps::tcpdump`). See `crate::tools::tcpdump`.

use super::{fs, Io, Lab};
use crate::apps::tcpdump::TcpdumpApp;
use crate::apps::AppKind;
use crate::net::core::dev::DeviceKind;
use crate::shell::session::Render;
use crate::tools::tcpdump::{Args, Printer};

/// How long a foreground capture without `-c` may wait in simulated time.
const FOREGROUND_LIMIT_US: u64 = 600_000_000;
const LINK: &str = "link-type EN10MB (Ethernet), snapshot length 262144";
const COOKED: &str = "link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144";

pub fn tcpdump(lab: &mut Lab, host: &str, args: &[String], background: bool, io: &mut Io) {
    let a = match Args::parse(args) {
        Ok(a) => a,
        Err(e) => {
            io.chunks.push((true, format!("{}\n", e.0.trim_end())));
            io.status = 1;
            return;
        }
    };
    if let Some(path) = &a.read {
        read(lab, host, &a, path, io);
        return;
    }
    let Some(h) = lab.world.host(host) else {
        return;
    };
    let (ifindex, name) = if a.interface.as_deref() == Some("any") {
        (0, "any".to_string())
    } else {
        let dev = match &a.interface {
            Some(name) => match h.device_by_name(name) {
                Some(d) => d,
                None => {
                    io.errln(format!("tcpdump: {name}: No such device exists"));
                    io.errln("(No such device exists)");
                    io.status = 1;
                    return;
                }
            },
            None => match h
                .devices
                .values()
                .find(|d| d.up && d.kind == DeviceKind::Ether)
            {
                Some(d) => d,
                None => {
                    io.errln("tcpdump: no suitable device found");
                    io.status = 1;
                    return;
                }
            },
        };
        if !dev.up {
            io.errln(format!("tcpdump: {}: That device is not up", dev.name));
            io.status = 1;
            return;
        }
        if !matches!(dev.kind, DeviceKind::Ether | DeviceKind::Loopback) {
            io.errln(format!(
                "lvslab: capturing on {} is not modelled (capture on eth0, lo or any)",
                dev.name
            ));
            io.status = 1;
            return;
        }
        (dev.ifindex, dev.name.clone())
    };
    let link = if ifindex == 0 { COOKED } else { LINK };
    if let Some(e) = &a.filter_error {
        io.errln(format!("tcpdump: {e}"));
        io.status = 1;
        return;
    }
    let write = a.write.as_ref().map(|p| fs::resolve(&lab.cwd(host), p));
    if background && write.is_none() {
        io.errln("lvslab: a background tcpdump needs -w FILE here (its lines would land between other commands' output); read it afterwards with tcpdump -r FILE");
        io.status = 1;
        return;
    }
    if ifindex == 0 {
        // libpcap 1.10 picks LINUX_SLL2 for "any"; tcpdump says so.
        io.errln("tcpdump: data link type LINUX_SLL2");
    }
    if write.is_some() || a.print.verbose {
        io.errln(format!("tcpdump: listening on {name}, {link} bytes"));
    } else {
        io.errln("tcpdump: verbose output suppressed, use -v[v]... for full protocol decode");
        io.errln(format!("listening on {name}, {link} bytes"));
    }
    let id = lab.world.spawn(AppKind::Tcpdump(Box::new(TcpdumpApp {
        host: host.to_string(),
        ifindex,
        filter: a.filter.clone(),
        count: a.count,
        write,
        frames: vec![],
        captured: 0,
        received: 0,
        printer: Printer::new(a.print),
    })));
    if background {
        lab.jobs.entry(host.to_string()).or_default().push(id);
        return;
    }
    if lab.interactive {
        // At a terminal the capture runs until -c or Ctrl+C.
        if lab.wait_fg(host, id, Render::Tcpdump) {
            finish(lab, id, false, io);
        }
        return;
    }
    let limit = lab.world.now.plus(FOREGROUND_LIMIT_US);
    let mut interrupted = false;
    loop {
        if lab.world.apps.get(&id).is_none_or(|a| a.done) {
            break;
        }
        match lab.world.next_event_time() {
            Some(t) if t <= limit => {
                lab.world.step();
            }
            _ => {
                interrupted = true;
                break;
            }
        }
    }
    finish(lab, id, interrupted, io);
    if interrupted {
        io.hint = Some((
            "Nothing more happened in the lab, so tcpdump was stopped as if by Ctrl+C. Give it -c N, or run it in the background (tcpdump -w FILE … &), make traffic from another terminal, then kill %1 and tcpdump -r FILE.".into(),
            "实验中没有更多报文，tcpdump 已像按下 Ctrl+C 一样停止。请加 -c N，或在后台运行（tcpdump -w 文件 … &），在另一个终端产生流量，然后 kill %1 再 tcpdump -r 文件。".into(),
        ));
    }
}

/// A capture ends: its lines (or its file) and the summary on stderr.
pub(crate) fn finish(lab: &mut Lab, id: u32, interrupted: bool, io: &mut Io) {
    let Some(app) = lab.world.stop_tcpdump(id) else {
        return;
    };
    for l in &app.output {
        io.outln(l);
    }
    if interrupted {
        io.out("^C\n");
    }
    if let AppKind::Tcpdump(t) = &app.kind {
        io.chunks.push((true, t.summary()));
    }
}

fn read(lab: &Lab, host: &str, a: &Args, path: &str, io: &mut Io) {
    let abs = fs::resolve(&lab.cwd(host), path);
    let Some(frames) = lab.world.host(host).and_then(|h| h.captures.get(&abs)) else {
        io.errln(format!("tcpdump: {path}: No such file or directory"));
        io.status = 1;
        return;
    };
    let cooked = frames.first().is_some_and(|c| c.cooked.is_some());
    io.errln(format!(
        "reading from file {path}, {}",
        if cooked { COOKED } else { LINK }
    ));
    if cooked {
        // tcpdump names the devices by this host's ifindexes, which need
        // not be the capturing host's.
        io.errln("Warning: interface names might be incorrect");
    }
    if let Some(e) = &a.filter_error {
        io.errln(format!("tcpdump: {e}"));
        io.status = 1;
        return;
    }
    let mut p = Printer::new(a.print);
    let mut shown = 0u32;
    for c in frames {
        if a.count.is_some_and(|n| shown >= n) {
            break;
        }
        let pass = a
            .filter
            .as_ref()
            .is_none_or(|f| crate::wire::FrameRepr::parse(&c.frame).is_ok_and(|fr| f.matches(&fr)));
        if pass {
            io.outln(match c.cooked {
                Some(k) => {
                    let name = lab
                        .world
                        .host(host)
                        .and_then(|h| h.device(k.ifindex))
                        .map(|d| d.name.clone())
                        .unwrap_or_else(|| format!("#{}", k.ifindex));
                    p.cooked_line(c.time, &c.frame, &name, k.ifindex, k.pkttype.name())
                }
                None => p.line(c.time, &c.frame),
            });
            shown += 1;
        }
    }
}

/// `kill %N` / `kill %%` / `kill %+` for the shell's background captures
/// (bash's job table: a terminal's jobs are its own).
pub fn kill(lab: &mut Lab, host: &str, args: &[String], io: &mut Io) {
    let specs: Vec<&String> = args
        .iter()
        .filter(|a| !a.starts_with('-') || *a == "-")
        .collect();
    if specs.is_empty() {
        io.errln("bash: kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]");
        io.status = 2;
        return;
    }
    for spec in specs {
        let jobs = lab.jobs.get(host).cloned().unwrap_or_default();
        let n = match spec.strip_prefix('%') {
            Some("%" | "+" | "") => jobs.len(),
            Some(num) => num.parse::<usize>().unwrap_or(0),
            None => {
                io.errln(format!("bash: kill: ({spec}) - No such process"));
                io.status = 1;
                continue;
            }
        };
        let Some(&id) = n.checked_sub(1).and_then(|i| jobs.get(i)) else {
            io.errln(format!("bash: kill: {spec}: no such job"));
            io.status = 1;
            continue;
        };
        if let Some(list) = lab.jobs.get_mut(host) {
            list.retain(|j| *j != id);
        }
        if lab.world.apps.get(&id).is_none_or(|a| a.done) {
            // It ended by itself (-c): bash has already reaped it.
            lab.world.apps.remove(&id);
            io.errln(format!("bash: kill: {spec}: no such job"));
            io.status = 1;
            continue;
        }
        finish(lab, id, false, io);
    }
}
