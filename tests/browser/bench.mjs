// Engine packet-hops per second, browser vs native: the same workloads
// (lvslab_engine::bench) run natively (`cargo bench -p lvslab-engine`) and
// in Debian's chromium (the app's `lvslab_bench` wasm export, in the page
// `lvslab serve` serves). Prints both figures and the ratio; the budget is
// browser ≥ 0.6 × native. A figure-printing bench, not a pass/fail test.
//
//   LVSLAB_BIN=target/debug/lvslab node tests/browser/bench.mjs [runs]
//
// Each side runs every workload `runs` times (default 3) and the best run
// counts. LVSLAB_BENCH_PINGS / LVSLAB_BENCH_REQUESTS set the counts for both
// (defaults: 20 000 pings, 10 000 requests). Run it from the repository
// (cargo is called there); CARGO_TARGET_DIR is honoured.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { startServer, launch, newPage, openLab, OUT } from "./lib.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const RUNS = Number(process.argv[2] || 3);
const WORKLOADS = [
  { name: "lan", env: "LVSLAB_BENCH_PINGS", count: Number(process.env.LVSLAB_BENCH_PINGS || 20000) },
  { name: "director", env: "LVSLAB_BENCH_REQUESTS", count: Number(process.env.LVSLAB_BENCH_REQUESTS || 10000) },
];

function native(w) {
  const out = execFileSync("cargo", ["bench", "-q", "-p", "lvslab-engine", "--bench", w.name], {
    cwd: ROOT, env: { ...process.env, [w.env]: String(w.count) }, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"],
  });
  const m = out.match(/(\d+) packet-hops in ([\d.]+) s wall.*?: (\d+) packet-hops\/s/);
  if (!m) throw new Error(`unexpected output of the ${w.name} bench: ${out}`);
  return { hops: Number(m[1]), secs: Number(m[2]), hopsPerSec: Number(m[3]), summary: out.trim() };
}

const best = (runs) => runs.reduce((a, b) => (b.hopsPerSec > a.hopsPerSec ? b : a));

const server = await startServer();
const browser = await launch();
const report = {};
try {
  const { page, problems } = await newPage(browser);
  await openLab(page, server.url);
  for (const w of WORKLOADS) {
    const nat = [], web = [];
    for (let i = 0; i < RUNS; i++) {
      nat.push(native(w));
      web.push(await page.evaluate(async ([n, c]) => {
        const m = await import("/pkg/lvslab_web.js");
        return m.lvslab_bench(n, c);
      }, [w.name, w.count]));
    }
    const n = best(nat), b = best(web);
    if (b.hops !== n.hops) throw new Error(`${w.name}: the browser moved ${b.hops} packet-hops, native ${n.hops}: not the same workload`);
    if (b.answered !== w.count) throw new Error(`${w.name}: ${b.answered} of ${w.count} answered in the browser`);
    const ratio = b.hopsPerSec / n.hopsPerSec;
    report[w.name] = { count: w.count, hops: n.hops, native: n, browser: b, ratio, nativeRuns: nat.map((r) => r.hopsPerSec), browserRuns: web.map((r) => r.hopsPerSec) };
    console.log(`native : ${n.summary}`);
    console.log(`browser: ${b.summary}`);
    console.log(`${w.name}: browser/native = ${ratio.toFixed(2)} (budget ≥ 0.6) ${ratio >= 0.6 ? "ok" : "BELOW BUDGET"}\n`);
  }
  if (problems.length) console.log("console problems:", problems);
} finally {
  await browser.close();
  server.stop();
}
writeFileSync(join(OUT, "bench.json"), JSON.stringify(report, null, 2));
