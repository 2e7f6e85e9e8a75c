// Smoke test: the served app is the real Leptos app running the real engine.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startServer, launch, newPage, openLab, OUT } from "./lib.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); server?.stop(); });

test("app renders the engine's bare LAN with no console errors", async () => {
  const { page, problems } = await newPage(browser);
  const wasm = page.waitForResponse((r) => r.url().endsWith(".wasm"));
  await openLab(page, server.url);
  const resp = await wasm;
  assert.equal(resp.headers()["content-type"], "application/wasm");
  // Host boxes come from lvslab-engine's scenario::bare(), drawn by Leptos.
  const hosts = await page.$$eval("svg.topo g.host", (gs) => gs.map((g) => g.textContent.replace(/\s+/g, " ").trim()));
  assert.equal(hosts.length, 4);
  assert.match(hosts[0], /^client.*02:42:c0:a8:96:01.*192\.168\.150\.1\/24/);
  assert.match(hosts[1], /^node01.*02:42:c0:a8:96:0b.*192\.168\.150\.11\/24/);
  assert.equal(await page.locator(".loading").count(), 0);
  await page.screenshot({ path: join(OUT, "smoke.png") });
  assert.deepEqual(problems, []);
});
