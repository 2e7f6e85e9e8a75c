//! The selected event in depth: the engine's explanation, the event's own
//! fields, and for a frame every header field with its bytes (hover a field
//! to light up its bytes and the reverse), where the frame went, and a
//! field-by-field comparison with another frame (as sent ↔ as received, as
//! it entered a host ↔ as it left, or any pinned frame).
//!
//! Rendered as one escaped markup string (see `html.rs`), interaction by
//! delegation on `data-a`/`data-n` (byte ranges) and `data-act` (jump, pin).

use crate::dissect::{self, Layer};
use crate::html::{closest_with, esc, H};
use crate::i18n::{t, t_dyn, Lang};
use crate::model::{fmt_time, frame_bytes, kind_label, kind_name, Links};
use crate::state::st;
use leptos::prelude::*;
use lvslab_engine::shell::Lab;
use lvslab_engine::trace::{Event, EventKind};
use std::fmt::Write;
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

fn js_text(v: &wasm_bindgen::JsValue) -> String {
    if v.is_null() || v.is_undefined() {
        return "–".into();
    }
    if let Some(s) = v.as_string() {
        return s;
    }
    if let Some(b) = v.as_bool() {
        return b.to_string();
    }
    if let Some(n) = v.as_f64() {
        return if n.fract() == 0.0 && n.abs() < 1e15 {
            format!("{}", n as i64)
        } else {
            n.to_string()
        };
    }
    if js_sys::Array::is_array(v) {
        let a: js_sys::Array = v.clone().unchecked_into();
        return a.iter().map(|x| js_text(&x)).collect::<Vec<_>>().join(", ");
    }
    if v.is_object() {
        let o: js_sys::Object = v.clone().unchecked_into();
        return js_sys::Object::entries(&o)
            .iter()
            .map(|kv| {
                let kv: js_sys::Array = kv.unchecked_into();
                let k = kv.get(0).as_string().unwrap_or_default();
                let inner = kv.get(1);
                let empty = inner.is_object()
                    && js_sys::Object::keys(inner.unchecked_ref::<js_sys::Object>()).length() == 0;
                if empty {
                    k
                } else {
                    format!("{k} {}", js_text(&inner))
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
    }
    String::new()
}

/// The event's own fields (not the frame bytes), from its serde form, so
/// new event kinds show up without UI changes.
fn event_fields(e: &Event, lang: Lang) -> Vec<(String, String)> {
    let Ok(json) = crate::json::to_string(&e.kind) else {
        return vec![];
    };
    let Ok(v) = js_sys::JSON::parse(&json) else {
        return vec![];
    };
    if !v.is_object() {
        return vec![];
    }
    let outer: js_sys::Object = v.unchecked_into();
    let Some(inner) = js_sys::Object::values(&outer).iter().next() else {
        return vec![];
    };
    if !inner.is_object() {
        return vec![];
    }
    js_sys::Object::entries(&inner.unchecked_into())
        .iter()
        .filter_map(|kv| {
            let kv: js_sys::Array = kv.unchecked_into();
            let k = kv.get(0).as_string()?;
            let v = match (&e.kind, k.as_str()) {
                // The reason in words, not the enum's name.
                (EventKind::Drop { reason, .. }, "reason") => reason.label(lang),
                _ => js_text(&kv.get(1)),
            };
            (k != "frame").then(|| (t_dyn(lang, &format!("k.{k}")), v))
        })
        .collect()
}

fn layers_html(h: &mut H, layers: &[Layer], lang: Lang) {
    h.raw("<div class=\"layers\">");
    for l in layers {
        let _ = write!(
            h.0,
            "<details class=\"layer\" open><summary data-a=\"{}\" data-n=\"{}\"><b>{}</b> <span class=\"muted\">{}</span></summary><table class=\"fields\"><tbody>",
            l.start,
            l.len,
            esc(t(lang, l.key)),
            esc(&l.info)
        );
        for f in &l.fields {
            let _ = write!(
                h.0,
                "<tr tabindex=\"0\" data-a=\"{a}\" data-n=\"{n}\" data-field=\"{k}\"><th>{name}</th><td class=\"mono\">{v}</td><td class=\"off\">{a}–{e}</td></tr>",
                a = f.start,
                n = f.len,
                k = f.key,
                name = esc(t(lang, f.key)),
                v = esc(&f.value),
                e = f.start + f.len.saturating_sub(1)
            );
        }
        h.raw("</tbody></table></details>");
    }
    h.raw("</div>");
}

fn hexdump_html(h: &mut H, bytes: &[u8], layers: &[Layer], changed: &[bool], lang: Lang) {
    let spans: Vec<(usize, usize)> = layers
        .iter()
        .flat_map(|l| l.fields.iter().map(|f| (f.start, f.len)))
        .collect();
    let _ = write!(
        h.0,
        "<div><div class=\"muted small\">{}</div><div class=\"hexdump\">",
        esc(t(lang, "hexdump"))
    );
    for (r, chunk) in bytes.chunks(16).enumerate() {
        let _ = write!(
            h.0,
            "<div class=\"hx-row\"><span class=\"hx-off\">{:04x}</span><span class=\"hx-bytes\">",
            r * 16
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
                    let _ = write!(h.0, "<span class=\"hx{chg}\" id=\"hx-{i}\" data-a=\"{a}\" data-n=\"{n}\">{b:02x}</span>");
                }
                None => {
                    let _ = write!(h.0, "<span class=\"hx{chg}\" id=\"hx-{i}\">{b:02x}</span>");
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
        let _ = write!(
            h.0,
            "</span><span class=\"hx-asc\">{}</span></div>",
            esc(&asc)
        );
    }
    h.raw("</div></div>");
}

fn compare_html(
    h: &mut H,
    a: &[u8],
    b: &[u8],
    title: &str,
    note: Option<&'static str>,
    lang: Lang,
) {
    let rows = dissect::diff(&dissect::dissect(a, lang), &dissect::dissect(b, lang));
    let n = rows.iter().filter(|r| r.changed()).count();
    let verdict = if n == 0 {
        format!("<span class=\"muted\">{}</span>", esc(t(lang, "cmp.same")))
    } else {
        format!(
            "<span class=\"chg\">{n} {}</span>",
            esc(t(lang, "cmp.changed"))
        )
    };
    let _ = write!(
        h.0,
        "<section class=\"compare\"><h4>{} · {verdict}</h4>",
        esc(title)
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
        let _ = write!(
            h.0,
            "<p class=\"cmp-sum\"><b>{}</b> {}",
            esc(t(lang, "cmp.changed.in")),
            esc(&changed.join("; "))
        );
        if !same.is_empty() {
            let _ = write!(
                h.0,
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
    let _ = write!(
        h.0,
        "<table class=\"diff\"><thead><tr><th>{}</th><th>A</th><th>B</th></tr></thead><tbody>",
        esc(t(lang, "cmp.field"))
    );
    for r in rows {
        let _ = write!(
            h.0,
            "<tr{}><th>{} · {}</th><td class=\"mono\">{}</td><td class=\"mono\">{}</td></tr>",
            if r.changed() { " class=\"chg\"" } else { "" },
            esc(t(lang, r.layer)),
            esc(t(lang, r.field)),
            esc(r.a.as_deref().unwrap_or("–")),
            esc(r.b.as_deref().unwrap_or("–"))
        );
    }
    h.raw("</tbody></table></section>");
}

fn jump(h: &mut H, i: usize, label: &str) {
    let _ = write!(
        h.0,
        "<button class=\"link\" data-act=\"jump\" data-arg=\"{i}\">{} #{}</button>",
        esc(label),
        i + 1
    );
}

fn journey_html(h: &mut H, lab: &Lab, links: &Links, cur: usize, lang: Lang) {
    let Some(tx) = links.origin.get(cur).copied().flatten() else {
        return;
    };
    let Some((sw, rx)) = links.hops.get(&tx) else {
        return;
    };
    let trace = &lab.world.trace;
    let _ = write!(
        h.0,
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
        let _ = write!(h.0, " → {} ", esc(t(lang, "recv.by")));
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

/// The whole inspector for event `cur`.
pub fn render(lab: &Lab, links: &Links, cur: usize, pinned: Option<usize>, lang: Lang) -> String {
    let trace = &lab.world.trace;
    let mut h = H::new();
    let Some(e) = trace.get(cur) else {
        h.el("p", "muted", t(lang, "pick.event"));
        return h.done();
    };
    let _ = write!(
        h.0,
        "<div class=\"insp-head\"><span class=\"kchip k-{}\">{}</span><span class=\"muted\">#{} · {} s · {}</span>",
        kind_name(&e.kind),
        esc(kind_label(&e.kind, lang)),
        cur + 1,
        fmt_time(e.time.0),
        esc(&e.host)
    );
    if let Some(p) = pinned {
        let _ = write!(
            h.0,
            "<span class=\"muted small\"> · {PIN}#{} {}</span>",
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
        let _ = write!(
            h.0,
            "<h4>{} · {} {}<button class=\"btn small pin{}\" data-act=\"pin\" data-arg=\"{cur}\" aria-pressed=\"{on}\">{PIN}{}</button></h4>",
            esc(t(lang, "inspector")),
            b.len(),
            esc(t(lang, "bytes")),
            if on { " on" } else { "" },
            esc(t(lang, if on { "unpin" } else { "pin" }))
        );
        if let Some(j) = context {
            let _ = write!(
                h.0,
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
    h.done()
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
            None => format!("<p class=\"muted\">{}</p>", esc(t(l, "pick.event"))),
            Some(c) => s
                .lab
                .with_untracked(|lab| render(lab, &links, c, pinned, l)),
        };
        if let Some(el) = root.get() {
            el.set_inner_html(&html);
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
            on:click=move |e| crate::act::dispatch(&s, &e)></div>
    }
}
