// Smoke test: the served app is the real Leptos app running the real engine.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startServer, launch, newPage, OUT } from "./lib.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); server?.stop(); });

test("app renders the engine's bare LAN with no console errors", async () => {
  const { page, problems } = await newPage(browser);
  const wasm = page.waitForResponse((r) => r.url().endsWith(".wasm"));
  await page.goto(server.url);
  const resp = await wasm;
  assert.equal(resp.headers()["content-type"], "application/wasm");
  // Rows come from lvslab-engine's scenario::bare(), rendered by Leptos.
  await page.waitForSelector("tr[data-host=node03]", { timeout: 10000 });
  const rows = await page.$$eval("table.hosts tbody tr", (trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, " ").trim()));
  assert.equal(rows.length, 4);
  assert.match(rows[0], /client eth0 02:42:c0:a8:96:01 192\.168\.150\.1\/24/);
  assert.match(rows[1], /node01 eth0 02:42:c0:a8:96:0b 192\.168\.150\.11\/24/);
  assert.equal(await page.locator(".loading").count(), 0);
  await page.screenshot({ path: join(OUT, "smoke.png"), fullPage: true });
  assert.deepEqual(problems, []);
});
