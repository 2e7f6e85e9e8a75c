//! The app's state: one engine `Lab`, what was typed where, and what the
//! user is looking at. Every change to the lab goes through [`St::run`], so
//! the command list (what a shared link replays) is always complete.

use crate::guide::exercises;
use crate::i18n::Lang;
use crate::model::Links;
use crate::store;
use leptos::prelude::*;
use lvslab_engine::scenario;
use lvslab_engine::shell::Lab;
use lvslab_engine::teach::failure::{self, Failure};
use lvslab_engine::vecmap::VecMap;
use serde::{Deserialize, Serialize};

/// One step of the lab's log (a command, time passing, a Ctrl+C): what
/// links and exports replay.
pub use lvslab_engine::shell::session::Step;

/// A command line run on a host (compare mode's log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cmd {
    pub host: String,
    pub line: String,
}

/// One command in a terminal's scrollback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermItem {
    pub prompt: String,
    pub line: String,
    pub output: String,
    pub status: i32,
    /// Trace events this command produced: `first..first + count`.
    pub first: usize,
    pub count: usize,
    /// Run by an exercise's setup (shown dimmed).
    pub setup: bool,
    /// The engine's teaching hint about this command (en, zh).
    pub hint: Option<(String, String)>,
    /// Its program is still running (see `session`).
    pub running: bool,
    /// Why its packets were dropped or unanswered (the engine's summary).
    pub failure: Option<Failure>,
}

/// The trace range a command produced, for the timeline's headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub host: String,
    pub line: String,
    pub start: usize,
    pub end: usize,
}

/// What the host card shows: the terminal, or the host's state tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostView {
    Terminal,
    Tables,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    Inspect,
    Tour,
    Exercises,
    Why,
}

/// How the topology should show the selected event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motion {
    /// Animate (a single step forward, or playing).
    Animate,
    /// Jump straight to the end state.
    Jump,
}

#[derive(Clone, Copy)]
pub struct St {
    pub lang: RwSignal<Lang>,
    pub lab: RwSignal<Lab>,
    pub links: Memo<Links>,
    pub trace_len: Memo<usize>,
    pub scenario: RwSignal<String>,
    pub exercise: RwSignal<Option<&'static str>>,
    pub cmds: RwSignal<Vec<Step>>,
    pub groups: RwSignal<Vec<Group>>,
    pub terms: RwSignal<VecMap<String, Vec<TermItem>>>,
    /// Cleared-screen marks: items before this index are hidden.
    pub term_cleared: RwSignal<VecMap<String, usize>>,
    pub cursor: RwSignal<Option<usize>>,
    pub motion: RwSignal<Motion>,
    pub playing: RwSignal<bool>,
    pub speed: RwSignal<f64>,
    pub host_tab: RwSignal<String>,
    pub host_view: RwSignal<HostView>,
    /// The host card fills the page (a big terminal).
    pub maxi: RwSignal<bool>,
    pub panel: RwSignal<Panel>,
    pub pinned: RwSignal<Option<usize>>,
    pub big: RwSignal<bool>,
    pub frames_only: RwSignal<bool>,
    pub host_filter: RwSignal<Option<String>>,
    pub toast: RwSignal<Option<String>>,
    /// Events added by the last command that have not been stepped to yet.
    pub fresh: RwSignal<usize>,
    /// Tour step shown.
    pub tour_step: RwSignal<usize>,
    /// Exercises solved (persisted in localStorage).
    pub solved: RwSignal<Vec<String>>,
    /// Bumped when the lab is replaced wholesale (scenario load, import).
    pub epoch: RwSignal<u32>,
    /// Hints shown for the active exercise.
    pub ex_hints: RwSignal<usize>,
    /// The last check of the active exercise: Ok, or why not (en, zh).
    pub ex_result: RwSignal<Option<Result<(), (&'static str, &'static str)>>>,
    /// The "why" view shown.
    pub why_tab: RwSignal<u8>,
    /// The next URL update starts a new history entry (a new lab was
    /// loaded: Back returns to the previous one).
    pub push_hash: StoredValue<bool>,
    /// The lab's clock follows the wall clock from here while a program
    /// runs in a terminal.
    pub clock: StoredValue<Option<crate::session::Clock>>,
    pub ticker: StoredValue<Option<IntervalHandle>>,
    /// A log is being replayed: the wall clock does not count.
    pub replaying: StoredValue<bool>,
}

pub fn st() -> St {
    expect_context::<St>()
}

impl St {
    pub fn new() -> St {
        let lab = RwSignal::new(Lab::new(scenario::bare()));
        let links = Memo::new(move |_| lab.with(|l| Links::build(&l.world)));
        let trace_len = Memo::new(move |_| lab.with(|l| l.world.trace.len()));
        St {
            lang: RwSignal::new(store::load_lang()),
            lab,
            links,
            trace_len,
            scenario: RwSignal::new("bare".into()),
            exercise: RwSignal::new(None),
            cmds: RwSignal::new(vec![]),
            groups: RwSignal::new(vec![]),
            terms: RwSignal::new(VecMap::new()),
            term_cleared: RwSignal::new(VecMap::new()),
            cursor: RwSignal::new(None),
            motion: RwSignal::new(Motion::Jump),
            playing: RwSignal::new(false),
            speed: RwSignal::new(1.0),
            host_tab: RwSignal::new("client".into()),
            host_view: RwSignal::new(HostView::Terminal),
            maxi: RwSignal::new(false),
            panel: RwSignal::new(Panel::Inspect),
            pinned: RwSignal::new(None),
            big: RwSignal::new(store::load_flag("lvslab.big")),
            frames_only: RwSignal::new(false),
            host_filter: RwSignal::new(None),
            toast: RwSignal::new(None),
            fresh: RwSignal::new(0),
            tour_step: RwSignal::new(0),
            solved: RwSignal::new(store::load_solved()),
            epoch: RwSignal::new(0),
            ex_hints: RwSignal::new(0),
            ex_result: RwSignal::new(None),
            why_tab: RwSignal::new(0),
            push_hash: StoredValue::new(false),
            clock: StoredValue::new(None),
            ticker: StoredValue::new(None),
            replaying: StoredValue::new(false),
        }
    }

    pub fn lang_now(&self) -> Lang {
        self.lang.get_untracked()
    }

    /// The prompt a host's shell shows, bash's `[\u@\h \W]\$`.
    pub fn prompt(&self, host: &str) -> String {
        let cwd = self.lab.with_untracked(|l| l.cwd(host));
        let w = if cwd == "/root" {
            "~".to_string()
        } else if cwd == "/" {
            "/".to_string()
        } else {
            cwd.rsplit('/').next().unwrap_or("").to_string()
        };
        format!("[root@{host} {w}]#")
    }

    /// Run a command line in the engine on `host`, record it, and show its
    /// first new event. `record` is false for exercise setup commands
    /// (which run to completion, as a script does); a recorded command's
    /// program may keep running in its terminal (see `session`).
    pub fn run(&self, host: &str, line: &str, record: bool) {
        self.catch_up();
        let prompt = self.prompt(host);
        let dropped = self.trace_dropped();
        let before = self.trace_len.get_untracked();
        let start_us = self.lab.with_untracked(|l| l.world.now.0);
        let mut out = lvslab_engine::shell::Output::default();
        let mut running = false;
        let mut progress = vec![];
        self.lab.update(|l| {
            if record {
                let s = l.start(host, line);
                out = s.output;
                running = s.running;
                progress = l.progress();
            } else {
                out = l.run(host, line);
            }
        });
        let before = self.rebase(dropped, before);
        let (after, failure) = self.lab.with_untracked(|l| {
            let after = l.world.trace.len();
            // A program still running has not failed yet: what its packets
            // met so far (its summary proper comes when it ends, `absorb`).
            let f = if running {
                failure::diagnose(&l.world, host, line, before..after)
            } else {
                failure::summarize(&l.world, host, line, out.status, before..after)
            };
            (after, f)
        });
        let count = after.saturating_sub(before);
        if record {
            self.cmds.update(|c| c.push(Step::run(host, line)));
        }
        if count > 0 {
            self.groups.update(|g| {
                g.push(Group {
                    host: host.into(),
                    line: line.into(),
                    start: before,
                    end: after,
                })
            });
        }
        self.terms.update(|t| {
            t.entry(host.to_string()).or_default().push(TermItem {
                prompt,
                line: line.into(),
                output: out.text,
                status: out.status,
                first: before,
                count,
                setup: !record,
                hint: out.hint,
                running,
                failure,
            })
        });
        // Other terminals' programs may have printed or ended meanwhile.
        let now_len = self.lab.with_untracked(|l| l.world.trace.len());
        self.absorb(progress, now_len);
        if running {
            self.ensure_clock(start_us);
        }
        if count > 0 && record {
            self.playing.set(false);
            self.motion.set(Motion::Jump);
            self.cursor.set(Some(before));
            self.fresh.set(count);
        }
    }

    /// How many events the engine has dropped from the trace's front.
    pub(crate) fn trace_dropped(&self) -> u64 {
        self.lab.with_untracked(|l| l.world.trace_dropped)
    }

    /// After an engine call: if it dropped the oldest events (`trace_dropped`
    /// was `dropped0`), shift every trace index the page holds, and return
    /// `before` (an index taken before the call) shifted alike.
    pub(crate) fn rebase(&self, dropped0: u64, before: usize) -> usize {
        let d = (self.trace_dropped() - dropped0) as usize;
        if d == 0 {
            return before;
        }
        let back = |i: usize| i.checked_sub(d);
        self.groups.update(|g| {
            g.retain(|x| x.end > d);
            for x in g.iter_mut() {
                x.start = x.start.saturating_sub(d);
                x.end -= d;
            }
        });
        self.terms.update(|t| {
            for items in t.values_mut() {
                for it in items.iter_mut() {
                    let end = (it.first + it.count).saturating_sub(d);
                    it.first = it.first.saturating_sub(d);
                    it.count = end - it.first;
                    if let Some(f) = &mut it.failure {
                        f.event = f.event.and_then(back);
                    }
                }
            }
        });
        self.cursor.update(|c| *c = c.map(|i| i.saturating_sub(d)));
        self.pinned.update(|p| *p = p.and_then(back));
        before.saturating_sub(d)
    }

    /// Run several lines in order on one host (a multi-line paste).
    pub fn run_lines(&self, host: &str, text: &str) {
        for line in text.lines() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            // `HOST# COMMAND` lines (the lab-script format) go to that host.
            if let Some((h, cmd)) = lvslab_engine::shell::parse_script_line(line) {
                if self.lab.with_untracked(|l| l.world.hosts.contains_key(h)) {
                    self.run(h, cmd, true);
                    continue;
                }
            }
            self.run(host, line, true);
        }
    }

    /// Start over: a fresh scenario, optionally an exercise's broken setup.
    /// Start over from a user action: the old lab stays one Back away.
    pub fn load_new(&self, scenario_name: &str, exercise: Option<&'static str>) {
        self.push_hash.set_value(true);
        self.load(scenario_name, exercise);
    }

    pub fn load(&self, scenario_name: &str, exercise: Option<&'static str>) {
        let ex = exercise.and_then(exercises::exercise);
        let scenario_name = ex.map_or(scenario_name, |e| e.scenario);
        let world = match scenario::load(scenario_name) {
            Ok(w) => w,
            Err(_) => scenario::bare(),
        };
        self.playing.set(false);
        self.clock.set_value(None);
        if let Some(h) = self.ticker.get_value() {
            h.clear();
        }
        self.ticker.set_value(None);
        self.lab.set(Lab::new(world));
        self.scenario.set(scenario_name.to_string());
        self.exercise.set(exercise);
        self.cmds.set(vec![]);
        self.groups.set(vec![]);
        self.terms.set(VecMap::new());
        self.term_cleared.set(VecMap::new());
        self.cursor.set(None);
        self.pinned.set(None);
        self.fresh.set(0);
        self.host_filter.set(None);
        if let Some(ex) = ex {
            for (h, line) in ex.setup {
                self.run(h, line, false);
            }
            self.host_tab.set(ex.host.to_string());
        }
        self.epoch.update(|e| *e += 1);
    }

    /// Select an event, stepping (animated) or jumping.
    pub fn select(&self, i: Option<usize>, motion: Motion) {
        self.motion.set(motion);
        self.cursor.set(i);
        if let Some(i) = i {
            let fresh = self.fresh.get_untracked();
            let len = self.trace_len.get_untracked();
            if fresh > 0 && i + fresh >= len {
                self.fresh.set(len.saturating_sub(i + 1));
            }
        }
    }

    /// The events the timeline shows (after the filters), in order.
    pub fn visible(&self) -> Vec<usize> {
        let frames = self.frames_only.get();
        let host = self.host_filter.get();
        self.lab.with(|l| {
            l.world
                .trace
                .iter()
                .enumerate()
                .filter(|(_, e)| !frames || e.kind.is_wire())
                .filter(|(_, e)| host.as_ref().is_none_or(|h| &e.host == h))
                .map(|(i, _)| i)
                .collect()
        })
    }

    /// Step to the next (or previous) visible event.
    pub fn step(&self, forward: bool) -> bool {
        let vis = self.visible_untracked();
        let cur = self.cursor.get_untracked();
        let next = match (cur, forward) {
            (None, true) => vis.first().copied(),
            (None, false) => None,
            (Some(c), true) => vis.iter().copied().find(|&i| i > c),
            (Some(c), false) => vis.iter().rev().copied().find(|&i| i < c),
        };
        match next {
            Some(n) => {
                self.select(
                    Some(n),
                    if forward {
                        Motion::Animate
                    } else {
                        Motion::Jump
                    },
                );
                true
            }
            None => false,
        }
    }

    pub fn visible_untracked(&self) -> Vec<usize> {
        untrack(|| self.visible())
    }

    pub fn flash(&self, msg: String) {
        self.toast.set(Some(msg));
        let toast = self.toast;
        set_timeout(
            move || toast.set(None),
            std::time::Duration::from_millis(2500),
        );
    }
}

impl Default for St {
    fn default() -> Self {
        St::new()
    }
}
