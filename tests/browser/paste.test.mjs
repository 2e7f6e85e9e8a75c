// Pasting a block that names several hosts or contains prose asks before
// running it in this terminal; plain commands run at once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { startServer, launch, newPage, openLab, OUT } from "./lib.mjs";

let server, browser;
before(async () => { server = await startServer(); browser = await launch(); });
after(async () => { await browser?.close(); server?.stop(); });

async function paste(page, host, text) {
  await page.click(`button[data-tab="${host}"]`);
  await page.locator(`#term-in-${host}`).focus();
  await page.evaluate(([host, text]) => {
    const dt = new DataTransfer();
    dt.setData("text/plain", text);
    document.querySelector(`#term-in-${host}`).dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
  }, [host, text]);
}

const BLOG = "在 node01 上安装 ipvsadm 并配置规则：\nyum install ipvsadm -y\nipvsadm -A -t 192.168.150.100:80 -s rr\nipvsadm -a -t 192.168.150.100:80 -r 192.168.150.12 -g\n";

test("the tutorial pasted from the blog into node03 asks first; Cancel runs nothing, Run here runs it", async () => {
  const { page, problems } = await newPage(browser);
  await openLab(page, server.url, "#s=bare");
  await paste(page, "node03", BLOG);
  const ask = page.locator(".paste-ask");
  await ask.waitFor();
  const text = await ask.textContent();
  assert.match(text, /node01/);
  assert.match(text, /在 node01 上安装/);
  assert.match(text, /Run all 4 lines here on node03\?/);
  assert.equal(await page.locator(".term .ti").count(), 0, "nothing ran yet");
  await page.screenshot({ path: join(OUT, "paste-ask.png") });
  await page.click(".paste-ask .paste-cancel");
  assert.equal(await ask.count(), 0);
  assert.equal(await page.locator(".term .ti").count(), 0, "Cancel ran nothing");
  await paste(page, "node03", BLOG);
  await page.click(".paste-ask .paste-run");
  await page.waitForFunction(() => document.querySelectorAll("#app .term .ti").length >= 4);
  const outs = await page.$$eval(".term .ti", (t) => t.map((x) => x.textContent));
  assert.match(outs[0], /command not found/);
  assert.match(outs[3], /ipvsadm -a -t 192\.168\.150\.100:80/);
  // Plain commands, or lines that say their host, run at once.
  await paste(page, "node02", "ip addr show lo\nnode01# ipvsadm -Ln\n");
  await page.waitForFunction(() => document.querySelectorAll("#app .term .ti").length >= 1);
  assert.equal(await page.locator(".paste-ask").count(), 0);
  assert.deepEqual(problems, []);
});
