//! Benchmark: simulated packet-hops per second for a ping flood across the
//! LAN (client → node02 and back). A packet-hop is one frame crossing one
//! link (host→switch or switch→host). Prints the figure; run with
//! `cargo bench -p lvslab-engine --bench lan`.

use lvslab_engine::apps::{AppKind, PingApp};
use lvslab_engine::scenario;
use lvslab_engine::trace::EventKind;
use lvslab_engine::SimTime;
use std::time::Instant;

fn main() {
    let pings: u32 = std::env::var("LVSLAB_BENCH_PINGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let mut w = scenario::bare();
    let start = w.now;
    let id = w.spawn(AppKind::Ping(PingApp {
        host: "client".into(),
        dst: "192.168.150.12".parse().expect("valid"),
        src: "192.168.150.1".parse().expect("valid"),
        oif: None,
        count: pings,
        linger_s: 1.0,
        deadline_s: None,
        ident: 0x4242,
        start,
        sent: 0,
        received: 0,
        errors: 0,
        rtts: vec![],
        send_times: vec![],
        exit_at: None,
    }));
    let t0 = Instant::now();
    let app = w.run_app(id).expect("ping finishes");
    let dt = t0.elapsed();
    let hops = w
        .trace
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::FrameTx { .. } | EventKind::FrameRx { .. }
            )
        })
        .count();
    let received = match app.kind {
        AppKind::Ping(p) => p.received,
        _ => 0,
    };
    assert_eq!(received, pings, "every echo must be answered");
    println!(
        "ping flood: {pings} echo round trips, {hops} packet-hops in {:.3} s wall ({:.1} s simulated): {:.0} packet-hops/s",
        dt.as_secs_f64(),
        (w.now.0 - SimTime(0).0) as f64 / 1e6,
        hops as f64 / dt.as_secs_f64()
    );
}
