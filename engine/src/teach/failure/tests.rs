use super::*;
use crate::scenario;
use crate::shell::Lab;

/// Run `cmds` in scenario `name`; the summary of the last one.
fn last(name: &str, cmds: &[(&str, &str)]) -> (Lab, Option<Failure>) {
    let mut lab = Lab::new(scenario::load(name).unwrap());
    let mut f = None;
    for (h, c) in cmds {
        let from = lab.world.trace.len();
        let out = lab.run(h, c);
        let to = lab.world.trace.len();
        f = summarize(&lab.world, h, c, out.status, from..to);
    }
    (lab, f)
}

const CURL: (&str, &str) = ("client", "curl -m 2 http://192.168.150.100/");

#[test]
fn the_configured_lab_says_nothing() {
    let (_, f) = last("seed", &[CURL, CURL]);
    assert_eq!(f, None);
    let (_, f) = last("seed", &[("client", "ping -c 1 192.168.150.100")]);
    assert_eq!(f, None);
}

#[test]
fn the_typo_names_the_real_server_its_look_alike_and_the_drop() {
    // Round robin: the first connection goes to node03, the second to node02.
    let (lab, f) = last("pitfall-typo-192-178", &[CURL, CURL]);
    let f = f.expect("a summary");
    assert_eq!(f.host, "node02");
    for s in [
        "node02",
        "192.178.150.100",
        "lo:2",
        "192.168.150.100",
        "node01",
        "SYN",
    ] {
        assert!(f.en.contains(s), "{s}: {}", f.en);
    }
    assert!(
        f.zh.contains("192.178.150.100") && f.zh.contains("笔误"),
        "{}",
        f.zh
    );
    let e = &lab.world.trace[f.event.expect("an event")];
    assert_eq!(e.host, "node02");
    assert!(
        matches!(
            &e.kind,
            EventKind::Drop {
                reason: DropReason::NotForwarding { .. },
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(f.check.as_deref(), Some("rs-vip-typo"));
    assert!(
        f.fix.iter().any(|c| c.contains("192.168.150.100")),
        "{:?}",
        f.fix
    );
    // The drop event itself says what was wrong with the address first.
    let x = e.explain(Lang::En);
    let (own, fwd) = (
        x.find("192.178.150.100 on lo:2").unwrap(),
        x.find("ip_forward is 0").unwrap(),
    );
    assert!(own < fwd, "{x}");
}

#[test]
fn lo_2_down_names_the_missing_vip() {
    let (lab, f) = last("pitfall-lo-down", &[CURL, CURL]);
    let f = f.expect("the second connection goes to node02");
    assert_eq!(f.host, "node02");
    assert!(f.en.contains("does not own 192.168.150.100"), "{}", f.en);
    assert!(!f.en.contains("typo"), "{}", f.en);
    assert_eq!(f.check.as_deref(), Some("rs-vip-missing"));
    assert!(matches!(
        lab.world.trace[f.event.unwrap()].kind,
        EventKind::Drop { .. }
    ));
}

#[test]
fn a_24_on_lo_swallows_the_reply() {
    let (lab, f) = last("pitfall-lo-mask-24", &[CURL]);
    let f = f.expect("curl times out");
    assert_eq!(f.host, "node03");
    for s in [
        "192.168.150.1",
        "local 192.168.150.0/24 dev lo",
        "/24",
        "lo:2",
        "itself",
    ] {
        assert!(f.en.contains(s), "{s}: {}", f.en);
    }
    assert_eq!(f.check.as_deref(), Some("rs-vip-mask"));
    let e = &lab.world.trace[f.event.unwrap()];
    assert!(
        matches!(&e.kind, EventKind::RouteLookup { table, .. } if table.0 == crate::net::ipv4::fib::TABLE_LOCAL),
        "the lookup that sent the reply to lo: {e:?}"
    );
    // A ping of a real server: its echo reply goes the same way.
    let (_, f) = last(
        "pitfall-lo-mask-24",
        &[("client", "ping -c 1 192.168.150.12")],
    );
    let f = f.expect("no reply");
    assert_eq!(f.host, "node02");
    assert!(f.en.contains("local 192.168.150.0/24 dev lo"), "{}", f.en);
}

#[test]
fn no_route_out_of_the_lan() {
    let (_, f) = last("bare", &[("client", "ping -c 1 10.0.0.1")]);
    let f = f.expect("ping fails");
    assert_eq!((f.host.as_str(), f.event), ("client", None));
    assert!(
        f.en.contains("no route to 10.0.0.1") && f.en.contains("no default route"),
        "{}",
        f.en
    );
    // A real server without routes drops its own reply: the drop is named.
    let mut cmds = vec![];
    for h in ["node02", "node03"] {
        cmds.push((h, "ip route del default"));
        cmds.push((h, "ip route del 192.168.150.0/24 dev eth0"));
    }
    cmds.push(CURL);
    let (lab, f) = last("seed", &cmds);
    let f = f.expect("curl times out");
    assert_eq!(f.host, "node03", "{f:?}");
    assert!(
        f.en.contains("no route") && f.en.contains("no default route"),
        "{}",
        f.en
    );
    assert!(matches!(
        lab.world.trace[f.event.unwrap()].kind,
        EventKind::Drop {
            reason: DropReason::NoRoute,
            ..
        }
    ));
}

#[test]
fn an_address_nobody_has_and_one_everybody_hides() {
    let (lab, f) = last("bare", &[("client", "ping -c 1 -W 1 192.168.150.50")]);
    let f = f.expect("no reply");
    assert!(
        f.en.contains("no host on this LAN has 192.168.150.50"),
        "{}",
        f.en
    );
    assert!(matches!(
        lab.world.trace[f.event.unwrap()].kind,
        EventKind::ArpSolicit { .. }
    ));
    // Without the director's VIP only the real servers have it, on lo, and
    // arp_ignore=1 keeps them silent.
    let (_, f) = last(
        "seed",
        &[
            ("node01", "ifconfig eth0:8 down"),
            ("client", "arping -c 1 192.168.150.100"),
        ],
    );
    let f = f.expect("no ARP reply");
    assert!(
        f.en.contains("node02, node03 own it but stay silent (arp_ignore=1"),
        "{}",
        f.en
    );
}

#[test]
fn nothing_listening_and_not_a_network_tool() {
    let (_, f) = last(
        "seed",
        &[
            ("node03", "service httpd stop"),
            ("client", "curl -m 2 http://192.168.150.13/"),
        ],
    );
    let f = f.expect("refused");
    assert!(
        f.en.contains("node03") && f.en.contains("no socket"),
        "{}",
        f.en
    );
    let (_, f) = last("bare", &[("client", "cat /nonexistent")]);
    assert_eq!(f, None);
    assert_eq!(Tool::of("curl http://x/ &"), None);
    assert_eq!(Tool::of("/usr/bin/curl -s x"), Some(Tool::Curl));
}
