//! A terminal session over time: a foreground program that keeps running
//! while the student works in another terminal, Ctrl+C, and the log that
//! replays it all.
//!
//! On a real host the shell waits for its foreground program (bash's
//! `waitchld`) for as long as the program runs, and the student opens another
//! terminal meanwhile. Ctrl+C sends the terminal's SIGINT to the program:
//! ping and arping catch it, print their statistics and exit with their
//! usual status; tcpdump prints its counts and exits 0; curl dies of the
//! signal (bash's `$?` is 128 + 2 = 130) and the kernel closes its sockets as
//! on any exit (`tcp_close`: nothing is sent for a connection still in
//! SYN_SENT).
//!
//! We model two ways to run a command. [`Lab::run`] (scripts, `lvslab sim`)
//! waits for the program however long it takes in simulated time, as a
//! script on a real host waits. [`Lab::start`] (a terminal in the page) lets
//! a simple command's program run for at most [`INTERACTIVE_WINDOW_US`] of
//! simulated time; one that needs longer (curl's SYN retries, ping without
//! `-c`, tcpdump without `-c`) stays the terminal's *foreground job*, and
//! the page moves the lab's clock with the wall clock through
//! [`Lab::pass_time`] while other terminals run commands, until the program
//! ends or [`Lab::interrupt`] stops it. A command line with pipes, lists or
//! redirections runs to completion either way. Every passage of time and
//! every Ctrl+C is a [`Step`] of the session's log, so replaying the log
//! gives the same lab, byte for byte.

use super::{Io, Lab, Output, Word};
use crate::apps::AppKind;
use serde::{Deserialize, Serialize};

/// The simulated time a terminal's program may take before the terminal
/// shows it running (2 s: `ping -c 2`, `arping -c 1`, a curl that works all
/// end at once; curl's first SYN retransmission at 1 s and 3 s does not).
pub const INTERACTIVE_WINDOW_US: u64 = 2_000_000;

/// One entry of a session's log: what replays a lab exactly. In JSON a run is
/// `{"host":…,"line":…}` (as exports have always written commands), a wait
/// `{"wait_us":…}`, a Ctrl+C `{"interrupt":HOST}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Step {
    /// A command line typed at a host's terminal ([`Lab::start`]).
    Run { host: String, line: String },
    /// Simulated time passing while a foreground program runs.
    Wait { wait_us: u64 },
    /// Ctrl+C at a host's terminal.
    Interrupt { interrupt: String },
}

impl Step {
    pub fn run(host: impl Into<String>, line: impl Into<String>) -> Step {
        Step::Run {
            host: host.into(),
            line: line.into(),
        }
    }
}

/// How a foreground program's output becomes the terminal's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Render {
    /// ping; `-q` hides the per-reply lines.
    Ping { quiet: bool },
    /// arping; `-q` hides everything.
    Arping { quiet: bool },
    /// curl or wget: what the program wrote (a body or an error).
    Curl,
    /// tcpdump: its lines on stdout, its counts on stderr at the end.
    Tcpdump,
}

/// A terminal's program still running.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Foreground {
    pub job: Job,
    /// What the command printed before its program started waiting (ping's
    /// `PING …` line, tcpdump's `listening on …`).
    pub head: String,
}

/// What keeps a terminal busy.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Job {
    /// A program of the simulated world (ping, curl, tcpdump …).
    App { app: u32, render: Render },
    /// `watch`: the shell reruns a command on a timer ([`super::watch`]).
    Watch(super::watch::Watch),
}

/// What [`Lab::start`] returns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Started {
    /// The command's output so far (all of it when it has finished).
    pub output: Output,
    /// The command's program is still running in this terminal.
    pub running: bool,
}

/// A terminal whose foreground program printed more or ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub host: String,
    /// The command's whole output so far.
    pub text: String,
    /// Its exit status, once it has ended.
    pub status: Option<i32>,
}

/// The longest simulated time a script waits for one program (an hour:
/// curl's SYN retries take 127 s, IPVS's longest default timeout is 15
/// min), and the most events it processes meanwhile.
pub const MAX_COMMAND_US: u64 = 3_600 * 1_000_000;
pub const MAX_COMMAND_EVENTS: usize = 5_000_000;

/// bash's status for a program killed by SIGINT.
const STATUS_SIGINT: i32 = 130;

impl Lab {
    /// Run a command line typed at `host`'s terminal: like [`Lab::run`], but
    /// a program that is still running after [`INTERACTIVE_WINDOW_US`] stays
    /// the terminal's foreground job (see the module's documentation).
    pub fn start(&mut self, host: &str, line: &str) -> Started {
        self.world.trim_trace();
        self.reap();
        if self.fg.contains_key(host) {
            return Started {
                output: Output {
                    text: format!(
                        "lvslab: a program is still running in {host}'s terminal: Ctrl+C stops it\n"
                    ),
                    status: 1,
                    hint: None,
                },
                running: false,
            };
        }
        self.interactive = super::split_words(line).is_ok_and(|w| simple_command(&w));
        let output = self.run(host, line);
        self.interactive = false;
        match self.fg.get_mut(host) {
            Some(fg) => {
                fg.head = output.text;
                let text = self.fg_text(host).unwrap_or_default();
                Started {
                    output: Output { text, ..output },
                    running: true,
                }
            }
            None => Started {
                output,
                running: false,
            },
        }
    }

    /// Whether `host`'s terminal has a program running.
    pub fn is_running(&self, host: &str) -> bool {
        self.fg.contains_key(host)
    }

    /// The hosts whose terminals have a program running.
    pub fn running_hosts(&self) -> Vec<String> {
        self.fg.keys().cloned().collect()
    }

    /// Let `us` of simulated time pass (the wall clock of the page while a
    /// foreground program runs); returns every running terminal's output
    /// so far, with its status once its program has ended.
    pub fn pass_time(&mut self, us: u64) -> Vec<Progress> {
        self.world.trim_trace();
        // A forged link's `w=` cannot make one step run for ever.
        let end = self.world.now.plus(us.min(MAX_COMMAND_US));
        // A `watch` reruns its command when its timer is due, in time order.
        while let Some((t, host)) = self.next_watch_tick() {
            if t > end {
                break;
            }
            self.world.run_until(t);
            self.watch_tick(&host);
        }
        self.world.run_until(end);
        self.progress()
    }

    /// Every running terminal's output so far, without letting time pass;
    /// the terminals whose programs have ended get their prompts back.
    /// Reaping changes nothing a later command could see but `$?`, and every
    /// step of the log reaps first, so when the page polls does not matter.
    pub fn progress(&mut self) -> Vec<Progress> {
        let mut out = self.reap();
        for host in self.running_hosts() {
            let text = self.fg_text(&host).unwrap_or_default();
            out.push(Progress {
                host,
                text,
                status: None,
            });
        }
        out
    }

    /// Ctrl+C at `host`'s terminal: the foreground program gets SIGINT.
    /// Returns the command's whole output, `^C` where the terminal echoed
    /// it; `None` when nothing was running there.
    pub fn interrupt(&mut self, host: &str) -> Option<Output> {
        self.world.trim_trace();
        self.reap();
        self.fg.get(host)?;
        let out = self.end_fg(host, true);
        // The kernel closes the program's sockets: let the FIN or RST go.
        self.world.advance(super::SETTLE_US);
        Some(out)
    }

    /// Give the prompt back to every terminal whose program has ended.
    fn reap(&mut self) -> Vec<Progress> {
        let ended: Vec<String> = self
            .fg
            .iter()
            .filter(|(_, fg)| match &fg.job {
                Job::App { app, .. } => self.world.apps.get(app).is_none_or(|a| a.done),
                Job::Watch(w) => w.exited.is_some(),
            })
            .map(|(h, _)| h.clone())
            .collect();
        ended
            .into_iter()
            .map(|host| {
                let o = self.end_fg(&host, false);
                Progress {
                    host,
                    text: o.text,
                    status: Some(o.status),
                }
            })
            .collect()
    }

    /// Replay one step of a session's log. Returns the output of a run (or
    /// of the terminal a Ctrl+C reached) for callers that show it.
    pub fn replay(&mut self, step: &Step) -> Option<Started> {
        match step {
            Step::Run { host, line } => Some(self.start(host, line)),
            Step::Wait { wait_us } => {
                self.pass_time(*wait_us);
                None
            }
            Step::Interrupt { interrupt } => self.interrupt(interrupt).map(|output| Started {
                output,
                running: false,
            }),
        }
    }

    /// How the shell waits for a foreground program `app` on `host`: in a
    /// script, until it ends (or nothing is left to happen); at a terminal,
    /// at most [`INTERACTIVE_WINDOW_US`], after which it stays the
    /// terminal's foreground job. True when the caller is to print the
    /// finished program now.
    pub(crate) fn wait_fg(&mut self, host: &str, app: u32, render: Render) -> bool {
        let done = |l: &Lab| l.world.apps.get(&app).is_none_or(|a| a.done);
        if !self.interactive {
            // A script waits as long as the program runs, up to the lab's
            // bound on one command (a `ping -c 4294967295` would run for
            // 136 years): then the program is stopped as by Ctrl+C.
            let start = self.world.now;
            let limit = start.plus(MAX_COMMAND_US);
            let mut events = 0usize;
            while !done(self) {
                match self.world.next_event_time() {
                    None => break,
                    Some(t) if t <= limit && events < MAX_COMMAND_EVENTS => {
                        self.world.step();
                        events += 1;
                    }
                    Some(_) => {
                        let name = self
                            .world
                            .apps
                            .get(&app)
                            .map_or("program".to_string(), |a| a.kind.name().to_string());
                        self.world.interrupt_app(app);
                        let secs = (self.world.now.0 - start.0) / 1_000_000;
                        self.note = Some(format!(
                            "lvslab: {name} stopped after {secs} s of simulated time and {events} events: the lab's bound on one command is {} s or {MAX_COMMAND_EVENTS} events\n",
                            MAX_COMMAND_US / 1_000_000
                        ));
                        break;
                    }
                }
            }
            return true;
        }
        let limit = self.world.now.plus(INTERACTIVE_WINDOW_US);
        while !done(self) {
            match self.world.next_event_time() {
                Some(t) if t <= limit => {
                    self.world.step();
                }
                _ => {
                    self.fg.insert(
                        host.to_string(),
                        Foreground {
                            job: Job::App { app, render },
                            head: String::new(),
                        },
                    );
                    return false;
                }
            }
        }
        true
    }

    /// The output of `host`'s running command so far.
    fn fg_text(&self, host: &str) -> Option<String> {
        let fg = self.fg.get(host)?;
        let (app, render) = match &fg.job {
            Job::App { app, render } => (*app, *render),
            Job::Watch(w) => return Some(w.frame.clone()),
        };
        let app = self.world.apps.get(&app)?;
        let mut text = fg.head.clone();
        for l in shown_lines(render, &app.output) {
            text.push_str(l);
            text.push('\n');
        }
        Some(text)
    }

    /// `host`'s foreground program has ended (or gets SIGINT now): print it
    /// as the command's output and give the terminal its prompt back.
    fn end_fg(&mut self, host: &str, interrupt: bool) -> Output {
        let Some(fg) = self.fg.remove(host) else {
            return Output::default();
        };
        let mut io = Io::default();
        io.out(fg.head);
        let (app, render) = match fg.job {
            Job::App { app, render } => (app, render),
            Job::Watch(w) => {
                // curses' endwin: the terminal leaves the alternate screen,
                // so what watch drew is gone; SIGINT ends it with status 0.
                io.status = w.exited.unwrap_or(0);
                self.last_status.insert(host.to_string(), io.status);
                return Output {
                    text: io.chunks.iter().map(|c| c.1.as_str()).collect(),
                    status: io.status,
                    hint: None,
                };
            }
        };
        let caret_at = if interrupt {
            let n = self.world.apps.get(&app).map_or(0, |a| a.output.len());
            self.world.interrupt_app(app);
            Some(n)
        } else {
            None
        };
        self.render_fg(app, render, caret_at, &mut io);
        self.last_status.insert(host.to_string(), io.status);
        Output {
            text: io.chunks.iter().map(|c| c.1.as_str()).collect(),
            status: io.status,
            hint: io.hint,
        }
    }

    /// Print a finished program `app` into `io`; `caret_at` is where the
    /// terminal echoed `^C` (after that many of its lines).
    pub(crate) fn render_fg(
        &mut self,
        app: u32,
        render: Render,
        caret_at: Option<usize>,
        io: &mut Io,
    ) {
        if render == Render::Tcpdump {
            super::tcpdump::finish(self, app, caret_at.is_some(), io);
            return;
        }
        let Some(a) = self.world.apps.remove(&app) else {
            return;
        };
        // The terminal echoes `^C` where the program was when the signal
        // came; what the program prints next starts on that line (ping's
        // statistics open with a newline, arping's do not).
        for (i, l) in a.output.iter().enumerate() {
            if caret_at == Some(i) {
                io.out("^C");
            }
            if shown(render, l) {
                io.outln(l);
            }
        }
        if caret_at.is_some_and(|n| n >= a.output.len()) {
            // Killed by the signal: bash ends the line.
            io.out("^C\n");
        }
        io.out(a.text);
        io.status = a.status;
        if let (AppKind::Curl(c), None) = (&a.kind, caret_at) {
            super::curl::finished(self, c, io);
        }
    }
}

/// A command line the terminal may leave running: one program, no pipes,
/// lists, redirections or loops.
fn simple_command(words: &[Word]) -> bool {
    words.first() != Some(&Word::Text("for".into()))
        && words.iter().all(|w| matches!(w, Word::Text(_)))
}

fn shown(render: Render, line: &str) -> bool {
    match render {
        Render::Ping { quiet: true } => {
            !(line.starts_with("64 bytes") || line.starts_with("From "))
        }
        Render::Arping { quiet: true } => false,
        _ => true,
    }
}

fn shown_lines(render: Render, lines: &[String]) -> impl Iterator<Item = &str> {
    lines
        .iter()
        .map(String::as_str)
        .filter(move |l| shown(render, l))
}

impl crate::sim::world::World {
    /// SIGINT to program `id` (Ctrl+C at its terminal).
    pub(crate) fn interrupt_app(&mut self, id: u32) {
        let now = self.now;
        let Some(mut app) = self.apps.remove(&id) else {
            return;
        };
        if !app.done {
            match &mut app.kind {
                AppKind::Ping(p) => {
                    crate::apps::finish_ping(p, &mut app.output, now);
                    app.status = i32::from(p.received == 0);
                }
                AppKind::Arping(a) => {
                    crate::apps::finish_arping(a, &mut app.output);
                    app.status = if a.dad {
                        i32::from(a.received > 0)
                    } else {
                        i32::from(a.received == 0)
                    };
                }
                AppKind::Curl(c) => {
                    if let Some(s) = c.sock {
                        let host = c.host.clone();
                        self.close_on_exit(&host, s);
                    }
                    app.status = STATUS_SIGINT;
                }
                // The shell stops a capture (`stop_tcpdump` writes its
                // file) and prints its counts.
                AppKind::Tcpdump(_) => {
                    self.apps.insert(id, app);
                    return;
                }
            }
            app.done = true;
        }
        self.apps.insert(id, app);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario;

    fn lab(name: &str) -> Lab {
        Lab::new(scenario::load(name).expect("scenario"))
    }

    const CURL: &str = "curl http://192.168.150.100/";

    /// The lab after the first curl, which round robin sends to node03 (it
    /// answers); the next one goes to node02, whose lo:2 is down.
    fn lo_down() -> Lab {
        let mut l = lab("pitfall-lo-down");
        let first = l.start("client", CURL);
        assert_eq!(first.output.text, "<h1>from 192.168.150.13</h1>\n");
        l
    }

    /// The tutorial's observation as written: a plain curl at the client
    /// keeps retrying its SYN while node01's table shows SYN_RECV.
    #[test]
    fn plain_curl_keeps_running_while_the_director_shows_syn_recv() {
        let mut l = lo_down();
        let s = l.start("client", CURL);
        assert!(s.running, "{s:?}");
        assert_eq!(s.output.text, "");
        assert!(l.is_running("client"));
        assert!(l.pass_time(3_000_000).iter().all(|p| p.status.is_none()));
        let t = l.start("node01", "ipvsadm -lnc").output.text;
        assert!(t.contains("SYN_RECV"), "{t}");
        // Another command at the busy terminal is refused, not queued.
        let busy = l.start("client", "echo hi");
        assert!(!busy.running && busy.output.status == 1);
        assert!(l.is_running("client"));
        let o = l.interrupt("client").expect("curl was running");
        assert_eq!(o.text, "^C\n");
        assert_eq!(o.status, STATUS_SIGINT);
        assert!(!l.is_running("client"));
        assert_eq!(l.start("client", "echo $?").output.text, "130\n");
        assert_eq!(l.interrupt("client"), None);
    }

    #[test]
    fn a_curl_left_alone_ends_as_curl_does_after_its_retries() {
        let mut l = lo_down();
        assert!(l.start("client", CURL).running);
        let mut ended = None;
        for _ in 0..140 {
            for p in l.pass_time(1_000_000) {
                if p.status.is_some() {
                    ended = Some(p);
                }
            }
        }
        let p = ended.expect("curl gave up");
        assert_eq!(p.host, "client");
        assert_eq!(p.status, Some(28));
        assert!(
            p.text
                .starts_with("curl: (28) Failed to connect to 192.168.150.100 port 80 after "),
            "{}",
            p.text
        );
        assert!(!l.is_running("client"));
    }

    #[test]
    fn what_ends_within_the_window_prints_at_once() {
        let mut l = lab("seed");
        let s = l.start("client", "curl -s http://192.168.150.100/");
        assert!(!s.running);
        assert!(
            s.output.text.contains("<h1>from 192.168.150.1"),
            "{:?}",
            s.output
        );
        let s = l.start("client", "ping -c 2 192.168.150.11");
        assert!(!s.running);
        assert!(s.output.text.contains("2 packets transmitted, 2 received"));
        // A list runs to completion however long it takes, as before.
        let mut d = lo_down();
        let s = d.start("client", "curl -m 5 http://192.168.150.100/; echo $?");
        assert!(!s.running);
        assert!(s.output.text.ends_with("28\n"), "{:?}", s.output);
    }

    #[test]
    fn ping_without_count_runs_until_ctrl_c() {
        let mut l = lab("seed");
        let s = l.start("client", "ping 192.168.150.12");
        assert!(s.running);
        let p = l.pass_time(2_500_000);
        assert_eq!(p.len(), 1);
        assert_eq!(
            p[0].text.matches("64 bytes from").count(),
            5,
            "{}",
            p[0].text
        );
        let o = l.interrupt("client").expect("running");
        assert!(o.text.contains("icmp_seq=5 ttl=64"), "{}", o.text);
        assert!(
            o.text
                .contains("^C\n--- 192.168.150.12 ping statistics ---\n5 packets transmitted, 5 received, 0% packet loss, time 4"),
            "{}",
            o.text
        );
        assert_eq!(o.status, 0);
    }

    #[test]
    fn a_capture_runs_while_another_terminal_makes_traffic() {
        let mut l = lab("seed");
        let s = l.start("node01", "tcpdump -i eth0 -n -c 2 tcp port 80");
        assert!(s.running);
        assert!(
            s.output.text.contains("listening on eth0"),
            "{:?}",
            s.output
        );
        l.start("client", "curl -s http://192.168.150.100/");
        let p = l.progress();
        let done: Vec<_> = p.iter().filter(|p| p.status == Some(0)).collect();
        assert_eq!(done.len(), 1, "{p:?}");
        assert!(
            done[0].text.contains("2 packets captured"),
            "{}",
            done[0].text
        );
        assert!(!l.is_running("node01"));
    }

    /// The log replays the session exactly: the same lab, the same output.
    #[test]
    fn the_log_replays_the_session() {
        let steps = vec![
            Step::run("client", CURL),
            Step::run("client", CURL),
            Step::Wait { wait_us: 1_250_000 },
            Step::Wait { wait_us: 2_000_000 },
            Step::run("node01", "ipvsadm -lnc"),
            Step::Wait { wait_us: 700_000 },
            Step::Interrupt {
                interrupt: "client".into(),
            },
            Step::run("client", "ping 192.168.150.11"),
            Step::Wait { wait_us: 1_500_000 },
            Step::Interrupt {
                interrupt: "client".into(),
            },
        ];
        let play = |steps: &[Step]| {
            let mut l = lab("pitfall-lo-down");
            let outs: Vec<_> = steps.iter().map(|s| l.replay(s)).collect();
            (serde_json::to_string(&l).expect("lab serialises"), outs)
        };
        let (a, oa) = play(&steps);
        let (b, ob) = play(&steps);
        assert_eq!(a, b);
        assert_eq!(oa, ob);
        // Two waits are one wait: the page may merge them.
        let mut merged = steps.clone();
        merged.splice(2..4, [Step::Wait { wait_us: 3_250_000 }]);
        assert_eq!(play(&merged).0, a);
        let json = serde_json::to_string(&steps).expect("steps serialise");
        assert!(
            json.contains(
                r#"{"host":"client","line":"curl http://192.168.150.100/"},{"wait_us":1250000}"#
            ),
            "{json}"
        );
        let back: Vec<Step> = serde_json::from_str(&json).expect("steps parse");
        assert_eq!(back, steps);
    }

    #[test]
    fn nc_refused_exits_1_and_held_until_ctrl_c() {
        let mut l = lab("seed");
        let o = l.start("client", "nc 192.168.150.12 81");
        assert_eq!(
            (o.output.text.as_str(), o.output.status, o.running),
            ("", 1, false)
        );
        let o = l.start("client", "nc -v 192.168.150.12 81");
        assert_eq!(
            o.output.text,
            "nc: connect to 192.168.150.12 port 81 (tcp) failed: Connection refused\n"
        );
        let o = l.run("client", "nc 192.168.150.12 81");
        assert_eq!(o.status, 1, "in a script too");
        let o = l.start("client", "nc -v 192.168.150.100 80");
        assert!(o.running, "{o:?}");
        assert_eq!(
            o.output.text,
            "Connection to 192.168.150.100 80 port [tcp/http] succeeded!\n"
        );
        let out = l.interrupt("client").expect("running");
        assert_eq!(out.status, 130);
        assert!(out.text.ends_with("^C\n"), "{out:?}");
    }
}
