//! iptables 1.8.9's output formats (iptables/iptables.c `print_firewall()`,
//! `list_entries()`; iptables-save): `-L` with `-n -v -x --line-numbers`,
//! `-S` rule specs and `iptables-save` lines, numbers as `xtables_print_num()`
//! prints them.

use crate::net::netfilter::mangle::*;
use crate::net::netfilter::Hook;
use std::fmt::Write;

/// How `-L` prints (`list_entries()` format flags).
#[derive(Debug, Clone, Copy, Default)]
pub struct ListFormat {
    pub numeric: bool,
    pub verbose: bool,
    pub exact: bool,
    pub line_numbers: bool,
}

/// `xtables_print_num()`: `%5llu`, else rounded thousands with K/M/G/T
/// (`-x`: `%8llu`). `notable` drops the padding (policy line).
pub(crate) fn num(n: u64, f: ListFormat, notable: bool) -> String {
    if f.exact {
        return if notable {
            format!("{n} ")
        } else {
            format!("{n:>8} ")
        };
    }
    let mut v = n;
    if v <= 99_999 {
        return if notable {
            format!("{v} ")
        } else {
            format!("{v:>5} ")
        };
    }
    for unit in ['K', 'M', 'G'] {
        v = (v + 500) / 1000;
        if v <= 9999 {
            return if notable {
                format!("{v}{unit} ")
            } else {
                format!("{v:>4}{unit} ")
            };
        }
    }
    v = (v + 500) / 1000;
    if notable {
        format!("{v}T ")
    } else {
        format!("{v:>4}T ")
    }
}

/// `proto_to_name()`: 1.8.9 prints the number under `-n`.
fn proto_text(p: u8, numeric: bool) -> String {
    match (p, numeric) {
        (0, _) => "all".into(),
        (_, true) => p.to_string(),
        (1, false) => "icmp".into(),
        (6, false) => "tcp".into(),
        (17, false) => "udp".into(),
        (132, false) => "sctp".into(),
        _ => p.to_string(),
    }
}

/// The name `-p` takes and `-S` prints.
pub fn proto_name(p: u8) -> String {
    proto_text(p, false)
}

fn inv_char(inv: bool) -> char {
    if inv {
        '!'
    } else {
        ' '
    }
}

fn match_text(m: &Match, numeric: bool) -> String {
    let bang = |inv: bool| if inv { "!" } else { "" };
    match m {
        Match::Ports { udp, sport, dport } => {
            let proto = if *udp { "udp" } else { "tcp" };
            let mut s = format!(" {proto}");
            for (name, p) in [("spt", sport), ("dpt", dport)] {
                if let Some((r, inv)) = p {
                    let name = if r.lo == r.hi {
                        name.to_string()
                    } else {
                        format!("{name}s")
                    };
                    let _ = write!(s, " {name}:{}{}", bang(*inv), r.text(numeric));
                }
            }
            s
        }
        Match::Multiport { dir, ports, inv } => {
            let d = match dir {
                PortDir::Source => "sports",
                PortDir::Destination => "dports",
                PortDir::Either => "ports",
            };
            let list: Vec<String> = ports.iter().map(|r| r.text(numeric)).collect();
            format!(
                " multiport {d} {}{}",
                if *inv { "! " } else { "" },
                list.join(",")
            )
        }
        Match::Mark { value, mask, inv } => {
            let mut s = format!(" mark match {}0x{value:x}", if *inv { "!" } else { "" });
            if *mask != u32::MAX {
                let _ = write!(s, "/0x{mask:x}");
            }
            s
        }
    }
}

/// `mark_tg_print()`.
pub(crate) fn mark_text(value: u32, mask: u32) -> String {
    if value == 0 {
        format!(" MARK and 0x{:x}", !mask)
    } else if value == mask {
        format!(" MARK or 0x{value:x}")
    } else if mask == 0 {
        format!(" MARK xor 0x{value:x}")
    } else if mask == u32::MAX {
        format!(" MARK set 0x{value:x}")
    } else {
        format!(" MARK xset 0x{value:x}/0x{mask:x}")
    }
}

pub(crate) fn target_name(t: Option<Target>) -> &'static str {
    match t {
        None => "",
        Some(Target::Accept) => "ACCEPT",
        Some(Target::Drop) => "DROP",
        Some(Target::Return) => "RETURN",
        Some(Target::Mark { .. }) => "MARK",
    }
}

/// `print_header()` + `print_firewall()` for one chain.
fn list_chain(out: &mut String, h: Hook, c: &Chain, f: ListFormat) {
    let policy = if c.accept { "ACCEPT" } else { "DROP" };
    let _ = write!(out, "Chain {} (policy {policy}", h.name());
    if f.verbose {
        let _ = write!(
            out,
            " {}packets, {}bytes",
            num(c.pkts, f, true),
            num(c.bytes, f, true)
        );
    }
    out.push_str(")\n");
    if f.line_numbers {
        out.push_str("num  ");
    }
    if f.verbose {
        if f.exact {
            out.push_str("    pkts      bytes ");
        } else {
            out.push_str(" pkts bytes ");
        }
    }
    out.push_str("target     prot opt");
    if f.verbose {
        out.push_str(" in     out    ");
    }
    out.push_str(" source               destination         \n");
    for (i, r) in c.rules.iter().enumerate() {
        let s = &r.spec;
        if f.line_numbers {
            let _ = write!(out, "{:<4} ", i + 1);
        }
        if f.verbose {
            out.push_str(&num(r.pkts, f, false));
            out.push_str(&num(r.bytes, f, false));
        }
        let _ = write!(
            out,
            "{:<9} {}{:<5}-- ",
            target_name(s.target),
            inv_char(s.proto.1),
            proto_text(s.proto.0, f.numeric)
        );
        if f.verbose {
            // `print_ifaces()`: "!" is part of the name.
            let iface = |i: &Option<(String, bool)>| match i {
                Some((n, true)) => format!("!{n}"),
                Some((n, false)) => n.clone(),
                None => "*".to_string(),
            };
            let _ = write!(out, " {:<6} {:<6} ", iface(&s.in_if), iface(&s.out_if));
        }
        for a in [s.src, s.dst] {
            let text = match a {
                None if !f.numeric => "anywhere".to_string(),
                None => "0.0.0.0/0".to_string(),
                Some((c, _)) if c.len == 32 => c.addr.to_string(),
                Some((c, _)) => c.text(),
            };
            let _ = write!(out, "{}{text:<19} ", inv_char(a.is_some_and(|(_, i)| i)));
        }
        for m in &s.matches {
            out.push_str(&match_text(m, f.numeric));
        }
        if let Some(Target::Mark { value, mask }) = s.target {
            out.push_str(&mark_text(value, mask));
        }
        out.push('\n');
    }
}

/// `iptables -t mangle -L [CHAIN]`.
pub fn list(m: &Mangle, chain: Option<Hook>, f: ListFormat) -> String {
    let mut out = String::new();
    for h in Hook::ALL {
        if chain.is_some_and(|c| c != h) {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        list_chain(&mut out, h, m.chain(h), f);
    }
    out
}

/// A rule as `-S` and `iptables-save` print it (after `-A CHAIN`).
pub fn rule_args(s: &RuleSpec) -> String {
    let mut out = String::new();
    let bang = |inv: bool| if inv { "! " } else { "" };
    if let Some((c, inv)) = s.src {
        let _ = write!(out, " {}-s {}", bang(inv), c.text());
    }
    if let Some((c, inv)) = s.dst {
        let _ = write!(out, " {}-d {}", bang(inv), c.text());
    }
    if let Some((i, inv)) = &s.in_if {
        let _ = write!(out, " {}-i {i}", bang(*inv));
    }
    if let Some((o, inv)) = &s.out_if {
        let _ = write!(out, " {}-o {o}", bang(*inv));
    }
    if s.proto.0 != 0 {
        let _ = write!(out, " {}-p {}", bang(s.proto.1), proto_name(s.proto.0));
    }
    for m in &s.matches {
        match m {
            Match::Ports { udp, sport, dport } => {
                let _ = write!(out, " -m {}", if *udp { "udp" } else { "tcp" });
                for (opt, p) in [("--sport", sport), ("--dport", dport)] {
                    if let Some((r, inv)) = p {
                        let _ = write!(out, " {}{opt} {}", bang(*inv), r.text(true));
                    }
                }
            }
            Match::Multiport { dir, ports, inv } => {
                let d = match dir {
                    PortDir::Source => "--sports",
                    PortDir::Destination => "--dports",
                    PortDir::Either => "--ports",
                };
                let list: Vec<String> = ports.iter().map(|r| r.text(true)).collect();
                let _ = write!(out, " -m multiport {}{d} {}", bang(*inv), list.join(","));
            }
            Match::Mark { value, mask, inv } => {
                let _ = write!(out, " -m mark {}--mark 0x{value:x}", bang(*inv));
                if *mask != u32::MAX {
                    let _ = write!(out, "/0x{mask:x}");
                }
            }
        }
    }
    match s.target {
        None => {}
        Some(Target::Mark { value, mask }) => {
            let _ = write!(out, " -j MARK --set-xmark 0x{value:x}/0x{mask:x}");
        }
        Some(t) => {
            let _ = write!(out, " -j {}", target_name(Some(t)));
        }
    }
    out
}

/// `iptables -t mangle -S [CHAIN]`.
pub fn save_rules(m: &Mangle, chain: Option<Hook>) -> String {
    let mut out = String::new();
    for h in Hook::ALL {
        if chain.is_none_or(|c| c == h) {
            let p = if m.chain(h).accept { "ACCEPT" } else { "DROP" };
            let _ = writeln!(out, "-P {} {p}", h.name());
        }
    }
    for h in Hook::ALL {
        if chain.is_none_or(|c| c == h) {
            for r in &m.chain(h).rules {
                let _ = writeln!(out, "-A {}{}", h.name(), rule_args(&r.spec));
            }
        }
    }
    out
}
