//! `ip route` (iproute2 6.1 ip/iproute.c): `show [table T]`, `add|del|
//! change|replace|append` with `via`, `dev`, `src`, `table`, `metric`,
//! `proto`, `scope` and the route types, and `get ADDR [from A] [oif D]`;
//! routes printed as `print_route()` prints them.

use super::*;
use crate::net::core::dev::DeviceKind;
use crate::net::host::Host;
use crate::net::ipv4::devinet::Scope;
use crate::net::ipv4::fib::{Proto, Route, RouteSpec, RouteType, TABLE_LOCAL, TABLE_MAIN};
use crate::net::ipv4::route::OutError;
use crate::shell::{Io, Lab};
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

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
        s.push_str(&format!(
            "table {} ",
            crate::net::ipv4::route::table_name(r.table)
        ));
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
                        invalid_addr(io, v, a.dst.is_some());
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
                        invalid_addr(io, v, a.dst.is_some());
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

pub(crate) fn route(lab: &mut Lab, host: &str, args: &[String], io: &mut Io) {
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
    let mut gw_local = false;
    if !rtype.is_reject() {
        if let Some(g) = a.gateway {
            // fib_check_nh_v4_gw(): a full lookup of the gateway among the
            // on-link and local routes (through `dev` when given); it must
            // be unicast or one of the host's own addresses, and the
            // nexthop takes that route's device.
            let found = h
                .fib
                .lookup_scoped(g, a.dev, Scope::Link)
                .ok()
                .filter(|r| matches!(r.route.rtype, RouteType::Unicast | RouteType::Local))
                .and_then(|r| Some((r.route.ifindex?, r.route.rtype == RouteType::Local)));
            match found {
                Some((i, local)) => {
                    ifindex = Some(i);
                    gw_local = local;
                }
                None => {
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
                // fib_check_nh_nongw() says so; the gateway path only
                // returns ENETDOWN.
                if a.gateway.is_some() {
                    io.errln("RTNETLINK answers: Network is down");
                } else {
                    io.errln("Error: Device for nexthop is not up.");
                }
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
        gw_local,
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
                // __mkroute_output(): a route out of the loopback device
                // is RTCF_LOCAL.
                _ if h
                    .device(rt.ifindex)
                    .is_some_and(|d| d.kind == DeviceKind::Loopback) =>
                {
                    "<local> "
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
