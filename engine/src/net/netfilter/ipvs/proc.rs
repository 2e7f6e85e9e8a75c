//! `/proc/net/ip_vs` and `/proc/net/ip_vs_conn` (ip_vs_ctl.c's
//! `ip_vs_info_seq_show()`, ip_vs_conn.c's `ip_vs_conn_seq_show()`):
//! addresses in hex, as the kernel prints them.

use super::*;
use crate::time::SimTime;
use std::net::IpAddr;

/// Debian's `CONFIG_HZ`: `/proc/net/ip_vs` prints `svc->timeout`, kept in
/// jiffies (`u->timeout * HZ`).
const HZ: u32 = 250;

/// An address of `/proc/net/ip_vs`: `%08X` for IPv4, `[%pI6]` for IPv6.
fn info_addr(a: IpAddr) -> String {
    match a {
        IpAddr::V4(_) => hex_addr(a),
        IpAddr::V6(_) => format!("[{}]", hex_addr(a)),
    }
}

fn hex_addr(a: IpAddr) -> String {
    match a {
        IpAddr::V4(v) => format!("{:08X}", u32::from(v)),
        IpAddr::V6(v) => {
            let s = v.segments();
            s.iter()
                .map(|x| format!("{x:04x}"))
                .collect::<Vec<_>>()
                .join(":")
        }
    }
}

/// `/proc/net/ip_vs` (`ip_vs_info_seq_show`): the table in hex, kernel order.
pub fn proc_ip_vs(ipvs: &Ipvs) -> String {
    let mut out = format!(
        "IP Virtual Server version 1.2.1 (size={CONN_TAB_SIZE})\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n"
    );
    for s in &ipvs.services {
        let flags = match s.spec.persistent {
            // `ntohl(svc->netmask)`: the IPv4 mask reads naturally; an
            // IPv6 prefix length is a host-order number, which ntohl()
            // byte-swaps on a little-endian director (128 -> 80000000).
            Some(t) => {
                let m = if s.spec.key.is_v6() {
                    s.spec.netmask.swap_bytes()
                } else {
                    s.spec.netmask
                };
                format!("persistent {} {m:08X}", t.saturating_mul(HZ))
            }
            None => String::new(),
        };
        // The IPv4 form has one more "%s " (the `ops ` flag, empty here)
        // than the IPv6 and fwmark forms.
        match s.spec.key {
            ServiceKey::Addr {
                proto,
                addr: addr @ IpAddr::V4(_),
                port,
            } => out.push_str(&format!(
                "{}  {}:{port:04X} {}  {flags}\n",
                proto.name(),
                info_addr(addr),
                s.spec.scheduler
            )),
            ServiceKey::Addr { proto, addr, port } => out.push_str(&format!(
                "{}  {}:{port:04X} {} {flags}\n",
                proto.name(),
                info_addr(addr),
                s.spec.scheduler
            )),
            ServiceKey::Fwmark { mark, .. } => {
                out.push_str(&format!("FWM  {mark:08X} {} {flags}\n", s.spec.scheduler))
            }
        }
        for d in &s.dests {
            out.push_str(&format!(
                "  -> {}:{:04X}      {:<7} {:<6} {:<10} {:<10}\n",
                info_addr(d.spec.addr),
                d.spec.port,
                d.spec.fwd.name(),
                d.spec.weight,
                d.active,
                d.inactive
            ));
        }
    }
    out
}

/// `/proc/net/ip_vs_conn` (`ip_vs_conn_seq_show`).
pub fn proc_ip_vs_conn(ipvs: &Ipvs, now: SimTime) -> String {
    let mut out = String::from(
        "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n",
    );
    for c in ipvs.conns.iter() {
        let proto = if c.template && c.fwmark != 0 {
            "IP"
        } else {
            c.proto.name()
        };
        let state = c.state.name();
        let exp = c.expires.0.saturating_sub(now.0) / 1_000_000;
        out.push_str(&format!(
            "{proto:<3} {} {:04X} {} {:04X} {} {:04X} {state:<11} {exp:>7}\n",
            hex_addr(c.caddr),
            c.cport,
            hex_addr(c.vaddr),
            c.vport,
            hex_addr(c.daddr),
            c.dport
        ));
    }
    out
}
