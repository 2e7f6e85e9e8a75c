//! Benchmark: simulated packet-hops per second for HTTP requests from the
//! client through the LVS-DR director to the real servers (the `seed`
//! scenario): each request is a full TCP connection (ARP as needed, SYN,
//! request, response, FIN exchange). A packet-hop is one frame crossing one
//! link. Run with `cargo bench -p lvslab-engine --bench director`;
//! `LVSLAB_BENCH_REQUESTS` sets the count (default 10 000).

use lvslab_engine::apps::AppKind;
use lvslab_engine::apps_tcp::CurlApp;
use lvslab_engine::scenario;
use lvslab_engine::trace::EventKind;
use std::net::SocketAddrV4;
use std::time::Instant;

fn main() {
    let n: u32 = std::env::var("LVSLAB_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let mut w = scenario::load("seed").expect("seed scenario");
    let dst: SocketAddrV4 = "192.168.150.100:80".parse().expect("valid");
    let mut hops = 0usize;
    let mut ok = 0u32;
    let mut by_server = [0u32; 2];
    let t0 = Instant::now();
    for _ in 0..n {
        let now = w.now;
        let id = w.spawn(AppKind::Curl(CurlApp {
            host: "client".into(),
            program: "curl".into(),
            dst,
            host_header: "192.168.150.100".into(),
            path: "/".into(),
            src: "192.168.150.1".parse().expect("valid"),
            local_port: None,
            silent: true,
            max_time_s: Some(5.0),
            max_filesize: None,
            start: now,
            sock: None,
            sent: false,
            response: vec![],
            hold: false,
            exit: 0,
        }));
        let app = w.run_app(id).expect("curl finishes");
        // Let the closing handshake finish, as between two real requests.
        w.advance(1_000);
        if app.status == 0 {
            ok += 1;
            if app.text.contains(".12<") {
                by_server[0] += 1;
            } else {
                by_server[1] += 1;
            }
        }
        hops += w
            .trace
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    EventKind::FrameTx { .. } | EventKind::FrameRx { .. }
                )
            })
            .count();
        w.trace.clear();
    }
    let dt = t0.elapsed().as_secs_f64();
    assert_eq!(ok, n, "every request must be answered");
    println!(
        "director: {n} HTTP requests through the DR director ({} to node02, {} to node03), {hops} packet-hops in {dt:.3} s wall ({:.1} s simulated): {:.0} packet-hops/s, {:.0} requests/s",
        by_server[0],
        by_server[1],
        w.now.0 as f64 / 1e6,
        hops as f64 / dt,
        f64::from(n) / dt
    );
}
