//! Files the lab shell knows: `/proc/sys/net/ipv4/...` (the sysctls of the
//! host, see `crate::net::ipv4::devconf`), a few fixed directories, and plain files the
//! user writes (kept per host). Error texts are bash's and coreutils'.

use super::{Io, Lab};

/// Directories that exist on every lab host besides /proc/sys.
pub(super) const DIRS: &[&str] = &[
    "/",
    "/root",
    "/tmp",
    "/etc",
    "/var",
    "/var/www",
    "/var/www/html",
    "/proc",
    "/dev",
    "/usr",
    "/usr/bin",
];

/// Resolve `path` against `cwd` into an absolute, normalised path.
pub fn resolve(cwd: &str, path: &str) -> String {
    let joined = if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{cwd}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            x => parts.push(x),
        }
    }
    format!("/{}", parts.join("/"))
}

/// What a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir,
    /// `/proc/net/ip_vs` or `/proc/net/ip_vs_conn`, generated on read.
    ProcNet(&'static str),
    /// A sysctl: (scope, knob) under conf/, or ("", "ip_forward").
    Sysctl {
        scope: String,
        knob: String,
    },
    File,
    Missing,
}

pub fn lookup(lab: &Lab, host: &str, abs: &str) -> Node {
    if DIRS.contains(&abs) {
        return Node::Dir;
    }
    if abs == "/proc/net" {
        return Node::Dir;
    }
    if abs == "/proc/net/ip_vs" || abs == "/proc/net/ip_vs_conn" {
        let loaded = lab.world.host(host).is_some_and(|h| h.ipvs.loaded);
        if loaded {
            return Node::ProcNet(if abs.ends_with("conn") {
                "ip_vs_conn"
            } else {
                "ip_vs"
            });
        }
        return Node::Missing;
    }
    if let Some(rest) = abs.strip_prefix("/proc/sys") {
        return proc_sys_node(lab, host, rest);
    }
    if lab
        .world
        .host(host)
        .is_some_and(|h| h.files.contains_key(abs))
    {
        return Node::File;
    }
    if abs == "/dev/null" {
        return Node::File;
    }
    Node::Missing
}

fn proc_sys_node(lab: &Lab, host: &str, rest: &str) -> Node {
    let Some(h) = lab.world.host(host) else {
        return Node::Missing;
    };
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [] | ["net"] | ["net", "ipv4"] | ["net", "ipv4", "conf"] => Node::Dir,
        ["net", "ipv4", "ip_forward"] => Node::Sysctl {
            scope: String::new(),
            knob: "ip_forward".into(),
        },
        ["net", "ipv4", "ip_default_ttl"] => Node::Sysctl {
            scope: String::new(),
            knob: "ip_default_ttl".into(),
        },
        ["net", "ipv4", "conf", scope] if h.sysctl.conf.contains_key(*scope) => Node::Dir,
        ["net", "ipv4", "conf", scope, knob] if h.sysctl.get(scope, knob).is_some() => {
            Node::Sysctl {
                scope: scope.to_string(),
                knob: knob.to_string(),
            }
        }
        _ => Node::Missing,
    }
}

pub fn read_sysctl(lab: &Lab, host: &str, scope: &str, knob: &str) -> Option<i64> {
    let h = lab.world.host(host)?;
    if knob == "ip_forward" && scope.is_empty() {
        return Some(h.sysctl.ip_forward());
    }
    if knob == "ip_default_ttl" && scope.is_empty() {
        return Some(h.sysctl.ip_default_ttl);
    }
    h.sysctl.get(scope, knob)
}

/// Parse an integer as the kernel's `proc_dointvec` does (leading
/// whitespace, optional sign, digits, trailing whitespace/newline).
pub fn parse_proc_int(s: &str) -> Option<i64> {
    let t = s.trim();
    let v: i64 = t.parse().ok()?;
    if v < i64::from(i32::MIN) || v > i64::from(i32::MAX) {
        return None;
    }
    Some(v)
}

/// Write a sysctl, validating first. Err is the errno text.
pub fn write_sysctl(
    lab: &mut Lab,
    host: &str,
    scope: &str,
    knob: &str,
    text: &str,
) -> Result<(), &'static str> {
    let v = parse_proc_int(text).ok_or("Invalid argument")?;
    let h = lab
        .world
        .host_mut(host)
        .ok_or("No such file or directory")?;
    if knob == "ip_forward" && scope.is_empty() {
        h.sysctl.set_ip_forward(v);
        return Ok(());
    }
    if knob == "ip_default_ttl" && scope.is_empty() {
        // proc_dointvec_minmax over 1..255 (ip_ttl_min/ip_ttl_max).
        if !(1..=255).contains(&v) {
            return Err("Invalid argument");
        }
        h.sysctl.ip_default_ttl = v;
        return Ok(());
    }
    h.sysctl.set(scope, knob, v).map_err(|e| match e {
        crate::net::ipv4::devconf::SysctlError::NoEntry => "No such file or directory",
        crate::net::ipv4::devconf::SysctlError::Invalid => "Invalid argument",
    })
}

pub enum WriteError {
    /// `bash: MSG` (opening the file failed).
    Shell(String),
    /// `bash: echo: write error: MSG`.
    Echo(String),
}

/// bash's `> /dev/udp/HOST/PORT` (and `>>`): bash itself opens a UDP
/// socket connected to HOST:PORT (no such file exists); what the command
/// writes leaves as one datagram. HOST is an IPv4 address here (no name
/// resolution in the lab); errors are bash's: the lookup failure, then the
/// path with the reason.
fn write_dev_udp(
    lab: &mut Lab,
    host: &str,
    path: &str,
    rest: &str,
    data: &str,
) -> Result<(), WriteError> {
    let (h, p) = rest.split_once('/').unwrap_or((rest, ""));
    let Ok(dst) = h.parse::<std::net::Ipv4Addr>() else {
        return Err(WriteError::Shell(format!(
            "{h}: Name or service not known\nbash: {path}: Invalid argument"
        )));
    };
    let Ok(port) = p.parse::<u16>() else {
        return Err(WriteError::Shell(format!(
            "{p}: Servname not supported for ai_socktype\nbash: {path}: Invalid argument"
        )));
    };
    if data.is_empty() {
        return Ok(());
    }
    lab.world
        .udp_send(host, dst, port, data.as_bytes().to_vec())
        .map(|_| ())
        .map_err(|e| WriteError::Shell(format!("connect: {e}\nbash: {path}: {e}")))
}

/// `> path` / `>> path`.
pub fn write_file(
    lab: &mut Lab,
    host: &str,
    path: &str,
    data: &str,
    append: bool,
) -> Result<(), WriteError> {
    if let Some(rest) = path.strip_prefix("/dev/udp/") {
        return write_dev_udp(lab, host, path, rest, data);
    }
    let abs = resolve(&lab.cwd(host), path);
    match lookup(lab, host, &abs) {
        Node::Dir => Err(WriteError::Shell(format!("{path}: Is a directory"))),
        Node::ProcNet(_) => Err(WriteError::Shell(format!("{path}: Permission denied"))),
        Node::Sysctl { scope, knob } => {
            write_sysctl(lab, host, &scope, &knob, data).map_err(|e| WriteError::Echo(e.into()))
        }
        Node::File if abs == "/dev/null" => Ok(()),
        Node::File | Node::Missing => {
            if abs.starts_with("/proc") {
                return Err(WriteError::Shell(format!(
                    "{path}: No such file or directory"
                )));
            }
            let parent = match abs.rfind('/') {
                Some(0) => "/".to_string(),
                Some(i) => abs[..i].to_string(),
                None => "/".to_string(),
            };
            if lookup(lab, host, &parent) != Node::Dir {
                return Err(WriteError::Shell(format!(
                    "{path}: No such file or directory"
                )));
            }
            let Some(h) = lab.world.host_mut(host) else {
                return Err(WriteError::Shell(format!(
                    "{path}: No such file or directory"
                )));
            };
            let e = h.files.entry(abs.clone()).or_default();
            if !append {
                e.clear();
            }
            e.push_str(data);
            let now = lab.world.now;
            lab.file_times
                .entry(host.to_string())
                .or_default()
                .insert(abs, now);
            Ok(())
        }
    }
}

pub fn cd(lab: &mut Lab, host: &str, args: &[String], io: &mut Io) {
    let target = args.first().map(String::as_str).unwrap_or("/root");
    if args.len() > 1 {
        io.errln("bash: cd: too many arguments");
        io.status = 1;
        return;
    }
    let abs = resolve(&lab.cwd(host), target);
    match lookup(lab, host, &abs) {
        Node::Dir => {
            lab.cwd.insert(host.to_string(), abs);
        }
        Node::Missing => {
            io.errln(format!("bash: cd: {target}: No such file or directory"));
            io.status = 1;
        }
        _ => {
            io.errln(format!("bash: cd: {target}: Not a directory"));
            io.status = 1;
        }
    }
}

pub fn echo(args: &[String], io: &mut Io) {
    let (newline, args) = match args.first().map(String::as_str) {
        Some("-n") => (false, &args[1..]),
        _ => (true, args),
    };
    let mut s = args.join(" ");
    if newline {
        s.push('\n');
    }
    io.out(s);
}

/// Why a path could not be read as a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    IsDir,
    Missing,
}

/// A file's contents as a program reads them: the lab's files, `/dev/null`,
/// a sysctl's value, `/proc/net/ip_vs*` generated now.
pub fn read(lab: &Lab, host: &str, path: &str) -> Result<String, ReadError> {
    let abs = resolve(&lab.cwd(host), path);
    match lookup(lab, host, &abs) {
        Node::Dir => Err(ReadError::IsDir),
        Node::Missing => Err(ReadError::Missing),
        Node::Sysctl { scope, knob } => Ok(read_sysctl(lab, host, &scope, &knob)
            .map(|v| format!("{v}\n"))
            .unwrap_or_default()),
        Node::ProcNet(which) => Ok(lab.world.host(host).map_or(String::new(), |h| {
            if which == "ip_vs" {
                crate::net::netfilter::ipvs::proc_ip_vs(&h.ipvs)
            } else {
                crate::net::netfilter::ipvs::proc_ip_vs_conn(&h.ipvs, lab.world.now)
            }
        })),
        Node::File => Ok(lab
            .world
            .host(host)
            .and_then(|h| h.files.get(&abs))
            .cloned()
            .unwrap_or_default()),
    }
}

pub fn cat(lab: &Lab, host: &str, args: &[String], input: Option<String>, io: &mut Io) {
    if args.is_empty() {
        io.out(input.unwrap_or_default());
        return;
    }
    for a in args {
        match read(lab, host, a) {
            Ok(t) => io.out(t),
            Err(ReadError::IsDir) => {
                io.errln(format!("cat: {a}: Is a directory"));
                io.status = 1;
            }
            Err(ReadError::Missing) => {
                io.errln(format!("cat: {a}: No such file or directory"));
                io.status = 1;
            }
        }
    }
}

/// The text filters a pipeline may end in.
pub fn filter(cmd: &str, args: &[String], input: String, io: &mut Io) {
    let lines: Vec<&str> = input.lines().collect();
    let emit = |io: &mut Io, ls: &[&str]| {
        for l in ls {
            io.outln(*l);
        }
    };
    match cmd {
        "head" | "tail" => {
            let mut n = 10usize;
            let mut it = args.iter();
            while let Some(a) = it.next() {
                if a == "-n" {
                    n = it.next().and_then(|v| v.parse().ok()).unwrap_or(10);
                } else if let Some(v) = a.strip_prefix('-') {
                    n = v.parse().unwrap_or(10);
                }
            }
            if cmd == "head" {
                emit(io, &lines[..n.min(lines.len())]);
            } else {
                emit(io, &lines[lines.len().saturating_sub(n)..]);
            }
        }
        "sort" => sort(args, lines, io),
        "wc" => wc(args, &input, io),
        _ => {}
    }
}

/// The option letters of a coreutils filter that reads only its pipe in
/// the lab: getopt's errors as coreutils prints them (exit `status`), file
/// operands refused with a note.
fn pipe_options(
    tool: &str,
    args: &[String],
    optstring: &str,
    status: i32,
    io: &mut Io,
) -> Option<Vec<char>> {
    match crate::tools::libc::getopt(args, optstring) {
        Ok(g) if g.operands.is_empty() => Some(g.opts.into_iter().map(|(c, _)| c).collect()),
        Ok(_) => {
            io.errln(format!(
                "lvslab: {tool} reads a pipe in this lab (no file operands)"
            ));
            io.status = status;
            None
        }
        Err(e) => {
            io.errln(format!("{tool}: {e}"));
            io.errln(format!("Try '{tool} --help' for more information."));
            io.status = status;
            None
        }
    }
}

/// `sort` (GNU coreutils 9.1) in the C locale: bytewise, `-r`, `-n`
/// (leading number, lines without one as 0, ties bytewise), `-u`.
fn sort(args: &[String], mut lines: Vec<&str>, io: &mut Io) {
    let Some(opts) = pipe_options("sort", args, "nru", 2, io) else {
        return;
    };
    let has = |c: char| opts.contains(&c);
    let (numeric, reverse, unique) = (has('n'), has('r'), has('u'));
    let key = |l: &str| -> f64 {
        let t = l.trim_start();
        let end = t
            .char_indices()
            .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && c == '-')))
            .map_or(t.len(), |(i, _)| i);
        t[..end].parse().unwrap_or(0.0)
    };
    let cmp = |a: &&str, b: &&str| {
        if numeric {
            key(a).total_cmp(&key(b))
        } else {
            a.as_bytes().cmp(b.as_bytes())
        }
    };
    // GNU sort's last resort is the whole line, bytewise (not with -u).
    lines.sort_by(|a, b| {
        let o = cmp(a, b);
        if unique {
            o
        } else {
            o.then_with(|| a.as_bytes().cmp(b.as_bytes()))
        }
    });
    if reverse {
        lines.reverse();
    }
    if unique {
        lines.dedup_by(|a, b| cmp(&&**a, &&**b) == std::cmp::Ordering::Equal);
    }
    for l in lines {
        io.outln(l);
    }
}

/// `wc` (GNU coreutils 9.1) on a pipe: lines, words, characters, bytes,
/// longest line, in that order, for the counts asked (`-l -w -m -c -L`;
/// none is `-lwc`); one count is printed bare, several in columns of 7.
fn wc(args: &[String], input: &str, io: &mut Io) {
    let Some(opts) = pipe_options("wc", args, "clLmw", 1, io) else {
        return;
    };
    let has = |c: char| opts.contains(&c);
    let none = opts.is_empty();
    let counts = [
        (has('l') || none).then(|| input.bytes().filter(|&b| b == b'\n').count()),
        (has('w') || none).then(|| input.split_ascii_whitespace().count()),
        has('m').then(|| input.chars().count()),
        (has('c') || none).then_some(input.len()),
        has('L').then(|| input.lines().map(|l| l.chars().count()).max().unwrap_or(0)),
    ];
    let shown: Vec<usize> = counts.into_iter().flatten().collect();
    let text: Vec<String> = if shown.len() == 1 {
        vec![shown[0].to_string()]
    } else {
        shown.iter().map(|n| format!("{n:>7}")).collect()
    };
    io.outln(text.join(" "));
}

/// `seq [FIRST] LAST` (coreutils).
/// The most numbers `seq` prints in the lab.
pub const SEQ_MAX: i64 = 100_000;

pub fn seq(args: &[String], io: &mut Io) {
    let nums: Vec<Option<i64>> = args.iter().map(|a| a.parse().ok()).collect();
    let (a, b) = match nums.as_slice() {
        [Some(b)] => (1, *b),
        [Some(a), Some(b)] => (*a, *b),
        _ => {
            io.errln(format!(
                "seq: invalid floating point argument: '{}'",
                args.first().map(String::as_str).unwrap_or("")
            ));
            io.errln("Try 'seq --help' for more information.");
            io.status = 1;
            return;
        }
    };
    // Past the lab's bound (far above any loop a lab needs) the output
    // alone would be megabytes in a browser tab.
    if i128::from(b) - i128::from(a) >= i128::from(SEQ_MAX) {
        io.errln(format!(
            "lvslab: seq stops at {SEQ_MAX} numbers in this lab (asked for {a}..{b})"
        ));
        io.status = 1;
        return;
    }
    let mut s = String::new();
    for n in a..=b {
        s.push_str(&n.to_string());
        s.push('\n');
    }
    io.out(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_relative_and_dotdot() {
        assert_eq!(
            resolve("/proc/sys/net/ipv4/conf/eth0", "../all"),
            "/proc/sys/net/ipv4/conf/all"
        );
        assert_eq!(resolve("/root", "arp_ignore"), "/root/arp_ignore");
        assert_eq!(resolve("/a/b", "/x/./y/../z"), "/x/z");
        assert_eq!(resolve("/", ".."), "/");
        assert_eq!(parse_proc_int(" 2\n"), Some(2));
        assert_eq!(parse_proc_int("abc"), None);
    }
}
