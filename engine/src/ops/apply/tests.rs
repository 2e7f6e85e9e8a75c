use super::*;
use crate::net::netfilter::ipvs::{Ipvs, SimBackend};
use crate::SimTime;

fn toml_like() -> Desired {
    Desired {
        services: vec![
            DesiredService {
                tcp: Some("192.168.150.100:80".into()),
                scheduler: Some("rr".into()),
                servers: vec![
                    DesiredServer {
                        address: "192.168.150.12".into(),
                        ..Default::default()
                    },
                    DesiredServer {
                        address: "192.168.150.13".into(),
                        weight: Some(2),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            },
            DesiredService {
                udp: Some("192.168.150.100:53".into()),
                scheduler: Some("sed".into()),
                persistent: Some(300),
                netmask: Some("255.255.255.0".into()),
                servers: vec![DesiredServer {
                    address: "10.0.0.2:5353".into(),
                    method: Some("nat".into()),
                    weight: Some(3),
                    upper: Some(100),
                    lower: Some(10),
                }],
                ..Default::default()
            },
        ],
    }
}

fn list(ipvs: &mut Ipvs) -> Vec<ServiceEntry> {
    SimBackend {
        ipvs,
        now: SimTime(0),
    }
    .services()
    .unwrap()
}

#[test]
fn plan_from_empty_then_idempotent() {
    let mut ipvs = Ipvs::default();
    let d = toml_like();
    let p = plan(&d, &list(&mut ipvs), false).unwrap();
    assert_eq!(
        p.to_string(),
        "+ ipvsadm -A -t 192.168.150.100:80 -s rr\n\
         + ipvsadm -a -t 192.168.150.100:80 -r 192.168.150.12:80 -g -w 1\n\
         + ipvsadm -a -t 192.168.150.100:80 -r 192.168.150.13:80 -g -w 2\n\
         + ipvsadm -A -u 192.168.150.100:53 -s sed -p 300 -M 255.255.255.0\n\
         + ipvsadm -a -u 192.168.150.100:53 -r 10.0.0.2:5353 -m -w 3 -x 100 -y 10\n"
    );
    execute(
        &p,
        &mut SimBackend {
            ipvs: &mut ipvs,
            now: SimTime(0),
        },
    )
    .unwrap();
    let again = plan(&d, &list(&mut ipvs), false).unwrap();
    assert!(again.is_empty(), "{again}");
    // The table read back as a desired state plans nothing either.
    let back = Desired::from_entries(&list(&mut ipvs));
    assert!(plan(&back, &list(&mut ipvs), true).unwrap().is_empty());
    // ...and creates the same list order on an empty table.
    let mut other = Ipvs::default();
    execute(
        &plan(&back, &[], false).unwrap(),
        &mut SimBackend {
            ipvs: &mut other,
            now: SimTime(0),
        },
    )
    .unwrap();
    assert_eq!(list(&mut other), list(&mut ipvs));
}

#[test]
fn edits_deletes_and_prune() {
    let mut ipvs = Ipvs::default();
    let d = toml_like();
    execute(
        &plan(&d, &[], false).unwrap(),
        &mut SimBackend {
            ipvs: &mut ipvs,
            now: SimTime(0),
        },
    )
    .unwrap();
    let mut d2 = d.clone();
    d2.services[0].scheduler = Some("wrr".into());
    d2.services[0].servers.remove(0);
    d2.services[0].servers[0].weight = Some(5);
    d2.services[0].servers.push(DesiredServer {
        address: "192.168.150.14".into(),
        ..Default::default()
    });
    d2.services.remove(1);
    let p = plan(&d2, &list(&mut ipvs), false).unwrap();
    assert_eq!(
        p.to_string(),
        "~ ipvsadm -E -t 192.168.150.100:80 -s wrr   (was: -s rr)\n\
         - ipvsadm -d -t 192.168.150.100:80 -r 192.168.150.12:80\n\
         ~ ipvsadm -e -t 192.168.150.100:80 -r 192.168.150.13:80 -g -w 5   (was: -r 192.168.150.13:80 -g -w 2)\n\
         + ipvsadm -a -t 192.168.150.100:80 -r 192.168.150.14:80 -g -w 1\n  \
         (not declared, left alone: -u 192.168.150.100:53; --prune deletes it)\n"
    );
    let p = plan(&d2, &list(&mut ipvs), true).unwrap();
    assert_eq!(
        p.ops.last().unwrap().to_string(),
        "- ipvsadm -D -u 192.168.150.100:53"
    );
}

#[test]
fn failure_rolls_back_everything() {
    let mut ipvs = Ipvs::default();
    // Something exists already and must survive unchanged.
    let mut first = toml_like();
    first.services.truncate(1);
    execute(
        &plan(&first, &[], false).unwrap(),
        &mut SimBackend {
            ipvs: &mut ipvs,
            now: SimTime(0),
        },
    )
    .unwrap();
    let before = list(&mut ipvs);
    let mut d = toml_like();
    d.services[0].scheduler = Some("wlc".into());
    d.services[0].servers[1].weight = Some(9);
    // The last service asks for a scheduler that does not exist.
    d.services.push(DesiredService {
        tcp: Some("192.168.150.100:443".into()),
        scheduler: Some("nosuch".into()),
        ..Default::default()
    });
    let p = plan(&d, &before, true).unwrap();
    let err = execute(
        &p,
        &mut SimBackend {
            ipvs: &mut ipvs,
            now: SimTime(0),
        },
    )
    .unwrap_err();
    assert_eq!(err.error, IpvsError::NoScheduler("nosuch".into()));
    assert_eq!(err.rolled_back.len(), 4, "{err}");
    assert!(err.rollback_errors.is_empty());
    assert_eq!(list(&mut ipvs), before);
    assert!(err
        .to_string()
        .starts_with("failed: ipvsadm -A -t 192.168.150.100:443 -s nosuch: "));
}

#[test]
fn bad_declarations_are_clear_errors() {
    let bad = |f: &dyn Fn(&mut Desired)| {
        let mut d = toml_like();
        f(&mut d);
        d.targets().unwrap_err().to_string()
    };
    assert_eq!(
        bad(&|d| d.services[0].udp = Some("1.2.3.4:5".into())),
        "service #1: give exactly one of tcp, udp, sctp, fwmark"
    );
    assert_eq!(
        bad(&|d| d.services[0].tcp = Some("1.2.3.4".into())),
        "service #1 (-t 1.2.3.4): Zero port specified for non-persistent service"
    );
    assert_eq!(
        bad(&|d| d.services[0].servers[0].method = Some("fast".into())),
        "service -t 192.168.150.100:80, server 192.168.150.12: unknown method \"fast\" (use dr, tun or nat)"
    );
    assert!(bad(&|d| d.services[0].servers[0].weight = Some(-1))
        .starts_with("service -t 192.168.150.100:80, server 192.168.150.12: "));
    assert_eq!(
        bad(&|d| d.services[1] = d.services[0].clone()),
        "service -t 192.168.150.100:80 is declared twice"
    );
}

#[test]
fn scheduler_names_are_checked_before_anything_is_planned() {
    for (name, why) in [
        ("rr\nipvsadm -C", "letters, digits"),
        ("r\u{1b}[2J", "letters, digits"),
        ("a\0b", "letters, digits"),
        ("abcdefghijklmnop", "15 bytes"),
        ("", "empty"),
    ] {
        let mut d = toml_like();
        d.services[0].scheduler = Some(name.into());
        let e = d.targets().expect_err(name).to_string();
        assert!(e.contains(why), "{name:?}: {e}");
        assert!(!e.contains('\n') && !e.contains('\u{1b}'), "escaped: {e}");
    }
    let mut d = toml_like();
    d.services[0].scheduler = Some("weighted_rr_15b".into());
    assert!(d.targets().is_ok(), "15 bytes pass the grammar");
}

#[test]
fn a_persistent_service_without_a_netmask_converges() {
    let mut ipvs = Ipvs::default();
    let mut d = toml_like();
    d.services[1].netmask = None;
    let p = plan(&d, &list(&mut ipvs), false).unwrap();
    assert!(p.to_string().contains("-s sed -p 300\n"), "{p}");
    execute(
        &p,
        &mut SimBackend {
            ipvs: &mut ipvs,
            now: SimTime(0),
        },
    )
    .unwrap();
    let again = plan(&d, &list(&mut ipvs), false).unwrap();
    assert!(again.is_empty(), "the second run is no changes: {again}");
}
