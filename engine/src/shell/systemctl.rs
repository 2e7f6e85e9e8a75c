//! `systemctl` (systemd 252) for the one service the lab's hosts have,
//! `httpd.service`, and the CentOS `service httpd …` form that redirects to
//! it: both drive the same model.
//!
//! Real systemd keeps, per unit, its state and the times it entered and
//! left it (`ActiveEnterTimestamp`, `InactiveEnterTimestamp`, …), whether
//! it is enabled (a symlink in multi-user.target.wants), and the journal
//! of what it did. The lab keeps the same for httpd per host. The unit is
//! active exactly while the host's httpd socket listens on port 80 (the
//! socket table is the truth: start opens it, stop closes it and the
//! connections httpd holds). `systemctl status` prints systemd 252's
//! layout (`print_status_info`): the glyph (● active, ○ inactive), the
//! Loaded/Active/Docs/Main PID/CGroup lines with the lab's wall clock
//! (`crate::time::WallClock`, UTC) and systemd's relative times ("5s ago",
//! "1min 3s ago"), a Duration line once the unit has stopped, then the last
//! ten journal lines. Exit statuses are systemctl's: status 3 when
//! inactive, 4 for an unknown unit; is-active 3 when inactive; start/stop
//! of an unknown unit 5; a bad verb 1.
//!
//! Left out (no resource accounting or process tree in the lab): the
//! Tasks/Memory/CPU lines, httpd's sd_notify `Status:` line, `Process:`
//! lines of ExecStop, Apache's worker processes (the lab's httpd is one
//! process), and every other unit.

use super::{Io, Lab};
use crate::net::ipv4::tcp::{Owner, Service, TcpState};
use crate::time::{SimTime, WallClock};
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, SocketAddrV4};

const UNIT: &str = "httpd.service";
const DESCRIPTION: &str = "The Apache HTTP Server";
const FRAGMENT: &str = "/usr/lib/systemd/system/httpd.service";
const WANTS_LINK: &str = "/etc/systemd/system/multi-user.target.wants/httpd.service";
/// How many journal lines `systemctl status` shows (`-n 10`).
const JOURNAL_LINES: usize = 10;

/// What systemd remembers about httpd.service on one host.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitState {
    pub enabled: bool,
    pub active_enter: Option<SimTime>,
    pub active_exit: Option<SimTime>,
    /// (time, message) as systemd[1] logged them.
    pub journal: Vec<(SimTime, String)>,
}

/// A verb systemctl knows (the lab's subset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Start,
    Stop,
    Restart,
    Status,
    IsActive,
    IsEnabled,
    Enable,
    Disable,
}

impl Verb {
    fn parse(s: &str) -> Option<Verb> {
        Some(match s {
            "start" => Verb::Start,
            "stop" => Verb::Stop,
            "restart" | "try-restart" | "reload-or-restart" => Verb::Restart,
            "status" => Verb::Status,
            "is-active" => Verb::IsActive,
            "is-enabled" => Verb::IsEnabled,
            "enable" => Verb::Enable,
            "disable" => Verb::Disable,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Verb::Start => "start",
            Verb::Stop => "stop",
            Verb::Restart => "restart",
            Verb::Status => "status",
            Verb::IsActive => "is-active",
            Verb::IsEnabled => "is-enabled",
            Verb::Enable => "enable",
            Verb::Disable => "disable",
        }
    }
}

/// systemctl's name mangling: a bare name is a service.
fn unit_name(arg: &str) -> String {
    if arg.contains('.') {
        arg.to_string()
    } else {
        format!("{arg}.service")
    }
}

/// Verbs systemctl has that the lab does not model.
const OTHER_VERBS: &[&str] = &[
    "list-units",
    "list-unit-files",
    "reload",
    "kill",
    "mask",
    "unmask",
    "daemon-reload",
    "show",
    "cat",
    "is-failed",
    "reenable",
];

pub fn systemctl(lab: &mut Lab, host: &str, args: &[String], io: &mut Io) {
    let words: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let Some(verb_word) = words.first() else {
        io.errln("lvslab: systemctl without a verb (list-units) is not modelled; try systemctl status httpd");
        io.status = 1;
        return;
    };
    let Some(verb) = Verb::parse(verb_word) else {
        if OTHER_VERBS.contains(&verb_word.as_str()) {
            io.errln(format!(
                "lvslab: systemctl {verb_word} is not modelled; try systemctl status httpd"
            ));
        } else {
            io.errln(format!("Unknown command verb {verb_word}."));
        }
        io.status = 1;
        return;
    };
    let units: Vec<String> = words[1..].iter().map(|u| unit_name(u)).collect();
    if units.is_empty() {
        if verb == Verb::Status {
            io.errln("lvslab: systemctl status without a unit (the whole system) is not modelled; try systemctl status httpd");
        } else {
            io.errln("Too few arguments.");
        }
        io.status = 1;
        return;
    }
    let mut status = 0;
    for (i, unit) in units.iter().enumerate() {
        let known = unit == UNIT;
        let s = match verb {
            Verb::Status if !known => {
                io.errln(format!("Unit {unit} could not be found."));
                4
            }
            Verb::Status => {
                if i > 0 {
                    io.outln("");
                }
                print_status(lab, host, io)
            }
            Verb::IsActive => {
                let active = known && running(lab, host).is_some();
                io.outln(if active { "active" } else { "inactive" });
                if active {
                    0
                } else {
                    3
                }
            }
            Verb::IsEnabled if !known => {
                io.errln(format!(
                    "Failed to get unit file state for {unit}: No such file or directory"
                ));
                1
            }
            Verb::IsEnabled => {
                let on = state(lab, host).enabled;
                io.outln(if on { "enabled" } else { "disabled" });
                i32::from(!on)
            }
            Verb::Enable | Verb::Disable if !known => {
                io.errln(format!(
                    "Failed to {} unit, unit {unit} does not exist.",
                    verb.name()
                ));
                1
            }
            Verb::Enable => {
                let st = state_mut(lab, host);
                if !st.enabled {
                    st.enabled = true;
                    io.errln(format!("Created symlink {WANTS_LINK} → {FRAGMENT}."));
                }
                0
            }
            Verb::Disable => {
                let st = state_mut(lab, host);
                if st.enabled {
                    st.enabled = false;
                    io.errln(format!("Removed \"{WANTS_LINK}\"."));
                }
                0
            }
            Verb::Start | Verb::Stop | Verb::Restart if !known => {
                let why = if verb == Verb::Stop {
                    "not loaded"
                } else {
                    "not found"
                };
                io.errln(format!(
                    "Failed to {} {unit}: Unit {unit} {why}.",
                    verb.name()
                ));
                5
            }
            Verb::Start => {
                start_httpd(lab, host);
                0
            }
            Verb::Stop => {
                stop_httpd(lab, host);
                0
            }
            Verb::Restart => {
                stop_httpd(lab, host);
                start_httpd(lab, host);
                0
            }
        };
        if s != 0 && status == 0 {
            status = s;
        }
    }
    io.status = status;
}

fn state(lab: &Lab, host: &str) -> UnitState {
    lab.units.get(host).cloned().unwrap_or_default()
}

fn state_mut<'a>(lab: &'a mut Lab, host: &str) -> &'a mut UnitState {
    lab.units.entry(host.to_string()).or_default()
}

fn log(lab: &mut Lab, host: &str, msg: String) {
    let now = lab.world.now;
    state_mut(lab, host).journal.push((now, msg));
}

/// The running httpd's process: the owner of the host's listener on :80.
fn running(lab: &Lab, host: &str) -> Option<Owner> {
    let h = lab.world.host(host)?;
    h.tcp
        .socks()
        .values()
        .find(|s| {
            s.state == TcpState::Listen
                && s.local.port() == 80
                && s.owner.as_ref().is_some_and(|o| o.program == "httpd")
        })
        .and_then(|s| s.owner.clone())
        .or_else(|| {
            // A listener on :80 without an httpd owner still serves.
            h.tcp.listening_on(80).then(|| Owner {
                pid: 0,
                program: "httpd".into(),
            })
        })
}

/// `systemctl start httpd`: httpd opens 0.0.0.0:80 (a new pid).
pub(super) fn start_httpd(lab: &mut Lab, host: &str) {
    if running(lab, host).is_some() {
        return;
    }
    log(lab, host, format!("Starting {UNIT} - {DESCRIPTION}..."));
    let pid = lab
        .world
        .host_mut(host)
        .map(|h| h.tcp.alloc_pid())
        .unwrap_or(1);
    let owner = Owner {
        pid,
        program: "httpd".into(),
    };
    lab.world.tcp_listen(
        host,
        SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80),
        owner,
        Service::Http {
            docroot: "/var/www/html".into(),
        },
    );
    let now = lab.world.now;
    let st = state_mut(lab, host);
    st.active_enter = Some(now);
    log(lab, host, format!("Started {UNIT} - {DESCRIPTION}."));
}

/// `systemctl stop httpd`: httpd closes its listener and the connections
/// it holds (sockets already in TIME_WAIT or orphaned stay with the kernel).
pub(super) fn stop_httpd(lab: &mut Lab, host: &str) {
    if running(lab, host).is_none() {
        return;
    }
    log(lab, host, format!("Stopping {UNIT} - {DESCRIPTION}..."));
    let Some(h) = lab.world.host(host) else {
        return;
    };
    let ids: Vec<u32> = h
        .tcp
        .socks()
        .values()
        .filter(|s| {
            s.owner.as_ref().is_some_and(|o| o.program == "httpd")
                || (s.parent.is_some() && !s.orphan && s.state != TcpState::TimeWait)
        })
        .map(|s| s.id)
        .collect();
    for id in ids {
        lab.world.tcp_close(host, id);
    }
    let now = lab.world.now;
    state_mut(lab, host).active_exit = Some(now);
    log(lab, host, format!("{UNIT}: Deactivated successfully."));
    log(lab, host, format!("Stopped {UNIT} - {DESCRIPTION}."));
}

/// `%a %Y-%m-%d %H:%M:%S %Z` (systemd's default timestamp style).
fn timestamp(t: SimTime) -> String {
    let w = WallClock::at(t);
    format!(
        "{} {}-{:02}-{:02} {} UTC",
        w.weekday_name(),
        w.year,
        w.month,
        w.day,
        w.hms()
    )
}

/// systemd's `format_timestamp_relative()` for a time in the past.
fn ago(then: SimTime, now: SimTime) -> String {
    const SEC: u64 = 1_000_000;
    const MIN: u64 = 60 * SEC;
    const HOUR: u64 = 60 * MIN;
    const DAY: u64 = 24 * HOUR;
    let d = now.0.saturating_sub(then.0);
    match d {
        0 => "now".into(),
        d if d >= 2 * DAY => format!("{} days ago", d / DAY),
        d if d >= 25 * HOUR => format!("1 day {}h ago", (d - DAY) / HOUR),
        d if d >= 6 * HOUR => format!("{}h ago", d / HOUR),
        d if d >= HOUR => format!("{}h {}min ago", d / HOUR, d % HOUR / MIN),
        d if d >= 5 * MIN => format!("{}min ago", d / MIN),
        d if d >= MIN => format!("{}min {}s ago", d / MIN, d % MIN / SEC),
        d if d >= SEC => format!("{}s ago", d / SEC),
        d if d >= 1_000 => format!("{}ms ago", d / 1_000),
        d => format!("{d}us ago"),
    }
}

/// systemd's `format_timespan()` to the millisecond, for `Duration:`.
fn timespan(us: u64) -> String {
    let ms = us / 1_000;
    let mut parts: Vec<String> = Vec::new();
    let mut rest = ms;
    for (unit, len) in [("d", 86_400_000u64), ("h", 3_600_000), ("min", 60_000)] {
        if rest >= len {
            parts.push(format!("{}{unit}", rest / len));
            rest %= len;
        }
    }
    if rest >= 1_000 {
        let (s, frac) = (rest / 1_000, rest % 1_000);
        if frac == 0 {
            parts.push(format!("{s}s"));
        } else {
            let f = format!("{frac:03}");
            parts.push(format!("{s}.{}s", f.trim_end_matches('0')));
        }
    } else if rest > 0 {
        parts.push(format!("{rest}ms"));
    }
    if parts.is_empty() {
        return "0".into();
    }
    parts.join(" ")
}

/// `systemctl status httpd`; returns the exit status (0 active, 3 not).
fn print_status(lab: &Lab, host: &str, io: &mut Io) -> i32 {
    let now = lab.world.now;
    let st = state(lab, host);
    let proc_ = running(lab, host);
    let glyph = if proc_.is_some() { "●" } else { "○" };
    io.outln(format!("{glyph} {UNIT} - {DESCRIPTION}"));
    let enabled = if st.enabled { "enabled" } else { "disabled" };
    io.outln(format!(
        "     Loaded: loaded ({FRAGMENT}; {enabled}; preset: disabled)"
    ));
    match (&proc_, st.active_enter, st.active_exit) {
        (Some(_), since, _) => {
            let since = since.unwrap_or(SimTime(0));
            io.outln(format!(
                "     Active: active (running) since {}; {}",
                timestamp(since),
                ago(since, now)
            ));
        }
        (None, Some(enter), Some(exit)) => {
            io.outln(format!(
                "     Active: inactive (dead) since {}; {}",
                timestamp(exit),
                ago(exit, now)
            ));
            if exit >= enter {
                io.outln(format!("   Duration: {}", timespan(exit.0 - enter.0)));
            }
        }
        (None, _, _) => io.outln("     Active: inactive (dead)"),
    }
    io.outln("       Docs: man:httpd(8)");
    io.outln("             man:apachectl(8)");
    if let Some(p) = &proc_ {
        io.outln(format!("   Main PID: {} (httpd)", p.pid));
        io.outln(format!("     CGroup: /system.slice/{UNIT}"));
        io.outln(format!(
            "             └─{} /usr/sbin/httpd -DFOREGROUND",
            p.pid
        ));
    }
    let tail = st.journal.len().saturating_sub(JOURNAL_LINES);
    if tail < st.journal.len() {
        io.outln("");
        for (t, msg) in &st.journal[tail..] {
            let w = WallClock::at(*t);
            io.outln(format!(
                "{} {:02} {} {host} systemd[1]: {msg}",
                w.month_name(),
                w.day,
                w.hms()
            ));
        }
    }
    if proc_.is_some() {
        0
    } else {
        3
    }
}

#[cfg(test)]
mod tests;
