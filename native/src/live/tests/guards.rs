//! Host, Origin, cross-site, tokens, JSON errors.

use super::*;

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
async fn two_host_headers_are_refused() {
    let srv = serve("seed", false, false).await;
    let own = srv.addr.to_string();
    let r = request(
        srv.addr,
        "GET",
        "/api/live/services",
        &[("Host", &own), ("Host", "evil.example")],
        b"",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.error().contains("more than one Host"), "{}", r.body);
}

#[tokio::test]
async fn a_read_token_guards_the_data_but_not_the_page() {
    let srv = serve_with("seed", false, |cfg| {
        cfg.allow_apply = true;
        cfg.token = Some(TOKEN.into());
        cfg.read_token = Some(READ_TOKEN.into());
    })
    .await;
    for path in [
        "/api/live/services",
        "/api/live/connections",
        "/api/live/doctor",
        "/api/live/snapshot",
        "/api/live/events",
    ] {
        let r = get(srv.addr, path).await;
        assert_eq!(r.status, 401, "{path}: {}", r.body);
        assert!(r.error().contains("missing token"), "{}", r.body);
        let r = request(
            srv.addr,
            "GET",
            path,
            &[("Authorization", "Bearer nope")],
            b"",
        )
        .await;
        assert_eq!(r.status, 401, "{path}");
        assert!(r.error().contains("wrong token"), "{}", r.body);
    }
    let read = format!("Bearer {READ_TOKEN}");
    let write = format!("Bearer {TOKEN}");
    for auth in [&read, &write] {
        let r = request(
            srv.addr,
            "GET",
            "/api/live/services",
            &[("Authorization", auth)],
            b"",
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    // The page and the status stay open; the read token cannot write.
    assert_eq!(get(srv.addr, "/").await.status, 200);
    assert_eq!(
        get(srv.addr, "/api/live/status").await.json()["read_token"],
        true
    );
    let body = r#"{"dry_run": false, "desired": {}}"#;
    let r = post_json(
        srv.addr,
        "/api/live/apply",
        &[("Authorization", &read)],
        body,
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.error(), "wrong token");
}

#[tokio::test]
async fn every_api_error_is_json() {
    let srv = serve("seed", false, false).await;
    for (method, path, status) in [
        ("DELETE", "/api/live/services", 405),
        ("PUT", "/api/live/apply", 405),
        ("GET", "/api/live/nope", 404),
    ] {
        let r = request(srv.addr, method, path, &[], b"").await;
        assert_eq!(r.status, status, "{method} {path}");
        assert!(r.headers.contains("application/json"), "{}", r.headers);
        assert!(!r.error().is_empty(), "{}", r.body);
    }
}
