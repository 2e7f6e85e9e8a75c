// Shared helpers: start `lvslab serve` on a free loopback port, launch
// Debian's chromium, collect console errors, drive the lab UI.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const OUT = process.env.LVSLAB_TEST_OUT || join(process.cwd(), "..", "..", "target", "test-output");
mkdirSync(OUT, { recursive: true });

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Start the served binary; resolves once it prints its URL. */
export async function startServer() {
  const bin = process.env.LVSLAB_BIN;
  if (!bin) throw new Error("LVSLAB_BIN must point at the lvslab binary");
  const port = await freePort();
  const proc = spawn(bin, ["serve", "--listen", `127.0.0.1:${port}`], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lvslab serve did not start: ${log}`)), 15000);
    proc.stdout.on("data", (d) => {
      log += d;
      if (log.includes("http://")) { clearTimeout(timer); resolve(); }
    });
    proc.stderr.on("data", (d) => { log += d; });
    proc.on("exit", (code) => { clearTimeout(timer); reject(new Error(`lvslab serve exited ${code}: ${log}`)); });
  });
  return { url: `http://127.0.0.1:${port}/`, port, stop: () => proc.kill("SIGTERM") };
}

export async function launch() {
  // playwright gives every launch a fresh temporary profile itself.
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
}

/** A page that records console errors/warnings and page errors. */
export async function newPage(browser, viewport = { width: 1280, height: 800 }, opts = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads: true, locale: "en-US", ...opts });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
  return { page, problems, context };
}

/** Open the app (optionally at a hash) and wait for its first render. */
export async function openLab(page, url, hash = "") {
  await page.goto(url + hash);
  await page.waitForSelector("body[data-ready]", { timeout: 15000 });
}

/** Type one command line into a host's terminal and press Enter. */
export async function run(page, host, line) {
  await page.click(`button[data-tab="${host}"]`);
  const input = page.locator(`#term-in-${host}`);
  await input.fill(line);
  await input.press("Enter");
  // The command ran when its line shows in the scrollback.
  await page.waitForFunction(
    ([h, l]) => [...document.querySelectorAll(".term .cmdline")].some((e) => e.textContent === l),
    [host, line],
    { timeout: 10000 },
  );
}

/** Leave any text field so the global shortcuts apply. */
export async function blur(page) {
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
}

/** Index (0-based) of the selected timeline event, or null. */
export async function selected(page) {
  return page.evaluate(() => {
    const b = document.querySelector("ol.events button.sel");
    return b ? Number(b.dataset.i) : null;
  });
}
