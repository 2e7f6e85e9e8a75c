//! The trace as a list of events (grouped by the command that produced
//! them), the transport controls, keyboard shortcuts, and the explanation
//! banner of the selected event.

use crate::act::Act;
use crate::html::{esc, Markup};
use crate::i18n::{t, tr, Lang};
use crate::model::{self, fmt_time};
use crate::state::{st, Motion, St};
use crate::topology::STEP_MS;
use crate::w;
use leptos::ev;
use leptos::prelude::*;
use lvslab_engine::shell::Lab;
use lvslab_engine::trace::EventKind;
use lvslab_engine::wire::FrameRepr;
use wasm_bindgen::JsCast;

/// The one-line description of event `i` shown in the list.
pub fn describe(lab: &Lab, links: &model::Links, i: usize, lang: Lang) -> String {
    let w = &lab.world;
    let e = &w.trace[i];
    match &e.kind {
        EventKind::FrameTx { dev, .. } | EventKind::FrameRx { dev, .. } => {
            let f = links
                .frame(&w.trace, i)
                .and_then(|b| FrameRepr::parse(b).ok());
            let what = f
                .map(|f| model::summary(&f, lang))
                .unwrap_or_else(|| t(lang, "malformed").into());
            format!("{dev} · {what}")
        }
        EventKind::Switch { .. } => {
            let f = links
                .frame(&w.trace, i)
                .and_then(|b| FrameRepr::parse(b).ok());
            let what = f.map(|f| model::summary(&f, lang)).unwrap_or_default();
            format!("{} · {what}", e.explain(lang))
        }
        _ => e.explain(lang),
    }
}

fn delay_ms(s: &St) -> u64 {
    let speed = s.speed.get_untracked().max(0.1);
    let wire = s.cursor.get_untracked().is_some_and(|i| {
        s.lab.with_untracked(|l| {
            l.world.trace.get(i).is_some_and(|e| {
                matches!(
                    e.kind,
                    EventKind::FrameTx { .. }
                        | EventKind::Switch { .. }
                        | EventKind::FrameRx { .. }
                )
            })
        })
    });
    let base = if wire { STEP_MS + 250.0 } else { 650.0 };
    (base / speed) as u64
}

pub fn toggle_play(s: &St) {
    if s.playing.get_untracked() {
        s.playing.set(false);
        return;
    }
    let vis = s.visible_untracked();
    if vis.is_empty() {
        return;
    }
    let cur = s.cursor.get_untracked();
    let at_end = cur.is_none_or(|c| vis.last().is_some_and(|&l| c >= l));
    if at_end || cur.is_none() {
        let first = if cur.is_none() || at_end {
            // From the start of what is new, else from the very beginning.
            let fresh = s.fresh.get_untracked();
            let len = s.trace_len.get_untracked();
            let from = len.saturating_sub(fresh.max(1));
            if fresh > 0 {
                vis.iter().copied().find(|&i| i >= from)
            } else {
                vis.first().copied()
            }
        } else {
            None
        };
        s.select(first, Motion::Animate);
    }
    s.playing.set(true);
}

/// What a key press in a text field means to the timeline: a terminal's
/// prompt with nothing typed gives Space and ←/→ to the timeline (there is
/// nothing to edit); any other field keeps its keys.
fn field_yields(target: &web_sys::Element) -> bool {
    target.id().starts_with("term-in-")
        && target
            .dyn_ref::<web_sys::HtmlInputElement>()
            .is_some_and(|i| i.value().is_empty())
}

/// Global shortcuts, wherever focus is: Space play/pause, ←/→ step, Home,
/// End; Alt+←/→ step even while typing. In a terminal they apply when its
/// line is empty; other text fields keep their keys.
pub fn install_keys(s: St) {
    let handle = window_event_listener(ev::keydown, move |e: web_sys::KeyboardEvent| {
        if e.ctrl_key() || e.meta_key() || e.default_prevented() {
            return;
        }
        let key = e.key();
        if e.alt_key() {
            // Alt+←/→ would be the browser's Back/Forward: here they step.
            if key == "ArrowRight" || key == "ArrowLeft" {
                e.prevent_default();
                s.playing.set(false);
                s.step(key == "ArrowRight");
            }
            return;
        }
        let target = e
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok());
        let tag = target
            .as_ref()
            .map(|t| t.tag_name().to_ascii_lowercase())
            .unwrap_or_default();
        if matches!(tag.as_str(), "input" | "textarea" | "select") {
            let yields = target.as_ref().is_some_and(field_yields);
            if !(yields && matches!(key.as_str(), " " | "ArrowRight" | "ArrowLeft")) {
                return;
            }
        }
        // Space activates a focused control (keyboard users rely on it),
        // except the timeline's own rows, the play button and the banner.
        let control = target.as_ref().is_some_and(|t| {
            matches!(tag.as_str(), "button" | "summary" | "a" | "label")
                && t.get_attribute("data-act").as_deref() != Some("sel")
                && t.id() != "play"
                && t.id() != "banner"
        });
        if control && key == " " {
            return;
        }
        match key.as_str() {
            " " | "Spacebar" => {
                e.prevent_default();
                toggle_play(&s);
            }
            "ArrowRight" => {
                e.prevent_default();
                s.playing.set(false);
                s.step(true);
            }
            "ArrowLeft" => {
                e.prevent_default();
                s.playing.set(false);
                s.step(false);
            }
            "Home" => {
                e.prevent_default();
                s.playing.set(false);
                let v = s.visible_untracked();
                s.select(v.first().copied(), Motion::Jump);
            }
            "End" => {
                e.prevent_default();
                s.playing.set(false);
                let v = s.visible_untracked();
                s.select(v.last().copied(), Motion::Jump);
            }
            "Escape" if s.maxi.get_untracked() => s.maxi.set(false),
            _ => {}
        }
    });
    // The listener lives as long as the page.
    std::mem::forget(handle);
}

const ICON_FIRST: &str = r#"<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M2 3h2v10H2zM9 3v10L4 8zM15 3v10L10 8z"/></svg>"#;
const ICON_PREV: &str =
    r#"<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M11 3v10L4 8zM12 3h2v10h-2z"/></svg>"#;
const ICON_NEXT: &str =
    r#"<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M5 3v10l7-5zM2 3h2v10H2z"/></svg>"#;
const ICON_LAST: &str = r#"<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M12 3h2v10h-2zM7 3v10l5-5zM1 3v10l5-5z"/></svg>"#;
const ICON_PLAY: &str =
    r#"<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M4 2v12l10-6z"/></svg>"#;
const ICON_PAUSE: &str =
    r#"<svg viewBox="0 0 16 16" aria-hidden="true"><path d="M4 3h3v10H4zM9 3h3v10H9z"/></svg>"#;

#[component]
pub fn Controls() -> impl IntoView {
    let s = st();
    let lang = s.lang;
    // Playing: advance after each event's animation.
    Effect::new(move |_| {
        if !s.playing.get() {
            return;
        }
        let _ = s.cursor.get();
        let _ = s.speed.get();
        let d = delay_ms(&s);
        let h = set_timeout_with_handle(
            move || {
                if !s.step(true) {
                    s.playing.set(false);
                }
            },
            std::time::Duration::from_millis(d),
        );
        if let Ok(h) = h {
            on_cleanup(move || h.clear());
        }
    });
    let btn = move |key: &'static str, glyph: &'static str, f: fn(&St)| {
        view! {
            <button class="tbtn" title=tr(key) aria-label=tr(key)
                on:click=move |_| f(&s) inner_html=glyph></button>
        }
    };
    let position = move || {
        let vis = s.visible();
        let cur = s.cursor.get();
        let n = vis.len();
        let k = cur
            .and_then(|c| vis.iter().position(|&i| i == c))
            .map(|p| p + 1)
            .unwrap_or(0);
        format!("{} {k} {} {n}", t(lang.get(), "step"), t(lang.get(), "of"))
    };
    let hosts = move || {
        s.lab
            .with(|l| l.world.hosts.keys().cloned().collect::<Vec<_>>())
    };
    view! {
        <div class="controls" role="toolbar" aria-label=tr("timeline")>
            {btn("first", ICON_FIRST, |s| { s.playing.set(false); let v = s.visible_untracked(); s.select(v.first().copied(), Motion::Jump); })}
            {btn("prev", ICON_PREV, |s| { s.playing.set(false); s.step(false); })}
            <button class="tbtn play" id="play" class:on=move || s.playing.get()
                title=move || t(lang.get(), if s.playing.get() { "pause" } else { "play" })
                aria-label=move || t(lang.get(), if s.playing.get() { "pause" } else { "play" })
                on:click=move |_| toggle_play(&s)
                inner_html=move || if s.playing.get() { ICON_PAUSE } else { ICON_PLAY }>
            </button>
            {btn("next", ICON_NEXT, |s| { s.playing.set(false); s.step(true); })}
            {btn("last", ICON_LAST, |s| { s.playing.set(false); let v = s.visible_untracked(); s.select(v.last().copied(), Motion::Jump); })}
            <label class="speed">{tr("speed")}
                <select on:change=move |e| {
                    let v: f64 = event_target_value(&e).parse().unwrap_or(1.0);
                    s.speed.set(v);
                } prop:value=move || s.speed.get().to_string()
                    inner_html="<option value=\"0.25\">0.25×</option><option value=\"0.5\">0.5×</option><option value=\"1\" selected>1×</option><option value=\"2\">2×</option><option value=\"4\">4×</option>">
                </select>
            </label>
            <span class="pos" aria-live="polite">{position}</span>
        </div>
        <div class="filters">
            <label class="check"><input type="checkbox" prop:checked=move || s.frames_only.get()
                on:change=move |e| s.frames_only.set(event_target_checked(&e)) />
                {tr("filter.frames")}</label>
            <label>{tr("filter.host")} " "
                <select on:change=move |e| {
                    let v = event_target_value(&e);
                    s.host_filter.set((!v.is_empty()).then_some(v));
                } prop:value=move || s.host_filter.get().unwrap_or_default()
                    inner_html=move || {
                        let l = lang.get();
                        let mut o = Markup::new();
                        w!(o, "<option value=\"\">{}</option>", t(l, "all.hosts"));
                        for h in hosts() {
                            w!(o, "<option value=\"{}\">{}</option>", h, h);
                        }
                        w!(o, "<option value=\"switch\">{}</option>", t(l, "switch"));
                        o.as_str().to_owned()
                    }>
                </select>
            </label>
        </div>
    }
}

/// The list's markup: a header per command, a row per visible event.
/// The list shows at most this many rows around the selected event (a
/// ping left running for an hour makes tens of thousands of events; every
/// row costs a frame parse and a description).
const LIST_WINDOW: usize = 1200;

/// The window of visible positions the list renders for the cursor's
/// block: it moves in steps of half a window, so stepping does not
/// re-render the list at each event.
fn list_window(n: usize, pos: usize) -> std::ops::Range<usize> {
    let half = LIST_WINDOW / 2;
    let start = (pos / half).saturating_sub(1) * half;
    let start = start.min(n.saturating_sub(LIST_WINDOW));
    start..(start + LIST_WINDOW).min(n)
}

fn list_html(s: &St) -> Markup {
    let l = s.lang.get();
    let vis = s.visible();
    let groups = s.groups.get();
    let links = s.links.get();
    let cur = s.cursor.get_untracked();
    let mut h = Markup::new();
    let mut g = 0;
    let mut shown_hdr = usize::MAX;
    let pos = cur.map_or(vis.len(), |c| vis.partition_point(|&i| i < c));
    let win = list_window(vis.len(), pos);
    if win.start > 0 {
        w!(
            h,
            "<li class=\"grp more\">{} {}</li>",
            win.start,
            t(l, "tl.more.before")
        );
    }
    let after = vis.len() - win.end;
    let vis = &vis[win];
    s.lab.with_untracked(|lab| {
        let trace = &lab.world.trace;
        for &i in vis {
            while g < groups.len() && groups[g].end <= i {
                g += 1;
            }
            if g < groups.len() && groups[g].start <= i && shown_hdr != g {
                shown_hdr = g;
                w!(h, "<li class=\"grp\" aria-hidden=\"true\"><code>[root@{}]# {}</code></li>", esc(&groups[g].host), esc(&groups[g].line));
            }
            let e = &trace[i];
            let pk = links
                .frame(trace, i)
                .and_then(|b| FrameRepr::parse(b).ok())
                .map(|f| model::classify(&f).css())
                .unwrap_or_default();
            let sel = cur == Some(i);
            let kt = e.kind.text();
            w!(h, "<li><button class=\"ev k-{}{}\"{} data-i=\"{}\" aria-current=\"{}\"><span class=\"ev-n\">{}</span><span class=\"ev-t\">{}</span><span class=\"ev-h\">{}</span><span class=\"ev-k{}{}\">{}</span><span class=\"ev-x\">{}</span></button></li>", kt.name, if sel { " sel" } else { "" }, Act::Sel(i).attrs(), i, sel, i + 1, fmt_time(e.time.0), e.host, if pk.is_empty() { "" } else { " pk-" }, pk, kt.label(l), describe(lab, &links, i, l));
        }
    });
    if after > 0 {
        w!(
            h,
            "<li class=\"grp more\">{} {}</li>",
            after,
            t(l, "tl.more.after")
        );
    }
    h
}

/// Mark the selected row and keep it in view (scrolling only the list).
fn show_selected(list: &web_sys::Element, cur: Option<usize>) {
    if let Ok(Some(old)) = list.query_selector(".ev.sel") {
        let _ = old.class_list().remove_1("sel");
        let _ = old.set_attribute("aria-current", "false");
    }
    let Some(i) = cur else { return };
    let Ok(Some(row)) = list.query_selector(&format!("[data-i=\"{i}\"]")) else {
        return;
    };
    let _ = row.class_list().add_1("sel");
    let _ = row.set_attribute("aria-current", "true");
    // Measure in the next frame, after every panel has updated for this
    // step: reading offsets now would force a layout that the panels'
    // updates then invalidate again (two layouts per step while playing).
    let list: web_sys::HtmlElement = list.clone().unchecked_into();
    request_animation_frame(move || scroll_to_row(&list, &row));
}

fn scroll_to_row(list: &web_sys::HtmlElement, row: &web_sys::Element) {
    if !row.is_connected() {
        return;
    }
    let Some(li) = row.parent_element() else {
        return;
    };
    let li: web_sys::HtmlElement = li.unchecked_into();
    let (top, h) = (li.offset_top(), li.offset_height());
    let (st_, ch) = (list.scroll_top(), list.client_height());
    if top < st_ + 30 {
        list.set_scroll_top((top - 30).max(0));
    } else if top + h > st_ + ch - 4 {
        list.set_scroll_top(top + h - ch + 30);
    }
}

#[component]
pub fn EventList() -> impl IntoView {
    let s = st();
    let list_ref = NodeRef::<leptos::html::Ol>::new();
    // The list follows the cursor's window, not each step within it.
    // The visible events change with the trace and the filters, the cursor
    // at every step while playing: only a binary search per step.
    let vis = Memo::new(move |_| s.visible());
    let window = Memo::new(move |_| {
        let cur = s.cursor.get();
        vis.with(|vis| {
            let pos = cur.map_or(vis.len(), |c| vis.partition_point(|&i| i < c));
            list_window(vis.len(), pos).start
        })
    });
    Effect::new(move |_| {
        let _ = window.get();
        let html = list_html(&s);
        if let Some(list) = list_ref.get() {
            list.set_inner_html(html.as_str());
            let list: web_sys::Element = list.into();
            show_selected(&list, s.cursor.get_untracked());
        }
    });
    Effect::new(move |_| {
        let cur = s.cursor.get();
        if let Some(list) = list_ref.get_untracked() {
            show_selected(&list.into(), cur);
        }
    });
    view! {
        <ol class="events" node_ref=list_ref aria-label=tr("timeline")
            data-step=move || s.cursor.get().map(|c| c.to_string())
            on:click=crate::act::handler()></ol>
    }
}

/// The selected event's explanation, big, under the topology.
pub fn banner_html(s: &St) -> Markup {
    let l = s.lang.get();
    let fresh = s.fresh.get();
    let playing = s.playing.get();
    let _ = s.trace_len.get();
    let links = s.links.get();
    let mut h = Markup::new();
    h.raw(if playing { ICON_PAUSE } else { ICON_PLAY });
    let body = s.cursor.get().and_then(|cur| {
        s.lab.with_untracked(|lab| {
            let e = lab.world.trace.get(cur)?;
            let mut text = e.explain(l);
            if let Some(f) = links.frame(&lab.world.trace, cur).and_then(|b| FrameRepr::parse(b).ok()) {
                text.push_str(" — ");
                text.push_str(&model::summary(&f, l));
            }
            let cls = match e.kind {
                EventKind::Drop { .. } => " bad",
                EventKind::ArpIgnored { .. } => " warn",
                _ => "",
            };
            let mut m = Markup::new();
            w!(m, "<span class=\"b-n\">#{}</span><span class=\"b-t\">{} s</span><span class=\"b-x{}\">{}</span>", cur + 1, fmt_time(e.time.0), cls, text);
            Some(m)
        })
    });
    match body {
        Some(b) => {
            h.push(&b);
        }
        None => {
            w!(h, "<span class=\"b-x muted\">{}</span>", t(l, "no.event"));
        }
    }
    if fresh > 0 {
        w!(
            h,
            "<span class=\"fresh\">{} {}</span>",
            fresh,
            t(l, "new.events")
        );
    }
    h
}

/// The banner is the big Play button: a click plays from the selected
/// event (or pauses); the key shortcuts work as before.
#[component]
pub fn Banner() -> impl IntoView {
    let s = st();
    let el = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        let html = banner_html(&s);
        if let Some(e) = el.get() {
            e.set_inner_html(html.as_str());
        }
    });
    let lang = s.lang;
    view! {
        <button class="banner" id="banner" node_ref=el aria-live="polite"
            title=move || t(lang.get(), if s.playing.get() { "pause" } else { "play" })
            on:click=move |_| toggle_play(&s)></button>
    }
}
