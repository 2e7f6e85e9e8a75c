//! The live API over real TCP on loopback, against the simulated backend
//! (this machine's kernel has no IPVS): every endpoint and every guard.

use super::http::{self, Config, Live};
use super::SimHost;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

struct Server {
    addr: SocketAddr,
    live: Live,
    stop: tokio::sync::watch::Sender<bool>,
}

/// Serve scenario `scenario` on 127.0.0.1:random, sampling every 100 ms.
async fn serve(scenario: &str, allow_apply: bool, traffic: bool) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let host = SimHost::new(scenario, traffic).unwrap();
    let cfg = Config {
        listen: addr,
        allow_apply,
        token: allow_apply.then(|| TOKEN.to_string()),
    };
    let (live, tx) = Live::new(Box::new(host), cfg);
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(http::sampler(
        live.clone(),
        tx,
        Duration::from_millis(100),
        stop_rx,
    ));
    let app = http::guarded(
        http::routes(live.clone()).merge(crate::serve::router()),
        live.clone(),
    );
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Server { addr, live, stop }
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

#[tokio::test]
async fn services_show_the_simulated_director_table() {
    let srv = serve("seed", false, false).await;
    let r = get(srv.addr, "/api/live/services").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.headers.contains("application/json"));
    let v = r.json();
    assert_eq!(v["source"]["kind"], "simulated");
    let svc = &v["services"][0];
    assert_eq!(svc["key"], "TCP  192.168.150.100:80");
    assert_eq!(svc["scheduler"], "rr");
    let dests: Vec<&str> = svc["dests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["key"].as_str().unwrap())
        .collect();
    assert_eq!(dests.len(), 2);
    assert!(dests.contains(&"192.168.150.12:80") && dests.contains(&"192.168.150.13:80"));
    assert_eq!(svc["dests"][0]["fwd"], "Route");
    assert_eq!(v["timeouts"]["tcp"], 900);
    for k in ["conns", "inpkts", "outpkts", "inbytes", "outbytes"] {
        assert!(svc["stats"][k].is_u64(), "{k}");
    }
    assert!(svc["rates"]["cps"].is_u64());
    let _ = srv.stop.send(true);
}

#[tokio::test]
async fn traffic_moves_counters_and_fills_the_connection_table() {
    let srv = serve("seed", false, true).await;
    // Five simulated seconds of one request per second (the estimator
    // publishes counters every 2 s).
    {
        let h = srv.live.host();
        let mut h = h.lock().unwrap();
        for _ in 0..10 {
            h.tick(Duration::from_millis(500));
        }
    }
    let v = get(srv.addr, "/api/live/services").await.json();
    let conns = v["services"][0]["stats"]["conns"].as_u64().unwrap();
    assert!(conns >= 2, "{v}");
    let r = get(srv.addr, "/api/live/connections").await;
    assert_eq!(r.status, 200);
    let c = r.json();
    assert!(c["total"].as_u64().unwrap() >= 2, "{c}");
    assert_eq!(c["truncated"], false);
    let first = &c["connections"][0];
    assert_eq!(first["proto"], "TCP");
    assert_eq!(first["vaddr"], "192.168.150.100");
    assert_eq!(first["vport"], 80);
    assert_eq!(first["caddr"], "192.168.150.1");
    // DR entries after a complete request: FIN_WAIT/TIME_WAIT-like states
    // with a countdown no longer than the state's timeout.
    assert!(first["state"].is_string());
    assert!(first["expires"].as_u64().unwrap() <= 900);
    let _ = srv.stop.send(true);
}

#[tokio::test]
async fn status_says_read_only_or_apply() {
    let ro = serve("seed", false, false).await;
    let v = get(ro.addr, "/api/live/status").await.json();
    assert_eq!(v["apply"], false);
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    let rw = serve("seed", true, false).await;
    assert_eq!(get(rw.addr, "/api/live/status").await.json()["apply"], true);
    let r = get(ro.addr, "/api/live/nope").await;
    assert_eq!(r.status, 404);
    assert!(r.error().contains("no such live endpoint"));
}

#[tokio::test]
async fn event_stream_pushes_snapshots() {
    let srv = serve("seed", false, true).await;
    let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    let req = format!(
        "GET /api/live/events HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
        srv.addr
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut got = String::new();
    let mut buf = [0u8; 16384];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while got.matches("event: snapshot").count() < 3 {
        let n = tokio::time::timeout_at(deadline, s.read(&mut buf))
            .await
            .expect("three snapshots in time")
            .unwrap();
        assert!(n > 0, "stream closed: {got}");
        got.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(got.contains("content-type: text/event-stream"));
    let seqs: Vec<u64> = got
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| {
            let v: serde_json::Value = serde_json::from_str(d).unwrap();
            assert_eq!(
                v["services"]["services"][0]["key"],
                "TCP  192.168.150.100:80"
            );
            assert!(v["error"].is_null());
            v["seq"].as_u64().unwrap()
        })
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    // Stopping the sampler ends the stream (clean shutdown).
    let _ = srv.stop.send(true);
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) if String::from_utf8_lossy(&buf[..n]).contains("0\r\n\r\n") => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the event stream did not end on shutdown");
}

#[tokio::test]
async fn wrong_host_is_refused_everywhere() {
    let srv = serve("seed", false, false).await;
    for path in ["/api/live/services", "/api/live/events", "/"] {
        let r = request(srv.addr, "GET", path, &[("Host", "evil.example:8080")], b"").await;
        assert_eq!(r.status, 403, "{path}");
        assert!(r.error().contains("DNS rebinding"), "{}", r.body);
    }
    // The same port under localhost is this server.
    let port = srv.addr.port();
    let ok = request(
        srv.addr,
        "GET",
        "/api/live/status",
        &[("Host", &format!("localhost:{port}"))],
        b"",
    )
    .await;
    assert_eq!(ok.status, 200);
    // Another port is not.
    let r = request(
        srv.addr,
        "GET",
        "/api/live/status",
        &[("Host", &format!("127.0.0.1:{}", port.wrapping_add(1)))],
        b"",
    )
    .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn wrong_origin_and_cross_site_are_refused() {
    let srv = serve("seed", true, false).await;
    let body = r#"{"dry_run": false, "desired": {}}"#;
    let auth = format!("Bearer {TOKEN}");
    for origin in [
        "http://evil.example",
        "null",
        "https://127.0.0.1",
        "http://127.0.0.1:1",
    ] {
        let r = post_json(
            srv.addr,
            "/api/live/apply",
            &[("Origin", origin), ("Authorization", &auth)],
            body,
        )
        .await;
        assert_eq!(r.status, 403, "{origin}: {}", r.body);
        assert!(r.error().contains("cross-site"), "{}", r.body);
    }
    let r = request(
        srv.addr,
        "GET",
        "/api/live/services",
        &[("Sec-Fetch-Site", "cross-site")],
        b"",
    )
    .await;
    assert_eq!(r.status, 403);
    let own = format!("http://{}", srv.addr);
    let r = request(
        srv.addr,
        "GET",
        "/api/live/services",
        &[("Origin", &own)],
        b"",
    )
    .await;
    assert_eq!(r.status, 200);
}

#[test]
fn allowed_hosts_follow_the_listen_address() {
    let a = http::AllowedHosts::for_listen("127.0.0.1:8080".parse().unwrap());
    assert!(a.allows("127.0.0.1:8080") && a.allows("LOCALHOST:8080"));
    assert!(!a.allows("127.0.0.1") && !a.allows("attacker.example:8080") && !a.allows(""));
    let a = http::AllowedHosts::for_listen("192.168.150.11:80".parse().unwrap());
    assert!(a.allows("192.168.150.11") && a.allows("192.168.150.11:80"));
    assert!(!a.allows("localhost:80"));
    let a = http::AllowedHosts::for_listen("0.0.0.0:9000".parse().unwrap());
    assert!(a.allows("10.1.2.3:9000") && a.allows("[::1]:9000") && a.allows("localhost:9000"));
    assert!(!a.allows("node01:9000") && !a.allows("10.1.2.3:9001"));
    let a = http::AllowedHosts::for_listen("[::1]:8080".parse().unwrap());
    assert!(a.allows("[::1]:8080") && a.allows("localhost:8080"));
}

#[test]
fn constant_time_eq_compares_whole_secrets() {
    assert!(http::constant_time_eq(b"abc", b"abc"));
    assert!(!http::constant_time_eq(b"abc", b"abd"));
    assert!(!http::constant_time_eq(b"abc", b"abcd"));
    assert!(!http::constant_time_eq(b"", b"a"));
    let t = http::new_token().unwrap();
    assert_eq!(t.len(), 64);
    assert_ne!(t, http::new_token().unwrap());
}

#[tokio::test]
async fn doctor_reports_findings_with_reason_and_fix() {
    let srv = serve("seed", false, false).await;
    let r = get(srv.addr, "/api/live/doctor").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["report"]["host"], "node01");
    assert_eq!(v["report"]["role"], "director");
    assert_eq!(v["problems"], 0, "{v}");
    assert!(v["text"].as_str().unwrap().contains("no problems found"));
    // Quiesce a real server on the simulated director: the doctor sees it.
    {
        let h = srv.live.host();
        let mut h = h.lock().unwrap();
        let mut b = h.backend();
        let svc = b.services().unwrap()[0].clone();
        let mut d = svc.dests[0].spec.clone();
        d.weight = 0;
        b.edit_dest(&svc.spec.key, &d).unwrap();
    }
    let v = get(srv.addr, "/api/live/doctor?role=director").await.json();
    assert_eq!(v["problems"], 1, "{v}");
    let f = &v["report"]["findings"][0];
    assert_eq!(f["check"], "dir-dest-weight-zero");
    assert!(f["why_en"].as_str().unwrap().contains("weight 0"));
    assert!(!f["zh"].as_str().unwrap().is_empty());
    assert!(f["fix"].as_array().is_some_and(|a| !a.is_empty()), "{f}");
    // Bad queries are JSON errors.
    let r = get(srv.addr, "/api/live/doctor?role=captain").await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("captain"), "{}", r.body);
    let r = get(srv.addr, "/api/live/doctor?vip=300.1.1.1").await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("vip"), "{}", r.body);
    let r = get(srv.addr, "/api/live/doctor?colour=red").await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("unknown field"), "{}", r.body);
    let _ = srv.stop.send(true);
}

const WRR: &str = r#"{"service": [{"tcp": "192.168.150.100:80", "scheduler": "wrr",
    "server": [{"address": "192.168.150.12", "weight": 3}, {"address": "192.168.150.13"}]}]}"#;

fn apply_body(dry_run: bool, desired: &str) -> String {
    format!(r#"{{"dry_run": {dry_run}, "desired": {desired}}}"#)
}

async fn table(addr: SocketAddr) -> serde_json::Value {
    get(addr, "/api/live/services").await.json()["services"].clone()
}

#[tokio::test]
async fn dry_run_shows_the_diff_and_changes_nothing() {
    let srv = serve("seed", false, false).await;
    let before = table(srv.addr).await;
    let r = post_json(srv.addr, "/api/live/apply", &[], &apply_body(true, WRR)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["applied"], false);
    let cmds: Vec<&str> = v["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        cmds,
        [
            "-E -t 192.168.150.100:80 -s wrr",
            "-e -t 192.168.150.100:80 -r 192.168.150.12:80 -g -w 3"
        ],
        "{v}"
    );
    assert_eq!(v["plan"][0]["sign"], "~");
    assert_eq!(v["plan"][0]["was"], "-s rr");
    assert!(v["text"].as_str().unwrap().contains("~ ipvsadm -E"));
    assert_eq!(table(srv.addr).await, before);
    // Without --allow-apply a real apply is refused, token or not.
    let r = post_json(srv.addr, "/api/live/apply", &[], &apply_body(false, WRR)).await;
    assert_eq!(r.status, 403);
    assert!(r.error().contains("--allow-apply"), "{}", r.body);
    assert_eq!(table(srv.addr).await, before);
}

#[tokio::test]
async fn apply_needs_the_token_then_changes_the_table_once() {
    let srv = serve("seed", true, false).await;
    let before = table(srv.addr).await;
    let r = post_json(srv.addr, "/api/live/apply", &[], &apply_body(false, WRR)).await;
    assert_eq!(r.status, 401);
    assert!(r
        .headers
        .to_ascii_lowercase()
        .contains("www-authenticate: bearer"));
    assert!(r.error().contains("missing token"), "{}", r.body);
    for wrong in [
        "Bearer 0123456789abcdef0123456789abcdeX",
        "Bearer 0123456789abcdef",
        "Bearer ",
        "Basic 0123456789abcdef0123456789abcdef",
        TOKEN,
    ] {
        let r = post_json(
            srv.addr,
            "/api/live/apply",
            &[("Authorization", wrong)],
            &apply_body(false, WRR),
        )
        .await;
        assert_eq!(r.status, 401, "{wrong}");
        assert_eq!(r.error(), "wrong token");
    }
    assert_eq!(table(srv.addr).await, before);
    let auth = format!("Bearer {TOKEN}");
    let origin = format!("http://{}", srv.addr);
    let r = post_json(
        srv.addr,
        "/api/live/apply",
        &[("Authorization", &auth), ("Origin", &origin)],
        &apply_body(false, WRR),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["applied"], true);
    assert_eq!(r.json()["changes"], 2);
    let after = table(srv.addr).await;
    assert_eq!(after[0]["scheduler"], "wrr");
    let w12 = after[0]["dests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["addr"] == "192.168.150.12")
        .unwrap()["weight"]
        .clone();
    assert_eq!(w12, 3);
    // Idempotent: the same desired state again changes nothing.
    let r = post_json(
        srv.addr,
        "/api/live/apply",
        &[("Authorization", &auth)],
        &apply_body(false, WRR),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["changes"], 0);
    assert_eq!(table(srv.addr).await, after);
}

#[tokio::test]
async fn a_failed_apply_is_rolled_back() {
    let srv = serve("seed", true, false).await;
    let before = table(srv.addr).await;
    // The first service is created, the second names a scheduler the
    // kernel does not have: the first is removed again.
    let desired = r#"{"service": [
        {"tcp": "192.168.150.101:80", "scheduler": "rr", "server": [{"address": "192.168.150.12"}]},
        {"tcp": "192.168.150.102:80", "scheduler": "nosuch"}]}"#;
    let auth = format!("Bearer {TOKEN}");
    let r = post_json(
        srv.addr,
        "/api/live/apply",
        &[("Authorization", &auth)],
        &apply_body(false, desired),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let v = r.json();
    assert_eq!(v["failed_command"], "-A -t 192.168.150.102:80 -s nosuch");
    assert_eq!(v["unchanged"], true);
    assert_eq!(
        v["rolled_back"],
        serde_json::json!([
            "-a -t 192.168.150.101:80 -r 192.168.150.12:80 -g -w 1",
            "-A -t 192.168.150.101:80 -s rr"
        ])
    );
    assert!(
        v["error"].as_str().unwrap().contains("rolled back 2"),
        "{v}"
    );
    assert_eq!(table(srv.addr).await, before);
}

#[tokio::test]
async fn a_plan_that_went_stale_is_not_applied() {
    let srv = serve("seed", true, false).await;
    let auth = format!("Bearer {TOKEN}");
    let body = format!(
        r#"{{"dry_run": false, "expect": ["-E -t 192.168.150.100:80 -s wrr"], "desired": {WRR}}}"#
    );
    let before = table(srv.addr).await;
    let r = post_json(
        srv.addr,
        "/api/live/apply",
        &[("Authorization", &auth)],
        &body,
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.error().contains("changed since"), "{}", r.body);
    assert_eq!(r.json()["changes"], 2);
    assert_eq!(table(srv.addr).await, before);
}

#[tokio::test]
async fn bad_bodies_get_clear_json_errors() {
    let srv = serve("seed", true, false).await;
    let auth = format!("Bearer {TOKEN}");
    let h = [("Authorization", auth.as_str())];
    let cases: &[(&str, u16, &str)] = &[
        ("{\"dry_run\": true, ", 400, "not valid JSON"),
        ("", 400, "not valid JSON"),
        (r#"{"dry_run": "yes", "desired": {}}"#, 422, "invalid type"),
        (r#"{"desired": {}}"#, 422, "missing field `dry_run`"),
        (
            r#"{"dry_run": true, "desired": {}, "force": true}"#,
            422,
            "unknown field `force`",
        ),
        (
            r#"{"dry_run": true, "desired": {"service": [{"tcp": "1.2.3.4:80", "sched": "rr"}]}}"#,
            422,
            "unknown field `sched`",
        ),
        (
            r#"{"dry_run": true, "desired": {"service": [{"tcp": "1.2.3.4:80", "udp": "1.2.3.4:53"}]}}"#,
            422,
            "exactly one of tcp, udp",
        ),
        (r#"[1, 2]"#, 422, "invalid type"),
    ];
    for (body, status, needle) in cases {
        let r = post_json(srv.addr, "/api/live/apply", &h, body).await;
        assert_eq!(r.status, *status, "{body}: {}", r.body);
        assert!(r.error().contains(needle), "{body}: {}", r.body);
    }
    // Not JSON at all.
    let r = request(
        srv.addr,
        "POST",
        "/api/live/apply",
        &[("Content-Type", "text/plain"), ("Authorization", &auth)],
        apply_body(true, WRR).as_bytes(),
    )
    .await;
    assert_eq!(r.status, 415);
    assert!(
        r.error().contains("Content-Type: application/json"),
        "{}",
        r.body
    );
    // Larger than the limit: refused before it is parsed.
    let big = format!(
        r#"{{"dry_run": true, "desired": {{"service": []}}, "pad": "{}"}}"#,
        "x".repeat(http::BODY_LIMIT)
    );
    let r = post_json(srv.addr, "/api/live/apply", &h, &big).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(r.error().contains("larger than the limit"), "{}", r.body);
    // GET on the write endpoint.
    let r = get(srv.addr, "/api/live/apply").await;
    assert_eq!(r.status, 405);
}

#[tokio::test]
async fn applies_run_one_at_a_time() {
    let srv = serve("seed", true, false).await;
    let auth = format!("Bearer {TOKEN}");
    // While one apply holds the lock, another is refused at once.
    {
        let lock = srv.live.apply_lock();
        let _held = lock.lock().await;
        let r = post_json(
            srv.addr,
            "/api/live/apply",
            &[("Authorization", &auth)],
            &apply_body(false, WRR),
        )
        .await;
        assert_eq!(r.status, 409, "{}", r.body);
        assert!(r.error().contains("another apply is running"));
    }
    // Many at once, each wanting a different weight: every answer is 200
    // or 409, and the table ends as exactly one of them asked.
    let mut tasks = Vec::new();
    for w in 1..=8 {
        let addr = srv.addr;
        let auth = auth.clone();
        tasks.push(tokio::spawn(async move {
            let d = format!(
                r#"{{"service": [{{"tcp": "192.168.150.100:80", "scheduler": "wrr",
                "server": [{{"address": "192.168.150.12", "weight": {w}}}, {{"address": "192.168.150.13", "weight": {w}}}]}}]}}"#
            );
            let r = post_json(addr, "/api/live/apply", &[("Authorization", &auth)], &apply_body(false, &d)).await;
            (w, r.status)
        }));
    }
    let mut ok = Vec::new();
    for t in tasks {
        let (w, status) = t.await.unwrap();
        assert!(status == 200 || status == 409, "{status}");
        if status == 200 {
            ok.push(w);
        }
    }
    assert!(!ok.is_empty());
    let t = table(srv.addr).await;
    let weights: Vec<i64> = t[0]["dests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["weight"].as_i64().unwrap())
        .collect();
    assert_eq!(
        weights[0], weights[1],
        "never a mix of two applies: {weights:?}"
    );
    assert!(ok.contains(&(weights[0] as i32)), "{weights:?} {ok:?}");
}

#[tokio::test]
async fn snapshot_rebuilds_the_host_in_the_simulator() {
    let srv = serve("seed", false, false).await;
    let r = get(srv.addr, "/api/live/snapshot").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["snapshot"]["hostname"], "node01");
    // What the page does with it: the engine's snapshot::world.
    let snap: lvslab_engine::snapshot::HostSnapshot =
        serde_json::from_value(v["snapshot"].clone()).unwrap();
    let (world, _notes) = lvslab_engine::snapshot::world(&snap);
    let mut lab = lvslab_engine::shell::Lab::new(world);
    let ln = lab.run("node01", "ipvsadm -Ln");
    assert!(
        ln.text.contains("TCP  192.168.150.100:80 rr"),
        "{}",
        ln.text
    );
    assert!(ln.text.contains("192.168.150.12:80"), "{}", ln.text);
    let _ = srv.stop.send(true);
}
