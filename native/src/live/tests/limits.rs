//! The server under slow and greedy clients: timeouts, the connection cap,
//! shedding of requests without a token, shutdown; and the readings and
//! answers shared between clients.

use super::*;
use std::time::Instant;

/// A connection that sent `bytes` and nothing more.
async fn half_sent(addr: SocketAddr, bytes: &str) -> tokio::net::TcpStream {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(bytes.as_bytes()).await.unwrap();
    s
}

/// Has the server closed `s` (EOF or reset) within `within`?
async fn closed_within(s: &mut tokio::net::TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    tokio::time::timeout(within, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn slowloris_connections_never_lock_a_client_out() {
    let srv = serve_with("seed", false, |cfg| {
        cfg.limits.max_connections = 8;
        cfg.limits.header_timeout = Duration::from_secs(30);
    })
    .await;
    // Four times the cap of requests that never finish their headers.
    let mut held = Vec::new();
    for _ in 0..32 {
        let head = format!("GET / HTTP/1.1\r\nHost: {}\r\nX-Slow: ", srv.addr);
        held.push(half_sent(srv.addr, &head).await);
    }
    let started = Instant::now();
    let r = get(srv.addr, "/api/live/status").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The oldest half-open ones made way for the newer ones.
    assert!(closed_within(&mut held[0], Duration::from_secs(2)).await);
}

#[tokio::test]
async fn a_half_sent_request_is_closed_at_the_header_timeout() {
    let srv = serve_with("seed", false, |cfg| {
        cfg.limits.header_timeout = Duration::from_millis(500);
    })
    .await;
    let started = Instant::now();
    let mut s = half_sent(srv.addr, "GET / HTTP/1.1\r\nHost: x\r\n").await;
    assert!(closed_within(&mut s, Duration::from_secs(3)).await);
    assert!(started.elapsed() >= Duration::from_millis(400));
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let srv = serve_with("seed", false, |cfg| {
        cfg.limits.idle_timeout = Duration::from_millis(300);
    })
    .await;
    // Nothing sent at all.
    let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    assert!(closed_within(&mut s, Duration::from_secs(3)).await);
}

#[tokio::test]
async fn a_slow_body_gets_408() {
    let srv = serve_with("seed", false, |cfg| {
        cfg.limits.body_timeout = Duration::from_millis(300);
    })
    .await;
    let mut s = half_sent(
        srv.addr,
        &format!(
            "POST /api/live/apply HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"dry",
            srv.addr
        ),
    )
    .await;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let r = tokio::time::timeout(Duration::from_secs(3), async {
        while !String::from_utf8_lossy(&got).contains("}") {
            let n = s.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
    })
    .await;
    assert!(r.is_ok(), "no answer in time");
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("did not arrive"), "{text}");
}

#[tokio::test]
async fn requests_without_a_token_are_shed_but_applies_pass() {
    let srv = serve_with("seed", false, |cfg| {
        cfg.allow_apply = true;
        cfg.token = Some(TOKEN.into());
        // No request without a token is served at all.
        cfg.limits.max_unauthenticated = 0;
    })
    .await;
    let r = get(srv.addr, "/api/live/services").await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert!(r.error().contains("too many requests"), "{}", r.body);
    assert!(r.headers.to_ascii_lowercase().contains("retry-after: 1"));
    let auth = format!("Bearer {TOKEN}");
    let r = request(
        srv.addr,
        "GET",
        "/api/live/services",
        &[("Authorization", &auth)],
        b"",
    )
    .await;
    assert_eq!(r.status, 200);
    let body = r#"{"dry_run": false, "desired": {"service": [{"tcp": "192.168.150.100:80", "scheduler": "wrr",
        "server": [{"address": "192.168.150.12"}, {"address": "192.168.150.13"}]}]}}"#;
    let r = post_json(
        srv.addr,
        "/api/live/apply",
        &[("Authorization", &auth)],
        body,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["applied"], true);
}

/// `done` finishes within `within` of `stop` firing.
async fn stops_within(srv: Server, within: Duration) -> Duration {
    let started = Instant::now();
    let _ = srv.stop.send(true);
    tokio::time::timeout(within, srv.done)
        .await
        .expect("the server did not stop in time")
        .unwrap();
    started.elapsed()
}

#[tokio::test]
async fn shutdown_with_a_half_sent_request_ends_at_once() {
    let srv = serve("seed", false, false).await;
    let _half = half_sent(srv.addr, "GET / HTTP/1.1\r\n").await;
    let _idle = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    // An event stream too: it ends with the sampler.
    let _events = half_sent(
        srv.addr,
        &format!(
            "GET /api/live/events HTTP/1.1\r\nHost: {}\r\n\r\n",
            srv.addr
        ),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let took = stops_within(srv, Duration::from_secs(5)).await;
    assert!(took < Duration::from_secs(1), "{took:?}");
}

#[tokio::test]
async fn shutdown_drops_a_request_still_in_progress_after_the_grace() {
    let srv = serve_with("seed", false, |cfg| {
        cfg.limits.body_timeout = Duration::from_secs(60);
        cfg.limits.shutdown_grace = Duration::from_millis(500);
    })
    .await;
    // A body that never ends keeps its request in progress.
    let _slow = half_sent(
        srv.addr,
        &format!(
            "POST /api/live/apply HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
            srv.addr
        ),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let took = stops_within(srv, Duration::from_secs(5)).await;
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[tokio::test]
async fn reads_within_the_period_share_one_reading() {
    // A period far longer than the test: the sampler publishes once.
    let srv = serve_with("seed", false, |cfg| cfg.period = Duration::from_secs(600)).await;
    let a = get(srv.addr, "/api/live/services").await.body;
    let b = get(srv.addr, "/api/live/services").await.body;
    assert_eq!(a, b, "the same bytes within the period");
    let p = srv.live.current();
    assert_eq!(a.as_bytes(), &p.services.body[..]);
    // The event stream's frame carries the same reading.
    let sse = String::from_utf8_lossy(&p.sse).to_string();
    assert!(
        sse.starts_with(&format!("event: snapshot\nid: {}\ndata: {{", p.seq)),
        "{sse}"
    );
    let data: serde_json::Value =
        serde_json::from_str(sse.trim_end().split_once("data: ").unwrap().1).unwrap();
    let services: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert_eq!(data["services"]["services"], services["services"]);
    assert_eq!(data["time_ms"], services["time_ms"]);
    // The doctor and the snapshot are computed once per period.
    let d1 = get(srv.addr, "/api/live/doctor").await.json();
    let d2 = get(srv.addr, "/api/live/doctor").await.json();
    assert_eq!(d1["time_ms"], d2["time_ms"]);
    let other = get(srv.addr, "/api/live/doctor?role=director").await.json();
    assert_eq!(other["report"]["role"], "director");
    let s1 = get(srv.addr, "/api/live/snapshot").await.json();
    let s2 = get(srv.addr, "/api/live/snapshot").await.json();
    assert_eq!(s1["time_ms"], s2["time_ms"]);
    // A refresh (as after an apply) publishes a new reading.
    srv.live.refresh().await.unwrap();
    assert!(srv.live.current().seq > p.seq);
}

#[tokio::test]
async fn event_streams_without_a_token_are_capped() {
    let srv = serve_with("seed", false, |cfg| {
        cfg.allow_apply = true;
        cfg.token = Some(TOKEN.into());
        cfg.limits.max_streams = 1;
    })
    .await;
    let open = |auth: Option<String>| async move {
        let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
        let auth = auth
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        s.write_all(
            format!(
                "GET /api/live/events HTTP/1.1\r\nHost: {}\r\n{auth}\r\n",
                srv.addr
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        (s, String::from_utf8_lossy(&buf[..n]).to_string())
    };
    let (_first, head) = open(None).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let (_, head) = open(None).await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(head.contains("too many event streams"), "{head}");
    let (_own, head) = open(Some(format!("Bearer {TOKEN}"))).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // A closed stream gives its place back.
    drop(_first);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, head) = open(None).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}

/// A route whose answer streams without end, 1 MiB at a time (as an
/// event stream does; a whole answer is handed to hyper at once, and a
/// connection whose answer was handed over is idle to the registry).
fn endless_answer() -> axum::Router {
    axum::Router::new().route(
        "/test/stream",
        axum::routing::get(|| async {
            let chunk = axum::body::Bytes::from(vec![b'x'; 1 << 20]);
            axum::body::Body::from_stream(futures_util::stream::repeat_with(move || {
                Ok::<_, std::convert::Infallible>(chunk.clone())
            }))
        }),
    )
}

/// Ask for `path` on a connection with a small receive buffer, read the
/// first bytes of the answer, then stop reading.
async fn unread(addr: SocketAddr, path: &str) -> (tokio::net::TcpStream, String) {
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let mut s = sock.connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("an answer begins")
        .unwrap();
    (s, String::from_utf8_lossy(&buf[..n]).to_string())
}

#[tokio::test]
async fn unread_answers_never_fill_the_connections_of_a_token_holder() {
    let srv = serve_extra(
        "seed",
        false,
        |cfg| {
            cfg.allow_apply = true;
            cfg.token = Some(TOKEN.into());
            cfg.limits.max_connections = 8;
            cfg.limits.max_unauthenticated = 2;
            cfg.limits.max_streams = 2;
        },
        endless_answer(),
    )
    .await;
    // An event stream nobody reads (it holds its own permit).
    let (_stream, head) = unread(srv.addr, "/api/live/events").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // Twice the connection cap of clients that ask and never read: only
    // `max_unauthenticated` of them get an answer (and keep its permit
    // while it is not taken); the rest are shed at once.
    let mut held = Vec::new();
    let mut served = 0;
    for _ in 0..16 {
        let (s, head) = unread(srv.addr, "/test/stream").await;
        if head.starts_with("HTTP/1.1 200") {
            served += 1;
        } else {
            assert!(head.starts_with("HTTP/1.1 503"), "{head}");
        }
        held.push(s);
    }
    assert_eq!(served, 2);
    // Half-sent requests besides.
    for _ in 0..16 {
        held.push(half_sent(srv.addr, "GET / HTTP/1.1\r\n").await);
    }
    let r = get(srv.addr, "/api/live/status").await;
    assert_eq!(r.status, 503, "{}", r.body);
    // A token holder still gets a connection and its apply.
    let auth = format!("Bearer {TOKEN}");
    let started = Instant::now();
    let body = r#"{"dry_run": false, "desired": {"service": [{"tcp": "192.168.150.100:80", "scheduler": "wrr",
        "server": [{"address": "192.168.150.12"}]}]}}"#;
    let r = post_json(
        srv.addr,
        "/api/live/apply",
        &[("Authorization", &auth)],
        body,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["applied"], true);
    assert!(started.elapsed() < Duration::from_secs(2));
    // The unread answers give their permits back when they go.
    drop(held);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(get(srv.addr, "/api/live/status").await.status, 200);
}

#[tokio::test]
async fn a_client_that_stops_reading_is_closed_at_the_send_timeout() {
    let srv = serve_extra(
        "seed",
        false,
        |cfg| {
            cfg.limits.max_unauthenticated = 1;
            cfg.limits.send_timeout = Duration::from_millis(300);
        },
        endless_answer(),
    )
    .await;
    let (mut s, head) = unread(srv.addr, "/test/stream").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // Its permit comes back when the server gives up on it.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(get(srv.addr, "/api/live/status").await.status, 200);
    // What the kernel had already taken arrives, then the end.
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got += n,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the connection was not closed ({got} bytes)");
    // Far less than the socket buffers and hyper's could hold at most.
    assert!(got < 64 << 20, "{got} bytes");
}
