//! What `lvslab serve --live` answers (the README's "The live API"), read
//! with serde like every other JSON the page reads: only the fields the view
//! shows; a missing field is empty (the server may add fields). The host
//! snapshot is the engine's own `HostSnapshot` type.

use leptos::prelude::*;
use lvslab_engine::snapshot::HostSnapshot;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Source {
    /// `kernel` or `simulated`.
    pub kind: String,
    pub detail: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Status {
    pub live: bool,
    pub apply: bool,
    pub source: Source,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Stats {
    pub conns: u64,
    pub inpkts: u64,
    pub inbytes: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Rates {
    pub cps: u64,
    pub inpps: u64,
    pub inbps: u64,
}

/// Conns, InPkts, InBytes, CPS, InPPS, InBPS.
pub fn counters(s: &Stats, r: &Rates) -> [u64; 6] {
    [s.conns, s.inpkts, s.inbytes, r.cps, r.inpps, r.inbps]
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct DestView {
    pub key: String,
    pub fwd: String,
    pub weight: i64,
    pub active: u64,
    pub inactive: u64,
    pub stats: Stats,
    pub rates: Rates,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ServiceView {
    pub key: String,
    pub scheduler: String,
    pub persistent: Option<u64>,
    pub stats: Stats,
    pub rates: Rates,
    pub dests: Vec<DestView>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Timeouts {
    pub tcp: u64,
    pub tcp_fin: u64,
    pub udp: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ServicesView {
    pub services: Vec<ServiceView>,
    pub timeouts: Timeouts,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ConnRow {
    pub proto: String,
    pub caddr: String,
    pub cport: u64,
    pub vaddr: String,
    pub vport: u64,
    pub daddr: String,
    pub dport: u64,
    pub state: String,
    pub expires: u64,
}

fn hostport(addr: &str, port: u64) -> String {
    if addr.contains(':') {
        format!("[{addr}]:{port}")
    } else {
        format!("{addr}:{port}")
    }
}

impl ConnRow {
    pub fn source(&self) -> String {
        hostport(&self.caddr, self.cport)
    }
    pub fn virt(&self) -> String {
        hostport(&self.vaddr, self.vport)
    }
    pub fn dest(&self) -> String {
        hostport(&self.daddr, self.dport)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ConnsView {
    pub total: u64,
    pub truncated: bool,
    pub connections: Vec<ConnRow>,
}

/// One `event: snapshot` of `/api/live/events`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Snapshot {
    pub source: Source,
    pub services: Option<ServicesView>,
    pub connections: Option<ConnsView>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Finding {
    pub check: String,
    pub severity: String,
    pub en: String,
    pub zh: String,
    pub why_en: String,
    pub why_zh: String,
    pub fix: Vec<String>,
}

impl Finding {
    pub fn error(&self) -> bool {
        self.severity == "error"
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Report {
    pub findings: Vec<Finding>,
    passed: Vec<IgnoredAny>,
}

impl Report {
    pub fn passed(&self) -> usize {
        self.passed.len()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct DoctorAnswer {
    pub report: Report,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PlanLine {
    pub sign: String,
    pub command: String,
    pub was: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct PlanAnswer {
    pub applied: bool,
    pub plan: Vec<PlanLine>,
    pub untouched: Vec<String>,
}

/// `GET /api/live/snapshot`.
#[derive(Debug, Clone, Deserialize)]
pub struct SnapshotAnswer {
    pub snapshot: HostSnapshot,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct ErrorAnswer {
    error: String,
    rolled_back: Vec<IgnoredAny>,
}

/// Parse a JSON text, the error saying what did not fit.
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| format!("the answer does not fit: {e}"))
}

/// An answer's JSON, or why there is none.
pub fn parsed<T: DeserializeOwned>(r: Result<(u16, String), String>) -> Result<T, String> {
    match r {
        Ok((200, text)) => from_json(&text),
        Ok((status, text)) => Err(error_text(status, &text)),
        Err(e) => Err(e),
    }
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

/// `fetch` → (status, body text).
pub async fn fetch(
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
