//! The C library's parsing that the lab's tools share (glibc 2.36,
//! Debian 12): `inet_aton()` (resolv/inet_addr.c), which both ifconfig
//! (net-tools' `INET_resolve()`) and ipvsadm (`host_to_addr()`, and
//! `parse_netmask()` for `-M`) call before any name lookup; VM script
//! 49-ipvsadm-address-forms shows ipvsadm taking octal, hexadecimal and
//! short forms.
//!
//! `inet_aton()` takes one to four parts separated by dots, each decimal,
//! octal (a leading `0`) or hexadecimal (`0x`); the last part fills the
//! bytes the others leave (`10.1` is 10.0.0.1); a part before the last
//! must fit a byte; the text may end in whitespace (what follows it is
//! ignored).
//!
//! Also the number parsers several tools share: `atoi()` (ifconfig's mtu,
//! ipvsadm's IPv6 `-M`), `strtol(…, 0)` over a whole word (iproute2's
//! `get_integer()`), and `getopt()`.

use std::net::Ipv4Addr;

/// glibc's `inet_aton()`.
pub fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let b = s.as_bytes();
    let mut parts: Vec<u32> = Vec::with_capacity(4);
    let mut i = 0;
    loop {
        if !b.get(i).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let mut base = 10u64;
        if b[i] == b'0' {
            i += 1;
            if matches!(b.get(i), Some(b'x' | b'X')) {
                base = 16;
                i += 1;
            } else {
                base = 8;
            }
        }
        let mut val: u64 = 0;
        while let Some(&c) = b.get(i) {
            let d = match c {
                b'0'..=b'9' => u64::from(c - b'0'),
                b'a'..=b'f' if base == 16 => u64::from(c - b'a' + 10),
                b'A'..=b'F' if base == 16 => u64::from(c - b'A' + 10),
                _ => break,
            };
            if d >= base {
                return None;
            }
            val = val * base + d;
            if val > 0xffff_ffff {
                return None;
            }
            i += 1;
        }
        match b.get(i) {
            Some(b'.') => {
                if parts.len() >= 3 || val > 0xff {
                    return None;
                }
                parts.push(val as u32);
                i += 1;
            }
            None => {
                parts.push(val as u32);
                break;
            }
            Some(c) if c.is_ascii_whitespace() => {
                parts.push(val as u32);
                break;
            }
            Some(_) => return None,
        }
    }
    let last = *parts.last()?;
    let head = &parts[..parts.len() - 1];
    let max_last: u64 = 1 << (8 * (4 - head.len()));
    if u64::from(last) >= max_last {
        return None;
    }
    let mut v: u32 = 0;
    for (k, p) in head.iter().enumerate() {
        v |= p << (24 - 8 * k);
    }
    Some(Ipv4Addr::from(v | last))
}

#[cfg(test)]
mod tests {

    #[test]
    fn strtol_takes_c_number_forms() {
        assert_eq!(strtol_whole("1500"), Some(1500));
        assert_eq!(strtol_whole("0x5dc"), Some(1500));
        assert_eq!(strtol_whole("02734"), Some(1500));
        assert_eq!(strtol_whole(" -1"), Some(-1));
        assert_eq!(strtol_whole("0"), Some(0));
        for bad in ["", "abc", "15x", "0x", "9999999999999999999999", "08"] {
            assert_eq!(strtol_whole(bad), None, "{bad}");
        }
    }

    use super::*;

    fn a(s: &str) -> Option<Ipv4Addr> {
        inet_aton(s)
    }

    #[test]
    fn glibc_inet_aton_forms() {
        let ip = |x: &str| x.parse::<Ipv4Addr>().ok();
        assert_eq!(a("192.168.150.100"), ip("192.168.150.100"));
        assert_eq!(a("0300.0250.0226.0144"), ip("192.168.150.100"));
        assert_eq!(a("0xc0.0xa8.0x96.0x64"), ip("192.168.150.100"));
        assert_eq!(a("192.168.38500"), ip("192.168.150.100"));
        assert_eq!(a("10.1"), ip("10.0.0.1"));
        assert_eq!(a("010.1"), ip("8.0.0.1"));
        assert_eq!(a("3232273940"), ip("192.168.150.20"));
        assert_eq!(a("255.255.0"), ip("255.255.0.0"));
        assert_eq!(a("0x"), ip("0.0.0.0"));
        assert_eq!(a("1.2.3.4 junk"), ip("1.2.3.4"));
        for bad in [
            "",
            "08.0.0.1",
            "192.168.150.300",
            "192.168.150.",
            "1..2",
            "a.b.c.d",
            "256.1",
            "1.2.3.4.5",
            "4294967296",
            "1.2.65536",
            "-1.2.3.4",
        ] {
            assert_eq!(a(bad), None, "{bad:?}");
        }
    }
}

/// What glibc's `getopt()` stops at: an option letter not in the
/// option string (`invalid option -- 'x'`), or one that needs an argument
/// at the end of the list (`option requires an argument -- 'c'`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetoptError {
    Invalid(char),
    MissingArgument(char),
}

impl std::fmt::Display for GetoptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GetoptError::Invalid(c) => write!(f, "invalid option -- '{c}'"),
            GetoptError::MissingArgument(c) => {
                write!(f, "option requires an argument -- '{c}'")
            }
        }
    }
}

/// C's `atoi()`: optional blanks and sign, then decimal digits; 0 when
/// there are none (the value saturates instead of overflowing).
pub fn atoi(s: &str) -> i64 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut n: i64 = 0;
    for b in t.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg {
        -n
    } else {
        n
    }
}

/// `strtol(s, &end, 0)` that must consume all of `s` (iproute2's
/// `get_integer()`/`get_long()`): blanks, a sign, then `0x` hexadecimal,
/// `0` octal or decimal digits; `None` for no digits, trailing text or
/// overflow (ERANGE).
pub fn strtol_whole(s: &str) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = match t.as_bytes() {
        [b'0', b'x' | b'X', c, ..] if c.is_ascii_hexdigit() => (16, &t[2..]),
        [b'0', ..] => (8, t),
        _ => (10, t),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i64::from_str_radix(digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

/// The options and operands of a command line, as glibc's `getopt()`
/// reads short options: letters may be grouped (`-qc3`), an option's
/// argument follows it in the same word or is the next word (`-c3`,
/// `-c 3`); operands may come between options (glibc permutes them to the
/// end); `--` ends the options; a lone `-` is an operand. `optstring`
/// lists the letters, each followed by `:` when it takes an argument.
/// Options come back in the order given, with their arguments.
pub fn getopt<'a>(args: &'a [String], optstring: &str) -> Result<Getopt<'a>, GetoptError> {
    let takes_arg = |c: char| -> Option<bool> {
        let i = optstring.find(c).filter(|_| c != ':')?;
        Some(optstring[i + c.len_utf8()..].starts_with(':'))
    };
    let mut opts = Vec::new();
    let mut operands = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        i += 1;
        if a == "--" {
            operands.extend(args[i..].iter().map(String::as_str));
            break;
        }
        let Some(letters) = a.strip_prefix('-').filter(|l| !l.is_empty()) else {
            operands.push(a);
            continue;
        };
        for (k, c) in letters.char_indices() {
            match takes_arg(c) {
                None => return Err(GetoptError::Invalid(c)),
                Some(false) => opts.push((c, None)),
                Some(true) => {
                    let rest = &letters[k + c.len_utf8()..];
                    if !rest.is_empty() {
                        opts.push((c, Some(rest)));
                    } else if let Some(v) = args.get(i) {
                        opts.push((c, Some(v.as_str())));
                        i += 1;
                    } else {
                        return Err(GetoptError::MissingArgument(c));
                    }
                    break;
                }
            }
        }
    }
    Ok(Getopt { opts, operands })
}

/// What [`getopt`] read: the options in order with their values, then the
/// operands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Getopt<'a> {
    pub opts: Vec<(char, Option<&'a str>)>,
    pub operands: Vec<&'a str>,
}

#[cfg(test)]
mod getopt_tests {
    use super::*;

    type Opts = Vec<(char, Option<&'static str>)>;

    fn run(s: &str) -> Result<(Opts, Vec<&'static str>), GetoptError> {
        let v: &'static [String] = Box::leak(
            s.split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        );
        getopt(v, "c:i:qn").map(|g| (g.opts, g.operands))
    }

    #[test]
    fn groups_attached_arguments_permutation_and_errors() {
        assert_eq!(
            run("-qc3 1.2.3.4").unwrap(),
            (vec![('q', None), ('c', Some("3"))], vec!["1.2.3.4"])
        );
        assert_eq!(
            run("1.2.3.4 -c 3 -i0.2").unwrap(),
            (vec![('c', Some("3")), ('i', Some("0.2"))], vec!["1.2.3.4"])
        );
        assert_eq!(run("-n -- -c").unwrap(), (vec![('n', None)], vec!["-c"]));
        assert_eq!(run("- -q").unwrap(), (vec![('q', None)], vec!["-"]));
        assert_eq!(run("-qx"), Err(GetoptError::Invalid('x')));
        assert_eq!(run("-q -c"), Err(GetoptError::MissingArgument('c')));
        assert_eq!(run("-:"), Err(GetoptError::Invalid(':')));
    }
}
