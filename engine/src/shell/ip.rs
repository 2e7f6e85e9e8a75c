//! `ip` from iproute2 6.1: `addr`, `link`, `route`, `neigh`, with iproute2's
//! abbreviations (`ip a`, `ip r`, `ip n`, `ip l`), options `-4`, `-s`, `-V`,
//! and its output and error texts (including the kernel's extack messages
//! that 6.1 prints as `Error: …`).

use super::{Io, Lab};
use crate::addr::{IfAddr, Scope};
use crate::device::{Device, DeviceKind};
use crate::fib::{Proto, Route, RouteSpec, RouteType, TABLE_LOCAL, TABLE_MAIN};
use crate::host::Host;
use crate::mac::Mac;
use crate::neigh::Nud;
use crate::stack::OutError;
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

/// iproute2's `matches()`: a non-empty prefix of the keyword.
fn m(arg: &str, kw: &str) -> bool {
    !arg.is_empty() && kw.starts_with(arg)
}

fn invalid_prefix(io: &mut Io, s: &str) {
    io.errln(format!(
        "Error: any valid prefix is expected rather than \"{s}\"."
    ));
    io.status = 1;
}

fn parse_prefix(s: &str, default_len: u8) -> Option<(Ipv4Net, bool)> {
    let (a, l, explicit) = match s.split_once('/') {
        Some((a, l)) => (a, l.parse::<u8>().ok()?, true),
        None => (s, default_len, false),
    };
    let ip: Ipv4Addr = a.parse().ok()?;
    Some((Ipv4Net::new(ip, l).ok()?, explicit))
}

fn parse_addr(s: &str) -> Option<Ipv4Addr> {
    s.parse().ok()
}

pub fn ip(lab: &mut Lab, host: &str, args: &[String], io: &mut Io) {
    let mut i = 0;
    let mut inet_only = false;
    while i < args.len() && args[i].starts_with('-') {
        match args[i].as_str() {
            "-4" => inet_only = true,
            "-s" | "-d" | "-o" | "-br" | "-c" | "-n" => {}
            "-V" | "-Version" => {
                io.outln("ip utility, iproute2-6.1.0, libbpf 1.1.2");
                return;
            }
            "-6" => {
                // IPv6 is not modelled: every table is empty.
                return;
            }
            other => {
                io.errln(format!("Option \"{other}\" is unknown, try \"ip -help\"."));
                io.status = 255;
                return;
            }
        }
        i += 1;
    }
    let Some(obj) = args.get(i) else {
        io.errln("Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }");
        io.status = 255;
        return;
    };
    let rest = &args[i + 1..];
    let o = obj.as_str();
    if m(o, "address") {
        addr(lab, host, rest, inet_only, io)
    } else if m(o, "route") {
        route(lab, host, rest, io)
    } else if m(o, "link") {
        link(lab, host, rest, io)
    } else if m(o, "neighbour") || m(o, "neighbor") {
        neigh(lab, host, rest, io)
    } else {
        io.errln(format!("Object \"{o}\" is unknown, try \"ip help\"."));
        io.status = 255;
    }
}

// ---------------------------------------------------------------- link ----

fn link_flags(d: &Device) -> String {
    let mut f: Vec<&str> = match d.kind {
        DeviceKind::Loopback => vec!["LOOPBACK"],
        DeviceKind::Ether => vec!["BROADCAST", "MULTICAST"],
        DeviceKind::Dummy => vec!["BROADCAST", "NOARP"],
        DeviceKind::Ipip => vec!["NOARP"],
    };
    if d.up {
        f.push("UP");
        if d.lower_up() {
            f.push("LOWER_UP");
        }
    }
    f.join(",")
}

fn oper_state(d: &Device) -> &'static str {
    match (d.kind, d.up) {
        (_, false) => "DOWN",
        (DeviceKind::Ether, true) => "UP",
        _ => "UNKNOWN",
    }
}

fn link_header(d: &Device, mode: bool) -> String {
    format!(
        "{}: {}{}: <{}> mtu {} qdisc {} state {}{} group default qlen {}",
        d.ifindex,
        d.name,
        // A tunnel without an underlying device: iproute2 prints "@NONE"
        // (IFLA_LINK is 0).
        if d.kind == DeviceKind::Ipip {
            "@NONE"
        } else {
            ""
        },
        link_flags(d),
        d.mtu,
        // A dummy device gets its noqueue qdisc when first brought up.
        if matches!(d.kind, DeviceKind::Dummy | DeviceKind::Ipip) && !d.qdisc_attached {
            "noop"
        } else {
            "noqueue"
        },
        oper_state(d),
        if mode { " mode DEFAULT" } else { "" },
        d.txqueuelen
    )
}

fn link_line(d: &Device) -> String {
    match d.kind {
        DeviceKind::Loopback => "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00".into(),
        // ARPHRD_TUNNEL: the "hardware address" is the tunnel's local and
        // remote IPv4 address, both any (0.0.0.0) for tunl0.
        DeviceKind::Ipip => "    link/ipip 0.0.0.0 brd 0.0.0.0".into(),
        _ => format!("    link/ether {} brd ff:ff:ff:ff:ff:ff", d.mac),
    }
}

/// A device name as `SIOCGIFINDEX` resolves it: the kernel cuts an alias
/// (`eth0:8` names eth0), so iproute2 accepts `dev eth0:8`.
fn dev_index(h: &Host, name: &str) -> Result<u32, crate::host::HostError> {
    h.ifindex(name).or_else(|e| {
        name.split_once(':')
            .map_or(Err(e.clone()), |(b, _)| h.ifindex(b).map_err(|_| e))
    })
}

fn no_device(io: &mut Io, name: &str) {
    io.errln(format!("Cannot find device \"{name}\""));
    io.status = 1;
}

fn link(lab: &mut Lab, host: &str, args: &[String], io: &mut Io) {
    let cmd = args.first().map(String::as_str).unwrap_or("show");
    let rest = if args.is_empty() { args } else { &args[1..] };
    let h = lab.world.host_mut(host).expect("host checked by the shell");
    if m(cmd, "show") || m(cmd, "list") || cmd == "lst" {
        let dev = rest
            .iter()
            .position(|a| a == "dev")
            .and_then(|i| rest.get(i + 1))
            .or(rest.first());
        if let Some(name) = dev {
            match h.device_by_name(name) {
                Some(d) => {
                    io.outln(link_header(d, true));
                    io.outln(link_line(d));
                }
                None => {
                    io.errln(format!("Device \"{name}\" does not exist."));
                    io.status = 1;
                }
            }
            return;
        }
        for d in h.devices.values() {
            io.outln(link_header(d, true));
            io.outln(link_line(d));
        }
    } else if cmd == "set" {
        let mut name = None;
        let mut up = None;
        let mut it = rest.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "dev" => name = it.next(),
                "up" => up = Some(true),
                "down" => up = Some(false),
                _ if name.is_none() => name = Some(a),
                other => {
                    io.errln(format!(
                        "Error: either \"dev\" is duplicate, or \"{other}\" is a garbage."
                    ));
                    io.status = 1;
                    return;
                }
            }
        }
        let Some(name) = name else {
            io.errln("Not enough information: \"dev\" argument is required.");
            io.status = 1;
            return;
        };
        let Ok(idx) = dev_index(h, name) else {
            return no_device(io, name);
        };
        if let Some(u) = up {
            h.set_link(idx, u);
        }
    } else if cmd == "add" {
        // ip link add NAME type dummy [address MAC]
        let mut name = None;
        let mut kind = None;
        let mut mac = None;
        let mut it = rest.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "name" | "dev" => name = it.next(),
                "type" => kind = it.next(),
                "address" => mac = it.next(),
                _ if name.is_none() => name = Some(a),
                _ => {}
            }
        }
        let (Some(name), Some(kind)) = (name, kind) else {
            io.errln("Not enough information: \"type\" argument is required");
            io.status = 1;
            return;
        };
        if kind != "dummy" {
            io.errln("Error: Unknown device type.");
            io.status = 2;
            return;
        }
        if name.len() > 15 {
            io.errln(format!(
                "Error: argument \"{name}\" is wrong: \"name\" not a valid ifname"
            ));
            io.status = 1;
            return;
        }
        let mac = match mac.map(|s| s.parse::<Mac>()) {
            Some(Ok(m)) => m,
            Some(Err(_)) => {
                io.errln(format!(
                    "\"{}\" is invalid lladdr.",
                    mac.map(String::as_str).unwrap_or("")
                ));
                io.status = 1;
                return;
            }
            None => {
                // The kernel draws a random locally administered address;
                // we derive one from the host and device names.
                let hsh = format!("{host}/{name}")
                    .bytes()
                    .fold(0x811c_9dc5u32, |a, b| {
                        (a ^ u32::from(b)).wrapping_mul(0x0100_0193)
                    });
                let b = hsh.to_be_bytes();
                Mac([0x2a, 0x1e, b[0], b[1], b[2], b[3]])
            }
        };
        if h.add_device(DeviceKind::Dummy, name, mac).is_err() {
            io.errln("RTNETLINK answers: File exists");
            io.status = 2;
        }
    } else if m(cmd, "delete") {
        let name = rest.iter().find(|a| *a != "dev");
        let Some(name) = name else {
            io.errln("Not enough information: \"dev\" argument is required.");
            io.status = 1;
            return;
        };
        match h.device_by_name(name).map(|d| (d.ifindex, d.kind)) {
            Some((_, DeviceKind::Loopback | DeviceKind::Ether)) => {
                io.errln("RTNETLINK answers: Operation not supported");
                io.status = 2;
            }
            Some((idx, DeviceKind::Dummy)) => h.remove_device(idx),
            // ip_tunnel_dellink(): the fallback tunnel is never unregistered;
            // the request succeeds silently and tunl0 stays.
            Some((_, DeviceKind::Ipip)) => {}
            None => no_device(io, name),
        }
    } else {
        io.errln(format!(
            "Command \"{cmd}\" is unknown, try \"ip link help\"."
        ));
        io.status = 255;
    }
}

// ---------------------------------------------------------------- addr ----

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

fn show_addrs(h: &Host, dev: Option<u32>, label: Option<&str>, inet_only: bool, io: &mut Io) {
    for d in h.devices.values() {
        if dev.is_some_and(|x| x != d.ifindex) {
            continue;
        }
        let list: Vec<&IfAddr> = h.addrs[&d.ifindex]
            .iter()
            .filter(|a| label.is_none_or(|l| a.label == l))
            .collect();
        if (inet_only || label.is_some()) && list.is_empty() {
            continue;
        }
        io.outln(link_header(d, false));
        if !inet_only {
            io.outln(link_line(d));
        }
        for a in list {
            io.outln(inet_line(a));
            io.outln("       valid_lft forever preferred_lft forever");
        }
    }
}

fn addr(lab: &mut Lab, host: &str, args: &[String], inet_only: bool, io: &mut Io) {
    let cmd = args.first().map(String::as_str).unwrap_or("show");
    let rest = if args.is_empty() { args } else { &args[1..] };
    let h = lab.world.host_mut(host).expect("host checked by the shell");
    if m(cmd, "show") || m(cmd, "list") || cmd == "lst" {
        addr_show(h, rest, inet_only, io);
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

/// `ip addr show [dev D] [label L]`; `inet_only` is `-4`.
pub(crate) fn addr_show(h: &Host, rest: &[String], inet_only: bool, io: &mut Io) {
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
    show_addrs(h, dev_idx, label.map(String::as_str), inet_only, io);
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
    let Ok(idx) = dev_index(h, dev) else {
        return no_device(io, dev);
    };
    if deleting {
        if !explicit_len {
            io.errln("Warning: Executing wildcard deletion to stay compatible with old scripts.");
            io.errln(format!(
                "         Explicitly specify the prefix length ({local}/32) to avoid this warning."
            ));
            io.errln("         This special behaviour is likely to disappear in further releases,");
            io.errln("         fix your scripts!");
        }
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
        Err(crate::host::HostError::Addr(crate::addr::AddrError::Exists)) => {
            io.errln("Error: ipv4: Address already assigned.");
            io.status = 2;
        }
        Err(e) => {
            io.errln(format!("RTNETLINK answers: {e}"));
            io.status = 2;
        }
    }
}

// --------------------------------------------------------------- route ----

fn table_id(s: &str) -> Option<u32> {
    match s {
        "main" => Some(TABLE_MAIN),
        "local" => Some(TABLE_LOCAL),
        "default" => Some(253),
        "all" | "0" => Some(0),
        n => n.parse().ok(),
    }
}

pub(crate) fn route_line(h: &Host, r: &Route, show_table: bool) -> String {
    let mut s = String::new();
    if r.rtype != RouteType::Unicast {
        s.push_str(r.rtype.name());
        s.push(' ');
    }
    if r.dst.prefix_len() == 0 {
        s.push_str("default ");
    } else if r.dst.prefix_len() == 32 {
        s.push_str(&format!("{} ", r.dst.addr()));
    } else {
        s.push_str(&format!("{} ", r.dst));
    }
    if let Some(g) = r.gateway {
        s.push_str(&format!("via {g} "));
    }
    if let Some(i) = r.ifindex {
        s.push_str(&format!("dev {} ", h.dev_name(i)));
    }
    if show_table && r.table != TABLE_MAIN {
        s.push_str(&format!("table {} ", crate::stack::table_name(r.table)));
    }
    if r.proto != Proto::Boot {
        s.push_str(&format!("proto {} ", r.proto.name()));
    }
    let default_scope = match r.rtype {
        RouteType::Local => Scope::Host,
        _ if r.gateway.is_some() || r.rtype.is_reject() => Scope::Global,
        _ => Scope::Global,
    };
    if r.scope != Scope::Global || (r.scope != default_scope && r.rtype != RouteType::Local) {
        s.push_str(&format!("scope {} ", r.scope.name()));
    }
    if let Some(p) = r.prefsrc {
        s.push_str(&format!("src {p} "));
    }
    if r.metric != 0 {
        s.push_str(&format!("metric {} ", r.metric));
    }
    if let Some(i) = r.ifindex {
        if r.rtype != RouteType::Local && h.device(i).is_some_and(|d| !d.lower_up()) {
            s.push_str("linkdown ");
        }
    }
    s
}

struct RouteArgs {
    dst: Option<Ipv4Net>,
    rtype: Option<RouteType>,
    gateway: Option<Ipv4Addr>,
    dev: Option<u32>,
    src: Option<Ipv4Addr>,
    metric: Option<u32>,
    table: Option<u32>,
    scope: Option<Scope>,
    proto: Option<Proto>,
}

fn parse_route_args(h: &Host, rest: &[String], io: &mut Io) -> Option<RouteArgs> {
    let mut a = RouteArgs {
        dst: None,
        rtype: None,
        gateway: None,
        dev: None,
        src: None,
        metric: None,
        table: None,
        scope: None,
        proto: None,
    };
    let mut it = rest.iter();
    while let Some(w) = it.next() {
        let w = w.as_str();
        match w {
            "via" => {
                let v = it.next().map(String::as_str).unwrap_or("");
                let v = v.strip_prefix("inet ").unwrap_or(v);
                match parse_addr(v) {
                    Some(g) => a.gateway = Some(g),
                    None => {
                        invalid_prefix(io, v);
                        return None;
                    }
                }
            }
            "dev" | "oif" => {
                let n = it.next().map(String::as_str).unwrap_or("");
                match dev_index(h, n) {
                    Ok(i) => a.dev = Some(i),
                    Err(_) => {
                        no_device(io, n);
                        return None;
                    }
                }
            }
            "src" => {
                let v = it.next().map(String::as_str).unwrap_or("");
                match parse_addr(v) {
                    Some(s) => a.src = Some(s),
                    None => {
                        invalid_prefix(io, v);
                        return None;
                    }
                }
            }
            "metric" | "priority" | "preference" => {
                let v = it.next().map(String::as_str).unwrap_or("");
                match v.parse() {
                    Ok(n) => a.metric = Some(n),
                    Err(_) => {
                        io.errln(format!(
                            "Error: argument \"{v}\" is wrong: \"metric\" value is invalid"
                        ));
                        io.status = 1;
                        return None;
                    }
                }
            }
            "table" => {
                let v = it.next().map(String::as_str).unwrap_or("");
                match table_id(v) {
                    Some(t) => a.table = Some(t),
                    None => {
                        io.errln(format!(
                            "Error: argument \"{v}\" is wrong: \"table\" value is invalid"
                        ));
                        io.status = 1;
                        return None;
                    }
                }
            }
            "scope" => {
                let v = it.next().map(String::as_str).unwrap_or("");
                a.scope = Scope::parse(v);
            }
            "proto" | "protocol" => {
                a.proto = match it.next().map(String::as_str) {
                    Some("kernel") => Some(Proto::Kernel),
                    Some("static") => Some(Proto::Static),
                    _ => Some(Proto::Boot),
                };
            }
            "to" => {}
            t if RouteType::parse(t).is_some() && a.dst.is_none() && a.rtype.is_none() => {
                a.rtype = RouteType::parse(t)
            }
            "default" | "all" if a.dst.is_none() => a.dst = Some(Ipv4Net::default()),
            d if a.dst.is_none() => match parse_prefix(d, 32) {
                Some((n, _)) => {
                    if n.trunc() != n {
                        io.errln("Error: Invalid prefix for given prefix length.");
                        io.status = 2;
                        return None;
                    }
                    a.dst = Some(n)
                }
                None => {
                    invalid_prefix(io, d);
                    return None;
                }
            },
            other => {
                io.errln(format!(
                    "Error: either \"to\" is duplicate, or \"{other}\" is a garbage."
                ));
                io.status = 1;
                return None;
            }
        }
    }
    Some(a)
}

fn route(lab: &mut Lab, host: &str, args: &[String], io: &mut Io) {
    let cmd = args.first().map(String::as_str).unwrap_or("show");
    let rest = if args.is_empty() { args } else { &args[1..] };
    let h = lab.world.host_mut(host).expect("host checked by the shell");
    if m(cmd, "show") || m(cmd, "list") || cmd == "lst" {
        let Some(a) = parse_route_args(h, rest, io) else {
            return;
        };
        let table = a.table.unwrap_or(TABLE_MAIN);
        let show_table = table == 0;
        let mut lines = Vec::new();
        // `table all` lists main first, then local (dump order by table id hash: main, local).
        let order: Vec<u32> = if table == 0 {
            vec![TABLE_MAIN, TABLE_LOCAL, 253]
        } else {
            vec![table]
        };
        for t in order {
            for r in h.fib.table(t) {
                if a.dev.is_some_and(|d| r.ifindex != Some(d))
                    || a.rtype.is_some_and(|ty| ty != r.rtype)
                {
                    continue;
                }
                if a.dst.is_some_and(|d| d != r.dst) {
                    continue;
                }
                lines.push(route_line(h, r, show_table));
            }
        }
        for l in lines {
            io.outln(l);
        }
    } else if m(cmd, "get") {
        route_get(h, rest, io);
    } else if m(cmd, "add") || m(cmd, "append") || m(cmd, "replace") || m(cmd, "change") {
        route_add(h, cmd, rest, io);
    } else if m(cmd, "delete") {
        let Some(a) = parse_route_args(h, rest, io) else {
            return;
        };
        let spec = RouteSpec {
            table: a.table.unwrap_or(
                if matches!(a.rtype, Some(RouteType::Local | RouteType::Broadcast)) {
                    TABLE_LOCAL
                } else {
                    TABLE_MAIN
                },
            ),
            dst: Some(a.dst.unwrap_or_default()),
            rtype: a.rtype,
            gateway: a.gateway,
            ifindex: a.dev,
            metric: a.metric,
            prefsrc: a.src,
        };
        if h.fib.delete(&spec).is_err() {
            io.errln("RTNETLINK answers: No such process");
            io.status = 2;
        }
    } else if m(cmd, "flush") {
        let Some(a) = parse_route_args(h, rest, io) else {
            return;
        };
        let table = a.table.unwrap_or(TABLE_MAIN);
        h.fib.retain(|r| {
            !((table == 0 || r.table == table) && a.dev.is_none_or(|d| r.ifindex == Some(d)))
        });
    } else {
        io.errln(format!(
            "Command \"{cmd}\" is unknown, try \"ip route help\"."
        ));
        io.status = 255;
    }
}

fn route_add(h: &mut Host, cmd: &str, rest: &[String], io: &mut Io) {
    let Some(a) = parse_route_args(h, rest, io) else {
        return;
    };
    let Some(dst) = a.dst else {
        io.errln("Error: either \"to\" is duplicate, or \"\" is a garbage.");
        io.status = 1;
        return;
    };
    let rtype = a.rtype.unwrap_or(RouteType::Unicast);
    let table = a.table.unwrap_or(
        if matches!(rtype, RouteType::Local | RouteType::Broadcast) {
            TABLE_LOCAL
        } else {
            TABLE_MAIN
        },
    );
    let mut ifindex = a.dev;
    if !rtype.is_reject() {
        if let Some(g) = a.gateway {
            // fib_check_nh(): the gateway must be reachable on link.
            let ok = h
                .fib
                .lookup(g, a.dev)
                .ok()
                .filter(|r| r.route.rtype == RouteType::Unicast && r.route.gateway.is_none())
                .and_then(|r| r.route.ifindex);
            match ok {
                Some(i) if a.dev.is_none_or(|d| d == i) => ifindex = Some(i),
                _ => {
                    io.errln("Error: Nexthop has invalid gateway.");
                    io.status = 2;
                    return;
                }
            }
        } else if ifindex.is_none() {
            io.errln("Error: Device for nexthop is not up.");
            io.status = 2;
            return;
        }
        if let Some(i) = ifindex {
            if h.device(i).is_some_and(|d| !d.up) {
                io.errln("Error: Nexthop device is not up.");
                io.status = 2;
                return;
            }
        }
    } else {
        ifindex = None;
    }
    if let Some(s) = a.src {
        if h.addr_type(s) != RouteType::Local {
            io.errln("Error: Invalid prefsrc address.");
            io.status = 2;
            return;
        }
    }
    let scope = a.scope.unwrap_or(match rtype {
        RouteType::Local => Scope::Host,
        RouteType::Broadcast => Scope::Link,
        _ if a.gateway.is_some() || rtype.is_reject() => Scope::Global,
        _ => Scope::Link,
    });
    let route = Route {
        table,
        rtype,
        dst,
        gateway: a.gateway,
        ifindex,
        prefsrc: a.src,
        scope,
        proto: a.proto.unwrap_or(Proto::Boot),
        metric: a.metric.unwrap_or(0),
    };
    if m(cmd, "replace") || m(cmd, "change") {
        let spec = RouteSpec {
            table,
            dst: Some(dst),
            metric: Some(route.metric),
            ..Default::default()
        };
        let existed = h.fib.delete(&spec).is_ok();
        if !existed && m(cmd, "change") {
            io.errln("RTNETLINK answers: No such file or directory");
            io.status = 2;
            return;
        }
    }
    if h.fib.insert(route).is_err() {
        io.errln("RTNETLINK answers: File exists");
        io.status = 2;
    }
}

fn route_get(h: &Host, rest: &[String], io: &mut Io) {
    let mut dst = None;
    let mut from = None;
    let mut oif = None;
    let mut it = rest.iter();
    while let Some(w) = it.next() {
        match w.as_str() {
            "from" => from = it.next(),
            "oif" | "dev" => oif = it.next(),
            "to" => {}
            d => dst = Some(d),
        }
    }
    let Some(dst_s) = dst else {
        io.errln("need at least a destination address");
        io.status = 1;
        return;
    };
    let Some(dst) = parse_prefix(dst_s, 32)
        .filter(|(n, _)| n.prefix_len() == 32)
        .map(|(n, _)| n.addr())
    else {
        return invalid_prefix(io, dst_s);
    };
    let src = match from {
        Some(f) => match parse_addr(f) {
            Some(a) => Some(a),
            None => return invalid_prefix(io, f),
        },
        None => None,
    };
    let oif = match oif {
        Some(n) => match dev_index(h, n) {
            Ok(i) => Some(i),
            Err(_) => return no_device(io, n),
        },
        None => None,
    };
    match h.route_output(dst, oif, src) {
        Ok(rt) => {
            let mut s = String::new();
            let cache = match rt.rtype {
                RouteType::Local => {
                    s.push_str("local ");
                    "<local> "
                }
                RouteType::Broadcast => {
                    s.push_str("broadcast ");
                    "<local,brd> "
                }
                _ => "",
            };
            s.push_str(&format!("{dst} "));
            if let Some(g) = rt.gateway {
                s.push_str(&format!("via {g} "));
            }
            s.push_str(&format!(
                "dev {} src {} uid 0 ",
                h.dev_name(rt.ifindex),
                rt.src
            ));
            io.outln(s);
            io.outln(format!("    cache {cache}"));
        }
        Err(OutError::BadSource) => {
            io.errln("RTNETLINK answers: Cannot assign requested address");
            io.status = 2;
        }
        Err(OutError::Fib(e)) => {
            io.errln(format!("RTNETLINK answers: {e}"));
            io.status = 2;
        }
    }
}

// --------------------------------------------------------------- neigh ----

fn neigh(lab: &mut Lab, host: &str, args: &[String], io: &mut Io) {
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
            None => return invalid_prefix(io, a),
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
