//! The tour and exercise panels and the actions of their buttons.

use super::exercises::{exercise, exercise_id, EXERCISES};
use super::pick;
use super::tour::{command_known, TOUR};
use crate::act::Act;
use crate::html::{esc, Markup};
use crate::i18n::t;
use crate::state::{st, Motion, St};
use crate::w;
use leptos::prelude::*;

fn run_step(s: &St, i: usize) {
    let Some(step) = TOUR.get(i) else { return };
    let before = s.trace_len.get_untracked();
    for (h, l) in step.cmds {
        s.host_tab.set(h.to_string());
        s.run(h, l, true);
    }
    // Show the step's first packet, not the last command's.
    let after = s.trace_len.get_untracked();
    if after > before {
        s.select(Some(before), Motion::Jump);
        s.fresh.set(after - before);
    }
}

/// Which tour steps' commands the simulator knows (asked once).
fn tour_known() -> Vec<bool> {
    thread_local! {
        static KNOWN: Vec<bool> = TOUR.iter().map(|t| t.needs.is_none_or(command_known)).collect();
    }
    KNOWN.with(|k| k.clone())
}

/// Has tour step `i` been run in this lab (its commands are in the log)?
fn step_ran(cmds: &[crate::state::Step], i: usize) -> bool {
    use crate::state::Step;
    let want = TOUR[i].cmds;
    // The commands typed, in order (time passing between them does not count).
    let runs: Vec<(&str, &str)> = cmds
        .iter()
        .filter_map(|c| match c {
            Step::Run { host, line } => Some((host.as_str(), line.as_str())),
            _ => None,
        })
        .collect();
    !want.is_empty()
        && runs.windows(want.len()).any(|w| {
            w.iter()
                .zip(want.iter())
                .all(|((ch, cl), (h, l))| ch == h && cl == l)
        })
}

fn button(h: &mut Markup, cls: &str, act: Act, enabled: bool, label: &str) {
    w!(
        h,
        "<button class=\"btn {}\"{}{}>{}</button>",
        cls,
        act.attrs(),
        esc(if enabled { "" } else { " disabled" }),
        label
    );
}

fn tour_html(s: &St) -> Markup {
    let l = s.lang.get();
    let i = s.tour_step.get().min(TOUR.len() - 1);
    let cmds = s.cmds.get();
    let known = tour_known();
    let mut h = Markup::new();
    w!(
        h,
        "<div class=\"tour\"><ol class=\"tour-steps\" aria-label=\"{}\">",
        t(l, "tab.tour")
    );
    for (k, ts) in TOUR.iter().enumerate() {
        let mut cls = String::from("tour-dot");
        if k == i {
            cls.push_str(" on");
        }
        if step_ran(&cmds, k) {
            cls.push_str(" done");
        }
        w!(
            h,
            "<li><button class=\"{}\"{} title=\"{}\" aria-current=\"{}\">{}</button></li>",
            cls,
            Act::TourGo(k).attrs(),
            pick(l, ts.title),
            if k == i { "step" } else { "false" },
            k + 1
        );
    }
    h.raw("</ol>");
    let ts = &TOUR[i];
    let ok = known[i];
    w!(
        h,
        "<article class=\"tour-card\"><h3>{}</h3><p>{}</p><pre class=\"cmds\">",
        esc(pick(l, ts.title)),
        esc(pick(l, ts.text))
    );
    for (host, c) in ts.cmds {
        w!(
            h,
            "<span class=\"cmd-host\">[root@{}]# </span>{}\n",
            host,
            esc(c)
        );
    }
    h.raw("</pre>");
    if step_ran(&cmds, i) {
        step_outputs(&mut h, s, ts, l);
        if i + 1 == TOUR.len() {
            h.el("p", "note next", t(l, "tour.next"));
        }
    }
    if !ok {
        h.raw("<p class=\"note\">");
        h.push(&esc(pick(l, (
            "Not in the simulator yet: this step waits for the model it needs. The commands are shown so you know what comes.",
            "模拟器尚未支持：此步骤需要的模型还未完成。先列出命令，让你知道接下来会做什么。",
        ))));
        h.raw("</p>");
    }
    h.raw("<div class=\"row\">");
    button(
        &mut h,
        "",
        Act::TourPrev,
        i > 0,
        &format!("← {}", t(l, "prev.step")),
    );
    let run_label = if step_ran(&cmds, i) {
        format!("✓ {} · {}", t(l, "ran"), t(l, "run.step"))
    } else {
        t(l, "run.step").to_string()
    };
    button(&mut h, "primary", Act::TourRun, ok, &run_label);
    button(
        &mut h,
        "",
        Act::TourNext,
        i + 1 < TOUR.len(),
        &format!("{} →", t(l, "next.step")),
    );
    button(&mut h, "subtle", Act::TourRestart, true, t(l, "tour.start"));
    h.raw("</div></article></div>");
    h
}

/// What a tour step's commands printed, on every host they ran on (the
/// terminal shows one host at a time), and a link to the frame the
/// director forwards when the step produced one.
fn step_outputs(h: &mut Markup, s: &St, ts: &super::tour::TourStep, l: crate::i18n::Lang) {
    let mut forwarded = None;
    h.raw("<div class=\"tour-outs\">");
    s.terms.with(|terms| {
        for (host, line) in ts.cmds {
            let Some(it) = terms
                .get(*host)
                .and_then(|v| v.iter().rev().find(|x| !x.setup && x.line == *line))
            else {
                continue;
            };
            w!(h, "<div class=\"tour-out\" data-host=\"{}\"><code class=\"why-line\">[root@{} ~]# {}</code>", host, host, line);
            if !it.output.is_empty() {
                w!(h, "<pre class=\"why-out\">{}</pre>", it.output);
            }
            h.raw("</div>");
            if forwarded.is_none() {
                forwarded = s.lab.with(|lab| {
                    let trace = &lab.world.trace;
                    (it.first..it.first + it.count).find(|&j| {
                        trace[j].host == "node01"
                            && crate::inspector::forwarded_from(trace, j).is_some()
                    })
                });
            }
        }
    });
    h.raw("</div>");
    if let Some(j) = forwarded {
        w!(
            h,
            "<p><button class=\"btn small\"{}>→ {} (#{})</button></p>",
            Act::Jump(j).attrs(),
            t(l, "tour.fwd"),
            j + 1
        );
    }
}

#[component]
pub fn TourPanel() -> impl IntoView {
    let s = st();
    crate::act::markup("tour-panel", Box::new(move || tour_html(&s)))
}

/// Check the active exercise and record progress.
pub fn check_now(s: &St) {
    let Some(ex) = s.exercise.get_untracked().and_then(exercise) else {
        s.ex_result.set(None);
        return;
    };
    let r = s.lab.with_untracked(|l| (ex.check)(l));
    if r.is_ok() && !s.solved.with_untracked(|v| v.iter().any(|x| x == ex.id)) {
        s.solved.update(|v| v.push(ex.id.to_string()));
        s.solved.with_untracked(|v| crate::store::save_solved(v));
    }
    s.ex_result.set(Some(r));
}

/// Check quietly after every command while an exercise is open: the ✓
/// appears as soon as the goal is met, but an exploratory command never
/// prints a ✗ (the reasons come when the student asks: Check).
pub fn auto_check(s: St) {
    Effect::new(move |_| {
        let n = s.cmds.with(|c| c.len());
        let _ = s.exercise.get();
        untrack(|| {
            let Some(ex) = s.exercise.get_untracked().and_then(exercise) else {
                s.ex_result.set(None);
                return;
            };
            if n > 0 && s.lab.with_untracked(|l| (ex.check)(l)).is_ok() {
                check_now(&s);
            } else {
                s.ex_result.set(None);
            }
        });
    });
}

fn exercises_html(s: &St) -> Markup {
    let l = s.lang.get();
    let solved = s.solved.get();
    let active = s.exercise.get();
    let is_solved = |id: &str| solved.iter().any(|x| x == id);
    let n = EXERCISES.iter().filter(|e| is_solved(e.id)).count();
    let mut h = Markup::new();
    h.raw("<div class=\"ex\">");
    if let Some(ex) = active.and_then(exercise) {
        let hints = s.ex_hints.get();
        // The brief, the goal and Check with its result first: they stay on
        // the first screen of a 1280×800 page; the hints shown and the
        // setup's commands come after.
        w!(h, "<article class=\"ex-card\" data-exercise=\"{}\"><h3>{}: {}</h3><p class=\"story\"><b>{}</b> {}</p>", ex.id, esc(t(l, "ex.active")), esc(pick(l, ex.title)), esc(t(l, "ex.setup")), esc(pick(l, ex.story)));
        w!(
            h,
            "<p class=\"goal\"><b>{}:</b> {}</p><div class=\"row\">",
            esc(t(l, "ex.goal")),
            esc(pick(l, ex.goal))
        );
        button(&mut h, "primary", Act::ExCheck, true, t(l, "ex.check"));
        button(
            &mut h,
            "",
            Act::ExHint,
            hints < ex.hints.len(),
            &format!("{} ({hints}/{})", t(l, "ex.hint"), ex.hints.len()),
        );
        h.raw("</div>");
        match s.ex_result.get() {
            Some(Ok(())) => {
                w!(
                    h,
                    "<p class=\"verdict ok\" role=\"status\">✓ {}</p>",
                    esc(t(l, "ex.ok"))
                );
            }
            Some(Err(why)) => {
                w!(
                    h,
                    "<p class=\"verdict no\" role=\"status\">✗ {}</p>",
                    esc(pick(l, why))
                );
            }
            None => {}
        }
        if hints > 0 {
            h.raw("<ol class=\"hints\">");
            for hint in ex.hints.iter().take(hints) {
                w!(h, "<li>{}</li>", esc(pick(l, *hint)));
            }
            h.raw("</ol>");
        }
        h.raw("<pre class=\"cmds dim\">");
        for (host, c) in ex.setup {
            w!(h, "[root@{}]# {}\n", host, esc(c));
        }
        h.raw("</pre>");
        h.raw("</article>");
    }
    // The list: open when no exercise is active, folded under the active
    // one's card otherwise (the brief and the result stay in view).
    if active.is_some() {
        w!(
            h,
            "<details class=\"ex-all\"><summary>{} · {} / {} {}</summary>",
            t(l, "ex.back"),
            n,
            EXERCISES.len(),
            t(l, "ex.progress")
        );
    } else {
        w!(
            h,
            "<p class=\"muted\">{} / {} {}</p>",
            n,
            EXERCISES.len(),
            t(l, "ex.progress")
        );
    }
    h.raw("<ul class=\"ex-list\">");
    for e in EXERCISES {
        let ok = is_solved(e.id);
        w!(h, "<li class=\"{}\"><span class=\"ex-state{}\" title=\"{}\">{}</span><span class=\"ex-title\">{}</span><button class=\"btn small\" data-ex=\"{}\"{}>{}</button></li>", if active == Some(e.id) { "active" } else { "" }, if ok { " ok" } else { "" }, t(l, if ok { "ex.solved" } else { "ex.open" }), if ok { "✓" } else { "○" }, pick(l, e.title), e.id, Act::ExStart(e.id.to_string()).attrs(), t(l, "ex.start"));
    }
    h.raw("</ul>");
    if active.is_some() {
        h.raw("</details>");
    }
    h.raw("</div>");
    h
}

#[component]
pub fn ExercisePanel() -> impl IntoView {
    let s = st();
    crate::act::markup("ex-panel", Box::new(move || exercises_html(&s)))
}

/// Actions of the buttons in the tour, exercise and why panels.
pub fn act(s: &St, act: Act) {
    match act {
        Act::TourGo(k) => s.tour_step.set(k.min(TOUR.len() - 1)),
        Act::TourPrev => s.tour_step.update(|x| *x = x.saturating_sub(1)),
        Act::TourNext => s.tour_step.update(|x| *x = (*x + 1).min(TOUR.len() - 1)),
        Act::TourRun => run_step(s, s.tour_step.get_untracked()),
        Act::TourRestart => {
            s.load_new(&s.scenario.get_untracked(), None);
            s.tour_step.set(0);
        }
        Act::ExStart(id) => {
            if let Some(id) = exercise_id(&id) {
                s.ex_hints.set(0);
                s.ex_result.set(None);
                s.load_new(&s.scenario.get_untracked(), Some(id));
            }
        }
        Act::ExCheck => check_now(s),
        Act::ExHint => s.ex_hints.update(|h| *h += 1),
        Act::WhyTab(k) => s.why_tab.set(k),
        Act::WhyTry => {
            s.host_tab.set("node02".into());
            s.run(
                "node02",
                "ifconfig lo:2 192.168.150.100 netmask 255.255.255.0",
                true,
            );
            s.run("node02", "ip route show table local", true);
            s.run("node02", "ip route get 192.168.150.1", true);
        }
        _ => {}
    }
}
