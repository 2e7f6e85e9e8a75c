//! `lvslab serve`: the lab over HTTP (axum), everything from memory.

use crate::assets;
use anyhow::{Context, Result};
use axum::body::Body;
use axum::http::{header, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::net::SocketAddr;
use tower_http::compression::CompressionLayer;

pub fn router() -> Router {
    Router::new()
        .fallback(asset)
        .layer(CompressionLayer::new().gzip(true))
}

async fn asset(uri: Uri) -> Response {
    let path = uri.path();
    match assets::get(path) {
        Some(bytes) => {
            let path = if path == "/" { "/index.html" } else { path };
            let cache = if path.ends_with(".html") {
                "no-cache"
            } else {
                "public, max-age=60"
            };
            (
                [
                    (header::CONTENT_TYPE, assets::mime(path)),
                    (header::CACHE_CONTROL, cache),
                ],
                Body::from(bytes),
            )
                .into_response()
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
