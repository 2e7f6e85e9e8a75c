//! The Live view's panels as markup (see html.rs): header, services,
//! connections, doctor, apply.

use super::api::{counters, DoctorAnswer, PlanAnswer, Snapshot};
use super::st::{state_class, ApplyStep, LiveSt, STALE_MS};
use crate::act::Act;
use crate::html::{esc, Markup};
use crate::i18n::{t, Lang};
use crate::w;
use leptos::prelude::*;

/// The status line: connecting, connected (age of the last snapshot) or
/// stale.
fn state_text(l: LiveSt, lang: Lang) -> String {
    match l.last_ms.get() {
        None => t(lang, "live.connecting").to_string(),
        Some(at) => {
            let age = (l.now_ms.get() - at).max(0.0) / 1000.0;
            if age * 1000.0 > STALE_MS {
                format!(
                    "{} {age:.0} {}",
                    t(lang, "live.stale"),
                    t(lang, "live.stale.s")
                )
            } else {
                format!(
                    "{} · {} {age:.1} {}",
                    t(lang, "live.connected"),
                    t(lang, "live.updated"),
                    t(lang, "live.ago")
                )
            }
        }
    }
}

/// The panel's header, notices and card titles: markup (see html.rs), its
/// buttons carry their [`Act`].
pub fn head_html(l: LiveSt, lang: Lang) -> Markup {
    let state = state_class(l);
    let mut h = Markup::new();
    w!(h, "<header class=\"live-head\"><h2 id=\"live-h\">{}</h2><span id=\"live-state\" class=\"live-state {}\" data-state=\"{}\" role=\"status\">{}</span><span class=\"muted small\" id=\"live-source\">{}</span><div class=\"spacer\"></div><button class=\"btn\" id=\"live-load\"{}{}>{}</button><button class=\"btn\" id=\"live-close\"{}>{}</button></header>", t(lang, "live.heading"), state, state, state_text(l, lang), l.snap.with(|x| x.as_ref().map(|x| x.source.detail.clone()).unwrap_or_default()), Act::LiveLoad.attrs(), if l.busy.get() { " disabled" } else { "" }, t(lang, "live.load"), Act::LiveClose.attrs(), t(lang, "live.close"));
    if l.status
        .with(|s| s.as_ref().is_some_and(|s| s.source.kind == "simulated"))
    {
        w!(
            h,
            "<p class=\"live-sim\" id=\"live-simulated\">{}</p>",
            esc(t(lang, "live.simulated"))
        );
    }
    if let Some(e) = l.snap.with(|x| x.as_ref().and_then(|x| x.error.clone())) {
        w!(
            h,
            "<p class=\"live-error\" role=\"alert\">{}: {}</p>",
            esc(t(lang, "live.error")),
            esc(&e)
        );
    }
    h
}

pub fn card_title(
    lang: Lang,
    key: &'static str,
    button: Option<(&'static str, Act, &'static str)>,
) -> Markup {
    let mut h = Markup::new();
    w!(h, "<h3>{}", esc(t(lang, key)));
    if let Some((id, act, label)) = button {
        w!(
            h,
            " <button class=\"btn small\" id=\"{}\"{}>{}</button>",
            id,
            act.attrs(),
            t(lang, label)
        );
    }
    h.raw("</h3>");
    h
}

fn num(n: u64) -> String {
    // ipvsadm's K/M/G scaling for large counters.
    match n {
        0..=99_999 => n.to_string(),
        100_000..=99_999_999 => format!("{}K", n / 1000),
        100_000_000..=99_999_999_999 => format!("{}M", n / 1_000_000),
        _ => format!("{}G", n / 1_000_000_000),
    }
}

fn counter_cells(h: &mut Markup, c: [u64; 6]) {
    for v in &c {
        w!(h, "<td class=\"num\">{}</td>", num(*v));
    }
}

pub fn services_html(lang: Lang, snap: &Option<Snapshot>) -> Markup {
    let Some(sv) = snap.as_ref().and_then(|s| s.services.as_ref()) else {
        return Markup::new();
    };
    let mut h = Markup::new();
    if sv.services.is_empty() {
        h.el("p", "muted", t(lang, "live.none"));
    } else {
        h.raw("<table class=\"live-table\" id=\"live-services-table\"><thead><tr>");
        for k in [
            "col.service",
            "col.fwd",
            "col.weight",
            "col.active",
            "col.inactive",
            "col.conns",
            "col.inpkts",
            "col.inbytes",
            "col.cps",
            "col.inpps",
            "col.inbps",
        ] {
            h.el("th", "", t(lang, k));
        }
        h.raw("</tr></thead><tbody>");
        for s in &sv.services {
            let mut title = format!("{} {}", s.key, s.scheduler);
            if let Some(p) = s.persistent {
                title.push_str(&format!(" persistent {p}"));
            }
            w!(
                h,
                "<tr class=\"svc\" data-key=\"{}\"><th class=\"mono\" colspan=\"5\">{}</th>",
                esc(&s.key),
                esc(&title)
            );
            counter_cells(&mut h, counters(&s.stats, &s.rates));
            h.raw("</tr>");
            for d in &s.dests {
                w!(h, "<tr class=\"dest\" data-key=\"{}\"><td class=\"mono\">&nbsp;&nbsp;-&gt; {}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>", esc(&d.key), esc(&d.key), esc(&d.fwd), d.weight, d.active, d.inactive);
                counter_cells(&mut h, counters(&d.stats, &d.rates));
                h.raw("</tr>");
            }
        }
        h.raw("</tbody></table>");
    }
    let to = &sv.timeouts;
    w!(
        h,
        "<p class=\"muted small\">{} {} {} {}</p>",
        t(lang, "live.timeouts"),
        to.tcp,
        to.tcp_fin,
        to.udp
    );
    h
}

pub fn conns_html(lang: Lang, snap: &Option<Snapshot>) -> Markup {
    let Some(cv) = snap.as_ref().and_then(|s| s.connections.as_ref()) else {
        return Markup::new();
    };
    let mut h = Markup::new();
    if cv.connections.is_empty() {
        h.el("p", "muted", t(lang, "live.conns.none"));
        return h;
    }
    h.raw("<table class=\"live-table mono\" id=\"live-conns-table\"><thead><tr>");
    for k in [
        "col.pro",
        "col.expire",
        "col.state",
        "col.source",
        "col.virtual",
        "col.dest",
    ] {
        h.el("th", "", t(lang, k));
    }
    h.raw("</tr></thead><tbody>");
    for c in &cv.connections {
        w!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.proto),
            format!("{:02}:{:02}", c.expires / 60, c.expires % 60),
            esc(&c.state),
            c.source(),
            c.virt(),
            c.dest()
        );
    }
    h.raw("</tbody></table>");
    if cv.truncated {
        w!(
            h,
            "<p class=\"muted small\">{} {} {} {}</p>",
            esc(t(lang, "live.conns.first")),
            cv.connections.len(),
            esc(t(lang, "live.conns.of")),
            cv.total
        );
    }
    h
}

pub fn doctor_html(lang: Lang, d: &Option<Result<DoctorAnswer, String>>) -> Markup {
    let mut h = Markup::new();
    match d {
        None => {}
        Some(Err(e)) => {
            h.el(
                "p",
                "live-error",
                &format!("{}: {e}", t(lang, "live.error")),
            );
        }
        Some(Ok(a)) => {
            let r = a;
            if r.report.findings.is_empty() {
                h.el("p", "live-ok", t(lang, "live.doctor.ok"));
            }
            h.raw("<ul class=\"live-findings\">");
            for f in &r.report.findings {
                let sev = if f.error() { "error" } else { "warning" };
                let (text, why) = match lang {
                    Lang::En => (&f.en, &f.why_en),
                    Lang::Zh => (&f.zh, &f.why_zh),
                };
                w!(h, "<li class=\"finding {}\" data-check=\"{}\"><b>{}</b> <code>{}</code> {}<br><span class=\"muted\">{}: {}</span>", sev, esc(&f.check), sev.to_uppercase(), esc(&f.check), esc(text), esc(t(lang, "live.doctor.why")), esc(why));
                for c in &f.fix {
                    w!(
                        h,
                        "<br><span class=\"muted\">{}:</span> <code>{}</code>",
                        esc(t(lang, "live.doctor.fix")),
                        esc(c)
                    );
                }
                h.raw("</li>");
            }
            h.raw("</ul>");
            w!(
                h,
                "<p class=\"muted small\">{} {}</p>",
                r.report.passed(),
                esc(t(lang, "live.doctor.passed"))
            );
        }
    }
    h
}

/// The apply card: "Show the diff", then the plan and the confirmation.
pub fn apply_html(l: LiveSt, lang: Lang) -> Markup {
    let step = l.apply.get();
    let allowed = l.status.with(|x| x.as_ref().is_some_and(|x| x.apply));
    let mut h = Markup::new();
    w!(
        h,
        "<button class=\"btn\" id=\"live-plan\"{}{}>{}</button>",
        Act::LivePlan.attrs(),
        if step == ApplyStep::Busy {
            " disabled"
        } else {
            ""
        },
        esc(t(lang, "live.apply.plan"))
    );
    match step {
        ApplyStep::Idle | ApplyStep::Busy => {}
        ApplyStep::Failed(e) => {
            w!(
                h,
                "<p class=\"live-error\" id=\"live-apply-error\" role=\"alert\">{}: {}</p>",
                esc(t(lang, "live.apply.failed")),
                esc(&e)
            );
        }
        ApplyStep::Done(p) => {
            w!(
                h,
                "<p class=\"live-ok\" id=\"live-apply-done\" role=\"status\">{}</p>",
                esc(t(lang, "live.apply.done"))
            );
            plan_html(&mut h, lang, &p);
        }
        ApplyStep::Planned { host, plan, .. } => {
            w!(
                h,
                "<p>{} <b>{}</b>{}</p>",
                esc(t(lang, "live.apply.intro")),
                esc(&host),
                esc(t(lang, "live.apply.intro2"))
            );
            plan_html(&mut h, lang, &plan);
            if !plan.plan.is_empty() {
                if allowed {
                    w!(h, "<label class=\"live-token\">{} <input id=\"live-token\" type=\"password\" autocomplete=\"off\"></label><button class=\"btn primary\" id=\"live-confirm\"{}>{}</button>", t(lang, "live.apply.token"), Act::LiveConfirm.attrs(), t(lang, "live.apply.confirm"));
                } else {
                    w!(
                        h,
                        "<p class=\"muted\" id=\"live-readonly\">{}</p>",
                        esc(t(lang, "live.apply.readonly"))
                    );
                }
            }
        }
    }
    h
}

fn plan_html(h: &mut Markup, lang: Lang, p: &PlanAnswer) {
    if p.plan.is_empty() && !p.applied {
        h.el("p", "muted", t(lang, "live.apply.none"));
    }
    if !p.plan.is_empty() {
        h.raw("<pre class=\"live-diff\" id=\"live-diff\">");
        for line in &p.plan {
            let cls = match line.sign.as_str() {
                "+" => "add",
                "-" => "del",
                _ => "edit",
            };
            w!(
                h,
                "<span class=\"{}\">{} ipvsadm {}</span>",
                cls,
                esc(&line.sign),
                esc(&line.command)
            );
            if let Some(w) = &line.was {
                w!(h, "   <span class=\"muted\">(was: {})</span>", esc(w));
            }
            h.raw("\n");
        }
        h.raw("</pre>");
    }
    if !p.untouched.is_empty() {
        w!(
            h,
            "<p class=\"muted small\">{} {}</p>",
            esc(t(lang, "live.apply.untouched")),
            esc(&p.untouched.join(", "))
        );
    }
}

pub const CSS: &str = r#"
.live { position: fixed; inset: var(--topbar-h, 3rem) 0 0 0; z-index: 20; overflow: auto; background: var(--bg, #f4f6f9); padding: .6rem; }
.live-head { display: flex; gap: .6rem; align-items: center; flex-wrap: wrap; margin-bottom: .5rem; }
.live-head h2 { margin: 0; font-size: 1.1em; }
.live-head .spacer { flex: 1; }
.live-state { border-radius: 999px; padding: .15rem .7rem; font-size: .88em; border: 1px solid var(--line, #ccd); }
.live-state.connected { background: #e3f6e8; border-color: #7cc690; color: #14532d; }
.live-state.stale { background: #fdecea; border-color: #e8a39b; color: #7f1d1d; }
.live-state.connecting { background: #fff8e1; border-color: #f0d98c; }
.live-dot { display: inline-block; width: .6em; height: .6em; border-radius: 50%; margin-right: .35em; background: #f0b400; }
.live-dot.connected { background: #2e9d4f; }
.live-dot.stale { background: #d33; }
.live-grid { display: grid; gap: .6rem; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
.live-wide { grid-column: 1 / -1; }
.live-services, .live-conns { overflow-x: auto; }
.live-card h3 { margin: 0 0 .35rem; font-size: 1em; display: flex; gap: .6rem; align-items: center; }
.live-table { border-collapse: collapse; width: 100%; font-size: .88em; }
.live-table th, .live-table td { padding: .12rem .4rem; border-bottom: 1px solid var(--line, #e3e6ea); text-align: left; white-space: nowrap; }
.live-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
.live-table tr.svc th { background: #eef3fb; }
.live-sim { background: #fff8e1; border: 1px solid #f0d98c; border-radius: 6px; padding: .3rem .6rem; margin: 0 0 .5rem; }
.live-error { color: #9b1c1c; }
.live-ok { color: #14532d; }
.live-findings { padding-left: 1.1rem; margin: .2rem 0; }
.live-findings li { margin-bottom: .4rem; }
.live-findings li.error b { color: #9b1c1c; }
.live-findings li.warning b { color: #92400e; }
.live-diff { background: #f7f8fa; border: 1px solid var(--line, #e3e6ea); border-radius: 6px; padding: .4rem .6rem; overflow: auto; white-space: pre-wrap; }
.live-diff .add { color: #14532d; } .live-diff .del { color: #9b1c1c; } .live-diff .edit { color: #1e40af; }
.live-token { display: block; margin: .4rem 0; }
.live-token input { font-family: var(--mono, monospace); width: 22em; max-width: 100%; }
@media (max-width: 900px) { .live-grid { grid-template-columns: minmax(0, 1fr); } }
"#;
