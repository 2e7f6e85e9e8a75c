//! Golden tests of the native IPVS driver (`src/netlink`) against netlink
//! traffic of the real ipvsadm 1.31 and Linux 6.1, captured with strace
//! (`tests/fixtures/ipvs-golden/`, a copy of the shared captures; their
//! README lists the command of each file).
//!
//! - every request the driver builds for a command equals, attribute for
//!   attribute and byte for byte, what ipvsadm sent for the same argv
//!   (`nlmsg_seq`, `nlmsg_pid` and the dynamic IPVS family id masked);
//! - every kernel answer decodes to the values in the capture;
//! - the whole `ipvsadm::run` against a replay of a capture sends exactly
//!   the captured requests and prints what ipvsadm printed
//!   (`notes/ipvs-spec.md` §9).
#![cfg(target_os = "linux")]

use lvslab::netlink;

use lvslab_engine::ipvs::{Fwd, IpvsBackend, Proto, ServiceKey};
use lvslab_engine::ipvsadm::{self, Command};
use netlink::msg::{self, Message, Request};
use netlink::replay::{mask, parse_hex, Exchange, ReplayTransport};
use netlink::NetlinkBackend;
use std::net::IpAddr;
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn golden(name: &str) -> Vec<Exchange> {
    let p = fixtures().join("ipvs-golden").join(format!("{name}.hex"));
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    parse_hex(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

/// The README's table: capture → ipvsadm's argv.
const COMMANDS: &[(&str, &str)] = &[
    ("A_service", "-A -t 192.168.150.100:80 -s rr"),
    (
        "a_dest_12",
        "-a -t 192.168.150.100:80 -r 192.168.150.12 -g -w 1",
    ),
    (
        "a_dest_13",
        "-a -t 192.168.150.100:80 -r 192.168.150.13 -g -w 1",
    ),
    ("ln_list", "-ln"),
    ("ln_after_traffic", "-ln"),
    ("ln_stats", "-ln --stats"),
    ("lnc_conns", "-lnc"),
    ("x01_A_wrr", "-A -t 10.0.0.1:443 -s wrr"),
    (
        "x02_a_masq_w3",
        "-a -t 10.0.0.1:443 -r 10.0.0.2:8443 -m -w 3",
    ),
    ("x03_a_tun_w0", "-a -t 10.0.0.1:443 -r 10.0.0.3 -i -w 0"),
    (
        "x04_e_dest_w5",
        "-e -t 10.0.0.1:443 -r 10.0.0.2:8443 -m -w 5",
    ),
    ("x05_E_persist", "-E -t 10.0.0.1:443 -s rr -p 300"),
    ("x06_A_udp", "-A -u 10.0.0.1:53 -s rr"),
    ("x07_A_fwmark", "-A -f 42 -s rr"),
    ("x08_ln_stats", "-ln --stats"),
    ("x09_lnc", "-lnc"),
    ("x10_Z", "-Z"),
    ("x11_set_timeout", "--set 900 120 300"),
    ("x12_l_timeout", "-l --timeout"),
    ("x13_d_dest", "-d -t 10.0.0.1:443 -r 10.0.0.3"),
    ("x14_D_service", "-D -t 10.0.0.1:443"),
    ("x15_C_flush", "-C"),
    ("x16_A_v6", "-A -t [2001:db8::1]:80 -s rr"),
    (
        "x17_a_v6_dest",
        "-a -t [2001:db8::1]:80 -r [2001:db8::2]:80 -g -w 2",
    ),
    ("x18_ln_after", "-ln"),
];

const NLCTRL: u16 = 0x10;

fn nl_type(b: &[u8]) -> u16 {
    u16::from_ne_bytes([b[4], b[5]])
}

fn genl_cmd(b: &[u8]) -> u8 {
    b[16]
}

/// The IPVS requests of a capture, in order (GET_INFO first).
fn ipvs_requests(ex: &[Exchange]) -> Vec<&[u8]> {
    ex.iter()
        .filter(|e| nl_type(&e.sent) != NLCTRL)
        .map(|e| e.sent.as_slice())
        .collect()
}

/// A request as a list of attributes (nested ones expanded), for readable
/// assertion failures: `type len hex`.
fn attr_list(b: &[u8]) -> Vec<String> {
    fn walk(b: &[u8], depth: usize, out: &mut Vec<String>) {
        let mut off = 0;
        while off + 4 <= b.len() {
            let len = u16::from_ne_bytes([b[off], b[off + 1]]) as usize;
            let ty = u16::from_ne_bytes([b[off + 2], b[off + 3]]);
            if len < 4 || off + len > b.len() {
                out.push(format!("{}malformed at {off}", "  ".repeat(depth)));
                return;
            }
            let payload = &b[off + 4..off + len];
            let hex: String = payload.iter().map(|x| format!("{x:02x}")).collect();
            out.push(format!(
                "{}[{}{}] len={} {hex}",
                "  ".repeat(depth),
                ty & 0x3fff,
                if ty & 0x8000 != 0 { " NESTED" } else { "" },
                payload.len()
            ));
            if ty & 0x8000 != 0 {
                walk(payload, depth + 1, out);
            }
            off += (len + 3) & !3;
        }
    }
    let mut out = vec![format!(
        "len={} flags={:#x} cmd={} version={}",
        u32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
        u16::from_ne_bytes([b[6], b[7]]),
        b[16],
        b[17]
    )];
    walk(&b[20..], 1, &mut out);
    out
}

fn assert_same_request(name: &str, ours: &[u8], theirs: &[u8]) {
    assert_eq!(
        attr_list(ours),
        attr_list(theirs),
        "{name}: request differs attribute by attribute"
    );
    assert_eq!(mask(ours), mask(theirs), "{name}: request differs in bytes");
}

/// The typed request for a set command.
fn request_of(cmd: Command) -> Request {
    match cmd {
        Command::Change(c) => Request::from(c),
        Command::List(o) if o.timeout => Request::GetConfig,
        c => panic!("no single request for {c:?}"),
    }
}

#[test]
fn every_capture_is_in_the_table() {
    let mut files: Vec<String> = std::fs::read_dir(fixtures().join("ipvs-golden"))
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().into_string().unwrap();
            n.strip_suffix(".hex").map(String::from)
        })
        .collect();
    files.sort();
    let mut table: Vec<String> = COMMANDS.iter().map(|(n, _)| n.to_string()).collect();
    table.sort();
    assert_eq!(files, table);
}

#[test]
fn family_resolution_and_get_info_match_ipvsadm() {
    for (name, _) in COMMANDS {
        let ex = golden(name);
        assert_same_request(name, &msg::encode_getfamily(7).unwrap(), &ex[0].sent);
        let info = ipvs_requests(&ex)[0];
        assert_eq!(genl_cmd(info), 15, "{name}: GET_INFO comes first");
        assert_same_request(
            name,
            &msg::encode(0x20, 7, &Request::GetInfo).unwrap(),
            info,
        );
    }
}

#[test]
fn set_command_requests_match_ipvsadm_byte_for_byte() {
    let mut checked = Vec::new();
    for (name, argv) in COMMANDS {
        let cmd = ipvsadm::parse(&args(argv)).unwrap();
        if matches!(&cmd, Command::List(o) if !o.timeout) {
            continue;
        }
        let ex = golden(name);
        let reqs = ipvs_requests(&ex);
        assert_eq!(reqs.len(), 2, "{name}: GET_INFO and one command");
        let ours = msg::encode(0x20, 1, &request_of(cmd)).unwrap();
        assert_same_request(name, &ours, reqs[1]);
        checked.push(*name);
    }
    assert_eq!(checked.len(), 18, "{checked:?}");
    // The comparison is not vacuous: masking keeps what differs.
    let a = golden("A_service");
    let x = golden("x01_A_wrr");
    assert_ne!(mask(ipvs_requests(&a)[1]), mask(ipvs_requests(&x)[1]));
}

#[test]
fn list_requests_match_ipvsadm_byte_for_byte() {
    // GET_SERVICE dump; GET_DEST dumps carry only the service key.
    let x08 = golden("x08_ln_stats");
    let reqs = ipvs_requests(&x08);
    assert_same_request(
        "x08 GET_SERVICE",
        &msg::encode(0x20, 1, &Request::DumpServices).unwrap(),
        reqs[1],
    );
    let keys = [
        ServiceKey::Addr {
            proto: Proto::Tcp,
            addr: "10.0.0.1".parse().unwrap(),
            port: 443,
        },
        ServiceKey::Addr {
            proto: Proto::Udp,
            addr: "10.0.0.1".parse().unwrap(),
            port: 53,
        },
        ServiceKey::Fwmark {
            mark: 42,
            v6: false,
        },
    ];
    for (k, theirs) in keys.iter().zip(&reqs[2..]) {
        assert_same_request(
            &format!("x08 GET_DEST {k}"),
            &msg::encode(0x20, 1, &Request::DumpDests(*k)).unwrap(),
            theirs,
        );
    }
    assert_eq!(reqs.len(), 5);
}

/// The genl messages of every answer to the IPVS request `cmd` in `ex`.
fn answers(
    ex: &[Exchange],
    cmd: u8,
) -> Vec<(u8, neli::types::GenlBuffer<u16, neli::types::Buffer>)> {
    let e = ex
        .iter()
        .find(|e| nl_type(&e.sent) != NLCTRL && genl_cmd(&e.sent) == cmd)
        .expect("request in capture");
    let mut out = Vec::new();
    let mut done = false;
    for r in &e.received {
        for m in msg::parse_messages(r).unwrap() {
            match m {
                Message::Genl { cmd, attrs, .. } => out.push((cmd, attrs)),
                Message::Done { errno, .. } | Message::Error { errno, .. } => {
                    assert_eq!(errno, 0);
                    done = true;
                }
                Message::Ack { .. } => done = true,
                Message::Other { .. } => {}
            }
        }
    }
    // Dumps end with NLMSG_DONE; libnl read only the data of GET_INFO/CONFIG.
    assert!(done || matches!(cmd, 13 | 15), "answer to {cmd} has an end");
    out
}

#[test]
fn every_answer_decodes() {
    for (name, _) in COMMANDS {
        let ex = golden(name);
        for e in &ex {
            for r in &e.received {
                let msgs = msg::parse_messages(r).unwrap_or_else(|err| panic!("{name}: {err}"));
                assert!(!msgs.is_empty());
                for m in msgs {
                    if let Message::Genl {
                        nl_type,
                        cmd,
                        attrs,
                        ..
                    } = m
                    {
                        match (nl_type, cmd) {
                            (NLCTRL, 1) => assert_eq!(msg::decode_family(&attrs).unwrap(), 0x20),
                            (0x20, 14) => {
                                let i = msg::decode_info(&attrs).unwrap();
                                assert_eq!((i.version, i.conn_tab_size), ((1, 2, 1), 4096));
                            }
                            (0x20, 12) => {
                                msg::decode_timeouts(&attrs).unwrap();
                            }
                            (0x20, 1) => {
                                msg::decode_service(&attrs).unwrap();
                            }
                            (0x20, 5) => {
                                msg::decode_dest(&attrs, 2).unwrap();
                            }
                            other => panic!("{name}: unexpected answer {other:?}"),
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn x08_services_and_dests_decode() {
    let ex = golden("x08_ln_stats");
    let svcs: Vec<_> = answers(&ex, 4)
        .iter()
        .map(|(c, a)| {
            assert_eq!(*c, 1);
            msg::decode_service(a).unwrap()
        })
        .collect();
    // Kernel (hash) order.
    let names: Vec<String> = svcs.iter().map(|s| s.spec.key.to_string()).collect();
    assert_eq!(names, ["UDP 10.0.0.1:53", "TCP 10.0.0.1:443", "FWM 42"]);
    let tcp = &svcs[1].spec;
    assert_eq!(tcp.scheduler, "rr");
    assert_eq!(tcp.persistent, Some(300));
    assert_eq!(tcp.netmask, u32::MAX);
    assert!(tcp.sched_flags.is_empty());
    assert_eq!(
        (svcs[0].spec.persistent, svcs[2].spec.persistent),
        (None, None)
    );
    assert_eq!(
        svcs[2].spec.key,
        ServiceKey::Fwmark {
            mark: 42,
            v6: false
        }
    );

    // GET_DEST of the TCP service (the first GET_DEST): newest first.
    let dests: Vec<_> = answers(&ex, 8)
        .iter()
        .map(|(_, a)| msg::decode_dest(a, 2).unwrap())
        .collect();
    assert_eq!(dests.len(), 2);
    let d3 = &dests[0];
    assert_eq!(d3.spec.addr, "10.0.0.3".parse::<IpAddr>().unwrap());
    assert_eq!(
        (d3.spec.port, d3.spec.fwd, d3.spec.weight),
        (443, Fwd::Tunnel, 0)
    );
    let d2 = &dests[1];
    assert_eq!(d2.spec.addr, "10.0.0.2".parse::<IpAddr>().unwrap());
    assert_eq!(
        (d2.spec.port, d2.spec.fwd, d2.spec.weight),
        (8443, Fwd::Masq, 5)
    );
    assert_eq!((d2.spec.u_threshold, d2.spec.l_threshold), (0, 0));
    assert_eq!((d2.active, d2.inactive, d2.persist), (0, 0, 0));
}

#[test]
fn ln_stats_counters_and_rates_decode() {
    let ex = golden("ln_stats");
    let svcs = answers(&ex, 4);
    assert_eq!(svcs.len(), 1);
    let s = msg::decode_service(&svcs[0].1).unwrap();
    assert_eq!(s.spec.key.to_string(), "TCP 192.168.150.100:80");
    assert_eq!(
        (
            s.stats.conns,
            s.stats.inpkts,
            s.stats.outpkts,
            s.stats.inbytes,
            s.stats.outbytes
        ),
        (4, 24, 0, 1592, 0)
    );
    assert_eq!(
        (
            s.rates.cps,
            s.rates.inpps,
            s.rates.outpps,
            s.rates.inbps,
            s.rates.outbps
        ),
        (0, 2, 0, 149, 0)
    );
    let d: Vec<_> = answers(&ex, 8)
        .iter()
        .map(|(_, a)| msg::decode_dest(a, 2).unwrap())
        .collect();
    let by_addr = |a: &str| {
        d.iter()
            .find(|x| x.spec.addr == a.parse::<IpAddr>().unwrap())
            .unwrap()
    };
    let d12 = by_addr("192.168.150.12");
    assert_eq!(
        (
            d12.stats.conns,
            d12.stats.inpkts,
            d12.stats.inbytes,
            d12.rates.inpps,
            d12.rates.inbps
        ),
        (2, 13, 848, 1, 79)
    );
    let d13 = by_addr("192.168.150.13");
    assert_eq!(
        (
            d13.stats.conns,
            d13.stats.inpkts,
            d13.stats.inbytes,
            d13.rates.inpps,
            d13.rates.inbps
        ),
        (2, 11, 744, 1, 70)
    );
    assert_eq!(
        (d12.spec.fwd, d12.spec.weight, d12.spec.port),
        (Fwd::Route, 1, 80)
    );

    // Right after traffic the snapshot still shows zero (spec §0.23), but
    // the connection counts are live.
    let ex = golden("ln_after_traffic");
    let s = msg::decode_service(&answers(&ex, 4)[0].1).unwrap();
    assert_eq!(s.stats.conns, 0);
    for (_, a) in answers(&ex, 8) {
        let d = msg::decode_dest(&a, 2).unwrap();
        assert_eq!((d.active, d.inactive, d.stats.conns), (0, 2, 0));
    }
}

#[test]
fn info_config_and_ipv6_decode() {
    let ex = golden("x12_l_timeout");
    let t = answers(&ex, 13);
    assert_eq!(t[0].0, 12, "GET_CONFIG is answered by SET_CONFIG");
    let t = msg::decode_timeouts(&t[0].1).unwrap();
    assert_eq!((t.tcp, t.tcp_fin, t.udp), (900, 120, 300));

    let i = answers(&ex, 15);
    assert_eq!(i[0].0, 14, "GET_INFO is answered by SET_INFO");
    let i = msg::decode_info(&i[0].1).unwrap();
    assert_eq!((i.version, i.conn_tab_size), ((1, 2, 1), 4096));

    let ex = golden("x18_ln_after");
    let s = msg::decode_service(&answers(&ex, 4)[0].1).unwrap();
    assert_eq!(s.spec.key.to_string(), "TCP [2001:db8::1]:80");
    assert_eq!(s.spec.netmask, 128);
    let d = msg::decode_dest(&answers(&ex, 8)[0].1, 10).unwrap();
    assert_eq!(d.spec.addr, "2001:db8::2".parse::<IpAddr>().unwrap());
    assert_eq!(
        (d.spec.port, d.spec.fwd, d.spec.weight),
        (80, Fwd::Route, 2)
    );
}

/// `ipvsadm argv` against a replay of capture `name`; every IPVS exchange
/// of the capture must have been asked for, and nothing else.
fn replay_run(name: &str, argv: &str) -> ipvsadm::Run {
    let t = ReplayTransport::new(golden(name));
    let proc_conn = fixtures().join("ip_vs_conn/vm-run1.proc");
    let mut b = NetlinkBackend::with_transport(t, proc_conn)
        .unwrap_or_else(|e| panic!("{name}: init: {e}"));
    let r = ipvsadm::run(&mut b, &args(argv), "");
    let t = b.transport();
    assert!(
        t.unmatched.is_empty(),
        "{name}: requests not in the capture"
    );
    let getfamily = mask(&msg::encode_getfamily(0).unwrap());
    for e in t.unused() {
        assert_eq!(
            mask(&e.sent),
            getfamily,
            "{name}: a captured request was not sent: {:?}",
            attr_list(&e.sent)
        );
    }
    assert_eq!(r.stderr, "", "{name}");
    assert_eq!(r.status, 0, "{name}");
    r
}

#[test]
fn whole_runs_replay_every_capture() {
    for (name, argv) in COMMANDS {
        let r = replay_run(name, argv);
        if !argv.starts_with("-l") {
            assert_eq!(r.stdout, "", "{name}");
        }
    }
}

#[test]
fn x08_lists_as_ipvsadm_printed_it() {
    let r = replay_run("x08_ln_stats", "-ln");
    assert_eq!(
        r.stdout,
        "IP Virtual Server version 1.2.1 (size=4096)\n\
Prot LocalAddress:Port Scheduler Flags\n  \
-> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n\
TCP  10.0.0.1:443 rr persistent 300\n  \
-> 10.0.0.2:8443                Masq    5      0          0         \n  \
-> 10.0.0.3:443                 Tunnel  0      0          0         \n\
UDP  10.0.0.1:53 rr\n\
FWM  42 rr\n"
    );
}

#[test]
fn ln_stats_and_rate_print_as_ipvsadm_printed_them() {
    let head = "IP Virtual Server version 1.2.1 (size=4096)\n";
    let r = replay_run("ln_stats", "-ln --stats");
    assert_eq!(
        r.stdout,
        format!(
            "{head}\
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  \
-> RemoteAddress:Port\n\
TCP  192.168.150.100:80                  4       24        0     1592        0\n  \
-> 192.168.150.12:80                   2       13        0      848        0\n  \
-> 192.168.150.13:80                   2       11        0      744        0\n"
        )
    );
    let r = replay_run("ln_stats", "-ln --rate");
    assert_eq!(
        r.stdout,
        format!(
            "{head}\
Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n  \
-> RemoteAddress:Port\n\
TCP  192.168.150.100:80                  0        2        0      149        0\n  \
-> 192.168.150.12:80                   0        1        0       79        0\n  \
-> 192.168.150.13:80                   0        1        0       70        0\n"
        )
    );
}

#[test]
fn other_lists_print() {
    let r = replay_run("ln_list", "-ln");
    assert!(r.stdout.ends_with(
        "TCP  192.168.150.100:80 rr\n  \
-> 192.168.150.12:80            Route   1      0          0         \n  \
-> 192.168.150.13:80            Route   1      0          0         \n"
    ));
    let r = replay_run("ln_after_traffic", "-ln");
    assert!(r
        .stdout
        .contains("  -> 192.168.150.12:80            Route   1      0          2         \n"));
    let r = replay_run("x18_ln_after", "-ln");
    assert!(r.stdout.ends_with(
        "TCP  [2001:db8::1]:80 rr\n  \
-> [2001:db8::2]:80             Route   2      0          0         \n"
    ));
    let r = replay_run("x12_l_timeout", "-l --timeout");
    assert_eq!(r.stdout, "Timeout (tcp tcpfin udp): 900 120 300\n");
    let r = replay_run("x09_lnc", "-lnc");
    let want = std::fs::read_to_string(fixtures().join("ip_vs_conn/vm-run1-lnc.txt")).unwrap();
    assert_eq!(r.stdout, want);
}

#[test]
fn services_come_with_their_dests() {
    let t = ReplayTransport::new(golden("x08_ln_stats"));
    let mut b = NetlinkBackend::with_transport(t, "/nonexistent").unwrap();
    assert_eq!(b.family(), 0x20);
    let s = b.services().unwrap();
    let counts: Vec<usize> = s.iter().map(|s| s.dests.len()).collect();
    assert_eq!(counts, [0, 2, 0]);
    assert_eq!(
        b.connections().unwrap_err().to_string(),
        "cannot open file /nonexistent"
    );
}

/// A plain `-ln` takes the destinations from `/proc/net/ip_vs` (next to
/// the connection file) and dumps only what the file cannot answer for:
/// here the fwmark service, which the file leaves out.
#[test]
fn a_plain_listing_reads_dests_from_proc_net_ip_vs() {
    let dir = std::env::temp_dir().join(format!("lvslab-table-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("ip_vs"),
        "IP Virtual Server version 1.2.1 (size=4096)\n\
Prot LocalAddress:Port Scheduler Flags\n  \
-> RemoteAddress:Port Forward Weight ActiveConn InActConn\n\
TCP  0A000001:01BB rr persistent 30000 FFFFFFFF\n  \
-> 0A000002:20FB      Masq    5      7          9         \n  \
-> 0A000003:01BB      Tunnel  0      0          0         \n\
UDP  0A000001:0035 rr \n",
    )
    .unwrap();
    let t = ReplayTransport::new(golden("x08_ln_stats"));
    let mut b = NetlinkBackend::with_transport(t, dir.join("ip_vs_conn")).unwrap();
    let r = ipvsadm::run(&mut b, &args("-ln"), "");
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(r.stdout.contains(
        "TCP  10.0.0.1:443 rr persistent 300\n  \
-> 10.0.0.2:8443                Masq    5      7          9         \n  \
-> 10.0.0.3:443                 Tunnel  0      0          0         \n\
UDP  10.0.0.1:53 rr\n\
FWM  42 rr\n"
    ));
    // Two dest dumps left unasked (TCP's and UDP's), FWM's asked.
    let t = b.transport();
    assert!(t.unmatched.is_empty());
    let getfamily = mask(&msg::encode_getfamily(0).unwrap());
    let unused_cmds: Vec<u8> = t
        .unused()
        .into_iter()
        .filter(|e| mask(&e.sent) != getfamily)
        .map(|e| e.sent[16])
        .collect();
    assert_eq!(unused_cmds, [8, 8], "IPVS_CMD_GET_DEST twice");

    // --stats needs the counters: every dest dump is asked again.
    let r = replay_run("x08_ln_stats", "-ln --stats");
    assert!(r.stdout.contains("10.0.0.2:8443"));
    std::fs::remove_dir_all(&dir).unwrap();
}
