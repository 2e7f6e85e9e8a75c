//! The read endpoints and the event stream.

use super::*;

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
    // Reads answer from the last reading: take one now.
    srv.live.refresh().await.unwrap();
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
    srv.live.refresh().await.unwrap();
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

#[test]
fn a_simulated_director_keeps_a_bounded_trace() {
    use crate::live::{LiveHost, MAX_SIM_TRACE};
    let mut h = SimHost::new("seed", true).unwrap();
    h.tick(Duration::from_secs(1));
    let e = h
        .lab
        .world
        .trace
        .last()
        .cloned()
        .expect("traffic made events");
    h.lab
        .world
        .trace
        .extend(std::iter::repeat_n(e, 3 * MAX_SIM_TRACE));
    h.tick(Duration::from_millis(10));
    assert!(h.lab.world.trace.len() <= 2 * MAX_SIM_TRACE);
    assert!(h.lab.world.trace.len() >= MAX_SIM_TRACE);
}
