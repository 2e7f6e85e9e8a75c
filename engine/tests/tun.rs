//! IPVS tunnelling (IPIP) end to end through the shell: the director's
//! encapsulation (`ip_vs_tunnel_xmit`), tunl0 on the real servers
//! (`ipip_rcv`), the rp_filter pitfall, and the ICMP errors a real server
//! without a working tunnel sends (relayed to the client by `ip_vs_in_icmp`).

use lvslab_engine::scenario;
use lvslab_engine::shell::Lab;
use lvslab_engine::trace::{DropReason, EventKind, Lang};
use lvslab_engine::wire::{FrameRepr, Payload, L4};
use std::net::Ipv4Addr;

const VIP: Ipv4Addr = Ipv4Addr::new(192, 168, 150, 100);
/// The real servers must not answer ARP for the VIP (as in Direct Routing).
const KNOBS: &str = "cd /proc/sys/net/ipv4/conf/eth0; echo 1 > arp_ignore; echo 2 > arp_announce; cd ../all; echo 1 > arp_ignore; echo 2 > arp_announce";

fn run_all(lab: &mut Lab, lines: &[(&str, &str)]) {
    for (h, c) in lines {
        let o = lab.run(h, c);
        assert_eq!(o.status, 0, "{h}# {c}: {}", o.text);
    }
}

/// Director + two TUN real servers with the VIP on tunl0 (up).
fn tun_lab() -> Lab {
    let mut lab = Lab::new(scenario::bare());
    run_all(
        &mut lab,
        &[
            ("node01", "ifconfig eth0:8 192.168.150.100/24"),
            ("node02", "modprobe ipip"),
            ("node03", "modprobe ipip"),
            ("node02", KNOBS),
            ("node03", KNOBS),
            ("node02", "service httpd start"),
            ("node02", "echo 'from 12' > /var/www/html/index.html"),
            ("node03", "service httpd start"),
            ("node03", "echo 'from 13' > /var/www/html/index.html"),
            (
                "node02",
                "ifconfig tunl0 192.168.150.100 netmask 255.255.255.255 up",
            ),
            ("node03", "ip addr add 192.168.150.100/32 dev tunl0"),
            ("node03", "ip link set tunl0 up"),
            ("node01", "ipvsadm -A -t 192.168.150.100:80 -s rr"),
            (
                "node01",
                "ipvsadm -a -t 192.168.150.100:80 -r 192.168.150.12 -i",
            ),
            (
                "node01",
                "ipvsadm -a -t 192.168.150.100:80 -r 192.168.150.13 -i",
            ),
        ],
    );
    lab
}

/// The IPIP frames a host sent, parsed: (outer, inner).
fn ipip_sent(
    lab: &Lab,
    host: &str,
) -> Vec<(lvslab_engine::wire::Ipv4Repr, lvslab_engine::wire::Ipv4Repr)> {
    lab.world
        .trace
        .iter()
        .filter(|e| e.host == host)
        .filter_map(|e| match &e.kind {
            EventKind::FrameTx { frame, .. } => FrameRepr::parse(frame).ok(),
            _ => None,
        })
        .filter_map(|f| match f.payload {
            Payload::Ipv4(ip) => match &ip.l4 {
                L4::Ipip(inner) => Some((ip.clone(), (**inner).clone())),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[test]
fn modprobe_ipip_creates_tunl0_down_once() {
    let mut lab = Lab::new(scenario::bare());
    assert!(!lab.run("node02", "ip link show").text.contains("tunl0"));
    assert_eq!(lab.run("node02", "modprobe ipip").text, "");
    assert_eq!(lab.run("node02", "modprobe ipip").status, 0);
    let show = lab.run("node02", "ip link show tunl0");
    assert_eq!(
        show.text,
        "3: tunl0@NONE: <NOARP> mtu 1480 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n    link/ipip 0.0.0.0 brd 0.0.0.0\n"
    );
    let bad = lab.run("node02", "modprobe ipipx");
    assert_eq!(bad.status, 1);
    assert!(bad
        .text
        .starts_with("modprobe: FATAL: Module ipipx not found"));
    // Another host is a separate machine: no tunl0 there.
    assert!(!lab.run("node03", "ip link show").text.contains("tunl0"));
}

#[test]
fn director_encapsulates_as_ip_vs_tunnel_xmit_does() {
    let mut lab = tun_lab();
    let a = lab.run(
        "client",
        "curl -s -m 2 --local-port 20001 http://192.168.150.100/",
    );
    let b = lab.run(
        "client",
        "curl -s -m 2 --local-port 20002 http://192.168.150.100/",
    );
    let mut got = [a.text, b.text];
    got.sort();
    assert_eq!(got, ["from 12\n", "from 13\n"]);
    let sent = ipip_sent(&lab, "node01");
    assert!(!sent.is_empty());
    for (outer, inner) in &sent {
        assert_eq!(
            outer.src,
            Ipv4Addr::new(192, 168, 150, 11),
            "route's source, not the VIP"
        );
        assert!(
            outer.dst == Ipv4Addr::new(192, 168, 150, 12)
                || outer.dst == Ipv4Addr::new(192, 168, 150, 13)
        );
        assert_eq!(inner.dst, VIP);
        assert_eq!(inner.src, Ipv4Addr::new(192, 168, 150, 1));
        // The client's TTL 64 minus the director's decrement, copied out.
        assert_eq!(inner.ttl, 63);
        assert_eq!(outer.ttl, inner.ttl);
        assert_eq!(outer.tos, inner.tos);
        assert_eq!(outer.dont_frag, inner.dont_frag);
        if outer.dont_frag {
            assert_eq!(outer.ident, 0);
        }
        assert_eq!(outer.protocol(), 4);
    }
    // The real servers answered from the VIP, directly (no IPIP back).
    assert!(ipip_sent(&lab, "node02").is_empty());
    let decap: Vec<_> = lab
        .world
        .trace
        .iter()
        .filter(|e| matches!(e.kind, EventKind::IpipDecap { .. }))
        .collect();
    assert!(decap.iter().any(|e| e.host == "node02") && decap.iter().any(|e| e.host == "node03"));
    let en = decap[0].explain(Lang::En);
    let zh = decap[0].explain(Lang::Zh);
    assert!(en.contains("tunl0") && en.contains("rp_filter"), "{en}");
    assert!(zh.contains("tunl0") && zh.contains("剥掉外层头"), "{zh}");
    let enc = lab
        .world
        .trace
        .iter()
        .find(|e| matches!(e.kind, EventKind::IpipEncap { .. }))
        .expect("an encapsulation event");
    assert!(enc.explain(Lang::En).contains("IPIP") && enc.explain(Lang::Zh).contains("IPIP"));
    // tunl0 counted the inner packets.
    let ifc = lab.run("node02", "ifconfig tunl0").text;
    assert!(
        ifc.contains("tunnel   txqueuelen 1000  (IPIP Tunnel)"),
        "{ifc}"
    );
    assert!(!ifc.contains("RX packets 0 "), "{ifc}");
    // The director never sees replies: Tunnel, and input-only states.
    let ln = lab.run("node01", "ipvsadm -ln").text;
    assert!(ln.contains("Tunnel  1"), "{ln}");
    let sn = lab.run("node01", "ipvsadm -Sn").text;
    assert!(
        sn.contains("-r 192.168.150.12:80 -i -w 1 --tun-type ipip"),
        "{sn}"
    );
}

#[test]
fn rp_filter_on_tunl0_drops_the_decapsulated_packet() {
    let mut lab = tun_lab();
    // rr: the first new connection goes to node03 (added last, list head), the second to node02.
    run_all(
        &mut lab,
        &[("node02", "echo 1 > /proc/sys/net/ipv4/conf/all/rp_filter")],
    );
    let first = lab.run(
        "client",
        "curl -s -m 2 --local-port 20011 http://192.168.150.100/",
    );
    let second = lab.run(
        "client",
        "curl -s -m 2 --local-port 20012 http://192.168.150.100/",
    );
    let answered: Vec<String> = [first, second].into_iter().map(|o| o.text).collect();
    assert!(answered.contains(&"from 13\n".to_string()), "{answered:?}");
    assert!(answered.contains(&String::new()), "{answered:?}");
    assert!(lab.world.trace.iter().any(|e| e.host == "node02"
        && matches!(
            &e.kind,
            EventKind::Drop {
                reason: DropReason::RpFilter,
                ..
            }
        )));
    let lnc = lab.run("node01", "ipvsadm -lnc").text;
    assert!(lnc.contains("SYN_RECV    192.168.150.1:2001"), "{lnc}");
    // max(all, tunl0): loose mode on tunl0 with all=0 lets it through.
    run_all(
        &mut lab,
        &[
            ("node02", "echo 0 > /proc/sys/net/ipv4/conf/all/rp_filter"),
            ("node02", "echo 2 > /proc/sys/net/ipv4/conf/tunl0/rp_filter"),
        ],
    );
    let c = lab
        .run(
            "client",
            "curl -s -m 2 --local-port 20013 http://192.168.150.100/",
        )
        .text;
    let d = lab
        .run(
            "client",
            "curl -s -m 2 --local-port 20014 http://192.168.150.100/",
        )
        .text;
    let mut got = [c, d];
    got.sort();
    assert_eq!(got, ["from 12\n", "from 13\n"]);
}

#[test]
fn no_tunnel_on_the_real_server_is_refused_through_the_director() {
    let mut lab = Lab::new(scenario::bare());
    run_all(
        &mut lab,
        &[
            ("node01", "ifconfig eth0:8 192.168.150.100/24"),
            ("node02", KNOBS),
            ("node02", "service httpd start"),
            (
                "node02",
                "ifconfig lo:2 192.168.150.100 netmask 255.255.255.255",
            ),
            ("node01", "ipvsadm -A -t 192.168.150.100:80 -s rr"),
            (
                "node01",
                "ipvsadm -a -t 192.168.150.100:80 -r 192.168.150.12 -i",
            ),
        ],
    );
    let t0 = lab.world.now;
    let o = lab.run("client", "curl -s -m 5 http://192.168.150.100/");
    assert_eq!(o.status, 7, "refused, not timed out: {}", o.text);
    assert!(lab.world.now.0 - t0.0 < 1_000_000, "failed at once");
    let kinds: Vec<&EventKind> = lab.world.trace.iter().map(|e| &e.kind).collect();
    assert!(kinds
        .iter()
        .any(|k| matches!(k, EventKind::IpipNoTunnel { loaded: false, .. })));
    assert!(kinds
        .iter()
        .any(|k| matches!(k, EventKind::IpvsIcmpRelay { code: 2, .. })));
    // tunl0 present but down: port unreachable instead.
    run_all(&mut lab, &[("node02", "modprobe ipip")]);
    let o = lab.run("client", "curl -s -m 5 http://192.168.150.100/");
    assert_eq!(o.status, 7);
    assert!(lab
        .world
        .trace
        .iter()
        .any(|e| matches!(e.kind, EventKind::IpvsIcmpRelay { code: 3, .. })));
    lab.run("node01", "sleep 3");
    let st = lab.run("node01", "ipvsadm -ln --stats").text;
    let row = st
        .lines()
        .find(|l| l.starts_with("TCP"))
        .expect("service row");
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols[2], "2", "two connections: {st}");
    // Each relayed error counts twice, as on the 6.1 kernel: the quoted
    // request (60 bytes) and the ICMP message (88 bytes).
    assert_eq!(
        (cols[4], cols[6]),
        ("4", "296"),
        "the relayed errors are the only OutPkts: {st}"
    );
}
