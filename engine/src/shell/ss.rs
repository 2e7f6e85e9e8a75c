//! `ss` (iproute2 6.1, Debian 12) over the host's TCP sockets.
//!
//! Real ss asks the kernel for sockets over `NETLINK_SOCK_DIAG`
//! (`inet_diag_dump`: the listening hash first, then the established hash,
//! TIME_WAIT and SYN_RECV request sockets included), keeps the fields of
//! every line in a buffer and lays them out once all are known
//! (`render_calc_width`): each column is as wide as its longest field plus
//! its left delimiter, addresses right-aligned before the `:`, the rest
//! left-aligned. On a terminal it then spreads the spare width of the
//! screen between the columns; when its output is not a terminal it does
//! not (the compact layout). The lab's terminal has no width the engine
//! knows, so the lab prints the compact layout — what `ss … | cat` and the
//! conformance harness print.
//!
//! Without `-a`/`-l` ss shows the "connected" states (not LISTEN, CLOSE,
//! TIME-WAIT, SYN-RECV); `-l` only listeners; `-a` everything (the last of
//! `-a`/`-l` wins, as in ss's getopt loop). `-n` leaves ports numeric;
//! otherwise ports outside the ephemeral range (ip_local_port_range 32768
//! 60999) are named from /etc/services. For a listener Recv-Q is its
//! accept queue (the lab's httpd accepts at once: 0) and Send-Q its backlog
//! (`sk_max_ack_backlog`: Apache's ListenBacklog 511); for a connection
//! the unread and the unacknowledged bytes. `-p` names the owning process
//! as `/proc/PID/fd` shows it: `users:(("httpd",pid=N,fd=M))`, the same
//! pid netstat -p prints; the lab's processes open no other files, so a
//! process's sockets hold fds 3, 4, … in the order it opened them.
//! Only TCP over IPv4 is modelled (no UDP, raw, unix or netlink sockets):
//! `-u`/`-x`/`-w` show the Netid column and the TCP sockets only. Not
//! modelled: filters (`state …`, `sport = :80`), `-o -e -m -i -r -K -E`,
//! and `-s`'s machine-wide counters.

use super::{Io, Lab};
use crate::net::ipv4::tcp::{Owner, Sock, TcpState, TcpTable};
use crate::tools::services::port_name;

/// ss's version line (`ss -V`).
const VERSION: &str = "ss utility, iproute2-6.1.0";

/// Apache's default ListenBacklog: what ss shows as a listener's Send-Q.
const HTTPD_BACKLOG: u32 = 511;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

/// ss's columns (`columns[]` in misc/ss.c): alignment, header, the
/// delimiter printed before the field.
const COLUMNS: [(Align, &str, &str); 10] = [
    (Align::Left, "Netid", ""),
    (Align::Left, "State", " "),
    (Align::Left, "Recv-Q", " "),
    (Align::Left, "Send-Q", " "),
    (Align::Right, "Local Address:", " "),
    (Align::Left, "Port", ""),
    (Align::Right, "Peer Address:", " "),
    (Align::Left, "Port", ""),
    (Align::Left, "Process", ""),
    (Align::Left, "", ""),
];

/// Which states the command line asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum States {
    /// ss's default: SS_CONN.
    Connected,
    Listening,
    All,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Opts {
    numeric: bool,
    states: States,
    processes: bool,
    header: bool,
    /// Some other socket table than TCP was named (-u, -x, -w, -0 …), or
    /// none at all: ss then shows its Netid column.
    netid: bool,
    tcp: bool,
    ipv6_only: bool,
}

/// What the command line asks for besides a listing.
enum Action {
    List(Opts),
    Print(String),
}

/// A bad command line: the text for stderr and the exit status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text}")]
struct SsError {
    text: String,
    status: i32,
}

fn usage_error(first: String) -> SsError {
    SsError {
        text: format!("{first}\n{USAGE}"),
        status: 255,
    }
}

fn parse(args: &[String]) -> Result<Action, SsError> {
    let mut o = Opts {
        numeric: false,
        states: States::Connected,
        processes: false,
        header: true,
        netid: false,
        tcp: false,
        ipv6_only: false,
    };
    let mut other_db = false;
    let mut short: Vec<char> = Vec::new();
    let mut rest: Vec<&str> = Vec::new();
    for a in args {
        if let Some(long) = a.strip_prefix("--") {
            let c = match long {
                "numeric" => 'n',
                "all" => 'a',
                "listening" => 'l',
                "processes" => 'p',
                "tcp" => 't',
                "udp" => 'u',
                "raw" => 'w',
                "unix" => 'x',
                "ipv4" => '4',
                "ipv6" => '6',
                "no-header" => 'H',
                "oneline" => 'O',
                "help" => 'h',
                "version" => 'V',
                "summary" => 's',
                "resolve" => 'r',
                "options" => 'o',
                "extended" => 'e',
                "memory" => 'm',
                "info" => 'i',
                _ => return Err(usage_error(format!("ss: unrecognized option '{a}'"))),
            };
            short.push(c);
        } else if let Some(flags) = a.strip_prefix('-').filter(|f| !f.is_empty()) {
            short.extend(flags.chars());
        } else {
            rest.push(a);
        }
    }
    for c in short {
        match c {
            'n' => o.numeric = true,
            'a' => o.states = States::All,
            'l' => o.states = States::Listening,
            'p' => o.processes = true,
            't' => o.tcp = true,
            'u' | 'w' | 'x' | '0' | 'd' | 'S' | 'M' => other_db = true,
            '4' => {}
            '6' => o.ipv6_only = true,
            'H' => o.header = false,
            'O' => {}
            'h' => return Ok(Action::Print(USAGE.to_string())),
            'V' => return Ok(Action::Print(format!("{VERSION}\n"))),
            'r' | 'o' | 'e' | 'm' | 'i' | 's' | 'K' | 'E' | 'T' | 'b' | 'Z' | 'z' => {
                return Err(SsError {
                    text: format!("lvslab: ss -{c} is not modelled (try ss -tan, ss -tlnp)"),
                    status: 1,
                })
            }
            other => return Err(usage_error(format!("ss: invalid option -- '{other}'"))),
        }
    }
    if let Some(word) = rest.first() {
        return Err(SsError {
            text: format!(
                "Error: an inet prefix is expected rather than \"{word}\".\nCannot parse dst/src address."
            ),
            status: 1,
        });
    }
    o.netid = other_db || !o.tcp;
    Ok(Action::List(o))
}

/// ss's state names (`sstate_name[]`).
fn state_name(s: TcpState) -> &'static str {
    match s {
        TcpState::Established => "ESTAB",
        TcpState::SynSent => "SYN-SENT",
        TcpState::SynRecv => "SYN-RECV",
        TcpState::FinWait1 => "FIN-WAIT-1",
        TcpState::FinWait2 => "FIN-WAIT-2",
        TcpState::TimeWait => "TIME-WAIT",
        TcpState::Close => "UNCONN",
        TcpState::CloseWait => "CLOSE-WAIT",
        TcpState::LastAck => "LAST-ACK",
        TcpState::Listen => "LISTEN",
        TcpState::Closing => "CLOSING",
    }
}

fn wanted(states: States, s: TcpState) -> bool {
    match states {
        States::All => true,
        States::Listening => matches!(s, TcpState::Listen | TcpState::Close),
        States::Connected => !matches!(
            s,
            TcpState::Listen | TcpState::Close | TcpState::TimeWait | TcpState::SynRecv
        ),
    }
}

/// The process holding a socket, as `netstat -p` and `ss -p` find it in
/// /proc/PID/fd: its own owner, or for an accepted connection the server
/// that accepted it (a request socket in SYN_RECV and an orphan belong to
/// nobody).
pub(super) fn process_of<'a>(tcp: &'a TcpTable, s: &'a Sock) -> Option<&'a Owner> {
    match (
        &s.owner,
        s.parent
            .and_then(|p| tcp.get(p))
            .and_then(|p| p.owner.as_ref()),
    ) {
        (Some(o), _) => Some(o),
        (None, Some(o)) if !s.orphan && s.state != TcpState::SynRecv => Some(o),
        _ => None,
    }
}

/// `users:(("NAME",pid=N,fd=M))` for `-p`: the fd is the socket's place
/// among its process's sockets (see the module doc).
fn users(tcp: &TcpTable, s: &Sock) -> String {
    let Some(o) = process_of(tcp, s) else {
        return String::new();
    };
    let before = tcp
        .socks()
        .values()
        .filter(|t| t.id < s.id && process_of(tcp, t).is_some_and(|p| p.pid == o.pid))
        .count();
    format!(
        " users:((\"{}\",pid={},fd={}))",
        o.program,
        o.pid,
        3 + before
    )
}

/// A port as ss prints it: `*` for 0, a name unless `-n` or ephemeral.
fn port(p: u16, numeric: bool) -> String {
    if p == 0 {
        return "*".into();
    }
    let ephemeral = (32768..=60999).contains(&p);
    match port_name(p) {
        Some(name) if !numeric && !ephemeral => name.to_string(),
        _ => p.to_string(),
    }
}

pub fn ss(lab: &Lab, host: &str, args: &[String], io: &mut Io) {
    let o = match parse(args) {
        Ok(Action::List(o)) => o,
        Ok(Action::Print(text)) => {
            io.out(text);
            return;
        }
        Err(e) => {
            io.chunks.push((true, format!("{}\n", e.text.trim_end())));
            io.status = e.status;
            return;
        }
    };
    let Some(h) = lab.world.host(host) else {
        return;
    };
    let mut socks: Vec<&Sock> = h
        .tcp
        .socks()
        .values()
        .filter(|s| !o.ipv6_only && wanted(o.states, s.state))
        .collect();
    // inet_diag walks the listening hash, then the established one.
    socks.sort_by_key(|s| (s.state != TcpState::Listen, s.local.port(), s.id));
    let mut rows: Vec<[String; 10]> = Vec::new();
    if o.header {
        rows.push(COLUMNS.map(|c| c.1.to_string()));
    }
    for s in socks {
        let listen = s.state == TcpState::Listen;
        let (rq, wq) = if listen {
            let backlog = if s.service.is_some() {
                HTTPD_BACKLOG
            } else {
                0
            };
            (0, backlog)
        } else {
            (s.rx.len() as u32, s.unacked)
        };
        rows.push([
            "tcp".into(),
            state_name(s.state).into(),
            format!("{rq:<6}"),
            format!("{wq:<6}"),
            format!("{}:", s.local.ip()),
            port(s.local.port(), o.numeric),
            format!("{}:", s.remote.ip()),
            port(s.remote.port(), o.numeric),
            if o.processes {
                users(&h.tcp, s)
            } else {
                String::new()
            },
            String::new(),
        ]);
    }
    let enabled: [bool; 10] = std::array::from_fn(|i| i != 0 || o.netid);
    for line in render(&rows, &enabled) {
        io.outln(line);
    }
}

/// Lay the fields out as ss's `render()` does without a terminal: widths
/// from the longest field (plus the delimiter, except in the first
/// non-empty column), no extra spacing.
fn render(rows: &[[String; 10]], enabled: &[bool; 10]) -> Vec<String> {
    let mut width = [0usize; 10];
    let mut first = true;
    for (i, w) in width.iter_mut().enumerate() {
        if !enabled[i] {
            continue;
        }
        let max = rows.iter().map(|r| r[i].len()).max().unwrap_or(0);
        *w = if !first && max > 0 {
            max + COLUMNS[i].2.len()
        } else {
            max
        };
        if *w > 0 {
            first = false;
        }
    }
    rows.iter()
        .map(|r| {
            let mut line = String::new();
            let mut started = false;
            for i in (0..10).filter(|&i| enabled[i]) {
                let (align, _, ldelim) = COLUMNS[i];
                let mut printed = 0;
                if started {
                    line.push_str(ldelim);
                    printed = ldelim.len();
                }
                started = true;
                let field = &r[i];
                if align == Align::Right && width[i] > 0 {
                    let pad = width[i].saturating_sub(field.len() + printed);
                    line.push_str(&" ".repeat(pad));
                    printed += pad;
                }
                line.push_str(field);
                printed += field.len();
                if align == Align::Left {
                    line.push_str(&" ".repeat(width[i].saturating_sub(printed)));
                }
            }
            line
        })
        .collect()
}

/// ss 6.1's usage text (`help()`), printed for -h and after a bad option.
const USAGE: &str = "Usage: ss [ OPTIONS ]
       ss [ OPTIONS ] [ FILTER ]
   -h, --help          this message
   -V, --version       output version information
   -n, --numeric       don't resolve service names
   -r, --resolve       resolve host names
   -a, --all           display all sockets
   -l, --listening     display listening sockets
   -o, --options       show timer information
   -e, --extended      show detailed socket information
   -m, --memory        show socket memory usage
   -p, --processes     show process using socket
   -T, --threads       show thread using socket
   -i, --info          show internal TCP information
       --tipcinfo      show internal tipc socket information
   -s, --summary       show socket usage summary
       --tos           show tos and priority information
       --cgroup        show cgroup information
   -b, --bpf           show bpf filter socket information
   -E, --events        continually display sockets as they are destroyed
   -Z, --context       display task SELinux security contexts
   -z, --contexts      display task and socket SELinux security contexts
   -N, --net           switch to the specified network namespace name

   -4, --ipv4          display only IP version 4 sockets
   -6, --ipv6          display only IP version 6 sockets
   -0, --packet        display PACKET sockets
   -t, --tcp           display only TCP sockets
   -M, --mptcp         display only MPTCP sockets
   -S, --sctp          display only SCTP sockets
   -u, --udp           display only UDP sockets
   -d, --dccp          display only DCCP sockets
   -w, --raw           display only RAW sockets
   -x, --unix          display only Unix domain sockets
       --tipc          display only TIPC sockets
       --vsock         display only vsock sockets
       --xdp           display only XDP sockets
   -f, --family=FAMILY display sockets of type FAMILY
       FAMILY := {inet|inet6|link|unix|netlink|vsock|tipc|xdp|help}

   -K, --kill          forcibly close sockets, display what was closed
   -H, --no-header     Suppress header line
   -O, --oneline       socket's data printed on a single line
       --inet-sockopt  show various inet socket options

   -A, --query=QUERY, --socket=QUERY
       QUERY := {all|inet|tcp|mptcp|udp|raw|unix|unix_dgram|unix_stream|unix_seqpacket|packet|packet_raw|packet_dgram|netlink|dccp|sctp|vsock_stream|vsock_dgram|tipc|xdp}[,QUERY]

   -D, --diag=FILE     Dump raw information about TCP sockets to FILE
   -F, --filter=FILE   read filter information from FILE
       FILTER := [ state STATE-FILTER ] [ EXPRESSION ]
       STATE-FILTER := {all|connected|synchronized|bucket|big|TCP-STATES}
         TCP-STATES := {established|syn-sent|syn-recv|fin-wait-{1,2}|time-wait|closed|close-wait|last-ack|listening|closing}
          connected := {established|syn-sent|syn-recv|fin-wait-{1,2}|time-wait|close-wait|last-ack|closing}
       synchronized := {established|syn-recv|fin-wait-{1,2}|time-wait|close-wait|last-ack|closing}
             bucket := {syn-recv|time-wait}
                big := {established|syn-sent|fin-wait-{1,2}|closed|close-wait|last-ack|listening|closing}
";

#[cfg(test)]
mod tests {
    use super::*;

    fn row(f: [&str; 10]) -> [String; 10] {
        f.map(String::from)
    }

    /// The layout real ss 6.1 printed to a pipe for one listener and the
    /// two ends of a loopback connection (`ss -tan`, `ss -tlnp`).
    #[test]
    fn compact_layout_as_real_ss() {
        let hdr = COLUMNS.map(|c| c.1.to_string());
        let mut en = [true; 10];
        en[0] = false;
        let rows = vec![
            hdr.clone(),
            row([
                "tcp", "LISTEN", "0     ", "511   ", "0.0.0.0:", "80", "0.0.0.0:", "*", "", "",
            ]),
            row([
                "tcp",
                "ESTAB",
                "3     ",
                "0     ",
                "127.0.0.1:",
                "80",
                "127.0.0.1:",
                "20001",
                "",
                "",
            ]),
            row([
                "tcp",
                "ESTAB",
                "0     ",
                "0     ",
                "127.0.0.1:",
                "20001",
                "127.0.0.1:",
                "80",
                "",
                "",
            ]),
        ];
        assert_eq!(
            render(&rows, &en),
            [
                "State  Recv-Q Send-Q Local Address:Port  Peer Address:Port Process",
                "LISTEN 0      511          0.0.0.0:80         0.0.0.0:*           ",
                "ESTAB  3      0          127.0.0.1:80       127.0.0.1:20001       ",
                "ESTAB  0      0          127.0.0.1:20001    127.0.0.1:80          ",
            ]
        );
        let rows = vec![
            hdr,
            row([
                "tcp",
                "LISTEN",
                "0     ",
                "511   ",
                "0.0.0.0:",
                "80",
                "0.0.0.0:",
                "*",
                " users:((\"python3\",pid=5097,fd=3))",
                "",
            ]),
        ];
        assert_eq!(
            render(&rows, &en),
            [
                "State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess                           ",
                "LISTEN 0      511          0.0.0.0:80        0.0.0.0:*    users:((\"python3\",pid=5097,fd=3))",
            ]
        );
    }

    /// The seed lab: httpd on node02 with a held connection and a
    /// finished request (TIME-WAIT, shown only with -a).
    #[test]
    fn sockets_of_the_seed_lab() {
        let world = crate::sim::scenario::load("seed").expect("seed lab");
        let mut lab = crate::shell::Lab::new(world);
        lab.run(
            "client",
            "sleep 60 | curl -s -m 60 --local-port 20021 telnet://192.168.150.12:80 > /dev/null 2>&1 &",
        );
        lab.run("client", "sleep 1");
        lab.run(
            "client",
            "curl -s --local-port 20011 http://192.168.150.12/",
        );
        let pid = lab
            .world
            .host("node02")
            .and_then(|h| h.tcp.socks().values().find_map(|s| s.owner.clone()))
            .expect("httpd")
            .pid;
        let t = lab.run("node02", "ss -tanp").text;
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 4, "{t}");
        assert!(lines[0]
            .starts_with("State     Recv-Q Send-Q  Local Address:Port  Peer Address:Port Process"));
        assert_eq!(
            lines[1],
            format!("LISTEN    0      511           0.0.0.0:80         0.0.0.0:*     users:((\"httpd\",pid={pid},fd=3))")
        );
        assert_eq!(
            lines[2],
            format!("ESTAB     0      0      192.168.150.12:80   192.168.150.1:20021 users:((\"httpd\",pid={pid},fd=4))")
        );
        assert!(
            lines[3].starts_with("TIME-WAIT 0      0      192.168.150.12:80   192.168.150.1:20011")
        );
        let t = lab.run("node02", "ss -t").text;
        assert_eq!(t.lines().count(), 2, "{t}");
        assert!(t.contains("192.168.150.12:http"));
        assert!(t.contains("192.168.150.1:20021"));
    }

    #[test]
    fn options() {
        let p = |s: &str| parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>());
        let Ok(Action::List(o)) = p("-tal") else {
            panic!()
        };
        assert_eq!(o.states, States::Listening);
        assert!(!o.netid);
        let Ok(Action::List(o)) = p("-t -a -n") else {
            panic!()
        };
        assert!(o.numeric && o.states == States::All);
        let Ok(Action::List(o)) = p("-tuan") else {
            panic!()
        };
        assert!(o.netid);
        let e = p("-X").err().unwrap();
        assert_eq!(e.status, 255);
        assert!(e.text.starts_with("ss: invalid option -- 'X'\nUsage: ss"));
        let e = p("--bogus").err().unwrap();
        assert!(e.text.starts_with("ss: unrecognized option '--bogus'"));
        assert_eq!(p("-tan foo").err().unwrap().status, 1);
    }
}
