// Exercises at 1280×800: after Start, the brief (story and goal) and the
// Check result are on the first screen, not below the fold or inside a
// scrolled-away box.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startServer, launch, newPage, openLab, run, OUT } from "./lib.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); server?.stop(); });

/** Is all of `sel` visible without scrolling: inside the viewport and
 *  inside every ancestor that clips (overflow other than visible)? */
function inView(page, sel) {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    if (!el) return `${sel}: missing`;
    const r = el.getBoundingClientRect();
    if (r.height === 0) return `${sel}: empty`;
    const bad = [];
    if (r.top < 0 || r.bottom > innerHeight || r.left < 0 || r.right > innerWidth) {
      bad.push(`viewport ${innerWidth}×${innerHeight}: ${Math.round(r.top)}..${Math.round(r.bottom)}`);
    }
    for (let a = el.parentElement; a; a = a.parentElement) {
      const cs = getComputedStyle(a);
      if (cs.overflowY === "visible" && cs.overflowX === "visible") continue;
      const q = a.getBoundingClientRect();
      if (r.top < q.top - 1 || r.bottom > q.bottom + 1) {
        bad.push(`clipped by ${a.tagName}.${a.className}: ${Math.round(r.top)}..${Math.round(r.bottom)} in ${Math.round(q.top)}..${Math.round(q.bottom)}`);
      }
    }
    return bad.length ? `${sel}: ${bad.join("; ")}` : true;
  }, sel);
}

for (const lang of ["en", "zh"]) {
  test(`after Start the brief and the Check result are in view at 1280×800 (${lang})`, async () => {
    const { page, problems } = await newPage(browser, { width: 1280, height: 800 });
    await openLab(page, server.url, `#s=seed&lang=${lang}`);
    await page.click("#tab-ex");
    await page.locator(".ex-list button[data-ex]").first().click();
    await page.locator(".ex-card").waitFor();
    assert.equal(await page.evaluate(() => scrollY), 0, "the page itself did not scroll");
    assert.equal(await inView(page, ".ex-card h3"), true);
    assert.equal(await inView(page, ".ex-card .goal"), true);
    await page.click(".ex-card .row .btn.primary");
    await page.locator(".ex-card .verdict").waitFor();
    assert.equal(await inView(page, ".ex-card .verdict"), true);
    assert.equal(await inView(page, ".ex-card .goal"), true);
    await page.screenshot({ path: join(OUT, `exercise-start-${lang}.png`) });
    assert.deepEqual(problems, []);
  });
}

test("every exercise: brief and result in view at 1280×800, and not solved before the student acts", async () => {
  const { page, problems } = await newPage(browser, { width: 1280, height: 800 });
  for (const id of ["vip", "arp", "mask", "typo", "web", "synrecv", "mask24"]) {
    // Opened over the fully configured lab: the exercise brings its own.
    await openLab(page, server.url, `#s=seed&x=${id}&lang=en`);
    await page.locator(`.ex-card[data-exercise=${id}]`).waitFor();
    await page.click(".ex-card .row .btn.primary");
    await page.locator(".ex-card .verdict").waitFor();
    assert.match(await page.locator(".ex-card .verdict").getAttribute("class"), /\bno\b/, `${id} starts unsolved`);
    await page.screenshot({ path: join(OUT, `exercise-${id}.png`) });
    for (const sel of [".ex-card h3", ".ex-card .goal", ".ex-card .verdict"]) {
      const v = await inView(page, sel);
      assert.equal(v, true, `${id}: ${v}`);
    }
  }
  assert.deepEqual(problems, []);
});

test("the vip exercise: eth0:8 was taken down after the tutorial's failed ifconfig; a form ifconfig understands solves it", async () => {
  const { page, problems } = await newPage(browser, { width: 1280, height: 800 });
  await openLab(page, server.url, "#s=seed&x=vip&lang=en");
  await page.locator(".ex-card[data-exercise=vip]").waitFor();
  await run(page, "node01", "ifconfig eth0:8");
  // As net-tools shows a label with no address left: eth0's flags, no inet.
  assert.doesNotMatch(await page.locator(".term .ti pre.out").last().textContent(), /inet /);
  await run(page, "node01", "ifconfig eth0:8 192.168.150.100/24");
  await page.click("#tab-ex");
  await page.click(".ex-card .row .btn.primary");
  await page.locator(".ex-card .verdict.ok").waitFor();
  assert.deepEqual(problems, []);
});
