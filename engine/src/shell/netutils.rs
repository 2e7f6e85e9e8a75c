//! `ping` and `arping` (iputils 20221126), `arp` (net-tools 2.10), `sleep`.
//!
//! Lab-shell departure, on purpose: with neither `-c` nor `-w`, `ping` and
//! `arping` would run until Ctrl-C; here they stop after 4 probes as if
//! interrupted then (the statistics are printed the same way).

use super::{Io, Lab};
use crate::apps::{AppKind, ArpingApp, PingApp};
use crate::net::core::neighbour::Nud;
use crate::net::ipv4::route::OutError;
use crate::shell::session::Render;
use crate::tools::libc::{getopt, Getopt};
use crate::wire::mac::Mac;
use crate::wire::ArpOp;
use std::net::Ipv4Addr;

const IPUTILS_VERSION: &str = "20221126";

/// iputils ping's short options (`ping.c`, `main()`): letters, `:` after
/// those that take a value.
const PING_OPTSTRING: &str = "aABbCc:dDe:fF:hi:I:l:Lm:M:nN:Op:qQ:Rs:S:t:T:UvVw:W:46";

/// What ping prints after an option error (`usage()`, on stderr), from
/// Debian 12's iputils 20221126.
const PING_USAGE: &str = include_str!("ping-usage.txt");

/// iputils' `ping_strtod()`: the number at the start of `v` (strtod()), with
/// its two warnings when something follows it (or nothing was a number,
/// which reads as 0); an empty value, or one that is not finite, is the
/// error `MSG: V` (exit 2).
fn ping_strtod(v: &str, msg: &str, io: &mut Io) -> Option<f64> {
    if v.is_empty() {
        io.errln(format!("ping: {msg}: "));
        io.status = 2;
        return None;
    }
    let (num, used) = strtod(v);
    let overflow = num.is_infinite() && !v[..used].to_ascii_lowercase().contains("inf");
    if used < v.len() || used == 0 || overflow {
        io.errln(format!(
            "ping: option argument contains garbage: {}",
            &v[used..]
        ));
        io.errln("ping: this will become fatal error in the future");
    }
    if !(num.is_normal() || num == 0.0) {
        io.errln(format!("ping: {msg}: {v}: Numerical result out of range"));
        io.status = 2;
        return None;
    }
    Some(num)
}

/// C's `strtod()` on decimal text: the value of the longest prefix that is
/// a number (blanks, sign, digits, a point, an exponent; `inf`, `infinity`,
/// `nan`), and how many bytes it took (0 and 0.0 when none is).
/// Hexadecimal floats are not read.
fn strtod(s: &str) -> (f64, usize) {
    let b = s.as_bytes();
    let mut i = 0;
    while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
        i += 1;
    }
    let start = i;
    if matches!(b.get(i), Some(b'+' | b'-')) {
        i += 1;
    }
    let rest = s[i..].to_ascii_lowercase();
    for word in ["infinity", "inf", "nan"] {
        if rest.starts_with(word) {
            let end = i + word.len();
            let neg = b.get(start) == Some(&b'-');
            let v = if word == "nan" {
                f64::NAN
            } else {
                f64::INFINITY
            };
            return (if neg { -v } else { v }, end);
        }
    }
    let digits = |i: &mut usize| {
        let from = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - from
    };
    let mut n = digits(&mut i);
    if b.get(i) == Some(&b'.') {
        let mut j = i + 1;
        let f = digits(&mut j);
        if n + f > 0 {
            n += f;
            i = j;
        }
    }
    if n == 0 {
        return (0.0, 0);
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if digits(&mut j) > 0 {
            i = j;
        }
    }
    (s[start..i].parse().unwrap_or(0.0), i)
}
const IPUTILS_FEATURES: &str =
    "libcap: yes, IDN: yes, NLS: no, error.h: yes, getrandom(): yes, __fpending(): yes";

pub fn sleep(lab: &mut Lab, args: &[String], io: &mut Io) {
    let Some(s) = args.first() else {
        io.errln("sleep: missing operand");
        io.errln("Try 'sleep --help' for more information.");
        io.status = 1;
        return;
    };
    let secs: f64 = match s.trim_end_matches('s').parse() {
        Ok(v) if (0.0..1e6).contains(&v) => v,
        _ => {
            io.errln(format!("sleep: invalid time interval '{s}'"));
            io.errln("Try 'sleep --help' for more information.");
            io.status = 1;
            return;
        }
    };
    lab.world.advance((secs * 1e6) as u64);
}

/// Options common to ping and arping parsing: value of `-X` or `-XVALUE`.
fn take_value<'a>(args: &'a [String], i: &mut usize, flag: &str) -> Option<&'a str> {
    let a = args[*i].as_str();
    if a.len() > flag.len() {
        return Some(&a[flag.len()..]);
    }
    *i += 1;
    args.get(*i).map(String::as_str)
}

pub fn ping(lab: &mut Lab, host: &str, args: &[String], io: &mut Io) {
    let mut count: Option<u32> = None;
    let mut linger = 10.0f64;
    let mut deadline: Option<f64> = None;
    let mut iface: Option<&str> = None;
    let mut quiet = false;
    let mut ttl: Option<u8> = None;
    let mut interval_ms: i64 = 1000;
    let Getopt { opts, operands } = match getopt(args, PING_OPTSTRING) {
        Ok(v) => v,
        Err(e) => {
            io.errln(format!("ping: {e}"));
            io.err(PING_USAGE);
            io.status = 2;
            return;
        }
    };
    for (c, v) in opts {
        let v = v.unwrap_or("");
        match c {
            'V' => {
                io.outln(format!("ping from iputils {IPUTILS_VERSION}"));
                io.outln(IPUTILS_FEATURES);
                return;
            }
            'h' => {
                io.err(PING_USAGE);
                io.status = 2;
                return;
            }
            'c' => match v.parse::<u32>() {
                Ok(n) if n > 0 => count = Some(n),
                _ => {
                    io.errln(format!("ping: invalid argument: '{v}': out of range: 1 <= value <= 9223372036854775807"));
                    io.status = 2;
                    return;
                }
            },
            'i' => {
                let Some(t) = ping_strtod(v, "bad timing interval", io) else {
                    return;
                };
                // iputils: at most INT_MAX / 1000 s, kept in whole ms.
                if t > f64::from(i32::MAX / 1000) {
                    io.errln(format!("ping: bad timing interval: {v}"));
                    io.status = 2;
                    return;
                }
                interval_ms = (t * 1000.0) as i64;
                if interval_ms < 1 {
                    io.errln(format!(
                        "lvslab: ping -i {v} is {interval_ms} ms: flooding (below 1 ms) is not modelled in this lab"
                    ));
                    io.status = 2;
                    return;
                }
            }
            'W' => {
                let Some(t) = ping_strtod(v, "bad linger time", io) else {
                    return;
                };
                // iputils: 0.001 ≤ -W ≤ INT_MAX / 1000 seconds.
                if (0.001..=f64::from(i32::MAX / 1000)).contains(&t) {
                    linger = t;
                } else {
                    io.errln(format!("ping: bad linger time: {v}"));
                    io.status = 2;
                    return;
                }
            }
            'w' => match v.parse::<f64>() {
                Ok(t) if (0.0..=f64::from(i32::MAX)).contains(&t) => deadline = Some(t),
                Ok(t) if t > 0.0 => {
                    io.errln(format!(
                        "ping: invalid argument: '{v}': out of range: 0 <= value <= 2147483647"
                    ));
                    io.status = 2;
                    return;
                }
                _ => {
                    io.errln(format!("ping: invalid argument: '{v}'"));
                    io.status = 2;
                    return;
                }
            },
            't' => match v.parse::<i64>() {
                Ok(0) => {
                    io.errln("ping: cannot set unicast time-to-live: Invalid argument");
                    io.status = 2;
                    return;
                }
                Ok(n) if (1..=255).contains(&n) => ttl = Some(n as u8),
                _ => {
                    io.errln(format!(
                        "ping: invalid argument: '{v}': out of range: 0 <= value <= 255"
                    ));
                    io.status = 2;
                    return;
                }
            },
            'I' => iface = Some(v),
            'q' => quiet = true,
            'n' | '4' => {}
            other => {
                io.errln(format!("lvslab: ping -{other} is not modelled in this lab"));
                io.status = 2;
                return;
            }
        }
    }
    // Every operand is resolved in turn: those before the destination are
    // the hops of an IPv4 source route.
    let mut hosts = Vec::with_capacity(operands.len());
    for name in &operands {
        match name.parse::<Ipv4Addr>() {
            Ok(a) => hosts.push(a),
            Err(_) => {
                io.errln(format!("ping: {name}: Name or service not known"));
                io.status = 2;
                return;
            }
        }
    }
    let dst = match hosts.as_slice() {
        [] => {
            io.errln("ping: usage error: Destination address required");
            io.status = 1;
            return;
        }
        [dst] => *dst,
        _ => {
            io.errln(
                "lvslab: ping through a source route (several hosts) is not modelled in this lab",
            );
            io.status = 2;
            return;
        }
    };
    let h = lab.world.host(host).expect("host checked by the shell");
    let (oif, bind_src) = match iface {
        None => (None, None),
        // iputils takes an -I with a colon for an IPv6 source (a scope
        // after '%'), so an alias name is not a device to it.
        Some(s) if s.contains(':') => {
            io.errln(format!("ping: invalid source address: {s}"));
            io.status = 2;
            return;
        }
        Some(s) => match s.parse::<Ipv4Addr>() {
            Ok(a) => {
                if h.addr_type(a) != crate::net::ipv4::fib::RouteType::Local {
                    io.errln("ping: bind: Cannot assign requested address");
                    io.status = 2;
                    return;
                }
                (None, Some(a))
            }
            Err(_) => match h.ifindex(s) {
                Ok(i) => (Some(i), None),
                Err(_) => {
                    io.errln(format!("ping: SO_BINDTODEVICE {s}: No such device"));
                    io.status = 2;
                    return;
                }
            },
        },
    };
    // iputils connects a probe UDP socket to learn the source address.
    let src = match h.route_output(dst, oif, bind_src) {
        Ok(rt) => rt.src,
        Err(OutError::BadSource) => {
            io.errln("ping: bind: Cannot assign requested address");
            io.status = 2;
            return;
        }
        Err(OutError::Fib(e)) => {
            io.errln(format!("ping: connect: {e}"));
            io.status = 2;
            return;
        }
    };
    if let Some(o) = oif {
        // ping4_run() looks the source up in getifaddrs(), whose IPv4
        // names are the addresses' labels: an address labelled eth0:3 is
        // not on "eth0" for it.
        let name = iface.unwrap_or("");
        let on_dev = h
            .addrs
            .get(&o)
            .is_some_and(|l| l.iter().any(|a| a.local() == src && a.label == name));
        if !on_dev {
            io.errln(format!(
                "ping: Warning: source address might be selected on device other than: {}",
                iface.unwrap_or("")
            ));
        }
    }
    match (oif, bind_src) {
        (Some(_), _) => io.outln(format!(
            "PING {dst} ({dst}) from {src} {}: 56(84) bytes of data.",
            iface.unwrap_or("")
        )),
        (None, Some(_)) => io.outln(format!(
            "PING {dst} ({dst}) from {src} : 56(84) bytes of data."
        )),
        (None, None) => io.outln(format!("PING {dst} ({dst}) 56(84) bytes of data.")),
    }
    // Without -c or -w ping runs until Ctrl+C: at a terminal that is what
    // happens; a script stops it after 4 probes, as if interrupted then.
    let count = count.unwrap_or(if deadline.is_some() || lab.interactive {
        u32::MAX
    } else {
        4
    });
    let now = lab.world.now;
    let ident = 0x4c00 | (lab.world.next_app as u16 & 0xff);
    let id = lab.world.spawn(AppKind::Ping(PingApp {
        host: host.to_string(),
        dst,
        src,
        oif,
        count,
        interval_us: interval_ms as u64 * 1000,
        linger_s: linger,
        deadline_s: deadline,
        ident,
        ttl,
        start: now,
        sent: 0,
        received: 0,
        errors: 0,
        pipesize: 0,
        rtts: vec![],
        send_times: vec![],
        exit_at: None,
    }));
    let render = Render::Ping { quiet };
    if lab.wait_fg(host, id, render) {
        lab.render_fg(id, render, None, io);
    }
}

pub fn arping(lab: &mut Lab, host: &str, args: &[String], io: &mut Io) {
    let mut count: Option<u32> = None;
    let mut deadline: Option<u32> = None;
    let mut iface: Option<&str> = None;
    let mut source: Option<&str> = None;
    let mut dad = false;
    let mut unsolicited: Option<ArpOp> = None;
    let mut quiet = false;
    let mut target: Option<&str> = None;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        macro_rules! val {
            ($flag:expr) => {
                match take_value(args, &mut i, $flag) {
                    Some(v) => v,
                    None => {
                        io.errln(format!(
                            "arping: option requires an argument -- '{}'",
                            &$flag[1..]
                        ));
                        io.status = 2;
                        return;
                    }
                }
            };
        }
        match a {
            "-V" => {
                io.outln(format!("arping from iputils {IPUTILS_VERSION}"));
                io.outln(IPUTILS_FEATURES);
                return;
            }
            "-D" => dad = true,
            "-U" => unsolicited = Some(ArpOp::Request),
            "-A" => unsolicited = Some(ArpOp::Reply),
            "-q" => quiet = true,
            "-b" | "-f" => {}
            _ if a.starts_with("-c") => match val!("-c").parse::<u32>() {
                Ok(n) => count = Some(n),
                Err(_) => {
                    io.errln("arping: invalid argument");
                    io.status = 2;
                    return;
                }
            },
            _ if a.starts_with("-w") => match val!("-w").parse::<u32>() {
                Ok(n) => deadline = Some(n),
                Err(_) => {
                    io.errln("arping: invalid argument");
                    io.status = 2;
                    return;
                }
            },
            _ if a.starts_with("-I") => iface = Some(val!("-I")),
            _ if a.starts_with("-s") => source = Some(val!("-s")),
            _ if a.starts_with('-') && a.len() > 1 => {
                io.errln(format!(
                    "arping: invalid option -- '{}'",
                    a.chars().nth(1).unwrap_or('-')
                ));
                io.status = 2;
                return;
            }
            _ => target = Some(a),
        }
        i += 1;
    }
    let Some(target_s) = target else {
        io.errln("arping: usage error: Destination address required");
        io.status = 2;
        return;
    };
    let Ok(target) = target_s.parse::<Ipv4Addr>() else {
        io.errln(format!("arping: {target_s}: Name or service not known"));
        io.status = 2;
        return;
    };
    let h = lab.world.host(host).expect("host checked by the shell");
    let ifindex = match iface {
        Some(n) => match h.ifindex(n) {
            Ok(i) => i,
            Err(_) => {
                io.errln(format!("arping: Device {n} not available."));
                io.status = 2;
                return;
            }
        },
        None => match h.route_output(target, None, None) {
            Ok(rt) if rt.ifindex != 1 => rt.ifindex,
            _ => {
                io.errln("arping: Suitable device could not be determined. Please, use option -I.");
                io.status = 2;
                return;
            }
        },
    };
    let dev = h.device(ifindex).expect("ifindex from lookup");
    if dev.noarp() {
        io.errln(format!("arping: Interface \"{}\" is not ARPable", dev.name));
        io.status = 2;
        return;
    }
    if !dev.up {
        io.errln(format!("Interface \"{}\" is down", dev.name));
        io.status = 2;
        return;
    }
    let src = if dad {
        Ipv4Addr::UNSPECIFIED
    } else if let Some(s) = source {
        match s.parse::<Ipv4Addr>() {
            Ok(a) if h.addr_type(a) == crate::net::ipv4::fib::RouteType::Local => a,
            Ok(_) => {
                io.errln("arping: bind: Cannot assign requested address");
                io.status = 2;
                return;
            }
            Err(_) => {
                io.errln(format!("arping: invalid source {s}"));
                io.status = 2;
                return;
            }
        }
    } else if unsolicited.is_some() {
        // -U/-A announce the target as the source; arping binds its probe
        // socket to it, which only a local address allows (inet_bind()).
        if h.addr_type(target) != crate::net::ipv4::fib::RouteType::Local {
            io.errln("arping: bind: Cannot assign requested address");
            io.status = 2;
            return;
        }
        target
    } else {
        match h.route_output(target, Some(ifindex), None) {
            Ok(rt) => rt.src,
            Err(e) => {
                io.errln(format!("arping: connect: {e}"));
                io.status = 2;
                return;
            }
        }
    };
    let dev_name = dev.name.clone();
    let dev_mac = dev.mac;
    io.outln(format!("ARPING {target} from {src} {dev_name}"));
    if src.is_unspecified() && !dad {
        // The device has no address to send from (the probe socket's
        // getsockname() gave 0.0.0.0).
        io.errln("arping: no source address in not-DAD mode");
        io.status = 2;
        return;
    }
    let count = if count.is_none() && deadline.is_none() && !lab.interactive {
        Some(4)
    } else {
        count
    };
    let now = lab.world.now;
    let id = lab.world.spawn(AppKind::Arping(ArpingApp {
        host: host.to_string(),
        ifindex,
        dev_mac,
        target,
        src,
        count,
        deadline_s: deadline,
        dad,
        unsolicited,
        sent: 0,
        broadcasts: 0,
        received: 0,
        ticks: 0,
        unicast_to: None::<Mac>,
        last_send: now,
        start: now,
    }));
    let render = Render::Arping { quiet };
    if lab.wait_fg(host, id, render) {
        lab.render_fg(id, render, None, io);
    }
}

/// `arp` (net-tools): `-n`/`-a` listing from the neighbour table.
pub fn arp(lab: &mut Lab, host: &str, args: &[String], io: &mut Io) {
    let h = lab.world.host(host).expect("host checked by the shell");
    // net-tools arp reads its options with getopt ("A:H:adfp:nsei:t:vh?DNV"),
    // so `-an` is `-a -n`; -a prints the BSD-style lines.
    let bsd = crate::tools::libc::getopt(args, "A:H:adfp:nsei:t:vh?DNV")
        .is_ok_and(|g| g.opts.iter().any(|(c, _)| *c == 'a'));
    let mut header = false;
    for ((idx, ip), n) in &h.neigh.entries {
        if matches!(n.state, Nud::None | Nud::Noarp) {
            continue;
        }
        let dev = h.dev_name(*idx);
        let complete = n.state.valid();
        let perm = n.state == Nud::Permanent;
        if bsd {
            match n.mac.filter(|_| complete) {
                Some(m) => io.outln(format!(
                    "? ({ip}) at {m} [ether] {}on {dev}",
                    if perm { "PERM " } else { "" }
                )),
                None => io.outln(format!("? ({ip}) at <incomplete> on {dev}")),
            }
            continue;
        }
        if !header {
            io.outln(
                "Address                  HWtype  HWaddress           Flags Mask            Iface",
            );
            header = true;
        }
        let flags = match (complete, perm) {
            (true, true) => "CM",
            (true, false) => "C",
            _ => "",
        };
        let (hwtype, hwaddr) = match n.mac.filter(|_| complete) {
            Some(m) => ("ether".to_string(), m.to_string()),
            None => (String::new(), "(incomplete)".to_string()),
        };
        io.outln(format!(
            "{:<23.23}  {:<8.8}{:<20.20}{:<6.6}{:<15.15} {}",
            ip.to_string(),
            hwtype,
            hwaddr,
            flags,
            "",
            dev
        ));
    }
}
