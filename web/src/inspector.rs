//! The selected event in depth: the engine's explanation, the event's own
//! fields, and for a frame every header field with its bytes (hover a field
//! to light up its bytes and the reverse), where the frame went, and a
//! field-by-field comparison with another frame (as sent ↔ as received, as
//! it entered a host ↔ as it left, or any pinned frame).
//!
//! Rendered as one escaped markup string (see `html.rs`), interaction by
//! delegation on `data-a`/`data-n` (byte ranges) and `data-act` (jump, pin).

use crate::act::Act;
use crate::dissect::{self, Layer};
use crate::html::{closest_with, esc, Markup};
use crate::i18n::{t, t_dyn, Lang};
use crate::model::{fmt_time, frame_bytes, Links};
use crate::state::st;
use crate::w;
use leptos::prelude::*;
use lvslab_engine::shell::Lab;
use lvslab_engine::trace::{Event, EventKind};
use serde_json::Value;
use wasm_bindgen::JsCast;

/// A frame a host sent that carries the packet it received earlier, with at
/// most the IPv4 TTL and header checksum changed; the Ethernet header may be
/// rewritten: a forward. (IPVS in Direct Routing rewrites only the MACs; the
/// frame may leave later, after the director resolved the real server's MAC.)
/// Byte comparison of trace records only; the engine could record the link
/// itself (see the report: `FrameTx { cause: Option<usize> }`).
pub fn forwarded_from(trace: &[Event], i: usize) -> Option<usize> {
    let e = trace.get(i)?;
    let EventKind::FrameTx { frame: out, .. } = &e.kind else {
        return None;
    };
    if out.len() < 34 || out[12..14] != [0x08, 0x00] {
        return None;
    }
    (i.saturating_sub(4000)..i).rev().find(|&j| {
        let ej = &trace[j];
        let EventKind::FrameRx { frame: inp, .. } = &ej.kind else {
            return false;
        };
        ej.host == e.host
            && inp.len() == out.len()
            && inp[12..14] == out[12..14]
            && (14..out.len()).all(|k| inp[k] == out[k] || matches!(k - 14, 8 | 10 | 11))
    })
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "–".into(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => a.iter().map(value_text).collect::<Vec<_>>().join(", "),
        Value::Object(o) => o
            .iter()
            .map(|(k, inner)| match inner {
                Value::Object(x) if x.is_empty() => k.clone(),
                _ => format!("{k} {}", value_text(inner)),
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The event's own fields (not the frame bytes), from its serde form, so
/// new event kinds show up without UI changes.
fn event_fields(e: &Event, lang: Lang) -> Vec<(String, String)> {
    let Ok(Value::Object(outer)) = serde_json::to_value(&e.kind) else {
        return vec![];
    };
    let Some(Value::Object(inner)) = outer.values().next() else {
        return vec![];
    };
    inner
        .iter()
        .filter(|(k, _)| k.as_str() != "frame")
        .map(|(k, v)| {
            let v = match (&e.kind, k.as_str()) {
                // The reason in words, not the enum's name.
                (EventKind::Drop { reason, .. }, "reason") => reason.label(lang),
                (EventKind::Drop { what, .. }, "what") => what.text(lang),
                _ => value_text(v),
            };
            (t_dyn(lang, &format!("k.{k}")), v)
        })
        .collect()
}

fn layers_html(h: &mut Markup, layers: &[Layer], lang: Lang) {
    h.raw("<div class=\"layers\">");
    for l in layers {
        w!(h, "<details class=\"layer\" open><summary data-a=\"{}\" data-n=\"{}\"><b>{}</b> <span class=\"muted\">{}</span></summary><table class=\"fields\"><tbody>", l.start, l.len, esc(t(lang, l.key)), esc(&l.info));
        for f in &l.fields {
            w!(h, "<tr tabindex=\"0\" data-a=\"{}\" data-n=\"{}\" data-field=\"{}\"><th>{}</th><td class=\"mono\">{}</td><td class=\"off\">{}–{}</td></tr>", f.start, f.len, f.key, esc(t(lang, f.key)), esc(&f.value), f.start, f.start + f.len.saturating_sub(1));
        }
        h.raw("</tbody></table></details>");
    }
    h.raw("</div>");
}

fn hexdump_html(h: &mut Markup, bytes: &[u8], layers: &[Layer], changed: &[bool], lang: Lang) {
    let spans: Vec<(usize, usize)> = layers
        .iter()
        .flat_map(|l| l.fields.iter().map(|f| (f.start, f.len)))
        .collect();
    w!(
        h,
        "<div><div class=\"muted small\">{}</div><div class=\"hexdump\">",
        esc(t(lang, "hexdump"))
    );
    for (r, chunk) in bytes.chunks(16).enumerate() {
        w!(
            h,
            "<div class=\"hx-row\"><span class=\"hx-off\">{}</span><span class=\"hx-bytes\">",
            format!("{:04x}", r * 16)
        );
        for (k, b) in chunk.iter().enumerate() {
            let i = r * 16 + k;
            let chg = if changed.get(i).copied().unwrap_or(false) {
                " chg"
            } else {
                ""
            };
            match spans.iter().find(|&&(a, n)| i >= a && i < a + n) {
                Some((a, n)) => {
                    w!(
                        h,
                        "<span class=\"hx{}\" id=\"hx-{}\" data-a=\"{}\" data-n=\"{}\">{}</span>",
                        chg,
                        i,
                        a,
                        n,
                        format!("{b:02x}")
                    );
                }
                None => {
                    w!(
                        h,
                        "<span class=\"hx{}\" id=\"hx-{}\">{}</span>",
                        chg,
                        i,
                        format!("{b:02x}")
                    );
                }
            }
        }
        let asc: String = chunk
            .iter()
            .map(|&b| {
                if (0x20..0x7f).contains(&b) {
                    b as char
                } else {
                    '·'
                }
            })
            .collect();
        w!(
            h,
            "</span><span class=\"hx-asc\">{}</span></div>",
            esc(&asc)
        );
    }
    h.raw("</div></div>");
}

fn compare_html(
    h: &mut Markup,
    a: &[u8],
    b: &[u8],
    title: &str,
    note: Option<&'static str>,
    lang: Lang,
) {
    let rows = dissect::diff(&dissect::dissect(a, lang), &dissect::dissect(b, lang));
    let n = rows.iter().filter(|r| r.changed()).count();
    let mut verdict = Markup::new();
    if n == 0 {
        w!(
            verdict,
            "<span class=\"muted\">{}</span>",
            t(lang, "cmp.same")
        );
    } else {
        w!(
            verdict,
            "<span class=\"chg\">{} {}</span>",
            n,
            t(lang, "cmp.changed")
        );
    }
    w!(
        h,
        "<section class=\"compare\"><h4>{} · {}</h4>",
        esc(title),
        verdict
    );
    // Per layer: which fields changed, and which layers did not change at all.
    let mut layers: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for r in &rows {
        match layers.iter_mut().find(|(l, _)| *l == r.layer) {
            Some((_, v)) => {
                if r.changed() {
                    v.push(r.field);
                }
            }
            None => layers.push((r.layer, if r.changed() { vec![r.field] } else { vec![] })),
        }
    }
    if n > 0 {
        let changed: Vec<String> = layers
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(l, v)| {
                format!(
                    "{} ({})",
                    t(lang, l),
                    v.iter().map(|f| t(lang, f)).collect::<Vec<_>>().join(", ")
                )
            })
            .collect();
        let same: Vec<&str> = layers
            .iter()
            .filter(|(_, v)| v.is_empty())
            .map(|(l, _)| t(lang, l))
            .collect();
        w!(
            h,
            "<p class=\"cmp-sum\"><b>{}</b> {}",
            esc(t(lang, "cmp.changed.in")),
            esc(&changed.join("; "))
        );
        if !same.is_empty() {
            w!(
                h,
                "<br><b>{}</b> {}",
                esc(t(lang, "cmp.unchanged")),
                esc(&same.join(", "))
            );
        }
        h.raw("</p>");
    }
    if let Some(note) = note {
        h.el("p", "muted small", t(lang, note));
    }
    w!(
        h,
        "<table class=\"diff\"><thead><tr><th>{}</th><th>A</th><th>B</th></tr></thead><tbody>",
        esc(t(lang, "cmp.field"))
    );
    for r in rows {
        w!(h, "<tr class=\"{}\"><th>{} · {}</th><td class=\"mono\">{}</td><td class=\"mono\">{}</td></tr>", if r.changed() { "chg" } else { "" }, esc(t(lang, r.layer)), esc(t(lang, r.field)), esc(r.a.as_deref().unwrap_or("–")), esc(r.b.as_deref().unwrap_or("–")));
    }
    h.raw("</tbody></table></section>");
}

fn jump(h: &mut Markup, i: usize, label: &str) {
    w!(
        h,
        "<button class=\"link\"{}>{} #{}</button>",
        Act::Jump(i).attrs(),
        label,
        i + 1
    );
}

fn journey_html(h: &mut Markup, lab: &Lab, links: &Links, cur: usize, lang: Lang) {
    let Some(tx) = links.origin.get(cur).copied().flatten() else {
        return;
    };
    let Some((sw, rx)) = links.hops.get(&tx) else {
        return;
    };
    let trace = &lab.world.trace;
    w!(
        h,
        "<p class=\"journey\"><b>{}:</b> {} ",
        esc(t(lang, "journey")),
        esc(t(lang, "sent.by"))
    );
    jump(h, tx, &trace[tx].host);
    if let Some(w) = sw {
        h.raw(" → ");
        jump(h, *w, t(lang, "via.switch"));
    }
    if !rx.is_empty() {
        w!(h, " → {} ", esc(t(lang, "recv.by")));
        for (k, &i) in rx.iter().enumerate() {
            if k > 0 {
                h.raw(", ");
            }
            jump(h, i, &trace[i].host);
        }
    }
    h.raw("</p>");
}

const PIN: &str = r#"<svg class="ico" viewBox="0 0 16 16" aria-hidden="true"><path d="M6 1h4v1l-1 1v4l3 3v1H9v4l-1 1-1-1v-4H4v-1l3-3V3L6 2z"/></svg>"#;

fn pin_icon() -> Markup {
    let mut m = Markup::new();
    m.raw(PIN);
    m
}

/// The whole inspector for event `cur`.
pub fn render(lab: &Lab, links: &Links, cur: usize, pinned: Option<usize>, lang: Lang) -> Markup {
    let trace = &lab.world.trace;
    let mut h = Markup::new();
    let Some(e) = trace.get(cur) else {
        h.el("p", "muted", t(lang, "pick.event"));
        return h;
    };
    w!(h, "<div class=\"insp-head\"><span class=\"kchip k-{}\">{}</span><span class=\"muted\">#{} · {} s · {}</span>", e.kind.text().name, e.kind.text().label(lang), cur + 1, fmt_time(e.time.0), esc(&e.host));
    if let Some(p) = pinned {
        w!(
            h,
            "<span class=\"muted small\"> · {}#{} {}</span>",
            pin_icon(),
            p + 1,
            esc(t(lang, "pinned"))
        );
    }
    h.raw("</div>");
    h.el("p", "explain", &e.explain(lang));
    let fields = event_fields(e, lang);
    if !fields.is_empty() {
        h.raw("<dl class=\"kv\">");
        for (k, v) in fields {
            h.el("dt", "", &k).el("dd", "mono", &v);
        }
        h.raw("</dl>");
    }
    // A decision about a received frame shows that frame.
    let context = if frame_bytes(e).is_none() && !matches!(e.kind, EventKind::Switch { .. }) {
        crate::model::context_frame(trace, cur)
    } else {
        None
    };
    let bytes = links
        .frame(trace, cur)
        .or_else(|| context.and_then(|j| frame_bytes(&trace[j])))
        .map(<[u8]>::to_vec);
    // What to compare with: a pinned frame, else where a forwarded frame
    // came from, else (received frames) the frame as it was sent.
    let pinned_bytes = pinned
        .filter(|&p| p != cur)
        .and_then(|p| links.frame(trace, p).map(|b| (p, b.to_vec())));
    let cmp = bytes.as_ref().and_then(|b| {
        if let Some((p, pb)) = pinned_bytes {
            return Some((
                pb,
                format!("{} (#{} ↔ #{})", t(lang, "cmp.pinned"), p + 1, cur + 1),
                None,
            ));
        }
        if let Some(j) = forwarded_from(trace, cur) {
            return frame_bytes(&trace[j]).map(|a| {
                (
                    a.to_vec(),
                    format!("{} (#{} ↔ #{})", t(lang, "cmp.in.out"), j + 1, cur + 1),
                    None,
                )
            });
        }
        if matches!(e.kind, EventKind::FrameRx { .. }) {
            let j = links.origin.get(cur).copied().flatten()?;
            return frame_bytes(&trace[j]).map(|a| {
                (
                    a.to_vec(),
                    format!("{} (#{} ↔ #{})", t(lang, "cmp.sent.recv"), j + 1, cur + 1),
                    Some("cmp.switch.note"),
                )
            });
        }
        let _ = b;
        None
    });
    if let Some(b) = &bytes {
        let layers = dissect::dissect(b, lang);
        let changed = cmp
            .as_ref()
            .map(|(a, _, _)| dissect::byte_diff(a, b))
            .unwrap_or_default();
        let on = pinned == Some(cur);
        w!(h, "<h4>{} · {} {}<button class=\"btn small pin{}\"{} aria-pressed=\"{}\">{}{}</button></h4>", esc(t(lang, "inspector")), b.len(), esc(t(lang, "bytes")), if on { " on" } else { "" }, Act::Pin(cur).attrs(), on, pin_icon(), esc(t(lang, if on { "unpin" } else { "pin" })));
        if let Some(j) = context {
            w!(
                h,
                "<p class=\"journey\"><b>{}</b> ",
                esc(t(lang, "ctx.frame"))
            );
            jump(&mut h, j, &trace[j].host);
            h.raw("</p>");
        }
        journey_html(&mut h, lab, links, context.unwrap_or(cur), lang);
        // A forward or a pinned comparison is the point: show it first.
        let first = cmp.as_ref().is_some_and(|c| c.2.is_none());
        if let (true, Some((a, title, note))) = (first, &cmp) {
            compare_html(&mut h, a, b, title, *note, lang);
        }
        h.raw("<div class=\"pkt-view\">");
        layers_html(&mut h, &layers, lang);
        hexdump_html(&mut h, b, &layers, &changed, lang);
        h.raw("</div>");
        if let (false, Some((a, title, note))) = (first, &cmp) {
            compare_html(&mut h, a, b, title, *note, lang);
        }
    }
    if pinned.is_none() {
        h.el("p", "muted small", t(lang, "cmp.hint"));
    }
    h
}

fn highlight(root: &web_sys::Element, range: Option<(usize, usize)>) {
    if let Ok(old) = root.query_selector_all(".hl") {
        for k in 0..old.length() {
            if let Some(n) = old
                .item(k)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            {
                let _ = n.class_list().remove_1("hl");
            }
        }
    }
    let Some((a, n)) = range else { return };
    for i in a..a + n {
        if let Ok(Some(el)) = root.query_selector(&format!("#hx-{i}")) {
            let _ = el.class_list().add_1("hl");
        }
    }
    if let Ok(rows) = root.query_selector_all(&format!("tr[data-a=\"{a}\"][data-n=\"{n}\"]")) {
        for k in 0..rows.length() {
            if let Some(r) = rows
                .item(k)
                .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            {
                let _ = r.class_list().add_1("hl");
            }
        }
    }
}

fn range_of(el: &web_sys::Element) -> Option<(usize, usize)> {
    let a = el.get_attribute("data-a")?.parse().ok()?;
    let n = el.get_attribute("data-n")?.parse().ok()?;
    Some((a, n))
}

#[component]
pub fn Inspector() -> impl IntoView {
    let s = st();
    let root = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let l = s.lang.get();
        let cur = s.cursor.get();
        let pinned = s.pinned.get();
        let _ = s.trace_len.get();
        let links = s.links.get();
        let html = match cur {
            None => {
                let mut m = Markup::new();
                m.el("p", "muted", t(l, "pick.event"));
                m
            }
            Some(c) => s
                .lab
                .with_untracked(|lab| render(lab, &links, c, pinned, l)),
        };
        if let Some(el) = root.get() {
            el.set_inner_html(html.as_str());
        }
    });
    let hover = move |e: &web_sys::Event| {
        let Some(r) = root.get_untracked() else {
            return;
        };
        let range = closest_with(e.target(), "data-a").and_then(|el| range_of(&el));
        highlight(&r, range);
    };
    let leave = move |_| {
        if let Some(r) = root.get_untracked() {
            highlight(&r, None);
        }
    };
    view! {
        <div class="inspector" node_ref=root
            on:mouseover=move |e| hover(&e)
            on:focusin=move |e| hover(&e)
            on:mouseleave=leave
            on:click=crate::act::handler()></div>
    }
}
