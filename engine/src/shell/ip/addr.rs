//! `ip addr` (iproute2 6.1 ip/ipaddress.c): `show [dev D] [label L]`,
//! `add|del|change|replace PREFIX [broadcast +] [label L] [scope S] dev D`,
//! `flush`; the kernel's answers (`EEXIST`, `EADDRNOTAVAIL`) as iproute2
//! prints them.

use super::*;
use crate::net::host::Host;
use crate::net::ipv4::devinet::{IfAddr, Scope};
use crate::shell::{Io, Lab};

fn inet_line(a: &IfAddr) -> String {
    let mut s = format!("    inet {}/{}", a.local(), a.prefix_len());
    if let Some(b) = a.broadcast {
        s.push_str(&format!(" brd {b}"));
    }
    s.push_str(&format!(" scope {}", a.scope.name()));
    if a.secondary {
        s.push_str(" secondary");
    }
    s.push_str(&format!(" {}", a.label));
    s
}

fn show_addrs(h: &Host, dev: Option<u32>, label: Option<&str>, opts: Opts, io: &mut Io) {
    for d in h.devices.values() {
        if dev.is_some_and(|x| x != d.ifindex) {
            continue;
        }
        let list: Vec<&IfAddr> = h.addrs[&d.ifindex]
            .iter()
            .filter(|a| label.is_none_or(|l| a.label == l))
            .collect();
        if opts.oneline {
            // ipaddr_list_flush_or_save(): no link records; each address
            // opens with its device (print_addrinfo()).
            for a in list {
                io.outln(format!(
                    "{}: {}{}\\       valid_lft forever preferred_lft forever",
                    d.ifindex,
                    d.name,
                    inet_line(a)
                ));
            }
            continue;
        }
        if (opts.inet_only || label.is_some()) && list.is_empty() {
            continue;
        }
        io.outln(link_header(d, false));
        if !opts.inet_only {
            io.outln(link_line(d));
        }
        for a in list {
            io.outln(inet_line(a));
            io.outln("       valid_lft forever preferred_lft forever");
        }
    }
}

pub(crate) fn addr(lab: &mut Lab, host: &str, args: &[String], opts: Opts, io: &mut Io) {
    let cmd = args.first().map(String::as_str).unwrap_or("show");
    let rest = if args.is_empty() { args } else { &args[1..] };
    let h = lab.world.host_mut(host).expect("host checked by the shell");
    if m(cmd, "show") || m(cmd, "list") || cmd == "lst" {
        addr_show(h, rest, opts, io);
    } else if m(cmd, "add") || m(cmd, "delete") || m(cmd, "replace") {
        addr_change(h, cmd, rest, io);
    } else if m(cmd, "flush") {
        let Some(name) = rest
            .iter()
            .position(|a| a == "dev")
            .and_then(|i| rest.get(i + 1))
            .or(rest.first())
        else {
            io.errln("Flush requires arguments.");
            io.status = 1;
            return;
        };
        let Ok(idx) = dev_index(h, name) else {
            io.errln(format!("Device \"{name}\" does not exist."));
            io.status = 1;
            return;
        };
        while !h.addrs[&idx].is_empty() {
            h.del_addr(idx, h.addrs[&idx].len() - 1);
        }
    } else {
        io.errln(format!(
            "Command \"{cmd}\" is unknown, try \"ip address help\"."
        ));
        io.status = 255;
    }
}

/// `ip addr show [dev D] [label L]`.
pub(crate) fn addr_show(h: &Host, rest: &[String], opts: Opts, io: &mut Io) {
    let mut dev = None;
    let mut label = None;
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "dev" => dev = it.next(),
            "label" => label = it.next(),
            "up" | "scope" | "to" => {}
            s if dev.is_none() => dev = Some(a).filter(|_| !s.is_empty()),
            _ => {}
        }
    }
    let dev_idx = match dev {
        Some(name) => match dev_index(h, name) {
            Ok(i) => Some(i),
            Err(_) => {
                io.errln(format!("Device \"{name}\" does not exist."));
                io.status = 1;
                return;
            }
        },
        None => None,
    };
    show_addrs(h, dev_idx, label.map(String::as_str), opts, io);
}

fn addr_change(h: &mut Host, cmd: &str, rest: &[String], io: &mut Io) {
    let deleting = m(cmd, "delete");
    let mut local: Option<&String> = None;
    let mut dev: Option<&String> = None;
    let mut label: Option<&String> = None;
    let mut brd: Option<&String> = None;
    let mut scope: Option<Scope> = None;
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "dev" => dev = it.next(),
            "label" => label = it.next(),
            "broadcast" | "brd" => brd = it.next(),
            "scope" => {
                let v = it.next().map(String::as_str).unwrap_or("");
                match Scope::parse(v) {
                    Some(s) => scope = Some(s),
                    None => {
                        io.errln(format!(
                            "Error: argument \"{v}\" is wrong: invalid scope value."
                        ));
                        io.status = 1;
                        return;
                    }
                }
            }
            "local" => local = it.next(),
            "valid_lft" | "preferred_lft" | "metric" | "peer" => {
                it.next();
            }
            "noprefixroute" | "home" | "nodad" => {}
            _ => {
                if local.is_some() {
                    io.errln(format!(
                        "Error: either \"local\" is duplicate, or \"{a}\" is a garbage."
                    ));
                    io.status = 1;
                    return;
                }
                local = Some(a);
            }
        }
    }
    let Some(dev) = dev else {
        io.errln("Not enough information: \"dev\" argument is required.");
        io.status = 1;
        return;
    };
    let Some(local) = local else {
        if deleting {
            io.errln("RTNETLINK answers: Operation not supported");
            io.status = 2;
        } else {
            io.errln("Not enough information: \"local\" argument is required.");
            io.status = 1;
        }
        return;
    };
    let Some((net, explicit_len)) = parse_prefix(local, 32) else {
        return invalid_prefix(io, local);
    };
    if let Some(l) = label {
        if !l.starts_with(dev.as_str()) {
            io.errln(format!("\"dev\" ({dev}) must match \"label\" ({l})."));
            io.status = 1;
            return;
        }
    }
    // ipaddr_modify() warns before it looks the device up.
    if deleting && !explicit_len {
        io.errln("Warning: Executing wildcard deletion to stay compatible with old scripts.");
        io.errln(format!(
            "         Explicitly specify the prefix length ({local}/32) to avoid this warning."
        ));
        io.errln("         This special behaviour is likely to disappear in further releases,");
        io.errln("         fix your scripts!");
    }
    let Ok(idx) = dev_index(h, dev) else {
        return no_device(io, dev);
    };
    if deleting {
        let pos = h.addrs[&idx].iter().position(|a| {
            a.local() == net.addr()
                && label.is_none_or(|l| &a.label == l)
                && (!explicit_len || (a.prefix_len() == net.prefix_len() && a.matches(net.addr())))
        });
        match pos {
            Some(p) => {
                h.del_addr(idx, p);
            }
            None => {
                io.errln("Error: ipv4: Address not found.");
                io.status = 2;
            }
        }
        return;
    }
    let broadcast = match brd.map(String::as_str) {
        None => None,
        Some("+") => (net.prefix_len() < 31).then(|| net.broadcast()),
        Some("-") => (net.prefix_len() < 31).then(|| net.network()),
        Some(b) => match parse_addr(b) {
            Some(a) => Some(a),
            None => return invalid_prefix(io, b),
        },
    };
    let scope = scope.unwrap_or(if net.addr().is_loopback() {
        Scope::Host
    } else {
        Scope::Global
    });
    let ifa = IfAddr {
        ifindex: idx,
        net,
        broadcast,
        label: label.cloned().unwrap_or_else(|| dev.clone()),
        scope,
        secondary: false,
    };
    if m(cmd, "replace") {
        if let Some(p) = h.addrs[&idx]
            .iter()
            .position(|a| a.local() == net.addr() && a.prefix_len() == net.prefix_len())
        {
            h.del_addr(idx, p);
        }
    }
    match h.add_addr(idx, ifa) {
        Ok(()) => {}
        Err(crate::net::host::HostError::Addr(crate::net::ipv4::devinet::AddrError::Exists)) => {
            io.errln("Error: ipv4: Address already assigned.");
            io.status = 2;
        }
        Err(e) => {
            io.errln(format!("RTNETLINK answers: {e}"));
            io.status = 2;
        }
    }
}
