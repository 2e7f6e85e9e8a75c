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
    assert_eq!(
        bad(&|d| d.services[0].servers[0].lower = Some(4)),
        "service -t 192.168.150.100:80, server 192.168.150.12: lower threshold 4 is above the upper threshold 0 (0 means none; the kernel refuses this with ERANGE)"
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

#[test]
fn fwmark_ipv6_and_every_mask_are_applied_as_declared() {
    let mut ipvs = Ipvs::default();
    let svc = |f: fn(&mut DesiredService)| {
        let mut s = DesiredService {
            scheduler: Some("rr".into()),
            persistent: Some(60),
            ..Default::default()
        };
        f(&mut s);
        s
    };
    let d = Desired {
        services: vec![
            svc(|s| {
                s.fwmark = Some(5);
                s.ipv6 = true;
                s.netmask = Some("64".into());
                s.servers = vec![DesiredServer {
                    address: "2001:db8::12".into(),
                    ..Default::default()
                }];
            }),
            svc(|s| {
                s.fwmark = Some(5);
                s.netmask = Some("0.0.0.0".into());
            }),
            svc(|s| {
                s.tcp = Some("192.168.150.100:80".into());
                s.netmask = Some("255.0.255.0".into());
            }),
        ],
    };
    let p = plan(&d, &list(&mut ipvs), false).unwrap();
    assert_eq!(
        p.to_string(),
        "+ ipvsadm -A -f 5 -6 -s rr -p 60 -M 64\n\
         + ipvsadm -a -f 5 -6 -r [2001:db8::12]:0 -g -w 1\n\
         + ipvsadm -A -f 5 -s rr -p 60 -M 0.0.0.0\n\
         + ipvsadm -A -t 192.168.150.100:80 -s rr -p 60 -M 255.0.255.0\n"
    );
    let mut b = SimBackend {
        ipvs: &mut ipvs,
        now: SimTime(0),
    };
    execute(&p, &mut b).unwrap();
    let listed = list(&mut ipvs);
    let masks: Vec<(bool, u32)> = listed
        .iter()
        .map(|s| (s.spec.key.is_v6(), s.spec.netmask))
        .collect();
    assert_eq!(masks, [(true, 64), (false, 0), (false, 0xff00_ff00)]);
    // --prune keeps the IPv6 fwmark service: it is declared.
    assert!(plan(&d, &listed, true).unwrap().is_empty());
    // An IPv6 mask outside 1..=128 and -6 on an address are refused.
    let mut bad = d.clone();
    bad.services[0].netmask = Some("0".into());
    assert!(matches!(
        bad.targets(),
        Err(DesiredError::Service { message, .. }) if message == "illegal ipv6 netmask specified"
    ));
    let mut bad = d.clone();
    bad.services[2].ipv6 = true;
    assert!(matches!(bad.targets(), Err(DesiredError::Ipv6NotFwmark(3))));
    // A real server of the other family only through a tunnel.
    let mut bad = d;
    bad.services[2].servers = vec![DesiredServer {
        address: "2001:db8::12".into(),
        ..Default::default()
    }];
    assert!(matches!(
        bad.targets(),
        Err(DesiredError::Server { message, .. })
            if message == "Different address family is allowed only for tunneling servers"
    ));
}

mod converges {
    //! For random desired states: apply, then plan again, gives no changes,
    //! from an empty table and from another random table with --prune.
    use super::*;
    use proptest::prelude::*;

    fn server(v6: bool) -> impl Strategy<Value = DesiredServer> {
        // The other family only through a tunnel, as the kernel allows.
        (
            any::<bool>(),
            1u8..250,
            prop::sample::select(vec!["dr", "tun", "nat"]),
            0i32..=65535,
            0u32..1000,
            0u32..1000,
        )
            .prop_map(move |(other, host, method, weight, upper, lower)| {
                // The kernel takes a lower threshold only up to the upper.
                let (upper, lower) = (upper.max(lower), upper.min(lower));
                let v6 = v6 != (other && method == "tun");
                let address = if v6 {
                    format!("[2001:db8::{host:x}]:8080")
                } else {
                    format!("10.0.0.{host}:8080")
                };
                DesiredServer {
                    address,
                    method: Some(method.into()),
                    weight: Some(weight),
                    upper: Some(upper),
                    lower: Some(lower),
                }
            })
    }

    fn service() -> impl Strategy<Value = DesiredService> {
        (
            0u8..4,
            1u16..6,
            any::<bool>(),
            prop::sample::select(vec!["rr", "wrr", "lc", "wlc", "sh", "mh", "sed"]),
            prop::option::of(1u32..3000),
            any::<u32>(),
            1u32..=128,
        )
            .prop_flat_map(|(kind, n, v6, sched, persistent, mask4, plen)| {
                let v6 = v6 || kind == 3;
                prop::collection::vec(server(v6), 0..4).prop_map(move |servers| {
                    let mut s = DesiredService {
                        scheduler: Some(sched.into()),
                        persistent,
                        servers,
                        ..Default::default()
                    };
                    let addr = if v6 {
                        format!("[2001:db8::100]:{n}")
                    } else {
                        format!("192.168.150.100:{n}")
                    };
                    match kind {
                        0 => s.tcp = Some(addr),
                        1 => s.udp = Some(addr),
                        _ => {
                            s.fwmark = Some(u32::from(n));
                            s.ipv6 = v6;
                        }
                    }
                    if persistent.is_some() {
                        s.netmask = Some(if v6 {
                            plen.to_string()
                        } else {
                            std::net::Ipv4Addr::from(mask4).to_string()
                        });
                    }
                    s
                })
            })
    }

    /// Distinct services and servers (a duplicate is a declaration error,
    /// tested on its own).
    fn desired() -> impl Strategy<Value = Desired> {
        prop::collection::vec(service(), 0..6).prop_map(|v| {
            let mut seen = std::collections::HashSet::new();
            let services = v
                .into_iter()
                .filter(|s| {
                    seen.insert((
                        s.tcp.clone(),
                        s.udp.clone(),
                        s.fwmark,
                        s.ipv6 && s.fwmark.is_some(),
                    ))
                })
                .map(|mut s| {
                    let mut ss = std::collections::HashSet::new();
                    s.servers.retain(|d| ss.insert(d.address.clone()));
                    s
                })
                .collect();
            Desired { services }
        })
    }

    fn apply(d: &Desired, ipvs: &mut Ipvs, prune: bool) -> Result<(), String> {
        let p = plan(d, &list(ipvs), prune).map_err(|e| e.to_string())?;
        let mut b = SimBackend {
            ipvs,
            now: SimTime(0),
        };
        execute(&p, &mut b).map_err(|e| e.to_string())?;
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn apply_then_plan_is_empty(before in desired(), d in desired()) {
            let mut ipvs = Ipvs::default();
            prop_assert_eq!(apply(&before, &mut ipvs, false), Ok(()));
            prop_assert_eq!(apply(&d, &mut ipvs, true), Ok(()));
            let again = plan(&d, &list(&mut ipvs), true).unwrap();
            prop_assert!(again.is_empty(), "second run: {}", again);
            // The table read back plans nothing either.
            let back = Desired::from_entries(&list(&mut ipvs));
            let p = plan(&back, &list(&mut ipvs), true).unwrap();
            prop_assert!(p.is_empty(), "read back: {}", p);
        }
    }
}
