//! ipvsadm 1.31's output (ipvsadm.c: `list_all()`, `print_service_entry()`,
//! `print_title()`, `list_conn()`, the `-S` format): services sorted as
//! ipvsadm sorts them (glibc's merge sort over `ipvs_cmp_services()`),
//! numbers as `largenum` prints them.

use super::*;
use crate::net::netfilter::ipvs::{
    full_netmask, ConnEntry, DestEntry, DestSpec, Fwd, Proto, ServiceEntry, ServiceKey, ServiceSpec,
};
use crate::tools::services::port_name;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

/// `addrport_to_anyname()`: numeric `addr:port` (`[v6]:port`), or with a
/// service name for the port when not numeric (no reverse DNS in the lab:
/// addresses stay numeric, as on a host without names for them).
fn addr_port(a: IpAddr, p: u16, numeric: bool) -> String {
    let port = match (numeric, port_name(p)) {
        (false, Some(n)) => n.to_string(),
        _ => p.to_string(),
    };
    match a {
        IpAddr::V4(v) => format!("{v}:{port}"),
        IpAddr::V6(v) => format!("[{v}]:{port}"),
    }
}

/// The list form of a service name (`"%-4s %s"`), truncated to 33 chars.
pub(crate) fn service_name(k: &ServiceKey, numeric: bool) -> String {
    let mut n = match k {
        ServiceKey::Addr { proto, addr, port } => {
            format!("{:<4} {}", proto.name(), addr_port(*addr, *port, numeric))
        }
        ServiceKey::Fwmark { mark, v6 } => format!("FWM  {mark}{}", if *v6 { " IPv6" } else { "" }),
    };
    if !k.is_v6() {
        n.truncate(33);
    }
    n
}

fn dest_name(d: &DestSpec, numeric: bool) -> String {
    let mut n = addr_port(d.addr, d.port, numeric);
    if d.addr.is_ipv4() {
        n.truncate(28);
    }
    n
}

/// `print_largenum()`.
fn largenum(i: u64, exact: bool) -> String {
    if exact {
        let len = i.to_string().len();
        let w = if len <= 8 { 9 } else { len + 1 };
        return format!("{i:>w$}");
    }
    if i < 100_000_000 {
        format!("{i:>9}")
    } else if i < 1_000_000_000 {
        format!("{:>8}K", i / 1000)
    } else if i < 100_000_000_000 {
        format!("{:>8}M", i / 1_000_000)
    } else if i < 100_000_000_000_000 {
        format!("{:>8}G", i / 1_000_000_000)
    } else {
        format!("{:>8}T", i / 1_000_000_000_000)
    }
}

pub(crate) fn title(out: &mut String, o: &ListOpts) {
    if o.stats {
        let _ = writeln!(
            out,
            "{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port",
            "Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"
        );
    } else if o.rate {
        let _ = writeln!(
            out,
            "{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port",
            "Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"
        );
    } else if o.thresholds {
        let _ = writeln!(
            out,
            "{:<33} {:<10} {:<10} {:<10} {:<10}\n  -> RemoteAddress:Port",
            "Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
        );
    } else if o.persistent_conn {
        let _ = writeln!(
            out,
            "{:<33} {:<9} {:<11} {:<10} {:<10}\n  -> RemoteAddress:Port",
            "Prot LocalAddress:Port", "Weight", "PersistConn", "ActiveConn", "InActConn"
        );
    } else {
        out.push_str("Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
    }
}

/// `print_service_entry()`: the mask only when it is not the full one.
fn mask_suffix(s: &ServiceSpec, flag: &str) -> String {
    if s.netmask == full_netmask(s.key.is_v6()) {
        return String::new();
    }
    format!(" {flag} {}", s.netmask_text())
}

pub(crate) fn service_line(out: &mut String, s: &ServiceEntry, o: &ListOpts) {
    let name = service_name(&s.spec.key, o.numeric);
    if o.stats || o.rate {
        let v = if o.stats {
            [
                s.stats.conns,
                s.stats.inpkts,
                s.stats.outpkts,
                s.stats.inbytes,
                s.stats.outbytes,
            ]
        } else {
            [
                s.rates.cps,
                s.rates.inpps,
                s.rates.outpps,
                s.rates.inbps,
                s.rates.outbps,
            ]
        };
        let _ = write!(out, "{name:<33}");
        for x in v {
            out.push_str(&largenum(x, o.exact));
        }
        out.push('\n');
    } else {
        let mut l = format!("{name} {}", s.spec.scheduler);
        if !s.spec.sched_flags.is_empty() {
            l.push_str(&format!(" ({})", s.spec.sched_flags.join(",")));
        }
        if let Some(t) = s.spec.persistent {
            l.push_str(&format!(" persistent {t}"));
            l.push_str(&mask_suffix(&s.spec, "mask"));
        }
        let _ = writeln!(out, "{l}");
    }
    for d in &s.dests {
        let dn = dest_name(&d.spec, o.numeric);
        if o.stats {
            let _ = write!(out, "  -> {dn:<28}");
            for x in [
                d.stats.conns,
                d.stats.inpkts,
                d.stats.outpkts,
                d.stats.inbytes,
                d.stats.outbytes,
            ] {
                out.push_str(&largenum(x, o.exact));
            }
            out.push('\n');
        } else if o.rate {
            let _ = writeln!(
                out,
                "  -> {dn:<28} {:>8} {:>8} {:>8}{}{}",
                d.rates.cps,
                d.rates.inpps,
                d.rates.outpps,
                largenum(d.rates.inbps, o.exact),
                largenum(d.rates.outbps, o.exact)
            );
        } else if o.thresholds {
            let _ = writeln!(
                out,
                "  -> {dn:<28} {:<10} {:<10} {:<10} {:<10}",
                d.spec.u_threshold, d.spec.l_threshold, d.active, d.inactive
            );
        } else if o.persistent_conn {
            let _ = writeln!(
                out,
                "  -> {dn:<28} {:<9} {:<11} {:<10} {:<10}",
                d.spec.weight, d.persist, d.active, d.inactive
            );
        } else {
            let _ = writeln!(
                out,
                "  -> {dn:<28} {:<7} {:<6} {:<10} {:<10}",
                d.spec.fwd.name(),
                d.spec.weight,
                d.active,
                d.inactive
            );
        }
    }
}

/// glibc 2.36 `qsort` for these element sizes: a top-down stable merge
/// sort (`msort_with_tmp`), taking the left element when `cmp <= 0`. The
/// exact algorithm matters because ipvsadm's comparators are not a total
/// order (they subtract addresses with wrap-around).
fn glibc_msort<T: Clone>(v: &mut [T], cmp: &impl Fn(&T, &T) -> i64) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    glibc_msort(&mut v[..n1], cmp);
    glibc_msort(&mut v[n1..], cmp);
    let left: Vec<T> = v[..n1].to_vec();
    let right: Vec<T> = v[n1..].to_vec();
    let (mut a, mut b, mut k) = (0, 0, 0);
    while a < left.len() && b < right.len() {
        if cmp(&left[a], &right[b]) <= 0 {
            v[k] = left[a].clone();
            a += 1;
        } else {
            v[k] = right[b].clone();
            b += 1;
        }
        k += 1;
    }
    while a < left.len() {
        v[k] = left[a].clone();
        a += 1;
        k += 1;
    }
    while b < right.len() {
        v[k] = right[b].clone();
        b += 1;
        k += 1;
    }
}

/// `(int)(a - b)` on u32s, as the C comparators compute it.
fn wrap_diff(a: u32, b: u32) -> i64 {
    i64::from(a.wrapping_sub(b) as i32)
}

fn addr_cmp(a: IpAddr, b: IpAddr) -> i64 {
    match (a, b) {
        (IpAddr::V4(x), IpAddr::V4(y)) => wrap_diff(u32::from(x), u32::from(y)),
        (IpAddr::V6(x), IpAddr::V6(y)) => {
            let (x, y) = (x.octets(), y.octets());
            for w in 0..4 {
                let xa = u32::from_be_bytes([x[4 * w], x[4 * w + 1], x[4 * w + 2], x[4 * w + 3]]);
                let ya = u32::from_be_bytes([y[4 * w], y[4 * w + 1], y[4 * w + 2], y[4 * w + 3]]);
                let r = wrap_diff(xa, ya);
                if r != 0 {
                    return r;
                }
            }
            0
        }
        (IpAddr::V4(_), IpAddr::V6(_)) => -1,
        (IpAddr::V6(_), IpAddr::V4(_)) => 1,
    }
}

/// `cmp_services()`: fwmark, address family, protocol, address, port.
fn cmp_services(a: &ServiceEntry, b: &ServiceEntry) -> i64 {
    let parts = |k: &ServiceKey| -> (u32, u16, u16, IpAddr, u16) {
        match *k {
            ServiceKey::Addr { proto, addr, port } => (
                0,
                if addr.is_ipv4() { 2 } else { 10 },
                proto.number(),
                addr,
                port,
            ),
            ServiceKey::Fwmark { mark, v6 } => (
                mark,
                if v6 { 10 } else { 2 },
                6,
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                0,
            ),
        }
    };
    let (fa, afa, pa, aa, pra) = parts(&a.spec.key);
    let (fb, afb, pb, ab, prb) = parts(&b.spec.key);
    let r = wrap_diff(fa, fb);
    if r != 0 {
        return r;
    }
    let r = i64::from(afa) - i64::from(afb);
    if r != 0 {
        return r;
    }
    let r = i64::from(pa) - i64::from(pb);
    if r != 0 {
        return r;
    }
    let r = addr_cmp(aa, ab);
    if r != 0 {
        return r;
    }
    i64::from(pra) - i64::from(prb)
}

pub(crate) fn sort_services(v: &mut [ServiceEntry]) {
    glibc_msort(v, &cmp_services);
    for s in v.iter_mut() {
        glibc_msort(&mut s.dests, &|a: &DestEntry, b: &DestEntry| {
            let r = addr_cmp(a.spec.addr, b.spec.addr);
            if r != 0 {
                r
            } else {
                i64::from(a.spec.port) - i64::from(b.spec.port)
            }
        });
    }
}

/// The `-t ADDR:PORT` / `-u …` / `-f MARK` option naming a service.
pub fn service_opt(key: &ServiceKey, numeric: bool) -> String {
    match *key {
        ServiceKey::Addr { proto, addr, port } => format!(
            "{} {}",
            match proto {
                Proto::Tcp => "-t",
                Proto::Udp => "-u",
                Proto::Sctp => "--sctp-service",
            },
            addr_port(addr, port, numeric)
        ),
        ServiceKey::Fwmark { mark, v6 } => format!("-f {mark}{}", if v6 { " -6" } else { "" }),
    }
}

/// A service's options after the key, as `-S` writes them (` -s rr -p 300`).
pub fn service_args(spec: &ServiceSpec) -> String {
    let mut l = format!(" -s {}", spec.scheduler);
    if let Some(t) = spec.persistent {
        l.push_str(&format!(" -p {t}"));
        l.push_str(&mask_suffix(spec, "-M"));
    }
    if !spec.sched_flags.is_empty() {
        l.push_str(&format!(" -b {}", spec.sched_flags.join(",")));
    }
    l
}

/// A real server's options after the key, as `-S` writes them
/// (` -r 192.168.150.12:80 -g -w 1`).
pub fn dest_args(d: &DestSpec, numeric: bool) -> String {
    let flag = match d.fwd {
        Fwd::Route | Fwd::Local => "-g",
        Fwd::Tunnel => "-i",
        Fwd::Masq => "-m",
    };
    format!(
        " -r {} {flag} -w {}{}",
        addr_port(d.addr, d.port, numeric),
        d.weight,
        // Tunnel destinations carry their tunnel type (ipip here).
        if d.fwd == Fwd::Tunnel {
            " --tun-type ipip"
        } else {
            ""
        }
    )
}

/// `-S`: the rules as ipvsadm arguments.
pub fn format_save(services: &[ServiceEntry], numeric: bool) -> String {
    let mut out = String::new();
    for s in services {
        let key = service_opt(&s.spec.key, numeric);
        let _ = writeln!(out, "-A {key}{}", service_args(&s.spec));
        for d in &s.dests {
            let _ = writeln!(out, "-a {key}{}", dest_args(&d.spec, numeric));
        }
    }
    out
}

/// `-c`: `/proc/net/ip_vs_conn` as ipvsadm prints it.
pub fn format_conns(conns: &[ConnEntry], numeric: bool) -> String {
    let mut out = String::from("IPVS connection entries\npro expire state       source             virtual            destination\n");
    for c in conns {
        // Templates of fwmark services have protocol IP: ipvsadm prints their ports numerically.
        let num = numeric || c.proto == "IP";
        let expire = format!("{:02}:{:02}", c.expires / 60, c.expires % 60);
        let _ = writeln!(
            out,
            "{:<3} {:<6} {:<11} {:<18} {:<18} {}",
            c.proto,
            expire,
            c.state,
            addr_port(c.caddr, c.cport, num),
            addr_port(c.vaddr, c.vport, num),
            addr_port(c.daddr, c.dport, num)
        );
    }
    out
}
