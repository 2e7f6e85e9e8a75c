//! `/proc/net/ip_vs` and `/proc/net/ip_vs_conn` (ip_vs_ctl.c's
//! `ip_vs_info_seq_show()`, ip_vs_conn.c's `ip_vs_conn_seq_show()`):
//! addresses in hex, as the kernel prints them.

use super::*;
use crate::time::SimTime;
use std::net::IpAddr;

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
            Some(t) => {
                let m = u32::MAX
                    .checked_shl(32 - u32::from(s.spec.netmask.min(32)))
                    .unwrap_or(0);
                format!("persistent {t} {m:08X}")
            }
            None => String::new(),
        };
        match s.spec.key {
            ServiceKey::Addr { proto, addr, port } => out.push_str(&format!(
                "{}  {}:{port:04X} {}  {flags}\n",
                proto.name(),
                hex_addr(addr),
                s.spec.scheduler
            )),
            ServiceKey::Fwmark { mark, .. } => {
                out.push_str(&format!("FWM  {mark:08X} {}  {flags}\n", s.spec.scheduler))
            }
        }
        for d in &s.dests {
            out.push_str(&format!(
                "  -> {}:{:04X}      {:<7} {:<6} {:<10} {:<10}\n",
                hex_addr(d.spec.addr),
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
