//! A pasted block that names other hosts or holds prose is asked about
//! before it runs in one terminal: the tutorial copied from the blog into
//! node03's terminal would otherwise make node03 a director, silently.
//! `HOST# COMMAND` lines (the lab-script format) say where they run and go
//! there; they are not asked about.

use lvslab_engine::shell::{parse_script_line, Lab};

const COMMANDS: &[&str] = &[
    "arp",
    "arping",
    "cat",
    "cd",
    "clear",
    "curl",
    "echo",
    "false",
    "grep",
    "head",
    "hostname",
    "ifconfig",
    "ip",
    "iptables",
    "ipvsadm",
    "nc",
    "netstat",
    "ping",
    "pwd",
    "service",
    "sleep",
    "sort",
    "sysctl",
    "tail",
    "tcpdump",
    "true",
    "wc",
    "wget",
    "yum",
    "ss",
    "ls",
    "help",
    "route",
    "watch",
    "systemctl",
];

/// The command names the simulator knows (asked once).
pub(crate) fn known_commands() -> Vec<&'static str> {
    thread_local! {
        static KNOWN: Vec<&'static str> = COMMANDS
            .iter()
            .copied()
            .filter(|c| *c == "clear" || crate::guide::tour::command_known(c))
            .collect();
    }
    KNOWN.with(|k| k.clone())
}

/// What a paste holds that the user may not mean to run here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Review {
    /// Other hosts of the lab the text names (a prompt, a sentence).
    pub hosts: Vec<String>,
    /// Lines whose first word is no command the lab knows, cut short.
    pub prose: Vec<String>,
}

impl Review {
    pub fn clear(&self) -> bool {
        self.hosts.is_empty() && self.prose.is_empty()
    }
}

/// Review `text` pasted into `host`'s terminal.
pub fn review(lab: &Lab, host: &str, text: &str) -> Review {
    let known = known_commands();
    let mut r = Review::default();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some((h, _)) = parse_script_line(line) {
            if lab.world.hosts.contains_key(h) {
                continue;
            }
        }
        for w in line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
            if w != host && lab.world.hosts.contains_key(w) && !r.hosts.iter().any(|x| x == w) {
                r.hosts.push(w.to_string());
            }
        }
        let first = line.split_whitespace().next().unwrap_or("");
        let cmd = first.rsplit('/').next().unwrap_or(first);
        if !known.contains(&cmd) && !first.starts_with("[root@") {
            let mut cut: String = line.chars().take(48).collect();
            if cut.len() < line.len() {
                cut.push('…');
            }
            r.prose.push(cut);
        }
    }
    r
}
