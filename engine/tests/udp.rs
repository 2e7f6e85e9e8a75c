//! UDP virtual services with traffic: bash's `/dev/udp` as the client,
//! `ip_vs_in()` scheduling each new client port, the one UDP state with
//! the udp timeout, and the real server's ICMP port unreachable.

use lvslab_engine::scenario;
use lvslab_engine::shell::Lab;
use lvslab_engine::trace::{DropReason, EventKind};
use lvslab_engine::wire::{FrameRepr, IcmpRepr, Payload, L4};

const KNOBS: &str = "cd /proc/sys/net/ipv4/conf/eth0; echo 1 > arp_ignore; echo 2 > arp_announce; cd ../all; echo 1 > arp_ignore; echo 2 > arp_announce";

fn udp_lab() -> Lab {
    let mut lab = Lab::new(scenario::bare());
    for (h, c) in [
        ("node01", "ifconfig eth0:8 192.168.150.100/24"),
        ("node02", KNOBS),
        ("node03", KNOBS),
        (
            "node02",
            "ifconfig lo:2 192.168.150.100 netmask 255.255.255.255",
        ),
        (
            "node03",
            "ifconfig lo:2 192.168.150.100 netmask 255.255.255.255",
        ),
        ("node01", "ipvsadm -A -u 192.168.150.100:53 -s rr"),
        (
            "node01",
            "ipvsadm -a -u 192.168.150.100:53 -r 192.168.150.12 -g",
        ),
        (
            "node01",
            "ipvsadm -a -u 192.168.150.100:53 -r 192.168.150.13 -g",
        ),
    ] {
        let o = lab.run(h, c);
        assert_eq!(o.status, 0, "{h}# {c}: {}", o.text);
    }
    lab
}

#[test]
fn each_new_client_port_is_scheduled_and_kept_with_the_udp_timeout() {
    let mut lab = udp_lab();
    for msg in ["hi", "hello", "bye"] {
        let o = lab.run(
            "client",
            &format!("echo {msg} > /dev/udp/192.168.150.100/53"),
        );
        assert_eq!((o.status, o.text.as_str()), (0, ""));
    }
    let lnc = lab.run("node01", "ipvsadm -lnc").text;
    let rows: Vec<&str> = lnc.lines().filter(|l| l.starts_with("UDP")).collect();
    assert_eq!(rows.len(), 3, "{lnc}");
    for r in &rows {
        assert!(
            r.starts_with("UDP 04:59  UDP         192.168.150.1:"),
            "{r}"
        );
        let port: u16 = r
            .split_whitespace()
            .nth(3)
            .unwrap()
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!((32768..=60999).contains(&port), "ephemeral port {port}");
    }
    assert_eq!(
        rows.iter()
            .filter(|r| r.ends_with("192.168.150.13:53"))
            .count(),
        2
    );
    let ln = lab.run("node01", "ipvsadm -ln").text;
    assert!(
        ln.contains("192.168.150.12:53            Route   1      0          1"),
        "{ln}"
    );
    assert!(
        ln.contains("192.168.150.13:53            Route   1      0          2"),
        "{ln}"
    );
    // The real servers have no UDP socket: port unreachable from the VIP.
    assert!(lab.world.trace.iter().any(|e| e.host == "node02"
        && matches!(
            &e.kind,
            EventKind::Drop {
                reason: DropReason::NoSocket,
                ..
            }
        )));
    let icmp_from_vip = lab.world.trace.iter().any(|e| {
        e.host == "node03"
            && match &e.kind {
                EventKind::FrameTx { frame, .. } => matches!(
                    FrameRepr::parse(frame).map(|f| f.payload),
                    Ok(Payload::Ipv4(ip)) if ip.src == std::net::Ipv4Addr::new(192, 168, 150, 100)
                        && matches!(ip.l4, L4::Icmp(IcmpRepr::DestUnreachable { code: 3, .. }))
                ),
                _ => false,
            }
    });
    assert!(icmp_from_vip);
    // --set changes the udp timeout of new entries only.
    assert_eq!(lab.run("node01", "ipvsadm --set 0 0 60").status, 0);
    lab.run("client", "echo again > /dev/udp/192.168.150.100/53");
    let lnc = lab.run("node01", "ipvsadm -lnc").text;
    assert_eq!(
        lnc.lines().filter(|l| l.starts_with("UDP 00:59")).count(),
        1,
        "{lnc}"
    );
    assert_eq!(
        lnc.lines().filter(|l| l.starts_with("UDP 04:")).count(),
        3,
        "{lnc}"
    );
}

#[test]
fn dev_udp_errors_are_bash_errors_and_send_nothing() {
    let mut lab = udp_lab();
    let before = lab.world.trace.len();
    let o = lab.run("client", "echo hi > /dev/udp/nohost/53");
    assert_eq!(o.status, 1);
    assert_eq!(
        o.text,
        "bash: nohost: Name or service not known\nbash: /dev/udp/nohost/53: Invalid argument\n"
    );
    assert_eq!(lab.world.trace.len(), before, "no packet");
}
