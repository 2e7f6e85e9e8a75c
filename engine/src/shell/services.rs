//! The tutorial's CentOS service commands and TCP clients: `yum install`
//! (packages are already there: a realistic no-op), `service httpd
//! start|stop|status|restart`, `curl`, `wget -qO-`, `nc`, `netstat -nat[p]`,
//! and `modprobe` (kmod: `modprobe ipip` creates `tunl0`).

use super::{Io, Lab};
use crate::apps::curl::CurlApp;
use crate::apps::AppKind;
use crate::net::ipv4::tcp::TcpState;
use crate::shell::session::Render;
use std::net::{Ipv4Addr, SocketAddrV4};

const PACKAGES: &[(&str, &str)] = &[
    ("httpd", "httpd-2.4.6-99.el7.centos.1.x86_64"),
    ("ipvsadm", "ipvsadm-1.27-8.el7.x86_64"),
    ("net-tools", "net-tools-2.0-0.25.20131004git.el7.x86_64"),
    ("curl", "curl-7.29.0-59.el7_9.1.x86_64"),
];

pub fn yum(args: &[String], io: &mut Io) {
    let mut it = args.iter().filter(|a| !a.starts_with('-'));
    match it.next().map(String::as_str) {
        Some("install") => {}
        Some(other) => {
            io.errln(format!(
                "No such command: {other}. Please use /usr/bin/yum --help"
            ));
            io.status = 1;
            return;
        }
        None => {
            io.errln("You need to give some command");
            io.status = 1;
            return;
        }
    }
    let pkgs: Vec<&String> = it.collect();
    if pkgs.is_empty() {
        io.errln("Error: Need to pass a list of pkgs to install");
        io.status = 1;
        return;
    }
    let mut any = false;
    for p in pkgs {
        match PACKAGES.iter().find(|(n, _)| n == p) {
            Some((_, full)) => {
                io.outln(format!(
                    "Package {full} already installed and latest version"
                ));
                any = true;
            }
            None => io.outln(format!("No package {p} available.")),
        }
    }
    io.outln(if any {
        "Nothing to do"
    } else {
        "Error: Nothing to do"
    });
    if !any {
        io.status = 1;
    }
}

/// CentOS 7's `service NAME ACTION`: says where it redirects, then runs
/// `systemctl ACTION NAME.service` (`super::systemctl`, the one model of
/// the host's services).
pub fn service(lab: &mut Lab, host: &str, args: &[String], io: &mut Io) {
    let (Some(name), Some(action)) = (args.first(), args.get(1)) else {
        io.outln("Usage: service < option > | --status-all | [ service_name [ command | --full-restart ] ]");
        io.status = 1;
        return;
    };
    let unit = format!("{}.service", name.trim_end_matches(".service"));
    io.outln(format!("Redirecting to /bin/systemctl {action} {unit}"));
    super::systemctl::systemctl(lab, host, &[action.clone(), unit], io);
}

/// Parse `http://HOST[:PORT][/PATH]`.
fn parse_url(url: &str) -> Option<(Ipv4Addr, u16, String, String)> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("telnet://"))
        .unwrap_or(url);
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (h, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (hostport, 80),
    };
    let ip: Ipv4Addr = h.parse().ok()?;
    Some((ip, port, path, hostport.to_string()))
}

pub fn curl_like(
    lab: &mut Lab,
    host: &str,
    program: &str,
    args: &[String],
    background: bool,
    io: &mut Io,
) {
    let mut silent = false;
    let mut max_time = None;
    let mut max_filesize = None;
    let mut local_port = None;
    let mut iface: Option<&str> = None;
    let mut url: Option<&str> = None;
    let mut quiet_out = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        let val = |i: &mut usize| -> Option<&String> {
            *i += 1;
            args.get(*i)
        };
        match (program, a) {
            ("curl", "-s" | "--silent" | "-sS") => silent = true,
            ("curl", "-m" | "--max-time") => {
                max_time = val(&mut i).and_then(|v| v.parse::<f64>().ok())
            }
            ("curl", "--max-filesize") => {
                max_filesize = val(&mut i).and_then(|v| v.parse::<u64>().ok())
            }
            ("curl", "--local-port") => {
                local_port = val(&mut i).and_then(|v| v.split('-').next()?.parse::<u16>().ok())
            }
            ("curl", "--interface") => iface = val(&mut i).map(String::as_str),
            ("curl", "-v" | "-i" | "-L" | "-k") => {}
            ("wget", "-q" | "-qO-" | "-O-") => quiet_out = true,
            ("wget", "-O") => {
                i += 1;
            }
            ("wget", "-T" | "--timeout") => {
                max_time = val(&mut i).and_then(|v| v.parse::<f64>().ok())
            }
            (_, s) if s.starts_with('-') => {
                io.errln(format!("{program}: option {s}: is unknown"));
                io.status = 2;
                return;
            }
            (_, u) => url = Some(u),
        }
        i += 1;
    }
    let _ = quiet_out;
    let Some(url) = url else {
        io.errln(format!("{program}: no URL specified!"));
        io.status = 2;
        return;
    };
    let Some((ip, port, path, host_header)) = parse_url(url) else {
        io.errln(format!("curl: (6) Could not resolve host: {url}"));
        io.status = 6;
        return;
    };
    let dst = SocketAddrV4::new(ip, port);
    let h = lab.world.host(host).expect("host checked by the shell");
    let src = match iface {
        Some(s) => match s.parse::<Ipv4Addr>() {
            Ok(a) if h.addr_type(a) == crate::net::ipv4::fib::RouteType::Local => a,
            _ => {
                io.errln(format!("curl: (45) Couldn't bind to '{s}'"));
                io.status = 45;
                return;
            }
        },
        None => match h.route_output(ip, None, None) {
            Ok(rt) => rt.src,
            Err(_) => {
                if !silent {
                    io.errln(format!("curl: (7) Failed to connect to {ip} port {port} after 0 ms: Couldn't connect to server"));
                }
                io.status = 7;
                return;
            }
        },
    };
    let now = lab.world.now;
    let id = lab.world.spawn(AppKind::Curl(CurlApp {
        host: host.to_string(),
        program: program.to_string(),
        dst,
        host_header,
        path,
        src,
        local_port,
        silent: silent || program == "wget",
        max_time_s: max_time,
        max_filesize,
        start: now,
        sock: None,
        sent: false,
        response: vec![],
        // curl telnet:// sends its stdin and prints what comes back: with
        // nothing to send, it just holds the connection open (until -m).
        hold: url.starts_with("telnet://"),
        exit: 0,
    }));
    if background {
        return;
    }
    if lab.wait_fg(host, id, Render::Curl) {
        lab.render_fg(id, Render::Curl, None, io);
    }
}

/// `nc [-d] [-p PORT] HOST PORT`: a connection held open (meant with `&`).
pub fn nc(lab: &mut Lab, host: &str, args: &[String], background: bool, io: &mut Io) {
    let mut local_port = None;
    let mut verbose = false;
    let mut pos: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-d" | "-n" => {}
            "-v" => verbose = true,
            "-p" => {
                i += 1;
                local_port = args.get(i).and_then(|v| v.parse::<u16>().ok());
            }
            s if s.starts_with('-') => {
                io.errln(format!(
                    "nc: invalid option -- '{}'",
                    s.trim_start_matches('-')
                ));
                io.status = 1;
                return;
            }
            s => pos.push(s),
        }
        i += 1;
    }
    let (Some(h), Some(p)) = (pos.first(), pos.get(1)) else {
        io.errln("usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]");
        io.status = 1;
        return;
    };
    let (Ok(ip), Ok(port)) = (h.parse::<Ipv4Addr>(), p.parse::<u16>()) else {
        io.errln(format!(
            "nc: getaddrinfo for host \"{h}\" port {p}: Name or service not known"
        ));
        io.status = 1;
        return;
    };
    let hs = lab.world.host(host).expect("host checked by the shell");
    let Ok(rt) = hs.route_output(ip, None, None) else {
        // OpenBSD netcat warns about a failed connect only with -v.
        if verbose {
            io.errln(format!(
                "nc: connect to {ip} port {port} (tcp) failed: Network is unreachable"
            ));
        }
        io.status = 1;
        return;
    };
    let now = lab.world.now;
    let id = lab.world.spawn(AppKind::Curl(CurlApp {
        host: host.to_string(),
        program: "nc".into(),
        dst: SocketAddrV4::new(ip, port),
        host_header: String::new(),
        path: String::new(),
        src: rt.src,
        local_port,
        silent: !verbose,
        max_time_s: None,
        max_filesize: None,
        start: now,
        sock: None,
        sent: false,
        response: vec![],
        hold: true,
        exit: 0,
    }));
    if background {
        return;
    }
    if lab.interactive {
        // At a terminal nc holds the connection and waits for the keyboard
        // until Ctrl+C; a refused connect ends it at once with status 1.
        if lab.wait_fg(host, id, super::session::Render::Curl) {
            lab.render_fg(id, super::session::Render::Curl, None, io);
        }
        return;
    }
    // In a script nc's input never comes: the lab lets it connect and
    // goes on after a moment, the connection still held (as `nc … &`);
    // a connect that failed by then is its exit status.
    lab.world.advance(1_000_000);
    let failed = lab.world.apps.get(&id).is_some_and(|a| a.done);
    if failed {
        lab.render_fg(id, super::session::Render::Curl, None, io);
    } else if let Some(a) = lab.world.apps.get(&id) {
        for l in &a.output {
            io.outln(l);
        }
    }
    let _ = lab.world.apps.remove(&id);
}

/// `netstat -nat[p]` (net-tools 2.10) over the host's TCP sockets.
pub fn netstat(lab: &Lab, host: &str, args: &[String], io: &mut Io) {
    let flags: String = args
        .iter()
        .filter(|a| a.starts_with('-'))
        .map(|a| a.trim_start_matches('-'))
        .collect();
    if flags.contains('r') {
        let numeric = flags.contains('n');
        let extend = flags.contains('e');
        super::route::netstat_route(lab, host, numeric, extend, io);
        return;
    }
    let all = flags.contains('a');
    let listening_only = flags.contains('l');
    let progs = flags.contains('p');
    let Some(h) = lab.world.host(host) else {
        return;
    };
    if all {
        io.outln("Active Internet connections (servers and established)");
    } else if listening_only {
        io.outln("Active Internet connections (only servers)");
    } else {
        io.outln("Active Internet connections (w/o servers)");
    }
    let mut head =
        "Proto Recv-Q Send-Q Local Address           Foreign Address         State      "
            .to_string();
    if progs {
        head.push_str(" PID/Program name    ");
    }
    io.outln(head);
    let mut socks: Vec<_> = h.tcp.socks().values().collect();
    // /proc/net/tcp lists listeners first, then the established hash.
    socks.sort_by_key(|s| (s.state != TcpState::Listen, s.local.port(), s.id));
    for s in socks {
        let listen = s.state == TcpState::Listen;
        if (listen && !all && !listening_only) || (!listen && listening_only) {
            continue;
        }
        let local = format!("{}:{}", s.local.ip(), s.local.port());
        let remote = if listen {
            "0.0.0.0:*".to_string()
        } else {
            format!("{}:{}", s.remote.ip(), s.remote.port())
        };
        let mut line = format!(
            "tcp   {:>6} {:>6} {:<23} {:<23} {:<11}",
            if listen { 0 } else { s.rx.len() },
            s.unacked,
            local,
            remote,
            s.state.name()
        );
        if progs {
            let prog = match super::ss::process_of(&h.tcp, s) {
                Some(o) => format!("{}/{}", o.pid, o.program),
                None => "-".to_string(),
            };
            line.push_str(&format!(" {prog:<20}"));
        }
        io.outln(line);
    }
}

/// The kernel release `modprobe` names in its messages (the VM's Debian kernel).
const KERNEL_RELEASE: &str = "6.1.0-56-amd64";

/// Modules the lab kernel has: IPVS and its schedulers (built in to the
/// model, so loading them changes nothing visible) and `ipip` with its
/// dependencies.
const MODULES: &[&str] = &[
    "ip_vs",
    "ip_vs_rr",
    "ip_vs_wrr",
    "ip_vs_lc",
    "ip_vs_wlc",
    "ip_vs_sh",
    "ip_vs_dh",
    "ip_vs_sed",
    "ip_vs_nq",
    "ip_vs_mh",
    "ipip",
    "tunnel4",
    "ip_tunnel",
];

/// `modprobe MODULE...` (kmod 30): `ipip` creates `tunl0` (down) as the
/// module's per-namespace init does; the IPVS modules are always there.
/// Modules are named with `-` or `_` alike. Silent on success.
pub fn modprobe(lab: &mut Lab, host: &str, args: &[String], io: &mut Io) {
    let mut names = vec![];
    for a in args {
        match a.as_str() {
            "-q" | "--quiet" | "-v" | "--verbose" | "-a" | "--all" | "-b" | "--use-blacklist" => {}
            s if s.starts_with('-') => {
                io.errln(format!("modprobe: ERROR: unknown option: {s}"));
                io.status = 1;
                return;
            }
            s => names.push(s.replace('-', "_")),
        }
    }
    if names.is_empty() {
        io.errln("modprobe: ERROR: missing parameters. See -h.");
        io.status = 1;
        return;
    }
    // Without -a only the first name is a module; the rest are its options.
    let all = args.iter().any(|a| a == "-a" || a == "--all");
    if !all {
        names.truncate(1);
    }
    for m in names {
        if !MODULES.contains(&m.as_str()) {
            io.errln(format!(
                "modprobe: FATAL: Module {m} not found in directory /lib/modules/{KERNEL_RELEASE}"
            ));
            io.status = 1;
            return;
        }
        if m == "ipip" {
            let h = lab.world.host_mut(host).expect("host checked by the shell");
            h.load_ipip();
        }
    }
}
