//! The live JSON API and its guards.
//!
//! A server that can change a production kernel's load balancing is
//! guarded the way a browser-facing admin port must be: every request's
//! `Host` must name the listen address (a DNS-rebinding page reaches us
//! under its own name), an `Origin`, when a browser sends one, must be this
//! server's (no cross-site requests), API requests a browser marks
//! `Sec-Fetch-Site: cross-site` are refused, bodies are size-limited, JSON is
//! parsed strictly (unknown fields, wrong types and syntax errors are
//! answered with a JSON error naming the problem), writes need
//! `Authorization: Bearer TOKEN` (compared in constant time) and
//! `--allow-apply`, and applies run one at a time: a second apply while one
//! runs is answered `409 Conflict` at once rather than queued, because a
//! queued request was planned against a table the first one is changing.

use super::{read_conns, read_services, ConnsView, LiveHost, ServicesView, Source, MAX_CONNS};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lvslab_engine::{apply, doctor};
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// Largest request body accepted (an apply of a few hundred services).
pub const BODY_LIMIT: usize = 64 * 1024;

/// How often the event stream gets a snapshot.
pub const SNAPSHOT_PERIOD: Duration = Duration::from_secs(1);

/// How the server was started.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// `--allow-apply`: the write endpoint changes the host.
    pub allow_apply: bool,
    /// The bearer token writes need (set when `allow_apply`).
    pub token: Option<String>,
}

/// One live host shared by the handlers, the sampler and applies.
pub type SharedHost = Arc<Mutex<Box<dyn LiveHost>>>;

/// Everything the handlers share.
#[derive(Clone)]
pub struct Live {
    host: SharedHost,
    source: Source,
    cfg: Arc<Config>,
    hosts: Arc<AllowedHosts>,
    apply_lock: Arc<tokio::sync::Mutex<()>>,
    snapshots: watch::Receiver<Arc<Snapshot>>,
    nudge: Arc<tokio::sync::Notify>,
}

/// What the event stream pushes every second.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// Increments with every snapshot (the SSE event id).
    pub seq: u64,
    /// Wall-clock time of the reading, in ms since the Unix epoch.
    pub time_ms: u64,
    pub source: Source,
    pub services: Option<ServicesView>,
    pub connections: Option<ConnsView>,
    /// Why the host could not be read, if it could not.
    pub error: Option<String>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn lock(host: &SharedHost) -> std::sync::MutexGuard<'_, Box<dyn LiveHost>> {
    // A panic while reading leaves the host as it was (reads do not change
    // it); keep serving rather than failing every later request.
    host.lock().unwrap_or_else(|e| e.into_inner())
}

/// Read a snapshot of `host` (blocking: netlink and /proc).
pub fn take_snapshot(host: &mut dyn LiveHost, seq: u64) -> Snapshot {
    let source = host.source();
    let (services, connections, error) = match read_services(host) {
        Ok(s) => match read_conns(host, MAX_CONNS) {
            Ok(c) => (Some(s), Some(c), None),
            Err(e) => (Some(s), None, Some(e.to_string())),
        },
        Err(e) => (None, None, Some(e.to_string())),
    };
    Snapshot {
        seq,
        time_ms: now_ms(),
        source,
        services,
        connections,
        error,
    }
}

impl Live {
    /// Shared state for `host`; returns the sender the sampler feeds.
    pub fn new(host: Box<dyn LiveHost>, cfg: Config) -> (Live, watch::Sender<Arc<Snapshot>>) {
        let mut host = host;
        let first = take_snapshot(host.as_mut(), 0);
        let source = host.source();
        let (tx, rx) = watch::channel(Arc::new(first));
        let hosts = AllowedHosts::for_listen(cfg.listen);
        (
            Live {
                host: Arc::new(Mutex::new(host)),
                source,
                cfg: Arc::new(cfg),
                hosts: Arc::new(hosts),
                apply_lock: Arc::new(tokio::sync::Mutex::new(())),
                snapshots: rx,
                nudge: Arc::new(tokio::sync::Notify::new()),
            },
            tx,
        )
    }

    pub fn host(&self) -> SharedHost {
        self.host.clone()
    }

    /// Ask the sampler for a snapshot now (after a change).
    fn nudge(&self) {
        self.nudge.notify_one();
    }

    /// For the sampler: fires when a change wants a snapshot at once.
    pub fn nudged(&self) -> Arc<tokio::sync::Notify> {
        self.nudge.clone()
    }

    /// The apply lock, for tests that hold it.
    #[cfg(test)]
    pub fn apply_lock(&self) -> Arc<tokio::sync::Mutex<()>> {
        self.apply_lock.clone()
    }

    /// Run `f` on the host off the async threads.
    async fn with_host<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn LiveHost) -> R + Send + 'static,
    ) -> Result<R, ApiError> {
        let host = self.host.clone();
        tokio::task::spawn_blocking(move || {
            let mut h = lock(&host);
            f(h.as_mut())
        })
        .await
        .map_err(|e| ApiError::internal(format!("the host reader failed: {e}")))
    }
}

/// Sample the host every `period` until `stop` fires, then close the
/// stream (which ends every open event stream, so shutdown is not held up).
pub async fn sampler(
    live: Live,
    tx: watch::Sender<Arc<Snapshot>>,
    period: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let host = live.host();
    let nudge = live.nudged();
    let mut seq = tx.borrow().seq;
    let mut last = Instant::now();
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            _ = nudge.notified() => {}
            _ = stop.changed() => break,
        }
        seq += 1;
        let elapsed = last.elapsed();
        last = Instant::now();
        let h = host.clone();
        let snap = tokio::task::spawn_blocking(move || {
            let mut h = lock(&h);
            h.tick(elapsed);
            take_snapshot(h.as_mut(), seq)
        })
        .await;
        match snap {
            Ok(s) => {
                if let Some(e) = &s.error {
                    tracing::warn!(error = %e, "live host unreadable");
                }
                tx.send_replace(Arc::new(s));
            }
            Err(e) => tracing::error!(error = %e, "snapshot task failed"),
        }
    }
    tracing::debug!("sampler stopped");
}

/// The `Host` values this server answers to.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    port: u16,
    /// Exact `host[:port]` values (lowercase).
    exact: Vec<String>,
    /// Listening on 0.0.0.0/[::]: any IP literal with our port is us.
    any_ip: bool,
}

impl AllowedHosts {
    pub fn for_listen(listen: SocketAddr) -> AllowedHosts {
        let port = listen.port();
        let ip = listen.ip();
        let mut names: Vec<String> = vec![match ip {
            IpAddr::V4(a) => a.to_string(),
            IpAddr::V6(a) => format!("[{a}]"),
        }];
        if ip.is_loopback() || ip.is_unspecified() {
            names.push("localhost".into());
        }
        let mut exact = Vec::new();
        for n in names {
            exact.push(format!("{n}:{port}"));
            if port == 80 {
                exact.push(n);
            }
        }
        AllowedHosts {
            port,
            exact,
            any_ip: ip.is_unspecified(),
        }
    }

    /// Is `host` (a `Host` header, or an Origin's authority) this server?
    pub fn allows(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        if self.exact.contains(&host) {
            return true;
        }
        if self.any_ip {
            if let Ok(sa) = host.parse::<SocketAddr>() {
                return sa.port() == self.port;
            }
            if self.port == 80 {
                return host.parse::<IpAddr>().is_ok()
                    || host
                        .strip_prefix('[')
                        .and_then(|h| h.strip_suffix(']'))
                        .is_some_and(|h| h.parse::<IpAddr>().is_ok());
            }
        }
        false
    }
}

/// An API error: a status and `{"error": "..."}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
    fn internal(message: String) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
    fn backend(e: lvslab_engine::ipvs::IpvsError) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("cannot read IPVS: {e}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"lvslab\""),
            );
        }
        r
    }
}

/// `Json<T>` whose rejections are JSON errors: 400 malformed JSON, 415 not
/// `application/json`, 413 too large, 422 wrong types or unknown fields.
pub struct StrictJson<T>(pub T);

impl<T, S> FromRequest<S> for StrictJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(StrictJson(v)),
            Err(rej) => Err(json_rejection(rej)),
        }
    }
}

fn json_rejection(rej: JsonRejection) -> ApiError {
    let status = rej.status();
    let what = match &rej {
        JsonRejection::JsonDataError(_) => "the request does not match the API",
        JsonRejection::JsonSyntaxError(_) => "the request body is not valid JSON",
        JsonRejection::MissingJsonContentType(_) => {
            "the request needs `Content-Type: application/json`"
        }
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => {
            return ApiError::new(
                status,
                format!("the request body is larger than the limit of {BODY_LIMIT} bytes"),
            )
        }
        _ => "the request body could not be read",
    };
    ApiError::new(status, format!("{what}: {}", rej.body_text()))
}

/// Compare two secrets in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    // Keep the optimiser from short-cutting the loop.
    std::hint::black_box(diff) == 0
}

/// Check the `Authorization: Bearer TOKEN` of a write.
fn check_token(cfg: &Config, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = cfg.token.as_deref() else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this server is read-only: start it with --allow-apply to change the kernel",
        ));
    };
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing token: send `Authorization: Bearer TOKEN` with the token lvslab printed at start-up",
        ));
    };
    let given = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .trim();
    if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "wrong token"));
    }
    Ok(())
}

/// Host/Origin/Sec-Fetch-Site checks, and a structured log line per
/// request.
pub async fn guard(State(live): State<Live>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let verdict = check_request(&live.hosts, req.headers(), &path);
    let resp = match verdict {
        Err(e) => {
            tracing::warn!(%method, %path, reason = %e.message, "request refused");
            e.into_response()
        }
        Ok(()) => next.run(req).await,
    };
    let status = resp.status().as_u16();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if path.starts_with("/api/") {
        tracing::info!(%method, %path, status, ms, "request");
    } else {
        tracing::debug!(%method, %path, status, ms, "request");
    }
    resp
}

fn check_request(hosts: &AllowedHosts, headers: &HeaderMap, path: &str) -> Result<(), ApiError> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !hosts.allows(host) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "Host {host:?} is not this server's listen address (requests through another name are refused: DNS rebinding)"
            ),
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let o = origin.to_str().unwrap_or("");
        let ok = o
            .strip_prefix("http://")
            .is_some_and(|authority| hosts.allows(authority));
        if !ok {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("Origin {o:?} is not this server: cross-site requests are refused"),
            ));
        }
    }
    if path.starts_with("/api/")
        && headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "cross-site requests are refused",
        ));
    }
    Ok(())
}

/// The live API routes (under `/api/live/`), guarded, size-limited.
pub fn routes(live: Live) -> Router {
    Router::new()
        .route("/api/live/status", get(status))
        .route("/api/live/services", get(services))
        .route("/api/live/connections", get(connections))
        .route("/api/live/events", get(events))
        .route("/api/live/doctor", get(doctor))
        .route("/api/live/snapshot", get(snapshot))
        .route("/api/live/apply", post(apply))
        .route("/api/live/{*rest}", axum::routing::any(unknown))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(live)
}

/// Guard a whole router (the API and the app's assets).
pub fn guarded(router: Router, live: Live) -> Router {
    router.layer(axum::middleware::from_fn_with_state(live, guard))
}

async fn unknown(method: Method) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no such live endpoint for {method} (see the README's \"Live mode\" section)"),
    )
}

#[derive(Serialize)]
struct Status {
    /// Always true here; plain `lvslab serve` answers `{"live": false}`.
    live: bool,
    version: &'static str,
    source: Source,
    apply: bool,
    listen: String,
    snapshot_period_ms: u64,
    body_limit: usize,
}

async fn status(State(live): State<Live>) -> Json<Status> {
    Json(Status {
        live: true,
        version: env!("CARGO_PKG_VERSION"),
        source: live.source.clone(),
        apply: live.cfg.allow_apply,
        listen: live.cfg.listen.to_string(),
        snapshot_period_ms: SNAPSHOT_PERIOD.as_millis() as u64,
        body_limit: BODY_LIMIT,
    })
}

#[derive(Serialize)]
struct Stamped<T> {
    time_ms: u64,
    source: Source,
    #[serde(flatten)]
    body: T,
}

async fn services(State(live): State<Live>) -> Result<Json<Stamped<ServicesView>>, ApiError> {
    let v = live.with_host(|h| read_services(h)).await?;
    let body = v.map_err(ApiError::backend)?;
    Ok(Json(Stamped {
        time_ms: now_ms(),
        source: live.source.clone(),
        body,
    }))
}

async fn connections(State(live): State<Live>) -> Result<Json<Stamped<ConnsView>>, ApiError> {
    let v = live.with_host(|h| read_conns(h, MAX_CONNS)).await?;
    let body = v.map_err(ApiError::backend)?;
    Ok(Json(Stamped {
        time_ms: now_ms(),
        source: live.source.clone(),
        body,
    }))
}

/// `GET /api/live/doctor?role=director|realserver&vip=ADDR` (both optional).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoctorQuery {
    pub role: Option<String>,
    pub vip: Option<std::net::Ipv4Addr>,
}

#[derive(Serialize)]
struct DoctorView {
    time_ms: u64,
    source: Source,
    problems: usize,
    errors: usize,
    /// What `lvslab doctor` prints.
    text: String,
    report: doctor::Report,
    /// What the host model leaves out (other device types, IPv6, ...).
    notes: Vec<String>,
}

async fn doctor(
    State(live): State<Live>,
    query: Result<Query<DoctorQuery>, QueryRejection>,
) -> Result<Json<DoctorView>, ApiError> {
    let Query(q) = query.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("bad doctor query: {}", e.body_text()),
        )
    })?;
    let role = match q.role.as_deref() {
        None => None,
        Some(r) => Some(doctor::Role::parse(r).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("bad doctor query: role {r:?} is neither director nor realserver"),
            )
        })?),
    };
    let opts = doctor::Options {
        role,
        vip: q.vip,
        ..Default::default()
    };
    let (report, notes) = live
        .with_host(move |h| super::doctor(h, &opts))
        .await?
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e))?;
    Ok(Json(DoctorView {
        time_ms: now_ms(),
        source: live.source.clone(),
        problems: report.problems(),
        errors: report.errors(),
        text: report.to_string(),
        report,
        notes,
    }))
}

#[derive(Serialize)]
struct SnapshotView {
    time_ms: u64,
    source: Source,
    /// `lvslab_engine::snapshot::HostSnapshot`: the page builds its
    /// simulated LAN from it with `snapshot::world`.
    snapshot: lvslab_engine::snapshot::HostSnapshot,
    /// What the simulator will add or leave out (from `snapshot::world`).
    notes: Vec<String>,
}

/// `GET /api/live/snapshot`: this host for "Load this host into the simulator".
async fn snapshot(State(live): State<Live>) -> Result<Json<SnapshotView>, ApiError> {
    let snap = live
        .with_host(|h| h.snapshot())
        .await?
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e))?;
    let (_, notes) = lvslab_engine::snapshot::world(&snap);
    Ok(Json(SnapshotView {
        time_ms: now_ms(),
        source: live.source.clone(),
        snapshot: snap,
        notes,
    }))
}

async fn events(
    State(live): State<Live>,
) -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
    let rx = live.snapshots.clone();
    let stream = futures_util::stream::unfold((rx, true), |(mut rx, first)| async move {
        if !first && rx.changed().await.is_err() {
            return None; // the sampler stopped: shutting down
        }
        let snap = rx.borrow_and_update().clone();
        let event = Event::default()
            .event("snapshot")
            .id(snap.seq.to_string())
            .json_data(&*snap)
            .unwrap_or_else(|e| Event::default().event("error").data(e.to_string()));
        Some((Ok(event), (rx, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// `POST /api/live/apply`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    /// Only compute and return the diff (changes nothing; needs neither
    /// `--allow-apply` nor the token).
    pub dry_run: bool,
    /// Also delete the services `desired` does not declare.
    #[serde(default)]
    pub prune: bool,
    /// For a real apply: the plan's commands as the dry run showed them.
    /// When the table changed in between (the plan differs), nothing is
    /// done and the answer is 409 with the new plan.
    #[serde(default)]
    pub expect: Option<Vec<String>>,
    /// The desired state (`lvslab apply`'s format, as JSON).
    pub desired: apply::Desired,
}

#[derive(Debug, Serialize)]
struct PlanLine {
    /// `+` add, `~` edit, `-` delete.
    sign: char,
    /// The ipvsadm arguments that make the change.
    command: String,
    /// For edits: the arguments it replaces.
    was: Option<String>,
}

fn plan_lines(p: &apply::Plan) -> Vec<PlanLine> {
    p.ops
        .iter()
        .map(|op| PlanLine {
            sign: op.to_string().chars().next().unwrap_or('~'),
            command: op.command(),
            was: op.was(),
        })
        .collect()
}

fn untouched(p: &apply::Plan) -> Vec<String> {
    p.untouched
        .iter()
        .map(|k| lvslab_engine::ipvsadm::service_opt(k, true))
        .collect()
}

#[derive(Debug, Serialize)]
struct ApplyAnswer {
    dry_run: bool,
    /// The plan was executed (false for a dry run).
    applied: bool,
    changes: usize,
    plan: Vec<PlanLine>,
    untouched: Vec<String>,
    /// The plan as `lvslab apply` prints it.
    text: String,
}

/// What a real apply that failed reports (422).
#[derive(Debug, Serialize)]
struct ApplyFailure {
    error: String,
    failed_command: String,
    kernel_error: String,
    rolled_back: Vec<String>,
    rollback_errors: Vec<String>,
    /// Whether the table is as it was before the request.
    unchanged: bool,
}

enum Outcome {
    Planned(apply::Plan),
    Applied(apply::Plan),
    Stale(apply::Plan),
    Failed(Box<apply::Failed>),
}

async fn apply(
    State(live): State<Live>,
    headers: HeaderMap,
    StrictJson(req): StrictJson<ApplyRequest>,
) -> Result<Response, ApiError> {
    if !req.dry_run {
        check_token(&live.cfg, &headers)?;
    }
    // Reject what cannot be planned before taking any lock.
    req.desired.targets().map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("invalid desired state: {e}"),
        )
    })?;
    let Ok(_one_at_a_time) = live.apply_lock.clone().try_lock_owned() else {
        tracing::warn!("apply refused: another one is running");
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "another apply is running: wait for its result, then plan again",
        ));
    };
    let ApplyRequest {
        dry_run,
        prune,
        expect,
        desired,
    } = req;
    let outcome = live
        .with_host(move |h| -> Result<Outcome, ApiError> {
            // The host-wide lock also keeps `lvslab apply` runs out (the
            // kernel only; a simulated host is this server's alone).
            let _host_lock = if !dry_run && h.source().kind == "kernel" {
                use crate::applylock::{ApplyLock, LockError, LOCK_PATH};
                match ApplyLock::try_take(std::path::Path::new(LOCK_PATH)) {
                    Ok(l) => Some(l),
                    Err(e @ LockError::Busy(_)) => {
                        return Err(ApiError::new(StatusCode::CONFLICT, e.to_string()))
                    }
                    Err(e) => {
                        tracing::warn!("{e}; a concurrent lvslab apply would go unnoticed");
                        None
                    }
                }
            } else {
                None
            };
            let mut b = h.backend();
            let current = b.services().map_err(ApiError::backend)?;
            let plan = apply::plan(&desired, &current, prune).map_err(|e| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("invalid desired state: {e}"),
                )
            })?;
            if dry_run {
                return Ok(Outcome::Planned(plan));
            }
            if let Some(expect) = &expect {
                let now: Vec<String> = plan.ops.iter().map(|o| o.command()).collect();
                if *expect != now {
                    return Ok(Outcome::Stale(plan));
                }
            }
            match apply::execute(&plan, b.as_mut()) {
                Ok(_) => Ok(Outcome::Applied(plan)),
                Err(f) => Ok(Outcome::Failed(f)),
            }
        })
        .await??;
    let answer = |p: &apply::Plan, applied: bool| ApplyAnswer {
        dry_run,
        applied,
        changes: p.ops.len(),
        plan: plan_lines(p),
        untouched: untouched(p),
        text: p.to_string(),
    };
    Ok(match outcome {
        Outcome::Planned(p) => {
            tracing::info!(changes = p.ops.len(), "apply planned (dry run)");
            Json(answer(&p, false)).into_response()
        }
        Outcome::Applied(p) => {
            for op in &p.ops {
                tracing::info!(command = %op.command(), "applied");
            }
            tracing::info!(changes = p.ops.len(), "apply done");
            live.nudge();
            Json(answer(&p, true)).into_response()
        }
        Outcome::Stale(p) => {
            tracing::warn!("apply refused: the table changed since the diff was shown");
            let mut body = serde_json::to_value(answer(&p, false)).unwrap_or_default();
            body["error"] = serde_json::Value::String(
                "the IPVS table changed since this diff was shown: nothing was done; review the new plan".into(),
            );
            (StatusCode::CONFLICT, Json(body)).into_response()
        }
        Outcome::Failed(f) => {
            tracing::warn!(command = %f.op.command(), error = %f.error, rolled_back = f.rolled_back.len(), "apply failed");
            live.nudge();
            let body = ApplyFailure {
                error: f.to_string().trim_end().to_string(),
                failed_command: f.op.command(),
                kernel_error: f.error.to_string(),
                rolled_back: f.rolled_back.iter().map(|o| o.command()).collect(),
                rollback_errors: f
                    .rollback_errors
                    .iter()
                    .map(|(o, e)| format!("{}: {e}", o.command()))
                    .collect(),
                unchanged: f.rollback_errors.is_empty(),
            };
            (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
        }
    })
}

/// A fresh write token: 32 random bytes from the OS, hex.
pub fn new_token() -> anyhow::Result<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no randomness for the token: {e}"))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}
