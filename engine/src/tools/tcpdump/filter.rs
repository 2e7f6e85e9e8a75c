//! The capture filter (pcap-filter(7), compiled by libpcap's gencode.c):
//! the primitives a lab session uses — `arp`, `ip`, `icmp`, `tcp`, `udp`,
//! `[src|dst] [host] ADDR`, `[src|dst] net CIDR`, `[tcp|udp] [src|dst]
//! port N`, `ether [src|dst] [host] MAC` — joined by `and`/`&&`, `or`/`||`,
//! `not`/`!` and parentheses, with pcap's precedence (not > and = or,
//! left to right: pcap gives `and` and `or` the same precedence).
//! A bare address after a qualified primitive inherits its qualifiers
//! (`host a or b`), as libpcap does. Left out: byte offsets
//! (`tcp[13] & 2 != 0`), `portrange`, `vlan`, IPv6.

use crate::wire::{FrameRepr, Mac, Payload, L4};
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    Src,
    Dst,
    Either,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Arp,
    Ip,
    Icmp,
    Tcp,
    Udp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    Proto(Proto),
    Host(Dir, Ipv4Addr),
    Net(Dir, Ipv4Net),
    Port(Option<Proto>, Dir, u16),
    Ether(Dir, Mac),
    Not(Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

/// libpcap's message for an expression it cannot compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

fn syntax() -> FilterError {
    FilterError("can't parse filter expression: syntax error".into())
}

/// What a bare value means after the last primitive (`host a or b`).
#[derive(Debug, Clone, Copy)]
enum Last {
    Host(Dir),
    Net(Dir),
    Port(Option<Proto>, Dir),
    None,
}

struct Parser<'a> {
    toks: Vec<&'a str>,
    at: usize,
    last: Last,
}

impl Filter {
    /// Parse the words after tcpdump's options (joined, as tcpdump does).
    pub fn parse(words: &[String]) -> Result<Option<Filter>, FilterError> {
        let text = words.join(" ");
        let spaced = text.replace('(', " ( ").replace(')', " ) ");
        let toks: Vec<&str> = spaced.split_whitespace().collect();
        if toks.is_empty() {
            return Ok(None);
        }
        let mut p = Parser {
            toks,
            at: 0,
            last: Last::None,
        };
        let f = p.expr()?;
        if p.at != p.toks.len() {
            return Err(syntax());
        }
        Ok(Some(f))
    }

    pub fn matches(&self, f: &FrameRepr) -> bool {
        let ip = match &f.payload {
            Payload::Ipv4(ip) => Some(ip),
            _ => None,
        };
        let dir_match = |d: Dir, src: bool, dst: bool| match d {
            Dir::Src => src,
            Dir::Dst => dst,
            Dir::Either => src || dst,
        };
        match self {
            Filter::Proto(p) => match p {
                Proto::Arp => matches!(f.payload, Payload::Arp(_)),
                Proto::Ip => ip.is_some(),
                Proto::Icmp => ip.is_some_and(|i| matches!(i.l4, L4::Icmp(_))),
                Proto::Tcp => ip.is_some_and(|i| matches!(i.l4, L4::Tcp(_))),
                Proto::Udp => ip.is_some_and(|i| matches!(i.l4, L4::Udp(_))),
            },
            Filter::Host(d, a) => match &f.payload {
                Payload::Ipv4(i) => dir_match(*d, i.src == *a, i.dst == *a),
                // `host` also matches ARP's protocol addresses (gencode's
                // gen_host for Q_DEFAULT covers ip, arp and rarp).
                Payload::Arp(x) => dir_match(*d, x.sender_ip == *a, x.target_ip == *a),
                Payload::Other { .. } => false,
            },
            Filter::Net(d, n) => match &f.payload {
                Payload::Ipv4(i) => dir_match(*d, n.contains(&i.src), n.contains(&i.dst)),
                Payload::Arp(x) => {
                    dir_match(*d, n.contains(&x.sender_ip), n.contains(&x.target_ip))
                }
                Payload::Other { .. } => false,
            },
            Filter::Port(proto, d, port) => {
                let Some(i) = ip else { return false };
                let (p, s, t) = match &i.l4 {
                    L4::Tcp(t) => (Proto::Tcp, t.src_port, t.dst_port),
                    L4::Udp(u) => (Proto::Udp, u.src_port, u.dst_port),
                    _ => return false,
                };
                proto.is_none_or(|want| want == p) && dir_match(*d, s == *port, t == *port)
            }
            Filter::Ether(d, m) => dir_match(*d, f.src == *m, f.dst == *m),
            Filter::Not(a) => !a.matches(f),
            Filter::And(a, b) => a.matches(f) && b.matches(f),
            Filter::Or(a, b) => a.matches(f) || b.matches(f),
        }
    }
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a str> {
        self.toks.get(self.at).copied()
    }

    fn next(&mut self) -> Option<&'a str> {
        let t = self.toks.get(self.at).copied();
        self.at += 1;
        t
    }

    /// and/or at one precedence, left to right.
    fn expr(&mut self) -> Result<Filter, FilterError> {
        let mut left = self.unary()?;
        while let Some(op) = self.peek() {
            let and = matches!(op, "and" | "&&");
            let or = matches!(op, "or" | "||");
            if !and && !or {
                break;
            }
            self.at += 1;
            let right = self.unary()?;
            left = if and {
                Filter::And(Box::new(left), Box::new(right))
            } else {
                Filter::Or(Box::new(left), Box::new(right))
            };
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        match self.peek() {
            Some("not" | "!") => {
                self.at += 1;
                Ok(Filter::Not(Box::new(self.unary()?)))
            }
            Some("(") => {
                self.at += 1;
                let e = self.expr()?;
                if self.next() != Some(")") {
                    return Err(syntax());
                }
                Ok(e)
            }
            Some(_) => self.primitive(),
            None => Err(syntax()),
        }
    }

    fn primitive(&mut self) -> Result<Filter, FilterError> {
        let mut proto = None;
        let mut dir = Dir::Either;
        let mut seen_qualifier = false;
        loop {
            match self.peek() {
                Some(p @ ("arp" | "ip" | "icmp" | "tcp" | "udp")) => {
                    proto = Some(match p {
                        "arp" => Proto::Arp,
                        "ip" => Proto::Ip,
                        "icmp" => Proto::Icmp,
                        "tcp" => Proto::Tcp,
                        _ => Proto::Udp,
                    });
                    self.at += 1;
                    seen_qualifier = true;
                }
                Some("src") => {
                    dir = Dir::Src;
                    self.at += 1;
                    seen_qualifier = true;
                    if self.peek() == Some("or") {
                        return Err(syntax());
                    }
                }
                Some("dst") => {
                    dir = Dir::Dst;
                    self.at += 1;
                    seen_qualifier = true;
                }
                _ => break,
            }
        }
        match self.peek() {
            Some("host") => {
                self.at += 1;
                let a = self.value()?;
                self.last = Last::Host(dir);
                Ok(Filter::Host(dir, parse_ip(a)?))
            }
            Some("net") => {
                self.at += 1;
                let a = self.value()?;
                self.last = Last::Net(dir);
                Ok(Filter::Net(dir, parse_net(a)?))
            }
            Some("port") => {
                self.at += 1;
                let a = self.value()?;
                let port = parse_port(a)?;
                let p = match proto {
                    Some(Proto::Tcp) | Some(Proto::Udp) | None => proto,
                    Some(_) => {
                        return Err(FilterError("port applied to a non-TCP/UDP protocol".into()))
                    }
                };
                self.last = Last::Port(p, dir);
                Ok(Filter::Port(p, dir, port))
            }
            Some("ether") => {
                self.at += 1;
                let mut d = Dir::Either;
                match self.peek() {
                    Some("src") => {
                        d = Dir::Src;
                        self.at += 1;
                    }
                    Some("dst") => {
                        d = Dir::Dst;
                        self.at += 1;
                    }
                    _ => {}
                }
                if self.peek() == Some("host") {
                    self.at += 1;
                }
                let m = self.value()?;
                let mac = m
                    .parse::<Mac>()
                    .map_err(|_| FilterError(format!("bogus ethernet address {m}")))?;
                Ok(Filter::Ether(d, mac))
            }
            Some(v) if !matches!(v, "and" | "&&" | "or" | "||" | ")" | "(" | "not" | "!") => {
                // A bare value: an address (or a qualifier-inherited one).
                let v = v.to_string();
                self.at += 1;
                if seen_qualifier || matches!(self.last, Last::None) {
                    if v.parse::<Ipv4Addr>().is_ok() {
                        self.last = Last::Host(dir);
                        return Ok(Filter::Host(dir, parse_ip(&v)?));
                    }
                    return Err(FilterError(format!(
                        "can't parse filter expression: syntax error in \"{v}\""
                    )));
                }
                Ok(match self.last {
                    Last::Host(d) => Filter::Host(d, parse_ip(&v)?),
                    Last::Net(d) => Filter::Net(d, parse_net(&v)?),
                    Last::Port(p, d) => Filter::Port(p, d, parse_port(&v)?),
                    Last::None => return Err(syntax()),
                })
            }
            _ => match proto {
                Some(p) if dir == Dir::Either => {
                    self.last = Last::None;
                    Ok(Filter::Proto(p))
                }
                _ => Err(syntax()),
            },
        }
    }

    fn value(&mut self) -> Result<&'a str, FilterError> {
        match self.next() {
            Some(v) if !matches!(v, "and" | "&&" | "or" | "||" | ")" | "(") => Ok(v),
            _ => Err(syntax()),
        }
    }
}

fn parse_ip(s: &str) -> Result<Ipv4Addr, FilterError> {
    s.parse()
        .map_err(|_| FilterError(format!("can't parse filter expression: unknown host '{s}'")))
}

fn parse_net(s: &str) -> Result<Ipv4Net, FilterError> {
    s.parse::<Ipv4Net>()
        .map(|n| n.trunc())
        .or_else(|_| s.parse::<Ipv4Addr>().map(Ipv4Net::from))
        .map_err(|_| {
            FilterError(format!(
                "can't parse filter expression: unknown network '{s}'"
            ))
        })
}

fn parse_port(s: &str) -> Result<u16, FilterError> {
    if let Ok(n) = s.parse::<u64>() {
        return u16::try_from(n)
            .map_err(|_| FilterError(format!("illegal port number {n} > 65535")));
    }
    crate::tools::services::port_by_name(s)
        .ok_or_else(|| FilterError(format!("can't parse filter expression: unknown port '{s}'")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Filter {
        Filter::parse(&[s.to_string()]).unwrap().unwrap()
    }

    #[test]
    fn pcap_grammar() {
        assert_eq!(f("arp"), Filter::Proto(Proto::Arp));
        assert_eq!(
            f("tcp port 80"),
            Filter::Port(Some(Proto::Tcp), Dir::Either, 80)
        );
        assert_eq!(
            f("host 192.168.150.12 or 192.168.150.13"),
            Filter::Or(
                Box::new(Filter::Host(Dir::Either, "192.168.150.12".parse().unwrap())),
                Box::new(Filter::Host(Dir::Either, "192.168.150.13".parse().unwrap()))
            )
        );
        assert!(matches!(f("not (arp or icmp)"), Filter::Not(_)));
        assert!(Filter::parse(&["host".into()]).is_err());
        assert!(Filter::parse(&["(arp".into()]).is_err());
        assert_eq!(
            Filter::parse(&["port 99999".into()]).unwrap_err().0,
            "illegal port number 99999 > 65535"
        );
    }
}
