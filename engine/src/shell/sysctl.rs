//! `sysctl` as procps-ng 4.0.2 prints it.
//!
//! Keys use dots or slashes; `KEY=VALUE` arguments write (with or without
//! `-w`), others read. `-n` prints values only, `-q` silences writes, `-a`
//! lists every key (the ones this lab models), sorted.

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

pub fn sysctl(lab: &mut Lab, host: &str, args: &[String], io: &mut Io) {
    let mut write_mode = false;
    let mut values_only = false;
    let mut quiet = false;
    let mut all = false;
    let mut items: Vec<&str> = Vec::new();
    for a in args {
        match a.as_str() {
            "-w" | "--write" => write_mode = true,
            "-n" | "--values" => values_only = true,
            "-q" | "--quiet" => quiet = true,
            "-a" | "-A" | "-X" | "--all" => all = true,
            "-e" | "--ignore" => {}
            "-V" | "--version" => {
                io.outln("sysctl from procps-ng 4.0.2");
                return;
            }
            s if s.starts_with('-') && s.len() > 1 && !s.contains('=') => {
                // Combined short flags like -qw.
                let mut ok = true;
                for c in s[1..].chars() {
                    match c {
                        'w' => write_mode = true,
                        'n' => values_only = true,
                        'q' => quiet = true,
                        'a' | 'A' | 'X' => all = true,
                        'e' => {}
                        _ => ok = false,
                    }
                }
                if !ok {
                    io.errln(format!(
                        "sysctl: invalid option -- '{}'",
                        s.trim_start_matches('-')
                            .chars()
                            .find(|c| !"wnqaAXe".contains(*c))
                            .unwrap_or('?')
                    ));
                    io.errln("Try 'sysctl --help' for more information.");
                    io.status = 255;
                    return;
                }
            }
            s => items.push(s),
        }
    }
    if all {
        list_all(lab, host, values_only, io);
        return;
    }
    if items.is_empty() {
        io.errln("sysctl: no variables specified");
        io.errln("Try `sysctl --help' for more information.");
        io.status = 255;
        return;
    }
    // Validate every write first, so nothing is half-applied on bad syntax.
    if write_mode && items.iter().any(|i| !i.contains('=')) {
        io.errln("sysctl: command line(0): invalid syntax, continuing...");
        io.status = 255;
        return;
    }
    for item in items {
        if let Some((k, v)) = item.split_once('=') {
            let k = k.trim();
            let v = v.trim();
            let key = path_to_key(k);
            let path = format!("/proc/sys/{}", key_to_path(k));
            let Some((scope, knob)) =
                locate(k).filter(|(s, kn)| read_sysctl(lab, host, s, kn).is_some())
            else {
                io.errln(format!(
                    "sysctl: cannot stat {path}: No such file or directory"
                ));
                io.status = 255;
                continue;
            };
            match write_sysctl(lab, host, &scope, &knob, v) {
                Ok(()) => {
                    if !quiet {
                        if values_only {
                            io.outln(v);
                        } else {
                            io.outln(format!("{key} = {v}"));
                        }
                    }
                }
                Err(e) => {
                    io.errln(format!("sysctl: setting key \"{key}\": {e}"));
                    io.status = 255;
                }
            }
        } else {
            let key = path_to_key(item);
            let path = format!("/proc/sys/{}", key_to_path(item));
            match locate(item).and_then(|(s, k)| read_sysctl(lab, host, &s, &k)) {
                Some(v) => {
                    if values_only {
                        io.outln(v.to_string());
                    } else {
                        io.outln(format!("{key} = {v}"));
                    }
                }
                None => {
                    io.errln(format!(
                        "sysctl: cannot stat {path}: No such file or directory"
                    ));
                    io.status = 255;
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
