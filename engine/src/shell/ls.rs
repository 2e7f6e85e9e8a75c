//! `ls` (GNU coreutils 9.1, Debian 12) over the lab's small filesystem
//! (`super::fs`): the fixed directories, `/proc/sys/net/ipv4` as far as the
//! sysctls are modelled (`conf/all|default|DEV/…` with the knobs of
//! `crate::net::ipv4::devconf`, `ip_forward`, `ip_default_ttl`),
//! `/proc/net/ip_vs*` while IPVS is loaded, and the files the student
//! wrote.
//!
//! What coreutils does and we reproduce: operands that do not exist are
//! reported first (`ls: cannot access 'X': No such file or directory`,
//! status 2), then the other non-directories, then each directory's
//! entries (headed `DIR:` when there was more than one operand), sorted
//! bytewise (the C locale). `-a` adds `.` and `..` and hidden names, `-A`
//! only the hidden names, `-d` lists directories themselves, `-1` one name
//! a line, `-C` columns, `-l` the long form (`total` in 1 KiB blocks, mode,
//! links, owner, group, size, `%b %e %H:%M`). Without `-1`/`-C`/`-l`, ls
//! prints columns when its output is a terminal and one name a line
//! otherwise (a pipe or a file). Columns are laid out as
//! `calculate_columns()` does: as many columns as fit in 80 characters
//! (the lab's terminal is at least that wide; ls without a terminal
//! assumes 80), filled down first, padded with tabs at stops of 8.
//!
//! Times: the kernel makes a /proc inode when it is first looked up, and
//! the lab's are all there from its start (the wall clock's 09:00); a file
//! the student wrote has the time of its last write. Not modelled: the
//! many other files of a real system (`/etc`, `/usr/bin`, the 26 other
//! knobs of each conf/DEV), colours, `-h`'s suffixes beyond bytes, `-t`
//! and `-R`.

use super::fs::{self, Node};
use super::{Io, Lab};
use crate::time::{SimTime, WallClock};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Hidden {
    #[default]
    None,
    /// `-A`: hidden names, not `.` and `..`.
    Almost,
    /// `-a`
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// Columns on a terminal, one a line otherwise.
    Default,
    OnePerLine,
    Columns,
    Long,
}

#[derive(Debug, Clone, Copy)]
struct Opts {
    hidden: Hidden,
    format: Format,
    directory: bool,
}

/// What an entry is, for `-l`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A directory of a disk filesystem: mode, its subdirectories.
    Dir { mode: &'static str, subdirs: usize },
    /// A directory of procfs (`dr-xr-xr-x`, one link, size 0).
    ProcDir,
    /// A procfs file (`-rw-r--r--` or `-r--r--r--`, size 0).
    ProcFile { writable: bool },
    /// A plain file of `len` bytes.
    File { len: usize },
    /// `/dev/null`: character device 1, 3.
    DevNull,
}

struct Entry {
    name: String,
    kind: Kind,
    mtime: SimTime,
}

fn parse(args: &[String]) -> Result<(Opts, Vec<String>), String> {
    let mut o = Opts {
        hidden: Hidden::None,
        format: Format::Default,
        directory: false,
    };
    let mut operands = Vec::new();
    let mut only_operands = false;
    for a in args {
        if only_operands || a == "-" || !a.starts_with('-') {
            operands.push(a.clone());
            continue;
        }
        if a == "--" {
            only_operands = true;
            continue;
        }
        if let Some(long) = a.strip_prefix("--") {
            match long {
                "all" => o.hidden = Hidden::All,
                "almost-all" => o.hidden = Hidden::Almost,
                "directory" => o.directory = true,
                _ => return Err(format!("ls: unrecognized option '{a}'")),
            }
            continue;
        }
        for c in a[1..].chars() {
            match c {
                'a' => o.hidden = Hidden::All,
                'A' => {
                    if o.hidden != Hidden::All {
                        o.hidden = Hidden::Almost
                    }
                }
                'l' => o.format = Format::Long,
                '1' => o.format = Format::OnePerLine,
                'C' => o.format = Format::Columns,
                'd' => o.directory = true,
                'h' | 'n' => {}
                other => return Err(format!("ls: invalid option -- '{other}'")),
            }
        }
    }
    if operands.is_empty() {
        operands.push(".".into());
    }
    Ok((o, operands))
}

fn parent(abs: &str) -> String {
    match abs.rfind('/') {
        Some(0) | None => "/".into(),
        Some(i) => abs[..i].into(),
    }
}

fn base(abs: &str) -> &str {
    abs.rsplit('/').next().unwrap_or(abs)
}

fn kind_of(lab: &Lab, host: &str, abs: &str) -> Option<Kind> {
    Some(match fs::lookup(lab, host, abs) {
        Node::Missing => return None,
        Node::Dir if abs == "/proc" || abs.starts_with("/proc/") => Kind::ProcDir,
        Node::Dir => Kind::Dir {
            mode: match abs {
                "/root" => "drwx------",
                "/tmp" => "drwxrwxrwt",
                _ => "drwxr-xr-x",
            },
            subdirs: children(lab, host, abs)
                .iter()
                .filter(|c| matches!(kind_of(lab, host, &join(abs, c)), Some(Kind::Dir { .. })))
                .count(),
        },
        Node::ProcNet(_) => Kind::ProcFile { writable: false },
        Node::Sysctl { .. } => Kind::ProcFile { writable: true },
        Node::File if abs == "/dev/null" => Kind::DevNull,
        Node::File => Kind::File {
            len: lab
                .world
                .host(host)
                .and_then(|h| h.files.get(abs))
                .map_or(0, String::len),
        },
    })
}

fn join(dir: &str, name: &str) -> String {
    if dir == "/" {
        format!("/{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// The names in directory `abs` (unsorted).
fn children(lab: &Lab, host: &str, abs: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::DIRS
        .iter()
        .filter(|d| **d != "/" && parent(d) == abs)
        .map(|d| base(d).to_string())
        .collect();
    let Some(h) = lab.world.host(host) else {
        return names;
    };
    names.extend(
        h.files
            .keys()
            .filter(|f| parent(f) == abs)
            .map(|f| base(f).to_string()),
    );
    let fixed: &[&str] = match abs {
        "/proc" => &["net", "sys"],
        "/proc/sys" => &["net"],
        "/proc/sys/net" => &["ipv4"],
        "/proc/sys/net/ipv4" => &["conf", "ip_default_ttl", "ip_forward"],
        "/dev" => &["null"],
        _ => &[],
    };
    names.extend(fixed.iter().map(|s| s.to_string()));
    if abs == "/proc/net" && h.ipvs.loaded {
        names.extend(["ip_vs".to_string(), "ip_vs_conn".to_string()]);
    }
    if abs == "/proc/sys/net/ipv4/conf" {
        names.extend(h.sysctl.conf.keys().cloned());
    } else if let Some(scope) = abs.strip_prefix("/proc/sys/net/ipv4/conf/") {
        if let Some(c) = h.sysctl.conf.get(scope) {
            names.extend(c.iter().map(|(k, _)| k.to_string()));
        }
    }
    names
}

fn mtime(lab: &Lab, host: &str, abs: &str) -> SimTime {
    lab.file_times
        .get(host)
        .and_then(|t| t.get(abs))
        .copied()
        .unwrap_or(SimTime(0))
}

pub fn ls(lab: &Lab, host: &str, args: &[String], tty: bool, io: &mut Io) {
    let (o, operands) = match parse(args) {
        Ok(x) => x,
        Err(first) => {
            io.errln(first);
            io.errln("Try 'ls --help' for more information.");
            io.status = 2;
            return;
        }
    };
    let cwd = lab.cwd(host);
    let mut files: Vec<Entry> = Vec::new();
    let mut dirs: Vec<(String, String)> = Vec::new();
    for op in &operands {
        let abs = fs::resolve(&cwd, op);
        match kind_of(lab, host, &abs) {
            None => {
                io.errln(format!(
                    "ls: cannot access '{op}': No such file or directory"
                ));
                io.status = 2;
            }
            Some(Kind::Dir { .. } | Kind::ProcDir) if !o.directory => {
                dirs.push((op.clone(), abs));
            }
            Some(kind) => files.push(Entry {
                name: op.clone(),
                kind,
                mtime: mtime(lab, host, &abs),
            }),
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    dirs.sort();
    let format = match o.format {
        Format::Default if tty => Format::Columns,
        Format::Default => Format::OnePerLine,
        f => f,
    };
    let mut printed = false;
    if !files.is_empty() {
        print_entries(&files, format, false, io);
        printed = true;
    }
    let headers = operands.len() > 1;
    for (op, abs) in dirs {
        if printed {
            io.outln("");
        }
        if headers {
            io.outln(format!("{op}:"));
        }
        let mut names = children(lab, host, &abs);
        if o.hidden == Hidden::None {
            names.retain(|n| !n.starts_with('.'));
        }
        let mut entries: Vec<Entry> = names
            .into_iter()
            .filter_map(|n| {
                let p = join(&abs, &n);
                Some(Entry {
                    kind: kind_of(lab, host, &p)?,
                    mtime: mtime(lab, host, &p),
                    name: n,
                })
            })
            .collect();
        if o.hidden == Hidden::All {
            for (name, p) in [(".", abs.clone()), ("..", parent(&abs))] {
                if let Some(kind) = kind_of(lab, host, &p) {
                    entries.push(Entry {
                        name: name.into(),
                        kind,
                        mtime: mtime(lab, host, &p),
                    });
                }
            }
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        entries.dedup_by(|a, b| a.name == b.name);
        print_entries(&entries, format, true, io);
        printed = true;
    }
}

fn print_entries(entries: &[Entry], format: Format, total: bool, io: &mut Io) {
    match format {
        Format::Long => {
            if total {
                let blocks: usize = entries
                    .iter()
                    .map(|e| match e.kind {
                        Kind::Dir { .. } => 4,
                        Kind::File { len } => len.div_ceil(4096) * 4,
                        _ => 0,
                    })
                    .sum();
                io.outln(format!("total {blocks}"));
            }
            // Each column as wide as its widest field (gnu_ls's
            // `nlink_width`, `file_size_width`), numbers right-aligned.
            let fields: Vec<(&str, String, String, String)> =
                entries.iter().map(long_fields).collect();
            let lw = fields.iter().map(|f| f.1.len()).max().unwrap_or(0);
            let sw = fields.iter().map(|f| f.2.len()).max().unwrap_or(0);
            for (e, (mode, links, size, date)) in entries.iter().zip(&fields) {
                io.outln(format!(
                    "{mode} {links:>lw$} root root {size:>sw$} {date} {}",
                    e.name
                ));
            }
        }
        Format::Columns => {
            let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
            for line in columns(&names, 80) {
                io.outln(line);
            }
        }
        Format::OnePerLine | Format::Default => {
            for e in entries {
                io.outln(&e.name);
            }
        }
    }
}

/// Mode, links, size and `%b %e %H:%M` of one `-l` line.
fn long_fields(e: &Entry) -> (&'static str, String, String, String) {
    let (mode, links, size) = match e.kind {
        Kind::Dir { mode, subdirs } => (mode, 2 + subdirs, "4096".to_string()),
        Kind::ProcDir => ("dr-xr-xr-x", 1, "0".into()),
        Kind::ProcFile { writable: true } => ("-rw-r--r--", 1, "0".into()),
        Kind::ProcFile { writable: false } => ("-r--r--r--", 1, "0".into()),
        Kind::File { len } => ("-rw-r--r--", 1, len.to_string()),
        Kind::DevNull => ("crw-rw-rw-", 1, "1, 3".into()),
    };
    let w = WallClock::at(e.mtime);
    let date = format!("{} {:>2} {:02}:{:02}", w.month_name(), w.day, w.hour, w.min);
    (mode, links.to_string(), size, date)
}

/// coreutils' `calculate_columns()` and `print_many_per_line()`: the most
/// columns whose widths (longest name + 2, the last column without the 2)
/// stay under `width`, filled down first, padded with tabs (stops of 8)
/// and spaces as `indent()` does.
fn columns(names: &[&str], width: usize) -> Vec<String> {
    let n = names.len();
    if n == 0 {
        return vec![];
    }
    const MIN_COLUMN_WIDTH: usize = 3;
    let max_cols = (width / MIN_COLUMN_WIDTH).clamp(1, n);
    let mut best: (usize, Vec<usize>) = (1, vec![0]);
    for cols in (1..=max_cols).rev() {
        let rows = n.div_ceil(cols);
        let mut widths = vec![MIN_COLUMN_WIDTH; cols];
        for (i, name) in names.iter().enumerate() {
            let c = i / rows;
            let len = name.len() + if c == cols - 1 { 0 } else { 2 };
            widths[c] = widths[c].max(len);
        }
        if cols == 1 || widths.iter().sum::<usize>() < width {
            best = (cols, widths);
            break;
        }
    }
    let (cols, widths) = best;
    let rows = n.div_ceil(cols);
    (0..rows)
        .map(|row| {
            let mut line = String::new();
            let mut pos = 0;
            let mut col = 0;
            let mut i = row;
            loop {
                let name = names[i];
                line.push_str(name);
                let max = widths[col];
                col += 1;
                i += rows;
                if i >= n {
                    break;
                }
                indent(&mut line, pos + name.len(), pos + max);
                pos += max;
            }
            line
        })
        .collect()
}

/// coreutils' `indent()` with tab stops of 8.
fn indent(line: &mut String, mut from: usize, to: usize) {
    const TAB: usize = 8;
    while from < to {
        if to / TAB > (from + 1) / TAB {
            line.push('\t');
            from += TAB - from % TAB;
        } else {
            line.push(' ');
            from += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What coreutils 9.1 printed for `ls -C /proc/sys/net/ipv4/conf/lo`
    /// (kernel 6.1's 36 knobs) into a pipe.
    #[test]
    fn columns_as_coreutils() {
        let names = "accept_local accept_redirects accept_source_route arp_accept arp_announce \
            arp_evict_nocarrier arp_filter arp_ignore arp_notify bc_forwarding bootp_relay \
            disable_policy disable_xfrm drop_gratuitous_arp drop_unicast_in_l2_multicast \
            force_igmp_version forwarding igmpv2_unsolicited_report_interval \
            igmpv3_unsolicited_report_interval ignore_routes_with_linkdown log_martians \
            mc_forwarding medium_id promote_secondaries proxy_arp proxy_arp_pvlan \
            route_localnet rp_filter secure_redirects send_redirects shared_media \
            src_valid_mark tag";
        let names: Vec<&str> = names.split_whitespace().collect();
        let got = columns(&names, 80);
        assert_eq!(got[0], "accept_local\t     disable_policy\t\t\t medium_id");
        assert_eq!(
            got[1],
            "accept_redirects     disable_xfrm\t\t\t promote_secondaries"
        );
        assert_eq!(
            got[6],
            "arp_filter\t     igmpv2_unsolicited_report_interval  secure_redirects"
        );
        assert_eq!(got[10], "bootp_relay\t     mc_forwarding\t\t\t tag");
        assert_eq!(got.len(), 11);
        assert_eq!(
            columns(&["all", "default", "eth0", "lo", "x"], 80),
            ["all  default  eth0  lo\tx"]
        );
    }

    #[test]
    fn options() {
        let p = |s: &str| parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>());
        let (o, ops) = p("-la /proc").unwrap();
        assert_eq!((o.format, o.hidden), (Format::Long, Hidden::All));
        assert_eq!(ops, ["/proc"]);
        assert_eq!(p("-z").unwrap_err(), "ls: invalid option -- 'z'");
        assert_eq!(p("").unwrap().1, ["."]);
    }
}
