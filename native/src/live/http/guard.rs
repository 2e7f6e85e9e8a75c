//! The guards every request passes: `Host` (exactly one, naming the listen
//! address: a DNS-rebinding page reaches us under its own name), `Origin`
//! (this server, when a browser sends one), `Sec-Fetch-Site` (no
//! cross-site API requests), the optional read token, and the cap on
//! requests without a token served at once (shed with 503, so a flood of
//! anonymous reads cannot starve an authenticated apply). Writes check the
//! write token in their handler. Every refused token is an audit line with
//! the peer's address.

use super::errors::{ApiError, BodyDeadline};
use super::state::Live;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

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

/// The peer's address (from the connection), for logs and audit lines.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub Option<SocketAddr>);

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(a) => write!(f, "{a}"),
            None => f.write_str("unknown"),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(peer_of(&parts.extensions))
    }
}

fn peer_of(ext: &axum::http::Extensions) -> Peer {
    Peer(ext.get::<ConnectInfo<SocketAddr>>().map(|c| c.0))
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

/// The credentials of `Authorization: Bearer TOKEN` (the scheme in any
/// case, as RFC 9110 says auth schemes are), if that is what was sent.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = v.split_once([' ', '\t'])?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim())
        .filter(|t| !t.is_empty())
}

/// What a request's token lets it do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Auth {
    None,
    Read,
    Write,
}

pub fn auth_of(live: &Live, headers: &HeaderMap) -> Auth {
    let Some(given) = bearer(headers) else {
        return Auth::None;
    };
    let cfg = live.cfg();
    if cfg
        .token
        .as_deref()
        .is_some_and(|t| constant_time_eq(given.as_bytes(), t.as_bytes()))
    {
        Auth::Write
    } else if cfg
        .read_token
        .as_deref()
        .is_some_and(|t| constant_time_eq(given.as_bytes(), t.as_bytes()))
    {
        Auth::Read
    } else {
        Auth::None
    }
}

/// Check the write token of a real apply; a refusal is an audit line.
pub(super) fn check_write_token(
    live: &Live,
    headers: &HeaderMap,
    peer: Peer,
) -> Result<(), ApiError> {
    let refuse = |status: StatusCode, msg: &str, reason: &str| {
        tracing::warn!(target: "lvslab::audit", %peer, outcome = "refused", reason, "apply refused");
        Err(ApiError::new(status, msg))
    };
    if live.cfg().token.is_none() {
        return refuse(
            StatusCode::FORBIDDEN,
            "this server is read-only: start it with --allow-apply to change the kernel",
            "read-only",
        );
    }
    if headers.get(header::AUTHORIZATION).is_none() {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "missing token: send `Authorization: Bearer TOKEN` with the write token",
            "missing token",
        );
    }
    if auth_of(live, headers) != Auth::Write {
        return refuse(StatusCode::UNAUTHORIZED, "wrong token", "wrong token");
    }
    Ok(())
}

fn check_request(live: &Live, headers: &HeaderMap, path: &str) -> Result<(), ApiError> {
    let hosts = live.allowed_hosts();
    let mut all = headers.get_all(header::HOST).iter();
    let host = all.next().and_then(|h| h.to_str().ok()).unwrap_or("");
    if all.next().is_some() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "more than one Host header: refused (RFC 9112 §3.2)",
        ));
    }
    if !hosts.allows(host) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "Host {:?} is not this server's listen address (requests through another name are refused: DNS rebinding)",
                crate::text::shorten(host, 100)
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
                format!(
                    "Origin {:?} is not this server: cross-site requests are refused",
                    crate::text::shorten(o, 100)
                ),
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

/// Does `path` show this host's data (what the read token guards)? The
/// page's assets and `/status` (is live mode on?) do not.
fn reads_host_data(path: &str) -> bool {
    path.starts_with("/api/live/") && path != "/api/live/status"
}

/// The guards, the shedding of anonymous requests, JSON for every API
/// error, and a structured log line per request.
pub async fn guard(State(live): State<Live>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let peer = peer_of(req.extensions());
    let resp = match check_request(&live, req.headers(), &path) {
        Err(e) => {
            tracing::warn!(%method, path = ?path, %peer, reason = %e.message, "request refused");
            e.into_response()
        }
        Ok(()) => {
            let auth = auth_of(&live, req.headers());
            if live.cfg().read_token.is_some() && auth == Auth::None && reads_host_data(&path) {
                let reason = if req.headers().contains_key(header::AUTHORIZATION) {
                    "wrong token"
                } else {
                    "missing token"
                };
                tracing::warn!(target: "lvslab::audit", %peer, path = ?path, outcome = "refused", reason, "read refused");
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    format!("{reason}: this server needs `Authorization: Bearer TOKEN` (the read or the write token) for its data"),
                )
                .into_response()
            } else {
                // Requests with a valid token are never shed.
                let permit = if auth == Auth::None {
                    live.unauthenticated_permit()
                } else {
                    Some(None)
                };
                match permit {
                    None => {
                        tracing::debug!(%peer, path = ?path, "shed: too many requests without a token");
                        let mut r = ApiError::new(
                            StatusCode::SERVICE_UNAVAILABLE,
                            "too many requests at once: retry in a moment",
                        )
                        .into_response();
                        r.headers_mut()
                            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                        r
                    }
                    Some(permit) => {
                        req.extensions_mut()
                            .insert(BodyDeadline(live.cfg().limits.body_timeout));
                        let resp = next.run(req).await;
                        // The request is served when its answer has been
                        // sent: one nobody reads keeps its permit (until
                        // the server's send timeout), so unread answers
                        // cannot pile up. Event streams hold their own.
                        match permit {
                            Some(p) if path != "/api/live/events" => {
                                resp.map(|b| axum::body::Body::new(Holding { inner: b, _held: p }))
                            }
                            _ => resp,
                        }
                    }
                }
            }
        }
    };
    let resp = json_errors(&path, resp);
    let status = resp.status().as_u16();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if path.starts_with("/api/") {
        tracing::info!(%method, path = ?path, status, ms, "request");
    } else {
        tracing::debug!(%method, path = ?path, status, ms, "request");
    }
    resp
}

/// An API error answer that is not JSON yet (axum's own 405, for one)
/// becomes `{"error": "…"}`, keeping its status and `Allow`.
fn json_errors(path: &str, resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !path.starts_with("/api/")
        || is_json
        || !(status.is_client_error() || status.is_server_error())
    {
        return resp;
    }
    let what = status.canonical_reason().unwrap_or("error").to_lowercase();
    let allow = resp.headers().get(header::ALLOW).cloned();
    let message = match &allow {
        Some(a) => format!(
            "{what}: this endpoint takes {}",
            a.to_str().unwrap_or("another method")
        ),
        None => what,
    };
    let mut r = ApiError::new(status, message).into_response();
    if let Some(a) = allow {
        r.headers_mut().insert(header::ALLOW, a);
    }
    r
}

/// A response body that keeps `_held` until it has been sent (or dropped).
struct Holding<T> {
    inner: axum::body::Body,
    _held: T,
}

impl<T: Unpin> http_body::Body for Holding<T> {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }
    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
