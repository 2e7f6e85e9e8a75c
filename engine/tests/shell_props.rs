//! Property tests: random command lines never panic the shell, and a
//! rejected configuration command leaves the lab exactly as it was.
//!
//! The one exception is what the real tool itself does: net-tools
//! `ifconfig` applies its arguments in order and stops at the first bad one
//! (conformance scripts 17 and 72 show the kernel agreeing), so `ifconfig`
//! lines are checked for "no panic" only.

use lvslab_engine::scenario;
use lvslab_engine::shell::Lab;
use proptest::prelude::*;

const HOSTS: &[&str] = &["client", "node01", "node02", "node03", "nohost"];
const CMDS: &[&str] = &[
    "ip",
    "ip -4",
    "ifconfig",
    "sysctl",
    "sysctl -w",
    "echo",
    "cat",
    "cd",
    "arp",
    "ping -c 1 -W 1",
    "arping -c 1 -w 1",
    "sleep",
    "pwd",
    "foo",
    "ip link",
    "ip addr",
    "ip route",
    "ip neigh",
];
const ARGS: &[&str] = &[
    "addr",
    "a",
    "add",
    "del",
    "show",
    "dev",
    "eth0",
    "lo",
    "eth9",
    "eth0:8",
    "lo:2",
    "label",
    "192.168.150.100/24",
    "192.168.150.100/32",
    "192.168.150.100",
    "10.0.0.1/8",
    "300.1.1.1",
    "/33",
    "brd",
    "+",
    "scope",
    "host",
    "route",
    "get",
    "via",
    "192.168.150.13",
    "table",
    "local",
    "main",
    "all",
    "neigh",
    "flush",
    "lladdr",
    "02:42:c0:a8:96:4d",
    "link",
    "set",
    "up",
    "down",
    "type",
    "dummy",
    "netmask",
    "255.255.255.255",
    "netmask/24",
    "broadcast",
    "mtu",
    "9000",
    "net.ipv4.conf.all.arp_ignore=1",
    "net.ipv4.conf.eth0.arp_announce=2",
    "net.ipv4.conf.all.arp_ignore",
    "-n",
    "-w",
    "-q",
    "-a",
    ">",
    "arp_ignore",
    "/proc/sys/net/ipv4/conf/eth0",
    "..",
    "|",
    "grep",
    "x",
    "'",
    "\"",
    "2>/dev/null",
    "&",
    "-c",
    "0",
    "-1",
    "default",
    "blackhole",
    "unreachable",
    "metric",
    "5",
    "replace",
    "-I",
    "-s",
    "-D",
    "-U",
];

fn line() -> impl Strategy<Value = (String, String)> {
    (
        prop::sample::select(HOSTS),
        prop::sample::select(CMDS),
        prop::collection::vec(prop::sample::select(ARGS), 0..7),
    )
        .prop_map(|(h, c, a)| (h.to_string(), format!("{c} {}", a.join(" "))))
}

/// Everything a configuration command could change.
fn config_state(lab: &Lab) -> String {
    let mut s = String::new();
    for (name, h) in &lab.world.hosts {
        s.push_str(&format!(
            "{name}{:?}{:?}{:?}{:?}",
            h.devices, h.addrs, h.fib, h.sysctl
        ));
    }
    s.push_str(&format!("{:?}", lab.cwd));
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_scripts_never_panic_and_rejections_change_nothing(lines in prop::collection::vec(line(), 1..12)) {
        let mut lab = Lab::new(scenario::bare());
        for (host, cmd) in lines {
            let before = config_state(&lab);
            let out = lab.run(&host, &cmd);
            let first = cmd.split_whitespace().next().unwrap_or("");
            let rejected = out.status != 0 && !out.text.is_empty();
            // sysctl applies each KEY=VALUE in turn, as procps does: only a
            // single-item sysctl is all-or-nothing.
            let items = cmd.split_whitespace().skip(1).filter(|a| !a.starts_with('-')).count();
            let is_config = matches!(first, "ip" | "cd") || (first == "sysctl" && items <= 1);
            if rejected && is_config && !cmd.contains('|') && !cmd.contains('>') && !cmd.contains('&') && !cmd.contains(';') {
                prop_assert!(before == config_state(&lab), "{} on {} failed with {:?} but changed state", cmd, host, out.text);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Arbitrary bytes as a command line (quotes, redirections, unicode…).
    #[test]
    fn arbitrary_lines_never_panic(host in prop::sample::select(HOSTS), line in "\\PC{0,60}") {
        let mut lab = Lab::new(scenario::bare());
        let _ = lab.run(host, &line);
        for w in ["ip", "ifconfig", "sysctl", "ping", "arping", "cat", "echo", "ipvsadm", "curl", "netstat", "nc", "service"] {
            let _ = lab.run(host, &format!("{w} {line}"));
        }
    }
}
