// The Live view in Debian's chromium against the served binary.
//
// NOTE: this runs `lvslab serve --live` over the SIMULATED backend
// (hidden test flag `--live-sim seed`: a simulated director whose client
// requests the VIP once a second), because this machine's kernel has no
// IPVS. The HTTP layer, the page and every byte between them are the real
// ones; only the IPVS table behind them is the engine's. The real-kernel
// check of the same API belongs to the VM harness (tests/vm).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, launch, newPage, openLab, run, OUT } from "./lib.mjs";

/** `lvslab serve --live --live-sim seed ARGS`; resolves with its URL and token. */
async function startLive(extra = []) {
  const bin = process.env.LVSLAB_BIN;
  if (!bin) throw new Error("LVSLAB_BIN must point at the lvslab binary");
  const port = await freePort();
  // Not a terminal: the server writes a generated token to a 0600 file in
  // its run directory and prints only the path.
  const runDir = mkdtempSync(join(tmpdir(), "lvslab-run-"));
  const proc = spawn(bin, ["serve", "--live", "--live-sim", "seed", "--listen", `127.0.0.1:${port}`, ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LVSLAB_RUN_DIR: runDir },
  });
  let out = "";
  let err = "";
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lvslab serve --live did not start: ${out}${err}`)), 15000);
    proc.stdout.on("data", (d) => {
      out += d;
      if (/Live mode: .*\n/.test(out)) { clearTimeout(timer); resolve(); }
    });
    proc.stderr.on("data", (d) => { err += d; });
    proc.on("exit", (code) => { clearTimeout(timer); reject(new Error(`lvslab serve exited ${code}: ${out}${err}`)); });
  });
  const tokenFile = (out.match(/the write token is in (\S+)/) || [])[1];
  const token = tokenFile ? readFileSync(tokenFile, "utf8").trim() : undefined;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    token,
    proc,
    logs: () => err,
    stop: () => new Promise((resolve) => {
      if (proc.exitCode !== null) return resolve(proc.exitCode);
      proc.once("exit", (code, signal) => resolve(code ?? signal));
      proc.kill("SIGTERM");
    }),
  };
}

let server, browser;
before(async () => { server = await startLive(["--allow-apply"]); browser = await launch(); });
after(async () => { await browser?.close(); await server?.stop(); });

/** The number in a services-table cell. */
async function cell(page, rowSel, col) {
  const t = await page.locator(`${rowSel} td:nth-child(${col})`).first().textContent();
  return Number(t.trim());
}

test("live view: the director's table, counters moving, connections, doctor, stale indicator", async () => {
  assert.match(server.token || "", /^[0-9a-f]{64}$/, "a token is printed at start-up");
  const { page, problems } = await newPage(browser);
  await openLab(page, server.url);
  await page.click("#live-open");
  await page.waitForSelector('#live-state[data-state="connected"]', { timeout: 10000 });
  assert.match(await page.locator("#live-simulated").textContent(), /Simulated backend/);
  assert.match(await page.locator("#live-source").textContent(), /simulated scenario seed, host node01/);
  const svc = '#live-services-table tr.svc[data-key="TCP  192.168.150.100:80"]';
  await page.waitForSelector(svc);
  assert.match(await page.locator(svc).textContent(), /192\.168\.150\.100:80 rr/);
  const dests = await page.$$eval("#live-services-table tr.dest", (r) => r.map((x) => x.dataset.key).sort());
  assert.deepEqual(dests, ["192.168.150.12:80", "192.168.150.13:80"]);
  assert.match(await page.locator('#live-services-table tr.dest[data-key="192.168.150.12:80"]').textContent(), /Route/);
  // The simulated client requests the VIP every second: the service's
  // Conns column (6th: after the 5 spanned columns, the first counter)
  // grows and the connection table fills.
  const conns0 = await cell(page, svc, 2);
  await page.waitForFunction(
    ([sel, n]) => {
      const td = document.querySelector(`${sel} td:nth-child(2)`);
      return td && Number(td.textContent) > n;
    },
    [svc, conns0],
    { timeout: 10000 },
  );
  await page.waitForSelector("#live-conns-table tbody tr");
  const row = await page.locator("#live-conns-table tbody tr").first().textContent();
  assert.match(row, /^TCP\d\d:\d\d[A-Z_]+192\.168\.150\.1:\d+192\.168\.150\.100:80192\.168\.150\.1[23]:80$/);
  // The doctor examined the simulated director: nothing wrong.
  await page.waitForSelector(".live-doctor .live-ok");
  assert.match(await page.locator(".live-doctor").textContent(), /No problems found\.\s*\d+ checks passed/);
  await page.screenshot({ path: join(OUT, "live-connected.png") });

  // Freeze the server: no snapshot arrives, the view says so after 3 s.
  process.kill(server.proc.pid, "SIGSTOP");
  try {
    await page.waitForSelector('#live-state[data-state="stale"]', { timeout: 8000 });
    assert.match(await page.locator("#live-state").textContent(), /stale: no update for \d+ s/);
    await page.screenshot({ path: join(OUT, "live-stale.png") });
  } finally {
    process.kill(server.proc.pid, "SIGCONT");
  }
  await page.waitForSelector('#live-state[data-state="connected"]', { timeout: 10000 });

  // 中文
  await page.click("#lang");
  assert.equal(await page.locator("#live-h").textContent(), "实时：内核中的 IPVS");
  assert.match(await page.locator("#live-state").textContent(), /已连接/);
  await page.screenshot({ path: join(OUT, "live-zh.png") });
  await page.click("#lang");
  assert.deepEqual(problems, []);
  await page.context().close();
});

test("live view: apply the simulator's configuration to the kernel, after the diff and the token", async () => {
  const { page, problems } = await newPage(browser);
  await openLab(page, server.url);
  // The simulator: the seed lab, then weights 3:1 with wrr on node01.
  await page.selectOption("#scenario", "seed");
  await run(page, "node01", "ipvsadm -E -t 192.168.150.100:80 -s wrr");
  await run(page, "node01", "ipvsadm -e -t 192.168.150.100:80 -r 192.168.150.12 -g -w 3");
  await page.click("#live-open");
  await page.waitForSelector('#live-state[data-state="connected"]', { timeout: 10000 });
  await page.click("#live-plan");
  await page.waitForSelector("#live-diff");
  const diff = await page.locator("#live-diff").textContent();
  assert.equal(
    diff,
    "~ ipvsadm -E -t 192.168.150.100:80 -s wrr   (was: -s rr)\n" +
      "~ ipvsadm -e -t 192.168.150.100:80 -r 192.168.150.12:80 -g -w 3   (was: -r 192.168.150.12:80 -g -w 1)\n",
  );
  // The diff alone changed nothing.
  assert.match(await page.locator("#live-services-table tr.svc").first().textContent(), /192\.168\.150\.100:80 rr\d/);
  // A wrong token: refused, shown, nothing applied.
  await page.fill("#live-token", "0".repeat(64));
  await page.click("#live-confirm");
  await page.waitForSelector("#live-apply-error");
  assert.match(await page.locator("#live-apply-error").textContent(), /Not applied: 401: wrong token/);
  // Plan again and confirm with the printed token.
  await page.click("#live-plan");
  await page.waitForSelector("#live-confirm");
  await page.fill("#live-token", server.token);
  await page.click("#live-confirm");
  await page.waitForSelector("#live-apply-done");
  await page.waitForFunction(
    () => /192\.168\.150\.100:80 wrr/.test(document.querySelector("#live-services-table tr.svc")?.textContent || ""),
    null,
    { timeout: 10000 },
  );
  const w = await page.locator('#live-services-table tr.dest[data-key="192.168.150.12:80"] td:nth-child(3)').textContent();
  assert.equal(w.trim(), "3");
  await page.screenshot({ path: join(OUT, "live-applied.png") });
  // Planning again: the kernel matches the simulator now.
  await page.click("#live-plan");
  await page.waitForSelector(".live-apply p.muted");
  assert.match(await page.locator(".live-apply").textContent(), /already matches the simulator/);
  // The one expected console error is the browser's note on the 401.
  assert.deepEqual(problems.filter((p) => !/status of 401/.test(p)), []);
  await page.context().close();
});

test("live view: load this host into the simulator", async () => {
  const { page, problems } = await newPage(browser);
  await openLab(page, server.url);
  await page.click("#live-open");
  await page.waitForSelector('#live-state[data-state="connected"]', { timeout: 10000 });
  await page.click("#live-load");
  await page.waitForSelector("#live", { state: "detached" });
  // The engine built a LAN around the snapshot: node01 with its IPVS
  // table, a client, and the two real servers.
  const hosts = await page.$$eval("svg.topo g.host", (gs) => gs.map((g) => g.textContent.replace(/\s+/g, " ").trim()));
  assert.ok(hosts.some((h) => /^node01/.test(h)), hosts.join(" | "));
  assert.ok(hosts.length >= 3, hosts.join(" | "));
  assert.match(await page.locator(".scen-desc").textContent(), /host:node01/);
  await run(page, "node01", "ipvsadm -Ln");
  const out = await page.locator(".term .ti pre.out").last().textContent();
  assert.match(out, /TCP {2}192\.168\.150\.100:80 (w)?rr/);
  assert.match(out, /-> 192\.168\.150\.12:80 +Route/);
  // And a packet goes through it: the client's request is answered.
  await run(page, "client", "curl -s -m 2 http://192.168.150.100/");
  const body = await page.locator(".term .ti pre.out").last().textContent();
  assert.match(body, /from 192\.168\.150\.1[23]/);
  await page.screenshot({ path: join(OUT, "live-loaded.png") });
  // Closing the view closes its event stream (the browser reports that
  // as an aborted request).
  assert.deepEqual(problems.filter((p) => !/\/api\/live\/events net::ERR_ABORTED/.test(p)), []);
  await page.context().close();
});

test("plain serve has no Live button; SIGTERM stops live mode with open streams", async () => {
  // The lab served without --live: no Live button, no errors.
  const { startServer } = await import("./lib.mjs");
  const plain = await startServer();
  try {
    const { page, problems } = await newPage(browser);
    await openLab(page, plain.url);
    await page.waitForTimeout(300);
    assert.equal(await page.locator("#live-open").count(), 0);
    assert.deepEqual(problems, []);
    await page.context().close();
  } finally {
    plain.stop();
  }
  // A live server with a page streaming from it exits promptly on SIGTERM.
  const other = await startLive();
  const { page } = await newPage(browser);
  await openLab(page, other.url);
  await page.click("#live-open");
  await page.waitForSelector('#live-state[data-state="connected"]', { timeout: 10000 });
  const t0 = Date.now();
  const code = await other.stop();
  assert.equal(code, 0, other.logs());
  assert.ok(Date.now() - t0 < 5000, `stopped in ${Date.now() - t0} ms`);
  assert.match(other.logs(), /shutting down/);
  await page.context().close();
});
