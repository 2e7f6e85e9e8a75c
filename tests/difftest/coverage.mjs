// Option coverage of the differential tester: for each tool, the share of
// the real tool's options (from its usage text) that the generator
// produces in seeds 1..N (default 2000 LAN, 500 IPVS).
//
//   node coverage.mjs [N_LAN [N_IPVS]]
//
// The option lists are the keywords of the usage texts: iproute2 6.1's
// `ip addr|route|neigh|link help` (this machine's iproute2, the one the
// LAN harness runs) without the nested sub-grammars (encap, seg6, vf, xdp
// and the link TYPE list), ipvsadm 1.31's --help
// (tests/vm/expected/39-help-version.txt), and the curl options the lab
// models (engine/src/tools/curl/mod.rs). A keyword counts as produced when
// a generated command of that tool carries it as a word; for ipvsadm a
// short and a long form of one option count as one. Not gated: a report.

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generate, generateIpvs } from "./gen.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));

/// Keywords of an iproute2 usage text: lowercase words, minus the
/// sub-grammars named above and the placeholders.
function ipKeywords(obj) {
  // `ip OBJ help` prints its usage on stderr and exits 255.
  const r = spawnSync("ip", [obj, "help"], { encoding: "utf8" });
  let text = r.stdout + r.stderr;
  const cut = ["ENCAPTYPE", "ENCAPHDR", "SEG6", "SEGMODE", "ACTION", "OPTION :=", "FLAVOR", "IOAM6", "XFRMINFO"];
  // The link TYPE list of `ip addr`/`ip link` (device kinds), and "Usage:".
  text = text.replace(/TYPE := \{ amt[\s\S]*?\}/, "").replace(/Usage:/g, "");
  text = text
    .split("\n")
    .filter((l) => !cut.some((c) => l.includes(c)))
    .join("\n");
  if (obj === "link") text = text.replace(/\[ vf NUM[\s\S]*?port_guid EUI64 \] \]/, "").replace(/\{ xdp[\s\S]*?pinned FILE \} \]/, "");
  const words = new Set(text.match(/(?<![A-Za-z_])[a-z][a-z0-9_-]*(?:\.[0-9])?/g) ?? []);
  for (const w of ["ip", "help", "usage", "add", "address", "neigh", "route", "link"]) if (w !== obj) words.delete(w);
  words.delete("usage");
  words.delete("ip");
  return [...words];
}

function ipvsadmOptions() {
  const help = readFileSync(join(HERE, "..", "vm", "expected", "39-help-version.txt"), "utf8");
  const opts = [];
  for (const l of help.split("\n")) {
    const m = /^  (--[a-z0-9-]+)(?:\|(-[a-zA-Z]))?(?:\s+(-[a-zA-Z](?:\|-[a-zA-Z])?))?/.exec(l);
    if (m) opts.push([m[1], ...(m[2] ? [m[2]] : []), ...(m[3] ? m[3].split("|") : [])]);
  }
  return opts;
}

const CURL = ["-s", "-S", "-f", "-v", "-i", "-I", "-o", "-O", "-w", "-m", "--connect-timeout", "--max-filesize", "--local-port", "--interface", "-A", "-H", "-h", "--no-progress-meter", "-L", "-k", "-4", "-N", "-g"];

function words(line) {
  return line.split(/[\s;|]+/).filter(Boolean);
}

function main() {
  const nLan = Number(process.argv[2] ?? 2000);
  const nIpvs = Number(process.argv[3] ?? 500);
  const cmds = [];
  for (let s = 1; s <= nLan; s++) cmds.push(...generate(s).split("\n"));
  for (let s = 1; s <= nIpvs; s++) cmds.push(...generateIpvs(s).split("\n"));
  const lines = cmds.filter((l) => !l.startsWith("#")).map((l) => l.replace(/^[a-z0-9]+# /, ""));
  // Each command of a line (`a; b`) on its own.
  const parts = lines.flatMap((l) => l.split(/;|&&|\|\||\bdo\b|\bdone\b/).map((p) => p.trim()));
  const report = [];
  for (const obj of ["addr", "route", "neigh", "link"]) {
    const kw = ipKeywords(obj);
    const abbrev = { addr: /^ip( -\S+)* (a|addr|address)\b/, route: /^ip( -\S+)* (r|route)\b/, neigh: /^ip( -\S+)* (n|neigh|neighbour)\b/, link: /^ip( -\S+)* (l|link)\b/ }[obj];
    const seen = new Set(parts.filter((p) => abbrev.test(p)).flatMap(words));
    const hit = kw.filter((k) => seen.has(k));
    report.push([`ip ${obj}`, hit.length, kw.length, kw.filter((k) => !seen.has(k))]);
  }
  const ipvsWords = new Set(parts.filter((p) => p.startsWith("ipvsadm")).flatMap(words).flatMap((w) => (/^-[a-zA-Z]{2,}$/.test(w) ? [...w.slice(1)].map((c) => `-${c}`) : [w])));
  const opts = ipvsadmOptions();
  const hitI = opts.filter((forms) => forms.some((f) => ipvsWords.has(f)));
  report.push(["ipvsadm", hitI.length, opts.length, opts.filter((o) => !hitI.includes(o)).map((o) => o.join("|"))]);
  const curlWords = new Set(parts.filter((p) => p.startsWith("curl")).flatMap(words).flatMap((w) => (/^-[a-zA-Z]{2,}$/.test(w) ? [...w.slice(1)].map((c) => `-${c}`) : [w])));
  const hitC = CURL.filter((o) => curlWords.has(o));
  report.push(["curl (the lab's)", hitC.length, CURL.length, CURL.filter((o) => !curlWords.has(o))]);
  console.log(`option coverage over ${nLan} LAN and ${nIpvs} IPVS seeds:`);
  for (const [tool, h, n, missing] of report) {
    console.log(`  ${tool.padEnd(18)} ${String(h).padStart(3)}/${String(n).padEnd(3)} ${((100 * h) / n).toFixed(0).padStart(3)} %   not produced: ${missing.join(" ")}`);
  }
}

main();
