//! The C library's address parsing that the lab's tools share (glibc 2.36,
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
