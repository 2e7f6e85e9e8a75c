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

use crate::html::{esc, markup, H};
use crate::state::{st, St};
use leptos::prelude::*;
use lvslab_engine::apply::Desired;
use lvslab_engine::ipvs::{ConnEntry, IpvsBackend, Rates, SimBackend, Stats, Timeouts};
use lvslab_engine::shell::Lab;
use lvslab_engine::trace::Lang;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

macro_rules! table {
    ($($key:literal => $en:literal, $zh:literal;)*) => {
        static TABLE: &[(&str, &str, &str)] = &[$(($key, $en, $zh),)*];
    };
}

table! {
    "live" => "Live", "实时";
    "live.title" => "This host's real IPVS (lvslab serve --live)", "本机真实的 IPVS（lvslab serve --live）";
    "live.heading" => "Live: the kernel's IPVS", "实时：内核中的 IPVS";
    "live.close" => "Back to the lab", "返回实验";
    "live.connecting" => "connecting…", "正在连接…";
    "live.connected" => "connected", "已连接";
    "live.stale" => "stale: no update for", "数据过期：已有";
    "live.stale.s" => "s", "秒未更新";
    "live.updated" => "updated", "更新于";
    "live.ago" => "s ago", "秒前";
    "live.simulated" => "Simulated backend (test/demo mode), not a kernel", "模拟后端（测试/演示模式），不是真实内核";
    "live.services" => "Virtual services and real servers", "虚拟服务与真实服务器";
    "live.none" => "No virtual services in this kernel.", "内核中没有虚拟服务。";
    "live.conns" => "Connections (ipvsadm -Lnc)", "连接（ipvsadm -Lnc）";
    "live.conns.none" => "No connection entries.", "没有连接条目。";
    "live.conns.first" => "showing the first", "只显示前";
    "live.conns.of" => "of", "条，共";
    "live.timeouts" => "Timeouts (tcp tcpfin udp)", "超时（tcp tcpfin udp）";
    "live.doctor" => "Doctor", "诊断";
    "live.doctor.run" => "Check again", "重新检查";
    "live.doctor.ok" => "No problems found.", "没有发现问题。";
    "live.doctor.passed" => "checks passed", "项检查通过";
    "live.doctor.why" => "Why", "原因";
    "live.doctor.fix" => "Fix", "修复";
    "live.load" => "Load this host into the simulator", "把本机载入模拟器";
    "live.load.done" => "This host is now the lab: step packets through its real configuration", "本机已载入实验：可逐包查看真实配置下的转发";
    "live.apply" => "Apply to the kernel", "应用到内核";
    "live.apply.intro" => "The simulator's IPVS configuration (host", "模拟器中的 IPVS 配置（主机";
    "live.apply.intro2" => ") as the changes apply would make to this kernel:", "）相对本机内核需要做的改动：";
    "live.apply.plan" => "Show the diff", "显示差异";
    "live.apply.none" => "The kernel already matches the simulator: nothing to change.", "内核已与模拟器一致：无需改动。";
    "live.apply.untouched" => "Not in the simulator, left alone:", "模拟器中没有、保持不动：";
    "live.apply.token" => "Token (printed by lvslab serve at start-up)", "令牌（lvslab serve 启动时打印）";
    "live.apply.confirm" => "Apply these changes to the kernel", "确认把这些改动应用到内核";
    "live.apply.readonly" => "Read-only server: start it with --allow-apply to change the kernel.", "只读服务：用 --allow-apply 启动才能修改内核。";
    "live.apply.done" => "Applied: the kernel's table now matches.", "已应用：内核中的表已与之一致。";
    "live.apply.failed" => "Not applied", "未应用";
    "live.apply.nosim" => "The simulator has no host with IPVS services.", "模拟器中没有配置了 IPVS 服务的主机。";
    "live.error" => "Error", "错误";
    "col.service" => "Service / real server", "服务 / 真实服务器";
    "col.fwd" => "Forward", "转发方式";
    "col.weight" => "Weight", "权重";
    "col.active" => "ActiveConn", "活动连接";
    "col.inactive" => "InActConn", "非活动连接";
    "col.conns" => "Conns", "连接数";
    "col.inpkts" => "InPkts", "入包数";
    "col.inbytes" => "InBytes", "入字节";
    "col.cps" => "CPS", "每秒连接";
    "col.inpps" => "InPPS", "每秒入包";
    "col.inbps" => "InBPS", "每秒入字节";
    "col.pro" => "pro", "协议";
    "col.expire" => "expire", "剩余";
    "col.state" => "state", "状态";
    "col.source" => "source", "源";
    "col.virtual" => "virtual", "虚拟地址";
    "col.dest" => "destination", "目的";
}

fn lt(lang: Lang, key: &'static str) -> &'static str {
    match TABLE.iter().find(|(k, _, _)| *k == key) {
        Some((_, en, zh)) => match lang {
            Lang::En => en,
            Lang::Zh => zh,
        },
        None => key,
    }
}

fn ltr(key: &'static str) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let lang = st().lang;
    move || lt(lang.get(), key)
}

// ---- what the server sends (a subset of each answer) -----------------------

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Source {
    kind: String,
    detail: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Status {
    live: bool,
    #[serde(default)]
    apply: bool,
    source: Option<Source>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct DestView {
    key: String,
    fwd: String,
    weight: i32,
    active: u32,
    inactive: u32,
    stats: Stats,
    rates: Rates,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct ServiceView {
    key: String,
    scheduler: String,
    persistent: Option<u32>,
    stats: Stats,
    rates: Rates,
    dests: Vec<DestView>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct ServicesView {
    services: Vec<ServiceView>,
    timeouts: Timeouts,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct ConnsView {
    total: usize,
    truncated: bool,
    connections: Vec<ConnEntry>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct Snapshot {
    seq: u64,
    source: Source,
    services: Option<ServicesView>,
    connections: Option<ConnsView>,
    error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct DoctorAnswer {
    report: lvslab_engine::doctor::Report,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct SnapshotAnswer {
    snapshot: lvslab_engine::snapshot::HostSnapshot,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct PlanLine {
    sign: String,
    command: String,
    was: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct PlanAnswer {
    applied: bool,
    plan: Vec<PlanLine>,
    untouched: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct ErrorAnswer {
    error: String,
    #[serde(default)]
    rolled_back: Vec<String>,
}

/// Where the apply dialogue is.
#[derive(Debug, Clone, PartialEq)]
enum ApplyStep {
    Idle,
    Busy,
    /// The diff for the simulator's configuration, from `host`.
    Planned {
        host: String,
        desired: String,
        plan: PlanAnswer,
    },
    Done(PlanAnswer),
    Failed(String),
}

/// The Live view's state (a context next to the lab's `St`).
#[derive(Clone, Copy)]
pub struct LiveSt {
    status: RwSignal<Option<Status>>,
    open: RwSignal<bool>,
    snap: RwSignal<Option<Snapshot>>,
    /// `performance.now()` of the last snapshot, and of now (ticking).
    last_ms: RwSignal<Option<f64>>,
    now_ms: RwSignal<f64>,
    doctor: RwSignal<Option<Result<DoctorAnswer, String>>>,
    apply: RwSignal<ApplyStep>,
    token: RwSignal<String>,
    busy: RwSignal<bool>,
}

fn lst() -> LiveSt {
    expect_context::<LiveSt>()
}

fn perf_now() -> f64 {
    window().performance().map(|p| p.now()).unwrap_or(0.0)
}

/// Seconds without a snapshot after which the view says "stale".
const STALE_MS: f64 = 3000.0;

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
        token: RwSignal::new(String::new()),
        busy: RwSignal::new(false),
    };
    provide_context(l);
    leptos::task::spawn_local(async move {
        if let Ok((200, text)) = fetch("GET", "/api/live/status", None, None).await {
            if let Ok(s) = serde_json::from_str::<Status>(&text) {
                if s.live {
                    l.status.set(Some(s));
                }
            }
        }
    });
}

/// `fetch` → (status, body text).
async fn fetch(
    method: &str,
    url: &str,
    body: Option<&str>,
    token: Option<&str>,
) -> Result<(u16, String), String> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().map_err(|e| format!("{e:?}"))?;
    if let Some(b) = body {
        headers
            .set("Content-Type", "application/json")
            .map_err(|e| format!("{e:?}"))?;
        init.set_body(&JsValue::from_str(b));
    }
    if let Some(t) = token.filter(|t| !t.is_empty()) {
        headers
            .set("Authorization", &format!("Bearer {}", t.trim()))
            .map_err(|_| "the token contains characters a header cannot carry".to_string())?;
    }
    init.set_headers(&headers);
    let req = web_sys::Request::new_with_str_and_init(url, &init).map_err(|e| format!("{e:?}"))?;
    let resp = wasm_bindgen_futures::JsFuture::from(window().fetch_with_request(&req))
        .await
        .map_err(|_| "the server did not answer".to_string())?;
    let resp: web_sys::Response = resp.dyn_into().map_err(|_| "not a response".to_string())?;
    let status = resp.status();
    let text = wasm_bindgen_futures::JsFuture::from(resp.text().map_err(|e| format!("{e:?}"))?)
        .await
        .map_err(|_| "the answer could not be read".to_string())?
        .as_string()
        .unwrap_or_default();
    Ok((status, text))
}

/// The server's `{"error": ...}`, or the raw text.
fn error_text(status: u16, text: &str) -> String {
    match serde_json::from_str::<ErrorAnswer>(text) {
        Ok(e) if e.rolled_back.is_empty() => format!("{status}: {}", e.error),
        // A failed apply: the error already lists what was undone.
        Ok(e) => format!("{status}: {} ({} undone)", e.error, e.rolled_back.len()),
        Err(_) => format!("{status}: {text}"),
    }
}

/// The "Live" button of the top bar (only when the server is live).
#[component]
pub fn LiveButton() -> impl IntoView {
    let l = lst();
    view! {
        <Show when=move || l.status.with(|s| s.is_some())>
            <button class="btn" id="live-open" title=ltr("live.title")
                aria-pressed=move || l.open.get().to_string()
                on:click=move |_| l.open.update(|o| *o = !*o)>
                <Show when=move || l.open.get()>
                    <span class=move || format!("live-dot {}", state_class(l))></span>
                </Show>
                {ltr("live")}
            </button>
        </Show>
    }
}

fn state_class(l: LiveSt) -> &'static str {
    match l.last_ms.get() {
        None => "connecting",
        Some(t) if l.now_ms.get() - t > STALE_MS => "stale",
        Some(_) => "connected",
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

#[component]
fn LivePanel() -> impl IntoView {
    let l = lst();
    let s = st();
    connect(l);
    refresh_doctor(l);
    let lang = s.lang;
    let status_text = move || {
        let lang = lang.get();
        match l.last_ms.get() {
            None => lt(lang, "live.connecting").to_string(),
            Some(t) => {
                let age = (l.now_ms.get() - t).max(0.0) / 1000.0;
                if age * 1000.0 > STALE_MS {
                    format!(
                        "{} {age:.0} {}",
                        lt(lang, "live.stale"),
                        lt(lang, "live.stale.s")
                    )
                } else {
                    format!(
                        "{} · {} {age:.1} {}",
                        lt(lang, "live.connected"),
                        lt(lang, "live.updated"),
                        lt(lang, "live.ago")
                    )
                }
            }
        }
    };
    let simulated = move || {
        l.status.with(|s| {
            s.as_ref()
                .and_then(|s| s.source.as_ref())
                .is_some_and(|s| s.kind == "simulated")
        })
    };
    view! {
        <section class="live" id="live" role="dialog" aria-labelledby="live-h">
            <style>{CSS}</style>
            <header class="live-head">
                <h2 id="live-h">{ltr("live.heading")}</h2>
                <span id="live-state" class=move || format!("live-state {}", state_class(l))
                    data-state=move || state_class(l) role="status">{status_text}</span>
                <span class="muted small" id="live-source">{move || l.snap.with(|x| x.as_ref().map(|x| x.source.detail.clone()))}</span>
                <div class="spacer"></div>
                <button class="btn" id="live-load" disabled=move || l.busy.get()
                    on:click=move |_| load_host(s, l)>{ltr("live.load")}</button>
                <button class="btn" id="live-close" on:click=move |_| l.open.set(false)>{ltr("live.close")}</button>
            </header>
            <Show when=simulated>
                <p class="live-sim" id="live-simulated">{ltr("live.simulated")}</p>
            </Show>
            {move || l.snap.with(|x| x.as_ref().and_then(|x| x.error.clone())).map(|e| view! {
                <p class="live-error" role="alert">{ltr("live.error")} ": " {e}</p>
            })}
            <div class="live-grid">
                <div class="card live-card live-wide">
                    <h3>{ltr("live.services")}</h3>
                    {markup("live-services", Box::new(move || services_html(lang.get(), &l.snap.get())))}
                </div>
                <div class="card live-card">
                    <h3>{ltr("live.conns")}</h3>
                    {markup("live-conns", Box::new(move || conns_html(lang.get(), &l.snap.get())))}
                </div>
                <div class="card live-card">
                    <h3>{ltr("live.doctor")}
                        <button class="btn small" id="live-doctor-run" on:click=move |_| refresh_doctor(l)>{ltr("live.doctor.run")}</button>
                    </h3>
                    {markup("live-doctor", Box::new(move || doctor_html(lang.get(), &l.doctor.get())))}
                </div>
                <div class="card live-card">
                    <h3>{ltr("live.apply")}</h3>
                    <ApplyPanel />
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
                if let Ok(snap) = serde_json::from_str::<Snapshot>(&text) {
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
        let r = match fetch("GET", "/api/live/doctor", None, None).await {
            Ok((200, text)) => {
                serde_json::from_str::<DoctorAnswer>(&text).map_err(|e| e.to_string())
            }
            Ok((status, text)) => Err(error_text(status, &text)),
            Err(e) => Err(e),
        };
        l.doctor.set(Some(r));
    });
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

fn counters(h: &mut H, stats: &Stats, rates: &Rates) {
    for v in [
        stats.conns,
        stats.inpkts,
        stats.inbytes,
        rates.cps,
        rates.inpps,
        rates.inbps,
    ] {
        let _ = write!(h.0, "<td class=\"num\">{}</td>", num(v));
    }
}

fn services_html(lang: Lang, snap: &Option<Snapshot>) -> String {
    let Some(sv) = snap.as_ref().and_then(|s| s.services.as_ref()) else {
        return String::new();
    };
    let mut h = H::new();
    if sv.services.is_empty() {
        h.el("p", "muted", lt(lang, "live.none"));
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
            h.el("th", "", lt(lang, k));
        }
        h.raw("</tr></thead><tbody>");
        for s in &sv.services {
            let mut title = format!("{} {}", s.key, s.scheduler);
            if let Some(p) = s.persistent {
                let _ = write!(title, " persistent {p}");
            }
            let _ = write!(
                h.0,
                "<tr class=\"svc\" data-key=\"{}\"><th class=\"mono\" colspan=\"5\">{}</th>",
                esc(&s.key),
                esc(&title)
            );
            counters(&mut h, &s.stats, &s.rates);
            h.raw("</tr>");
            for d in &s.dests {
                let _ = write!(
                    h.0,
                    "<tr class=\"dest\" data-key=\"{}\"><td class=\"mono\">&nbsp;&nbsp;-&gt; {}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
                    esc(&d.key),
                    esc(&d.key),
                    esc(&d.fwd),
                    d.weight,
                    d.active,
                    d.inactive
                );
                counters(&mut h, &d.stats, &d.rates);
                h.raw("</tr>");
            }
        }
        h.raw("</tbody></table>");
    }
    let t = &sv.timeouts;
    let _ = write!(
        h.0,
        "<p class=\"muted small\">{} {} {} {}</p>",
        esc(lt(lang, "live.timeouts")),
        t.tcp,
        t.tcp_fin,
        t.udp
    );
    h.done()
}

fn conns_html(lang: Lang, snap: &Option<Snapshot>) -> String {
    let Some(cv) = snap.as_ref().and_then(|s| s.connections.as_ref()) else {
        return String::new();
    };
    let mut h = H::new();
    if cv.connections.is_empty() {
        h.el("p", "muted", lt(lang, "live.conns.none"));
        return h.done();
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
        h.el("th", "", lt(lang, k));
    }
    h.raw("</tr></thead><tbody>");
    let hp = |a: &std::net::IpAddr, p: u16| match a {
        std::net::IpAddr::V6(a) => format!("[{a}]:{p}"),
        a => format!("{a}:{p}"),
    };
    for c in &cv.connections {
        let _ = write!(
            h.0,
            "<tr><td>{}</td><td>{:02}:{:02}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.proto),
            c.expires / 60,
            c.expires % 60,
            esc(&c.state),
            esc(&hp(&c.caddr, c.cport)),
            esc(&hp(&c.vaddr, c.vport)),
            esc(&hp(&c.daddr, c.dport))
        );
    }
    h.raw("</tbody></table>");
    if cv.truncated {
        let _ = write!(
            h.0,
            "<p class=\"muted small\">{} {} {} {}</p>",
            esc(lt(lang, "live.conns.first")),
            cv.connections.len(),
            esc(lt(lang, "live.conns.of")),
            cv.total
        );
    }
    h.done()
}

fn doctor_html(lang: Lang, d: &Option<Result<DoctorAnswer, String>>) -> String {
    let mut h = H::new();
    match d {
        None => {}
        Some(Err(e)) => {
            h.el(
                "p",
                "live-error",
                &format!("{}: {e}", lt(lang, "live.error")),
            );
        }
        Some(Ok(a)) => {
            let r = &a.report;
            if r.findings.is_empty() {
                h.el("p", "live-ok", lt(lang, "live.doctor.ok"));
            }
            h.raw("<ul class=\"live-findings\">");
            for f in &r.findings {
                let sev = match f.severity {
                    lvslab_engine::doctor::Severity::Error => "error",
                    lvslab_engine::doctor::Severity::Warning => "warning",
                };
                let (text, why) = match lang {
                    Lang::En => (&f.en, &f.why_en),
                    Lang::Zh => (&f.zh, &f.why_zh),
                };
                let _ = write!(
                    h.0,
                    "<li class=\"finding {sev}\" data-check=\"{}\"><b>{}</b> <code>{}</code> {}<br><span class=\"muted\">{}: {}</span>",
                    esc(&f.check),
                    sev.to_uppercase(),
                    esc(&f.check),
                    esc(text),
                    esc(lt(lang, "live.doctor.why")),
                    esc(why)
                );
                for c in &f.fix {
                    let _ = write!(
                        h.0,
                        "<br><span class=\"muted\">{}:</span> <code>{}</code>",
                        esc(lt(lang, "live.doctor.fix")),
                        esc(c)
                    );
                }
                h.raw("</li>");
            }
            h.raw("</ul>");
            let _ = write!(
                h.0,
                "<p class=\"muted small\">{} {}</p>",
                r.passed.len(),
                esc(lt(lang, "live.doctor.passed"))
            );
        }
    }
    h.done()
}

/// "Load this host into the simulator": the host's snapshot, turned into
/// a simulated LAN by the engine, replaces the lab.
fn load_host(s: St, l: LiveSt) {
    l.busy.set(true);
    leptos::task::spawn_local(async move {
        let r = match fetch("GET", "/api/live/snapshot", None, None).await {
            Ok((200, text)) => {
                serde_json::from_str::<SnapshotAnswer>(&text).map_err(|e| e.to_string())
            }
            Ok((status, text)) => Err(error_text(status, &text)),
            Err(e) => Err(e),
        };
        l.busy.set(false);
        match r {
            Ok(a) => {
                let (world, _notes) = lvslab_engine::snapshot::world(&a.snapshot);
                let name = a.snapshot.hostname.clone();
                replace_lab(&s, Lab::new(world), &name);
                l.open.set(false);
                s.flash(lt(s.lang_now(), "live.load.done").into());
            }
            Err(e) => s.flash(format!("{}: {e}", lt(s.lang_now(), "live.error"))),
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
    s.terms.set(BTreeMap::new());
    s.term_cleared.set(BTreeMap::new());
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

#[component]
fn ApplyPanel() -> impl IntoView {
    let l = lst();
    let s = st();
    let lang = s.lang;
    let allowed = move || l.status.with(|x| x.as_ref().is_some_and(|x| x.apply));
    let plan = move |_| {
        let Some((host, desired)) = simulated_desired(&s) else {
            l.apply.set(ApplyStep::Failed(
                lt(lang.get_untracked(), "live.apply.nosim").into(),
            ));
            return;
        };
        l.apply.set(ApplyStep::Busy);
        leptos::task::spawn_local(async move {
            let body = request_body(true, &desired, None);
            let step = match fetch("POST", "/api/live/apply", Some(&body), None).await {
                Ok((200, text)) => match serde_json::from_str::<PlanAnswer>(&text) {
                    Ok(plan) => ApplyStep::Planned {
                        host,
                        desired,
                        plan,
                    },
                    Err(e) => ApplyStep::Failed(e.to_string()),
                },
                Ok((status, text)) => ApplyStep::Failed(error_text(status, &text)),
                Err(e) => ApplyStep::Failed(e),
            };
            l.apply.set(step);
        });
    };
    let confirm = move |_| {
        let ApplyStep::Planned { desired, plan, .. } = l.apply.get_untracked() else {
            return;
        };
        let token = l.token.get_untracked();
        l.apply.set(ApplyStep::Busy);
        leptos::task::spawn_local(async move {
            let body = request_body(false, &desired, Some(&plan.plan));
            let step = match fetch("POST", "/api/live/apply", Some(&body), Some(&token)).await {
                Ok((200, text)) => match serde_json::from_str::<PlanAnswer>(&text) {
                    Ok(p) => ApplyStep::Done(p),
                    Err(e) => ApplyStep::Failed(e.to_string()),
                },
                Ok((status, text)) => ApplyStep::Failed(error_text(status, &text)),
                Err(e) => ApplyStep::Failed(e),
            };
            l.apply.set(step);
            refresh_doctor(l);
        });
    };
    view! {
        <div class="live-apply">
            <button class="btn" id="live-plan" disabled=move || l.apply.get() == ApplyStep::Busy
                on:click=plan>{ltr("live.apply.plan")}</button>
            {move || match l.apply.get() {
                ApplyStep::Idle | ApplyStep::Busy => ().into_any(),
                ApplyStep::Failed(e) => view! {
                    <p class="live-error" id="live-apply-error" role="alert">{lt(lang.get(), "live.apply.failed")} ": " {e}</p>
                }.into_any(),
                ApplyStep::Done(p) => view! {
                    <p class="live-ok" id="live-apply-done" role="status">{lt(lang.get(), "live.apply.done")}</p>
                    {plan_view(lang.get(), &p)}
                }.into_any(),
                ApplyStep::Planned { host, plan, .. } => {
                    let empty = plan.plan.is_empty();
                    view! {
                        <p>{lt(lang.get(), "live.apply.intro")} " " <b>{host}</b> {lt(lang.get(), "live.apply.intro2")}</p>
                        {plan_view(lang.get(), &plan)}
                        {(!empty).then(|| if allowed() {
                            view! {
                                <label class="live-token">{ltr("live.apply.token")} " "
                                    <input id="live-token" type="password" autocomplete="off"
                                        prop:value=move || l.token.get()
                                        on:input=move |e| l.token.set(event_target_value(&e)) />
                                </label>
                                <button class="btn primary" id="live-confirm" on:click=confirm>{ltr("live.apply.confirm")}</button>
                            }.into_any()
                        } else {
                            view! { <p class="muted" id="live-readonly">{ltr("live.apply.readonly")}</p> }.into_any()
                        })}
                    }.into_any()
                }
            }}
        </div>
    }
}

fn plan_view(lang: Lang, p: &PlanAnswer) -> AnyView {
    let mut h = H::new();
    if p.plan.is_empty() && !p.applied {
        h.el("p", "muted", lt(lang, "live.apply.none"));
    }
    if !p.plan.is_empty() {
        h.raw("<pre class=\"live-diff\" id=\"live-diff\">");
        for line in &p.plan {
            let cls = match line.sign.as_str() {
                "+" => "add",
                "-" => "del",
                _ => "edit",
            };
            let _ = write!(
                h.0,
                "<span class=\"{cls}\">{} ipvsadm {}</span>",
                esc(&line.sign),
                esc(&line.command)
            );
            if let Some(w) = &line.was {
                let _ = write!(h.0, "   <span class=\"muted\">(was: {})</span>", esc(w));
            }
            h.raw("\n");
        }
        h.raw("</pre>");
    }
    if !p.untouched.is_empty() {
        let _ = write!(
            h.0,
            "<p class=\"muted small\">{} {}</p>",
            esc(lt(lang, "live.apply.untouched")),
            esc(&p.untouched.join(", "))
        );
    }
    let html = h.done();
    view! { <div inner_html=html></div> }.into_any()
}

const CSS: &str = r#"
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
