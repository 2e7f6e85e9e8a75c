//! Mistakes drawn on the diagram: for each host, the doctor's findings as
//! short badges, and a compact summary of the director's IPVS table.
//!
//! Roles come from the lab's own IPVS configuration, as the tutorial has
//! them: a host with virtual services is a director, every host that owns
//! one of their real-server addresses is a real server, and each is
//! examined against the directors' VIPs (so a real server's VIP that is one
//! octet off, like the tutorial's `192.178.150.100`, is a typo of the
//! director's, not a VIP of its own). A real server that also has virtual
//! services of its own is flagged: the tutorial pasted into the wrong
//! terminal makes one.

use crate::doctor::{self, Options, Role, Severity};
use crate::ipvs::ServiceKey;
use crate::trace::Lang;
use crate::World;
use std::net::{IpAddr, Ipv4Addr};

/// One badge: on which host, how bad, what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Badge {
    pub host: String,
    /// The doctor's check id (or `rs-has-ipvs`).
    pub check: String,
    pub error: bool,
    pub en: String,
    pub zh: String,
}

impl Badge {
    pub fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Zh => &self.zh,
        }
    }
}

/// A finding's short label for the diagram (the Live view and compare mode
/// show the doctor's whole text).
fn short(check: &str, subject: &str) -> (String, String) {
    let (en, zh) = match check {
        "rs-vip-typo" => ("VIP typo", "VIP 笔误"),
        "rs-vip-missing" => ("no VIP", "没有 VIP"),
        "rs-vip-mask" => ("VIP not /32 on lo", "lo 上的 VIP 不是 /32"),
        "rs-lo-down" => ("lo alias down", "lo 别名已关闭"),
        "rs-vip-on-wire-device" => ("VIP on a LAN device", "VIP 在网卡上"),
        "rs-arp-ignore" | "rs-arp-ignore-8" => ("answers ARP for the VIP", "会应答 VIP 的 ARP"),
        "rs-arp-announce" => ("announces the VIP in ARP", "会在 ARP 中通告 VIP"),
        "rs-rp-filter" => ("rp_filter drops replies", "rp_filter 会丢包"),
        "dir-vip-not-local" => ("VIP not on this host", "本机没有 VIP"),
        "dir-no-services" => ("no virtual service", "没有虚拟服务"),
        "dir-service-no-dests" => ("service without real servers", "服务没有真实服务器"),
        "dir-dest-weight-zero" => ("real server weight 0", "真实服务器权重为 0"),
        "dir-dr-dest-not-on-link" | "dir-dest-no-route" => {
            ("real server not on the LAN", "真实服务器不在本网段")
        }
        "dir-fwmark-no-rule" => ("no MARK rule", "没有 MARK 规则"),
        _ => ("", ""),
    };
    if en.is_empty() {
        return (check.to_string(), check.to_string());
    }
    // The typo's address is the point; the other mistakes show on the
    // host's own lines already (the /24, the missing alias).
    if check == "rs-vip-typo" && !subject.is_empty() {
        (format!("{en}: {subject}"), format!("{zh}：{subject}"))
    } else {
        (en.to_string(), zh.to_string())
    }
}

fn vips_and_dests(w: &World) -> (Vec<Ipv4Addr>, Vec<IpAddr>, Vec<String>) {
    let (mut vips, mut dests, mut directors) = (Vec::new(), Vec::new(), Vec::new());
    for h in w.hosts.values() {
        if h.ipvs.services.is_empty() {
            continue;
        }
        directors.push(h.name.clone());
        for s in &h.ipvs.services {
            if let ServiceKey::Addr {
                addr: IpAddr::V4(a),
                ..
            } = s.spec.key
            {
                vips.push(a);
            }
            dests.extend(s.dests.iter().map(|d| d.spec.addr));
        }
    }
    vips.sort_unstable();
    vips.dedup();
    (vips, dests, directors)
}

/// The doctor's options for a host in this lab: its role and the
/// directors' first VIP; `None` when it has no role here. Also whether it
/// is both (a real server with services of its own).
fn lab_options(
    h: &crate::Host,
    vips: &[Ipv4Addr],
    dests: &[IpAddr],
    directors: &[String],
) -> Option<(Options, bool)> {
    let is_director = directors.contains(&h.name);
    let is_rs = h
        .all_addrs()
        .any(|a| dests.contains(&IpAddr::V4(a.local())));
    let role = match (is_rs, is_director) {
        (true, _) => Role::Realserver,
        (false, true) => Role::Director,
        (false, false) => return None,
    };
    let opts = Options {
        role: Some(role),
        vip: vips.first().copied(),
        ..Options::default()
    };
    Some((opts, is_rs && is_director))
}

/// The doctor's findings on `host`, examined in its role in this lab (see
/// the module's opening); none for a host without one.
pub fn findings(w: &World, host: &str) -> Vec<doctor::Finding> {
    let (vips, dests, directors) = vips_and_dests(w);
    w.host(host)
        .and_then(|h| {
            let (opts, _) = lab_options(h, &vips, &dests, &directors)?;
            Some(doctor::examine_host(h, &opts).findings)
        })
        .unwrap_or_default()
}

/// Every host's badges, in host order.
pub fn badges(w: &World) -> Vec<Badge> {
    let (vips, dests, directors) = vips_and_dests(w);
    let mut out = Vec::new();
    for h in w.hosts.values() {
        let Some((opts, both)) = lab_options(h, &vips, &dests, &directors) else {
            continue;
        };
        for f in doctor::examine_host(h, &opts).findings {
            // The typo's own address (what is on lo instead of the VIP).
            let subject = if f.check == "rs-vip-typo" {
                h.devices
                    .values()
                    .filter(|d| d.name == "lo")
                    .filter_map(|d| h.addrs.get(&d.ifindex))
                    .flatten()
                    .map(|a| a.local())
                    .find(|a| !a.is_loopback() && !vips.contains(a))
                    .map(|a| a.to_string())
                    .unwrap_or_default()
            } else {
                String::new()
            };
            let (en, zh) = short(&f.check, &subject);
            out.push(Badge {
                host: h.name.clone(),
                check: f.check,
                error: f.severity == Severity::Error,
                en,
                zh,
            });
        }
        if both {
            out.push(Badge {
                host: h.name.clone(),
                check: "rs-has-ipvs".into(),
                error: true,
                en: "IPVS on a real server".into(),
                zh: "真实服务器上配置了 IPVS".into(),
            });
        }
    }
    out
}

/// The director's table in a line per service: `TCP 192.168.150.100:80 rr
/// → .12 .13` (real servers in address order, those on the VIP's /24 by
/// their last octet).
pub fn ipvs_summary(w: &World, host: &str) -> Vec<String> {
    let Some(h) = w.host(host) else {
        return vec![];
    };
    h.ipvs
        .services
        .iter()
        .map(|s| {
            let (key, net) = match &s.spec.key {
                ServiceKey::Addr { proto, addr, port } => {
                    let net = match addr {
                        IpAddr::V4(a) => Some(a.octets()),
                        IpAddr::V6(_) => None,
                    };
                    (format!("{proto:?} {addr}:{port}").to_uppercase(), net)
                }
                ServiceKey::Fwmark { mark, .. } => (format!("FWM {mark}"), None),
            };
            let mut addrs: Vec<IpAddr> = s.dests.iter().map(|d| d.spec.addr).collect();
            addrs.sort_unstable();
            let rs: Vec<String> = addrs
                .into_iter()
                .map(|a| match (a, net) {
                    (IpAddr::V4(a), Some(n)) if a.octets()[..3] == n[..3] => {
                        format!(".{}", a.octets()[3])
                    }
                    (a, _) => a.to_string(),
                })
                .collect();
            let rs = if rs.is_empty() {
                "–".to_string()
            } else {
                rs.join(" ")
            };
            format!("{key} {} → {rs}", s.spec.scheduler)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;
    use crate::shell::Lab;

    fn of(name: &str) -> Vec<(String, String)> {
        let w = scenario::load(name).unwrap();
        badges(&w).into_iter().map(|b| (b.host, b.check)).collect()
    }

    #[test]
    fn the_configured_lab_has_none_and_each_pitfall_its_own() {
        assert!(of("seed").is_empty(), "{:?}", of("seed"));
        let p = |h: &str, c: &str| (h.to_string(), c.to_string());
        assert_eq!(
            of("pitfall-lo-mask-24"),
            [p("node02", "rs-vip-mask"), p("node03", "rs-vip-mask")]
        );
        assert_eq!(
            of("pitfall-typo-192-178"),
            [p("node02", "rs-vip-typo"), p("node03", "rs-vip-typo")]
        );
        let w = scenario::load("pitfall-typo-192-178").unwrap();
        assert_eq!(badges(&w)[0].en, "VIP typo: 192.178.150.100");
        assert!(of("pitfall-no-arp-sysctls").contains(&p("node02", "rs-arp-ignore")));
        assert_eq!(of("pitfall-lo-down"), [p("node02", "rs-vip-missing")]);
    }

    #[test]
    fn the_tutorial_pasted_into_a_real_server_makes_it_a_director() {
        let mut lab = Lab::new(scenario::load("seed").unwrap());
        lab.run("node03", "ipvsadm -A -t 192.168.150.100:80 -s rr");
        let b = badges(&lab.world);
        assert!(
            b.iter()
                .any(|b| b.host == "node03" && b.check == "rs-has-ipvs"),
            "{b:?}"
        );
    }

    #[test]
    fn the_director_summary_names_service_scheduler_and_real_servers() {
        let w = scenario::load("seed").unwrap();
        assert_eq!(
            ipvs_summary(&w, "node01"),
            ["TCP 192.168.150.100:80 rr → .12 .13"]
        );
        assert!(ipvs_summary(&w, "node02").is_empty());
    }
}
