//! `ip link` (iproute2 6.1 ip/iplink.c, ipaddress.c's link printing):
//! `show`, `set DEV up|down|mtu N|address MAC|arp on|off`, `add NAME type dummy`,
//! `delete`; flags and operstate as `print_linkinfo()` prints them.

use super::*;
use crate::net::core::dev::{Device, DeviceKind};
use crate::net::host::Host;
use crate::shell::{Io, Lab};
use crate::wire::mac::Mac;

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

pub(crate) fn link_header(d: &Device, mode: bool) -> String {
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

pub(crate) fn link_line(d: &Device) -> String {
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
pub(crate) fn dev_index(h: &Host, name: &str) -> Result<u32, crate::net::host::HostError> {
    h.ifindex(name).or_else(|e| {
        name.split_once(':')
            .map_or(Err(e.clone()), |(b, _)| h.ifindex(b).map_err(|_| e))
    })
}

pub(crate) fn no_device(io: &mut Io, name: &str) {
    io.errln(format!("Cannot find device \"{name}\""));
    io.status = 1;
}

/// `dev_set_mtu()`: the device's limits (`dev_validate_mtu()`: veth and
/// Ethernet 68..65535, the ipip fallback device 68..65515, loopback and
/// dummy unlimited), as the extack messages iproute2 prints.
fn set_mtu(h: &mut Host, idx: u32, mtu: i64) -> Result<(), String> {
    let d = h.devices.get_mut(&idx).expect("index from dev_index");
    let (min, max) = match d.kind {
        DeviceKind::Ether => (68, Some(65535)),
        DeviceKind::Ipip => (68, Some(65515)),
        DeviceKind::Loopback | DeviceKind::Dummy => (0, None),
    };
    if mtu < min {
        return Err("Error: mtu less than device minimum.".into());
    }
    if max.is_some_and(|m| mtu > m) {
        return Err("Error: mtu greater than device maximum.".into());
    }
    if mtu < 68 {
        // inetdev_event(NETDEV_CHANGEMTU) would destroy the device's IPv4
        // configuration (addresses, routes, its conf/ directory).
        return Err(format!(
            "lvslab: an MTU below 68 on {}, which takes IPv4 off the device, is not modelled",
            d.name
        ));
    }
    d.mtu = u32::try_from(mtu).expect("checked above");
    Ok(())
}

/// One device as `ip link` prints it (`print_linkinfo()`).
fn show_link(d: &Device, opts: Opts, io: &mut Io) {
    if opts.oneline {
        io.outln(format!("{}\\{}", link_header(d, true), link_line(d)));
    } else {
        io.outln(link_header(d, true));
        io.outln(link_line(d));
    }
}

pub(crate) fn link(lab: &mut Lab, host: &str, args: &[String], opts: Opts, io: &mut Io) {
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
                Some(d) => show_link(d, opts, io),
                None => {
                    io.errln(format!("Device \"{name}\" does not exist."));
                    io.status = 1;
                }
            }
            return;
        }
        for d in h.devices.values() {
            show_link(d, opts, io);
        }
    } else if cmd == "set" {
        let mut name = None;
        let mut up = None;
        let mut mtu: Option<i64> = None;
        let mut it = rest.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "dev" => name = it.next(),
                "up" => up = Some(true),
                "down" => up = Some(false),
                "mtu" => {
                    let Some(v) = it.next() else {
                        io.errln("Command line is not complete. Try option \"help\"");
                        io.status = 255;
                        return;
                    };
                    if mtu.is_some() {
                        io.errln(format!(
                            "Error: duplicate \"mtu\": \"{v}\" is the second value."
                        ));
                        io.status = 255;
                        return;
                    }
                    // get_integer(): strtol() in base 0, within int.
                    match crate::tools::libc::strtol_whole(v).filter(|n| i32::try_from(*n).is_ok())
                    {
                        Some(n) => mtu = Some(n),
                        None => {
                            io.errln(format!(
                                "Error: argument \"{v}\" is wrong: Invalid \"mtu\" value\n"
                            ));
                            io.status = 255;
                            return;
                        }
                    }
                }
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
        if let Some(n) = mtu {
            if let Err(e) = set_mtu(h, idx, n) {
                io.errln(e);
                io.status = 2;
                return;
            }
        }
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
