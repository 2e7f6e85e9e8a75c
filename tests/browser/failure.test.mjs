// Failures that name their cause, where they happen: after a curl or ping
// whose packets died, the terminal says under it which host dropped what
// and why (the engine's summary from its trace and its doctor), and its
// button selects that event in the timeline.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startServer, launch, newPage, openLab, run, OUT } from "./lib.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); server?.stop(); });

const CURL = "curl -m 2 http://192.168.150.100/";

/** The last scrollback item of the visible terminal. */
const lastItem = (page) => page.locator(".term .ti").last();

/** The selected event: its index (the timeline's data-step), host, kind. */
async function selectedEvent(page) {
  return page.evaluate(() => {
    const step = document.querySelector("ol.events").dataset.step;
    const b = document.querySelector("ol.events button.sel");
    return {
      step: step === undefined ? null : Number(step),
      i: b ? Number(b.dataset.i) : null,
      host: b?.querySelector(".ev-h")?.textContent,
      cls: b?.className ?? "",
      text: b?.textContent ?? "",
    };
  });
}

test("the typo lab: curl's summary names node02 and 192.178.150.100, its button selects the drop", async () => {
  const { page, problems } = await newPage(browser);
  await openLab(page, server.url, "#s=pitfall-typo-192-178");
  // Round robin: the first connection goes to node03, the second to node02;
  // both real servers carry the typo.
  await run(page, "client", CURL);
  assert.match(await lastItem(page).locator(".fail-sum").textContent(), /node03 dropped/);
  await run(page, "client", CURL);
  const item = lastItem(page);
  assert.match(await item.locator("pre.out").textContent(), /timed out/);
  const sum = await item.locator(".fail-sum").textContent();
  assert.match(sum, /node02 dropped the SYN/);
  assert.match(sum, /does not own 192\.168\.150\.100/);
  assert.match(sum, /192\.178\.150\.100 on lo:2/);
  assert.match(sum, /ip_forward 0/);
  assert.match(await item.locator(".fail-fix").textContent(), /ifconfig lo:2 192\.168\.150\.100 netmask 255\.255\.255\.255/);
  // The summary wraps inside the terminal's visible width (the output
  // beside it scrolls sideways, the summary does not).
  const fits = await page.evaluate(() => {
    const out = document.querySelector(".term-out").getBoundingClientRect();
    return [...document.querySelectorAll(".fail-sum, .fail-fix")].map((e) => {
      const r = e.getBoundingClientRect();
      return r.left >= out.left - 1 && r.right <= out.right + 1;
    });
  });
  assert.deepEqual(fits, [true, true, true, true]);
  // The command selected its first event; the summary's button selects the drop.
  const before = await selectedEvent(page);
  await item.locator("button.fail-jump").click();
  const ev = await selectedEvent(page);
  assert.notEqual(ev.step, before.step);
  assert.equal(ev.step, ev.i);
  assert.equal(ev.host, "node02");
  assert.match(ev.cls, /k-Drop/);
  // The drop's own explanation says what was wrong with the address first.
  const explain = await page.locator(".inspector .explain").textContent();
  assert.ok(explain.indexOf("192.178.150.100 on lo:2") >= 0, explain);
  assert.ok(explain.indexOf("192.178.150.100 on lo:2") < explain.indexOf("ip_forward is 0"), explain);
  await page.waitForTimeout(800);
  await page.screenshot({ path: join(OUT, "failure-typo.png") });
  // 中文: the same summary in Chinese.
  await page.click("#lang");
  const zh = await lastItem(page).locator(".fail-sum").textContent();
  assert.match(zh, /node02 丢弃了/);
  assert.match(zh, /192\.178\.150\.100/);
  assert.match(zh, /笔误/);
  assert.match(await lastItem(page).locator("button.fail-jump").textContent(), /第 \d+ 步/);
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(OUT, "failure-typo-zh.png") });
  assert.deepEqual(problems, []);
});

test("a ping that gets no answer: the /24 on lo sent node02's reply to itself", async () => {
  const { page, problems } = await newPage(browser);
  await openLab(page, server.url, "#s=pitfall-lo-mask-24");
  // -W 1: ping's 10 s linger would keep it running in the terminal.
  await run(page, "client", "ping -c 1 -W 1 192.168.150.12");
  const item = lastItem(page);
  assert.match(await item.locator("pre.out").textContent(), /0 received/);
  const sum = await item.locator(".fail-sum").textContent();
  assert.match(sum, /node02 never sent its reply to 192\.168\.150\.1/);
  assert.match(sum, /local 192\.168\.150\.0\/24 dev lo/);
  assert.match(sum, /192\.168\.150\.100\/24 on lo:2/);
  assert.match(await item.locator(".fail-fix").textContent(), /netmask 255\.255\.255\.255/);
  await item.locator("button.fail-jump").click();
  const ev = await selectedEvent(page);
  assert.equal(ev.host, "node02");
  assert.match(ev.cls, /k-RouteLookup/);
  await page.waitForTimeout(800);
  await page.screenshot({ path: join(OUT, "failure-ping-lo-mask.png") });
  // An address nobody has: nobody answered the ARP request.
  await openLab(page, server.url, "#s=bare");
  await run(page, "client", "ping -c 1 -W 1 192.168.150.50");
  assert.match(await lastItem(page).locator(".fail-sum").textContent(), /no host on this LAN has 192\.168\.150\.50/);
  assert.deepEqual(problems, []);
});

test("a command that worked says nothing", async () => {
  const { page, problems } = await newPage(browser);
  await openLab(page, server.url, "#s=seed");
  await run(page, "client", CURL);
  await run(page, "client", "ping -c 1 192.168.150.100");
  assert.equal(await page.locator(".fail-sum").count(), 0);
  assert.deepEqual(problems, []);
});

test("the tutorial's plain curl in the typo lab: while it still retries, the summary already says why", async () => {
  const { page, problems } = await newPage(browser);
  await openLab(page, server.url, "#s=pitfall-typo-192-178");
  await run(page, "client", "curl http://192.168.150.100/");
  await page.waitForSelector(".ti.running .fail-sum");
  const sum = await page.locator(".ti.running .fail-sum").textContent();
  assert.match(sum, /^✗ No answer yet, because:/);
  assert.match(sum, /node03 dropped the SYN/);
  assert.match(sum, /192\.178\.150\.100 on lo:2/);
  await page.screenshot({ path: join(OUT, "failure-typo-running.png") });
  await page.locator("#term-in-client").press("Control+c");
  await page.waitForFunction(() => !document.querySelector(".ti.running"));
  assert.match(await lastItem(page).locator(".fail-sum").textContent(), /^✗ Why it failed:.*node03 dropped the SYN/);
  assert.deepEqual(problems, []);
});
