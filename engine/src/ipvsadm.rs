//! `ipvsadm` 1.31: the command line parsed once into typed commands, run
//! against any [`IpvsBackend`] (the simulator here, the kernel over netlink
//! in `lvslab`), with one set of formatters for `-Ln`, `--stats`, `--rate`,
//! `--exact`, `-Lnc`, `-Sn` and `--timeout`, and ipvsadm's own messages.

use crate::ipvs::{
    ConnEntry, DestEntry, DestSpec, Fwd, IpvsBackend, IpvsError, Proto, ServiceEntry, ServiceKey,
    ServiceSpec, Timeouts,
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
    Save {
        numeric: bool,
    },
    AddDest(ServiceKey, DestSpec),
    EditDest(ServiceKey, DestSpec),
    DelDest(ServiceKey, IpAddr, u16),
    List(ListOpts),
    Zero(Option<ServiceKey>),
    SetTimeout(Timeouts),
    Help,
    Version,
    /// `--start-daemon`/`--stop-daemon`: connection sync is not modelled.
    Daemon,
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
    pub daemon: bool,
    pub nosort: bool,
}

/// A command-line error: what ipvsadm prints on stderr and its exit code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CliError {
    pub message: String,
    pub code: i32,
}

pub const TRYHELP: &str = "Try `ipvsadm -h' or 'ipvsadm --help' for more information.";

/// `fail(2, …)`.
fn fail(msg: impl Into<String>) -> CliError {
    CliError {
        message: msg.into(),
        code: 2,
    }
}

/// popt's errors and "try help": exit 255.
fn popt(msg: impl Into<String>) -> CliError {
    CliError {
        message: msg.into(),
        code: 255,
    }
}

const DEF_SCHED: &str = "wlc";
/// `IPVS_SVC_PERSISTENT_TIMEOUT`: `-p` without a value.
const DEF_PERSISTENT: u32 = 360;
const MAX_TIMEOUT: u32 = 31 * 24 * 3600;

/// Well-known ports getservbyname/getservbyport know (Debian's /etc/services).
const SERVICES: &[(&str, u16)] = &[
    ("ftp", 21),
    ("ssh", 22),
    ("telnet", 23),
    ("smtp", 25),
    ("domain", 53),
    ("http", 80),
    ("pop3", 110),
    ("imap2", 143),
    ("https", 443),
    ("http-alt", 8080),
];

pub(crate) fn port_by_name(p: &str) -> Option<u16> {
    SERVICES
        .iter()
        .find(|(n, _)| *n == p)
        .map(|(_, v)| *v)
        .or(if p == "www" { Some(80) } else { None })
}

pub(crate) fn port_name(p: u16) -> Option<&'static str> {
    SERVICES.iter().find(|(_, v)| *v == p).map(|(n, _)| *n)
}

/// `string_to_number(s, min, max)`.
fn number(s: &str, min: i64, max: i64) -> Option<i64> {
    let v: i64 = s.parse().ok()?;
    (min..=max).contains(&v).then_some(v)
}

/// `inet_aton` for -M (a, a.b, a.b.c, a.b.c.d).
fn aton(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<u32> = s
        .split('.')
        .map(|p| p.parse::<u32>().ok())
        .collect::<Option<Vec<_>>>()?;
    let v = match parts.as_slice() {
        [a] => *a,
        [a, b] if *a < 256 && *b < (1 << 24) => (a << 24) | b,
        [a, b, c] if *a < 256 && *b < 256 && *c < (1 << 16) => (a << 24) | (b << 16) | c,
        [a, b, c, d] if parts.iter().all(|x| *x < 256) => (a << 24) | (b << 16) | (c << 8) | d,
        _ => return None,
    };
    Some(Ipv4Addr::from(v))
}

/// `parse_service()`: `host[:port]`, `[v6]:port`; port may be a name.
fn parse_service(s: &str) -> Option<(IpAddr, Option<u16>)> {
    if s.is_empty() || s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let port_of = |p: &str| -> Option<u16> {
        number(p, 0, 65535)
            .map(|v| v as u16)
            .or_else(|| port_by_name(p))
    };
    if let Some(rest) = s.strip_prefix('[') {
        let (a, tail) = rest.split_once(']')?;
        let ip: std::net::Ipv6Addr = a.parse().ok()?;
        let p = tail.strip_prefix(':')?;
        return Some((IpAddr::V6(ip), Some(port_of(p)?)));
    }
    if let Ok(v6) = s.parse::<std::net::Ipv6Addr>() {
        return Some((IpAddr::V6(v6), None));
    }
    match s.rsplit_once(':') {
        Some((h, p)) => Some((IpAddr::V4(aton(h)?), Some(port_of(p)?))),
        None => Some((IpAddr::V4(aton(s)?), None)),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Add,
    Edit,
    Del,
    Flush,
    List,
    AddSrv,
    DelSrv,
    EditSrv,
    Timeout,
    StartD,
    StopD,
    Restore,
    Save,
    Zero,
}

impl Cmd {
    fn name(self) -> &'static str {
        match self {
            Cmd::Add => "add-service",
            Cmd::Edit => "edit-service",
            Cmd::Del => "delete-service",
            Cmd::Flush => "flush",
            Cmd::List => "list",
            Cmd::AddSrv => "add-server",
            Cmd::DelSrv => "delete-server",
            Cmd::EditSrv => "edit-server",
            Cmd::Timeout => "set",
            Cmd::StartD => "start-daemon",
            Cmd::StopD => "stop-daemon",
            Cmd::Restore => "restore",
            Cmd::Save => "save",
            Cmd::Zero => "zero",
        }
    }
}

/// Option columns of `commands_v_options`, in order.
const OPTNAMES: [&str; 24] = [
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
];

/// `commands_v_options`: per command, per column: `+` compulsory,
/// `x` illegal, `1` one-of group, ` ` optional.
fn legality(c: Cmd) -> &'static [u8; 24] {
    match c {
        Cmd::Add | Cmd::Edit => b"xx+   xxxxxxxxxxxxxxx   ",
        Cmd::Del => b"xx+xxxxxxxxxxxxxxxxxxxxx",
        Cmd::Flush | Cmd::Timeout | Cmd::Restore => b"xxxxxxxxxxxxxxxxxxxxxxxx",
        Cmd::List => b" 11xxxxxxxxx11       xxx",
        Cmd::AddSrv | Cmd::EditSrv => b"xx+xxx+    xxxxxxxxxxxxx",
        Cmd::DelSrv => b"xx+xxx+xxxxxxxxxxxxxxxxx",
        Cmd::StartD => b"xxxxxxxxxxx xxxxxxx xxxx",
        Cmd::StopD => b"xxxxxxxxxxxxxxxxxxx xxxx",
        Cmd::Save => b" xxxxxxxxxxxxxxxxxxxxxxx",
        Cmd::Zero => b"xx xxxxxxxxxxxxxxxxxxxxx",
    }
}

/// `generic_opt_check()`.
fn check_options(c: Cmd, set: &[bool; 24]) -> Result<(), CliError> {
    let row = legality(c);
    let mut first_in_group: Option<usize> = None;
    for (i, &rule) in row.iter().enumerate() {
        match rule {
            b'+' if !set[i] => {
                return Err(fail(format!(
                    "You need to supply the '{}' option for the '{}' command",
                    OPTNAMES[i],
                    c.name()
                )))
            }
            b'x' if set[i] => {
                return Err(fail(format!(
                    "Illegal '{}' option with the '{}' command",
                    OPTNAMES[i],
                    c.name()
                )))
            }
            b'1' if set[i] => match first_in_group {
                Some(f) => {
                    return Err(fail(format!(
                        "The option '{}' conflicts with the '{}' option in the '{}' command",
                        OPTNAMES[i],
                        OPTNAMES[f],
                        c.name()
                    )))
                }
                None => first_in_group = Some(i),
            },
            _ => {}
        }
    }
    Ok(())
}

/// Parse an ipvsadm command line (without the program name), as ipvsadm
/// 1.31's popt table and `process_options()` do.
pub fn parse(args: &[String]) -> Result<Command, CliError> {
    if args.is_empty() {
        return Ok(Command::List(ListOpts::default()));
    }
    // Split bundles (`-Ln`) and `--opt=value` into (option, inline value).
    let takes_value = |o: &str| {
        matches!(
            o,
            "-t" | "-u"
                | "-f"
                | "-s"
                | "-M"
                | "-r"
                | "-w"
                | "-x"
                | "-y"
                | "-b"
                | "--tcp-service"
                | "--udp-service"
                | "--sctp-service"
                | "--fwmark-service"
                | "--scheduler"
                | "--netmask"
                | "--real-server"
                | "--weight"
                | "--u-threshold"
                | "--l-threshold"
                | "--sched-flags"
                | "--pe"
                | "--mcast-interface"
                | "--syncid"
                | "--start-daemon"
                | "--stop-daemon"
                | "--mcast-group"
                | "--mcast-port"
                | "--mcast-ttl"
                | "--sync-maxlen"
                | "--tun-type"
                | "--tun-port"
        )
    };
    let mut toks: Vec<(String, Option<String>)> = Vec::new();
    let mut positional: Vec<String> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if let Some(long) = a.strip_prefix("--").filter(|l| !l.is_empty()) {
            match long.split_once('=') {
                Some((n, v)) => toks.push((format!("--{n}"), Some(v.to_string()))),
                None if takes_value(a) && i + 1 < args.len() => {
                    i += 1;
                    toks.push((a.clone(), Some(args[i].clone())));
                }
                None => toks.push((a.clone(), None)),
            }
        } else if a.len() > 1 && a.starts_with('-') {
            let chars: Vec<char> = a[1..].chars().collect();
            let mut k = 0;
            while k < chars.len() {
                let o = format!("-{}", chars[k]);
                if takes_value(&o) && k + 1 < chars.len() {
                    toks.push((o, Some(chars[k + 1..].iter().collect())));
                    break;
                }
                if takes_value(&o) && k + 1 == chars.len() && i + 1 < args.len() {
                    // popt takes the next word as the value, whatever it looks like.
                    i += 1;
                    toks.push((o, Some(args[i].clone())));
                    break;
                }
                toks.push((o, None));
                k += 1;
            }
        } else {
            if toks.is_empty() {
                return Err(popt(TRYHELP));
            }
            toks.push((String::new(), Some(a.clone())));
        }
        i += 1;
    }
    // Attach following words as values where an option needs one.
    let mut items: Vec<(String, Option<String>)> = Vec::new();
    let mut it = toks.into_iter().peekable();
    while let Some((o, v)) = it.next() {
        if o.is_empty() {
            positional.push(v.unwrap_or_default());
            continue;
        }
        if v.is_none() && takes_value(&o) {
            match it.peek() {
                Some((n, Some(w))) if n.is_empty() => {
                    let w = w.clone();
                    it.next();
                    items.push((o, Some(w)));
                }
                _ => return Err(popt(format!("{o}: missing argument"))),
            }
        } else if v.is_none() && (o == "-p" || o == "--persistent") {
            match it.peek() {
                Some((n, Some(w))) if n.is_empty() => {
                    let w = w.clone();
                    it.next();
                    items.push((o, Some(w)));
                }
                _ => items.push((o, None)),
            }
        } else {
            items.push((o, v));
        }
    }
    // The first option must be a command.
    let cmd_of = |o: &str| -> Option<Result<Cmd, bool>> {
        Some(match o {
            "-A" | "--add-service" => Ok(Cmd::Add),
            "-E" | "--edit-service" => Ok(Cmd::Edit),
            "-D" | "--delete-service" => Ok(Cmd::Del),
            "-C" | "--clear" => Ok(Cmd::Flush),
            "-L" | "-l" | "--list" => Ok(Cmd::List),
            "-Z" | "--zero" => Ok(Cmd::Zero),
            "-a" | "--add-server" => Ok(Cmd::AddSrv),
            "-e" | "--edit-server" => Ok(Cmd::EditSrv),
            "-d" | "--delete-server" => Ok(Cmd::DelSrv),
            "--set" => Ok(Cmd::Timeout),
            "-R" | "--restore" => Ok(Cmd::Restore),
            "-S" | "--save" => Ok(Cmd::Save),
            "--start-daemon" => Ok(Cmd::StartD),
            "--stop-daemon" => Ok(Cmd::StopD),
            "-h" | "--help" => Err(true),
            "-v" | "--version" => Err(false),
            _ => return None,
        })
    };
    let Some((first, _)) = items.first() else {
        return Err(popt(TRYHELP));
    };
    let cmd = match cmd_of(first) {
        Some(Ok(c)) => c,
        Some(Err(true)) => return Ok(Command::Help),
        Some(Err(false)) => return Ok(Command::Version),
        None => return Err(popt(TRYHELP)),
    };
    let mut set = [false; 24];
    let mark = |set: &mut [bool; 24], col: usize| -> Result<(), CliError> {
        if set[col] {
            return Err(fail(format!(
                "multiple '{}' options specified",
                OPTNAMES[col]
            )));
        }
        set[col] = true;
        Ok(())
    };
    // (protocol, address and port, fwmark)
    type SvcArg = (Proto, Option<(IpAddr, Option<u16>)>, u32);
    let mut svc: Option<SvcArg> = None;
    let mut sched: Option<String> = None;
    let mut persistent: Option<u32> = None;
    let mut netmask: Option<Ipv4Addr> = None;
    let mut sched_flags: Vec<String> = Vec::new();
    let mut dest: Option<(IpAddr, Option<u16>)> = None;
    let mut fwd = Fwd::Route;
    let mut weight = 1i32;
    let mut u_thresh = 0u32;
    let mut l_thresh = 0u32;
    let mut lo = ListOpts::default();
    for (o, v) in items.iter().skip(1) {
        let v = v.clone().unwrap_or_default();
        match o.as_str() {
            "-n" | "--numeric" => {
                mark(&mut set, 0)?;
                lo.numeric = true;
            }
            "-c" | "--connection" => {
                mark(&mut set, 1)?;
                lo.connections = true;
            }
            "-t" | "--tcp-service" | "-u" | "--udp-service" | "--sctp-service" => {
                mark(&mut set, 2)?;
                let proto = match o.as_str() {
                    "-t" | "--tcp-service" => Proto::Tcp,
                    "-u" | "--udp-service" => Proto::Udp,
                    _ => Proto::Sctp,
                };
                let a = parse_service(&v)
                    .ok_or_else(|| fail("illegal virtual server address[:port] specified"))?;
                svc = Some((proto, Some(a), 0));
            }
            "-f" | "--fwmark-service" => {
                mark(&mut set, 2)?;
                let m = number(&v, 1, i64::from(u32::MAX))
                    .ok_or_else(|| fail(format!("invalid fwmark value `{v}' specified")))?;
                svc = Some((Proto::Tcp, None, m as u32));
            }
            "-s" | "--scheduler" => {
                mark(&mut set, 3)?;
                sched = Some(v.chars().take(15).collect());
            }
            "-p" | "--persistent" => {
                mark(&mut set, 4)?;
                persistent = Some(if v.is_empty() {
                    DEF_PERSISTENT
                } else {
                    number(&v, 1, i64::from(MAX_TIMEOUT))
                        .ok_or_else(|| fail(format!("invalid timeout value `{v}' specified")))?
                        as u32
                });
            }
            "-M" | "--netmask" => {
                mark(&mut set, 5)?;
                netmask = Some(
                    aton(&v)
                        .ok_or_else(|| fail("illegal virtual server persistent mask specified"))?,
                );
            }
            "-r" | "--real-server" => {
                mark(&mut set, 6)?;
                dest = Some(
                    parse_service(&v)
                        .ok_or_else(|| fail("illegal real server address[:port] specified"))?,
                );
            }
            "-g" | "--gatewaying" | "-i" | "--ipip" | "-m" | "--masquerading" => {
                mark(&mut set, 7)?;
                fwd = match o.as_str() {
                    "-g" | "--gatewaying" => Fwd::Route,
                    "-i" | "--ipip" => Fwd::Tunnel,
                    _ => Fwd::Masq,
                };
            }
            "-w" | "--weight" => {
                mark(&mut set, 8)?;
                weight = number(&v, 0, i64::from(i32::MAX))
                    .ok_or_else(|| fail("illegal weight specified"))?
                    as i32;
            }
            "-x" | "--u-threshold" => {
                mark(&mut set, 9)?;
                u_thresh = number(&v, 0, i64::from(i32::MAX))
                    .ok_or_else(|| fail("illegal u_threshold specified"))?
                    as u32;
            }
            "-y" | "--l-threshold" => {
                mark(&mut set, 10)?;
                l_thresh = number(&v, 0, i64::from(i32::MAX))
                    .ok_or_else(|| fail("illegal l_threshold specified"))?
                    as u32;
            }
            "--mcast-interface" => mark(&mut set, 11)?,
            "--timeout" => {
                mark(&mut set, 12)?;
                lo.timeout = true;
            }
            "--daemon" => {
                mark(&mut set, 13)?;
                lo.daemon = true;
            }
            "--stats" => {
                mark(&mut set, 14)?;
                lo.stats = true;
            }
            "--rate" => {
                mark(&mut set, 15)?;
                lo.rate = true;
            }
            "--thresholds" => {
                mark(&mut set, 16)?;
                lo.thresholds = true;
            }
            "--persistent-conn" => {
                mark(&mut set, 17)?;
                lo.persistent_conn = true;
            }
            "--nosort" => {
                mark(&mut set, 18)?;
                lo.nosort = true;
            }
            "--sort" | "-6" | "--ipv6" => {}
            "--syncid" => mark(&mut set, 19)?,
            "-X" | "--exact" => {
                mark(&mut set, 20)?;
                lo.exact = true;
            }
            "-o" | "--ops" => mark(&mut set, 21)?,
            "--pe" => mark(&mut set, 22)?,
            "-b" | "--sched-flags" => {
                mark(&mut set, 23)?;
                for f in v.split(',') {
                    if ![
                        "flag-1",
                        "flag-2",
                        "flag-3",
                        "sh-fallback",
                        "sh-port",
                        "mh-fallback",
                        "mh-port",
                    ]
                    .contains(&f)
                    {
                        return Err(fail(format!("invalid scheduler flag `{f}'")));
                    }
                    sched_flags.push(f.to_string());
                }
            }
            other if cmd_of(other).is_some() => {
                return Err(fail(format!("invalid option `{other}'")))
            }
            other
                if other.starts_with("--")
                    && [
                        "--mcast-group",
                        "--mcast-port",
                        "--mcast-ttl",
                        "--sync-maxlen",
                        "--tun-info",
                        "--tun-type",
                        "--tun-port",
                        "--tun-nocsum",
                        "--tun-csum",
                        "--tun-remcsum",
                    ]
                    .contains(&other) => {}
            other => return Err(popt(format!("{other}: unknown option"))),
        }
    }
    if cmd != Cmd::Timeout {
        if let Some(p) = positional.first() {
            return Err(fail(format!("unexpected argument {p}")));
        }
    }
    check_options(cmd, &set)?;
    if cmd == Cmd::List
        && (((lo.connections || lo.timeout || lo.daemon) && (lo.stats || lo.rate || lo.thresholds))
            || ((lo.timeout || lo.daemon) && lo.persistent_conn))
    {
        return Err(fail("options conflicts in the list command"));
    }
    let key = svc.map(|(proto, a, mark)| match a {
        Some((addr, port)) => ServiceKey::Addr {
            proto,
            addr,
            port: port.unwrap_or(0),
        },
        None => ServiceKey::Fwmark { mark, v6: false },
    });
    let spec = |key: ServiceKey| -> Result<ServiceSpec, CliError> {
        if let ServiceKey::Addr { port: 0, .. } = key {
            if persistent.is_none() {
                return Err(fail("Zero port specified for non-persistent service"));
            }
        }
        let prefix = match netmask {
            None => 0,
            Some(m) => u32::from(m).leading_ones() as u8,
        };
        Ok(ServiceSpec {
            key,
            scheduler: sched.clone().unwrap_or_else(|| DEF_SCHED.to_string()),
            persistent,
            netmask: prefix,
            sched_flags: sched_flags.clone(),
        })
    };
    let dest_spec = |key: &ServiceKey| -> DestSpec {
        let (addr, port) = dest.expect("legality: real-server is compulsory");
        let svc_port = match key {
            ServiceKey::Addr { port, .. } => *port,
            ServiceKey::Fwmark { .. } => 0,
        };
        // For DR and TUN the real server's port is the service's.
        let port = match (fwd, key) {
            (Fwd::Route | Fwd::Tunnel, ServiceKey::Addr { .. }) => svc_port,
            _ => port.unwrap_or(svc_port),
        };
        DestSpec {
            addr,
            port,
            fwd,
            weight,
            u_threshold: u_thresh,
            l_threshold: l_thresh,
        }
    };
    Ok(match cmd {
        Cmd::Add => Command::AddService(spec(key.expect("compulsory"))?),
        Cmd::Edit => Command::EditService(spec(key.expect("compulsory"))?),
        Cmd::Del => Command::DelService(key.expect("compulsory")),
        Cmd::Flush => Command::Clear,
        Cmd::Restore => Command::Restore,
        Cmd::Save => Command::Save {
            numeric: lo.numeric,
        },
        Cmd::AddSrv => {
            let k = key.expect("compulsory");
            Command::AddDest(k, dest_spec(&k))
        }
        Cmd::EditSrv => {
            let k = key.expect("compulsory");
            Command::EditDest(k, dest_spec(&k))
        }
        Cmd::DelSrv => {
            let k = key.expect("compulsory");
            let d = dest_spec(&k);
            Command::DelDest(k, d.addr, d.port)
        }
        Cmd::List => {
            lo.service = key;
            Command::List(lo)
        }
        Cmd::Zero => Command::Zero(key),
        Cmd::Timeout => {
            if positional.len() != 3 {
                return Err(fail("--set option requires 3 timeout values"));
            }
            let mut t = [0u32; 3];
            for (k, p) in positional.iter().enumerate() {
                t[k] = number(p, 0, i64::from(MAX_TIMEOUT))
                    .ok_or_else(|| fail(format!("invalid timeout value `{p}' specified")))?
                    as u32;
            }
            Command::SetTimeout(Timeouts {
                tcp: t[0],
                tcp_fin: t[1],
                udp: t[2],
            })
        }
        Cmd::StartD | Cmd::StopD => Command::Daemon,
    })
}

// ------------------------------------------------------------ output ----

/// `addrport_to_anyname()`: numeric `addr:port` (`[v6]:port`), or with a
/// service name for the port when not numeric (no reverse DNS in the lab:
/// addresses stay numeric, as on a host without names for them).
fn addr_port(a: IpAddr, p: u16, numeric: bool) -> String {
    let port = match (numeric, port_name(p)) {
        (false, Some(n)) => n.to_string(),
        _ => p.to_string(),
    };
    match a {
        IpAddr::V4(v) => format!("{v}:{port}"),
        IpAddr::V6(v) => format!("[{v}]:{port}"),
    }
}

/// The list form of a service name (`"%-4s %s"`), truncated to 33 chars.
fn service_name(k: &ServiceKey, numeric: bool) -> String {
    let mut n = match k {
        ServiceKey::Addr { proto, addr, port } => {
            format!("{:<4} {}", proto.name(), addr_port(*addr, *port, numeric))
        }
        ServiceKey::Fwmark { mark, v6 } => format!("FWM  {mark}{}", if *v6 { " IPv6" } else { "" }),
    };
    if !k.is_v6() {
        n.truncate(33);
    }
    n
}

fn dest_name(d: &DestSpec, numeric: bool) -> String {
    let mut n = addr_port(d.addr, d.port, numeric);
    if d.addr.is_ipv4() {
        n.truncate(28);
    }
    n
}

/// `print_largenum()`.
fn largenum(i: u64, exact: bool) -> String {
    if exact {
        let len = i.to_string().len();
        let w = if len <= 8 { 9 } else { len + 1 };
        return format!("{i:>w$}");
    }
    if i < 100_000_000 {
        format!("{i:>9}")
    } else if i < 1_000_000_000 {
        format!("{:>8}K", i / 1000)
    } else if i < 100_000_000_000 {
        format!("{:>8}M", i / 1_000_000)
    } else if i < 100_000_000_000_000 {
        format!("{:>8}G", i / 1_000_000_000)
    } else {
        format!("{:>8}T", i / 1_000_000_000_000)
    }
}

fn title(out: &mut String, o: &ListOpts) {
    if o.stats {
        let _ = writeln!(
            out,
            "{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port",
            "Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"
        );
    } else if o.rate {
        let _ = writeln!(
            out,
            "{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> RemoteAddress:Port",
            "Prot LocalAddress:Port", "CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"
        );
    } else if o.thresholds {
        let _ = writeln!(
            out,
            "{:<33} {:<10} {:<10} {:<10} {:<10}\n  -> RemoteAddress:Port",
            "Prot LocalAddress:Port", "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
        );
    } else if o.persistent_conn {
        let _ = writeln!(
            out,
            "{:<33} {:<9} {:<11} {:<10} {:<10}\n  -> RemoteAddress:Port",
            "Prot LocalAddress:Port", "Weight", "PersistConn", "ActiveConn", "InActConn"
        );
    } else {
        out.push_str("Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n");
    }
}

fn mask_suffix(s: &ServiceSpec, flag: &str) -> String {
    let full = if s.key.is_v6() { 128 } else { 32 };
    if s.netmask == full || s.netmask == 0 {
        return String::new();
    }
    if s.key.is_v6() {
        return format!(" {flag} {}", s.netmask);
    }
    let m = u32::MAX.checked_shl(32 - u32::from(s.netmask)).unwrap_or(0);
    format!(" {flag} {}", Ipv4Addr::from(m))
}

fn service_line(out: &mut String, s: &ServiceEntry, o: &ListOpts) {
    let name = service_name(&s.spec.key, o.numeric);
    if o.stats || o.rate {
        let v = if o.stats {
            [
                s.stats.conns,
                s.stats.inpkts,
                s.stats.outpkts,
                s.stats.inbytes,
                s.stats.outbytes,
            ]
        } else {
            [
                s.rates.cps,
                s.rates.inpps,
                s.rates.outpps,
                s.rates.inbps,
                s.rates.outbps,
            ]
        };
        let _ = write!(out, "{name:<33}");
        for x in v {
            out.push_str(&largenum(x, o.exact));
        }
        out.push('\n');
    } else {
        let mut l = format!("{name} {}", s.spec.scheduler);
        if !s.spec.sched_flags.is_empty() {
            l.push_str(&format!(" ({})", s.spec.sched_flags.join(",")));
        }
        if let Some(t) = s.spec.persistent {
            l.push_str(&format!(" persistent {t}"));
            l.push_str(&mask_suffix(&s.spec, "mask"));
        }
        let _ = writeln!(out, "{l}");
    }
    for d in &s.dests {
        let dn = dest_name(&d.spec, o.numeric);
        if o.stats {
            let _ = write!(out, "  -> {dn:<28}");
            for x in [
                d.stats.conns,
                d.stats.inpkts,
                d.stats.outpkts,
                d.stats.inbytes,
                d.stats.outbytes,
            ] {
                out.push_str(&largenum(x, o.exact));
            }
            out.push('\n');
        } else if o.rate {
            let _ = writeln!(
                out,
                "  -> {dn:<28} {:>8} {:>8} {:>8}{}{}",
                d.rates.cps,
                d.rates.inpps,
                d.rates.outpps,
                largenum(d.rates.inbps, o.exact),
                largenum(d.rates.outbps, o.exact)
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

/// glibc 2.36 `qsort` for these element sizes: a top-down stable merge
/// sort (`msort_with_tmp`), taking the left element when `cmp <= 0`. The
/// exact algorithm matters because ipvsadm's comparators are not a total
/// order (they subtract addresses with wrap-around).
fn glibc_msort<T: Clone>(v: &mut [T], cmp: &impl Fn(&T, &T) -> i64) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    glibc_msort(&mut v[..n1], cmp);
    glibc_msort(&mut v[n1..], cmp);
    let left: Vec<T> = v[..n1].to_vec();
    let right: Vec<T> = v[n1..].to_vec();
    let (mut a, mut b, mut k) = (0, 0, 0);
    while a < left.len() && b < right.len() {
        if cmp(&left[a], &right[b]) <= 0 {
            v[k] = left[a].clone();
            a += 1;
        } else {
            v[k] = right[b].clone();
            b += 1;
        }
        k += 1;
    }
    while a < left.len() {
        v[k] = left[a].clone();
        a += 1;
        k += 1;
    }
    while b < right.len() {
        v[k] = right[b].clone();
        b += 1;
        k += 1;
    }
}

/// `(int)(a - b)` on u32s, as the C comparators compute it.
fn wrap_diff(a: u32, b: u32) -> i64 {
    i64::from(a.wrapping_sub(b) as i32)
}

fn addr_cmp(a: IpAddr, b: IpAddr) -> i64 {
    match (a, b) {
        (IpAddr::V4(x), IpAddr::V4(y)) => wrap_diff(u32::from(x), u32::from(y)),
        (IpAddr::V6(x), IpAddr::V6(y)) => {
            let (x, y) = (x.octets(), y.octets());
            for w in 0..4 {
                let xa = u32::from_be_bytes([x[4 * w], x[4 * w + 1], x[4 * w + 2], x[4 * w + 3]]);
                let ya = u32::from_be_bytes([y[4 * w], y[4 * w + 1], y[4 * w + 2], y[4 * w + 3]]);
                let r = wrap_diff(xa, ya);
                if r != 0 {
                    return r;
                }
            }
            0
        }
        (IpAddr::V4(_), IpAddr::V6(_)) => -1,
        (IpAddr::V6(_), IpAddr::V4(_)) => 1,
    }
}

/// `cmp_services()`: fwmark, address family, protocol, address, port.
fn cmp_services(a: &ServiceEntry, b: &ServiceEntry) -> i64 {
    let parts = |k: &ServiceKey| -> (u32, u16, u16, IpAddr, u16) {
        match *k {
            ServiceKey::Addr { proto, addr, port } => (
                0,
                if addr.is_ipv4() { 2 } else { 10 },
                proto.number(),
                addr,
                port,
            ),
            ServiceKey::Fwmark { mark, v6 } => (
                mark,
                if v6 { 10 } else { 2 },
                6,
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                0,
            ),
        }
    };
    let (fa, afa, pa, aa, pra) = parts(&a.spec.key);
    let (fb, afb, pb, ab, prb) = parts(&b.spec.key);
    let r = wrap_diff(fa, fb);
    if r != 0 {
        return r;
    }
    let r = i64::from(afa) - i64::from(afb);
    if r != 0 {
        return r;
    }
    let r = i64::from(pa) - i64::from(pb);
    if r != 0 {
        return r;
    }
    let r = addr_cmp(aa, ab);
    if r != 0 {
        return r;
    }
    i64::from(pra) - i64::from(prb)
}

fn sort_services(v: &mut [ServiceEntry]) {
    glibc_msort(v, &cmp_services);
    for s in v.iter_mut() {
        glibc_msort(&mut s.dests, &|a: &DestEntry, b: &DestEntry| {
            let r = addr_cmp(a.spec.addr, b.spec.addr);
            if r != 0 {
                r
            } else {
                i64::from(a.spec.port) - i64::from(b.spec.port)
            }
        });
    }
}

/// The `-t ADDR:PORT` / `-u …` / `-f MARK` option naming a service.
pub fn service_opt(key: &ServiceKey, numeric: bool) -> String {
    match *key {
        ServiceKey::Addr { proto, addr, port } => format!(
            "{} {}",
            match proto {
                Proto::Tcp => "-t",
                Proto::Udp => "-u",
                Proto::Sctp => "--sctp-service",
            },
            addr_port(addr, port, numeric)
        ),
        ServiceKey::Fwmark { mark, v6 } => format!("-f {mark}{}", if v6 { " -6" } else { "" }),
    }
}

/// A service's options after the key, as `-S` writes them (` -s rr -p 300`).
pub fn service_args(spec: &ServiceSpec) -> String {
    let mut l = format!(" -s {}", spec.scheduler);
    if let Some(t) = spec.persistent {
        l.push_str(&format!(" -p {t}"));
        l.push_str(&mask_suffix(spec, "-M"));
    }
    if !spec.sched_flags.is_empty() {
        l.push_str(&format!(" -b {}", spec.sched_flags.join(",")));
    }
    l
}

/// A real server's options after the key, as `-S` writes them
/// (` -r 192.168.150.12:80 -g -w 1`).
pub fn dest_args(d: &DestSpec, numeric: bool) -> String {
    let flag = match d.fwd {
        Fwd::Route | Fwd::Local => "-g",
        Fwd::Tunnel => "-i",
        Fwd::Masq => "-m",
    };
    format!(
        " -r {} {flag} -w {}{}",
        addr_port(d.addr, d.port, numeric),
        d.weight,
        // Tunnel destinations carry their tunnel type (ipip here).
        if d.fwd == Fwd::Tunnel {
            " --tun-type ipip"
        } else {
            ""
        }
    )
}

/// `-S`: the rules as ipvsadm arguments.
pub fn format_save(services: &[ServiceEntry], numeric: bool) -> String {
    let mut out = String::new();
    for s in services {
        let key = service_opt(&s.spec.key, numeric);
        let _ = writeln!(out, "-A {key}{}", service_args(&s.spec));
        for d in &s.dests {
            let _ = writeln!(out, "-a {key}{}", dest_args(&d.spec, numeric));
        }
    }
    out
}

/// `-c`: `/proc/net/ip_vs_conn` as ipvsadm prints it.
pub fn format_conns(conns: &[ConnEntry], numeric: bool) -> String {
    let mut out = String::from("IPVS connection entries\npro expire state       source             virtual            destination\n");
    for c in conns {
        // Templates of fwmark services have protocol IP: ipvsadm prints their ports numerically.
        let num = numeric || c.proto == "IP";
        let expire = format!("{:02}:{:02}", c.expires / 60, c.expires % 60);
        let _ = writeln!(
            out,
            "{:<3} {:<6} {:<11} {:<18} {:<18} {}",
            c.proto,
            expire,
            c.state,
            addr_port(c.caddr, c.cport, num),
            addr_port(c.vaddr, c.vport, num),
            addr_port(c.daddr, c.dport, num)
        );
    }
    out
}

/// `ipvsadm -h`, verbatim (Debian 12's ipvsadm 1.31).
pub const HELP: &str = include_str!("ipvsadm_help.txt");
pub const VERSION: &str = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n";

/// Result of running ipvsadm: (stdout, stderr, exit status).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
}

/// Execute one ipvsadm invocation against a backend. `stdin` feeds `-R`.
pub fn run(backend: &mut dyn IpvsBackend, args: &[String], stdin: &str) -> Run {
    let mut r = Run::default();
    // ipvs_init(): resolve the family, GET_INFO.
    if let Err(e) = backend.info() {
        r.stderr = format!("Can't initialize ipvs: {e}\nAre you sure that IP Virtual Server is built in the kernel or as module?\n");
        r.status = 2;
        return r;
    }
    exec(backend, args, stdin, &mut r);
    r
}

impl Command {
    /// A change of the table that needs only the backend's answer.
    pub fn is_change(&self) -> bool {
        matches!(
            self,
            Command::AddService(_)
                | Command::EditService(_)
                | Command::DelService(_)
                | Command::Clear
                | Command::AddDest(..)
                | Command::EditDest(..)
                | Command::DelDest(..)
                | Command::Zero(_)
                | Command::SetTimeout(_)
        )
    }
}

/// Run one change (see [`Command::is_change`]) on a backend.
pub fn run_change<B: IpvsBackend + ?Sized>(
    backend: &mut B,
    cmd: &Command,
) -> Result<(), IpvsError> {
    match cmd {
        Command::AddService(s) => backend.add_service(s),
        Command::EditService(s) => backend.edit_service(s),
        Command::DelService(k) => backend.del_service(k),
        Command::Clear => backend.flush(),
        Command::AddDest(k, d) => backend.add_dest(k, d),
        Command::EditDest(k, d) => backend.edit_dest(k, d),
        Command::DelDest(k, a, p) => backend.del_dest(k, *a, *p),
        Command::Zero(k) => backend.zero(k.as_ref()),
        Command::SetTimeout(t) => backend.set_timeouts(t),
        other => Err(IpvsError::Other(format!("not a table change: {other:?}"))),
    }
}

fn exec(backend: &mut dyn IpvsBackend, args: &[String], stdin: &str, r: &mut Run) {
    let cmd = match parse(args) {
        Ok(c) => c,
        Err(e) => {
            r.stderr.push_str(&e.message);
            r.stderr.push('\n');
            r.status = e.code;
            return;
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
        Command::Daemon => Err(IpvsError::Other("No such device".into())),
        Command::Help => {
            r.stdout.push_str(HELP);
            return;
        }
        Command::Version => {
            r.stdout.push_str(VERSION);
            return;
        }
        Command::Save { numeric } => {
            return match backend.services() {
                Ok(mut s) => {
                    sort_services(&mut s);
                    r.stdout.push_str(&format_save(&s, numeric));
                }
                Err(e) => {
                    r.stderr.push_str(&format!("{e}\n"));
                    r.status = 1;
                }
            };
        }
        Command::Restore => {
            // config_stream: each line is an argument list ("ipvsadm" words
            // dropped); a fail() aborts, kernel errors print and go on; the
            // status is the last line's.
            // Consecutive table changes go to the backend in one batch
            // (`run_changes`); their outcome is printed in line order, as
            // if run one by one.
            let mut pending: Vec<Command> = Vec::new();
            let flush = |backend: &mut dyn IpvsBackend, pending: &mut Vec<Command>, r: &mut Run| {
                for res in backend.run_changes(pending) {
                    r.status = 0;
                    if let Err(e) = res {
                        r.stderr.push_str(&format!("{e}\n"));
                        r.status = 255;
                    }
                }
                pending.clear();
            };
            for line in stdin.lines() {
                let words: Vec<String> = line
                    .split([' ', '\t', '\r'])
                    .filter(|w| !w.is_empty() && *w != "ipvsadm")
                    .map(String::from)
                    .collect();
                if words.is_empty() {
                    continue;
                }
                if words[0] == "-R" || words[0] == "--restore" {
                    flush(backend, &mut pending, r);
                    r.stderr.push_str(TRYHELP);
                    r.stderr.push('\n');
                    r.status = 255;
                    return;
                }
                match parse(&words) {
                    Ok(c) if c.is_change() => {
                        pending.push(c);
                        continue;
                    }
                    _ => flush(backend, &mut pending, r),
                }
                let mut sub = Run::default();
                exec(backend, &words, "", &mut sub);
                r.stdout.push_str(&sub.stdout);
                r.stderr.push_str(&sub.stderr);
                r.status = sub.status;
                if sub.status == 2 || (sub.status == 255 && sub.stderr.starts_with("Try ")) {
                    return;
                }
            }
            flush(backend, &mut pending, r);
            return;
        }
        Command::List(o) => {
            match list(backend, &o) {
                Ok(s) => r.stdout.push_str(&s),
                Err((partial, e)) => {
                    r.stdout.push_str(&partial);
                    r.stderr.push_str(&format!("{e}\n"));
                    r.status = 1;
                }
            }
            return;
        }
    };
    if let Err(e) = res {
        r.stderr.push_str(&format!("{e}\n"));
        r.status = 255;
    }
}

fn list(backend: &mut dyn IpvsBackend, o: &ListOpts) -> Result<String, (String, IpvsError)> {
    let mut out = String::new();
    if o.connections {
        return backend
            .connections()
            .map(|c| format_conns(&c, o.numeric))
            .map_err(|e| (out, e));
    }
    // Only the plain listing can do with the short form of the table.
    let plain = !(o.stats || o.rate || o.thresholds || o.persistent_conn);
    let fetch = |b: &mut dyn IpvsBackend| {
        if plain {
            b.services_for_listing()
        } else {
            b.services()
        }
    };
    if let Some(k) = &o.service {
        let services = fetch(backend).map_err(|e| (String::new(), e))?;
        let Some(mut s) = services.into_iter().find(|s| s.spec.key == *k) else {
            return Err((String::new(), IpvsError::NoService));
        };
        if !o.nosort {
            sort_services(std::slice::from_mut(&mut s));
        }
        title(&mut out, o);
        service_line(&mut out, &s, o);
        return Ok(out);
    }
    if o.timeout {
        let t = backend.timeouts().map_err(|e| (String::new(), e))?;
        return Ok(format!(
            "Timeout (tcp tcpfin udp): {} {} {}\n",
            t.tcp, t.tcp_fin, t.udp
        ));
    }
    if o.daemon {
        return Ok(String::new());
    }
    let info = backend.info().map_err(|e| (String::new(), e))?;
    let _ = writeln!(
        out,
        "IP Virtual Server version {}.{}.{} (size={})",
        info.version.0, info.version.1, info.version.2, info.conn_tab_size
    );
    title(&mut out, o);
    let mut services = fetch(backend).map_err(|e| (out.clone(), e))?;
    if !o.nosort {
        sort_services(&mut services);
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
        assert_eq!(
            parse(&a("-A -t 1.2.3.4 -s rr")).unwrap_err().message,
            "Zero port specified for non-persistent service"
        );
        assert!(parse(&a("-a -t 1.2.3.4:80 -r 1.2.3.5 -w 70000")).is_ok());
        assert_eq!(
            parse(&a("-a -t 1.2.3.4:80 -r 1.2.3.5 -w -1"))
                .unwrap_err()
                .message,
            "illegal weight specified"
        );
        assert_eq!(
            parse(&a("-n -L")).unwrap_err(),
            CliError {
                message: TRYHELP.into(),
                code: 255
            }
        );
        assert_eq!(
            parse(&a("-L -L")).unwrap_err().message,
            "invalid option `-L'"
        );
        assert_eq!(
            parse(&a("-A -t 1.2.3.4:80 -r 1.2.3.5"))
                .unwrap_err()
                .message,
            "Illegal 'real-server' option with the 'add-service' command"
        );
        assert_eq!(
            parse(&a("-a -t 1.2.3.4:80")).unwrap_err().message,
            "You need to supply the 'real-server' option for the 'add-server' command"
        );
        assert_eq!(parse(&a("-lnc -t 1.2.3.4:80")).unwrap_err().message, "The option 'service-address' conflicts with the 'connection' option in the 'list' command");
        let Command::AddService(s) = parse(&a("-A -t 1.2.3.4:80 -p")).unwrap() else {
            panic!()
        };
        assert_eq!((s.persistent, s.scheduler.as_str()), (Some(360), "wlc"));
    }
}
