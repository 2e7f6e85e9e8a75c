//! The mangle table (net/ipv4/netfilter/iptable_mangle.c over ip_tables.c):
//! its five built-in chains, their rules and counters, and `ipt_do_table()`'s
//! walk of a chain (see the module above for the rules it follows).

use super::*;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// An address with a prefix length, as `-s`/`-d` take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cidr {
    pub addr: Ipv4Addr,
    pub len: u8,
}

impl Cidr {
    pub(crate) fn mask(self) -> u32 {
        u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0)
    }

    pub(crate) fn contains(self, a: Ipv4Addr) -> bool {
        u32::from(a) & self.mask() == u32::from(self.addr) & self.mask()
    }

    /// `ipaddr_to_numeric()` + `ipmask_to_numeric()`.
    pub(crate) fn text(self) -> String {
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
    pub(crate) fn contains(self, p: u16) -> bool {
        (self.lo..=self.hi).contains(&p)
    }

    /// `lo[:hi]`, names from /etc/services unless numeric.
    pub(crate) fn text(self, numeric: bool) -> String {
        let one = |p: u16| match crate::tools::services::port_name(p) {
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
    pub(crate) fn matches(&self, p: &Pkt<'_>, mark: u32) -> bool {
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

    pub(crate) fn chain_mut(&mut self, h: Hook) -> &mut Chain {
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
