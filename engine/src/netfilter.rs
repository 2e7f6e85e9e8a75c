//! The mangle table of iptables: how fwmark virtual services get their
//! packets.
//!
//! Linux does: `iptable_mangle` registers the table's five built-in chains
//! on the netfilter hooks (PREROUTING before the routing decision, INPUT
//! for local delivery, FORWARD, OUTPUT for locally sent packets — which
//! includes what IPVS transmits, `ip_vs_send_or_cont()` → LOCAL_OUT — and
//! POSTROUTING). `ipt_do_table()` walks a chain's rules in order; a rule
//! whose matches all hold counts the packet (`skb->len`, the IP packet) and
//! runs its target. `MARK` (`mark_tg()`, xt_mark.c) sets
//! `skb->mark = (skb->mark & ~mask) ^ mark` and continues with the next
//! rule; ACCEPT and DROP end the walk; RETURN in a built-in chain applies
//! the policy. A packet that reaches the end gets the chain's policy,
//! counted in the policy counters. IPVS (`ip_vs_service_find()`) then looks
//! a marked packet up by its mark before address and port.
//!
//! We model the mangle table of the legacy back end as iptables 1.8.9
//! drives it (Debian 12): matches `-s -d -i -o -p`, `tcp`/`udp` ports,
//! `multiport`, `mark`; targets MARK, ACCEPT, DROP, RETURN; listings and
//! rule specs in iptables' own formats. One libiptc quirk of 1.8.9 is kept
//! because it shows in every `-L -v`: each change of the table resets the
//! built-in chains' policy counters (netfilter bugzilla #912, fixed in
//! 1.8.10); rule counters survive. Left out: other tables (filter, nat, raw
//! need modules the lab kernel lacks), user-defined chains, IPv6 and the
//! mark's other consumers (policy routing, local IPVS clients).

use serde::{Deserialize, Serialize};
use std::fmt::Write;
use std::net::Ipv4Addr;

/// A built-in chain of the mangle table, in `iptc_first_chain()` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Hook {
    Prerouting,
    Input,
    Forward,
    Output,
    Postrouting,
}

impl Hook {
    pub const ALL: [Hook; 5] = [
        Hook::Prerouting,
        Hook::Input,
        Hook::Forward,
        Hook::Output,
        Hook::Postrouting,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Hook::Prerouting => "PREROUTING",
            Hook::Input => "INPUT",
            Hook::Forward => "FORWARD",
            Hook::Output => "OUTPUT",
            Hook::Postrouting => "POSTROUTING",
        }
    }
    pub fn from_name(s: &str) -> Option<Hook> {
        Hook::ALL.into_iter().find(|h| h.name() == s)
    }
    fn index(self) -> usize {
        Hook::ALL.iter().position(|h| *h == self).unwrap_or(0)
    }
}

/// An address with a prefix length, as `-s`/`-d` take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cidr {
    pub addr: Ipv4Addr,
    pub len: u8,
}

impl Cidr {
    fn mask(self) -> u32 {
        u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0)
    }
    fn contains(self, a: Ipv4Addr) -> bool {
        u32::from(a) & self.mask() == u32::from(self.addr) & self.mask()
    }
    /// `ipaddr_to_numeric()` + `ipmask_to_numeric()`.
    fn text(self) -> String {
        format!("{}/{}", self.addr, self.len)
    }
}

/// A port or a range `lo:hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ports {
    pub lo: u16,
    pub hi: u16,
}

impl Ports {
    fn contains(self, p: u16) -> bool {
        (self.lo..=self.hi).contains(&p)
    }
    /// `lo[:hi]`, names from /etc/services unless numeric.
    fn text(self, numeric: bool) -> String {
        let one = |p: u16| match crate::ipvsadm::port_name(p) {
            Some(n) if !numeric => n.to_string(),
            _ => p.to_string(),
        };
        if self.lo == self.hi {
            one(self.lo)
        } else {
            format!("{}:{}", one(self.lo), one(self.hi))
        }
    }
}

/// Which ports `-m multiport` looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PortDir {
    Source,
    Destination,
    Either,
}

/// A match extension (`-m NAME …`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Match {
    /// `tcp`/`udp` (implied by `-p tcp --dport …`): `(ports, inverted)`.
    Ports {
        udp: bool,
        sport: Option<(Ports, bool)>,
        dport: Option<(Ports, bool)>,
    },
    Multiport {
        dir: PortDir,
        ports: Vec<Ports>,
        inv: bool,
    },
    /// `mark`: `(skb->mark & mask) == value`.
    Mark { value: u32, mask: u32, inv: bool },
}

/// What a rule does with a packet it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    Accept,
    Drop,
    Return,
    /// `MARK` revision 2: `mark = (mark & ~mask) ^ value`.
    Mark {
        value: u32,
        mask: u32,
    },
}

/// A rule: the `ipt_ip` part, matches and target, and its counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSpec {
    pub src: Option<(Cidr, bool)>,
    pub dst: Option<(Cidr, bool)>,
    pub in_if: Option<(String, bool)>,
    pub out_if: Option<(String, bool)>,
    /// IP protocol number (0: all), inverted.
    pub proto: (u8, bool),
    pub matches: Vec<Match>,
    /// None: no `-j` (the rule only counts).
    pub target: Option<Target>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub spec: RuleSpec,
    pub pkts: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chain {
    /// ACCEPT (true) or DROP.
    pub accept: bool,
    pub pkts: u64,
    pub bytes: u64,
    pub rules: Vec<Rule>,
}

/// The mangle table of one network namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mangle {
    pub chains: Vec<Chain>,
}

impl Default for Mangle {
    fn default() -> Self {
        Mangle {
            chains: Hook::ALL
                .iter()
                .map(|_| Chain {
                    accept: true,
                    pkts: 0,
                    bytes: 0,
                    rules: Vec::new(),
                })
                .collect(),
        }
    }
}

/// What the hook needs of a packet.
#[derive(Debug, Clone, Copy)]
pub struct Pkt<'a> {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub proto: u8,
    /// TCP/UDP ports, if the packet has them.
    pub ports: Option<(u16, u16)>,
    /// `skb->len`: the IP packet's length.
    pub len: u64,
    pub in_if: Option<&'a str>,
    pub out_if: Option<&'a str>,
}

/// The outcome of a chain walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub accept: bool,
    pub mark: u32,
    /// The 1-based rule whose MARK target changed the mark last, if any.
    pub marked_by: Option<usize>,
}

/// `iface_match`: `eth+` matches every name starting with `eth`.
fn iface_matches(pattern: &str, name: Option<&str>) -> bool {
    let Some(name) = name else {
        return false;
    };
    match pattern.strip_suffix('+') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

impl RuleSpec {
    fn matches(&self, p: &Pkt<'_>, mark: u32) -> bool {
        let hold = |ok: bool, inv: bool| ok != inv;
        if let Some((c, inv)) = self.src {
            if !hold(c.contains(p.src), inv) {
                return false;
            }
        }
        if let Some((c, inv)) = self.dst {
            if !hold(c.contains(p.dst), inv) {
                return false;
            }
        }
        if let Some((i, inv)) = &self.in_if {
            if !hold(iface_matches(i, p.in_if), *inv) {
                return false;
            }
        }
        if let Some((o, inv)) = &self.out_if {
            if !hold(iface_matches(o, p.out_if), *inv) {
                return false;
            }
        }
        let (proto, inv) = self.proto;
        if proto != 0 && !hold(p.proto == proto, inv) {
            return false;
        }
        self.matches.iter().all(|m| match m {
            Match::Ports { sport, dport, .. } => {
                let Some((sp, dp)) = p.ports else {
                    return false;
                };
                sport.is_none_or(|(r, inv)| hold(r.contains(sp), inv))
                    && dport.is_none_or(|(r, inv)| hold(r.contains(dp), inv))
            }
            Match::Multiport { dir, ports, inv } => {
                let Some((sp, dp)) = p.ports else {
                    return false;
                };
                let any = ports.iter().any(|r| match dir {
                    PortDir::Source => r.contains(sp),
                    PortDir::Destination => r.contains(dp),
                    PortDir::Either => r.contains(sp) || r.contains(dp),
                });
                hold(any, *inv)
            }
            Match::Mark { value, mask, inv } => hold(mark & mask == *value, *inv),
        })
    }
}

/// Why a table change was refused, in iptables' words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("iptables: Index of deletion too big.")]
    DeleteIndex,
    #[error("iptables: Index of insertion too big.")]
    InsertIndex,
    #[error("iptables: Index of replacement too big.")]
    ReplaceIndex,
    #[error("iptables: Bad rule (does a matching rule exist in that chain?).")]
    NoSuchRule,
}

impl Mangle {
    pub fn chain(&self, h: Hook) -> &Chain {
        &self.chains[h.index()]
    }
    fn chain_mut(&mut self, h: Hook) -> &mut Chain {
        &mut self.chains[h.index()]
    }

    /// Does any chain hold a rule? (Hooks with no rules cost nothing but
    /// the policy count.)
    pub fn is_empty(&self) -> bool {
        self.chains.iter().all(|c| c.rules.is_empty())
    }

    /// `ipt_do_table()` for one packet at `hook`, starting from `mark`.
    pub fn run(&mut self, hook: Hook, p: &Pkt<'_>, mut mark: u32) -> Verdict {
        let chain = self.chain_mut(hook);
        let mut marked_by = None;
        for (i, r) in chain.rules.iter_mut().enumerate() {
            if !r.spec.matches(p, mark) {
                continue;
            }
            r.pkts += 1;
            r.bytes += p.len;
            match r.spec.target {
                None => {}
                Some(Target::Mark { value, mask }) => {
                    let new = (mark & !mask) ^ value;
                    if new != mark {
                        marked_by = Some(i + 1);
                    }
                    mark = new;
                }
                Some(Target::Accept) => {
                    return Verdict {
                        accept: true,
                        mark,
                        marked_by,
                    }
                }
                Some(Target::Drop) => {
                    return Verdict {
                        accept: false,
                        mark,
                        marked_by,
                    }
                }
                Some(Target::Return) => break,
            }
        }
        chain.pkts += 1;
        chain.bytes += p.len;
        Verdict {
            accept: chain.accept,
            mark,
            marked_by,
        }
    }

    /// What libiptc 1.8.9 does to counters on every commit (see the module
    /// docs): the policy counters restart from zero.
    fn committed(&mut self) {
        for c in &mut self.chains {
            c.pkts = 0;
            c.bytes = 0;
        }
    }

    pub fn append(&mut self, h: Hook, spec: RuleSpec) {
        self.chain_mut(h).rules.push(Rule {
            spec,
            pkts: 0,
            bytes: 0,
        });
        self.committed();
    }

    /// `-I CHAIN [N]` (1-based; one past the end appends).
    pub fn insert(&mut self, h: Hook, n: usize, spec: RuleSpec) -> Result<(), TableError> {
        let rules = &mut self.chain_mut(h).rules;
        if n == 0 || n > rules.len() + 1 {
            return Err(TableError::InsertIndex);
        }
        rules.insert(
            n - 1,
            Rule {
                spec,
                pkts: 0,
                bytes: 0,
            },
        );
        self.committed();
        Ok(())
    }

    /// `-R CHAIN N`: the new rule starts with zero counters.
    pub fn replace(&mut self, h: Hook, n: usize, spec: RuleSpec) -> Result<(), TableError> {
        let rules = &mut self.chain_mut(h).rules;
        let r = n
            .checked_sub(1)
            .and_then(|i| rules.get_mut(i))
            .ok_or(TableError::ReplaceIndex)?;
        *r = Rule {
            spec,
            pkts: 0,
            bytes: 0,
        };
        self.committed();
        Ok(())
    }

    pub fn delete_at(&mut self, h: Hook, n: usize) -> Result<(), TableError> {
        let rules = &mut self.chain_mut(h).rules;
        if n == 0 || n > rules.len() {
            return Err(TableError::DeleteIndex);
        }
        rules.remove(n - 1);
        self.committed();
        Ok(())
    }

    /// `-D CHAIN RULE`: the first rule with the same spec.
    pub fn delete_spec(&mut self, h: Hook, spec: &RuleSpec) -> Result<(), TableError> {
        let rules = &mut self.chain_mut(h).rules;
        let i = rules
            .iter()
            .position(|r| r.spec == *spec)
            .ok_or(TableError::NoSuchRule)?;
        rules.remove(i);
        self.committed();
        Ok(())
    }

    /// `-F [CHAIN]`.
    pub fn flush(&mut self, h: Option<Hook>) {
        for hook in Hook::ALL {
            if h.is_none_or(|h| h == hook) {
                self.chain_mut(hook).rules.clear();
            }
        }
        self.committed();
    }

    /// `-Z [CHAIN]`: rule and policy counters.
    pub fn zero(&mut self, h: Option<Hook>) {
        for hook in Hook::ALL {
            if h.is_none_or(|h| h == hook) {
                let c = self.chain_mut(hook);
                c.pkts = 0;
                c.bytes = 0;
                for r in &mut c.rules {
                    r.pkts = 0;
                    r.bytes = 0;
                }
            }
        }
        self.committed();
    }

    /// `-P CHAIN ACCEPT|DROP`.
    pub fn policy(&mut self, h: Hook, accept: bool) {
        self.chain_mut(h).accept = accept;
        self.committed();
    }
}

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
fn num(n: u64, f: ListFormat, notable: bool) -> String {
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
fn mark_text(value: u32, mask: u32) -> String {
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

fn target_name(t: Option<Target>) -> &'static str {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn vip_rule(mark: u32) -> RuleSpec {
        RuleSpec {
            dst: Some((
                Cidr {
                    addr: Ipv4Addr::new(192, 168, 150, 100),
                    len: 32,
                },
                false,
            )),
            proto: (6, false),
            matches: vec![Match::Ports {
                udp: false,
                sport: None,
                dport: Some((Ports { lo: 80, hi: 80 }, false)),
            }],
            target: Some(Target::Mark {
                value: mark,
                mask: u32::MAX,
            }),
            ..Default::default()
        }
    }

    fn pkt(dport: u16, len: u64) -> Pkt<'static> {
        Pkt {
            src: Ipv4Addr::new(192, 168, 150, 1),
            dst: Ipv4Addr::new(192, 168, 150, 100),
            proto: 6,
            ports: Some((40000, dport)),
            len,
            in_if: Some("eth0"),
            out_if: None,
        }
    }

    #[test]
    fn mark_continues_and_the_policy_counts_every_packet() {
        let mut m = Mangle::default();
        m.append(Hook::Prerouting, vip_rule(1));
        let v = m.run(Hook::Prerouting, &pkt(80, 60), 0);
        assert_eq!((v.accept, v.mark, v.marked_by), (true, 1, Some(1)));
        let v = m.run(Hook::Prerouting, &pkt(443, 52), 0);
        assert_eq!((v.mark, v.marked_by), (0, None));
        let c = m.chain(Hook::Prerouting);
        assert_eq!((c.rules[0].pkts, c.rules[0].bytes), (1, 60));
        assert_eq!((c.pkts, c.bytes), (2, 112), "MARK does not end the walk");
        // Recorded in the VM (iptables 1.8.9 legacy): -L -n -v.
        assert_eq!(
            list(
                &m,
                Some(Hook::Prerouting),
                ListFormat {
                    numeric: true,
                    verbose: true,
                    ..Default::default()
                }
            ),
            "Chain PREROUTING (policy ACCEPT 2 packets, 112 bytes)\n pkts bytes target     prot opt in     out     source               destination         \n    1    60 MARK       6    --  *      *       0.0.0.0/0            192.168.150.100      tcp dpt:80 MARK set 0x1\n"
        );
        // A change resets the policy counters, not the rules'.
        m.append(Hook::Prerouting, vip_rule(2));
        let c = m.chain(Hook::Prerouting);
        assert_eq!((c.pkts, c.rules[0].pkts), (0, 1));
        assert_eq!(
            save_rules(&m, Some(Hook::Prerouting)),
            "-P PREROUTING ACCEPT\n-A PREROUTING -d 192.168.150.100/32 -p tcp -m tcp --dport 80 -j MARK --set-xmark 0x1/0xffffffff\n-A PREROUTING -d 192.168.150.100/32 -p tcp -m tcp --dport 80 -j MARK --set-xmark 0x2/0xffffffff\n"
        );
        // The later rule wins.
        assert_eq!(m.run(Hook::Prerouting, &pkt(80, 60), 0).mark, 2);
    }

    #[test]
    fn targets_and_matches() {
        let mut m = Mangle::default();
        let mut accept = vip_rule(0);
        accept.target = Some(Target::Accept);
        m.append(Hook::Prerouting, accept);
        m.append(Hook::Prerouting, vip_rule(7));
        assert_eq!(
            m.run(Hook::Prerouting, &pkt(80, 60), 0).mark,
            0,
            "ACCEPT ends the walk"
        );
        assert_eq!(m.chain(Hook::Prerouting).pkts, 0);
        m.flush(None);
        let mut r = vip_rule(0);
        r.matches = vec![
            Match::Multiport {
                dir: PortDir::Destination,
                ports: vec![Ports { lo: 80, hi: 80 }, Ports { lo: 440, hi: 450 }],
                inv: false,
            },
            Match::Mark {
                value: 0,
                mask: 0xff,
                inv: false,
            },
        ];
        r.target = Some(Target::Mark {
            value: 0x10,
            mask: 0xf0,
        });
        m.append(Hook::Prerouting, r);
        assert_eq!(m.run(Hook::Prerouting, &pkt(443, 60), 0x100).mark, 0x110);
        assert_eq!(m.run(Hook::Prerouting, &pkt(443, 60), 0x1).mark, 0x1);
        assert_eq!(m.run(Hook::Prerouting, &pkt(8080, 60), 0).mark, 0);
        assert!(m
            .list(Hook::Prerouting)
            .contains("multiport dports http,440:450 mark match 0x0/0xff MARK xset 0x10/0xf0"));
        assert_eq!(
            m.delete_at(Hook::Prerouting, 2),
            Err(TableError::DeleteIndex)
        );
        assert_eq!(
            m.delete_spec(Hook::Prerouting, &vip_rule(1)),
            Err(TableError::NoSuchRule)
        );
        m.policy(Hook::Prerouting, false);
        assert!(!m.run(Hook::Prerouting, &pkt(1, 60), 0).accept);
        assert_eq!(num(123_456, ListFormat::default(), false), " 123K ");
        assert_eq!(num(99_999, ListFormat::default(), false), "99999 ");
        assert_eq!(mark_text(0, 0xffff_fffe), " MARK and 0x1");
    }

    impl Mangle {
        fn list(&self, h: Hook) -> String {
            list(self, Some(h), ListFormat::default())
        }
    }
}
