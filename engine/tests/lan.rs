//! End-to-end behaviour of the simulated LAN through the shell.

use lvslab_engine::scenario;
use lvslab_engine::shell::Lab;

/// A ping that outlives REACHABLE (15–45 s) walks the entry through
/// DELAY/PROBE and back without losing a packet (and without the timer
/// re-firing forever at one instant: the kernel's 10 ms minimum).
#[test]
fn long_ping_survives_neighbour_timers() {
    let mut lab = Lab::new(scenario::bare());
    let out = lab.run("client", "ping -c 70 192.168.150.12");
    assert!(
        out.text
            .contains("70 packets transmitted, 70 received, 0% packet loss"),
        "{}",
        out.text
    );
    let n = lab.run("client", "ip neigh show");
    assert!(
        n.text
            .contains("192.168.150.12 dev eth0 lladdr 02:42:c0:a8:96:0c"),
        "{}",
        n.text
    );
}

/// The real server answers from the address the client asked for, and the
/// client's netstat shows the finished connection in TIME_WAIT or gone.
#[test]
fn http_between_two_hosts() {
    let mut lab = Lab::new(scenario::bare());
    for (h, c) in [
        ("node02", "service httpd start"),
        (
            "node02",
            "echo '<h1>from 192.168.150.12</h1>' > /var/www/html/index.html",
        ),
    ] {
        assert_eq!(lab.run(h, c).status, 0);
    }
    let out = lab.run("client", "curl -s http://192.168.150.12/");
    assert_eq!(out.text, "<h1>from 192.168.150.12</h1>\n");
    let refused = lab.run("client", "curl http://192.168.150.13/");
    assert_eq!(refused.status, 7);
}

/// The tutorial's invalid `netmask/24`: exactly net-tools' error in the
/// terminal, the address set anyway, and a teaching hint on the side.
#[test]
fn tutorial_netmask_slash_24() {
    let mut lab = Lab::new(scenario::bare());
    let out = lab.run("node01", "ifconfig eth0:8 192.168.150.100 netmask/24");
    assert_eq!(
        out.text,
        "netmask: Unknown host\nifconfig: `--help' gives usage information.\n"
    );
    let hint = out.hint.expect("a hint");
    assert!(hint.0.contains("192.168.150.100/24") && hint.0.contains("netmask 255.255.255.0"));
    let show = lab.run("node01", "ip -4 addr show dev eth0");
    assert!(
        show.text
            .contains("192.168.150.100/24 brd 192.168.150.255 scope global secondary eth0:8"),
        "{}",
        show.text
    );
}

/// LVS-NAT on the one segment: the real servers route the client through
/// the director, which rewrites the destination on the way in and the
/// source (back to the VIP) on the way out; counters count both ways.
#[test]
fn nat_rewrites_both_directions() {
    let mut lab = Lab::new(scenario::bare());
    let setup = [
        ("node01", "ifconfig eth0:8 192.168.150.100/24"),
        ("node01", "sysctl -w net.ipv4.ip_forward=1"),
        ("node02", "service httpd start"),
        (
            "node02",
            "echo '<h1>from 192.168.150.12</h1>' > /var/www/html/index.html",
        ),
        ("node02", "ip route add 192.168.150.1/32 via 192.168.150.11"),
        ("node03", "service httpd start"),
        (
            "node03",
            "echo '<h1>from 192.168.150.13</h1>' > /var/www/html/index.html",
        ),
        ("node03", "ip route add 192.168.150.1/32 via 192.168.150.11"),
        ("node01", "ipvsadm -A -t 192.168.150.100:80 -s rr"),
        (
            "node01",
            "ipvsadm -a -t 192.168.150.100:80 -r 192.168.150.12:80 -m",
        ),
        (
            "node01",
            "ipvsadm -a -t 192.168.150.100:80 -r 192.168.150.13:80 -m",
        ),
    ];
    for (h, c) in setup {
        let o = lab.run(h, c);
        assert!(o.status == 0, "{h}# {c}: {}", o.text);
    }
    let a = lab.run("client", "curl -s -m 2 http://192.168.150.100/");
    let b = lab.run("client", "curl -s -m 2 http://192.168.150.100/");
    let mut pages = [a.text, b.text];
    pages.sort();
    assert_eq!(
        pages,
        [
            "<h1>from 192.168.150.12</h1>\n",
            "<h1>from 192.168.150.13</h1>\n"
        ]
    );
    lab.run("node01", "sleep 3");
    let st = lab.run("node01", "ipvsadm -ln --stats --exact");
    let line = st
        .text
        .lines()
        .find(|l| l.starts_with("TCP"))
        .expect("service line")
        .to_string();
    let cols: Vec<u64> = line
        .split_whitespace()
        .skip(2)
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(cols[0], 2, "{}", st.text);
    assert!(
        cols[1] > 0 && cols[2] > 0,
        "in and out packets both counted: {}",
        st.text
    );
    let conns = lab.run("node01", "ipvsadm -lnc");
    assert!(
        conns.text.contains("192.168.150.12:80") && conns.text.contains("192.168.150.13:80"),
        "{}",
        conns.text
    );
}

/// A whole lab (neighbours, queued events, IPVS connections, sockets)
/// survives a JSON round trip.
#[test]
fn lab_state_round_trips_through_json() {
    let mut lab = Lab::new(scenario::load("seed").unwrap());
    lab.run("client", "curl -s http://192.168.150.100/");
    lab.run("client", "ping -c 1 192.168.150.12");
    let json = serde_json::to_string(&lab).expect("serialises");
    let back: Lab = serde_json::from_str(&json).expect("deserialises");
    // Derived lookup indexes are not serialised; the state itself is.
    assert_eq!(serde_json::to_string(&back).expect("serialises"), json);
    let mut back = back;
    let out = back.run("client", "curl -s http://192.168.150.100/");
    assert!(
        out.text.starts_with("<h1>from 192.168.150.1"),
        "{}",
        out.text
    );
}
