//! The Live view: the director's real IPVS next to the simulator, fed by
//! `lvslab serve --live` (see the README's "Live mode").
//!
//! Linux keeps the table this view shows in the kernel (`ip_vs_ctl.c`
//! services and destinations with their counters and estimator rates,
//! `/proc/net/ip_vs_conn` for connections); the native server reads it and
//! pushes a snapshot every second over Server-Sent Events. We model the
//! page side only: the last snapshot and when it came (stale after 3 s
//! without one), the doctor's findings, the host loaded into the engine as
//! a simulated LAN (`snapshot::world`, computed here by the engine), and
//! the simulator's IPVS configuration sent back as the desired state of
//! `apply` (diff first, applied only after confirmation). The UI computes
//! no networking: plans and findings come from the server's engine.

mod api;
mod render;
mod st;

use crate::act::{markup, Act};
use crate::i18n::{t, tr};
use crate::state::{st, St};
use api::{
    fetch, from_json, parsed, DoctorAnswer, PlanAnswer, PlanLine, Snapshot, SnapshotAnswer, Status,
};
use leptos::prelude::*;
use lvslab_engine::apply::Desired;
use lvslab_engine::ipvs::{IpvsBackend, SimBackend};
use lvslab_engine::shell::Lab;
use lvslab_engine::vecmap::VecMap;
use render::{apply_html, card_title, conns_html, doctor_html, head_html, services_html, CSS};
use st::{lst, perf_now, state_class, ApplyStep, LiveSt};
use std::fmt::Write;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Set up the Live view's state and ask the server whether it is live.
pub fn provide() {
    let l = LiveSt {
        status: RwSignal::new(None),
        open: RwSignal::new(false),
        snap: RwSignal::new(None),
        last_ms: RwSignal::new(None),
        now_ms: RwSignal::new(perf_now()),
        doctor: RwSignal::new(None),
        apply: RwSignal::new(ApplyStep::Idle),
        busy: RwSignal::new(false),
    };
    provide_context(l);
    leptos::task::spawn_local(async move {
        if let Ok(s) = parsed::<Status>(fetch("GET", "/api/live/status", None, None).await) {
            if s.live {
                l.status.set(Some(s));
            }
        }
    });
}

/// The "Live" button of the top bar (only when the server is live).
#[component]
pub fn LiveButton() -> impl IntoView {
    let l = lst();
    view! {
        <Show when=move || l.status.with(|s| s.is_some())>
            <button class="btn" id="live-open" title=tr("live.title")
                aria-pressed=move || l.open.get().to_string()
                on:click=move |_| l.open.update(|o| *o = !*o)>
                <Show when=move || l.open.get()>
                    <span class=move || format!("live-dot {}", state_class(l))></span>
                </Show>
                {tr("live")}
            </button>
        </Show>
    }
}

/// The Live view (an overlay over the lab while open).
#[component]
pub fn LiveView() -> impl IntoView {
    let l = lst();
    view! {
        <Show when=move || l.open.get() && l.status.with(|s| s.is_some())>
            <LivePanel />
        </Show>
    }
}

/// The panel's buttons.
pub fn act(s: &St, a: Act) {
    let l = lst();
    match a {
        Act::LiveLoad => load_host(*s, l),
        Act::LiveClose => l.open.set(false),
        Act::LiveDoctor => refresh_doctor(l),
        Act::LivePlan => plan_apply(*s, l),
        Act::LiveConfirm => confirm_apply(l),
        _ => {}
    }
}

#[component]
fn LivePanel() -> impl IntoView {
    let l = lst();
    let s = st();
    connect(l);
    refresh_doctor(l);
    let lang = s.lang;
    let title = |key: &'static str, button: Option<(&'static str, Act, &'static str)>| {
        markup(
            "",
            Box::new(move || card_title(lang.get(), key, button.clone())),
        )
    };
    view! {
        <section class="live" id="live" role="dialog" aria-labelledby="live-h">
            <style>{CSS}</style>
            {markup("", Box::new(move || head_html(l, lang.get())))}
            <div class="live-grid">
                <div class="card live-card live-wide">
                    {title("live.services", None)}
                    {markup("live-services", Box::new(move || services_html(lang.get(), &l.snap.get())))}
                </div>
                <div class="card live-card live-wide">
                    {title("live.conns", None)}
                    {markup("live-conns", Box::new(move || conns_html(lang.get(), &l.snap.get())))}
                </div>
                <div class="card live-card">
                    {title("live.doctor", Some(("live-doctor-run", Act::LiveDoctor, "live.doctor.run")))}
                    {markup("live-doctor", Box::new(move || doctor_html(lang.get(), &l.doctor.get())))}
                </div>
                <div class="card live-card">
                    {title("live.apply", None)}
                    {markup("live-apply", Box::new(move || apply_html(l, lang.get())))}
                </div>
            </div>
        </section>
    }
}

thread_local! {
    /// The open event stream, its listener and the "stale" clock.
    static STREAM: std::cell::RefCell<Option<Stream>> = const { std::cell::RefCell::new(None) };
}

struct Stream {
    es: web_sys::EventSource,
    _on_snap: Closure<dyn FnMut(web_sys::MessageEvent)>,
    tick: Option<IntervalHandle>,
}

/// Open the event stream while the panel is shown; tick the clock that
/// decides "stale". The browser reconnects a dropped stream by itself.
fn connect(l: LiveSt) {
    disconnect(None);
    let Ok(es) = web_sys::EventSource::new("/api/live/events") else {
        return;
    };
    let on_snap =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Some(text) = e.data().as_string() {
                if let Ok(snap) = from_json::<Snapshot>(&text) {
                    l.snap.set(Some(snap));
                    l.last_ms.set(Some(perf_now()));
                }
            }
        });
    let _ = es.add_event_listener_with_callback("snapshot", on_snap.as_ref().unchecked_ref());
    let tick = set_interval_with_handle(
        move || l.now_ms.set(perf_now()),
        std::time::Duration::from_millis(250),
    )
    .ok();
    STREAM.with(|s| {
        *s.borrow_mut() = Some(Stream {
            es,
            _on_snap: on_snap,
            tick,
        })
    });
    on_cleanup(move || disconnect(Some(l)));
}

fn disconnect(l: Option<LiveSt>) {
    if let Some(l) = l {
        l.last_ms.set(None);
    }
    if let Some(s) = STREAM.with(|s| s.borrow_mut().take()) {
        s.es.close();
        if let Some(t) = s.tick {
            t.clear();
        }
    }
}

fn refresh_doctor(l: LiveSt) {
    leptos::task::spawn_local(async move {
        let r = parsed::<DoctorAnswer>(fetch("GET", "/api/live/doctor", None, None).await);
        l.doctor.set(Some(r));
    });
}

fn load_host(s: St, l: LiveSt) {
    l.busy.set(true);
    leptos::task::spawn_local(async move {
        let r = parsed::<SnapshotAnswer>(fetch("GET", "/api/live/snapshot", None, None).await)
            .map(|a| a.snapshot);
        l.busy.set(false);
        match r {
            Ok(snap) => {
                let (world, _notes) = lvslab_engine::snapshot::world(&snap);
                let name = snap.hostname.clone();
                replace_lab(&s, Lab::new(world), &name);
                l.open.set(false);
                s.flash(t(s.lang_now(), "live.load.done").into());
            }
            Err(e) => s.flash(format!("{}: {e}", t(s.lang_now(), "live.error"))),
        }
    });
}

/// Make `lab` the lab shown (as loading a scenario does), named after the
/// host it came from.
fn replace_lab(s: &St, lab: Lab, host: &str) {
    s.push_hash.set_value(true);
    s.playing.set(false);
    let first = if lab.world.hosts.contains_key(host) {
        host.to_string()
    } else {
        lab.world.hosts.keys().next().cloned().unwrap_or_default()
    };
    s.lab.set(lab);
    s.scenario.set(format!("host:{host}"));
    s.exercise.set(None);
    s.cmds.set(vec![]);
    s.groups.set(vec![]);
    s.terms.set(VecMap::new());
    s.term_cleared.set(VecMap::new());
    s.cursor.set(None);
    s.pinned.set(None);
    s.fresh.set(0);
    s.host_filter.set(None);
    s.host_tab.set(first);
    s.epoch.update(|e| *e += 1);
}

/// The simulator's IPVS configuration as `apply`'s desired state: the
/// first host (in name order) that has virtual services.
fn simulated_desired(s: &St) -> Option<(String, String)> {
    s.lab.with_untracked(|lab| {
        lab.world.hosts.iter().find_map(|(name, h)| {
            if h.ipvs.services.is_empty() {
                return None;
            }
            let mut ipvs = h.ipvs.clone();
            let entries = SimBackend {
                ipvs: &mut ipvs,
                now: lab.world.now,
            }
            .services()
            .ok()?;
            let desired = Desired::from_entries(&entries);
            Some((name.clone(), crate::json::to_string(&desired).ok()?))
        })
    })
}

fn request_body(dry_run: bool, desired: &str, expect: Option<&[PlanLine]>) -> String {
    let mut b = format!("{{\"dry_run\":{dry_run},\"desired\":{desired}");
    if let Some(e) = expect {
        let cmds: Vec<&str> = e.iter().map(|p| p.command.as_str()).collect();
        let _ = write!(
            b,
            ",\"expect\":{}",
            crate::json::to_string(&cmds).unwrap_or_default()
        );
    }
    b.push('}');
    b
}

/// "Show the diff": the simulator's configuration, planned by the server.
fn plan_apply(s: St, l: LiveSt) {
    let Some((host, desired)) = simulated_desired(&s) else {
        l.apply.set(ApplyStep::Failed(
            t(s.lang_now(), "live.apply.nosim").into(),
        ));
        return;
    };
    l.apply.set(ApplyStep::Busy);
    leptos::task::spawn_local(async move {
        let body = request_body(true, &desired, None);
        let step =
            match parsed::<PlanAnswer>(fetch("POST", "/api/live/apply", Some(&body), None).await) {
                Ok(plan) => ApplyStep::Planned {
                    host,
                    desired,
                    plan,
                },
                Err(e) => ApplyStep::Failed(e),
            };
        l.apply.set(step);
    });
}

/// "Apply these changes": the same desired state, with the plan that was
/// shown (the server refuses if the table changed) and the token.
fn confirm_apply(l: LiveSt) {
    let ApplyStep::Planned { desired, plan, .. } = l.apply.get_untracked() else {
        return;
    };
    let token = document()
        .get_element_by_id("live-token")
        .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
        .map(|i| i.value())
        .unwrap_or_default();
    l.apply.set(ApplyStep::Busy);
    leptos::task::spawn_local(async move {
        let body = request_body(false, &desired, Some(&plan.plan));
        let answer = fetch("POST", "/api/live/apply", Some(&body), Some(&token)).await;
        let step = match parsed::<PlanAnswer>(answer) {
            Ok(p) => ApplyStep::Done(p),
            Err(e) => ApplyStep::Failed(e),
        };
        l.apply.set(step);
        refresh_doctor(l);
    });
}
