//! `/proc/net/ip_vs_conn`: the connection table as the kernel prints it
//! (`ip_vs_conn_seq_show`, net/netfilter/ipvs/ip_vs_conn.c), read the way
//! ipvsadm's `list_conn()` reads it. There is no netlink command for it.
//!
//! Line format: `"%-3s %08X %04X %08X %04X %s %04X %-11s %7u%s\n"`: protocol,
//! client address and port, virtual address and port, destination address
//! (`%08X`, or `%pI6` — full, uncompressed — when it is IPv6) and port,
//! state, seconds to expiry, then an optional persistence-engine name and
//! data. IPv6 entries print every address with `%pI6`.

use lvslab_engine::ipvs::ConnEntry;
use std::io::{BufRead, BufReader, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// Where the kernel publishes the table.
pub const PROC_IP_VS_CONN: &str = "/proc/net/ip_vs_conn";

/// An address as `list_conn()` reads it: IPv6 text first, then IPv4 text,
/// else a `%08X` host-order IPv4 address.
fn addr(s: &str) -> Option<IpAddr> {
    if let Ok(v6) = s.parse::<Ipv6Addr>() {
        return Some(IpAddr::V6(v6));
    }
    if let Ok(v4) = s.parse::<Ipv4Addr>() {
        return Some(IpAddr::V4(v4));
    }
    u32::from_str_radix(s, 16)
        .ok()
        .map(|v| IpAddr::V4(Ipv4Addr::from(v)))
}

fn port(s: &str) -> Option<u16> {
    u16::from_str_radix(s, 16).ok()
}

fn check_header(h: Option<&str>) -> Result<(), String> {
    match h {
        Some(h) if h.starts_with("Pro ") => Ok(()),
        Some(h) => Err(format!(
            "unexpected input from {PROC_IP_VS_CONN}: {:?}",
            crate::text::shorten(h, 100)
        )),
        None => Err(format!("unexpected input from {PROC_IP_VS_CONN}")),
    }
}

/// One entry line; `None` for a blank one. A line that does not have the
/// nine leading fields is an error (the kernel never prints one).
fn parse_line(line: &str) -> Result<Option<ConnEntry>, String> {
    let mut it = line.split_whitespace();
    let mut f = [""; 9];
    for (i, slot) in f.iter_mut().enumerate() {
        match it.next() {
            Some(v) => *slot = v,
            None if i == 0 => return Ok(None),
            None => break,
        }
    }
    let bad = || {
        format!(
            "unexpected line in {PROC_IP_VS_CONN}: {:?}",
            crate::text::shorten(line, 200)
        )
    };
    if f[8].is_empty() {
        return Err(bad());
    }
    Ok(Some(ConnEntry {
        proto: f[0].to_string(),
        caddr: addr(f[1]).ok_or_else(bad)?,
        cport: port(f[2]).ok_or_else(bad)?,
        vaddr: addr(f[3]).ok_or_else(bad)?,
        vport: port(f[4]).ok_or_else(bad)?,
        daddr: addr(f[5]).ok_or_else(bad)?,
        dport: port(f[6]).ok_or_else(bad)?,
        state: f[7].to_string(),
        expires: f[8].parse().map_err(|_| bad())?,
    }))
}

/// Parse the whole file. The header line is skipped.
pub fn parse(text: &str) -> Result<Vec<ConnEntry>, String> {
    let mut lines = text.lines();
    check_header(lines.next())?;
    let mut out = Vec::new();
    for line in lines {
        if let Some(e) = parse_line(line)? {
            out.push(e);
        }
    }
    Ok(out)
}

/// Longest line read from the file (the kernel's are under 200 bytes).
const MAX_LINE: u64 = 4096;

/// Read the file at `path` as a stream: the first `max` entries parsed,
/// the rest only counted (one line in memory at a time). Returns the
/// entries and the number of entries in all.
pub fn read_bounded(path: &Path, max: usize) -> Result<(Vec<ConnEntry>, usize), String> {
    let file =
        std::fs::File::open(path).map_err(|_| format!("cannot open file {}", path.display()))?;
    let mut r = BufReader::new(file);
    let mut line = String::new();
    let mut next = |line: &mut String| -> Result<bool, String> {
        line.clear();
        let n = (&mut r)
            .take(MAX_LINE)
            .read_line(line)
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        if n as u64 == MAX_LINE && !line.ends_with('\n') {
            return Err(format!(
                "a line longer than {MAX_LINE} bytes in {}",
                path.display()
            ));
        }
        Ok(n > 0)
    };
    if !next(&mut line)? {
        return Err(format!("unexpected input from {PROC_IP_VS_CONN}"));
    }
    check_header(Some(&line))?;
    let mut out = Vec::new();
    let mut total = 0;
    while next(&mut line)? {
        if out.len() < max {
            if let Some(e) = parse_line(&line)? {
                out.push(e);
                total += 1;
            }
        } else if !line.trim().is_empty() {
            total += 1;
        }
    }
    Ok((out, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ipv4_ipv6_and_templates() {
        let text = "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n\
TCP C0A80102 A954 C0A80164 0050 C0A8010B 0050 FIN_WAIT        118\n\
TCP C0A80103 0000 C0A80164 0050 C0A8010B 0050 ASSURED         359\n\
IP  C0A80102 0000 0000002A 0000 C0A8010C 0000 NONE            299\n\
TCP 2001:0db8:0000:0000:0000:0000:0000:0009 C350 2001:0db8:0000:0000:0000:0000:0000:0001 0050 2001:0db8:0000:0000:0000:0000:0000:0002 0050 SYN_RECV         59\n\
UDP C0A80102 D24B C0A80164 0035 C0A8010C 0035 UDP             296 sip abc\n";
        let c = parse(text).unwrap();
        assert_eq!(c.len(), 5);
        assert_eq!(c[0].caddr, "192.168.1.2".parse::<IpAddr>().unwrap());
        assert_eq!((c[0].cport, c[0].vport, c[0].dport), (43348, 80, 80));
        assert_eq!(c[0].daddr, "192.168.1.11".parse::<IpAddr>().unwrap());
        assert_eq!((c[0].state.as_str(), c[0].expires), ("FIN_WAIT", 118));
        assert_eq!(c[1].state, "ASSURED");
        assert_eq!(c[2].proto, "IP");
        assert_eq!(c[2].vaddr, "0.0.0.42".parse::<IpAddr>().unwrap());
        assert_eq!(c[3].caddr, "2001:db8::9".parse::<IpAddr>().unwrap());
        assert_eq!(c[3].cport, 50000);
        assert_eq!((c[4].proto.as_str(), c[4].expires), ("UDP", 296));
        assert!(parse("").is_err());
        assert!(parse("garbage\n").is_err());
        assert_eq!(parse("Pro FromIP\n").unwrap(), vec![]);
    }

    #[test]
    fn a_large_table_is_streamed_and_only_counted_past_the_cap() {
        let p = std::env::temp_dir().join(format!("lvslab-conn-{}", std::process::id()));
        let mut text = String::from(
            "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n",
        );
        for i in 0..25_000u32 {
            text.push_str(&format!(
                "TCP {:08X} {:04X} C0A80164 0050 C0A8010B 0050 ESTABLISHED     {}\n",
                0xC0A8_0000u32 + i,
                i % 65536,
                i % 900
            ));
        }
        std::fs::write(&p, &text).unwrap();
        let (first, total) = read_bounded(&p, 1000).unwrap();
        assert_eq!((first.len(), total), (1000, 25_000));
        assert_eq!(first[999].expires, 99);
        assert_eq!(first, parse(&text).unwrap()[..1000]);
        let (all, total) = read_bounded(&p, usize::MAX).unwrap();
        assert_eq!((all.len(), total), (25_000, 25_000));
        // A line no kernel prints, even past the cap, is refused, not read
        // into memory whole.
        text.push_str(&"x".repeat(10_000));
        std::fs::write(&p, &text).unwrap();
        let e = read_bounded(&p, 10).unwrap_err();
        assert!(e.contains("longer than 4096"), "{e}");
        std::fs::write(&p, "Pro x\nTCP 1 2\n").unwrap();
        assert!(read_bounded(&p, 10)
            .unwrap_err()
            .contains("unexpected line"));
        std::fs::remove_file(&p).unwrap();
        assert!(read_bounded(&p, 10).unwrap_err().contains("cannot open"));
    }
}
