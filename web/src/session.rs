//! The terminals' time: a program still running in one terminal (curl's SYN
//! retries, ping without `-c`, a capture) keeps running while the student
//! types in another, and Ctrl+C stops it.
//!
//! The engine decides what keeps running (`Lab::start`) and what time does
//! to it (`Lab::pass_time`); the page only moves the lab's clock with the
//! wall clock while something runs, and writes every such passage of time
//! and every Ctrl+C into the log (`Step`), so a link replays it exactly.

use crate::state::{Group, St, Step};
use leptos::prelude::*;
use lvslab_engine::shell::session::Progress;
use lvslab_engine::teach::failure;

/// How often the clock moves while a program runs (ms).
const TICK_MS: u64 = 200;

/// Where the lab's clock and the wall clock were when a program started
/// running: simulated time follows the wall clock from there.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    wall_ms: f64,
    sim_us: u64,
}

fn wall_ms() -> f64 {
    window().performance().map(|p| p.now()).unwrap_or_default()
}

impl St {
    /// Replay one step of a log (a link, an import): no wall clock involved.
    pub fn replay(&self, step: &Step) {
        self.replaying.set_value(true);
        match step {
            Step::Run { host, line } => self.run(host, line, true),
            Step::Wait { wait_us } => self.wait(*wait_us),
            Step::Interrupt { interrupt } => {
                self.interrupt(interrupt);
            }
        }
        self.replaying.set_value(false);
    }

    /// After a replay: a program left running runs on from now.
    pub fn resume_clock(&self) {
        self.clock.set_value(None);
        let sim = self.lab.with_untracked(|l| l.world.now.0);
        self.ensure_clock(sim);
    }

    /// A program started running at simulated time `sim_us`: start the
    /// clock (unless another program already runs it) and its ticker.
    pub(crate) fn ensure_clock(&self, sim_us: u64) {
        if self.replaying.get_value() || self.clock.get_value().is_some() {
            return;
        }
        if !self.lab.with_untracked(|l| !l.running_hosts().is_empty()) {
            return;
        }
        self.clock.set_value(Some(Clock {
            wall_ms: wall_ms(),
            sim_us,
        }));
        let st = *self;
        let epoch = self.epoch.get_untracked();
        if let Ok(handle) = set_interval_with_handle(
            move || st.tick(epoch),
            std::time::Duration::from_millis(TICK_MS),
        ) {
            if let Some(old) = self.ticker.get_value() {
                old.clear();
            }
            self.ticker.set_value(Some(handle));
        }
    }

    fn stop_clock(&self) {
        self.clock.set_value(None);
        if let Some(h) = self.ticker.get_value() {
            h.clear();
        }
        self.ticker.set_value(None);
    }

    fn tick(&self, epoch: u32) {
        if self.epoch.get_untracked() != epoch {
            // Another lab was loaded: this clock belonged to the old one.
            self.stop_clock();
            return;
        }
        self.catch_up();
    }

    /// Move the lab's clock to the wall clock's time (while a program runs).
    pub(crate) fn catch_up(&self) {
        if self.replaying.get_value() {
            return;
        }
        let Some(c) = self.clock.get_value() else {
            return;
        };
        let target = c.sim_us + ((wall_ms() - c.wall_ms).max(0.0) * 1000.0) as u64;
        let now = self.lab.with_untracked(|l| l.world.now.0);
        if target > now {
            self.wait(target - now);
        }
        if self.lab.with_untracked(|l| l.running_hosts().is_empty()) {
            self.stop_clock();
        }
    }

    /// `us` of simulated time pass: logged (merged with a wait just before),
    /// and the running terminals updated.
    pub fn wait(&self, us: u64) {
        let dropped = self.trace_dropped();
        let before = self.trace_len.get_untracked();
        let mut progress = vec![];
        self.lab.update(|l| progress = l.pass_time(us));
        let before = self.rebase(dropped, before);
        self.cmds.update(|c| match c.last_mut() {
            Some(Step::Wait { wait_us }) => *wait_us += us,
            _ => c.push(Step::Wait { wait_us: us }),
        });
        self.absorb(progress, before);
    }

    /// Ctrl+C at `host`'s terminal; false when nothing ran there.
    pub fn interrupt(&self, host: &str) -> bool {
        self.catch_up();
        let dropped = self.trace_dropped();
        let before = self.trace_len.get_untracked();
        let mut out = None;
        self.lab.update(|l| out = l.interrupt(host));
        let before = self.rebase(dropped, before);
        let Some(out) = out else {
            return false;
        };
        self.cmds.update(|c| {
            c.push(Step::Interrupt {
                interrupt: host.to_string(),
            })
        });
        self.absorb(
            vec![Progress {
                host: host.to_string(),
                text: out.text,
                status: Some(out.status),
            }],
            before,
        );
        if self.lab.with_untracked(|l| l.running_hosts().is_empty()) {
            self.stop_clock();
        }
        true
    }

    /// Show what running programs printed, and the events time added
    /// since trace index `before` (a timeline group of their own, named
    /// after the command that runs).
    pub(crate) fn absorb(&self, progress: Vec<Progress>, before: usize) {
        let mut label: Option<(String, String)> = None;
        let grew = self.lab.with_untracked(|l| l.world.trace.len()) > before;
        let changed = self.terms.with_untracked(|t| {
            progress.iter().any(|p| {
                t.get(&p.host)
                    .and_then(|v| v.iter().rev().find(|it| it.running))
                    .is_some_and(|it| {
                        it.output != p.text || p.status.is_some() || (grew && it.failure.is_none())
                    })
            })
        });
        if !changed {
            label = progress.first().and_then(|p| {
                self.terms.with_untracked(|t| {
                    t.get(&p.host)
                        .and_then(|v| v.iter().rev().find(|it| it.running))
                        .map(|it| (p.host.clone(), it.line.clone()))
                })
            });
        }
        self.terms.maybe_update(|t| {
            if !changed {
                return false;
            }
            for p in &progress {
                let Some(it) = t
                    .get_mut(&p.host)
                    .and_then(|v| v.iter_mut().rev().find(|it| it.running))
                else {
                    continue;
                };
                label.get_or_insert((p.host.clone(), it.line.clone()));
                if it.output != p.text {
                    it.output = p.text.clone();
                }
                if p.status.is_none() && it.failure.is_none() && grew {
                    // Still running: what its packets met so far (the
                    // typo lab's curl is retrying a SYN node02 drops).
                    it.failure = self.lab.with_untracked(|l| {
                        let end = l.world.trace.len();
                        failure::diagnose(&l.world, &p.host, &it.line, it.first..end)
                    });
                }
                if let Some(s) = p.status {
                    it.status = s;
                    it.running = false;
                    // Its summary covers every event since it started.
                    it.failure = self.lab.with_untracked(|l| {
                        let end = l.world.trace.len();
                        failure::summarize(&l.world, &p.host, &it.line, s, it.first..end)
                    });
                }
            }
            true
        });
        let after = self.lab.with_untracked(|l| l.world.trace.len());
        if after > before {
            let (host, line) = label.unwrap_or_default();
            self.groups.update(|g| {
                g.push(Group {
                    host,
                    line,
                    start: before,
                    end: after,
                })
            });
        }
    }
}
