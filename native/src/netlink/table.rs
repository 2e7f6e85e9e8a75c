//! `/proc/net/ip_vs`: the whole service table as text
//! (`ip_vs_info_seq_show`, net/netfilter/ipvs/ip_vs_ctl.c). ipvsadm never
//! reads it. We read it for a plain listing (`-L`/`-Ln` without
//! `--stats`, `--rate`, `--thresholds` or `--persistent-conn`): one read
//! gives every service's destinations with exactly the fields that listing
//! prints (address, port, forwarding method, weight, active and inactive
//! connections), where the netlink way is one IPVS_CMD_GET_DEST dump per
//! service. The service lines lack the scheduler flags, so services still
//! come from one IPVS_CMD_GET_SERVICE dump and only the destination lines
//! are taken from here.
//!
//! The kernel prints three header lines, then per service
//! `"%s  %08X:%04X %s %s"` (protocol, address, port, scheduler, `"ops "`
//! or nothing), `"%s  [%pI6]:%04X %s "` for IPv6, or `"FWM  %08X %s %s"`,
//! followed by `"persistent %d %08X"` (the timeout in jiffies) or nothing;
//! then per destination `"  -> %08X:%04X      %-7s %-6d %-10d %-10d"`
//! (`[%pI6]` when the destination is IPv6), the method being
//! `ip_vs_fwd_name()`'s Local, Tunnel, Route or Masq. A fwmark line does
//! not say its address family, so a mark used by both an IPv4 and an IPv6
//! service is ambiguous here ([`TableKey`] equal for both).

use lvslab_engine::ipvs::{DestEntry, DestSpec, Fwd, Proto, ServiceKey};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Where the kernel publishes the table (per network namespace).
pub const PROC_IP_VS: &str = "/proc/net/ip_vs";

/// A service as a line of the file identifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TableKey {
    Addr {
        proto: Proto,
        addr: IpAddr,
        port: u16,
    },
    Fwmark(u32),
}

impl TableKey {
    /// How the file shows the service with this key.
    pub fn of(k: &ServiceKey) -> TableKey {
        match *k {
            ServiceKey::Addr { proto, addr, port } => TableKey::Addr { proto, addr, port },
            ServiceKey::Fwmark { mark, .. } => TableKey::Fwmark(mark),
        }
    }
}

fn hex_port(s: &str) -> Option<u16> {
    (s.len() == 4).then(|| u16::from_str_radix(s, 16).ok())?
}

/// `%08X:%04X` or `[%pI6]:%04X`.
fn endpoint(s: &str) -> Option<(IpAddr, u16)> {
    let (a, p) = s.rsplit_once(':')?;
    let addr = if let Some(v6) = a.strip_prefix('[').and_then(|a| a.strip_suffix(']')) {
        IpAddr::V6(v6.parse::<Ipv6Addr>().ok()?)
    } else if a.len() == 8 {
        IpAddr::V4(Ipv4Addr::from(u32::from_str_radix(a, 16).ok()?))
    } else {
        return None;
    };
    Some((addr, hex_port(p)?))
}

fn service_key(line: &str) -> Result<TableKey, String> {
    let mut f = line.split_whitespace();
    let (proto, id) = (f.next().unwrap_or(""), f.next().unwrap_or(""));
    let bad = || format!("{PROC_IP_VS}: unexpected service line {line:?}");
    if proto == "FWM" {
        let mark = u32::from_str_radix(id, 16).map_err(|_| bad())?;
        return Ok(TableKey::Fwmark(mark));
    }
    let proto = match proto {
        "TCP" => Proto::Tcp,
        "UDP" => Proto::Udp,
        "SCTP" => Proto::Sctp,
        _ => return Err(bad()),
    };
    let (addr, port) = endpoint(id).ok_or_else(bad)?;
    Ok(TableKey::Addr { proto, addr, port })
}

fn dest(line: &str) -> Result<DestEntry, String> {
    let bad = || format!("{PROC_IP_VS}: unexpected destination line {line:?}");
    let f: Vec<&str> = line.split_whitespace().collect();
    let [_, ep, method, weight, active, inactive] = f[..] else {
        return Err(bad());
    };
    let (addr, port) = endpoint(ep).ok_or_else(bad)?;
    let fwd = match method {
        "Local" => Fwd::Local,
        "Tunnel" => Fwd::Tunnel,
        "Route" => Fwd::Route,
        "Masq" => Fwd::Masq,
        _ => return Err(bad()),
    };
    // `%d` of kernel ints; netlink carries the same values as u32.
    let int = |s: &str| s.parse::<i32>().map_err(|_| bad());
    Ok(DestEntry {
        spec: DestSpec {
            addr,
            port,
            fwd,
            weight: int(weight)?,
            u_threshold: 0,
            l_threshold: 0,
        },
        active: int(active)? as u32,
        inactive: int(inactive)? as u32,
        persist: 0,
        stats: Default::default(),
        rates: Default::default(),
    })
}

/// Every service of the file in its order, with its destinations in list
/// order. Thresholds, persistent counts, counters and rates are zero (the
/// file does not have them).
pub fn parse(text: &str) -> Result<Vec<(TableKey, Vec<DestEntry>)>, String> {
    let mut lines = text.lines();
    let header_ok = lines
        .next()
        .is_some_and(|l| l.starts_with("IP Virtual Server version"))
        && lines.next().is_some_and(|l| l.starts_with("Prot "))
        && lines.next().is_some_and(|l| l.starts_with("  -> "));
    if !header_ok {
        return Err(format!("{PROC_IP_VS}: not the IPVS table (bad header)"));
    }
    let mut out: Vec<(TableKey, Vec<DestEntry>)> = Vec::new();
    for line in lines {
        if line.starts_with("  -> ") {
            let d = dest(line)?;
            match out.last_mut() {
                Some((_, dests)) => dests.push(d),
                None => return Err(format!("{PROC_IP_VS}: a destination before any service")),
            }
        } else if !line.is_empty() {
            out.push((service_key(line)?, Vec::new()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Written from the kernel's format strings: a DR service with two real
    /// servers, a persistent wrr service, an IPv6 service and a fwmark one
    /// (the VM script n-01 compares real listings end to end).
    const TABLE: &str = concat!(
        "IP Virtual Server version 1.2.1 (size=4096)\n",
        "Prot LocalAddress:Port Scheduler Flags\n",
        "  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n",
        "TCP  C0A89664:0050 rr \n",
        "  -> C0A8960D:0050      Route   1      0          2         \n",
        "  -> C0A8960C:0050      Route   1      1          0         \n",
        "UDP  C0A89664:0035 wrr persistent 30000 FFFFFF00\n",
        "  -> C0A8960C:0035      Masq    3      0          0         \n",
        "TCP  [2001:0db8:0000:0000:0000:0000:0000:0064]:01BB sh \n",
        "  -> [2001:0db8:0000:0000:0000:0000:0000:000c]:01BB      Tunnel  0      0          0         \n",
        "FWM  00000007 lc ops persistent 36000 FFFFFFFF\n",
        "  -> 7F000001:0000      Local   -2     0          0         \n",
    );

    #[test]
    fn parses_every_kind_of_line() {
        let t = parse(TABLE).unwrap();
        assert_eq!(t.len(), 4);
        let vip: IpAddr = "192.168.150.100".parse().unwrap();
        assert_eq!(
            t[0].0,
            TableKey::Addr {
                proto: Proto::Tcp,
                addr: vip,
                port: 80
            }
        );
        let d: Vec<_> = t[0]
            .1
            .iter()
            .map(|d| (d.spec.addr.to_string(), d.spec.fwd, d.active, d.inactive))
            .collect();
        assert_eq!(
            d,
            [
                ("192.168.150.13".into(), Fwd::Route, 0, 2),
                ("192.168.150.12".into(), Fwd::Route, 1, 0)
            ]
        );
        assert_eq!(
            t[1].0,
            TableKey::Addr {
                proto: Proto::Udp,
                addr: vip,
                port: 53
            }
        );
        assert_eq!((t[1].1[0].spec.fwd, t[1].1[0].spec.weight), (Fwd::Masq, 3));
        assert_eq!(
            t[2].0,
            TableKey::Addr {
                proto: Proto::Tcp,
                addr: "2001:db8::64".parse().unwrap(),
                port: 443
            }
        );
        assert_eq!(t[2].1[0].spec.addr.to_string(), "2001:db8::c");
        assert_eq!(t[2].1[0].spec.fwd, Fwd::Tunnel);
        assert_eq!(t[3].0, TableKey::Fwmark(7));
        assert_eq!(
            (t[3].1[0].spec.fwd, t[3].1[0].spec.weight),
            (Fwd::Local, -2)
        );
        assert_eq!(t[3].1[0].spec.port, 0);
    }

    #[test]
    fn an_empty_table_and_bad_input() {
        let head = TABLE.lines().take(3).collect::<Vec<_>>().join("\n") + "\n";
        assert_eq!(parse(&head).unwrap(), Vec::new());
        assert!(parse("").unwrap_err().contains("bad header"));
        assert!(
            parse(&(head.clone() + "  -> 7F000001:0050      Route   1      0          0\n"))
                .unwrap_err()
                .contains("before any service")
        );
        for bad in [
            "ICMP  C0A89664:0050 rr \n",
            "TCP  C0A8966:0050 rr \n",
            "TCP  C0A89664:50 rr \n",
            "FWM  xyz rr \n",
            "TCP  C0A89664:0050 rr \n  -> C0A8960D:0050      Bridge   1      0          2\n",
            "TCP  C0A89664:0050 rr \n  -> C0A8960D:0050      Route   1      0\n",
            "TCP  C0A89664:0050 rr \n  -> C0A8960D:0050      Route   x      0          2\n",
        ] {
            assert!(parse(&(head.clone() + bad)).is_err(), "{bad:?}");
        }
    }
}
