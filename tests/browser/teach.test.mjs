// Issue 12's page: a terminal a student can read, keys that work wherever
// focus is, the presenter layout for a 1280×800 projector, compare mode of
// two live labs, links that carry layout, tab, language and the compare
// pair, an exercise opened from a link. Each test writes screenshots.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startServer, launch, newPage, openLab, run, OUT } from "./lib.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); server?.stop(); });

/** The terminal's size in characters, measured in the page: the width of
 *  the scrollback's text box over the width of one character of its font,
 *  its height over the line height. */
function termSize(page) {
  return page.evaluate(() => {
    const out = document.querySelector(".term-out");
    const cs = getComputedStyle(out);
    const probe = document.createElement("span");
    probe.textContent = "M".repeat(100);
    probe.style.whiteSpace = "pre";
    out.appendChild(probe);
    const cw = probe.getBoundingClientRect().width / 100;
    probe.remove();
    const lh = parseFloat(getComputedStyle(document.querySelector(".term")).lineHeight);
    const w = out.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
    const h = out.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
    const r = document.querySelector(".term").getBoundingClientRect();
    return {
      cols: Math.floor(w / cw), lines: Math.floor(h / lh), fontPx: parseFloat(getComputedStyle(document.querySelector(".term")).fontSize),
      top: r.top, bottom: r.bottom, right: r.right, vh: innerHeight, vw: innerWidth,
    };
  });
}

/** Lines of each output block as printed vs as laid out (wrapping adds lines). */
function wrapped(page) {
  return page.evaluate(() => {
    const lh = parseFloat(getComputedStyle(document.querySelector(".term")).lineHeight);
    return [...document.querySelectorAll(".term pre.out")].map((p) => ({
      printed: p.textContent.replace(/\n$/, "").split("\n").length,
      shown: Math.round(p.getBoundingClientRect().height / lh),
      text: p.textContent.slice(0, 40),
    })).filter((x) => x.shown !== x.printed);
  });
}

for (const [w, h] of [[1280, 800], [1920, 1080]]) {
  test(`terminal at ${w}×${h}: at least 80 columns and 24 lines, tool output scrolls sideways instead of wrapping`, async () => {
    const { page, problems } = await newPage(browser, { width: w, height: h });
    await openLab(page, server.url, "#s=seed");
    await run(page, "client", "curl -s http://192.168.150.100/");
    await run(page, "node02", "netstat -natp");
    await run(page, "node02", "ifconfig");
    await run(page, "node01", "ipvsadm -ln");
    await run(page, "node01", "ipvsadm -lnc");
    const size = await termSize(page);
    console.log(`${w}×${h}: terminal ${size.cols} columns × ${size.lines} lines at ${size.fontPx}px`);
    assert.ok(size.cols >= 80, `≥ 80 columns (${size.cols})`);
    assert.ok(size.lines >= 24, `≥ 24 lines (${size.lines})`);
    assert.ok(size.bottom <= size.vh && size.right <= size.vw, `the terminal is on the screen (${JSON.stringify(size)})`);
    assert.deepEqual(await wrapped(page), [], "no output block is wrapped");
    // The whole page does not scroll sideways; the scrollback does.
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth));
    await page.screenshot({ path: join(OUT, `teach-terminal-${w}x${h}.png`) });
    // The state tables: their own view at the card's full width, whole headers.
    await page.click("#view-tables");
    const tables = await page.evaluate(() => {
      const box = document.querySelector(".tables").getBoundingClientRect();
      const clipped = [...document.querySelectorAll(".ltable th")].filter((th) => th.scrollWidth > th.clientWidth + 1).map((th) => th.textContent);
      return { width: box.width, card: document.querySelector(".hosts-card").getBoundingClientRect().width, clipped, ipvs: !!document.querySelector(".ltable.ipvs") };
    });
    assert.ok(tables.width >= tables.card - 40, `tables at the card's width (${tables.width} of ${tables.card})`);
    assert.deepEqual(tables.clipped, [], "no clipped header");
    assert.ok(tables.ipvs, "node01's IPVS table");
    await page.screenshot({ path: join(OUT, `teach-tables-${w}x${h}.png`) });
    // Maximise: the host card fills the page; Esc restores it.
    await page.click("#view-term");
    await page.click("#maxi");
    const big = await termSize(page);
    assert.ok(big.lines > size.lines && big.cols >= size.cols, `maximised is bigger (${big.cols}×${big.lines})`);
    await page.screenshot({ path: join(OUT, `teach-maximised-${w}x${h}.png`) });
    await page.keyboard.press("Escape");
    assert.equal(await page.getAttribute("#maxi", "aria-pressed"), "false");
    assert.deepEqual(problems, []);
  });
}

const step = (page) => page.evaluate(() => {
  const v = document.querySelector("ol.events").dataset.step;
  return v === undefined ? null : Number(v);
});

test("keys after a command: Space and ←/→ from the empty prompt, Alt+←/→ while typing, the banner plays", async () => {
  const { page, problems } = await newPage(browser);
  await openLab(page, server.url);
  await run(page, "client", "ping -c 1 192.168.150.12");
  // Focus is still in the terminal, whose line is empty.
  assert.equal(await page.evaluate(() => document.activeElement.id), "term-in-client");
  assert.equal(await step(page), 0);
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("ArrowRight");
  assert.equal(await step(page), 2);
  await page.keyboard.press("ArrowLeft");
  assert.equal(await step(page), 1);
  // Space plays (and types nothing), Space again pauses.
  await page.keyboard.press(" ");
  assert.equal(await page.inputValue("#term-in-client"), "");
  assert.equal(await page.evaluate(() => document.querySelector("#play").classList.contains("on")), true);
  await page.waitForTimeout(1200);
  await page.keyboard.press(" ");
  assert.equal(await page.evaluate(() => document.querySelector("#play").classList.contains("on")), false);
  const after = await step(page);
  assert.ok(after > 1, `playing moved on (${after})`);
  // With something typed, ← and → edit the line; Alt+← / Alt+→ step.
  await page.keyboard.type("arp -n");
  await page.keyboard.press("ArrowLeft");
  assert.equal(await step(page), after);
  await page.keyboard.press("Alt+ArrowLeft");
  assert.equal(await step(page), after - 1);
  await page.keyboard.press("Alt+ArrowRight");
  assert.equal(await step(page), after);
  assert.equal(await page.inputValue("#term-in-client"), "arp -n");
  // The banner is a Play button; afterwards it has the keyboard.
  await page.click("#banner");
  assert.equal(await page.evaluate(() => document.querySelector("#play").classList.contains("on")), true);
  await page.keyboard.press(" ");
  assert.equal(await page.evaluate(() => document.querySelector("#play").classList.contains("on")), false);
  // An event link in the scrollback selects, and gives the keys to the banner.
  await page.click(".term .evlink");
  assert.equal(await page.evaluate(() => document.activeElement.id), "banner");
  await page.keyboard.press("ArrowRight");
  assert.equal(await step(page), 1);
  await page.screenshot({ path: join(OUT, "teach-keys.png") });
  assert.deepEqual(problems, []);
});

test("presenter layout at 1280×800: topology labels ≥ 24 px, the event and an 80×10 terminal at ≥ 20 px on one screen", async () => {
  const { page, problems } = await newPage(browser, { width: 1280, height: 800 });
  await openLab(page, server.url, "#s=pitfall-lo-mask-24&l=presenter");
  assert.equal(await page.evaluate(() => document.body.classList.contains("big")), true);
  await run(page, "node02", "ip route show table local");
  await run(page, "client", "curl -s -m 2 http://192.168.150.100/");
  const size = await termSize(page);
  console.log(`presenter: terminal ${size.cols} columns × ${size.lines} lines at ${size.fontPx}px, bottom ${size.bottom}`);
  assert.ok(size.fontPx >= 20, `terminal at ≥ 20 px (${size.fontPx})`);
  assert.ok(size.cols >= 80 && size.lines >= 10, `≥ 80×10 (${size.cols}×${size.lines})`);
  assert.ok(size.bottom <= 800, `the terminal is on the first screen (bottom ${size.bottom})`);
  const shown = await page.evaluate(() => {
    const px = (el) => el.getScreenCTM().a * parseFloat(getComputedStyle(el).fontSize);
    const texts = [...document.querySelectorAll("svg.topo .h-name, svg.topo .h-line, svg.topo .sw-label")];
    const b = document.querySelector("#banner").getBoundingClientRect();
    const svg = document.querySelector("svg.topo").getBoundingClientRect();
    return { min: Math.min(...texts.map(px)), n: texts.length, banner: [b.top, b.bottom], svg: [svg.top, svg.bottom],
      bannerText: document.querySelector("#banner").textContent };
  });
  assert.ok(shown.n >= 12, `host names and address lines (${shown.n})`);
  assert.ok(shown.min >= 24, `every topology label ≥ 24 px (${shown.min.toFixed(1)})`);
  assert.ok(shown.svg[1] <= 800 && shown.banner[1] <= 800, `topology and banner on screen ${JSON.stringify(shown)}`);
  assert.match(shown.bannerText, /#\d+/);
  // Every line of a host's card stays inside it (the director's IPVS
  // summary goes on two lines at this size).
  const overflow = await page.$$eval("svg.topo g.host", (gs) => gs.flatMap((g) => {
    const box = g.querySelector("rect").getBoundingClientRect();
    return [...g.querySelectorAll("text")].filter((t) => t.getBoundingClientRect().right > box.right + 1).map((t) => `${g.dataset.host}: ${t.textContent}`);
  }));
  assert.deepEqual(overflow, []);
  // Whatever is selected, its explanation is in the banner.
  await page.keyboard.press("End");
  await page.waitForTimeout(300);
  await page.screenshot({ path: join(OUT, "teach-presenter-1280x800.png") });
  assert.deepEqual(problems, []);
});

test("compare mode: seed and pitfall-lo-mask-24, one command in both, the first difference marked and explained", async () => {
  const { page, problems } = await newPage(browser, { width: 1280, height: 800 });
  await openLab(page, server.url, "#s=seed");
  await page.click("#compare-open");
  await page.selectOption("#cmp-left", "seed");
  await page.selectOption("#cmp-right", "pitfall-lo-mask-24");
  await page.selectOption("#cmp-host", "client");
  await page.fill("#cmp-in", "curl -s -m 2 http://192.168.150.100/");
  await page.press("#cmp-in", "Enter");
  await page.waitForSelector("#cmp-why");
  const r = await page.evaluate(() => {
    const col = (c) => {
      const el = document.querySelector(`.cmp-col.${c}`);
      const d = el.querySelector("li.diverge");
      return { out: el.querySelector(".cmp-term pre.out").textContent, i: d && Number(d.dataset.i), text: d && d.textContent, n: el.querySelectorAll("li").length };
    };
    return { why: document.querySelector("#cmp-why").textContent, host: document.querySelector("#cmp-why").dataset.host, left: col("left"), right: col("right") };
  });
  console.log(r.why);
  // The same command ran in both: the seed lab got its page, the other did not.
  assert.match(r.left.out, /from 192\.168\.150\.1[23]/);
  assert.doesNotMatch(r.right.out, /from 192\.168\.150/);
  // The same step is marked on both sides, and it is on node02.
  assert.ok(r.left.i !== null && r.right.i !== null, JSON.stringify(r));
  assert.equal(r.host, "node02");
  assert.notEqual(r.left.text, r.right.text);
  assert.match(r.left.text, /node02/);
  // The explanation names both labs and the doctor's finding about node02's mask.
  assert.match(r.why, /seed/);
  assert.match(r.why, /pitfall-lo-mask-24/);
  assert.match(r.why, /Why, in pitfall-lo-mask-24: .*\/24/);
  await page.waitForTimeout(200);
  // Each column's marked step is scrolled into its list's view.
  const inView = await page.evaluate(() => [...document.querySelectorAll(".cmp-events")].map((ol) => {
    const o = ol.getBoundingClientRect(), d = ol.querySelector(".diverge").getBoundingClientRect();
    return d.top >= o.top && d.bottom <= o.bottom;
  }));
  assert.deepEqual(inView, [true, true]);
  await page.screenshot({ path: join(OUT, "teach-compare.png") });
  // The link carries the pair and the command: a fresh page shows the same.
  const hash = await page.evaluate(() => location.hash);
  assert.match(hash, /cmp=seed~pitfall-lo-mask-24/);
  const second = await newPage(browser, { width: 1280, height: 800 });
  await openLab(second.page, server.url, hash);
  await second.page.waitForSelector("#cmp-why");
  assert.equal(await second.page.textContent("#cmp-why"), r.why);
  assert.deepEqual(problems, []);
  assert.deepEqual(second.problems, []);
});

test("links carry the layout, the open tab and the language; an exercise link opens Exercises", async () => {
  const { page, problems } = await newPage(browser, { width: 1280, height: 800 });
  await openLab(page, server.url, "#s=seed&l=presenter&t=tour&lang=zh");
  assert.equal(await page.evaluate(() => document.body.classList.contains("big")), true);
  assert.equal(await page.getAttribute("#tab-tour", "aria-selected"), "true");
  assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
  const ex = await newPage(browser, { width: 1280, height: 800 });
  await openLab(ex.page, server.url, "#s=bare&x=mask&lang=en");
  assert.equal(await ex.page.getAttribute("#tab-ex", "aria-selected"), "true");
  const card = ex.page.locator(".ex-card[data-exercise=mask]");
  await card.waitFor();
  assert.match(await card.textContent(), /lost its gateway/);
  // The exercise's setup ran: node02 has the VIP with the wrong mask.
  await run(ex.page, "node02", "ip addr show lo");
  assert.match(await ex.page.locator(".term .ti pre.out").last().textContent(), /192\.168\.150\.100\/24/);
  await ex.page.screenshot({ path: join(OUT, "teach-exercise-link.png") });
  assert.deepEqual(problems, []);
  assert.deepEqual(ex.problems, []);
});

test("mistakes on the diagram: the typo, a /24 on lo, IPVS on a real server; the director's IPVS summary", async () => {
  const { page, problems } = await newPage(browser);
  const notes = (host) => page.$$eval(`svg.topo g.host[data-host="${host}"] .h-note`, (n) => n.map((x) => `${x.classList[1]} ${x.textContent}`));
  await openLab(page, server.url, "#s=seed");
  assert.deepEqual(await notes("node01"), ["ipvs TCP 192.168.150.100:80 rr → .12 .13"]);
  assert.deepEqual(await notes("node02"), [], "the configured lab has no mistakes");
  // The tutorial's ipvsadm pasted into node03's terminal.
  await run(page, "node03", "ipvsadm -A -t 192.168.150.100:80 -s rr");
  assert.ok((await notes("node03")).some((t) => /^bad ⚠ IPVS on a real server/.test(t)), (await notes("node03")).join());
  await page.screenshot({ path: join(OUT, "teach-badges-ipvs-on-rs.png") });
  await openLab(page, server.url, "#s=pitfall-typo-192-178");
  assert.ok((await notes("node02")).some((t) => /⚠ VIP typo: .*192\.178\.150\.100/.test(t)), (await notes("node02")).join());
  await page.screenshot({ path: join(OUT, "teach-badges-typo.png") });
  await openLab(page, server.url, "#s=pitfall-lo-mask-24");
  assert.ok((await notes("node03")).some((t) => /⚠ VIP not \/32 on lo/.test(t)), (await notes("node03")).join());
  await page.click("#lang");
  assert.ok((await notes("node03")).some((t) => /lo 上的 VIP 不是 \/32/.test(t)), (await notes("node03")).join());
  await page.screenshot({ path: join(OUT, "teach-badges-mask24-zh.png") });
  assert.deepEqual(problems, []);
});
