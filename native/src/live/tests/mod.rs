//! The live API over real TCP on loopback, against the simulated backend
//! (this machine's kernel has no IPVS): every endpoint, every guard, and
//! the server's limits.

use super::http::{self, Config, Limits, Live};
use super::SimHost;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod apply;
mod guards;
mod gzip;
mod limits;
mod reads;

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const READ_TOKEN: &str = "fedcba9876543210fedcba9876543210";

struct Server {
    addr: SocketAddr,
    live: Live,
    stop: tokio::sync::watch::Sender<bool>,
    /// Ends when the server has shut down.
    done: tokio::task::JoinHandle<()>,
}

/// Serve scenario `scenario` on 127.0.0.1:random, sampling every 100 ms.
async fn serve(scenario: &str, allow_apply: bool, traffic: bool) -> Server {
    serve_with(scenario, traffic, |cfg| {
        cfg.allow_apply = allow_apply;
        cfg.token = allow_apply.then(|| TOKEN.to_string());
    })
    .await
}

/// The same, with the configuration changed by `f` first.
async fn serve_with(scenario: &str, traffic: bool, f: impl FnOnce(&mut Config)) -> Server {
    serve_extra(scenario, traffic, f, axum::Router::new()).await
}

/// The same, with `extra` routes behind the same guards (for answers the
/// live API cannot be made to give on demand).
async fn serve_extra(
    scenario: &str,
    traffic: bool,
    f: impl FnOnce(&mut Config),
    extra: axum::Router,
) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let host = SimHost::new(scenario, traffic).unwrap();
    let mut cfg = Config::new(addr);
    cfg.period = Duration::from_millis(100);
    f(&mut cfg);
    let limits: Limits = cfg.limits.clone();
    let live = Live::new(Box::new(host), cfg);
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(http::sampler(live.clone(), stop_rx.clone()));
    let app = http::guarded(
        http::routes(live.clone())
            .merge(crate::serve::router())
            .merge(extra),
        live.clone(),
    );
    let mut stopped = stop_rx;
    let done = tokio::spawn(http::server::serve(listener, app, limits, async move {
        let _ = stopped.wait_for(|s| *s).await;
    }));
    Server {
        addr,
        live,
        stop,
        done,
    }
}

struct Resp {
    status: u16,
    headers: String,
    body: String,
}

impl Resp {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
    fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or("").to_string()
    }
}

/// One HTTP/1.1 request with `headers` (a `Host` is added unless given).
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    // The server may answer (413) before reading a large body.
    let _ = s.write_all(body).await;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut raw))
        .await
        .expect("response in time")
        .unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (headers, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = headers[9..12].parse().unwrap();
    let body = if headers
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    Resp {
        status,
        headers: headers.to_string(),
        body,
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((len, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(len.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

async fn get(addr: SocketAddr, path: &str) -> Resp {
    request(addr, "GET", path, &[], b"").await
}

async fn post_json(addr: SocketAddr, path: &str, extra: &[(&str, &str)], body: &str) -> Resp {
    let mut h = vec![("Content-Type", "application/json")];
    h.extend_from_slice(extra);
    request(addr, "POST", path, &h, body.as_bytes()).await
}
