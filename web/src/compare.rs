//! Compare mode: two live labs side by side (e.g. `seed` and
//! `pitfall-lo-mask-24`). A command typed once runs in both; the first
//! event where their traces part is marked in both columns and explained.
//! Which events are "the same step", and why they part, is the engine's
//! (`teach::compare`); the page replays the commands and lays it out.

use crate::html::Markup;
use crate::i18n::{t, tr, Lang};
use crate::state::{st, Cmd};
use crate::w;
use leptos::prelude::*;
use lvslab_engine::scenario;
use lvslab_engine::shell::Lab;
use lvslab_engine::teach::compare::{first_divergence, Divergence};

/// The compare pair and the commands typed (a context of its own).
#[derive(Clone, Copy)]
pub struct CmpSt {
    pub open: RwSignal<bool>,
    pub left: RwSignal<String>,
    pub right: RwSignal<String>,
    pub cmds: RwSignal<Vec<Cmd>>,
    pub host: RwSignal<String>,
}

pub fn cst() -> CmpSt {
    expect_context::<CmpSt>()
}

pub fn provide() {
    provide_context(CmpSt {
        open: RwSignal::new(false),
        left: RwSignal::new("seed".into()),
        right: RwSignal::new("pitfall-lo-mask-24".into()),
        cmds: RwSignal::new(vec![]),
        host: RwSignal::new("client".into()),
    });
}

/// One side: the lab after the commands, and each command's output and
/// the trace range it produced.
struct Side {
    lab: Lab,
    outs: Vec<(String, usize, usize)>,
}

fn replay(name: &str, cmds: &[Cmd]) -> Side {
    let mut lab = Lab::new(scenario::load(name).unwrap_or_else(|_| scenario::bare()));
    let mut outs = Vec::new();
    for c in cmds {
        let from = lab.world.trace.len();
        let text = lab.run(&c.host, &c.line).text;
        outs.push((text, from, lab.world.trace.len()));
    }
    Side { lab, outs }
}

fn describe(name: &str, lang: Lang) -> &'static str {
    scenario::SCENARIOS
        .iter()
        .find(|s| s.name == name)
        .map(|s| if lang == Lang::Zh { s.zh } else { s.en })
        .unwrap_or("")
}

fn column(
    m: &mut Markup,
    side: &Side,
    name: &str,
    cmds: &[Cmd],
    mark: Option<usize>,
    cls: &str,
    lang: Lang,
) {
    w!(m, "<section class=\"cmp-col {}\" data-scenario=\"{}\"><h3>{}</h3><p class=\"muted small\">{}</p><div class=\"cmp-term\">", cls, name, name, describe(name, lang));
    for (c, (out, _, _)) in cmds.iter().zip(&side.outs) {
        w!(m, "<div class=\"ti\"><span class=\"ps1\">[root@{} ~]#</span> <span class=\"cmdline\">{}</span><pre class=\"out\">{}</pre></div>", c.host, c.line, out);
    }
    m.raw("</div><ol class=\"cmp-events\">");
    let trace = &side.lab.world.trace;
    for (i, e) in trace.iter().enumerate() {
        let kt = e.kind.text();
        let here = mark == Some(i);
        w!(m, "<li class=\"ev k-{}{}\" data-i=\"{}\"><span class=\"ev-n\">{}</span> <span class=\"ev-h\">{}</span> <span class=\"ev-k\">{}</span> <span class=\"ev-x\">{}</span></li>", kt.name, if here { " diverge" } else { "" }, i, i + 1, e.host, kt.label(lang), e.explain(lang));
    }
    m.raw("</ol></section>");
}

fn render(c: CmpSt, lang: Lang) -> Markup {
    let (l, r, cmds) = (c.left.get(), c.right.get(), c.cmds.get());
    let (a, b) = (replay(&l, &cmds), replay(&r, &cmds));
    let div: Option<Divergence> = first_divergence(
        &a.lab.world.trace,
        &b.lab.world.trace,
        &l,
        &r,
        &a.lab.world,
        &b.lab.world,
    );
    let mut m = Markup::new();
    match (&div, cmds.is_empty()) {
        (_, true) => {
            m.el("p", "cmp-sum muted", t(lang, "cmp.start"));
        }
        (None, false) => {
            m.el("p", "cmp-sum same", t(lang, "cmp.nodiff"));
        }
        (Some(d), false) => {
            w!(
                m,
                "<p class=\"cmp-sum diverge\" id=\"cmp-why\" data-host=\"{}\"><b>{}</b> {}</p>",
                d.host,
                t(lang, "cmp.parted"),
                d.text(lang)
            );
        }
    }
    m.raw("<div class=\"cmp-cols\">");
    column(
        &mut m,
        &a,
        &l,
        &cmds,
        div.as_ref().and_then(|d| d.a),
        "left",
        lang,
    );
    column(
        &mut m,
        &b,
        &r,
        &cmds,
        div.as_ref().and_then(|d| d.b),
        "right",
        lang,
    );
    m.raw("</div>");
    m
}

/// Keep each column's marked event (or its end) in view.
fn scroll_marks(root: &web_sys::Element) {
    let Ok(cols) = root.query_selector_all(".cmp-events") else {
        return;
    };
    for k in 0..cols.length() {
        use wasm_bindgen::JsCast;
        let Some(ol) = cols
            .item(k)
            .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
        else {
            continue;
        };
        match ol.query_selector(".diverge").ok().flatten() {
            Some(li) => {
                let top = li.get_bounding_client_rect().top() - ol.get_bounding_client_rect().top();
                ol.set_scroll_top((ol.scroll_top() + top as i32 - 60).max(0));
            }
            None => ol.set_scroll_top(ol.scroll_height()),
        }
    }
}

#[component]
pub fn CompareView() -> impl IntoView {
    let c = cst();
    let s = st();
    let lang = s.lang;
    let body = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if !c.open.get() {
            return;
        }
        let html = render(c, lang.get());
        if let Some(el) = body.get() {
            el.set_inner_html(html.as_str());
            let el: web_sys::Element = el.into();
            request_animation_frame(move || scroll_marks(&el));
        }
    });
    let input = NodeRef::<leptos::html::Input>::new();
    let on_key = move |e: web_sys::KeyboardEvent| {
        if e.key() != "Enter" {
            return;
        }
        e.prevent_default();
        let Some(i) = input.get_untracked() else {
            return;
        };
        let line = i.value();
        if line.trim().is_empty() {
            return;
        }
        i.set_value("");
        let host = c.host.get_untracked();
        c.cmds.update(|v| v.push(Cmd { host, line }));
    };
    let options = move |sel: RwSignal<String>| {
        scenario::SCENARIOS
            .iter()
            .map(|sc| {
                let n = sc.name;
                view! { <option value=n selected=move || sel.get() == n>{n}</option> }
            })
            .collect_view()
    };
    let hosts = ["client", "node01", "node02", "node03"];
    view! {
        <Show when=move || c.open.get()>
            <section class="cmp" id="compare" role="dialog" aria-labelledby="cmp-h">
                <header class="cmp-head">
                    <h2 id="cmp-h">{tr("cmp.title")}</h2>
                    <select id="cmp-left" aria-label=tr("cmp.left")
                        on:change=move |e| c.left.set(event_target_value(&e))>{options(c.left)}</select>
                    <span>"↔"</span>
                    <select id="cmp-right" aria-label=tr("cmp.right")
                        on:change=move |e| c.right.set(event_target_value(&e))>{options(c.right)}</select>
                    <label class="cmp-cmd">
                        <select id="cmp-host" aria-label=tr("host")
                            on:change=move |e| c.host.set(event_target_value(&e))>
                            {hosts.iter().map(|h| {
                                let h = *h;
                                view! { <option value=h selected=move || c.host.get() == h>{h}</option> }
                            }).collect_view()}
                        </select>
                        <span class="ps1">"#"</span>
                        <input id="cmp-in" node_ref=input type="text" autocomplete="off" spellcheck="false"
                            placeholder=move || t(lang.get(), "cmp.placeholder")
                            aria-label=tr("cmp.placeholder") on:keydown=on_key />
                    </label>
                    <button class="btn" id="cmp-reset" on:click=move |_| c.cmds.set(vec![])>{tr("reset")}</button>
                    <button class="btn" id="cmp-close" on:click=move |_| c.open.set(false)>{tr("live.close")}</button>
                </header>
                <div class="cmp-body" node_ref=body></div>
            </section>
        </Show>
    }
}

/// The top bar's "Compare" button.
#[component]
pub fn CompareButton() -> impl IntoView {
    let c = cst();
    view! {
        <button class="btn" id="compare-open" title=tr("cmp.button.title")
            aria-pressed=move || c.open.get().to_string()
            on:click=move |_| c.open.update(|o| *o = !*o)>{tr("cmp.button")}</button>
    }
}
