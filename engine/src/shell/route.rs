//! net-tools 2.10's routing table listings: `route [-n] [-e] [-F]` and
//! `netstat -r[n] [-e]` (lib/inet_gr.c over `/proc/net/route`), and
//! iproute2's `ip rule [show|list]`.
//!
//! Linux does: `/proc/net/route` lists the main table only
//! (`fib_route_seq_show()`), in the trie's order (the order of `ip route
//! show`), without broadcast routes; its flags are RTF_UP, RTF_GATEWAY for
//! a route with a gateway, RTF_HOST for a /32 and RTF_REJECT for
//! unreachable and prohibit routes; a route without a device names `*`.
//! net-tools prints reject routes with `-` for what they lack. Without
//! `-n`, 0.0.0.0 as a destination reads `default` (no other name resolves
//! in the lab: no /etc/networks, no resolver). The rule list is the
//! kernel's three default rules (`fib_default_rules_init()`).
//! Left out: `route add|del` (the lab's routes are changed with `ip
//! route`), `-C` (there is no route cache since 3.6), policy rules.

use super::{Io, Lab};
use crate::net::ipv4::fib::{RouteType, TABLE_MAIN};
use std::net::Ipv4Addr;

const ROUTE_USAGE: &str = "Usage: route [-nNvee] [-FC] [<AF>]           List kernel routing tables
       route [-v] [-FC] {add|del|flush} ...  Modify routing table for AF.

       route {-h|--help} [<AF>]              Detailed usage syntax for specified AF.
       route {-V|--version}                  Display version/author and exit.

        -v, --verbose            be verbose
        -n, --numeric            don't resolve names
        -e, --extend             display other/more information
        -F, --fib                display Forwarding Information Base (default)
        -C, --cache              display routing cache instead of FIB

  <AF>=Use -4, -6, '-A <af>' or '--<af>'; default: inet
  List of possible address families (which support routing):
    inet (DARPA Internet) inet6 (IPv6) ax25 (AMPR AX.25) 
    netrom (AMPR NET/ROM) rose (AMPR ROSE) ipx (Novell IPX) 
    ddp (Appletalk DDP) x25 (CCITT X.25) 
";

/// Which of net-tools' two layouts (`route` shows Metric/Ref/Use,
/// `netstat -r` MSS/Window/irtt; `-e` swaps them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Route,
    Netstat,
}

/// `route [-n] [-e] [-F] [-v] [-4|-A inet|--inet]`.
pub fn route(lab: &Lab, host: &str, args: &[String], io: &mut Io) {
    let mut numeric = false;
    let mut extend = 0;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "-A" => {
                i += 1;
                if args.get(i).map(String::as_str) != Some("inet") {
                    io.errln("lvslab: only the inet (IPv4) routing table is modelled");
                    io.status = 1;
                    return;
                }
            }
            "--inet" | "-4" => {}
            "--numeric" => numeric = true,
            "--extend" => extend += 1,
            "add" | "del" | "flush" => {
                io.errln(format!(
                    "lvslab: route {a} is not modelled; change the table with ip route {}",
                    if a == "del" { "del" } else { a }
                ));
                io.status = 1;
                return;
            }
            s if s.starts_with('-') && !s.starts_with("--") && s.len() > 1 => {
                for c in s[1..].chars() {
                    match c {
                        'n' | 'N' => numeric = true,
                        'e' => extend += 1,
                        'F' | 'v' | '4' => {}
                        other => {
                            io.errln(format!("route: invalid option -- '{other}'"));
                            io.out(ROUTE_USAGE);
                            io.status = 1;
                            return;
                        }
                    }
                }
            }
            other => {
                io.out(ROUTE_USAGE);
                let _ = other;
                io.status = 1;
                return;
            }
        }
        i += 1;
    }
    let layout = if extend == 1 {
        Layout::Netstat
    } else {
        Layout::Route
    };
    list(lab, host, numeric, layout, io);
}

/// `netstat -r` with its other flags (`-n`, `-e`), from the netstat
/// command line the caller split.
pub fn netstat_route(lab: &Lab, host: &str, numeric: bool, extend: bool, io: &mut Io) {
    let layout = if extend {
        Layout::Route
    } else {
        Layout::Netstat
    };
    list(lab, host, numeric, layout, io);
}

fn list(lab: &Lab, host: &str, numeric: bool, layout: Layout, io: &mut Io) {
    let Some(h) = lab.world.host(host) else {
        return;
    };
    io.outln("Kernel IP routing table");
    io.outln(match layout {
        Layout::Route => {
            "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface"
        }
        Layout::Netstat => {
            "Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface"
        }
    });
    for r in h.fib.table(TABLE_MAIN) {
        if matches!(r.rtype, RouteType::Broadcast | RouteType::Local) {
            continue;
        }
        let dst = r.dst.network();
        let dest = if !numeric && dst == Ipv4Addr::UNSPECIFIED {
            "default".to_string()
        } else {
            dst.to_string()
        };
        let mask = r.dst.netmask().to_string();
        let reject = matches!(r.rtype, RouteType::Unreachable | RouteType::Prohibit);
        let mut flags = String::from("U");
        if r.gateway.is_some() {
            flags.push('G');
        }
        if r.dst.prefix_len() == 32 {
            flags.push('H');
        }
        if reject {
            flags = flags.replace('U', "");
            flags.push('!');
        }
        let gw = if reject {
            "-".to_string()
        } else {
            r.gateway.unwrap_or(Ipv4Addr::UNSPECIFIED).to_string()
        };
        let iface = if reject {
            "-".to_string()
        } else {
            r.ifindex
                .map_or("*".to_string(), |i| h.dev_name(i).to_string())
        };
        let line = match (layout, reject) {
            (Layout::Route, false) => format!(
                "{dest:<15} {gw:<15} {mask:<15} {flags:<5} {:<6} {:<2} {:>7} {iface}",
                r.metric, 0, 0
            ),
            (Layout::Route, true) => format!(
                "{dest:<15} {gw:<15} {mask:<15} {flags:<5} {:<6} {:<2} {:>7} {iface}",
                r.metric, "-", 0
            ),
            (Layout::Netstat, false) => {
                format!(
                    "{dest:<15} {gw:<15} {mask:<15} {flags:<5} {:>5} {:<6} {:>5} {iface}",
                    0, 0, 0
                )
            }
            (Layout::Netstat, true) => format!(
                "{dest:<15} {gw:<15} {mask:<15} {flags:<5} {:>5} {:<6} {:>5} {iface}",
                "-", "-", "-"
            ),
        };
        io.outln(line);
    }
}

/// `ip rule [show|list]`: the three rules every namespace starts with.
pub fn ip_rule(args: &[String], io: &mut Io) {
    let cmd = args.first().map(String::as_str).unwrap_or("show");
    let is = |full: &str| !cmd.is_empty() && full.starts_with(cmd);
    if is("show") || is("list") || cmd == "lst" {
        io.outln("0:\tfrom all lookup local");
        io.outln("32766:\tfrom all lookup main");
        io.outln("32767:\tfrom all lookup default");
    } else if is("add") || is("delete") || is("flush") {
        io.errln("lvslab: policy routing rules (ip rule add/del) are not modelled; the lab routes by the local and main tables");
        io.status = 2;
    } else {
        io.errln(format!(
            "Command \"{cmd}\" is unknown, try \"ip rule help\"."
        ));
        io.status = 255;
    }
}
