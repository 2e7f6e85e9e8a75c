//! The read endpoints: status, services, connections, the event stream
//! (all from the sampler's last reading), the doctor and the host snapshot
//! (computed at most once per period and query).

use super::errors::{Answer, ApiError};
use super::state::{now_ms, Live};
use super::BODY_LIMIT;
use crate::live::Source;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use lvslab_engine::doctor;
use serde::{Deserialize, Serialize};
use std::convert::Infallible;

/// The live API routes (under `/api/live/`), size-limited.
pub fn routes(live: Live) -> Router {
    Router::new()
        .route("/api/live/status", get(status).fallback(only("GET")))
        .route("/api/live/services", get(services).fallback(only("GET")))
        .route(
            "/api/live/connections",
            get(connections).fallback(only("GET")),
        )
        .route("/api/live/events", get(events).fallback(only("GET")))
        .route("/api/live/doctor", get(doctor).fallback(only("GET")))
        .route("/api/live/snapshot", get(snapshot).fallback(only("GET")))
        .route(
            "/api/live/apply",
            post(super::apply::apply).fallback(only("POST")),
        )
        .route("/api/live/{*rest}", axum::routing::any(unknown))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(live)
}

/// Guard a whole router (the API and the app's assets).
pub fn guarded(router: Router, live: Live) -> Router {
    router.layer(axum::middleware::from_fn_with_state(
        live,
        super::guard::guard,
    ))
}

/// The 405 answer of an endpoint that takes only `method`.
fn only(
    method: &'static str,
) -> impl Fn(Method) -> std::future::Ready<Response> + Clone + Send + 'static {
    move |given: Method| {
        let mut r = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("method {given} not allowed: this endpoint takes {method}"),
        )
        .into_response();
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(method));
        std::future::ready(r)
    }
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
    /// Reads of host data need a token (`--read-token-file`).
    read_token: bool,
    listen: String,
    snapshot_period_ms: u64,
    body_limit: usize,
}

async fn status(State(live): State<Live>) -> Json<Status> {
    let cfg = live.cfg();
    Json(Status {
        live: true,
        version: env!("CARGO_PKG_VERSION"),
        source: live.source().clone(),
        apply: cfg.allow_apply,
        read_token: cfg.read_token.is_some(),
        listen: cfg.listen.to_string(),
        snapshot_period_ms: cfg.period.as_millis() as u64,
        body_limit: BODY_LIMIT,
    })
}

/// The reading's services answer, compressed when the client takes gzip
/// and the sampler has compressed it.
async fn services(State(live): State<Live>, headers: HeaderMap) -> Response {
    let current = live.current();
    let vary = (header::VARY, HeaderValue::from_static("accept-encoding"));
    if super::gzip::accepted(&headers) {
        live.want_gzip();
        if let Some(gz) = &current.services_gz {
            return (
                current.services.status,
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    ),
                    (header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
                    vary,
                ],
                gz.clone(),
            )
                .into_response();
        }
    }
    let mut r = current.services.clone().into_response();
    r.headers_mut().insert(vary.0, vary.1);
    r
}

async fn connections(State(live): State<Live>) -> Answer {
    live.current().connections.clone()
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
) -> Result<Answer, ApiError> {
    let Query(q) = query.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!(
                "bad doctor query: {}",
                crate::text::shorten(&e.body_text(), 200)
            ),
        )
    })?;
    let role = match q.role.as_deref() {
        None => None,
        Some(r) => Some(doctor::Role::parse(r).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "bad doctor query: role {:?} is neither director nor realserver",
                    crate::text::shorten(r, 40)
                ),
            )
        })?),
    };
    let key = format!("doctor {role:?} {:?}", q.vip);
    let opts = doctor::Options {
        role,
        vip: q.vip,
        ..Default::default()
    };
    let source = live.source().clone();
    // Read under the host's lock; examined and serialised without it.
    live.cached(
        key,
        |h| crate::live::doctor_inputs(h),
        move |inputs| match inputs.map(|i| i.examine(&opts)) {
            Ok((report, notes)) => Answer::json(&DoctorView {
                time_ms: now_ms(),
                source,
                problems: report.problems(),
                errors: report.errors(),
                text: report.to_string(),
                report,
                notes,
            }),
            Err(e) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e).answer(),
        },
    )
    .await
}

#[derive(Serialize)]
struct SnapshotView {
    time_ms: u64,
    source: Source,
    /// `lvslab_engine::snapshot::HostSnapshot`: the page builds its
    /// simulated LAN from it with `snapshot::world`.
    snapshot: lvslab_engine::snapshot::HostSnapshot,
    /// What the simulator will add or leave out (`snapshot::notes`, what
    /// `snapshot::world` says).
    notes: Vec<String>,
}

/// `GET /api/live/snapshot`: this host for "Load this host into the simulator".
async fn snapshot(State(live): State<Live>) -> Result<Answer, ApiError> {
    let source = live.source().clone();
    // Read under the host's lock; the notes and the JSON without it.
    live.cached(
        "snapshot".into(),
        |h| h.snapshot(),
        move |snap| match snap {
            Ok(snap) => Answer::json(&SnapshotView {
                time_ms: now_ms(),
                notes: lvslab_engine::snapshot::notes(&snap),
                source,
                snapshot: snap,
            }),
            Err(e) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e).answer(),
        },
    )
    .await
}

/// `GET /api/live/events`: every reading's frame, prepared once by the
/// sampler (and compressed once, for streams that take gzip) and sent to
/// every stream as is.
async fn events(State(live): State<Live>, headers: HeaderMap) -> Result<Response, ApiError> {
    // Streams without a token are capped (held until the stream ends).
    let permit = if super::guard::auth_of(&live, &headers) == super::guard::Auth::None {
        Some(live.stream_permit().ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many event streams open: retry in a moment",
            )
        })?)
    } else {
        None
    };
    let gzip = super::gzip::accepted(&headers);
    if gzip {
        live.want_gzip();
    }
    let stream = Stream {
        rx: live.subscribe(),
        first: Some(live.current()),
        gzip: gzip.then(super::gzip::Sent::default),
        header: gzip,
        ended: false,
        live,
        _permit: permit,
    };
    let stream = futures_util::stream::unfold(stream, |mut s| async move {
        s.next().await.map(|b| (Ok::<Bytes, Infallible>(b), s))
    });
    let mut extra = vec![(header::VARY, HeaderValue::from_static("accept-encoding"))];
    if gzip {
        extra.push((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")));
    }
    let mut r = (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        Body::from_stream(stream),
    )
        .into_response();
    r.headers_mut().extend(extra);
    Ok(r)
}

/// One event stream: every reading's frame as the sampler prepared it, or,
/// for a client that takes gzip, one gzip member of the compressed frames
/// (a reading not compressed yet is skipped: the next one is).
struct Stream {
    rx: tokio::sync::watch::Receiver<std::sync::Arc<super::state::Published>>,
    first: Option<std::sync::Arc<super::state::Published>>,
    /// `Some` for gzip: what has been sent, for the trailer.
    gzip: Option<super::gzip::Sent>,
    /// The gzip header is still to be sent.
    header: bool,
    /// Shutting down: the trailer (if any) has been sent.
    ended: bool,
    live: Live,
    _permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl Stream {
    async fn next(&mut self) -> Option<Bytes> {
        if self.ended {
            return None;
        }
        if std::mem::take(&mut self.header) {
            return Some(Bytes::from_static(&super::gzip::HEADER));
        }
        loop {
            let reading = match self.first.take() {
                Some(r) => r,
                None => {
                    if self.rx.changed().await.is_err() || self.live.is_closed() {
                        // The sampler stopped (shutting down): close the
                        // gzip member, then the stream.
                        self.ended = true;
                        return self.gzip.take().map(super::gzip::Sent::trailer);
                    }
                    self.rx.borrow_and_update().clone()
                }
            };
            match &mut self.gzip {
                None => return Some(reading.sse.clone()),
                Some(sent) => {
                    if let Some(f) = &reading.sse_gz {
                        sent.add(f);
                        return Some(f.deflate.clone());
                    }
                }
            }
        }
    }
}

/// A fresh write token: 32 random bytes from the OS, hex.
pub fn new_token() -> anyhow::Result<String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no randomness for the token: {e}"))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}
