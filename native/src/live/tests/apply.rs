//! Dry runs and applies.

use super::*;

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
    // GET on the write endpoint: a JSON error too, naming the method.
    let r = get(srv.addr, "/api/live/apply").await;
    assert_eq!(r.status, 405);
    assert!(r.error().contains("POST"), "{}", r.body);
    assert!(
        r.headers.to_ascii_lowercase().contains("allow: post"),
        "{}",
        r.headers
    );
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
async fn dry_runs_do_not_wait_for_the_apply_lock() {
    let srv = serve("seed", true, false).await;
    let lock = srv.live.apply_lock();
    let _held = lock.lock().await;
    // While a real apply holds the lock, dry runs still answer at once...
    for _ in 0..4 {
        let r = post_json(srv.addr, "/api/live/apply", &[], &apply_body(true, WRR)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["changes"], 2);
    }
    drop(_held);
    // ...and a flood of them never makes a real apply fail.
    let mut floods = Vec::new();
    for _ in 0..4 {
        let addr = srv.addr;
        floods.push(tokio::spawn(async move {
            for _ in 0..10 {
                let r = post_json(addr, "/api/live/apply", &[], &apply_body(true, WRR)).await;
                assert_eq!(r.status, 200, "{}", r.body);
            }
        }));
    }
    let auth = format!("Bearer {TOKEN}");
    for w in 1..=10 {
        let d = format!(
            r#"{{"service": [{{"tcp": "192.168.150.100:80", "scheduler": "rr",
            "server": [{{"address": "192.168.150.12", "weight": {w}}}, {{"address": "192.168.150.13"}}]}}]}}"#
        );
        let r = post_json(
            srv.addr,
            "/api/live/apply",
            &[("Authorization", &auth)],
            &apply_body(false, &d),
        )
        .await;
        assert_eq!(r.status, 200, "apply {w}: {}", r.body);
    }
    for f in floods {
        f.await.unwrap();
    }
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let srv = serve("seed", true, false).await;
    for auth in [
        format!("bearer {TOKEN}"),
        format!("BEARER   {TOKEN}"),
        format!("Bearer\t{TOKEN}"),
    ] {
        let r = post_json(
            srv.addr,
            "/api/live/apply",
            &[("Authorization", &auth)],
            &apply_body(false, WRR),
        )
        .await;
        assert_eq!(r.status, 200, "{auth:?}: {}", r.body);
    }
    let r = post_json(
        srv.addr,
        "/api/live/apply",
        &[("Authorization", "Bearer")],
        &apply_body(false, WRR),
    )
    .await;
    assert_eq!(r.status, 401);
}
