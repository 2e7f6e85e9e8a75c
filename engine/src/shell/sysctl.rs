//! `sysctl` as procps-ng 4.0.2 prints it.
//!
//! Keys use dots or slashes; `KEY=VALUE` arguments write (with or without
//! `-w`), others read. `-n` prints values only, `-N` names only, `-b`
//! values without a newline, `-q` silences writes, `-e` ignores unknown
//! keys, `-a` lists every key (the ones this lab models), sorted; every
//! error exits 1. Not modelled: `-p`/`--system` (no sysctl.conf files),
//! `-r`, `--dry-run`, `--deprecated`.

use super::fs::{read_sysctl, write_sysctl};
use super::{Io, Lab};

fn key_to_path(key: &str) -> String {
    key.replace('.', "/")
}

fn path_to_key(p: &str) -> String {
    p.replace('/', ".")
}

/// Split `net.ipv4.conf.eth0.arp_ignore` into (scope, knob) for our tree.
fn locate(key: &str) -> Option<(String, String)> {
    let path = key_to_path(key);
    let parts: Vec<&str> = path.split('/').collect();
    match parts.as_slice() {
        ["net", "ipv4", "ip_forward"] => Some((String::new(), "ip_forward".into())),
        ["net", "ipv4", "ip_default_ttl"] => Some((String::new(), "ip_default_ttl".into())),
        ["net", "ipv4", "conf", scope, knob] => Some((scope.to_string(), knob.to_string())),
        _ => None,
    }
}

/// procps' Usage(): to stderr with exit 1 when no variable is given, to
/// stdout with exit 0 after getopt's "invalid option" (as 4.0.2 does).
const USAGE: &str = include_str!("sysctl-usage.txt");

/// How a key is printed: `-n` values only, `-N` names only, `-b` the value
/// without its newline.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Print {
    Both,
    Values,
    Names,
    Binary,
}

pub fn sysctl(lab: &mut Lab, host: &str, args: &[String], io: &mut Io) {
    let mut write_mode = false;
    let mut print = Print::Both;
    let mut quiet = false;
    let mut ignore = false;
    let mut all = false;
    let mut items: Vec<&str> = Vec::new();
    for a in args {
        match a.as_str() {
            "-w" | "--write" => write_mode = true,
            "-n" | "--values" => print = Print::Values,
            "-N" | "--names" => print = Print::Names,
            "-b" | "--binary" => print = Print::Binary,
            "-q" | "--quiet" => quiet = true,
            "-a" | "-A" | "-X" | "--all" => all = true,
            "-e" | "--ignore" => ignore = true,
            "-V" | "--version" => {
                io.outln("sysctl from procps-ng 4.0.2");
                return;
            }
            "-h" | "-d" | "--help" => {
                io.out(USAGE);
                return;
            }
            s if s.starts_with('-') && s.len() > 1 && !s.contains('=') && !s.starts_with("--") => {
                // Short options may be grouped (-qw).
                for c in s[1..].chars() {
                    match c {
                        'w' => write_mode = true,
                        'n' => print = Print::Values,
                        'N' => print = Print::Names,
                        'b' => print = Print::Binary,
                        'q' => quiet = true,
                        'a' | 'A' | 'X' => all = true,
                        'e' => ignore = true,
                        'o' | 'x' => {}
                        'h' | 'd' => {
                            io.out(USAGE);
                            return;
                        }
                        other => {
                            io.errln(format!("sysctl: invalid option -- '{other}'"));
                            io.out(USAGE);
                            return;
                        }
                    }
                }
            }
            s => items.push(s),
        }
    }
    if all {
        list_all(lab, host, print == Print::Values, io);
        return;
    }
    if items.is_empty() {
        if args.is_empty() {
            io.err(USAGE);
        } else {
            io.errln("sysctl: no variables specified");
            io.errln("Try `sysctl --help' for more information.");
        }
        io.status = 1;
        return;
    }
    // Validate every write first, so nothing is half-applied on bad syntax.
    if write_mode && items.iter().any(|i| !i.contains('=')) {
        io.errln("sysctl: command line(0): invalid syntax, continuing...");
        io.status = 1;
        return;
    }
    let show = |io: &mut Io, key: &str, v: &str| match print {
        Print::Both => io.outln(format!("{key} = {v}")),
        Print::Values => io.outln(v),
        Print::Names => io.outln(key),
        Print::Binary => io.out(v),
    };
    for item in items {
        if let Some((k, v)) = item.split_once('=') {
            let k = k.trim();
            let v = v.trim();
            let key = path_to_key(k);
            let path = format!("/proc/sys/{}", key_to_path(k));
            let Some((scope, knob)) =
                locate(k).filter(|(s, kn)| read_sysctl(lab, host, s, kn).is_some())
            else {
                if !ignore {
                    io.errln(format!(
                        "sysctl: cannot stat {path}: No such file or directory"
                    ));
                    io.status = 1;
                }
                continue;
            };
            match write_sysctl(lab, host, &scope, &knob, v) {
                Ok(()) => {
                    if !quiet {
                        show(io, &key, v);
                    }
                }
                Err(e) => {
                    io.errln(format!("sysctl: setting key \"{key}\": {e}"));
                    io.status = 1;
                }
            }
        } else {
            let key = path_to_key(item);
            let path = format!("/proc/sys/{}", key_to_path(item));
            match locate(item).and_then(|(s, k)| read_sysctl(lab, host, &s, &k)) {
                Some(v) => show(io, &key, &v.to_string()),
                None if ignore => {}
                None => {
                    io.errln(format!(
                        "sysctl: cannot stat {path}: No such file or directory"
                    ));
                    io.status = 1;
                }
            }
        }
    }
}

fn list_all(lab: &Lab, host: &str, values_only: bool, io: &mut Io) {
    let Some(h) = lab.world.host(host) else {
        return;
    };
    let mut keys: Vec<(String, i64)> = Vec::new();
    for (scope, conf) in &h.sysctl.conf {
        for (knob, v) in conf.iter() {
            keys.push((format!("net.ipv4.conf.{scope}.{knob}"), v));
        }
    }
    keys.push(("net.ipv4.ip_forward".into(), h.sysctl.ip_forward()));
    keys.push(("net.ipv4.ip_default_ttl".into(), h.sysctl.ip_default_ttl));
    keys.sort();
    for (k, v) in keys {
        if values_only {
            io.outln(v.to_string());
        } else {
            io.outln(format!("{k} = {v}"));
        }
    }
}
