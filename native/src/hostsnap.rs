//! Reading this host's network state into a [`HostSnapshot`].
//!
//! Linux answers `RTM_GETLINK`, `RTM_GETADDR` and `RTM_GETROUTE` dumps on a
//! `NETLINK_ROUTE` socket (what `ip link`, `ip addr` and `ip route show
//! table all` print), keeps the per-device IPv4 knobs under
//! `/proc/sys/net/ipv4/conf/<dev>/` and lists IPVS over the "IPVS" generic
//! netlink family. We read exactly those, through neli's typed rtnetlink
//! messages, into the engine's plain [`HostSnapshot`]; the doctor, `sim
//! --from-host` and the live server all work from it. IPVS is read only when
//! the module is already loaded (`/proc/net/ip_vs` exists): the doctor must
//! not load ip_vs on a real server as a side effect.

use anyhow::{Context, Result};
use lvslab_engine::ipvs::IpvsBackend;
use lvslab_engine::snapshot::{HostSnapshot, SnapAddr, SnapLink, SnapRoute};
use lvslab_engine::sysctl::CONF_KNOBS;
use lvslab_engine::vecmap::VecMap;
use lvslab_engine::Mac;
use neli::consts::nl::NlmF;
use neli::consts::rtnl::{
    Arphrd, Ifa, IfaF, Iff, Ifla, IflaInfo, RtAddrFamily, RtScope, RtTable, Rta, Rtm, Rtn, Rtprot,
};
use neli::consts::socket::NlFamily;
use neli::nl::NlPayload;
use neli::router::synchronous::NlRouter;
use neli::rtnl::{Ifaddrmsg, IfaddrmsgBuilder, Ifinfomsg, IfinfomsgBuilder, Rtmsg, RtmsgBuilder};
use neli::utils::Groups;
use std::net::Ipv4Addr;

fn v4(b: &[u8]) -> Option<Ipv4Addr> {
    <[u8; 4]>::try_from(b).ok().map(Ipv4Addr::from)
}

fn u32_ne(b: &[u8]) -> Option<u32> {
    <[u8; 4]>::try_from(b).ok().map(u32::from_ne_bytes)
}

fn cstr(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn links(rt: &NlRouter) -> Result<Vec<SnapLink>> {
    let msg = IfinfomsgBuilder::default()
        .ifi_family(RtAddrFamily::Unspecified)
        .build()
        .context("building RTM_GETLINK")?;
    let recv = rt
        .send::<_, _, Rtm, Ifinfomsg>(Rtm::Getlink, NlmF::DUMP, NlPayload::Payload(msg))
        .context("RTM_GETLINK")?;
    let mut out = Vec::new();
    for m in recv {
        let m = m.context("reading the RTM_GETLINK dump")?;
        let Some(p) = m.get_payload() else { continue };
        let h = p.rtattrs().get_attr_handle();
        let raw = |t: Ifla| {
            h.get_attribute(t)
                .map(|a| a.rta_payload().as_ref().to_vec())
        };
        let name = raw(Ifla::Ifname).map(|b| cstr(&b)).unwrap_or_default();
        let mtu = raw(Ifla::Mtu).and_then(|b| u32_ne(&b)).unwrap_or(0);
        let mac = raw(Ifla::Address)
            .and_then(|b| <[u8; 6]>::try_from(b.as_slice()).ok())
            .map(Mac)
            .unwrap_or(Mac::ZERO);
        let info_kind = h
            .get_nested_attributes::<IflaInfo>(Ifla::Linkinfo)
            .ok()
            .and_then(|n| {
                n.get_attribute(IflaInfo::Kind)
                    .map(|a| cstr(a.rta_payload().as_ref()))
            });
        let flags = *p.ifi_flags();
        let kind = if flags.contains(Iff::LOOPBACK) {
            "loopback".to_string()
        } else if info_kind.as_deref() == Some("dummy") {
            "dummy".to_string()
        } else if *p.ifi_type() == Arphrd::Ether {
            "ether".to_string()
        } else {
            info_kind.unwrap_or_else(|| format!("arphrd-{}", u16::from(*p.ifi_type())))
        };
        out.push(SnapLink {
            ifindex: u32::try_from(*p.ifi_index()).unwrap_or(0),
            name,
            kind,
            mac,
            up: flags.contains(Iff::UP),
            mtu,
        });
    }
    Ok(out)
}

fn addrs(rt: &NlRouter) -> Result<Vec<SnapAddr>> {
    let msg = IfaddrmsgBuilder::default()
        .ifa_family(RtAddrFamily::Inet)
        .ifa_prefixlen(0)
        .ifa_scope(RtScope::Universe)
        .ifa_index(0)
        .build()
        .context("building RTM_GETADDR")?;
    let recv = rt
        .send::<_, _, Rtm, Ifaddrmsg>(Rtm::Getaddr, NlmF::DUMP, NlPayload::Payload(msg))
        .context("RTM_GETADDR")?;
    let mut out = Vec::new();
    for m in recv {
        let m = m.context("reading the RTM_GETADDR dump")?;
        let Some(p) = m.get_payload() else { continue };
        if *p.ifa_family() != RtAddrFamily::Inet {
            continue;
        }
        let h = p.rtattrs().get_attr_handle();
        let raw = |t: Ifa| {
            h.get_attribute(t)
                .map(|a| a.rta_payload().as_ref().to_vec())
        };
        let Some(local) = raw(Ifa::Local)
            .or_else(|| raw(Ifa::Address))
            .and_then(|b| v4(&b))
        else {
            continue;
        };
        out.push(SnapAddr {
            ifindex: *p.ifa_index(),
            local,
            prefix_len: *p.ifa_prefixlen(),
            broadcast: raw(Ifa::Broadcast).and_then(|b| v4(&b)),
            label: raw(Ifa::Label).map(|b| cstr(&b)).unwrap_or_default(),
            scope: u8::from(*p.ifa_scope()),
            secondary: p.ifa_flags().contains(IfaF::SECONDARY),
        });
    }
    Ok(out)
}

fn routes(rt: &NlRouter) -> Result<Vec<SnapRoute>> {
    let msg = RtmsgBuilder::default()
        .rtm_family(RtAddrFamily::Inet)
        .rtm_dst_len(0)
        .rtm_src_len(0)
        .rtm_tos(0)
        .rtm_table(RtTable::Unspec)
        .rtm_protocol(Rtprot::Unspec)
        .rtm_scope(RtScope::Universe)
        .rtm_type(Rtn::Unspec)
        .build()
        .context("building RTM_GETROUTE")?;
    let recv = rt
        .send::<_, _, Rtm, Rtmsg>(Rtm::Getroute, NlmF::DUMP, NlPayload::Payload(msg))
        .context("RTM_GETROUTE")?;
    let mut out = Vec::new();
    for m in recv {
        let m = m.context("reading the RTM_GETROUTE dump")?;
        let Some(p) = m.get_payload() else { continue };
        if *p.rtm_family() != RtAddrFamily::Inet {
            continue;
        }
        let h = p.rtattrs().get_attr_handle();
        let raw = |t: Rta| {
            h.get_attribute(t)
                .map(|a| a.rta_payload().as_ref().to_vec())
        };
        let table = raw(Rta::Table)
            .and_then(|b| u32_ne(&b))
            .unwrap_or_else(|| u32::from(u8::from(*p.rtm_table())));
        out.push(SnapRoute {
            table,
            rtype: u8::from(*p.rtm_type()),
            dst: raw(Rta::Dst)
                .and_then(|b| v4(&b))
                .unwrap_or(Ipv4Addr::UNSPECIFIED),
            dst_len: *p.rtm_dst_len(),
            gateway: raw(Rta::Gateway).and_then(|b| v4(&b)),
            oif: raw(Rta::Oif).and_then(|b| u32_ne(&b)),
            prefsrc: raw(Rta::Prefsrc).and_then(|b| v4(&b)),
            scope: u8::from(*p.rtm_scope()),
            protocol: u8::from(*p.rtm_protocol()),
            metric: raw(Rta::Priority).and_then(|b| u32_ne(&b)).unwrap_or(0),
        });
    }
    Ok(out)
}

fn sysctls(links: &[SnapLink]) -> VecMap<String, VecMap<String, i64>> {
    let mut out = VecMap::new();
    let scopes = ["all".to_string(), "default".to_string()]
        .into_iter()
        .chain(links.iter().map(|l| l.name.clone()));
    for scope in scopes {
        let mut knobs = VecMap::new();
        for k in CONF_KNOBS {
            let p = format!("/proc/sys/net/ipv4/conf/{scope}/{k}");
            if let Ok(v) = std::fs::read_to_string(&p) {
                if let Ok(v) = v.trim().parse::<i64>() {
                    knobs.insert(k.to_string(), v);
                }
            }
        }
        if !knobs.is_empty() {
            out.insert(scope, knobs);
        }
    }
    out
}

/// The mangle table's rules, as `iptables-save -t mangle` prints them
/// (only the `-A` lines), or None when no iptables-save runs here. Like an
/// operator's `iptables -t mangle -S`, on a legacy-iptables host this may
/// load `iptable_mangle`. The tool is run by absolute path with a fixed
/// environment (never whatever `$PATH` finds).
fn mangle_rules() -> Option<Vec<String>> {
    let prog = IPTABLES_SAVE
        .iter()
        .find(|p| std::path::Path::new(p).exists())?;
    let out = std::process::Command::new(prog)
        .args(["-t", "mangle"])
        .env_clear()
        .env("PATH", SAFE_PATH)
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("-A "))
            .map(String::from)
            .collect(),
    )
}

/// Where Debian, Fedora and Alpine install iptables-save.
const IPTABLES_SAVE: [&str; 3] = [
    "/usr/sbin/iptables-save",
    "/sbin/iptables-save",
    "/usr/bin/iptables-save",
];

/// The `PATH` external tools run with (iptables-save runs its backend,
/// e.g. xtables-nft-multi, by name).
pub const SAFE_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// Read this host (the current network namespace).
pub fn read() -> Result<HostSnapshot> {
    let (rt, _) = NlRouter::connect(NlFamily::Route, None, Groups::empty())
        .context("opening a NETLINK_ROUTE socket")?;
    let links = links(&rt)?;
    let addrs = addrs(&rt)?;
    let routes = routes(&rt)?;
    let sysctl = sysctls(&links);
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "host".into());
    let mut notes = Vec::new();
    let ipvs = if std::path::Path::new("/proc/net/ip_vs").exists() {
        match crate::netlink::NetlinkBackend::new().and_then(|mut b| b.services()) {
            Ok(s) => s,
            Err(e) => {
                notes.push(format!("IPVS: could not read the table: {e}"));
                Vec::new()
            }
        }
    } else {
        notes.push("IPVS: the ip_vs module is not loaded (no /proc/net/ip_vs)".into());
        Vec::new()
    };
    Ok(HostSnapshot {
        hostname,
        links,
        addrs,
        routes,
        sysctl,
        ipvs,
        notes,
        mangle: mangle_rules(),
    })
}
