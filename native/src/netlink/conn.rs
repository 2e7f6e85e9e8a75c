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
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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

/// Parse the whole file. The header line is skipped; a line that does not
/// have the nine leading fields is an error (the kernel never prints one).
pub fn parse(text: &str) -> Result<Vec<ConnEntry>, String> {
    let mut lines = text.lines();
    match lines.next() {
        Some(h) if h.starts_with("Pro ") => {}
        Some(h) => return Err(format!("unexpected input from {PROC_IP_VS_CONN}: {h:?}")),
        None => return Err(format!("unexpected input from {PROC_IP_VS_CONN}")),
    }
    let mut out = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() {
            continue;
        }
        let bad = || format!("unexpected line in {PROC_IP_VS_CONN}: {line:?}");
        if f.len() < 9 {
            return Err(bad());
        }
        out.push(ConnEntry {
            proto: f[0].to_string(),
            caddr: addr(f[1]).ok_or_else(bad)?,
            cport: port(f[2]).ok_or_else(bad)?,
            vaddr: addr(f[3]).ok_or_else(bad)?,
            vport: port(f[4]).ok_or_else(bad)?,
            daddr: addr(f[5]).ok_or_else(bad)?,
            dport: port(f[6]).ok_or_else(bad)?,
            state: f[7].to_string(),
            expires: f[8].parse().map_err(|_| bad())?,
        });
    }
    Ok(out)
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
}
