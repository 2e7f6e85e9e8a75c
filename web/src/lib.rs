//! LVS Lab in the browser: a Leptos UI over `lvslab-engine`.
//!
//! Invariant (ARCHITECTURE.md): the UI renders and animates what the engine
//! produces; it computes no networking itself. Frames are parsed by the
//! engine's `wire`, explanations come from `trace::Event::explain`, checks and
//! "why" views run real commands on clones of the engine's `Lab`.
//!
//! Layout: the topology (SVG, animated packets) with the selected event's
//! explanation; the hosts (a terminal each, live tables); the timeline; a
//! side panel with the packet inspector, the guided tour, exercises and the
//! "why" views. Everything is in English and Chinese.

mod act;
mod bench;
mod compare;
mod dispatch;
mod dissect;
mod guide;
mod html;
mod i18n;
mod inspector;
mod json;
mod live;
mod model;
mod paste;
mod session;
mod share;
mod state;
mod store;
mod tables;
mod terminal;
mod timeline;
mod topology;

use i18n::{lang_code, t, tr, Lang};
use leptos::prelude::*;
use lvslab_engine::scenario;
use state::{st, Panel, St};
use wasm_bindgen::prelude::*;

#[component]
fn TopBar() -> impl IntoView {
    let s = st();
    let cmp = compare::cst();
    let lang = s.lang;
    let link_text: RwSignal<Option<String>> = RwSignal::new(None);
    let file_ref = NodeRef::<leptos::html::Input>::new();
    view! {
        <header class="topbar">
            <h1>"LVS Lab"</h1>
            <span class="subtitle">{tr("app.subtitle")}</span>
            <div class="spacer"></div>
            <label class="scen">{tr("scenario")} " "
                // During an exercise the scenario's name would give the answer
                // away: the select says "exercise" instead.
                <select id="scenario" on:change=move |e| s.load_new(&event_target_value(&e), None)
                    prop:value=move || if s.exercise.get().is_some() { String::new() } else { s.scenario.get() }>
                    <option value="" disabled>{tr("scen.exercise")}</option>
                    {scenario::SCENARIOS.iter().map(|sc| view! {
                        <option value=sc.name>{sc.name}</option>
                    }).collect_view()}
                </select>
            </label>
            <button class="btn" title=tr("reset.title")
                on:click=move |_| s.load_new(&s.scenario.get_untracked(), s.exercise.get_untracked())>
                {tr("reset")}</button>
            <button class="btn" id="share" title=tr("share.title") on:click=move |_| {
                let l = share::link(&s, &cmp);
                share::copy(&l);
                link_text.set(Some(l));
                s.flash(t(s.lang_now(), "share.copied").into());
            }>{tr("share")}</button>
            <details class="menu">
                <summary class="btn">{tr("export")}</summary>
                <div class="menu-body">
                    <button class="btn" id="export-pcap" on:click=move |_| share::export_pcap(&s)>{tr("export.pcap")}</button>
                    <button class="btn" id="export-json" on:click=move |_| share::export_json(&s)>{tr("export.json")}</button>
                    <label class="btn" for="import-json">{tr("import.json")}</label>
                    <input id="import-json" class="visually-hidden" type="file" accept=".json,application/json" node_ref=file_ref
                        on:change=move |_| {
                            if let Some(input) = file_ref.get_untracked() {
                                if let Some(f) = input.files().and_then(|l| l.get(0)) {
                                    share::import_file(s, cmp, f);
                                }
                                input.set_value("");
                            }
                        } />
                </div>
            </details>
            <button class="btn" id="big" aria-pressed=move || s.big.get().to_string() title=tr("big.title")
                on:click=move |_| s.big.update(|b| *b = !*b)>{tr("big")}</button>
            <compare::CompareButton />
            <live::LiveButton />
            <button class="btn lang" id="lang" title=tr("lang.title")
                on:click=move |_| lang.update(|l| *l = if *l == Lang::En { Lang::Zh } else { Lang::En })>
                {tr("lang.switch")}</button>
        </header>
        {move || link_text.get().map(|l| view! {
            <div class="linkbar">
                <label>{tr("share.here")} " "
                    <input id="share-link" readonly prop:value=l.clone() on:focus=move |e| {
                        use wasm_bindgen::JsCast;
                        if let Some(i) = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) { i.select(); }
                    } />
                </label>
                <button class="btn small" on:click=move |_| link_text.set(None)>"✕"</button>
            </div>
        })}
    }
}

#[component]
fn SidePanel() -> impl IntoView {
    let s = st();
    let tab = move |p: Panel, key: &'static str, id: &'static str| {
        view! {
            <button role="tab" class="tab" id=id class:on=move || s.panel.get() == p
                aria-selected=move || (s.panel.get() == p).to_string()
                on:click=move |_| s.panel.set(p)>{tr(key)}</button>
        }
    };
    // Selecting an event from the timeline shows it.
    Effect::new(move |prev: Option<Option<usize>>| {
        let c = s.cursor.get();
        if prev.is_some() && c.is_some() && prev != Some(c) && s.panel.get_untracked() == Panel::Why
        {
            s.panel.set(Panel::Inspect);
        }
        c
    });
    view! {
        <div class="tabs" role="tablist">
            {tab(Panel::Inspect, "tab.inspect", "tab-inspect")}
            {tab(Panel::Tour, "tab.tour", "tab-tour")}
            {tab(Panel::Exercises, "tab.ex", "tab-ex")}
            {tab(Panel::Why, "tab.why", "tab-why")}
        </div>
        <div class="side-body" role="tabpanel">
            {move || match s.panel.get() {
                Panel::Inspect => view! { <inspector::Inspector /> }.into_any(),
                Panel::Tour => view! { <guide::panels::TourPanel /> }.into_any(),
                Panel::Exercises => view! { <guide::panels::ExercisePanel /> }.into_any(),
                Panel::Why => view! { <guide::why::WhyPanel /> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn App() -> impl IntoView {
    let s = St::new();
    provide_context(s);
    provide_context(i18n::UiLang(s.lang));
    provide_context(act::Dispatcher(dispatch::dispatch));
    live::provide();
    compare::provide();
    let cmp = compare::cst();
    let lang = s.lang;
    if let Some(shared) = share::decode(&share::location_hash()) {
        share::apply(&s, &cmp, &shared);
    }
    timeline::install_keys(s);
    guide::panels::auto_check(s);

    // Keep the URL hash in step with the lab (a link reopens this state).
    let written = StoredValue::new(share::location_hash().trim_start_matches('#').to_string());
    Effect::new(move |_| {
        let h = share::encode(&share::current(&s, &cmp));
        if written.with_value(|w| *w != h) {
            let push = s.push_hash.get_value();
            s.push_hash.set_value(false);
            share::write_hash(&h, push);
            written.set_value(h);
        }
    });
    // A link pasted into this tab's address bar.
    let hc = window_event_listener(leptos::ev::hashchange, move |_| {
        let h = share::location_hash().trim_start_matches('#').to_string();
        if written.with_value(|w| *w != h) {
            if let Some(shared) = share::decode(&h) {
                written.set_value(h);
                share::apply(&s, &cmp, &shared);
            }
        }
    });
    std::mem::forget(hc);
    Effect::new(move |_| {
        let l = lang.get();
        store::set_item("lvslab.lang", lang_code(l));
        if let Some(el) = document().document_element() {
            let _ = el.set_attribute("lang", if l == Lang::Zh { "zh-CN" } else { "en" });
        }
        document().set_title(match l {
            Lang::En => "LVS Lab — IPVS Direct Routing, packet by packet",
            Lang::Zh => "LVS Lab — IPVS 直接路由，逐包演示",
        });
    });
    Effect::new(move |_| {
        let b = s.big.get();
        store::set_item("lvslab.big", if b { "1" } else { "0" });
        if let Some(body) = document().body() {
            let _ = body.class_list().toggle_with_force("big", b);
        }
    });
    // First render done: tests and the performance budget read this mark.
    request_animation_frame(|| {
        if let Some(p) = window().performance() {
            let _ = p.mark("lvslab-ready");
        }
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-ready", "1");
        }
    });

    view! {
        <TopBar />
        <main class="layout" class:side-tall=move || matches!(s.panel.get(), Panel::Exercises | Panel::Tour)>
            <div class="stage">
            <section class="card topo-card" aria-labelledby="h-topo">
                <h2 id="h-topo" class="visually-hidden">{tr("topology")}</h2>
                <topology::Topology />
                <div class="topo-foot">
                    <p class="scen-desc">{move || {
                        let name = s.scenario.get();
                        let l = lang.get();
                        if let Some(ex) = s.exercise.get().and_then(guide::exercises::exercise) {
                            return format!("{}: {}", t(l, "ex.active"), guide::pick(l, ex.title));
                        }
                        scenario::SCENARIOS.iter().find(|sc| sc.name == name).map(|sc| {
                            format!("{} — {}", sc.name, if l == Lang::Zh { sc.zh } else { sc.en })
                        }).unwrap_or(name)
                    }}</p>
                    <topology::Legend />
                </div>
            </section>
            <section class="card hosts-card" class:maxi=move || s.maxi.get() aria-labelledby="h-hosts">
                <h2 id="h-hosts" class="visually-hidden">{tr("hosts")}</h2>
                <terminal::Hosts />
            </section>
            <section class="ban-card" aria-label=tr("current")>
                <timeline::Banner />
            </section>
            </div>
            <div class="desk">
            <section class="card tl-card" aria-labelledby="h-tl">
                <h2 id="h-tl">{tr("timeline")}
                    <span class="count">{move || s.trace_len.get()} " " {tr("events")}
                        {move || {
                            let _ = s.trace_len.get();
                            let d = s.lab.with_untracked(|l| l.world.trace_dropped);
                            (d > 0).then(|| format!(" · {d} {}", t(lang.get(), "tl.dropped")))
                        }}</span></h2>
                <timeline::Controls />
                <timeline::EventList />
                <p class="keys">{tr("keys")}</p>
            </section>
            <section class="card side-card" aria-label=tr("tab.inspect")>
                <SidePanel />
            </section>
            </div>
        </main>
        <live::LiveView />
        <compare::CompareView />
        {move || s.toast.get().map(|m| view! { <div class="toast" role="status">{m}</div> })}
    }
}

/// Entry point called by the generated JS glue once the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    // The budget test splits "first render" into the module's compile and
    // instantiation (before this mark) and the app's own start-up (after).
    if let Some(p) = window().performance() {
        let _ = p.mark("lvslab-start");
    }
    console_error_panic_hook::set_once();
    let Some(root) = document().get_element_by_id("app") else {
        return;
    };
    let root: web_sys::HtmlElement = root.unchecked_into();
    root.set_inner_html("");
    leptos::mount::mount_to(root, App).forget();
}
