//! Benchmark: simulated packet-hops per second for HTTP requests from the
//! client through the LVS-DR director to the real servers (the `seed`
//! scenario): each request is a full TCP connection (ARP as needed, SYN,
//! request, response, FIN exchange). A packet-hop is one frame crossing one
//! link. The workload is `bench::Workload::Director`, the same one the
//! browser runs (tests/browser/bench.mjs). Run with
//! `cargo bench -p lvslab-engine --bench director`;
//! `LVSLAB_BENCH_REQUESTS` sets the count (default 10 000).

use lvslab_engine::bench::{Bench, Workload};
use std::time::Instant;

fn main() {
    let w = Workload::Director;
    let n: u32 = std::env::var("LVSLAB_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(w.default_count());
    let bench = Bench::new(w, n).expect("built-in scenario");
    let t0 = Instant::now();
    let out = bench.run();
    let dt = t0.elapsed().as_secs_f64();
    assert_eq!(out.answered, n, "every request must be answered");
    println!("{}, {:.0} requests/s", out.summary(dt), f64::from(n) / dt);
}
