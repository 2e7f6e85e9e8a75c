// Issue 12, item 4: the tutorial reproducible as written. A plain curl that
// is still retrying its SYN keeps running in the client's terminal while the
// student types `ipvsadm -lnc` on node01 (which shows the SYN_RECV rows the
// tutorial shows); Ctrl+C ends it as real curl ends; the time that passed is
// in the link, which replays the same lab.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startServer, launch, newPage, openLab, run, OUT } from "./lib.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); server?.stop(); });

const CURL = "curl http://192.168.150.100/";

/** The text of a host's terminal scrollback (its tab opened). */
async function termText(page, host) {
  await page.click(`button[data-tab="${host}"]`);
  return page.evaluate((h) => document.querySelector(`#term-in-${h}`).closest(".term").querySelector(".term-out").innerText, host);
}

test("lo:2 down, as the tutorial has it: plain curl keeps running, node01 shows SYN_RECV, Ctrl+C ends curl, the link replays it", async () => {
  const { page, problems } = await newPage(browser);
  await openLab(page, server.url, "#s=pitfall-lo-down");
  await run(page, "client", CURL);
  assert.match(await termText(page, "client"), /from 192\.168\.150\.13/);
  // The second request goes to node02, whose lo:2 is down: no answer.
  await run(page, "client", CURL);
  await page.waitForSelector(".ti.running .term-run");
  await page.screenshot({ path: join(OUT, "session-running.png") });
  assert.equal((await page.locator('label[for="term-in-client"]').textContent()).trim(), "", "no prompt while curl runs");
  // Past the 2 s the engine ran curl for at once: the clock now follows the wall clock.
  await page.waitForTimeout(3000);
  await run(page, "node01", "ipvsadm -lnc");
  const dir = await termText(page, "node01");
  assert.match(dir, /TCP\s+00:5\d\s+SYN_RECV\s+192\.168\.150\.1:\d+\s+192\.168\.150\.100:80\s+192\.168\.150\.12:80/, dir);
  await page.screenshot({ path: join(OUT, "session-syn-recv.png") });
  // Back at the client: curl is still trying.
  await page.click('button[data-tab="client"]');
  assert.equal(await page.locator("#term-in-client").evaluate((e) => e.closest(".term").querySelectorAll(".ti.running").length), 1);
  await page.locator("#term-in-client").press("Control+c");
  await page.waitForFunction(() => !document.querySelector(".ti.running"));
  await run(page, "client", "echo $?");
  const client = await termText(page, "client");
  assert.match(client, /\^C\n/);
  assert.match(client, /\n130\n?$/);
  await page.screenshot({ path: join(OUT, "session-ctrl-c.png") });
  // The link carries the time that passed and the Ctrl+C.
  await page.waitForFunction(() => location.hash.includes("&i=client"));
  const hash = await page.evaluate(() => location.hash);
  assert.match(hash, /&w=\d+&c=node01~ipvsadm%20-lnc&w=\d+&i=client/);
  const again = await newPage(browser);
  await openLab(again.page, server.url, hash);
  assert.equal(await termText(again.page, "node01"), dir);
  assert.equal(await termText(again.page, "client"), client);
  assert.deepEqual(problems, []);
  assert.deepEqual(again.problems, []);
});

test("ping without -c runs until Ctrl+C and prints its statistics", async () => {
  const { page, problems } = await newPage(browser);
  await openLab(page, server.url, "#s=seed");
  await run(page, "client", "ping 192.168.150.12");
  await page.waitForSelector(".ti.running");
  // Replies keep coming at the wall clock's pace.
  await page.waitForFunction(
    () => (document.querySelector(".ti.running pre.out")?.textContent.match(/64 bytes from/g) || []).length >= 4,
    null, { timeout: 8000 },
  );
  await page.locator("#term-in-client").press("Control+c");
  await page.waitForFunction(() => !document.querySelector(".ti.running"));
  const text = await termText(page, "client");
  assert.match(text, /\^C\n--- 192\.168\.150\.12 ping statistics ---\n\d+ packets transmitted, \d+ received, 0% packet loss/);
  assert.deepEqual(problems, []);
});

test("watch reruns ipvsadm -lnc on node01 at the wall clock's pace; Ctrl+C gives the screen back", async () => {
  const { page, problems } = await newPage(browser);
  await openLab(page, server.url, "#s=seed");
  await run(page, "node01", "watch -n 1 ipvsadm -lnc");
  await page.waitForSelector(".ti.running");
  const frame = () => page.evaluate(() => document.querySelector(".ti.running pre.out")?.textContent || "");
  assert.match(await frame(), /^Every 1\.0s: ipvsadm -lnc +node01: Fri Mar 12 09:00:0\d 2021\n\nIPVS connection entries\n/);
  await run(page, "client", CURL);
  // The next rerun (at most 1 s later) shows the client's connection.
  await page.click('button[data-tab="node01"]');
  await page.waitForFunction(
    () => /TCP\s+\d\d:\d\d\s+\S+\s+192\.168\.150\.1:\d+\s+192\.168\.150\.100:80/.test(document.querySelector(".ti.running pre.out")?.textContent || ""),
    null, { timeout: 6000 },
  );
  await page.screenshot({ path: join(OUT, "session-watch.png") });
  await page.locator("#term-in-node01").press("Control+c");
  await page.waitForFunction(() => !document.querySelector(".ti.running"));
  const text = await termText(page, "node01");
  assert.doesNotMatch(text, /Every 1\.0s/, "curses' endwin leaves nothing of watch's screen");
  await page.waitForFunction(() => location.hash.includes("&i=node01"));
  assert.deepEqual(problems, []);
});

test("a ping left running for 5 minutes: the link replays it, the timeline lists a window, commands stay quick", async () => {
  const { page, problems } = await newPage(browser);
  const t0 = Date.now();
  await openLab(page, server.url, "#s=seed&c=client~ping%20192.168.150.12&w=300000000&i=client");
  const open = Date.now() - t0;
  const n = Number((await page.locator(".tl-card h2 .count").textContent()).match(/\d+/)[0]);
  assert.ok(n > 3000, `${n} events`);
  assert.ok(await page.locator("ol.events button.ev").count() <= 1200);
  assert.ok(await page.locator("ol.events li.more").count() >= 1);
  const t1 = Date.now();
  await run(page, "node01", "ipvsadm -ln");
  const cmd = Date.now() - t1;
  console.log(`${n} events: link opened in ${open} ms, a command in ${cmd} ms`);
  // Loose: measured 0.9 s to open and 0.3-0.5 s per command here (0.9 s per
  // command before the timeline listed a window).
  assert.ok(cmd < 5000, `a command took ${cmd} ms`);
  assert.match(await termText(page, "client"), /\^C\n--- 192\.168\.150\.12 ping statistics ---\n30\d packets transmitted/);
  assert.deepEqual(problems, []);
});
