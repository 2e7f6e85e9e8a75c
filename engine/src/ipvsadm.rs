//! `ipvsadm` 1.31: the command line parsed once into typed commands, run
//! against any [`IpvsBackend`] (the simulator here, the kernel over netlink
//! in `lvslab`), with one set of formatters for `-Ln`, `--stats`, `--rate`,
//! `--exact`, `-Lnc`, `-Sn` and `--timeout`, and ipvsadm's own messages.

use crate::ipvs::{
    ConnEntry, DestSpec, Fwd, IpvsBackend, IpvsError, Proto, ServiceEntry, ServiceKey, ServiceSpec,
    Timeouts,
};
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

/// What ipvsadm was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    AddService(ServiceSpec),
    EditService(ServiceSpec),
    DelService(ServiceKey),
    Clear,
    Restore,
    Save { numeric: bool },
    AddDest(ServiceKey, DestSpec),
    EditDest(ServiceKey, DestSpec),
    DelDest(ServiceKey, IpAddr, u16),
    List(ListOpts),
    Zero(Option<ServiceKey>),
    SetTimeout(Timeouts),
    Help,
    Version,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListOpts {
    pub service: Option<ServiceKey>,
    pub numeric: bool,
    pub connections: bool,
    pub stats: bool,
    pub rate: bool,
    pub thresholds: bool,
    pub persistent_conn: bool,
    pub exact: bool,
    pub timeout: bool,
    pub sort: bool,
}

/// A command-line error: ipvsadm prints it and exits with `code`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CliError {
    pub message: String,
    pub code: i32,
    /// Whether the short usage text follows the message.
    pub usage: bool,
}

fn err(msg: impl Into<String>) -> CliError {
    CliError {
        message: msg.into(),
        code: 2,
        usage: false,
    }
}

const DEF_SCHED: &str = "wlc";

/// Parse `IP[:port]`, `[IPv6][:port]`.
fn parse_addr_port(s: &str) -> Option<(IpAddr, Option<u16>)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (a, tail) = rest.split_once(']')?;
        let ip: IpAddr = a.parse().ok()?;
        let port = match tail.strip_prefix(':') {
            Some(p) => Some(parse_port(p)?),
            None if tail.is_empty() => None,
            None => return None,
        };
        return Some((ip, port));
    }
    match s.rsplit_once(':') {
        Some((a, p)) if !a.contains(':') => {
            Some((a.parse::<Ipv4Addr>().ok()?.into(), Some(parse_port(p)?)))
        }
        _ => Some((s.parse::<Ipv4Addr>().ok()?.into(), None)),
    }
}

fn parse_port(p: &str) -> Option<u16> {
    match p {
        "http" | "www" => Some(80),
        "https" => Some(443),
        "ftp" => Some(21),
        "ssh" => Some(22),
        "domain" => Some(53),
        "smtp" => Some(25),
        _ => p.parse().ok(),
    }
}

/// Parse an ipvsadm command line (without the program name).
pub fn parse(args: &[String]) -> Result<Command, CliError> {
    #[derive(PartialEq, Clone, Copy)]
    enum Cmd {
        Add,
        Edit,
        Del,
        Clear,
        Restore,
        Save,
        AddDest,
        EditDest,
        DelDest,
        List,
        Zero,
        Set,
        Help,
        Version,
    }
    let mut cmd: Option<Cmd> = None;
    let mut svc: Option<ServiceKey> = None;
    let mut sched: Option<String> = None;
    let mut persistent: Option<u32> = None;
    let mut netmask: Option<u8> = None;
    let mut sched_flags: Vec<String> = Vec::new();
    let mut dest: Option<(IpAddr, Option<u16>)> = None;
    let mut fwd: Option<Fwd> = None;
    let mut weight: Option<i32> = None;
    let mut u_thresh: Option<u32> = None;
    let mut l_thresh: Option<u32> = None;
    let mut lo = ListOpts::default();
    let mut set_vals: Vec<u32> = Vec::new();
    let mut positional: Vec<String> = Vec::new();

    let set_cmd = |cmd: &mut Option<Cmd>, c: Cmd| -> Result<(), CliError> {
        if cmd.is_some() && *cmd != Some(c) {
            return Err(err("multiple commands specified"));
        }
        *cmd = Some(c);
        Ok(())
    };
    // Expand combined short options like `-Ln` / `-lnc`.
    let mut expanded: Vec<String> = Vec::new();
    for a in args {
        if a.starts_with('-')
            && !a.starts_with("--")
            && a.len() > 2
            && a[1..]
                .chars()
                .all(|c| "ACDESRLlZncEtu".contains(c) || "LlnczZS".contains(c))
            && a[1..].chars().all(|c| c.is_ascii_alphabetic())
        {
            let opts_with_values = ['t', 'u', 'f', 's', 'p', 'M', 'r', 'w', 'x', 'y', 'b'];
            if a[1..].chars().any(|c| opts_with_values.contains(&c)) {
                expanded.push(a.clone());
                continue;
            }
            for c in a[1..].chars() {
                expanded.push(format!("-{c}"));
            }
        } else {
            expanded.push(a.clone());
        }
    }
    let mut i = 0;
    let next = |i: &mut usize, opt: &str| -> Result<String, CliError> {
        *i += 1;
        expanded
            .get(*i)
            .cloned()
            .ok_or_else(|| err(format!("option {opt} requires an argument")))
    };
    while i < expanded.len() {
        let a = expanded[i].clone();
        match a.as_str() {
            "-A" | "--add-service" => set_cmd(&mut cmd, Cmd::Add)?,
            "-E" | "--edit-service" => set_cmd(&mut cmd, Cmd::Edit)?,
            "-D" | "--delete-service" => set_cmd(&mut cmd, Cmd::Del)?,
            "-C" | "--clear" => set_cmd(&mut cmd, Cmd::Clear)?,
            "-R" | "--restore" => set_cmd(&mut cmd, Cmd::Restore)?,
            "-S" | "--save" => set_cmd(&mut cmd, Cmd::Save)?,
            "-a" | "--add-server" => set_cmd(&mut cmd, Cmd::AddDest)?,
            "-e" | "--edit-server" => set_cmd(&mut cmd, Cmd::EditDest)?,
            "-d" | "--delete-server" => set_cmd(&mut cmd, Cmd::DelDest)?,
            "-L" | "-l" | "--list" => set_cmd(&mut cmd, Cmd::List)?,
            "-Z" | "--zero" => set_cmd(&mut cmd, Cmd::Zero)?,
            "--set" => set_cmd(&mut cmd, Cmd::Set)?,
            "-h" | "--help" => set_cmd(&mut cmd, Cmd::Help)?,
            "-v" | "--version" => set_cmd(&mut cmd, Cmd::Version)?,
            "-t" | "--tcp-service" | "-u" | "--udp-service" | "--sctp-service" => {
                let v = next(&mut i, &a)?;
                let proto = match a.as_str() {
                    "-t" | "--tcp-service" => Proto::Tcp,
                    "-u" | "--udp-service" => Proto::Udp,
                    _ => Proto::Sctp,
                };
                let (addr, port) = parse_addr_port(&v)
                    .ok_or_else(|| err("illegal virtual server address[:port] specified"))?;
                svc = Some(ServiceKey::Addr {
                    proto,
                    addr,
                    port: port.unwrap_or(0),
                });
            }
            "-f" | "--fwmark-service" => {
                let v = next(&mut i, &a)?;
                let mark: u32 = v
                    .parse()
                    .ok()
                    .filter(|m| *m > 0)
                    .ok_or_else(|| err("illegal virtual server fwmark specified"))?;
                svc = Some(ServiceKey::Fwmark { mark, v6: false });
            }
            "-s" | "--scheduler" => sched = Some(next(&mut i, &a)?),
            "-p" | "--persistent" => {
                // The timeout is optional: only a following number is taken.
                match expanded.get(i + 1).and_then(|v| v.parse::<u32>().ok()) {
                    Some(t) => {
                        i += 1;
                        if t < 1 {
                            return Err(err("illegal timeout for persistent service"));
                        }
                        persistent = Some(t)
                    }
                    None => persistent = Some(300),
                }
            }
            "-M" | "--netmask" => {
                let v = next(&mut i, &a)?;
                let m: Ipv4Addr = v
                    .parse()
                    .map_err(|_| err("illegal virtual server persistent mask specified"))?;
                let bits = u32::from(m);
                let len = bits.leading_ones();
                if bits.checked_shl(len).unwrap_or(0) != 0 {
                    return Err(err("illegal virtual server persistent mask specified"));
                }
                netmask = Some(len as u8);
            }
            "-b" | "--sched-flags" => {
                sched_flags = next(&mut i, &a)?.split(',').map(String::from).collect()
            }
            "-r" | "--real-server" => {
                let v = next(&mut i, &a)?;
                dest = Some(
                    parse_addr_port(&v)
                        .ok_or_else(|| err("illegal real server address[:port] specified"))?,
                );
            }
            "-g" | "--gatewaying" => fwd = Some(Fwd::Route),
            "-i" | "--ipip" => fwd = Some(Fwd::Tunnel),
            "-m" | "--masquerading" => fwd = Some(Fwd::Masq),
            "-w" | "--weight" => {
                let v = next(&mut i, &a)?;
                weight = Some(
                    v.parse()
                        .ok()
                        .filter(|w| (0..=65535).contains(w))
                        .ok_or_else(|| err("illegal weight specified"))?,
                );
            }
            "-x" | "--u-threshold" => {
                let v = next(&mut i, &a)?;
                u_thresh = Some(
                    v.parse()
                        .map_err(|_| err("illegal u_threshold specified"))?,
                );
            }
            "-y" | "--l-threshold" => {
                let v = next(&mut i, &a)?;
                l_thresh = Some(
                    v.parse()
                        .map_err(|_| err("illegal l_threshold specified"))?,
                );
            }
            "-n" | "--numeric" => lo.numeric = true,
            "-c" | "--connection" => lo.connections = true,
            "--stats" => lo.stats = true,
            "--rate" => lo.rate = true,
            "--thresholds" => lo.thresholds = true,
            "--persistent-conn" => lo.persistent_conn = true,
            "--exact" | "-X" => lo.exact = true,
            "--timeout" => lo.timeout = true,
            "--sort" => lo.sort = true,
            "--nosort" => lo.sort = false,
            "-6" | "--ipv6" => {}
            s if s.starts_with('-') && s.len() > 1 && s.parse::<i64>().is_err() => {
                return Err(CliError {
                    message: format!("ipvsadm: invalid option -- '{}'", s.trim_start_matches('-')),
                    code: 2,
                    usage: true,
                })
            }
            s => positional.push(s.to_string()),
        }
        i += 1;
    }
    let Some(cmd) = cmd else {
        // Like ipvsadm: no command lists the table.
        return Ok(Command::List(lo));
    };
    let need_svc = || svc.ok_or_else(|| err("Service not defined"));
    let spec = |key: ServiceKey| -> Result<ServiceSpec, CliError> {
        if let ServiceKey::Addr { port: 0, .. } = key {
            if persistent.is_none() {
                return Err(err("Zero port specified for non-persistent service"));
            }
        }
        Ok(ServiceSpec {
            key,
            scheduler: sched.clone().unwrap_or_else(|| DEF_SCHED.to_string()),
            persistent,
            netmask: netmask.unwrap_or(0),
            sched_flags: sched_flags.clone(),
        })
    };
    let dest_spec = |key: &ServiceKey| -> Result<DestSpec, CliError> {
        let (addr, port) = dest.ok_or_else(|| err("No destination specified"))?;
        let fwd = fwd.unwrap_or(Fwd::Route);
        let svc_port = match key {
            ServiceKey::Addr { port, .. } => *port,
            ServiceKey::Fwmark { .. } => 0,
        };
        // DR and TUN cannot change the port: the destination port is the service's.
        let port = match (fwd, key) {
            (Fwd::Route | Fwd::Tunnel, ServiceKey::Addr { .. }) => svc_port,
            _ => port.unwrap_or(svc_port),
        };
        Ok(DestSpec {
            addr,
            port,
            fwd,
            weight: weight.unwrap_or(1),
            u_threshold: u_thresh.unwrap_or(0),
            l_threshold: l_thresh.unwrap_or(0),
        })
    };
    Ok(match cmd {
        Cmd::Add => Command::AddService(spec(need_svc()?)?),
        Cmd::Edit => Command::EditService(spec(need_svc()?)?),
        Cmd::Del => Command::DelService(need_svc()?),
        Cmd::Clear => Command::Clear,
        Cmd::Restore => Command::Restore,
        Cmd::Save => Command::Save {
            numeric: lo.numeric,
        },
        Cmd::AddDest => {
            let k = need_svc()?;
            Command::AddDest(k, dest_spec(&k)?)
        }
        Cmd::EditDest => {
            let k = need_svc()?;
            Command::EditDest(k, dest_spec(&k)?)
        }
        Cmd::DelDest => {
            let k = need_svc()?;
            let d = dest_spec(&k)?;
            Command::DelDest(k, d.addr, d.port)
        }
        Cmd::List => {
            lo.service = svc;
            Command::List(lo)
        }
        Cmd::Zero => Command::Zero(svc),
        Cmd::Set => {
            for p in positional {
                set_vals.push(
                    p.parse()
                        .map_err(|_| err("illegal timeout value specified"))?,
                );
            }
            if set_vals.len() != 3 {
                return Err(err("--set requires 3 arguments: tcp tcpfin udp"));
            }
            Command::SetTimeout(Timeouts {
                tcp: set_vals[0],
                tcp_fin: set_vals[1],
                udp: set_vals[2],
            })
        }
        Cmd::Help => Command::Help,
        Cmd::Version => Command::Version,
    })
}

// ------------------------------------------------------------ output ----

fn addr_port(a: IpAddr, p: u16) -> String {
    match a {
        IpAddr::V4(v) => format!("{v}:{p}"),
        IpAddr::V6(v) => format!("[{v}]:{p}"),
    }
}

fn service_name(k: &ServiceKey) -> String {
    match k {
        ServiceKey::Addr { proto, addr, port } => {
            format!("{}  {}", proto.name(), addr_port(*addr, *port))
        }
        ServiceKey::Fwmark { mark, .. } => format!("FWM  {mark}"),
    }
}

/// `print_largenum()`: with --exact the number; else scaled to K/M/G/T.
fn largenum(n: u64, exact: bool) -> String {
    if exact {
        return format!("{n:>8}");
    }
    let mut v = n;
    let mut unit = "";
    for u in ["K", "M", "G", "T"] {
        if v < 100_000_000 && unit.is_empty() && n < 100_000_000 {
            break;
        }
        if v >= 100_000_000 || (unit.is_empty() && n >= 100_000_000) {
            v /= 1000;
            unit = u;
        }
    }
    if unit.is_empty() {
        format!("{n:>8}")
    } else {
        format!("{:>7}{unit}", v)
    }
}

fn title(out: &mut String, o: &ListOpts, info: &crate::ipvs::Info) {
    let _ = writeln!(
        out,
        "IP Virtual Server version {}.{}.{} (size={})",
        info.version.0, info.version.1, info.version.2, info.conn_tab_size
    );
    if o.stats {
        out.push_str("Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\n");
    } else if o.rate {
        out.push_str("Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n  -> RemoteAddress:Port\n");
    } else if o.thresholds {
        out.push_str("Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn\n  -> RemoteAddress:Port\n");
    } else if o.persistent_conn {
        out.push_str("Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n  -> RemoteAddress:Port\n");
    } else {
        out.push_str("Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
    }
}

fn service_line(out: &mut String, s: &ServiceEntry, o: &ListOpts) {
    let name = service_name(&s.spec.key);
    if o.stats {
        let st = s.stats;
        let _ = writeln!(
            out,
            "{name:<33} {} {} {} {} {}",
            largenum(st.conns, o.exact),
            largenum(st.inpkts, o.exact),
            largenum(st.outpkts, o.exact),
            largenum(st.inbytes, o.exact),
            largenum(st.outbytes, o.exact)
        );
    } else if o.rate {
        let r = s.rates;
        let _ = writeln!(
            out,
            "{name:<33} {} {} {} {} {}",
            largenum(r.cps, o.exact),
            largenum(r.inpps, o.exact),
            largenum(r.outpps, o.exact),
            largenum(r.inbps, o.exact),
            largenum(r.outbps, o.exact)
        );
    } else if o.thresholds || o.persistent_conn {
        let _ = writeln!(out, "{name}");
    } else {
        let mut l = format!("{name} {}", s.spec.scheduler);
        if !s.spec.sched_flags.is_empty() {
            l.push_str(&format!(" ({})", s.spec.sched_flags.join(",")));
        }
        if let Some(t) = s.spec.persistent {
            l.push_str(&format!(" persistent {t}"));
            let full = if s.spec.key.is_v6() { 128 } else { 32 };
            if s.spec.netmask != full && s.spec.netmask != 0 {
                let m = u32::MAX
                    .checked_shl(32 - u32::from(s.spec.netmask))
                    .unwrap_or(0);
                l.push_str(&format!(" mask {}", Ipv4Addr::from(m)));
            }
        }
        let _ = writeln!(out, "{l}");
    }
    for d in &s.dests {
        let dn = addr_port(d.spec.addr, d.spec.port);
        if o.stats {
            let st = d.stats;
            let _ = writeln!(
                out,
                "  -> {dn:<28} {} {} {} {} {}",
                largenum(st.conns, o.exact),
                largenum(st.inpkts, o.exact),
                largenum(st.outpkts, o.exact),
                largenum(st.inbytes, o.exact),
                largenum(st.outbytes, o.exact)
            );
        } else if o.rate {
            let r = d.rates;
            let _ = writeln!(
                out,
                "  -> {dn:<28} {} {} {} {} {}",
                largenum(r.cps, o.exact),
                largenum(r.inpps, o.exact),
                largenum(r.outpps, o.exact),
                largenum(r.inbps, o.exact),
                largenum(r.outbps, o.exact)
            );
        } else if o.thresholds {
            let _ = writeln!(
                out,
                "  -> {dn:<28} {:<10} {:<10} {:<10} {:<10}",
                d.spec.u_threshold, d.spec.l_threshold, d.active, d.inactive
            );
        } else if o.persistent_conn {
            let _ = writeln!(
                out,
                "  -> {dn:<28} {:<9} {:<11} {:<10} {:<10}",
                d.spec.weight, d.persist, d.active, d.inactive
            );
        } else {
            let _ = writeln!(
                out,
                "  -> {dn:<28} {:<7} {:<6} {:<10} {:<10}",
                d.spec.fwd.name(),
                d.spec.weight,
                d.active,
                d.inactive
            );
        }
    }
}

fn sort_services(v: &mut [ServiceEntry]) {
    v.sort_by_key(|a| a.spec.key);
    for s in v.iter_mut() {
        s.dests.sort_by_key(|a| (a.spec.addr, a.spec.port));
    }
}

/// `-Sn`: the rules as ipvsadm commands.
pub fn format_save(services: &[ServiceEntry]) -> String {
    let mut out = String::new();
    for s in services {
        let key = match s.spec.key {
            ServiceKey::Addr { proto, addr, port } => format!(
                "{} {}",
                match proto {
                    Proto::Tcp => "-t",
                    Proto::Udp => "-u",
                    Proto::Sctp => "--sctp-service",
                },
                addr_port(addr, port)
            ),
            ServiceKey::Fwmark { mark, .. } => format!("-f {mark}"),
        };
        let mut l = format!("-A {key} -s {}", s.spec.scheduler);
        if !s.spec.sched_flags.is_empty() {
            l.push_str(&format!(" -b {}", s.spec.sched_flags.join(",")));
        }
        if let Some(t) = s.spec.persistent {
            l.push_str(&format!(" -p {t}"));
            let full = if s.spec.key.is_v6() { 128 } else { 32 };
            if s.spec.netmask != full && s.spec.netmask != 0 {
                let m = u32::MAX
                    .checked_shl(32 - u32::from(s.spec.netmask))
                    .unwrap_or(0);
                l.push_str(&format!(" -M {}", Ipv4Addr::from(m)));
            }
        }
        let _ = writeln!(out, "{l}");
        for d in &s.dests {
            let flag = match d.spec.fwd {
                Fwd::Route => "-g",
                Fwd::Tunnel => "-i",
                Fwd::Masq | Fwd::Local => "-m",
            };
            let mut l = format!(
                "-a {key} -r {} {flag} -w {}",
                addr_port(d.spec.addr, d.spec.port),
                d.spec.weight
            );
            if d.spec.u_threshold != 0 {
                l.push_str(&format!(" -x {}", d.spec.u_threshold));
            }
            if d.spec.l_threshold != 0 {
                l.push_str(&format!(" -y {}", d.spec.l_threshold));
            }
            let _ = writeln!(out, "{l}");
        }
    }
    out
}

/// `-Lnc`: `/proc/net/ip_vs_conn` as ipvsadm prints it.
pub fn format_conns(conns: &[ConnEntry]) -> String {
    let mut out = String::from("IPVS connection entries\npro expire state       source             virtual            destination\n");
    for c in conns {
        let _ = writeln!(
            out,
            "{:<3} {:02}:{:02}  {:<11} {:<18} {:<18} {}",
            c.proto,
            c.expires / 60,
            c.expires % 60,
            c.state,
            addr_port(c.caddr, c.cport),
            addr_port(c.vaddr, c.vport),
            addr_port(c.daddr, c.dport)
        );
    }
    out
}

pub const USAGE: &str = "Usage:
  ipvsadm -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]
  ipvsadm -D virtual-service
  ipvsadm -C
  ipvsadm -R
  ipvsadm -S [-n]
  ipvsadm -a|e virtual-service -r server-address [options]
  ipvsadm -d virtual-service -r server-address
  ipvsadm -L|l [virtual-service] [options]
  ipvsadm -Z [virtual-service]
  ipvsadm --set tcp tcpfin udp
  ipvsadm --start-daemon {master|backup} [daemon-options]
  ipvsadm --stop-daemon {master|backup}
  ipvsadm -h
";

/// Result of running ipvsadm: (stdout, stderr, exit status).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

fn backend_err(e: &IpvsError) -> String {
    match e {
        IpvsError::NoScheduler(_) => "Scheduler not found: ip_vs_".to_string() + &e.to_string(),
        other => other.to_string(),
    }
}

/// Execute one ipvsadm invocation against a backend. `stdin` feeds `-R`.
pub fn run(backend: &mut dyn IpvsBackend, args: &[String], stdin: &str) -> Run {
    let mut r = Run::default();
    let cmd = match parse(args) {
        Ok(c) => c,
        Err(e) => {
            r.stderr = format!("{}\n", e.message);
            if e.usage {
                r.stderr.push_str(USAGE);
            }
            r.status = e.code;
            return r;
        }
    };
    let info = match backend.info() {
        Ok(i) => i,
        Err(e) => {
            r.stderr = format!("{}\n", backend_err(&e));
            r.status = 1;
            return r;
        }
    };
    let res: Result<(), IpvsError> = match cmd {
        Command::AddService(s) => backend.add_service(&s),
        Command::EditService(s) => backend.edit_service(&s),
        Command::DelService(k) => backend.del_service(&k),
        Command::Clear => backend.flush(),
        Command::AddDest(k, d) => backend.add_dest(&k, &d),
        Command::EditDest(k, d) => backend.edit_dest(&k, &d),
        Command::DelDest(k, a, p) => backend.del_dest(&k, a, p),
        Command::Zero(k) => backend.zero(k.as_ref()),
        Command::SetTimeout(t) => backend.set_timeouts(&t),
        Command::Help => {
            r.stdout =
                format!("ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n{USAGE}");
            Ok(())
        }
        Command::Version => {
            r.stdout = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n".into();
            Ok(())
        }
        Command::Save { .. } => backend.services().map(|s| r.stdout = format_save(&s)),
        Command::Restore => {
            for (n, line) in stdin.lines().enumerate() {
                let words: Vec<String> = line.split_whitespace().map(String::from).collect();
                if words.is_empty() || words[0].starts_with('#') {
                    continue;
                }
                let sub = run(backend, &words, "");
                r.stdout.push_str(&sub.stdout);
                if sub.status != 0 {
                    r.stderr.push_str(&sub.stderr);
                    r.stderr
                        .push_str(&format!("ipvsadm: line {}: {}\n", n + 1, line));
                    r.status = sub.status;
                    return r;
                }
            }
            Ok(())
        }
        Command::List(o) => list(backend, &o, &info).map(|s| r.stdout = s),
    };
    if let Err(e) = res {
        r.stderr.push_str(&backend_err(&e));
        r.stderr.push('\n');
        r.status = 1;
    }
    r
}

fn list(
    backend: &mut dyn IpvsBackend,
    o: &ListOpts,
    info: &crate::ipvs::Info,
) -> Result<String, IpvsError> {
    if o.timeout {
        let t = backend.timeouts()?;
        return Ok(format!(
            "Timeout (tcp tcpfin udp): {} {} {}\n",
            t.tcp, t.tcp_fin, t.udp
        ));
    }
    if o.connections {
        return Ok(format_conns(&backend.connections()?));
    }
    let mut services = backend.services()?;
    if let Some(k) = &o.service {
        services.retain(|s| s.spec.key == *k);
        if services.is_empty() {
            return Err(IpvsError::NoService);
        }
    }
    sort_services(&mut services);
    let mut out = String::new();
    if o.service.is_none() {
        title(&mut out, o, info);
    }
    for s in &services {
        service_line(&mut out, s, o);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_the_tutorial_commands() {
        let c = parse(&a("-A -t 192.168.150.100:80 -s rr")).unwrap();
        let Command::AddService(s) = c else { panic!() };
        assert_eq!(s.scheduler, "rr");
        let c = parse(&a("-a -t 192.168.150.100:80 -r 192.168.150.12 -g -w 1")).unwrap();
        let Command::AddDest(_, d) = c else { panic!() };
        assert_eq!((d.port, d.fwd, d.weight), (80, Fwd::Route, 1));
        assert!(matches!(
            parse(&a("-ln")).unwrap(),
            Command::List(ListOpts { numeric: true, .. })
        ));
        assert!(matches!(
            parse(&a("-lnc")).unwrap(),
            Command::List(ListOpts {
                connections: true,
                ..
            })
        ));
        assert!(parse(&a("-A -t 1.2.3.4 -s rr")).is_err());
        assert!(parse(&a("-a -t 1.2.3.4:80 -r 1.2.3.5 -w 70000")).is_err());
    }
}
