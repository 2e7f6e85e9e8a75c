//! `ifconfig` from net-tools 2.10, over the kernel's `devinet_ioctl()`.
//!
//! Listing reads each name's flags, its address by label (`eth0:8` is the
//! address labelled so), and for real devices the counters. Setting walks
//! the arguments in order as net-tools does: an address is SIOCSIFADDR (the
//! kernel gives it the classful prefix and, on broadcast devices, the
//! classful broadcast; an existing address with that label is replaced) then
//! SIOCSIFFLAGS up; `/N` and `netmask M` are SIOCSIFNETMASK (the kernel
//! deletes and re-inserts the address, recomputing a default broadcast);
//! `down` on an alias deletes that address (that is what `ifconfig lo:2
//! down` really does). An argument that is not a keyword is a host name:
//! resolved with `inet_aton()` rules or rejected as "Unknown host".

use super::{Io, Lab};
use crate::net::core::dev::{Device, DeviceKind};
use crate::net::host::Host;
use crate::net::ipv4::devinet::{IfAddr, Scope};
use crate::tools::libc::{atoi, inet_aton};
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

/// `inet_abc_len()`: the classful prefix length, or None for class D/E.
fn abc_len(a: Ipv4Addr) -> Option<u8> {
    let o = a.octets()[0];
    if a.is_unspecified() || a == Ipv4Addr::BROADCAST {
        Some(0)
    } else if o < 128 {
        Some(8)
    } else if o < 192 {
        Some(16)
    } else if o < 224 {
        Some(24)
    } else {
        None
    }
}

fn mask_len(m: Ipv4Addr) -> Option<u8> {
    let v = u32::from(m);
    let len = v.leading_ones();
    (v.checked_shl(len).unwrap_or(0) == 0).then_some(len as u8)
}

fn flag_names(d: &Device) -> (u32, String) {
    let f = d.iff_flags();
    let names = [
        (0x1, "UP"),
        (0x2, "BROADCAST"),
        (0x4, "DEBUG"),
        (0x8, "LOOPBACK"),
        (0x10, "POINTOPOINT"),
        (0x20, "NOTRAILERS"),
        (0x40, "RUNNING"),
        (0x80, "NOARP"),
        (0x100, "PROMISC"),
        (0x200, "ALLMULTI"),
        (0x1000, "MULTICAST"),
    ];
    let list: Vec<&str> = names
        .iter()
        .filter(|(b, _)| f & b != 0)
        .map(|(_, n)| *n)
        .collect();
    (f, list.join(","))
}

/// net-tools' `print_bytes_scaled()`: IEC units, one decimal.
fn scaled(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut i = 0;
    let mut div = 1u64;
    while i + 1 < UNITS.len() && bytes / div >= 1024 {
        div *= 1024;
        i += 1;
    }
    let int = bytes / div;
    let frac = (bytes % div) * 10 / div;
    format!("{int}.{frac} {}", UNITS[i])
}

fn show(h: &Host, name: &str, io: &mut Io) -> bool {
    let (base, alias) = match name.split_once(':') {
        Some((b, _)) => (b, true),
        None => (name, false),
    };
    let Some(d) = h.device_by_name(base) else {
        return false;
    };
    let (f, names) = flag_names(d);
    io.outln(format!("{name}: flags={f}<{names}>  mtu {}", d.mtu));
    if let Some(a) = h.addrs[&d.ifindex].iter().find(|a| a.label == name) {
        let mask = a.net.netmask();
        let mut line = format!("        inet {}  netmask {mask}", a.local());
        if d.has_broadcast() {
            line.push_str(&format!(
                "  broadcast {}",
                a.broadcast.unwrap_or(Ipv4Addr::UNSPECIFIED)
            ));
        }
        io.outln(line);
    }
    match d.kind {
        DeviceKind::Loopback => io.outln(format!(
            "        loop  txqueuelen {}  (Local Loopback)",
            d.txqueuelen
        )),
        DeviceKind::Ipip => io.outln(format!(
            "        tunnel   txqueuelen {}  (IPIP Tunnel)",
            d.txqueuelen
        )),
        _ => io.outln(format!(
            "        ether {}  txqueuelen {}  (Ethernet)",
            d.mac, d.txqueuelen
        )),
    }
    if !alias {
        let s = &d.stats;
        io.outln(format!(
            "        RX packets {}  bytes {} ({})",
            s.rx_packets,
            s.rx_bytes,
            scaled(s.rx_bytes)
        ));
        io.outln(format!(
            "        RX errors 0  dropped {}  overruns 0  frame 0",
            s.rx_dropped
        ));
        io.outln(format!(
            "        TX packets {}  bytes {} ({})",
            s.tx_packets,
            s.tx_bytes,
            scaled(s.tx_bytes)
        ));
        io.outln(format!(
            "        TX errors 0  dropped {} overruns 0  carrier 0  collisions 0",
            s.tx_dropped
        ));
    }
    io.outln("");
    true
}

fn list(h: &Host, all: bool, io: &mut Io) {
    let mut names: Vec<String> = Vec::new();
    for d in h.devices.values() {
        if !all && !d.up {
            continue;
        }
        names.push(d.name.clone());
        for a in &h.addrs[&d.ifindex] {
            if a.label != d.name && !names.contains(&a.label) {
                names.push(a.label.clone());
            }
        }
    }
    names.sort();
    for n in names {
        show(h, &n, io);
    }
}

fn unknown_host(io: &mut Io, word: &str, usage: bool) {
    io.errln(format!("{word}: Unknown host"));
    if usage {
        io.errln("ifconfig: `--help' gives usage information.");
    }
    io.status = 1;
}

/// Index of the address an ioctl on `name` addresses (first with that label).
fn by_label(h: &Host, ifindex: u32, name: &str) -> Option<usize> {
    h.addrs[&ifindex].iter().position(|a| a.label == name)
}

/// SIOCSIFADDR.
fn set_addr(h: &mut Host, ifindex: u32, name: &str, addr: Ipv4Addr) -> Result<(), &'static str> {
    let Some(plen) = abc_len(addr) else {
        return Err("Invalid argument");
    };
    let dev_bcast = h.device(ifindex).is_some_and(|d| d.has_broadcast());
    let existing = by_label(h, ifindex, name);
    if let Some(i) = existing {
        if h.addrs[&ifindex][i].local() == addr {
            return Ok(());
        }
    }
    let net = Ipv4Net::new(addr, plen).map_err(|_| "Invalid argument")?;
    let broadcast = (dev_bcast && plen < 31).then(|| net.broadcast());
    let ifa = IfAddr {
        ifindex,
        net,
        broadcast,
        label: name.to_string(),
        scope: if addr.is_loopback() {
            Scope::Host
        } else {
            Scope::Global
        },
        secondary: false,
    };
    // Check the insert would succeed before deleting the old address.
    let mut probe = h.addrs[&ifindex].clone();
    if let Some(i) = existing {
        probe.remove(i);
    }
    crate::net::ipv4::devinet::insert(&mut probe, ifa.clone()).map_err(|_| "File exists")?;
    if let Some(i) = existing {
        h.del_addr(ifindex, i);
    }
    h.add_addr(ifindex, ifa).map_err(|_| "File exists")
}

/// SIOCSIFNETMASK.
fn set_mask(h: &mut Host, ifindex: u32, name: &str, mask: Ipv4Addr) -> Result<(), &'static str> {
    let Some(i) = by_label(h, ifindex, name) else {
        return Err("Cannot assign requested address");
    };
    let Some(plen) = mask_len(mask) else {
        return Err("Invalid argument");
    };
    let old = h.addrs[&ifindex][i].clone();
    if old.prefix_len() == plen {
        return Ok(());
    }
    let dev_bcast = h.device(ifindex).is_some_and(|d| d.has_broadcast());
    let mut ifa = old.clone();
    ifa.net = Ipv4Net::new(old.local(), plen).map_err(|_| "Invalid argument")?;
    if dev_bcast && plen < 31 && old.broadcast == Some(old.net.broadcast()) {
        ifa.broadcast = Some(ifa.net.broadcast());
    }
    h.del_addr(ifindex, i);
    h.add_addr(ifindex, ifa).map_err(|_| "File exists")
}

/// SIOCSIFBRDADDR.
fn set_brd(h: &mut Host, ifindex: u32, name: &str, b: Ipv4Addr) -> Result<(), &'static str> {
    let Some(i) = by_label(h, ifindex, name) else {
        return Err("Cannot assign requested address");
    };
    let mut ifa = h.addrs[&ifindex][i].clone();
    if ifa.broadcast == Some(b) {
        return Ok(());
    }
    ifa.broadcast = Some(b);
    h.del_addr(ifindex, i);
    h.add_addr(ifindex, ifa).map_err(|_| "File exists")
}

pub fn ifconfig(lab: &mut Lab, host: &str, args: &[String], io: &mut Io) {
    let h = lab.world.host_mut(host).expect("host checked by the shell");
    match args.first().map(String::as_str) {
        None => return list(h, false, io),
        Some("-a") => return list(h, true, io),
        Some("--version" | "-V") => {
            io.errln("net-tools 2.10");
            return;
        }
        _ => {}
    }
    let name = args[0].as_str();
    let base = name.split(':').next().unwrap_or(name);
    let alias = name.contains(':');
    if args.len() == 1 {
        if !show(h, name, io) {
            io.errln(format!(
                "{name}: error fetching interface information: Device not found"
            ));
            io.status = 1;
        }
        return;
    }
    let ifindex = h.ifindex(base).ok();
    let st = set(h, ifindex, name, alias, &args[1..], io);
    // main() exits with goterr: 1 for a failed ioctl, -1 (255) once a
    // set_flag() failed.
    io.status = st & 0xff;
}

/// net-tools' usage(): the whole text on stderr, exit status 3 (E_USAGE).
const USAGE: &str = include_str!("ifconfig-usage.txt");

/// `INET_getnetmask()`: `addr/N` splits at the slash; N is read with
/// `strtoul(…, 0)` into an int and must be all digits (else `usage()`),
/// and the mask is `~(0xffffffff >> N)` as x86-64 computes it: the shift
/// count is taken modulo 32, so `/32` is the mask 0.0.0.0, `/33` is /1 and
/// `/-1` is /31 (what Debian 12's ifconfig really sets, see conformance
/// script 95-ifconfig-prefix-forms).
fn getmask(word: &str) -> Result<(&str, Option<Ipv4Addr>), ()> {
    let Some((host, n)) = word.split_once('/') else {
        return Ok((word, None));
    };
    let v = if n.is_empty() {
        0
    } else {
        // strtoul() takes a sign and wraps the negated value.
        let (neg, digits) = match n.as_bytes().first() {
            Some(b'-') => (true, &n[1..]),
            Some(b'+') => (false, &n[1..]),
            _ => (false, n),
        };
        let v = crate::tools::libc::strtol_whole(digits)
            .filter(|v| *v >= 0)
            .ok_or(())?;
        let v = v as u64;
        if neg {
            v.wrapping_neg()
        } else {
            v
        }
    };
    let shift = (v as u32) & 31;
    Ok((host, Some(Ipv4Addr::from(!(u32::MAX >> shift)))))
}

/// `set_flag()`/`clr_flag()`: SIOCGIFFLAGS on the device, then SIOCSIFFLAGS
/// on the name (an alias's is the kernel's devinet_ioctl(): the label must
/// exist, and clearing IFF_UP deletes that address). Returns -1 on error.
fn set_flag(
    h: &mut Host,
    ifindex: Option<u32>,
    name: &str,
    alias: bool,
    up: bool,
    io: &mut Io,
) -> i32 {
    let Some(idx) = ifindex else {
        io.errln(format!(
            "{name}: ERROR while getting interface flags: No such device"
        ));
        return -1;
    };
    if !alias {
        h.set_link(idx, up);
        return 0;
    }
    match by_label(h, idx, name) {
        Some(i) => {
            if !up {
                h.del_addr(idx, i);
            }
            0
        }
        None => {
            io.errln("SIOCSIFFLAGS: Cannot assign requested address");
            -1
        }
    }
}

/// SIOCSIFNETMASK on `name`, as `set_netmask()` reports it: 1 on error.
fn set_netmask(h: &mut Host, ifindex: Option<u32>, name: &str, mask: Ipv4Addr, io: &mut Io) -> i32 {
    let r = match ifindex {
        Some(idx) => set_mask(h, idx, name, mask),
        None => Err("No such device"),
    };
    match r {
        Ok(()) => 0,
        Err(e) => {
            io.errln(format!("SIOCSIFNETMASK: {e}"));
            1
        }
    }
}

/// The setting half of `ifconfig NAME ARG…` (ifconfig.c `main()`): each
/// argument in order, a failed ioctl reported and the rest still done;
/// returns `goterr`. `usage()` and an unresolvable address end it at once.
fn set(
    h: &mut Host,
    ifindex: Option<u32>,
    name: &str,
    alias: bool,
    args: &[String],
    io: &mut Io,
) -> i32 {
    let usage = |io: &mut Io| {
        io.err(USAGE);
        3
    };
    let mut goterr = 0i32;
    let mut didnetmask = false;
    let mut neednetmask: Option<Ipv4Addr> = None;
    let mut it = args.iter();
    while let Some(w) = it.next() {
        match w.as_str() {
            w @ ("up" | "down") => goterr |= set_flag(h, ifindex, name, alias, w == "up", io),
            "mtu" => {
                let Some(v) = it.next() else {
                    return usage(io);
                };
                // SIOCSIFMTU, dev_set_mtu(): the device's limits as
                // `ip link set mtu` checks them.
                let mtu = atoi(v);
                match ifindex.and_then(|i| h.devices.get_mut(&i)) {
                    None => {
                        io.errln("SIOCSIFMTU: No such device");
                        goterr = 1;
                    }
                    Some(d) => {
                        let (min, max) = match d.kind {
                            DeviceKind::Ether => (68, Some(65535)),
                            DeviceKind::Ipip => (68, Some(65515)),
                            DeviceKind::Loopback | DeviceKind::Dummy => (0, None),
                        };
                        if mtu < min || max.is_some_and(|m| mtu > m) {
                            io.errln("SIOCSIFMTU: Invalid argument");
                            goterr = 1;
                        } else if mtu < 68 {
                            io.errln(format!(
                                "lvslab: an MTU below 68 on {}, which takes IPv4 off the device, is not modelled",
                                d.name
                            ));
                            goterr = 1;
                        } else {
                            d.mtu = u32::try_from(mtu).expect("checked above");
                        }
                    }
                }
            }
            "netmask" => {
                let Some(v) = it.next().filter(|_| !didnetmask) else {
                    return usage(io);
                };
                let Some(m) = inet_aton(v) else {
                    io.errln(format!("{v}: Unknown host"));
                    goterr = 1;
                    continue;
                };
                didnetmask = true;
                goterr |= set_netmask(h, ifindex, name, m, io);
            }
            "broadcast" => {
                if let Some(v) = it.next() {
                    let Some(b) = inet_aton(v) else {
                        io.errln(format!("{v}: Unknown host"));
                        goterr = 1;
                        continue;
                    };
                    let r = match ifindex {
                        Some(idx) => set_brd(h, idx, name, b),
                        None => Err("No such device"),
                    };
                    if let Err(e) = r {
                        io.errln(format!("SIOCSIFBRDADDR: {e}"));
                        goterr = 1;
                    }
                }
                // set_flag(IFF_BROADCAST): the flags as they are, plus one
                // a broadcast device already has.
                let up = ifindex.and_then(|i| h.device(i)).is_some_and(|d| d.up);
                goterr |= set_flag(h, ifindex, name, alias, up, io);
            }
            "arp" | "-arp" | "promisc" | "-promisc" | "allmulti" | "-allmulti" => {}
            word => {
                // An address, optionally with /prefix.
                let Ok((hostpart, mask)) = getmask(word) else {
                    return usage(io);
                };
                if mask.is_some() {
                    if didnetmask {
                        return usage(io);
                    }
                    neednetmask = mask;
                }
                let Some(a) = inet_aton(hostpart) else {
                    if hostpart == "netmask" {
                        io.hint = Some((
                            "net-tools has no `netmask/24` form: write `ifconfig eth0:8 192.168.150.100/24` or `ifconfig eth0:8 192.168.150.100 netmask 255.255.255.0`. The address was set anyway (with its classful /24) before ifconfig stopped at the bad word.".into(),
                            "net-tools 不支持 `netmask/24` 这种写法：请写 `ifconfig eth0:8 192.168.150.100/24` 或 `ifconfig eth0:8 192.168.150.100 netmask 255.255.255.0`。在 ifconfig 遇到错误参数之前，地址已经按有类掩码 /24 设置好了。".into(),
                        ));
                    }
                    unknown_host(io, hostpart, true);
                    return 1;
                };
                let r = match ifindex {
                    Some(idx) => set_addr(h, idx, name, a),
                    None => Err("No such device"),
                };
                if let Err(e) = r {
                    io.errln(format!("SIOCSIFADDR: {e}"));
                    goterr = 1;
                }
                goterr |= set_flag(h, ifindex, name, alias, true, io);
            }
        }
    }
    if let Some(m) = neednetmask {
        goterr |= set_netmask(h, ifindex, name, m, io);
    }
    goterr
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_ifconfig_scales_them() {
        assert_eq!(scaled(0), "0.0 B");
        assert_eq!(scaled(84), "84.0 B");
        assert_eq!(scaled(1176), "1.1 KiB");
    }
}
