use super::*;
use crate::sim::scenario;

fn ids(world: &crate::World, host: &str, opts: &Options) -> Vec<String> {
    let r = examine_host(world.host(host).unwrap(), opts);
    r.findings.iter().map(|f| f.check.clone()).collect()
}

#[test]
fn seed_is_healthy() {
    let w = scenario::load("seed").unwrap();
    let d = examine_host(w.host("node01").unwrap(), &Options::default());
    assert_eq!(d.role, Some(Role::Director));
    assert!(d.findings.is_empty(), "{d}");
    assert!(d.passed.iter().any(|p| p.check == "dir-vip-local"));
    for rs in ["node02", "node03"] {
        let r = examine_host(w.host(rs).unwrap(), &Options::default());
        assert_eq!(r.role, Some(Role::Realserver));
        assert_eq!(r.vips, vec![Ipv4Addr::new(192, 168, 150, 100)]);
        assert!(r.findings.is_empty(), "{r}");
        assert!(r.to_string().ends_with("no problems found\n"));
    }
}

#[test]
fn each_pitfall_is_found() {
    let vip = Options {
        role: Some(Role::Realserver),
        vip: Some(Ipv4Addr::new(192, 168, 150, 100)),
        ..Default::default()
    };
    let w = scenario::load("pitfall-lo-mask-24").unwrap();
    assert_eq!(ids(&w, "node02", &vip), ["rs-vip-mask"]);
    let r = examine_host(w.host("node02").unwrap(), &vip);
    assert!(
        r.findings[0]
            .en
            .contains("192.168.150.1 now matches `local 192.168.150.0/24 dev lo`"),
        "{r}"
    );

    let w = scenario::load("pitfall-no-arp-sysctls").unwrap();
    assert_eq!(
        ids(&w, "node03", &vip),
        ["rs-arp-ignore", "rs-arp-announce"]
    );

    let w = scenario::load("pitfall-lo-down").unwrap();
    assert_eq!(ids(&w, "node02", &vip), ["rs-vip-missing"]);
    assert!(ids(&w, "node03", &vip).is_empty());

    let w = scenario::load("pitfall-typo-192-178").unwrap();
    let r = examine_host(w.host("node02").unwrap(), &vip);
    assert_eq!(r.findings.len(), 1, "{r}");
    assert_eq!(r.findings[0].check, "rs-vip-typo");
    assert_eq!(
        r.findings[0].fix[0],
        "ip addr del 192.178.150.100/32 dev lo"
    );
    // Without --vip the doctor takes the address on lo as the VIP.
    let r = examine_host(w.host("node02").unwrap(), &Options::default());
    assert_eq!(r.vips, vec![Ipv4Addr::new(192, 178, 150, 100)]);
}

#[test]
fn director_checks() {
    let mut lab = crate::shell::Lab::new(scenario::load("seed").unwrap());
    let none = Options::default();
    lab.run(
        "node01",
        "ipvsadm -e -t 192.168.150.100:80 -r 192.168.150.12 -g -w 0",
    );
    assert_eq!(ids(&lab.world, "node01", &none), ["dir-dest-weight-zero"]);
    let r = examine_host(lab.world.host("node01").unwrap(), &none);
    assert_eq!(r.findings[0].severity, Severity::Warning);
    lab.run(
        "node01",
        "ipvsadm -e -t 192.168.150.100:80 -r 192.168.150.13 -g -w 0",
    );
    let r = examine_host(lab.world.host("node01").unwrap(), &none);
    assert!(
        r.findings.iter().all(|f| f.severity == Severity::Error),
        "{r}"
    );
    lab.run("node01", "ipvsadm -A -t 192.168.150.200:80 -s rr");
    lab.run("node01", "ipvsadm -A -t 192.168.150.100:443 -s rr");
    lab.run("node01", "ipvsadm -a -t 192.168.150.100:443 -r 10.9.9.9 -g");
    lab.run(
        "node01",
        "ipvsadm -a -t 192.168.150.100:443 -r 192.168.150.14 -m",
    );
    let got = ids(&lab.world, "node01", &none);
    for want in [
        "dir-vip-not-local",
        "dir-service-no-dests",
        "dir-dr-dest-not-on-link",
        "dir-nat-no-forwarding",
    ] {
        assert!(got.iter().any(|g| g == want), "{want} missing in {got:?}");
    }
    assert!(examine_host(lab.world.host("node01").unwrap(), &none).problems() >= 6);
}

#[test]
fn nothing_to_check() {
    let w = scenario::bare();
    let r = examine_host(w.host("node02").unwrap(), &Options::default());
    assert_eq!(r.role, None);
    assert!(r.findings.is_empty());
    assert!(r.to_string().contains("nothing to check"));
    // A given role is examined even on a bare host.
    let r = examine_host(
        w.host("node02").unwrap(),
        &Options {
            role: Some(Role::Realserver),
            vip: Some(Ipv4Addr::new(192, 168, 150, 100)),
            ..Default::default()
        },
    );
    assert_eq!(
        r.findings
            .iter()
            .map(|f| f.check.as_str())
            .collect::<Vec<_>>(),
        ["rs-vip-missing", "rs-arp-ignore", "rs-arp-announce"]
    );
}

#[test]
fn a_fwmark_service_needs_a_mark_rule() {
    let mut lab = crate::shell::Lab::new(scenario::load("seed").unwrap());
    lab.run(
        "node01",
        "ipvsadm -A -f 7 -s rr; ipvsadm -a -f 7 -r 192.168.150.12 -g",
    );
    let opts = Options {
        role: Some(Role::Director),
        ..Default::default()
    };
    let has = |lab: &crate::shell::Lab, o: &Options| {
        ids(&lab.world, "node01", o).contains(&"dir-fwmark-no-rule".to_string())
    };
    assert!(has(&lab, &opts));
    let unknown = Options {
        iptables_unknown: true,
        ..opts.clone()
    };
    assert!(!has(&lab, &unknown), "skipped when the rules are unknown");
    lab.run(
        "node01",
        "iptables -t mangle -A PREROUTING -d 192.168.150.100 -p tcp --dport 80 -j MARK --set-mark 7",
    );
    assert!(!has(&lab, &opts));
    // A snapshot carries the rules (as iptables-save lines) and back.
    let snap = crate::ops::snapshot::HostSnapshot::of_host(lab.world.host("node01").unwrap());
    let (h, notes) = snap.to_host();
    assert!(!notes.iter().any(|n| n.contains("iptables")), "{notes:?}");
    assert_eq!(
        h.mangle
            .chain(crate::net::netfilter::Hook::Prerouting)
            .rules
            .len(),
        1
    );
    let mut blind = snap.clone();
    blind.mangle = None;
    assert!(blind
        .to_host()
        .1
        .contains(&crate::ops::snapshot::NOTE_NO_IPTABLES.to_string()));
}
