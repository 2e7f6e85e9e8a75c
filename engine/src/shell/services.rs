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

/// Parse `http://HOST[:PORT][/PATH]` (wget's URL).
fn parse_url(url: &str) -> Option<(Ipv4Addr, u16, String, String)> {
    let rest = url.strip_prefix("http://").unwrap_or(url);
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

/// `wget -qO- URL` (GNU Wget 1.21): the body on stdout.
pub fn wget(lab: &mut Lab, host: &str, args: &[String], background: bool, io: &mut Io) {
    let mut max_time = None;
    let mut url: Option<&str> = None;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "-q" | "-qO-" | "-O-" => {}
            "-O" => i += 1,
            "-T" | "--timeout" => {
                i += 1;
                max_time = args.get(i).and_then(|v| v.parse::<f64>().ok());
            }
            s if s.starts_with("--") => {
                io.errln(format!("wget: unrecognized option '{s}'"));
                io.errln("Usage: wget [OPTION]... [URL]...");
                io.errln("");
                io.errln("Try `wget --help' for more options.");
                io.status = 2;
                return;
            }
            s if s.starts_with('-') && s.len() > 1 => {
                io.errln(format!("wget: invalid option -- '{}'", &s[1..2]));
                io.errln("Usage: wget [OPTION]... [URL]...");
                io.errln("");
                io.errln("Try `wget --help' for more options.");
                io.status = 2;
                return;
            }
            u => url = Some(u),
        }
        i += 1;
    }
    let Some(url) = url else {
        io.errln("wget: missing URL");
        io.errln("Usage: wget [OPTION]... [URL]...");
        io.errln("");
        io.errln("Try `wget --help' for more options.");
        io.status = 1;
        return;
    };
    let Some((ip, port, path, host_header)) = parse_url(url) else {
        io.errln(format!("wget: unable to resolve host address ‘{url}’"));
        io.status = 4;
        return;
    };
    let dst = SocketAddrV4::new(ip, port);
    let h = lab.world.host(host).expect("host checked by the shell");
    let Ok(rt) = h.route_output(ip, None, None) else {
        io.status = 4;
        return;
    };
    let now = lab.world.now;
    let mut app = CurlApp::new(host, "wget", dst, rt.src, now);
    app.host_header = host_header;
    app.path = path;
    app.silent = true;
    app.max_time_s = max_time;
    let id = lab.world.spawn(AppKind::Curl(app));
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
    let mut app = CurlApp::new(host, "nc", SocketAddrV4::new(ip, port), rt.src, now);
    app.host_header = String::new();
    app.path = String::new();
    app.local_port = local_port;
    app.silent = !verbose;
    app.hold = true;
    let id = lab.world.spawn(AppKind::Curl(app));
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
