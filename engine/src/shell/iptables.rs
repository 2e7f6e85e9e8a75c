//! `iptables` (1.8.9, legacy back end) for the mangle table: the command
//! line as `do_command4()` reads it, the table model in
//! [`crate::net::netfilter`]. Other tables answer as on the lab's kernel, which
//! lacks their modules.

use super::{Io, Lab};
use crate::net::netfilter::{Cidr, Hook, Match, PortDir, Ports, RuleSpec, Target};
use crate::tools::iptables::{self as netfilter, ListFormat};
use std::net::Ipv4Addr;

const PROG: &str = "iptables v1.8.9 (legacy)";

/// An error with iptables' exit status: 2 for parameter problems (with the
/// "Try" line), 1 for table refusals, 3 for a missing table.
struct Fail {
    text: String,
    code: i32,
}

fn param(msg: impl Into<String>) -> Fail {
    Fail {
        text: format!(
            "{PROG}: {}\nTry `iptables -h' or 'iptables --help' for more information.\n",
            msg.into()
        ),
        code: 2,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Append,
    Insert,
    Delete,
    Replace,
    List,
    ListRules,
    Flush,
    Zero,
    Policy,
}

impl Cmd {
    fn letter(self) -> char {
        match self {
            Cmd::Append => 'A',
            Cmd::Insert => 'I',
            Cmd::Delete => 'D',
            Cmd::Replace => 'R',
            Cmd::List => 'L',
            Cmd::ListRules => 'S',
            Cmd::Flush => 'F',
            Cmd::Zero => 'Z',
            Cmd::Policy => 'P',
        }
    }
}

#[derive(Default)]
struct Parsed {
    table: Option<String>,
    cmd: Option<Cmd>,
    chain: Option<String>,
    /// Rule number, or the policy's target for -P.
    extra: Option<String>,
    fmt: ListFormat,
    spec: RuleSpec,
    /// `-p` given (needed before `--dport`).
    proto_given: bool,
    target_name: Option<String>,
    mark_target: Option<(u32, u32)>,
    unknown_target: bool,
}

fn parse_u32(s: &str) -> Option<u32> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u32::from_str_radix(h, 16).ok()
    } else {
        s.parse().ok()
    }
}

/// `xtables_parse_mark_mask()`: `value[/mask]`, mask default all ones.
fn mark_mask(s: &str) -> Option<(u32, u32)> {
    match s.split_once('/') {
        Some((v, m)) => Some((parse_u32(v)?, parse_u32(m)?)),
        None => Some((parse_u32(s)?, u32::MAX)),
    }
}

fn port(s: &str) -> Result<u16, Fail> {
    s.parse::<u16>()
        .ok()
        .or_else(|| crate::tools::services::port_by_name(s))
        .ok_or_else(|| param(format!("invalid port/service `{s}' specified")))
}

fn port_range(s: &str) -> Result<Ports, Fail> {
    match s.split_once(':') {
        Some((a, b)) => {
            let lo = if a.is_empty() { 0 } else { port(a)? };
            let hi = if b.is_empty() { 65535 } else { port(b)? };
            // `parse_multi_ports`/`parse_ports`: a reversed range is swapped.
            Ok(Ports {
                lo: lo.min(hi),
                hi: lo.max(hi),
            })
        }
        None => {
            let p = port(s)?;
            Ok(Ports { lo: p, hi: p })
        }
    }
}

/// `xtables_ipparse_any()` for one address (no DNS in the lab).
fn cidr(s: &str) -> Result<Cidr, Fail> {
    let (a, m) = match s.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (s, None),
    };
    let addr: Ipv4Addr = a
        .parse()
        .map_err(|_| param(format!("host/network `{a}' not found")))?;
    let len = match m {
        None => 32,
        Some(m) => match m.parse::<u8>() {
            Ok(l) if l <= 32 => l,
            _ => {
                let mask: Ipv4Addr = m
                    .parse()
                    .map_err(|_| param(format!("invalid mask `{m}' specified")))?;
                let v = u32::from(mask);
                if v.leading_ones() + v.trailing_zeros() != 32 {
                    return Err(param(format!("invalid mask `{m}' specified")));
                }
                v.leading_ones() as u8
            }
        },
    };
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    Ok(Cidr {
        addr: Ipv4Addr::from(u32::from(addr) & mask),
        len,
    })
}

fn proto_number(s: &str) -> Result<u8, Fail> {
    match s.to_ascii_lowercase().as_str() {
        "all" | "0" => Ok(0),
        "tcp" => Ok(6),
        "udp" => Ok(17),
        "icmp" => Ok(1),
        "sctp" => Ok(132),
        n => n
            .parse::<u8>()
            .map_err(|_| param(format!("unknown protocol \"{s}\" specified"))),
    }
}

fn parse(args: &[String]) -> Result<Parsed, Fail> {
    let mut p = Parsed::default();
    let mut i = 0;
    let mut invert = false;
    let set_cmd = |p: &mut Parsed, c: Cmd| -> Result<(), Fail> {
        if let Some(old) = p.cmd {
            return Err(param(format!(
                "Cannot use -{} with -{}\n",
                c.letter(),
                old.letter()
            )));
        }
        p.cmd = Some(c);
        Ok(())
    };
    // The next word, if it is not an option (optional arguments of -L etc.).
    let optional = |i: &mut usize| -> Option<String> {
        let w = args.get(*i + 1)?;
        if w.starts_with('-') && w.len() > 1 || w == "!" {
            return None;
        }
        *i += 1;
        Some(w.clone())
    };
    let need = |i: &mut usize, opt: &str| -> Result<String, Fail> {
        *i += 1;
        args.get(*i)
            .cloned()
            .ok_or_else(|| param(format!("option \"{opt}\" requires an argument")))
    };
    while i < args.len() {
        let a = args[i].as_str();
        let inv = std::mem::take(&mut invert);
        match a {
            "!" => invert = true,
            "-t" | "--table" => p.table = Some(need(&mut i, a)?),
            "-A" | "--append" | "-I" | "--insert" | "-D" | "--delete" | "-R" | "--replace"
            | "-P" | "--policy" => {
                let c = match a {
                    "-A" | "--append" => Cmd::Append,
                    "-I" | "--insert" => Cmd::Insert,
                    "-D" | "--delete" => Cmd::Delete,
                    "-R" | "--replace" => Cmd::Replace,
                    _ => Cmd::Policy,
                };
                set_cmd(&mut p, c)?;
                p.chain = Some(need(&mut i, a)?);
                match c {
                    Cmd::Replace | Cmd::Policy => p.extra = Some(need(&mut i, a)?),
                    Cmd::Insert | Cmd::Delete => p.extra = optional(&mut i),
                    _ => {}
                }
            }
            "-L" | "--list" | "-S" | "--list-rules" | "-F" | "--flush" | "-Z" | "--zero" => {
                let c = match a {
                    "-L" | "--list" => Cmd::List,
                    "-S" | "--list-rules" => Cmd::ListRules,
                    "-F" | "--flush" => Cmd::Flush,
                    _ => Cmd::Zero,
                };
                set_cmd(&mut p, c)?;
                p.chain = optional(&mut i);
            }
            "-n" | "--numeric" => p.fmt.numeric = true,
            "-v" | "--verbose" => p.fmt.verbose = true,
            "-x" | "--exact" => p.fmt.exact = true,
            "--line-numbers" => p.fmt.line_numbers = true,
            "-s" | "--source" | "--src" => p.spec.src = Some((cidr(&need(&mut i, a)?)?, inv)),
            "-d" | "--destination" | "--dst" => {
                p.spec.dst = Some((cidr(&need(&mut i, a)?)?, inv))
            }
            "-i" | "--in-interface" => p.spec.in_if = Some((need(&mut i, a)?, inv)),
            "-o" | "--out-interface" => p.spec.out_if = Some((need(&mut i, a)?, inv)),
            "-p" | "--protocol" => {
                p.spec.proto = (proto_number(&need(&mut i, a)?)?, inv);
                p.proto_given = true;
            }
            "-m" | "--match" => {
                let m = need(&mut i, a)?;
                match m.as_str() {
                    "tcp" | "udp" | "multiport" | "mark" => {}
                    other => {
                        return Err(param(format!(
                            "Couldn't load match `{other}':No such file or directory"
                        )))
                    }
                }
            }
            "--sport" | "--source-port" | "--dport" | "--destination-port" => {
                let proto = match p.spec.proto.0 {
                    6 => "tcp",
                    17 => "udp",
                    _ => return Err(param(format!("unknown option \"{a}\""))),
                };
                let r = port_range(&need(&mut i, a)?)?;
                let udp = proto == "udp";
                let slot = p.spec.matches.iter_mut().find_map(|m| match m {
                    Match::Ports { sport, dport, .. } => Some((sport, dport)),
                    _ => None,
                });
                let (sport, dport) = match slot {
                    Some(s) => s,
                    None => {
                        p.spec.matches.push(Match::Ports {
                            udp,
                            sport: None,
                            dport: None,
                        });
                        match p.spec.matches.last_mut() {
                            Some(Match::Ports { sport, dport, .. }) => (sport, dport),
                            _ => unreachable!("just pushed"),
                        }
                    }
                };
                if a.contains('s') && a.starts_with("--s") {
                    *sport = Some((r, inv));
                } else {
                    *dport = Some((r, inv));
                }
            }
            "--sports" | "--source-ports" | "--dports" | "--destination-ports" | "--ports" => {
                if !matches!(p.spec.proto.0, 6 | 17 | 132) || p.spec.proto.1 {
                    return Err(param(
                        "multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'",
                    ));
                }
                let dir = match a {
                    "--sports" | "--source-ports" => PortDir::Source,
                    "--ports" => PortDir::Either,
                    _ => PortDir::Destination,
                };
                let list = need(&mut i, a)?;
                let mut ports = Vec::new();
                for w in list.split(',') {
                    ports.push(port_range(w)?);
                }
                // A range counts as two of the 15 ports.
                let slots: usize = ports.iter().map(|r| if r.lo == r.hi { 1 } else { 2 }).sum();
                if slots > 15 {
                    return Err(param("too many ports specified"));
                }
                p.spec.matches.push(Match::Multiport { dir, ports, inv });
            }
            "--mark" => {
                let v = need(&mut i, a)?;
                let (value, mask) =
                    mark_mask(&v).ok_or_else(|| param(format!("Bad mark value \"{v}\"")))?;
                p.spec.matches.push(Match::Mark { value, mask, inv });
            }
            "-j" | "--jump" => {
                let t = need(&mut i, a)?;
                p.target_name = Some(t);
            }
            "--set-mark" | "--set-xmark" | "--and-mark" | "--or-mark" | "--xor-mark" => {
                if p.target_name.as_deref() != Some("MARK") {
                    return Err(param(format!("unknown option \"{a}\"")));
                }
                if p.mark_target.is_some() {
                    return Err(param("MARK: Can't specify --set-xmark twice"));
                }
                let v = need(&mut i, a)?;
                let bad = || param(format!("MARK: Bad value for \"{a}\" option: \"{v}\""));
                let t = match a {
                    "--set-xmark" => mark_mask(&v).ok_or_else(bad)?,
                    "--set-mark" => {
                        let (m, k) = mark_mask(&v).ok_or_else(bad)?;
                        (m, m | k)
                    }
                    "--and-mark" => (0, !parse_u32(&v).ok_or_else(bad)?),
                    "--or-mark" => {
                        let m = parse_u32(&v).ok_or_else(bad)?;
                        (m, m)
                    }
                    _ => (parse_u32(&v).ok_or_else(bad)?, 0),
                };
                p.mark_target = Some(t);
            }
            s if s.starts_with('-') && !s.starts_with("--") && s.len() > 2 => {
                // Bundled short options: -nvL, -tmangle, -nL PREROUTING.
                let mut expanded: Vec<String> = Vec::new();
                let chars: Vec<char> = s[1..].chars().collect();
                for (k, c) in chars.iter().enumerate() {
                    if *c == 't' {
                        expanded.push("-t".into());
                        let rest: String = chars[k + 1..].iter().collect();
                        if !rest.is_empty() {
                            expanded.push(rest);
                        }
                        break;
                    }
                    expanded.push(format!("-{c}"));
                }
                let mut rest: Vec<String> = args[..i].to_vec();
                rest.extend(expanded);
                rest.extend(args[i + 1..].iter().cloned());
                if inv {
                    return Err(param("cannot have ! before -".to_string() + &s[1..2]));
                }
                return parse(&rest);
            }
            "-h" | "--help" => {
                return Err(Fail {
                    text: String::new(),
                    code: -1,
                })
            }
            "-V" | "--version" => {
                return Err(Fail {
                    text: String::new(),
                    code: -2,
                })
            }
            "-N" | "--new-chain" | "-X" | "--delete-chain" | "-E" | "--rename-chain" => {
                return Err(param(format!(
                    "{a}: user-defined chains are not part of this lab (its rules go straight in the built-in chains)"
                )))
            }
            other => {
                let o = if other.starts_with('-') {
                    other.to_string()
                } else {
                    return Err(param(format!("Bad argument `{other}'")));
                };
                return Err(param(format!("unknown option \"{o}\"")));
            }
        }
        i += 1;
    }
    if invert {
        return Err(param("Bad argument `!'"));
    }
    match p.target_name.as_deref() {
        None => {}
        Some("MARK") => match p.mark_target {
            Some((value, mask)) => p.spec.target = Some(Target::Mark { value, mask }),
            None => {
                return Err(param(
                    "MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required",
                ))
            }
        },
        Some("ACCEPT") => p.spec.target = Some(Target::Accept),
        Some("DROP") => p.spec.target = Some(Target::Drop),
        Some("RETURN") => p.spec.target = Some(Target::Return),
        // Reported once the table is known (`iptc_init()` comes first).
        Some(_) => p.unknown_target = true,
    }
    Ok(p)
}

/// One `-A CHAIN …` line of `iptables-save -t mangle` (how a real host's
/// rules come into a snapshot), through the same parser as the command.
pub fn parse_save_line(line: &str) -> Result<(Hook, RuleSpec), String> {
    let args: Vec<String> = line.split_whitespace().map(String::from).collect();
    let chain = match args.as_slice() {
        [a, c, ..] if a == "-A" => c.clone(),
        _ => return Err("not an `-A CHAIN` line".into()),
    };
    let hook = Hook::from_name(&chain).ok_or_else(|| format!("chain {chain} is not modelled"))?;
    let p = parse(&args).map_err(|f| f.text.lines().next().unwrap_or("").to_string())?;
    if p.unknown_target {
        return Err(format!(
            "target {} is not modelled",
            p.target_name.unwrap_or_default()
        ));
    }
    Ok((hook, p.spec))
}

const HELP: &str = "iptables v1.8.9 (legacy)

Usage: iptables -[ACD] chain rule-specification [options]
       iptables -I chain [rulenum] rule-specification [options]
       iptables -R chain rulenum rule-specification [options]
       iptables -D chain rulenum [options]
       iptables -[LS] [chain [rulenum]] [options]
       iptables -[FZ] [chain] [options]
       iptables -P chain target [options]
       iptables -h (print this help information)

This lab models the mangle table (iptables -t mangle …): matches -s -d -i -o
-p, --sport/--dport, -m multiport --dports/--sports/--ports, -m mark --mark;
targets MARK (--set-mark, --set-xmark, --and-mark, --or-mark, --xor-mark),
ACCEPT, DROP, RETURN. A MARK rule in PREROUTING is how packets reach an
ipvsadm -f (firewall mark) virtual service.
";

/// Run `iptables ARGS`.
pub fn iptables(lab: &mut Lab, host: &str, args: &[String], io: &mut Io) {
    let p = match parse(args) {
        Ok(p) => p,
        Err(f) if f.code == -1 => {
            io.out(HELP);
            return;
        }
        Err(f) if f.code == -2 => {
            io.outln(PROG);
            return;
        }
        Err(f) => {
            io.chunks.push((true, f.text));
            io.status = f.code;
            return;
        }
    };
    let table = p.table.clone().unwrap_or_else(|| "filter".into());
    if table != "mangle" {
        io.chunks.push((
            true,
            format!("{PROG}: can't initialize iptables table `{table}': Table does not exist (do you need to insmod?)\nPerhaps iptables or your kernel needs to be upgraded.\n"),
        ));
        io.status = 3;
        io.hint = Some((
            "This lab (like its VM kernel) has only the mangle table; fwmark services need `iptables -t mangle -A PREROUTING … -j MARK --set-mark N`.".to_string(),
            "本实验（与其 VM 内核一样）只有 mangle 表；防火墙标记服务需要 `iptables -t mangle -A PREROUTING … -j MARK --set-mark N`。".to_string(),
        ));
        return;
    }
    if p.unknown_target {
        io.chunks.push((
            true,
            "iptables: No chain/target/match by that name.\n".into(),
        ));
        io.status = 1;
        return;
    }
    let Some(cmd) = p.cmd else {
        io.chunks.push((
            true,
            format!("{PROG}: no command specified\nTry `iptables -h' or 'iptables --help' for more information.\n"),
        ));
        io.status = 2;
        return;
    };
    let hook = match p.chain.as_deref() {
        None => None,
        Some(c) => match Hook::from_name(c) {
            Some(h) => Some(h),
            None => {
                io.chunks.push((
                    true,
                    "iptables: No chain/target/match by that name.\n".into(),
                ));
                io.status = 1;
                return;
            }
        },
    };
    let Some(h) = lab.world.host_mut(host) else {
        return;
    };
    let m = &mut h.mangle;
    let rule_cmd = matches!(cmd, Cmd::Append | Cmd::Insert | Cmd::Replace | Cmd::Delete);
    let has_spec = p.spec != RuleSpec::default();
    if !rule_cmd && has_spec {
        io.chunks.push((
            true,
            format!(
                "{PROG}: Illegal option `-s' with this command\n\nTry `iptables -h' or 'iptables --help' for more information.\n"
            )
            .replace("`-s'", &format!("`-{}'", first_spec_letter(&p.spec))),
        ));
        io.status = 2;
        return;
    }
    let number = |s: &str| -> Result<usize, (String, i32)> {
        s.parse::<usize>().map_err(|_| {
            (
                format!("{PROG}: Invalid rule number `{s}'\nTry `iptables -h' or 'iptables --help' for more information.\n"),
                2,
            )
        })
    };
    let res: Result<(), (String, i32)> = match cmd {
        Cmd::List => {
            io.out(netfilter::list(m, hook, p.fmt));
            Ok(())
        }
        Cmd::ListRules => {
            io.out(netfilter::save_rules(m, hook));
            Ok(())
        }
        Cmd::Flush => {
            m.flush(hook);
            Ok(())
        }
        Cmd::Zero => {
            m.zero(hook);
            Ok(())
        }
        Cmd::Policy => match (hook, p.extra.as_deref()) {
            (Some(hk), Some("ACCEPT")) => {
                m.policy(hk, true);
                Ok(())
            }
            (Some(hk), Some("DROP")) => {
                m.policy(hk, false);
                Ok(())
            }
            _ => Err((
                "iptables: Bad policy name. Run `dmesg' for more information.\n".into(),
                1,
            )),
        },
        Cmd::Append | Cmd::Insert | Cmd::Replace | Cmd::Delete => {
            let hk = hook.expect("these commands take a chain");
            match cmd {
                Cmd::Append => {
                    m.append(hk, p.spec);
                    Ok(())
                }
                Cmd::Insert => {
                    let n = match p.extra.as_deref() {
                        Some(s) => number(s),
                        None => Ok(1),
                    };
                    n.and_then(|n| m.insert(hk, n, p.spec).map_err(|e| (format!("{e}\n"), 1)))
                }
                Cmd::Replace => number(p.extra.as_deref().unwrap_or(""))
                    .and_then(|n| m.replace(hk, n, p.spec).map_err(|e| (format!("{e}\n"), 1))),
                _ => match p.extra.as_deref() {
                    Some(s) if !has_spec => number(s)
                        .and_then(|n| m.delete_at(hk, n).map_err(|e| (format!("{e}\n"), 1))),
                    _ => m
                        .delete_spec(hk, &p.spec)
                        .map_err(|e| (format!("{e}\n"), 1)),
                },
            }
        }
    };
    if let Err((text, code)) = res {
        io.chunks.push((true, text));
        io.status = code;
    }
}

fn first_spec_letter(s: &RuleSpec) -> char {
    if s.src.is_some() {
        's'
    } else if s.dst.is_some() {
        'd'
    } else if s.in_if.is_some() {
        'i'
    } else if s.out_if.is_some() {
        'o'
    } else if s.proto.0 != 0 {
        'p'
    } else {
        'j'
    }
}

#[cfg(test)]
mod tests {
    use crate::shell::Lab;

    fn run(lab: &mut Lab, cmd: &str) -> (String, i32) {
        let o = lab.run("node01", cmd);
        (o.text, o.status)
    }

    #[test]
    fn the_command_line_as_iptables_reads_it() {
        let mut lab = Lab::new(crate::sim::scenario::bare());
        for ok in [
            "iptables -t mangle -A PREROUTING -d 192.168.150.100 -p tcp --dport 80 -j MARK --set-mark 1",
            "iptables -tmangle -I PREROUTING 1 ! -s 10.0.0.0/255.0.0.0 -i eth+ -p udp --sport 1:1023 -j MARK --or-mark 0x4",
            "iptables -t mangle -A PREROUTING -p tcp -m multiport --ports 80,8000:8100 -m mark ! --mark 0x4/0xf -j ACCEPT",
        ] {
            assert_eq!(run(&mut lab, ok), (String::new(), 0), "{ok}");
        }
        let (l, _) = run(
            &mut lab,
            "iptables -t mangle -nvL PREROUTING --line-numbers",
        );
        assert!(l.contains("1        0     0 MARK       17   --  eth+   *      !10.0.0.0/8           0.0.0.0/0            udp spts:1:1023 MARK or 0x4\n"), "{l}");
        let (s, _) = run(&mut lab, "iptables -t mangle -S PREROUTING");
        assert_eq!(
            s,
            "-P PREROUTING ACCEPT\n\
-A PREROUTING ! -s 10.0.0.0/8 -i eth+ -p udp -m udp --sport 1:1023 -j MARK --set-xmark 0x4/0x4\n\
-A PREROUTING -d 192.168.150.100/32 -p tcp -m tcp --dport 80 -j MARK --set-xmark 0x1/0xffffffff\n\
-A PREROUTING -p tcp -m multiport --ports 80,8000:8100 -m mark ! --mark 0x4/0xf -j ACCEPT\n"
        );
        // Delete by spec, then by number.
        assert_eq!(
            run(&mut lab, "iptables -t mangle -D PREROUTING -d 192.168.150.100 -p tcp --dport 80 -j MARK --set-mark 1").1,
            0
        );
        assert_eq!(run(&mut lab, "iptables -t mangle -D PREROUTING 2").1, 0);
        let (s, _) = run(&mut lab, "iptables -t mangle -S");
        assert_eq!(s.lines().filter(|l| l.starts_with("-A")).count(), 1);
    }

    #[test]
    fn bad_input_gets_iptables_errors_and_changes_nothing() {
        let mut lab = Lab::new(crate::sim::scenario::bare());
        let try_line = "\nTry `iptables -h' or 'iptables --help' for more information.\n";
        for (cmd, text, code) in [
            ("iptables -t mangle -A PREROUTING --dport 80 -j MARK --set-mark 1", "iptables v1.8.9 (legacy): unknown option \"--dport\"", 2),
            ("iptables -t mangle -A PREROUTING -j MARK", "iptables v1.8.9 (legacy): MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required", 2),
            ("iptables -t mangle -A PREROUTING -d 1.2.3 -j ACCEPT", "iptables v1.8.9 (legacy): host/network `1.2.3' not found", 2),
            ("iptables -t mangle -A PREROUTING -p tcp --dport 99999 -j ACCEPT", "iptables v1.8.9 (legacy): invalid port/service `99999' specified", 2),
        ] {
            assert_eq!(run(&mut lab, cmd), (format!("{text}{try_line}"), code), "{cmd}");
        }
        for (cmd, text, code) in [
            ("iptables -t mangle -D PREROUTING 1", "iptables: Index of deletion too big.\n", 1),
            ("iptables -t mangle -A NOPE -j ACCEPT", "iptables: No chain/target/match by that name.\n", 1),
            ("iptables -t mangle -A PREROUTING -j DNAT", "iptables: No chain/target/match by that name.\n", 1),
            ("iptables -A INPUT -j ACCEPT", "iptables v1.8.9 (legacy): can't initialize iptables table `filter': Table does not exist (do you need to insmod?)\nPerhaps iptables or your kernel needs to be upgraded.\n", 3),
        ] {
            assert_eq!(run(&mut lab, cmd), (text.to_string(), code), "{cmd}");
        }
        assert!(lab.run("node01", "iptables -L").hint.is_some());
        // The exit status reaches the shell's `$?`, within a line and on the next.
        let (t, _) = run(&mut lab, "iptables -t mangle -D PREROUTING 9; echo rc=$?");
        assert!(t.ends_with("rc=1\n"), "{t}");
        assert_eq!(
            run(&mut lab, "iptables -t mangle -Q"),
            (
                format!("iptables v1.8.9 (legacy): unknown option \"-Q\"{try_line}"),
                2
            )
        );
        assert_eq!(run(&mut lab, "echo $?").0, "2\n");
        let (s, _) = run(&mut lab, "iptables -t mangle -S");
        assert!(!s.contains("-A "), "nothing was added: {s}");
    }
}
