//! `ip` from iproute2 6.1: `addr`, `link`, `route`, `neigh`, with iproute2's
//! abbreviations (`ip a`, `ip r`, `ip n`, `ip l`), options `-4`, `-o`, `-s`, `-V`,
//! and its output and error texts (including the kernel's extack messages
//! that 6.1 prints as `Error: …`).

mod addr;
mod link;
mod neigh;
mod route;

use addr::addr;
use link::{dev_index, link, link_header, link_line, no_device};
use neigh::neigh;
use route::route;

use super::{Io, Lab};
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

/// `get_addr()`'s failure (an address, where `get_prefix()` wants a
/// prefix), named by the family the command has so far: "inet" once an
/// IPv4 prefix was read (iproute_modify() takes its family), else "any
/// valid".
fn invalid_addr(io: &mut Io, s: &str, inet: bool) {
    let family = if inet { "inet" } else { "any valid" };
    io.errln(format!(
        "Error: {family} address is expected rather than \"{s}\"."
    ));
    io.status = 1;
}

fn parse_prefix(s: &str, default_len: u8) -> Option<(Ipv4Net, bool)> {
    let (a, l, explicit) = match s.split_once('/') {
        Some((a, l)) => (a, l.parse::<u8>().ok()?, true),
        None => (s, default_len, false),
    };
    let ip = get_addr_ipv4(a)?;
    Some((Ipv4Net::new(ip, l).ok()?, explicit))
}

fn parse_addr(s: &str) -> Option<Ipv4Addr> {
    get_addr_ipv4(s)
}

/// iproute2's `get_addr_ipv4()` (lib/utils.c): up to four dotted parts,
/// each `strtoul(…, 0)` (decimal, `0` octal, `0x` hex) and at most 255; the
/// parts not given are 0 (`192.168.150` is 192.168.150.0), so it is not
/// glibc's `inet_aton()`, whose last part fills the rest.
fn get_addr_ipv4(s: &str) -> Option<Ipv4Addr> {
    let mut out = [0u8; 4];
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    for (i, p) in parts.iter().enumerate() {
        // strtoul() skips blanks and takes a sign; a part needs a digit.
        let t = p.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
        let t = t.strip_prefix('+').unwrap_or(t);
        let n = crate::tools::libc::strtol_whole(t).filter(|n| (0..=255).contains(n))?;
        out[i] = n as u8;
    }
    Some(Ipv4Addr::from(out))
}

/// ip's global options (ip.c `main()`) that change what is printed.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Opts {
    /// `-4`: IPv4 only.
    pub inet_only: bool,
    /// `-o`/`-oneline`: each record on one line, its line breaks as `\`
    /// (iproute2's `_SL_`).
    pub oneline: bool,
}

pub fn ip(lab: &mut Lab, host: &str, args: &[String], io: &mut Io) {
    let mut i = 0;
    let mut opts = Opts::default();
    while i < args.len() && args[i].starts_with('-') {
        // ip.c takes `--opt` as `-opt` and long options by any prefix.
        let a = args[i].as_str();
        let opt = if a.starts_with("--") { &a[1..] } else { a };
        match opt {
            "-4" => opts.inet_only = true,
            "-s" | "-d" | "-br" | "-c" | "-n" => {}
            "-V" | "-Version" => {
                io.outln("ip utility, iproute2-6.1.0, libbpf 1.1.2");
                return;
            }
            "-6" => {
                // IPv6 is not modelled: every table is empty.
                return;
            }
            o if o.len() > 1 && m(o, "-oneline") => opts.oneline = true,
            _ => {
                io.errln(format!("Option \"{a}\" is unknown, try \"ip -help\"."));
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
        addr(lab, host, rest, opts, io)
    } else if m(o, "route") {
        route(lab, host, rest, io)
    } else if m(o, "rule") {
        crate::shell::route::ip_rule(rest, io)
    } else if m(o, "link") {
        link(lab, host, rest, opts, io)
    } else if m(o, "neighbour") || m(o, "neighbor") {
        neigh(lab, host, rest, io)
    } else {
        io.errln(format!("Object \"{o}\" is unknown, try \"ip help\"."));
        io.status = 255;
    }
}
