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
use lvslab_engine::ipvs::{
    DestEntry, DestSpec, Fwd, IpvsBackend, Proto, Rates, ServiceEntry, ServiceKey, ServiceSpec,
    SimBackend, Stats,
};
use lvslab_engine::shell::Lab;
use lvslab_engine::snapshot::{HostSnapshot, SnapAddr, SnapLink, SnapRoute};
use lvslab_engine::trace::Lang;
use lvslab_engine::vecmap::VecMap;
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
//
// Read from the browser's `JSON.parse` field by field rather than through
// serde: one small non-generic reader instead of a deserializer per type
// keeps the wasm within its budget (see html.rs). Only the host snapshot,
// which the engine itself consumes, goes through serde.

/// A value from `JSON.parse`, read field by field (missing = empty).
struct J(JsValue);

impl J {
    fn parse(text: &str) -> Option<J> {
        js_sys::JSON::parse(text)
            .ok()
            .filter(|v| v.is_object())
            .map(J)
    }
    fn get(&self, k: &str) -> J {
        J(js_sys::Reflect::get(&self.0, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED))
    }
    fn present(&self) -> bool {
        !self.0.is_null() && !self.0.is_undefined()
    }
    fn s(&self, k: &str) -> String {
        self.get(k).0.as_string().unwrap_or_default()
    }
    fn opt_s(&self, k: &str) -> Option<String> {
        self.get(k).0.as_string()
    }
    fn n(&self, k: &str) -> u64 {
        self.get(k).0.as_f64().map_or(0, |f| f as u64)
    }
    fn i(&self, k: &str) -> i64 {
        self.get(k).0.as_f64().map_or(0, |f| f as i64)
    }
    fn b(&self, k: &str) -> bool {
        self.get(k).0.as_bool().unwrap_or(false)
    }
    fn arr(&self, k: &str) -> Vec<J> {
        let v = self.get(k).0;
        if js_sys::Array::is_array(&v) {
            js_sys::Array::from(&v).iter().map(J).collect()
        } else {
            Vec::new()
        }
    }
    fn strs(&self, k: &str) -> Vec<String> {
        self.arr(k)
            .into_iter()
            .filter_map(|v| v.0.as_string())
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Status {
    live: bool,
    apply: bool,
    /// `kernel` or `simulated`.
    kind: String,
}

impl Status {
    fn of(j: &J) -> Status {
        Status {
            live: j.b("live"),
            apply: j.b("apply"),
            kind: j.get("source").s("kind"),
        }
    }
}

/// Conns, InPkts, InBytes, CPS, InPPS, InBPS.
type Counters = [u64; 6];

fn counters_of(j: &J) -> Counters {
    let (s, r) = (j.get("stats"), j.get("rates"));
    [
        s.n("conns"),
        s.n("inpkts"),
        s.n("inbytes"),
        r.n("cps"),
        r.n("inpps"),
        r.n("inbps"),
    ]
}

#[derive(Debug, Clone, PartialEq)]
struct DestView {
    key: String,
    fwd: String,
    weight: i64,
    active: u64,
    inactive: u64,
    counters: Counters,
}

#[derive(Debug, Clone, PartialEq)]
struct ServiceView {
    key: String,
    scheduler: String,
    persistent: Option<u64>,
    counters: Counters,
    dests: Vec<DestView>,
}

#[derive(Debug, Clone, PartialEq)]
struct ServicesView {
    services: Vec<ServiceView>,
    /// tcp, tcp_fin, udp.
    timeouts: [u64; 3],
}

#[derive(Debug, Clone, PartialEq)]
struct ConnRow {
    proto: String,
    expires: u64,
    state: String,
    source: String,
    virt: String,
    dest: String,
}

#[derive(Debug, Clone, PartialEq)]
struct ConnsView {
    total: u64,
    truncated: bool,
    connections: Vec<ConnRow>,
}

#[derive(Debug, Clone, PartialEq)]
struct Snapshot {
    detail: String,
    services: Option<ServicesView>,
    connections: Option<ConnsView>,
    error: Option<String>,
}

fn hostport(addr: String, port: u64) -> String {
    if addr.contains(':') {
        format!("[{addr}]:{port}")
    } else {
        format!("{addr}:{port}")
    }
}

impl Snapshot {
    fn of(j: &J) -> Snapshot {
        let sv = j.get("services");
        let services = sv.present().then(|| ServicesView {
            services: sv
                .arr("services")
                .iter()
                .map(|s| ServiceView {
                    key: s.s("key"),
                    scheduler: s.s("scheduler"),
                    persistent: s.get("persistent").0.as_f64().map(|p| p as u64),
                    counters: counters_of(s),
                    dests: s
                        .arr("dests")
                        .iter()
                        .map(|d| DestView {
                            key: d.s("key"),
                            fwd: d.s("fwd"),
                            weight: d.i("weight"),
                            active: d.n("active"),
                            inactive: d.n("inactive"),
                            counters: counters_of(d),
                        })
                        .collect(),
                })
                .collect(),
            timeouts: {
                let t = sv.get("timeouts");
                [t.n("tcp"), t.n("tcp_fin"), t.n("udp")]
            },
        });
        let cv = j.get("connections");
        let connections = cv.present().then(|| ConnsView {
            total: cv.n("total"),
            truncated: cv.b("truncated"),
            connections: cv
                .arr("connections")
                .iter()
                .map(|c| ConnRow {
                    proto: c.s("proto"),
                    expires: c.n("expires"),
                    state: c.s("state"),
                    source: hostport(c.s("caddr"), c.n("cport")),
                    virt: hostport(c.s("vaddr"), c.n("vport")),
                    dest: hostport(c.s("daddr"), c.n("dport")),
                })
                .collect(),
        });
        Snapshot {
            detail: j.get("source").s("detail"),
            services,
            connections,
            error: j.opt_s("error"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct Finding {
    check: String,
    error: bool,
    en: String,
    zh: String,
    why_en: String,
    why_zh: String,
    fix: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct DoctorAnswer {
    findings: Vec<Finding>,
    passed: usize,
}

impl DoctorAnswer {
    fn of(j: &J) -> DoctorAnswer {
        let r = j.get("report");
        DoctorAnswer {
            findings: r
                .arr("findings")
                .iter()
                .map(|f| Finding {
                    check: f.s("check"),
                    error: f.s("severity") == "error",
                    en: f.s("en"),
                    zh: f.s("zh"),
                    why_en: f.s("why_en"),
                    why_zh: f.s("why_zh"),
                    fix: f.strs("fix"),
                })
                .collect(),
            passed: r.arr("passed").len(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct PlanLine {
    sign: String,
    command: String,
    was: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct PlanAnswer {
    applied: bool,
    plan: Vec<PlanLine>,
    untouched: Vec<String>,
}

impl PlanAnswer {
    fn of(j: &J) -> PlanAnswer {
        PlanAnswer {
            applied: j.b("applied"),
            plan: j
                .arr("plan")
                .iter()
                .map(|l| PlanLine {
                    sign: l.s("sign"),
                    command: l.s("command"),
                    was: l.opt_s("was"),
                })
                .collect(),
            untouched: j.strs("untouched"),
        }
    }
}

/// An answer's JSON object, or why there is none.
fn parsed(r: Result<(u16, String), String>) -> Result<J, String> {
    match r {
        Ok((200, text)) => J::parse(&text).ok_or_else(|| "the answer is not JSON".to_string()),
        Ok((status, text)) => Err(error_text(status, &text)),
        Err(e) => Err(e),
    }
}

/// `GET /api/live/snapshot`'s `snapshot` as the engine's `HostSnapshot`
/// (its serde form, read field by field; a missing or mistyped field is an
/// error naming it).
fn host_snapshot(j: &J) -> Result<HostSnapshot, String> {
    fn req<T: std::str::FromStr>(o: &J, path: &str, k: &str) -> Result<T, String> {
        let v = o.get(k).0;
        let text = v.as_string().or_else(|| v.as_f64().map(|f| f.to_string()));
        text.and_then(|t| t.parse().ok())
            .ok_or_else(|| format!("snapshot: {path}.{k} is missing or invalid"))
    }
    fn opt<T: std::str::FromStr>(o: &J, path: &str, k: &str) -> Result<Option<T>, String> {
        if o.get(k).present() {
            req(o, path, k).map(Some)
        } else {
            Ok(None)
        }
    }
    let stats = |o: &J| Stats {
        conns: o.n("conns"),
        inpkts: o.n("inpkts"),
        outpkts: o.n("outpkts"),
        inbytes: o.n("inbytes"),
        outbytes: o.n("outbytes"),
    };
    let rates = |o: &J| Rates {
        cps: o.n("cps"),
        inpps: o.n("inpps"),
        outpps: o.n("outpps"),
        inbps: o.n("inbps"),
        outbps: o.n("outbps"),
    };
    let mut snap = HostSnapshot {
        hostname: j.s("hostname"),
        notes: j.strs("notes"),
        ..HostSnapshot::default()
    };
    for (i, l) in j.arr("links").iter().enumerate() {
        let p = format!("links[{i}]");
        snap.links.push(SnapLink {
            ifindex: req(l, &p, "ifindex")?,
            name: req(l, &p, "name")?,
            kind: req(l, &p, "kind")?,
            mac: req(l, &p, "mac")?,
            up: l.b("up"),
            mtu: req(l, &p, "mtu")?,
        });
    }
    for (i, a) in j.arr("addrs").iter().enumerate() {
        let p = format!("addrs[{i}]");
        snap.addrs.push(SnapAddr {
            ifindex: req(a, &p, "ifindex")?,
            local: req(a, &p, "local")?,
            prefix_len: req(a, &p, "prefix_len")?,
            broadcast: opt(a, &p, "broadcast")?,
            label: a.s("label"),
            scope: req(a, &p, "scope")?,
            secondary: a.b("secondary"),
        });
    }
    for (i, r) in j.arr("routes").iter().enumerate() {
        let p = format!("routes[{i}]");
        snap.routes.push(SnapRoute {
            table: req(r, &p, "table")?,
            rtype: req(r, &p, "rtype")?,
            dst: req(r, &p, "dst")?,
            dst_len: req(r, &p, "dst_len")?,
            gateway: opt(r, &p, "gateway")?,
            oif: opt(r, &p, "oif")?,
            prefsrc: opt(r, &p, "prefsrc")?,
            scope: req(r, &p, "scope")?,
            protocol: req(r, &p, "protocol")?,
            metric: req(r, &p, "metric")?,
        });
    }
    let sysctl = j.get("sysctl");
    let keys = |o: &J| -> Vec<String> {
        match o.0.dyn_ref::<js_sys::Object>() {
            Some(obj) => js_sys::Object::keys(obj)
                .iter()
                .filter_map(|k| k.as_string())
                .collect(),
            None => Vec::new(),
        }
    };
    for scope in keys(&sysctl) {
        let knobs = sysctl.get(&scope);
        let mut m = VecMap::new();
        for k in keys(&knobs) {
            let v = knobs.i(&k);
            m.insert(k, v);
        }
        snap.sysctl.insert(scope, m);
    }
    for (i, e) in j.arr("ipvs").iter().enumerate() {
        let p = format!("ipvs[{i}]");
        let spec = e.get("spec");
        let key = spec.get("key");
        let key = if key.get("Addr").present() {
            let a = key.get("Addr");
            let proto = match a.s("proto").as_str() {
                "Tcp" => Proto::Tcp,
                "Udp" => Proto::Udp,
                "Sctp" => Proto::Sctp,
                other => return Err(format!("snapshot: {p}: unknown protocol {other:?}")),
            };
            ServiceKey::Addr {
                proto,
                addr: req(&a, &p, "addr")?,
                port: req(&a, &p, "port")?,
            }
        } else {
            let f = key.get("Fwmark");
            ServiceKey::Fwmark {
                mark: req(&f, &p, "mark")?,
                v6: f.b("v6"),
            }
        };
        let mut dests = Vec::new();
        for (k, d) in e.arr("dests").iter().enumerate() {
            let dp = format!("{p}.dests[{k}]");
            let ds = d.get("spec");
            let fwd = match ds.s("fwd").as_str() {
                "Masq" => Fwd::Masq,
                "Tunnel" => Fwd::Tunnel,
                "Local" => Fwd::Local,
                "Route" => Fwd::Route,
                other => return Err(format!("snapshot: {dp}: unknown forwarding {other:?}")),
            };
            dests.push(DestEntry {
                spec: DestSpec {
                    addr: req(&ds, &dp, "addr")?,
                    port: req(&ds, &dp, "port")?,
                    fwd,
                    weight: req(&ds, &dp, "weight")?,
                    u_threshold: req(&ds, &dp, "u_threshold")?,
                    l_threshold: req(&ds, &dp, "l_threshold")?,
                },
                active: d.n("active") as u32,
                inactive: d.n("inactive") as u32,
                persist: d.n("persist") as u32,
                stats: stats(&d.get("stats")),
                rates: rates(&d.get("rates")),
            });
        }
        snap.ipvs.push(ServiceEntry {
            spec: ServiceSpec {
                key,
                scheduler: req(&spec, &p, "scheduler")?,
                persistent: opt(&spec, &p, "persistent")?,
                netmask: req(&spec, &p, "netmask")?,
                sched_flags: spec.strs("sched_flags"),
            },
            stats: stats(&e.get("stats")),
            rates: rates(&e.get("rates")),
            dests,
        });
    }
    Ok(snap)
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
        busy: RwSignal::new(false),
    };
    provide_context(l);
    leptos::task::spawn_local(async move {
        if let Ok(j) = parsed(fetch("GET", "/api/live/status", None, None).await) {
            let s = Status::of(&j);
            if s.live {
                l.status.set(Some(s));
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
    match J::parse(text) {
        Some(e) => {
            let undone = e.strs("rolled_back");
            if undone.is_empty() {
                format!("{status}: {}", e.s("error"))
            } else {
                // A failed apply: the error already lists what was undone.
                format!("{status}: {} ({} undone)", e.s("error"), undone.len())
            }
        }
        None => format!("{status}: {text}"),
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

/// The status line: connecting, connected (age of the last snapshot) or
/// stale.
fn state_text(l: LiveSt, lang: Lang) -> String {
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
}

/// The panel's header, notices and card titles: markup (see html.rs), its
/// buttons carry `data-live` and are handled by [`on_click`].
fn head_html(l: LiveSt, lang: Lang) -> String {
    let state = state_class(l);
    let mut h = H::new();
    let _ = write!(
        h.0,
        "<header class=\"live-head\"><h2 id=\"live-h\">{}</h2><span id=\"live-state\" class=\"live-state {state}\" data-state=\"{state}\" role=\"status\">{}</span><span class=\"muted small\" id=\"live-source\">{}</span><div class=\"spacer\"></div><button class=\"btn\" id=\"live-load\" data-live=\"load\"{}>{}</button><button class=\"btn\" id=\"live-close\" data-live=\"close\">{}</button></header>",
        esc(lt(lang, "live.heading")),
        esc(&state_text(l, lang)),
        esc(&l.snap.with(|x| x.as_ref().map(|x| x.detail.clone()).unwrap_or_default())),
        if l.busy.get() { " disabled" } else { "" },
        esc(lt(lang, "live.load")),
        esc(lt(lang, "live.close")),
    );
    if l.status
        .with(|s| s.as_ref().is_some_and(|s| s.kind == "simulated"))
    {
        let _ = write!(
            h.0,
            "<p class=\"live-sim\" id=\"live-simulated\">{}</p>",
            esc(lt(lang, "live.simulated"))
        );
    }
    if let Some(e) = l.snap.with(|x| x.as_ref().and_then(|x| x.error.clone())) {
        let _ = write!(
            h.0,
            "<p class=\"live-error\" role=\"alert\">{}: {}</p>",
            esc(lt(lang, "live.error")),
            esc(&e)
        );
    }
    h.done()
}

fn card_title(lang: Lang, key: &'static str, button: Option<(&str, &str, &'static str)>) -> String {
    let mut h = H::new();
    let _ = write!(h.0, "<h3>{}", esc(lt(lang, key)));
    if let Some((id, act, label)) = button {
        let _ = write!(
            h.0,
            " <button class=\"btn small\" id=\"{id}\" data-live=\"{act}\">{}</button>",
            esc(lt(lang, label))
        );
    }
    h.raw("</h3>");
    h.done()
}

/// The panel's buttons (one delegated handler).
fn on_click(s: St, l: LiveSt, e: &web_sys::MouseEvent) {
    let Some(el) = crate::html::closest_with(e.target(), "data-live") else {
        return;
    };
    if el.has_attribute("disabled") {
        return;
    }
    match el.get_attribute("data-live").as_deref() {
        Some("load") => load_host(s, l),
        Some("close") => l.open.set(false),
        Some("doctor") => refresh_doctor(l),
        Some("plan") => plan_apply(s, l),
        Some("confirm") => confirm_apply(l),
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
    let title = |key: &'static str, button: Option<(&'static str, &'static str, &'static str)>| {
        markup("", Box::new(move || card_title(lang.get(), key, button)))
    };
    view! {
        <section class="live" id="live" role="dialog" aria-labelledby="live-h"
            on:click=move |e| on_click(s, l, &e)>
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
                    {title("live.doctor", Some(("live-doctor-run", "doctor", "live.doctor.run")))}
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
                if let Some(j) = J::parse(&text) {
                    l.snap.set(Some(Snapshot::of(&j)));
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
        let r = parsed(fetch("GET", "/api/live/doctor", None, None).await)
            .map(|j| DoctorAnswer::of(&j));
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

fn counters(h: &mut H, c: &Counters) {
    for v in c {
        let _ = write!(h.0, "<td class=\"num\">{}</td>", num(*v));
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
            counters(&mut h, &s.counters);
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
                counters(&mut h, &d.counters);
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
        t[0],
        t[1],
        t[2]
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
    for c in &cv.connections {
        let _ = write!(
            h.0,
            "<tr><td>{}</td><td>{:02}:{:02}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.proto),
            c.expires / 60,
            c.expires % 60,
            esc(&c.state),
            esc(&c.source),
            esc(&c.virt),
            esc(&c.dest)
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
            let r = a;
            if r.findings.is_empty() {
                h.el("p", "live-ok", lt(lang, "live.doctor.ok"));
            }
            h.raw("<ul class=\"live-findings\">");
            for f in &r.findings {
                let sev = if f.error { "error" } else { "warning" };
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
                r.passed,
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
        let r = parsed(fetch("GET", "/api/live/snapshot", None, None).await)
            .and_then(|j| host_snapshot(&j.get("snapshot")));
        l.busy.set(false);
        match r {
            Ok(snap) => {
                let (world, _notes) = lvslab_engine::snapshot::world(&snap);
                let name = snap.hostname.clone();
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
            lt(s.lang_now(), "live.apply.nosim").into(),
        ));
        return;
    };
    l.apply.set(ApplyStep::Busy);
    leptos::task::spawn_local(async move {
        let body = request_body(true, &desired, None);
        let step = match parsed(fetch("POST", "/api/live/apply", Some(&body), None).await) {
            Ok(j) => ApplyStep::Planned {
                host,
                desired,
                plan: PlanAnswer::of(&j),
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
        let step = match parsed(answer) {
            Ok(j) => ApplyStep::Done(PlanAnswer::of(&j)),
            Err(e) => ApplyStep::Failed(e),
        };
        l.apply.set(step);
        refresh_doctor(l);
    });
}

fn apply_html(l: LiveSt, lang: Lang) -> String {
    let step = l.apply.get();
    let allowed = l.status.with(|x| x.as_ref().is_some_and(|x| x.apply));
    let mut h = H::new();
    let _ = write!(
        h.0,
        "<button class=\"btn\" id=\"live-plan\" data-live=\"plan\"{}>{}</button>",
        if step == ApplyStep::Busy {
            " disabled"
        } else {
            ""
        },
        esc(lt(lang, "live.apply.plan"))
    );
    match step {
        ApplyStep::Idle | ApplyStep::Busy => {}
        ApplyStep::Failed(e) => {
            let _ = write!(
                h.0,
                "<p class=\"live-error\" id=\"live-apply-error\" role=\"alert\">{}: {}</p>",
                esc(lt(lang, "live.apply.failed")),
                esc(&e)
            );
        }
        ApplyStep::Done(p) => {
            let _ = write!(
                h.0,
                "<p class=\"live-ok\" id=\"live-apply-done\" role=\"status\">{}</p>",
                esc(lt(lang, "live.apply.done"))
            );
            plan_html(&mut h, lang, &p);
        }
        ApplyStep::Planned { host, plan, .. } => {
            let _ = write!(
                h.0,
                "<p>{} <b>{}</b>{}</p>",
                esc(lt(lang, "live.apply.intro")),
                esc(&host),
                esc(lt(lang, "live.apply.intro2"))
            );
            plan_html(&mut h, lang, &plan);
            if !plan.plan.is_empty() {
                if allowed {
                    let _ = write!(
                        h.0,
                        "<label class=\"live-token\">{} <input id=\"live-token\" type=\"password\" autocomplete=\"off\"></label><button class=\"btn primary\" id=\"live-confirm\" data-live=\"confirm\">{}</button>",
                        esc(lt(lang, "live.apply.token")),
                        esc(lt(lang, "live.apply.confirm"))
                    );
                } else {
                    let _ = write!(
                        h.0,
                        "<p class=\"muted\" id=\"live-readonly\">{}</p>",
                        esc(lt(lang, "live.apply.readonly"))
                    );
                }
            }
        }
    }
    h.done()
}

fn plan_html(h: &mut H, lang: Lang, p: &PlanAnswer) {
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
