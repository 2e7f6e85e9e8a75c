//! ipvsadm 1.31's command line (ipvsadm.c: `parse_options()`, popt's
//! messages): one [`Command`] per invocation, with ipvsadm's option
//! legality table (`commands_v_options`) and its exact error texts.

use super::options::{check_options, Cmd, OPTNAMES};
use crate::net::netfilter::ipvs::{
    full_netmask, Change, DestSpec, Fwd, Proto, ServiceKey, ServiceSpec, Timeouts,
};
use crate::tools::libc::{atoi, inet_aton as aton};
use crate::tools::services::{port_by_proto, ServProto};
use std::net::IpAddr;

/// What ipvsadm was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A change of the table (`-A -E -D -C -a -e -d -Z --set`): it needs
    /// only the backend's answer.
    Change(Change),
    Restore,
    Save {
        numeric: bool,
    },
    List(ListOpts),
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
pub(crate) fn fail(msg: impl Into<String>) -> CliError {
    CliError {
        message: msg.into(),
        code: 2,
    }
}

/// popt's errors and "try help": exit 255.
pub(crate) fn popt(msg: impl Into<String>) -> CliError {
    CliError {
        message: msg.into(),
        code: 255,
    }
}

const DEF_SCHED: &str = "wlc";

/// `IPVS_SVC_PERSISTENT_TIMEOUT`: `-p` without a value.
const DEF_PERSISTENT: u32 = 360;

const MAX_TIMEOUT: u32 = 31 * 24 * 3600;

/// `string_to_number(s, min, max)`.
pub(crate) fn number(s: &str, min: i64, max: i64) -> Option<i64> {
    let v: i64 = s.parse().ok()?;
    (min..=max).contains(&v).then_some(v)
}

/// `parse_service()`: `host[:port]`, `[v6]:port`; port may be a name,
/// looked up for the service's protocol as far as the command line has
/// given it (`service_to_port()`: none yet, as for an -r before -t, finds
/// no name).
fn parse_service(s: &str, proto: Option<Proto>) -> Option<(IpAddr, Option<u16>)> {
    if s.is_empty() || s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let serv = match proto {
        Some(Proto::Tcp) => Some(ServProto::Tcp),
        Some(Proto::Udp) => Some(ServProto::Udp),
        _ => None,
    };
    let port_of = |p: &str| -> Option<u16> {
        number(p, 0, 65535)
            .map(|v| v as u16)
            .or_else(|| serv.and_then(|sp| port_by_proto(p, Some(sp))))
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
    // `ce->svc.netmask` and `ce->svc.af` as the options set them, in
    // order: the full IPv4 mask to start with (`process_options()`), 128
    // when an IPv6 address or `-6` sets the family.
    let mut netmask: u32 = full_netmask(false);
    let mut v6 = false;
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
                let a = parse_service(&v, Some(proto))
                    .ok_or_else(|| fail("illegal virtual server address[:port] specified"))?;
                v6 = a.0.is_ipv6();
                if v6 {
                    netmask = full_netmask(true);
                }
                svc = Some((proto, Some(a), 0));
            }
            "-f" | "--fwmark-service" => {
                mark(&mut set, 2)?;
                let m = number(&v, 1, i64::from(u32::MAX))
                    .ok_or_else(|| fail(format!("invalid fwmark value `{v}' specified")))?;
                v6 = false;
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
                netmask = if v6 {
                    // atoi(): leading digits, 0 when there are none.
                    let plen = atoi(&v);
                    if !(1..=128).contains(&plen) {
                        return Err(fail("illegal ipv6 netmask specified"));
                    }
                    plen as u32
                } else {
                    // parse_netmask(): inet_aton(), so any 32 bits.
                    aton(&v)
                        .map(u32::from)
                        .ok_or_else(|| fail("illegal virtual server persistent mask specified"))?
                };
            }
            "-r" | "--real-server" => {
                mark(&mut set, 6)?;
                dest = Some(
                    parse_service(&v, svc.map(|(p, _, _)| p))
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
            "--sort" => {}
            // Only after -f: the fwmark service is IPv6, its mask /128.
            "-6" | "--ipv6" => match svc {
                Some((_, None, _)) => {
                    v6 = true;
                    netmask = full_netmask(true);
                }
                // fail(2, "-6 used before -f\n") adds its own newline.
                _ => return Err(fail("-6 used before -f\n")),
            },
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
        None => ServiceKey::Fwmark { mark, v6 },
    });
    let spec = |key: ServiceKey| -> Result<ServiceSpec, CliError> {
        if let ServiceKey::Addr { port: 0, .. } = key {
            if persistent.is_none() {
                return Err(fail("Zero port specified for non-persistent service"));
            }
        }
        Ok(ServiceSpec {
            key,
            scheduler: sched.clone().unwrap_or_else(|| DEF_SCHED.to_string()),
            persistent,
            netmask,
            sched_flags: sched_flags.clone(),
        })
    };
    // process_options(): a real server of the other family only for -i
    // (the kernel, too, refuses it for any other method: -EINVAL).
    if matches!(cmd, Cmd::AddSrv | Cmd::EditSrv) {
        if let (Some(k), Some((addr, _))) = (&key, dest) {
            if addr.is_ipv6() != k.is_v6() && fwd != Fwd::Tunnel {
                return Err(fail(
                    "Different address family is allowed only for tunneling servers",
                ));
            }
        }
    }
    // process_options() forces the service's port for DR and TUN only for
    // -a and -e: -d names the real server's port as typed.
    let forced = matches!(cmd, Cmd::AddSrv | Cmd::EditSrv);
    let dest_spec = |key: &ServiceKey| -> DestSpec {
        let (addr, port) = dest.expect("legality: real-server is compulsory");
        let svc_port = match key {
            ServiceKey::Addr { port, .. } => *port,
            ServiceKey::Fwmark { .. } => 0,
        };
        // For DR and TUN the real server's port is the service's.
        let port = match (fwd, key) {
            (Fwd::Route | Fwd::Tunnel, ServiceKey::Addr { .. }) if forced => svc_port,
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
        Cmd::Add => Command::Change(Change::AddService(spec(key.expect("compulsory"))?)),
        Cmd::Edit => Command::Change(Change::EditService(spec(key.expect("compulsory"))?)),
        Cmd::Del => Command::Change(Change::DelService(key.expect("compulsory"))),
        Cmd::Flush => Command::Change(Change::Flush),
        Cmd::Restore => Command::Restore,
        Cmd::Save => Command::Save {
            numeric: lo.numeric,
        },
        Cmd::AddSrv => {
            let k = key.expect("compulsory");
            Command::Change(Change::AddDest(k, dest_spec(&k)))
        }
        Cmd::EditSrv => {
            let k = key.expect("compulsory");
            Command::Change(Change::EditDest(k, dest_spec(&k)))
        }
        Cmd::DelSrv => {
            let k = key.expect("compulsory");
            let d = dest_spec(&k);
            Command::Change(Change::DelDest(k, d.addr, d.port))
        }
        Cmd::List => {
            lo.service = key;
            Command::List(lo)
        }
        Cmd::Zero => Command::Change(Change::Zero(key)),
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
            Command::Change(Change::SetTimeouts(Timeouts {
                tcp: t[0],
                tcp_fin: t[1],
                udp: t[2],
            }))
        }
        Cmd::StartD | Cmd::StopD => Command::Daemon,
    })
}
