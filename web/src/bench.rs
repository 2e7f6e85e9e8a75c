//! The engine benchmark, callable from the browser.
//!
//! Linux has nothing to say here: this runs `lvslab_engine::bench`, the same
//! workload the native benches (`cargo bench -p lvslab-engine`) run, inside
//! the page's wasm instance and times it with `performance.now()`, so the
//! browser's packet-hops per second compare with the native figure. Not part
//! of the UI: `tests/browser/bench.mjs` calls the `lvslab_bench` export.

use js_sys::{Object, Reflect};
use lvslab_engine::bench::{Bench, Workload};
use wasm_bindgen::prelude::*;

/// Run `workload` ("lan" or "director") with `count` pings or requests (0:
/// the native default). Returns `{workload, count, answered, hops, secs,
/// hopsPerSec, summary}`.
#[wasm_bindgen]
pub fn lvslab_bench(workload: &str, count: u32) -> Result<Object, JsError> {
    let w = Workload::parse(workload)?;
    let count = if count == 0 { w.default_count() } else { count };
    let perf = web_sys::window()
        .and_then(|w| w.performance())
        .ok_or_else(|| JsError::new("performance.now() is not available"))?;
    let bench = Bench::new(w, count)?;
    let t0 = perf.now();
    let out = bench.run();
    let secs = (perf.now() - t0) / 1000.0;
    let o = Object::new();
    let set = |k: &str, v: JsValue| Reflect::set(&o, &k.into(), &v).map(|_| ());
    let fields = [
        ("workload", w.name().into()),
        ("count", count.into()),
        ("answered", out.answered.into()),
        ("hops", (out.hops as f64).into()),
        ("secs", secs.into()),
        ("hopsPerSec", (out.hops as f64 / secs).into()),
        ("summary", out.summary(secs).into()),
    ];
    for (k, v) in fields {
        set(k, v).map_err(|_| JsError::new("building the result object failed"))?;
    }
    Ok(o)
}

/// The digest of `script` run from `scenario` (`lvslab_engine::digest`);
/// the same string `lvslab sim --digest` prints natively.
#[wasm_bindgen]
pub fn lvslab_digest(scenario: &str, script: &str) -> Result<String, JsError> {
    Ok(lvslab_engine::digest::run(scenario, script)?.to_string())
}

/// The script the determinism check runs on every scenario.
#[wasm_bindgen]
pub fn lvslab_digest_script() -> String {
    lvslab_engine::digest::CHECK_SCRIPT.to_string()
}
