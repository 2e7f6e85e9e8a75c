// Issue 14, item 6: determinism proved. The same scenario and script give
// the same run, byte for byte, natively and in the browser's wasm: for every
// built-in scenario the digest of the transcript and the whole trace (as
// JSON) from the page's `lvslab_digest` export equals `lvslab sim --digest`.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, launch, newPage, openLab } from "./lib.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); server?.stop(); });

test("every built-in scenario: the wasm build's digest equals the native one", async () => {
  const { page, problems } = await newPage(browser);
  await openLab(page, server.url);
  const { script, scenarios } = await page.evaluate(async () => {
    const m = await import("/pkg/lvslab_web.js");
    const scenarios = [...document.querySelectorAll("#scenario option")].map((o) => o.value).filter(Boolean);
    return { script: m.lvslab_digest_script(), scenarios };
  });
  assert.ok(scenarios.length >= 8, `the scenario list (${scenarios})`);
  const dir = mkdtempSync(join(tmpdir(), "lvslab-digest-"));
  const file = join(dir, "check.lab");
  writeFileSync(file, script);
  for (const s of scenarios) {
    const native = execFileSync(process.env.LVSLAB_BIN, ["sim", "--digest", "--scenario", s, "--script", file], { encoding: "utf8" }).trim();
    const wasm = await page.evaluate(async ([s, script]) => {
      const m = await import("/pkg/lvslab_web.js");
      return m.lvslab_digest(s, script);
    }, [s, script]);
    console.log(`${s}: ${native}`);
    assert.match(native, /^[0-9a-f]{16} \d+ events \d+ bytes$/);
    assert.equal(wasm, native, s);
  }
  const err = await page.evaluate(async () => {
    const m = await import("/pkg/lvslab_web.js");
    try { m.lvslab_digest("nope", ""); } catch (e) { return String(e.message || e); }
  });
  assert.match(err, /unknown scenario "nope"/);
  assert.deepEqual(problems, []);
});
