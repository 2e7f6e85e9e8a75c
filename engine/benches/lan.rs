//! Benchmark: simulated packet-hops per second for a ping flood across the
//! LAN (client → node02 and back). A packet-hop is one frame crossing one
//! link (host→switch or switch→host). The workload is `bench::Workload::Lan`,
//! the same one the browser runs (tests/browser/bench.mjs). Prints the
//! figure; run with `cargo bench -p lvslab-engine --bench lan`;
//! `LVSLAB_BENCH_PINGS` sets the count (default 20 000).

use lvslab_engine::bench::{Bench, Workload};
use std::time::Instant;

fn main() {
    let w = Workload::Lan;
    let n: u32 = std::env::var("LVSLAB_BENCH_PINGS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(w.default_count());
    let bench = Bench::new(w, n).expect("built-in scenario");
    let t0 = Instant::now();
    let out = bench.run();
    let dt = t0.elapsed().as_secs_f64();
    assert_eq!(out.answered, n, "every echo must be answered");
    println!("{}", out.summary(dt));
}
