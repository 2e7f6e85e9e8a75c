//! The lab shell: runs a command line on a named host and prints what the
//! real tools print (stdout and stderr merged, as a terminal shows them).
//!
//! A small bash: words with quotes, `>`/`>>`/`2>`/`2>&1` redirections, `|`
//! into `grep`/`head`/`tail`/`sort`/`wc -l`, `cd`/`pwd` with a working
//! directory per host, `echo`/`cat` on /proc/sys and plain files, `sleep`.
//! Tools: `ip`, `ifconfig`, `sysctl`, `ping`, `arping`, `arp`, `modprobe` (see the
//! submodules). Every command either succeeds or leaves the host exactly as
//! it was (a failed command never half-applies).

mod commands;
mod curl;
mod fs;
mod grep;
mod ifconfig;
mod ip;
mod iptables;
mod ls;
pub use iptables::parse_save_line;
mod netutils;
mod route;
mod services;
pub mod session;
mod ss;
mod sysctl;
mod systemctl;
pub use systemctl::UnitState;
mod tcpdump;
mod watch;
mod words;

use crate::sim::world::World;
use crate::util::vecmap::VecMap;
use commands::Cmd;
use serde::{Deserialize, Serialize};

pub use words::{split_words, Word, WordsError};

/// Simulated time between two commands (1 ms).
pub const SETTLE_US: u64 = 1_000;

/// Output of one command line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Output {
    /// stdout and stderr merged, in order.
    pub text: String,
    /// The exit status the real command would return.
    pub status: i32,
    /// A teaching hint about this command (English, Chinese), shown by the
    /// UI beside the terminal — never part of what the tool prints.
    #[serde(default)]
    pub hint: Option<(String, String)>,
}

impl Output {
    pub fn ok() -> Output {
        Output::default()
    }
}

/// A program's two output streams, kept apart until redirections apply.
#[derive(Debug, Clone, Default)]
pub(crate) struct Io {
    /// (is_stderr, text) chunks in the order they were written.
    pub chunks: Vec<(bool, String)>,
    pub status: i32,
    pub hint: Option<(String, String)>,
    /// Bytes of the chunks absorbed from sub-commands (loop bodies).
    absorbed: usize,
    /// The line was stopped at [`MAX_OUTPUT`].
    stopped: bool,
}

/// The most output one command line keeps (1 MiB): past it the lab stops
/// the line and says so.
pub const MAX_OUTPUT: usize = 1 << 20;

impl Io {
    /// Append what a sub-command printed, its status and hint.
    fn absorb(&mut self, sub: Io) {
        self.absorbed += sub.chunks.iter().map(|c| c.1.len()).sum::<usize>();
        self.chunks.extend(sub.chunks);
        if sub.hint.is_some() {
            self.hint = sub.hint;
        }
        self.status = sub.status;
    }

    /// Whether the output passed [`MAX_OUTPUT`]; the first time, a note
    /// says the line was stopped.
    fn over_budget(&mut self) -> bool {
        let n = self.absorbed;
        if self.stopped || n <= MAX_OUTPUT {
            return self.stopped;
        }
        self.stopped = true;
        self.errln(format!(
            "lvslab: stopped after {n} bytes of output: the lab's bound on one command line is {MAX_OUTPUT}"
        ));
        true
    }

    pub fn out(&mut self, s: impl Into<String>) {
        self.chunks.push((false, s.into()));
    }
    pub fn outln(&mut self, s: impl AsRef<str>) {
        self.chunks.push((false, format!("{}\n", s.as_ref())));
    }
    pub fn err(&mut self, s: impl Into<String>) {
        self.chunks.push((true, s.into()));
    }
    pub fn errln(&mut self, s: impl AsRef<str>) {
        self.chunks.push((true, format!("{}\n", s.as_ref())));
    }
}

/// A lab session: the world plus each host's shell state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lab {
    pub world: World,
    /// Working directory of each host's shell.
    pub cwd: VecMap<String, String>,
    /// Each host's `$?`: the exit status of its last pipeline.
    #[serde(default)]
    pub last_status: VecMap<String, i32>,
    /// Each host's background jobs (`&`) that `kill %N` can reach: the
    /// programs' ids, in job-number order.
    #[serde(skip)]
    pub jobs: VecMap<String, Vec<u32>>,
    /// Each terminal's program still running (see [`session`]).
    #[serde(skip)]
    pub(crate) fg: VecMap<String, session::Foreground>,
    /// The command being run came from a terminal that may leave its
    /// program running ([`Lab::start`]).
    #[serde(skip)]
    pub(crate) interactive: bool,
    /// The lab's own note on the command being run (a bound it hit),
    /// printed after its output.
    #[serde(skip)]
    pub(crate) note: Option<String>,
    /// Each host's httpd.service as systemd keeps it (`systemctl`).
    #[serde(default)]
    pub units: VecMap<String, UnitState>,
    /// When each host's plain files were last written (`ls -l`).
    #[serde(default)]
    pub file_times: VecMap<String, VecMap<String, crate::time::SimTime>>,
}

impl Lab {
    pub fn new(world: World) -> Lab {
        Lab {
            world,
            cwd: VecMap::new(),
            last_status: VecMap::new(),
            jobs: VecMap::new(),
            fg: VecMap::new(),
            interactive: false,
            note: None,
            units: VecMap::new(),
            file_times: VecMap::new(),
        }
    }

    pub fn cwd(&self, host: &str) -> String {
        self.cwd
            .get(host)
            .cloned()
            .unwrap_or_else(|| "/root".into())
    }

    /// Run one command line on `host`. Unknown hosts are an error line.
    pub fn run(&mut self, host: &str, line: &str) -> Output {
        if !self.world.hosts.contains_key(host) {
            return Output {
                text: format!("lvslab: no host named {host:?} in this lab\n"),
                status: 127,
                hint: None,
            };
        }
        // Every tool validates its whole command line before it changes
        // anything, so a rejected command leaves the lab as it was.
        let mut io = self.run_line(host, line);
        if let Some(n) = self.note.take() {
            io.chunks.push((true, n));
        }
        self.last_status.insert(host.to_string(), io.status);
        // A moment passes between two commands typed at a terminal: let the
        // packets already in flight land (a FIN exchange after curl exits).
        self.world.advance(SETTLE_US);
        let mut text: String = io.chunks.iter().map(|c| c.1.as_str()).collect();
        if text.len() > MAX_OUTPUT + 4096 {
            let mut cut = MAX_OUTPUT;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            let n = text.len();
            text.truncate(cut);
            text.push_str(&format!(
                "\nlvslab: output cut at {MAX_OUTPUT} of {n} bytes: the lab's bound on one command line\n"
            ));
        }
        Output {
            text,
            status: io.status,
            hint: io.hint,
        }
    }

    fn run_line(&mut self, host: &str, line: &str) -> Io {
        let mut io = Io::default();
        let words = match split_words(line) {
            Ok(w) => w,
            Err(e) => {
                io.errln(format!("bash: {e}"));
                io.status = 2;
                return io;
            }
        };
        if words.is_empty() {
            return io;
        }
        self.run_words(host, words)
    }

    /// `for NAME in WORDS; do LIST; done [; LIST]`, else a plain list. A
    /// line of loops one after another runs them in turn (no recursion, no
    /// copy of the rest of the line per loop).
    fn run_words(&mut self, host: &str, words: Vec<Word>) -> Io {
        let mut io = Io::default();
        let mut rest: &[Word] = &words;
        while rest.first() == Some(&Word::Text("for".into())) {
            let Some(next) = self.run_for(host, rest, &mut io) else {
                return io;
            };
            rest = &rest[next..];
            while rest.first() == Some(&Word::Seq) {
                rest = &rest[1..];
            }
            if rest.is_empty() || io.over_budget() {
                return io;
            }
        }
        let sub = self.run_list(host, rest.to_vec());
        io.absorb(sub);
        io
    }

    /// Run the `for` loop at the start of `words` into `io`; the index
    /// just after its `done`, or `None` after a syntax error.
    fn run_for(&mut self, host: &str, words: &[Word], io: &mut Io) -> Option<usize> {
        let syntax = |io: &mut Io, tok: &str| {
            io.errln(format!("bash: syntax error near unexpected token `{tok}'"));
            io.status = 2;
        };
        let Some(Word::Text(var)) = words.get(1) else {
            syntax(io, "newline");
            return None;
        };
        let mut i = 2;
        let mut items: Vec<&str> = Vec::new();
        if words.get(i) == Some(&Word::Text("in".into())) {
            i += 1;
            while let Some(Word::Text(t)) = words.get(i) {
                if t == "do" {
                    break;
                }
                items.push(t);
                i += 1;
            }
        }
        if words.get(i) == Some(&Word::Seq) {
            i += 1;
        }
        if words.get(i) != Some(&Word::Text("do".into())) {
            syntax(io, "newline");
            return None;
        }
        i += 1;
        // The body runs to the matching `done` (one level: no nested loops).
        let Some(done_at) = words[i..]
            .iter()
            .position(|w| *w == Word::Text("done".into()))
            .map(|p| p + i)
        else {
            syntax(io, "newline");
            return None;
        };
        let body = &words[i..done_at];
        let pat1 = format!("${var}");
        let pat2 = format!("${{{var}}}");
        for item in items {
            let b: Vec<Word> = body
                .iter()
                .map(|w| match w {
                    Word::Text(t) => Word::Text(t.replace(&pat2, item).replace(&pat1, item)),
                    other => other.clone(),
                })
                .collect();
            let sub = self.run_list(host, b);
            io.absorb(sub);
            if io.over_budget() {
                break;
            }
        }
        Some(done_at + 1)
    }

    fn run_list(&mut self, host: &str, words: Vec<Word>) -> Io {
        let mut io = Io::default();
        // A list: pipelines joined by `;`, `&&`, `||` (and `&`, which ends
        // a background pipeline).
        let mut lists: Vec<(Vec<Word>, Option<Word>)> = vec![(vec![], None)];
        for w in words {
            match w {
                Word::Seq | Word::AndIf | Word::OrIf => {
                    lists.last_mut().expect("non-empty").1 = Some(w);
                    lists.push((vec![], None));
                }
                Word::Background => {
                    lists
                        .last_mut()
                        .expect("non-empty")
                        .0
                        .push(Word::Background);
                    lists.last_mut().expect("non-empty").1 = Some(Word::Seq);
                    lists.push((vec![], None));
                }
                other => lists.last_mut().expect("non-empty").0.push(other),
            }
        }
        let mut status = 0;
        let mut prev: Option<Word> = None;
        for (pipeline, sep) in lists {
            let skip = match prev {
                Some(Word::AndIf) => status != 0,
                Some(Word::OrIf) => status == 0,
                _ => false,
            };
            prev = sep;
            if pipeline.is_empty() || skip {
                continue;
            }
            // `$?`: the status of the last pipeline run (bash expands it
            // when the pipeline runs, so `false; echo $?` prints 1).
            let last = self.last_status.get(host).copied().unwrap_or(0);
            let pipeline = pipeline
                .into_iter()
                .map(|w| match w {
                    Word::Text(t) if t.contains("$?") => {
                        Word::Text(t.replace("$?", &last.to_string()))
                    }
                    other => other,
                })
                .collect();
            let sub = self.run_pipeline(host, pipeline);
            status = sub.status;
            self.last_status.insert(host.to_string(), status);
            io.chunks.extend(sub.chunks);
            if sub.hint.is_some() {
                io.hint = sub.hint;
            }
        }
        io.status = status;
        io
    }

    fn run_pipeline(&mut self, host: &str, words: Vec<Word>) -> Io {
        // Split into pipeline stages.
        let mut stages: Vec<Vec<Word>> = vec![vec![]];
        let mut background = false;
        for w in words {
            match w {
                Word::Pipe => stages.push(vec![]),
                Word::Background => background = true,
                other => stages.last_mut().expect("non-empty").push(other),
            }
        }
        let mut input: Option<String> = None;
        if background && stages.len() > 1 {
            // `sleep 60 | curl … &`: the feeding stages run alongside in the
            // background; only the last one is a program we model.
            stages.drain(..stages.len() - 1);
        }
        let nstages = stages.len();
        let mut combined = Io::default();
        for (i, stage) in stages.into_iter().enumerate() {
            let mut argv = Vec::new();
            let mut redirs = Vec::new();
            for w in stage {
                match w {
                    Word::Text(t) => argv.push(t),
                    Word::Redirect(r) => redirs.push(r),
                    Word::Pipe | Word::Background | Word::Seq | Word::AndIf | Word::OrIf => {}
                }
            }
            // The terminal is the last stage's stdout unless redirected.
            let tty =
                i + 1 == nstages && !redirs.iter().any(|r| matches!(r, words::Redir::Out { .. }));
            let mut sio = if argv.is_empty() {
                Io::default()
            } else {
                self.exec(
                    host,
                    &argv,
                    input.take(),
                    background && i + 1 == nstages,
                    tty,
                )
            };
            // Apply redirections.
            let mut out_target: Option<(String, bool)> = None;
            let mut err_to_null = false;
            let mut err_to_out = false;
            for r in &redirs {
                match r {
                    words::Redir::Out { path, append } => {
                        out_target = Some((path.clone(), *append))
                    }
                    words::Redir::ErrNull => err_to_null = true,
                    words::Redir::ErrToOut => err_to_out = true,
                }
            }
            let last = i + 1 == nstages;
            let mut stdout = String::new();
            let mut passthrough: Vec<(bool, String)> = Vec::new();
            for (is_err, text) in sio.chunks.drain(..) {
                if is_err && err_to_null {
                    continue;
                }
                if !is_err || err_to_out {
                    if out_target.is_some() || !last {
                        stdout.push_str(&text);
                    } else {
                        passthrough.push((false, text));
                    }
                } else {
                    passthrough.push((true, text));
                }
            }
            if let Some((path, append)) = out_target {
                if let Err(e) = fs::write_file(self, host, &path, &stdout, append) {
                    match e {
                        fs::WriteError::Shell(msg) => {
                            passthrough.push((true, format!("bash: {msg}\n")))
                        }
                        fs::WriteError::Echo(msg) => passthrough.push((
                            true,
                            format!(
                                "bash: {}: write error: {msg}\n",
                                argv.first().map(String::as_str).unwrap_or("echo")
                            ),
                        )),
                    }
                    sio.status = 1;
                }
                stdout.clear();
            }
            combined.chunks.extend(passthrough);
            if sio.hint.is_some() {
                combined.hint = sio.hint.take();
            }
            combined.status = sio.status;
            if !last {
                input = Some(stdout);
            }
        }
        combined
    }

    /// Run one command (argv[0] …) with optional piped input.
    fn exec(
        &mut self,
        host: &str,
        argv: &[String],
        input: Option<String>,
        background: bool,
        tty: bool,
    ) -> Io {
        let mut io = Io::default();
        let args = &argv[1..];
        let Some(cmd) = commands::lookup(&argv[0]) else {
            io.errln(format!("bash: {}: command not found", argv[0]));
            io.status = 127;
            return io;
        };
        match cmd {
            // `cd &` runs in a subshell: the shell's directory stays.
            Cmd::Cd if background => {}
            Cmd::Cd => fs::cd(self, host, args, &mut io),
            Cmd::Pwd => io.outln(self.cwd(host)),
            Cmd::Echo => fs::echo(args, &mut io),
            Cmd::Cat => fs::cat(self, host, args, input, &mut io),
            Cmd::Sleep => netutils::sleep(self, args, &mut io),
            Cmd::True => {}
            Cmd::False => io.status = 1,
            Cmd::Grep => grep::grep(self, host, args, input, &mut io),
            Cmd::Head | Cmd::Tail | Cmd::Sort | Cmd::Wc => {
                fs::filter(&argv[0], args, input.unwrap_or_default(), &mut io)
            }
            Cmd::Help => commands::help(args, &mut io),
            Cmd::Sysctl => sysctl::sysctl(self, host, args, &mut io),
            Cmd::Ip => ip::ip(self, host, args, &mut io),
            Cmd::Ifconfig => ifconfig::ifconfig(self, host, args, &mut io),
            Cmd::Ping => netutils::ping(self, host, args, &mut io),
            Cmd::Arping => netutils::arping(self, host, args, &mut io),
            Cmd::Arp => netutils::arp(self, host, args, &mut io),
            Cmd::Hostname => io.outln(host),
            Cmd::Yum => services::yum(args, &mut io),
            Cmd::Modprobe => services::modprobe(self, host, args, &mut io),
            Cmd::Service => services::service(self, host, args, &mut io),
            Cmd::Curl => curl::curl(self, host, args, background, tty, &mut io),
            Cmd::Wget => services::wget(self, host, args, background, &mut io),
            Cmd::Nc => services::nc(self, host, args, background, &mut io),
            Cmd::Netstat => services::netstat(self, host, args, &mut io),
            Cmd::Route => route::route(self, host, args, &mut io),
            Cmd::Iptables => iptables::iptables(self, host, args, &mut io),
            Cmd::Tcpdump => tcpdump::tcpdump(self, host, args, background, &mut io),
            Cmd::Kill => tcpdump::kill(self, host, args, &mut io),
            Cmd::Seq => fs::seq(args, &mut io),
            Cmd::Ipvsadm => {
                let now = self.world.now;
                let h = self.world.host_mut(host).expect("host checked");
                let mut b = crate::net::netfilter::ipvs::SimBackend {
                    ipvs: &mut h.ipvs,
                    now,
                };
                let r = crate::tools::ipvsadm::run(&mut b, args, input.as_deref().unwrap_or(""));
                io.out(r.stdout);
                if !r.stderr.is_empty() {
                    io.chunks.push((true, r.stderr));
                }
                io.status = r.status;
                self.world.schedule_ipvs_timer(host);
            }
            Cmd::Ss => ss::ss(self, host, args, &mut io),
            Cmd::Systemctl => systemctl::systemctl(self, host, args, &mut io),
            Cmd::Ls => ls::ls(self, host, args, tty, &mut io),
            Cmd::Watch => watch::watch(self, host, args, background, &mut io),
        }
        io
    }
}

/// Run a lab script (`HOST# COMMAND` lines, `#` comments) and return the
/// transcript: each command line followed by its output.
pub fn run_script(lab: &mut Lab, script: &str) -> Result<String, ScriptError> {
    let mut out = String::new();
    for (n, raw) in script.lines().enumerate() {
        let line = raw.trim_end();
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let (host, cmd) = parse_script_line(line).ok_or(ScriptError {
            line: n + 1,
            text: line.to_string(),
        })?;
        out.push_str(&format!("{host}# {cmd}\n"));
        lab.world.trim_trace();
        let o = lab.run(host, cmd);
        out.push_str(&o.text);
    }
    Ok(out)
}

/// `HOST# COMMAND`.
pub fn parse_script_line(line: &str) -> Option<(&str, &str)> {
    let (host, rest) = line.split_once("# ")?;
    let host = host.trim();
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return None;
    }
    Some((host, rest.trim()))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: expected `HOST# COMMAND`, got {text:?}")]
pub struct ScriptError {
    pub line: usize,
    pub text: String,
}
