//! `watch`: rerun a command every few seconds and show its output full
//! screen (procps-ng's watch, 3.3.17 and 4.0 as Debian 12 ships it).
//!
//! procps' `watch` runs `sh -c COMMAND` with stdout and stderr on one pipe,
//! draws the first screenful with curses under a header (`Every 2.0s:
//! COMMAND` on the left, `HOST: ctime` on the right, a blank line), then
//! sleeps the interval (`-n`, at least 0.1 s) after the command ended — or,
//! with `-p`, until the next multiple of the interval since it started.
//! Lines longer than the terminal wrap; tabs go to the next multiple of 8;
//! what does not fit below the header is not shown. SIGINT ends it with
//! status 0 and curses' `endwin` gives the terminal its screen back, so
//! nothing of what watch drew stays in the scrollback. `-g` exits when the
//! output changes; `-e` freezes the screen on a failing command with
//! "command exit with a non-zero status, press a key to exit".
//!
//! We model a terminal of 80 columns and 24 lines (the page's terminal is
//! at least that), the lab's wall clock for the header's time, and the
//! shell's own command runner for `sh -c`. A watch is a terminal's
//! foreground job ([`super::session`]): each rerun happens at its simulated
//! time while [`Lab::pass_time`] moves the clock, so a share link replays
//! it exactly. Where we depart: `-d` (highlight the differences) needs
//! terminal attributes the page's text does not carry, and is refused;
//! outside a terminal of the page (a script, `&`) watch has nowhere to draw
//! and the lab says so, where the real one would draw curses escapes into a
//! file forever.

use super::session::{Foreground, Job};
use super::{Io, Lab};
use crate::time::{SimTime, WallClock};

/// The terminal watch draws on.
const COLUMNS: usize = 80;
const LINES: usize = 24;

/// procps' default interval and its bounds (`interval < 0.1` becomes 0.1,
/// more than `~0u / 1000000` seconds is clipped).
const DEFAULT_INTERVAL_US: u64 = 2_000_000;
const MIN_INTERVAL_US: u64 = 100_000;
const MAX_INTERVAL_US: u64 = (u32::MAX as u64 / 1_000_000) * 1_000_000;

/// A running `watch`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Watch {
    /// The command as watch joins its arguments (and shows in the header).
    command: String,
    interval_us: u64,
    title: bool,
    precise: bool,
    chgexit: bool,
    errexit: bool,
    /// When the command runs next; `None` once frozen by `-e`.
    next_at: Option<SimTime>,
    /// `-p`: when the first run started.
    started: SimTime,
    runs: u64,
    /// The screen as drawn last.
    pub frame: String,
    /// The output of the last run, for `-g`.
    last_body: Option<String>,
    /// Set when watch exits by itself (`-g`), with its status.
    pub exited: Option<i32>,
}

fn usage(io: &mut Io, to_stderr: bool) {
    let text = "\nUsage:\n watch [options] command\n\nOptions:\n  -b, --beep             beep if command has a non-zero exit\n  -c, --color            interpret ANSI color and style sequences\n  -d, --differences[=<permanent>]\n                         highlight changes between updates\n  -e, --errexit          exit if command has a non-zero exit\n  -g, --chgexit          exit when output from command changes\n  -n, --interval <secs>  seconds to wait between updates\n  -p, --precise          attempt run command in precise intervals\n  -t, --no-title         turn off header\n  -x, --exec             pass command to exec instead of \"sh -c\"\n\n -h, --help     display this help and exit\n -v, --version  output version information and exit\n\nFor more details see watch(1).\n";
    if to_stderr {
        io.chunks.push((true, text.to_string()));
        io.status = 1;
    } else {
        io.out(text);
    }
}

/// procps' `strtod_or_err` on `-n`'s argument, then its bounds.
fn interval(v: &str) -> Result<u64, String> {
    let secs: f64 = v
        .parse()
        .ok()
        .filter(|s: &f64| !s.is_nan())
        .ok_or_else(|| format!("watch: failed to parse argument: '{v}'"))?;
    let us = (secs.max(0.1) * 1e6).round();
    Ok((us as u64).clamp(MIN_INTERVAL_US, MAX_INTERVAL_US))
}

/// `watch [options] command`, typed at `host`'s terminal.
pub fn watch(lab: &mut Lab, host: &str, args: &[String], background: bool, io: &mut Io) {
    let mut w = Watch {
        command: String::new(),
        interval_us: DEFAULT_INTERVAL_US,
        title: true,
        precise: false,
        chgexit: false,
        errexit: false,
        next_at: None,
        started: lab.world.now,
        runs: 0,
        frame: String::new(),
        last_body: None,
        exited: None,
    };
    let mut i = 0;
    // getopt "+bced::ghn:pvtx": options end at the first other word.
    while let Some(a) = args.get(i) {
        let a = a.as_str();
        if a == "--" {
            i += 1;
            break;
        }
        if let Some(long) = a.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            match name {
                "interval" => {
                    let v = value.or_else(|| {
                        i += 1;
                        args.get(i).cloned()
                    });
                    if !set_interval(&mut w, v, "option '--interval' requires an argument", io) {
                        return;
                    }
                }
                "no-title" => w.title = false,
                "precise" => w.precise = true,
                "chgexit" => w.chgexit = true,
                "errexit" => w.errexit = true,
                "beep" | "color" | "exec" => {}
                "differences" => return refuse_differences(io),
                "help" => return usage(io, false),
                "version" => return io.outln("watch from procps-ng 4.0.2"),
                _ => {
                    io.errln(format!("watch: unrecognized option '{a}'"));
                    usage(io, true);
                    return;
                }
            }
            i += 1;
            continue;
        }
        if !a.starts_with('-') || a == "-" {
            break;
        }
        let flags: Vec<char> = a[1..].chars().collect();
        let mut k = 0;
        while k < flags.len() {
            match flags[k] {
                'n' => {
                    let rest: String = flags[k + 1..].iter().collect();
                    let v = if rest.is_empty() {
                        i += 1;
                        args.get(i).cloned()
                    } else {
                        Some(rest)
                    };
                    if !set_interval(&mut w, v, "option requires an argument -- 'n'", io) {
                        return;
                    }
                    k = flags.len();
                    continue;
                }
                't' => w.title = false,
                'p' => w.precise = true,
                'g' => w.chgexit = true,
                'e' => w.errexit = true,
                'b' | 'c' | 'x' => {}
                'd' => return refuse_differences(io),
                'h' => return usage(io, false),
                'v' => return io.outln("watch from procps-ng 4.0.2"),
                c => {
                    io.errln(format!("watch: invalid option -- '{c}'"));
                    usage(io, true);
                    return;
                }
            }
            k += 1;
        }
        i += 1;
    }
    if i >= args.len() {
        usage(io, true);
        return;
    }
    w.command = args[i..].join(" ");
    if background || !lab.interactive {
        io.errln(
            "lvslab: watch draws on a terminal until Ctrl+C: type it in a terminal of the page \
             (in a script, repeat the command with sleep)",
        );
        io.status = 1;
        return;
    }
    lab.fg.insert(
        host.to_string(),
        Foreground {
            job: Job::Watch(w),
            head: String::new(),
        },
    );
    lab.watch_tick(host);
}

/// `-n`'s value into `w`; false (and the error in `io`) when it is
/// missing or not a number.
fn set_interval(w: &mut Watch, v: Option<String>, missing: &str, io: &mut Io) -> bool {
    let Some(v) = v else {
        io.errln(format!("watch: {missing}"));
        usage(io, true);
        return false;
    };
    match interval(&v) {
        Ok(us) => {
            w.interval_us = us;
            true
        }
        Err(e) => {
            io.errln(e);
            io.status = 1;
            false
        }
    }
}

fn refuse_differences(io: &mut Io) {
    io.errln("lvslab: watch -d highlights changes with terminal attributes, which this lab's terminal does not show");
    io.status = 1;
}

impl Lab {
    /// The earliest rerun due among the running watches.
    pub(crate) fn next_watch_tick(&self) -> Option<(SimTime, String)> {
        self.fg
            .iter()
            .filter_map(|(h, fg)| match &fg.job {
                Job::Watch(w) if w.exited.is_none() => w.next_at.map(|t| (t, h.clone())),
                _ => None,
            })
            .min()
    }

    /// Run `host`'s watched command now and draw its screen.
    pub(crate) fn watch_tick(&mut self, host: &str) {
        let Some(Foreground {
            job: Job::Watch(w), ..
        }) = self.fg.get(host)
        else {
            return;
        };
        let command = w.command.clone();
        let at = self.world.now;
        // `sh -c COMMAND`: the command runs to its end, as in a script.
        let interactive = std::mem::replace(&mut self.interactive, false);
        let out = self.run(host, &command);
        self.interactive = interactive;
        let Some(Foreground {
            job: Job::Watch(w), ..
        }) = self.fg.get_mut(host)
        else {
            return;
        };
        w.runs += 1;
        let changed = w.last_body.as_ref().is_some_and(|b| *b != out.text);
        let mut screen = draw(&out.text, w.title.then(|| header(w, host, at)));
        if w.chgexit && changed {
            w.exited = Some(0);
        } else if w.errexit && out.status != 0 {
            // Frozen until a key (Ctrl+C here) ends it.
            while screen.len() < LINES - 1 {
                screen.push(String::new());
            }
            screen.truncate(LINES - 1);
            screen.push("command exit with a non-zero status, press a key to exit".into());
            w.next_at = None;
        } else {
            w.next_at = Some(if w.precise {
                // next_loop += interval, however long the command took.
                let due = w.started.plus(w.interval_us.saturating_mul(w.runs));
                due.max(self.world.now)
            } else {
                self.world.now.plus(w.interval_us)
            });
        }
        w.last_body = Some(out.text);
        let mut frame = String::new();
        for l in screen {
            frame.push_str(l.trim_end());
            frame.push('\n');
        }
        w.frame = frame;
    }
}

/// `Every 2.0s: COMMAND` left, `HOST: ctime` right, clipped to the width
/// as procps clips it.
fn header(w: &Watch, host: &str, at: SimTime) -> String {
    let c = WallClock::at(at);
    let ts = format!(
        "{host}: {} {} {:>2} {} {}",
        c.weekday_name(),
        c.month_name(),
        c.day,
        c.hms(),
        c.year
    );
    let head = format!("Every {:.1}s: ", w.interval_us as f64 / 1e6);
    // procps counts ctime's newline in its length.
    let tsl = ts.chars().count() + 1;
    let hlen = head.chars().count();
    let mut line: Vec<char> = vec![' '; COLUMNS];
    let put = |line: &mut Vec<char>, at: usize, s: &str| {
        for (k, ch) in s.chars().enumerate() {
            if let Some(slot) = line.get_mut(at + k) {
                *slot = ch;
            }
        }
    };
    if COLUMNS < tsl {
        return String::new();
    }
    if tsl + hlen < COLUMNS {
        put(&mut line, 0, &head);
        if tsl + hlen + 2 <= COLUMNS {
            if COLUMNS < tsl + hlen + 4 {
                put(&mut line, COLUMNS - tsl - 4, "... ");
            } else if COLUMNS < tsl + hlen + w.command.chars().count() {
                let avail = COLUMNS - tsl - hlen;
                let cut: String = w.command.chars().take(avail.saturating_sub(4)).collect();
                put(&mut line, hlen, &cut);
                put(&mut line, COLUMNS - tsl - 4, "... ");
            } else {
                put(&mut line, hlen, &w.command);
            }
        }
    }
    put(&mut line, COLUMNS - tsl + 1, &ts);
    line.into_iter().collect()
}

/// The screen's lines: the header and a blank line, then the output wrapped
/// at the width, tabs expanded, as many lines as fit.
fn draw(output: &str, header: Option<String>) -> Vec<String> {
    let mut screen = Vec::new();
    if let Some(h) = header {
        screen.push(h);
        screen.push(String::new());
    }
    for l in output.lines() {
        let mut cur = String::new();
        let mut col = 0;
        for ch in l.chars() {
            if ch == '\t' {
                let to = (col / 8 + 1) * 8;
                while col < to && col < COLUMNS {
                    cur.push(' ');
                    col += 1;
                }
            } else if !ch.is_control() {
                cur.push(ch);
                col += 1;
            }
            if col >= COLUMNS {
                screen.push(std::mem::take(&mut cur));
                col = 0;
            }
        }
        if col > 0 || l.is_empty() || !cur.is_empty() {
            screen.push(cur);
        }
    }
    screen.truncate(LINES);
    screen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario;

    fn lab(name: &str) -> Lab {
        Lab::new(scenario::load(name).expect("scenario"))
    }

    #[test]
    fn header_as_procps_draws_it() {
        let w = Watch {
            command: "ipvsadm -lnc".into(),
            interval_us: 2_000_000,
            title: true,
            precise: false,
            chgexit: false,
            errexit: false,
            next_at: None,
            started: SimTime(0),
            runs: 0,
            frame: String::new(),
            last_body: None,
            exited: None,
        };
        let h = header(&w, "node01", SimTime(0));
        assert_eq!(h.chars().count(), COLUMNS);
        assert!(h.starts_with("Every 2.0s: ipvsadm -lnc "), "{h}");
        assert!(h.ends_with("node01: Fri Mar 12 09:00:00 2021"), "{h}");
        let long = Watch {
            command: "x".repeat(70),
            ..w
        };
        let h = header(&long, "node01", SimTime(0));
        assert!(h.contains("xxx...  node01: Fri"), "{h}");
    }

    #[test]
    fn lines_wrap_at_80_and_tabs_expand() {
        let s = draw(&format!("{}\na\tb\n", "y".repeat(85)), None);
        assert_eq!(s, vec!["y".repeat(80), "yyyyy".into(), "a       b".into()]);
        let many = "l\n".repeat(40);
        assert_eq!(draw(&many, Some("h".into())).len(), LINES);
    }

    #[test]
    fn reruns_on_time_and_ctrl_c_clears() {
        let mut l = lab("seed");
        let s = l.start("node01", "watch -n 1 ipvsadm -lnc");
        assert!(s.running, "{s:?}");
        assert!(
            s.output.text.starts_with("Every 1.0s: ipvsadm -lnc"),
            "{}",
            s.output.text
        );
        assert!(
            s.output.text.contains("IPVS connection entries"),
            "{}",
            s.output.text
        );
        let t0 = l.world.now;
        let curl = l.start("client", "curl -s http://192.168.150.100/");
        assert!(!curl.running);
        let p = l.pass_time(1_500_000);
        let frame = &p.iter().find(|p| p.host == "node01").expect("node01").text;
        assert!(
            frame.contains("TCP"),
            "the rerun shows the connection: {frame}"
        );
        assert!(l.world.now >= t0.plus(1_500_000));
        let out = l.interrupt("node01").expect("running");
        assert_eq!((out.text.as_str(), out.status), ("", 0));
        assert!(!l.is_running("node01"));
    }

    #[test]
    fn chgexit_ends_when_the_output_changes() {
        let mut l = lab("seed");
        assert!(l.start("node01", "watch -g -n 1 ipvsadm -lnc").running);
        l.start("client", "curl -s http://192.168.150.100/");
        let p = l.pass_time(3_000_000);
        let end = p.iter().find(|p| p.host == "node01").expect("node01");
        assert_eq!(end.status, Some(0));
        assert!(!l.is_running("node01"));
    }

    #[test]
    fn scripts_and_bad_options_get_clear_errors() {
        let mut l = lab("seed");
        let o = l.run("node01", "watch ipvsadm -ln");
        assert_eq!(o.status, 1);
        assert!(o.text.contains("Ctrl+C"), "{}", o.text);
        let o = l.start("node01", "watch -z ls");
        assert!(o.output.text.starts_with("watch: invalid option -- 'z'"));
        assert!(!o.running);
        let o = l.start("node01", "watch -n abc ls");
        assert_eq!(o.output.text, "watch: failed to parse argument: 'abc'\n");
        let o = l.start("node01", "watch -d ls");
        assert_eq!(o.output.status, 1);
        let o = l.start("node01", "watch");
        assert!(o.output.text.contains("Usage:"));
        let o = l.start("node01", "watch -n");
        assert!(o
            .output
            .text
            .starts_with("watch: option requires an argument -- 'n'\n"));
        let o = l.start("node01", "watch --interval");
        assert!(o
            .output
            .text
            .starts_with("watch: option '--interval' requires an argument\n"));
        let o = l.start("node01", "watch --interval=0.5 -t hostname");
        assert!(o.running);
        assert_eq!(o.output.text, "node01\n", "-t: no header");
        let o = l.start("client", "watch -n0.05 hostname");
        assert!(
            o.output.text.starts_with("Every 0.1s: hostname"),
            "at least 0.1 s"
        );
    }

    #[test]
    fn replaying_the_log_gives_the_same_screen() {
        let steps = [
            super::super::session::Step::run("node01", "watch -n 0.5 ipvsadm -ln --stats"),
            super::super::session::Step::run("client", "curl -s http://192.168.150.100/"),
            super::super::session::Step::Wait { wait_us: 1_200_000 },
        ];
        let screen = |steps: &[super::super::session::Step]| {
            let mut l = lab("seed");
            for s in steps {
                l.replay(s);
            }
            l.progress()
        };
        assert_eq!(screen(&steps), screen(&steps));
    }
}
