//! `ip neigh` (iproute2 6.1 ip/ipneigh.c): `show`, `add|change|replace
//! ADDR lladdr MAC nud STATE dev D`, `del`, `flush`; entries printed as
//! `print_neigh()` prints them, states by their NUD names.

use super::*;
use crate::net::core::neighbour::Nud;
use crate::shell::{Io, Lab};
use crate::wire::mac::Mac;

pub(crate) fn neigh(lab: &mut Lab, host: &str, args: &[String], io: &mut Io) {
    let cmd = args.first().map(String::as_str).unwrap_or("show");
    let rest = if args.is_empty() { args } else { &args[1..] };
    let now = lab.world.now;
    let h = lab.world.host_mut(host).expect("host checked by the shell");
    let mut dev = None;
    let mut addr = None;
    let mut lladdr = None;
    let mut nud = None;
    let mut it = rest.iter();
    while let Some(w) = it.next() {
        match w.as_str() {
            "dev" => dev = it.next(),
            "lladdr" => lladdr = it.next(),
            "nud" => nud = it.next(),
            "to" | "proxy" => {}
            a => addr = Some(a),
        }
    }
    let dev_idx = match dev {
        Some(n) => match dev_index(h, n) {
            Ok(i) => Some(i),
            Err(_) => return no_device(io, n),
        },
        None => None,
    };
    let addr_ip = match addr {
        Some(a) => match parse_addr(a) {
            Some(ip) => Some(ip),
            None => return invalid_addr(io, a, false),
        },
        None => None,
    };
    if m(cmd, "show") || m(cmd, "list") || cmd == "lst" {
        for ((idx, ip), n) in &h.neigh.entries {
            if dev_idx.is_some_and(|d| d != *idx) || addr_ip.is_some_and(|a| a != *ip) {
                continue;
            }
            if matches!(n.state, Nud::None | Nud::Noarp) && nud.is_none() {
                continue;
            }
            if nud.is_some_and(|s| !s.eq_ignore_ascii_case(n.state.name()) && s != "all") {
                continue;
            }
            let mut s = format!("{ip} ");
            if dev_idx.is_none() {
                s.push_str(&format!("dev {} ", h.dev_name(*idx)));
            }
            if let Some(mac) = n
                .mac
                .filter(|_| n.state != Nud::Incomplete && n.state != Nud::Failed)
            {
                s.push_str(&format!("lladdr {mac} "));
            }
            s.push_str(n.state.name());
            s.push(' ');
            io.outln(s);
        }
    } else if m(cmd, "flush") {
        if dev_idx.is_none() && addr_ip.is_none() {
            io.errln("Flush requires arguments.");
            io.status = 1;
            return;
        }
        h.neigh.entries.retain(|(i, ip), n| {
            let selected = dev_idx.is_none_or(|d| d == *i) && addr_ip.is_none_or(|a| a == *ip);
            !selected || matches!(n.state, Nud::Permanent | Nud::Noarp)
        });
    } else if m(cmd, "add") || m(cmd, "replace") || m(cmd, "change") {
        let (Some(ip), Some(d)) = (addr_ip, dev_idx) else {
            io.errln("Device and destination are required arguments.");
            io.status = 255;
            return;
        };
        let mac = match lladdr.map(|l| l.parse::<Mac>()) {
            Some(Ok(mac)) => Some(mac),
            Some(Err(_)) => {
                io.errln(format!(
                    "\"{}\" is invalid lladdr.",
                    lladdr.map(String::as_str).unwrap_or("")
                ));
                io.status = 255;
                return;
            }
            None => None,
        };
        let state = match nud.map(|s| s.to_ascii_lowercase()) {
            None => Nud::Permanent,
            Some(s) if s == "permanent" => Nud::Permanent,
            Some(s) if s == "reachable" => Nud::Reachable,
            Some(s) if s == "stale" => Nud::Stale,
            Some(s) if s == "noarp" => Nud::Noarp,
            Some(s) => {
                io.errln(format!("nud state \"{s}\" is invalid"));
                io.status = 255;
                return;
            }
        };
        let exists = h
            .neigh
            .entries
            .get(&(d, ip))
            .is_some_and(|n| n.state != Nud::None);
        if m(cmd, "add") && exists {
            io.errln("RTNETLINK answers: File exists");
            io.status = 2;
            return;
        }
        if m(cmd, "change") && !exists {
            io.errln("RTNETLINK answers: No such file or directory");
            io.status = 2;
            return;
        }
        h.neigh.set_admin(now, d, ip, mac, state);
    } else if m(cmd, "delete") {
        let (Some(ip), Some(d)) = (addr_ip, dev_idx) else {
            io.errln("Device and destination are required arguments.");
            io.status = 255;
            return;
        };
        if h.neigh.entries.remove(&(d, ip)).is_none() {
            io.errln("RTNETLINK answers: No such file or directory");
            io.status = 2;
        }
    } else {
        io.errln(format!(
            "Command \"{cmd}\" is unknown, try \"ip neigh help\"."
        ));
        io.status = 255;
    }
}
