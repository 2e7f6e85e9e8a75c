//! `lvslab serve`: the lab over HTTP (axum), everything from memory.

use crate::assets;
use anyhow::{Context, Result};
use axum::body::Body;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::net::SocketAddr;
pub fn router() -> Router {
    Router::new().fallback(asset)
}

/// Does the client take gzip (`Accept-Encoding: gzip`, not `gzip;q=0`)?
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|item| {
        let mut parts = item.trim().split(';');
        let coding = parts.next().unwrap_or("").trim();
        let q_zero = parts.any(|p| matches!(p.trim().strip_prefix("q="), Some(q) if q.trim().parse::<f32>().is_ok_and(|q| q == 0.0)));
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !q_zero
    })
}

async fn asset(uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    match assets::get_both(path) {
        Some((raw, gz)) => {
            let gzip = accepts_gzip(&headers) && gz.len() < raw.len();
            let bytes = if gzip { gz } else { raw };
            let path = if path == "/" { "/index.html" } else { path };
            let cache = if path.ends_with(".html") {
                "no-cache"
            } else {
                "public, max-age=60"
            };
            let mut resp = (
                [
                    (header::CONTENT_TYPE, assets::mime(path)),
                    (header::CACHE_CONTROL, cache),
                    (header::VARY, "accept-encoding"),
                ],
                Body::from(bytes),
            )
                .into_response();
            if gzip {
                resp.headers_mut().insert(
                    header::CONTENT_ENCODING,
                    header::HeaderValue::from_static("gzip"),
                );
            }
            resp
        }
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "404 not found\n",
        )
            .into_response(),
    }
}

pub fn run(listen: SocketAddr) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(listen).await {
            Ok(l) => l,
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                anyhow::bail!(
                    "cannot listen on {listen}: the address is already in use \
                     (is another `lvslab serve` running?); choose another with --listen 127.0.0.1:PORT"
                )
            }
            Err(e) => return Err(e).with_context(|| format!("cannot listen on {listen}")),
        };
        let addr = listener.local_addr()?;
        println!("LVS Lab is served at http://{addr}/ (Ctrl-C to stop)");
        axum::serve(listener, router())
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("serving HTTP")
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
