use super::*;
use crate::tools::iptables::{list, mark_text, num, save_rules, ListFormat};
use std::net::Ipv4Addr;

fn vip_rule(mark: u32) -> RuleSpec {
    RuleSpec {
        dst: Some((
            Cidr {
                addr: Ipv4Addr::new(192, 168, 150, 100),
                len: 32,
            },
            false,
        )),
        proto: (6, false),
        matches: vec![Match::Ports {
            udp: false,
            sport: None,
            dport: Some((Ports { lo: 80, hi: 80 }, false)),
        }],
        target: Some(Target::Mark {
            value: mark,
            mask: u32::MAX,
        }),
        ..Default::default()
    }
}

fn pkt(dport: u16, len: u64) -> Pkt<'static> {
    Pkt {
        src: Ipv4Addr::new(192, 168, 150, 1),
        dst: Ipv4Addr::new(192, 168, 150, 100),
        proto: 6,
        ports: Some((40000, dport)),
        len,
        in_if: Some("eth0"),
        out_if: None,
    }
}

#[test]
fn mark_continues_and_the_policy_counts_every_packet() {
    let mut m = Mangle::default();
    m.append(Hook::Prerouting, vip_rule(1));
    let v = m.run(Hook::Prerouting, &pkt(80, 60), 0);
    assert_eq!((v.accept, v.mark, v.marked_by), (true, 1, Some(1)));
    let v = m.run(Hook::Prerouting, &pkt(443, 52), 0);
    assert_eq!((v.mark, v.marked_by), (0, None));
    let c = m.chain(Hook::Prerouting);
    assert_eq!((c.rules[0].pkts, c.rules[0].bytes), (1, 60));
    assert_eq!((c.pkts, c.bytes), (2, 112), "MARK does not end the walk");
    // Recorded in the VM (iptables 1.8.9 legacy): -L -n -v.
    assert_eq!(
        list(
            &m,
            Some(Hook::Prerouting),
            ListFormat {
                numeric: true,
                verbose: true,
                ..Default::default()
            }
        ),
        "Chain PREROUTING (policy ACCEPT 2 packets, 112 bytes)\n pkts bytes target     prot opt in     out     source               destination         \n    1    60 MARK       6    --  *      *       0.0.0.0/0            192.168.150.100      tcp dpt:80 MARK set 0x1\n"
    );
    // A change resets the policy counters, not the rules'.
    m.append(Hook::Prerouting, vip_rule(2));
    let c = m.chain(Hook::Prerouting);
    assert_eq!((c.pkts, c.rules[0].pkts), (0, 1));
    assert_eq!(
        save_rules(&m, Some(Hook::Prerouting)),
        "-P PREROUTING ACCEPT\n-A PREROUTING -d 192.168.150.100/32 -p tcp -m tcp --dport 80 -j MARK --set-xmark 0x1/0xffffffff\n-A PREROUTING -d 192.168.150.100/32 -p tcp -m tcp --dport 80 -j MARK --set-xmark 0x2/0xffffffff\n"
    );
    // The later rule wins.
    assert_eq!(m.run(Hook::Prerouting, &pkt(80, 60), 0).mark, 2);
}

#[test]
fn targets_and_matches() {
    let mut m = Mangle::default();
    let mut accept = vip_rule(0);
    accept.target = Some(Target::Accept);
    m.append(Hook::Prerouting, accept);
    m.append(Hook::Prerouting, vip_rule(7));
    assert_eq!(
        m.run(Hook::Prerouting, &pkt(80, 60), 0).mark,
        0,
        "ACCEPT ends the walk"
    );
    assert_eq!(m.chain(Hook::Prerouting).pkts, 0);
    m.flush(None);
    let mut r = vip_rule(0);
    r.matches = vec![
        Match::Multiport {
            dir: PortDir::Destination,
            ports: vec![Ports { lo: 80, hi: 80 }, Ports { lo: 440, hi: 450 }],
            inv: false,
        },
        Match::Mark {
            value: 0,
            mask: 0xff,
            inv: false,
        },
    ];
    r.target = Some(Target::Mark {
        value: 0x10,
        mask: 0xf0,
    });
    m.append(Hook::Prerouting, r);
    assert_eq!(m.run(Hook::Prerouting, &pkt(443, 60), 0x100).mark, 0x110);
    assert_eq!(m.run(Hook::Prerouting, &pkt(443, 60), 0x1).mark, 0x1);
    assert_eq!(m.run(Hook::Prerouting, &pkt(8080, 60), 0).mark, 0);
    assert!(m
        .list(Hook::Prerouting)
        .contains("multiport dports http,440:450 mark match 0x0/0xff MARK xset 0x10/0xf0"));
    assert_eq!(
        m.delete_at(Hook::Prerouting, 2),
        Err(TableError::DeleteIndex)
    );
    assert_eq!(
        m.delete_spec(Hook::Prerouting, &vip_rule(1)),
        Err(TableError::NoSuchRule)
    );
    m.policy(Hook::Prerouting, false);
    assert!(!m.run(Hook::Prerouting, &pkt(1, 60), 0).accept);
    assert_eq!(num(123_456, ListFormat::default(), false), " 123K ");
    assert_eq!(num(99_999, ListFormat::default(), false), "99999 ");
    assert_eq!(mark_text(0, 0xffff_fffe), " MARK and 0x1");
}

impl Mangle {
    fn list(&self, h: Hook) -> String {
        list(self, Some(h), ListFormat::default())
    }
}
