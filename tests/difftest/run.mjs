// The differential tester: generated lab scripts run on the real kernel (the
// conformance harness's namespaces, tests/conformance/realnet.sh) and in the
// engine (`lvslab sim --scenario bare --script`), both through
// tests/conformance/normalize, compared byte for byte.
//
//   node run.mjs --pinned              the seeds in seeds-lan.txt (CI)
//   node run.mjs --seeds 1000-1199     a range (a soak); appends to soak-log.txt
//   node run.mjs --script F.lab        one script
//   node run.mjs --ipvs 1-30           IPVS scripts, all in one VM boot
//                                      (tests/vm/run.sh); not shrunk: each
//                                      candidate would cost a boot
//   node run.mjs --ipvs-pinned --write DIR
//                                      write the seeds of seeds-ipvs.txt as
//                                      DIR/difftest-ipvs-N.lab (CI runs them
//                                      in the VM suite's one boot:
//                                      vm/check.sh --extra DIR RAW)
//   node run.mjs --ipvs-pinned --from-raw RAW
//                                      compare those seeds' raw VM
//                                      transcripts (RAW/difftest-ipvs-N.txt)
//                                      with the lab; no VM of its own
//   options: -j N (parallel real runs, default 4), --no-shrink,
//            --keep DIR (write each diverging script and its minimised form)
//
// Each divergence is shrunk by delta debugging over the script's lines
// (ddmin: drop chunks while the two sides still differ), then printed with
// its seed, the minimised script and the diff. A seed whose real runs differ
// from each other (the real side flapped: a timer raced a command) is
// reported apart as FLAPPING, never as agreement; the generator's job is
// not to produce those. A line whose lab output says "is not modelled" is
// counted apart: the lab said so rather than invent a tool's answer, and a
// script that differs where the lab said so is not compared further.
//
// Needs root (network namespaces) and LVSLAB_BIN. Exit status 0 when every
// script agrees, 1 when any diverged or flapped, 2 on a usage error.

import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, appendFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname, basename } from "node:path";
import { fileURLToPath } from "node:url";
import { generate, generateIpvs } from "./gen.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const CONF = join(HERE, "..", "conformance");
const VM = join(HERE, "..", "vm");

function usage(msg) {
  console.error(`${msg}\nusage: node run.mjs (--pinned | --seeds A-B | --script F.lab | --ipvs A-B | --ipvs-pinned (--write DIR | --from-raw DIR)) [-j N] [--no-shrink] [--keep DIR]`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { jobs: 4, shrink: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => argv[++i] ?? usage(`${a} needs a value`);
    if (a === "--pinned") o.pinned = true;
    else if (a === "--seeds") {
      const m = /^(\d+)-(\d+)$/.exec(val());
      if (!m || +m[1] > +m[2]) usage("--seeds takes A-B with A <= B");
      o.range = [+m[1], +m[2]];
    } else if (a === "--ipvs") {
      const m = /^(\d+)-(\d+)$/.exec(val());
      if (!m || +m[1] > +m[2]) usage("--ipvs takes A-B with A <= B");
      o.ipvs = [+m[1], +m[2]];
    } else if (a === "--ipvs-pinned") o.ipvsPinned = true;
    else if (a === "--write") o.write = val();
    else if (a === "--from-raw") o.fromRaw = val();
    else if (a === "--script") o.script = val();
    else if (a === "-j") {
      o.jobs = Number(val());
      if (!Number.isInteger(o.jobs) || o.jobs < 1 || o.jobs > 16) usage("-j takes 1..16");
    } else if (a === "--no-shrink") o.shrink = false;
    else if (a === "--keep") o.keep = val();
    else usage(`unknown argument ${a}`);
  }
  if ([o.pinned, o.range, o.script, o.ipvs, o.ipvsPinned].filter(Boolean).length !== 1) usage("give one of --pinned, --seeds, --script, --ipvs, --ipvs-pinned");
  if (o.ipvsPinned && !o.write === !o.fromRaw) usage("--ipvs-pinned takes one of --write DIR, --from-raw DIR");
  if (!o.ipvsPinned && (o.write || o.fromRaw)) usage("--write and --from-raw go with --ipvs-pinned");
  return o;
}

function run(cmd, args, { input, timeout = 600_000 } = {}) {
  return new Promise((resolve) => {
    const p = execFile(cmd, args, { maxBuffer: 64 << 20, timeout }, (err, stdout, stderr) => {
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr });
    });
    if (input !== undefined) p.stdin.end(input);
  });
}

async function normalize(text) {
  const r = await run(join(CONF, "normalize"), [], { input: text });
  return r.stdout;
}

let TMP;
let commit = "?";
let counter = 0;
function scriptFile(text) {
  const f = join(TMP, `s${counter++}.lab`);
  writeFileSync(f, text);
  return f;
}

async function realSide(text) {
  const r = await run(join(CONF, "realnet.sh"), [scriptFile(text)]);
  if (r.code !== 0 && r.code !== 3) throw new Error(`realnet.sh failed (${r.code}): ${r.stderr}`);
  return normalize(r.stdout);
}

async function simSide(text) {
  const bin = process.env.LVSLAB_BIN;
  const r = await run(bin, ["sim", "--scenario", "bare", "--script", scriptFile(text)]);
  return normalize(r.stdout + (r.code !== 0 ? `\n[lvslab sim exit ${r.code}: ${r.stderr.trim()}]\n` : ""));
}

/// The transcript split at its prompt lines: [{ prompt, output }].
function blocks(transcript, script) {
  const prompts = new Set(commandLines(script));
  const out = [];
  for (const l of transcript.split("\n")) {
    if (prompts.has(l) || out.length === 0) out.push({ prompt: l, output: [] });
    else out[out.length - 1].output.push(l);
  }
  return out;
}

function commandLines(script) {
  return script.split("\n").filter((l) => /^[a-z0-9]+# /.test(l));
}

/// The lab's "is not modelled" notes in a transcript.
function notModelled(sim, script) {
  return blocks(sim, script)
    .flatMap((b) => b.output)
    .filter((l) => l.includes("is not modelled"));
}

function unmodelled(sim, script) {
  return blocks(sim, script).filter((b) => b.output.some((l) => l.includes("is not modelled"))).length;
}

/// `diff -u` of the two transcripts (- real kernel, + lab).
async function diff(real, lab) {
  const a = join(TMP, `d${counter++}.real`);
  const b = join(TMP, `d${counter++}.lab`);
  writeFileSync(a, real);
  writeFileSync(b, lab);
  const r = await run("diff", ["-u", "--label", "real kernel", "--label", "lab", a, b]);
  return r.stdout;
}

/// Whether the two sides differ on `lines` (the header comment is kept).
async function differs(lines) {
  const text = lines.join("\n") + "\n";
  const [real, sim] = await Promise.all([realSide(text), simSide(text)]);
  return real !== sim;
}

/// ddmin over the command lines: the smallest set (1-minimal) of lines for
/// which the real kernel and the lab still differ.
async function shrink(lines) {
  let cur = lines;
  let n = 2;
  let tries = 0;
  while (cur.length >= 2 && tries < 200) {
    const size = Math.ceil(cur.length / n);
    let reduced = false;
    for (let i = 0; i < n && !reduced; i++) {
      const complement = cur.filter((_, j) => j < i * size || j >= (i + 1) * size);
      if (complement.length === 0) continue;
      tries++;
      if (await differs(complement)) {
        cur = complement;
        n = Math.max(n - 1, 2);
        reduced = true;
      }
    }
    if (!reduced) {
      if (n >= cur.length) break;
      n = Math.min(n * 2, cur.length);
    }
  }
  return cur;
}

async function check(name, text, opts) {
  const [real1, sim] = await Promise.all([realSide(text), simSide(text)]);
  const res = { name, text, unmodelled: unmodelled(sim, text), notes: notModelled(sim, text), lines: commandLines(text).length };
  if (real1 === sim) return { ...res, verdict: "ok" };
  if (res.unmodelled > 0) return { ...res, verdict: "unmodelled" };
  const real2 = await realSide(text);
  if (real2 !== real1) return { ...res, verdict: "flapping", diff: await diff(real1, real2) };
  res.verdict = "diverged";
  res.diff = await diff(real1, sim);
  if (opts.shrink) {
    const min = await shrink(commandLines(text));
    res.minimal = min.join("\n") + "\n";
    const [r, s] = await Promise.all([realSide(res.minimal), simSide(res.minimal)]);
    res.minimalDiff = await diff(r, s);
  }
  return res;
}

async function pool(items, jobs, f) {
  const results = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(jobs, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await f(items[i]);
      }
    }),
  );
  return results;
}

function pinnedSeeds(file = "seeds-lan.txt") {
  return readFileSync(join(HERE, file), "utf8")
    .split("\n")
    .map((l) => l.replace(/#.*/, "").trim())
    .filter(Boolean)
    .flatMap((l) => {
      const m = /^(\d+)(?:-(\d+))?$/.exec(l);
      if (!m) throw new Error(`${file}: bad line ${l}`);
      const [a, b] = [+m[1], +(m[2] ?? m[1])];
      return Array.from({ length: b - a + 1 }, (_, i) => a + i);
    });
}

/// IPVS seeds: every script in one VM boot (or, for the pinned seeds in
/// CI, the raw transcripts the VM suite's boot left), then each raw
/// transcript and the lab's through tests/vm/normalize.
async function mainIpvs(opts) {
  const seeds = opts.ipvsPinned
    ? pinnedSeeds("seeds-ipvs.txt")
    : Array.from({ length: opts.ipvs[1] - opts.ipvs[0] + 1 }, (_, i) => opts.ipvs[0] + i);
  const label = opts.ipvsPinned ? "pinned" : `${opts.ipvs[0]}-${opts.ipvs[1]}`;
  const dir = opts.write ?? join(TMP, "ipvs");
  const out = opts.fromRaw ?? join(TMP, "ipvs-out");
  mkdirSync(dir, { recursive: true });
  const cases = seeds.map((seed) => {
    const file = join(dir, `difftest-ipvs-${seed}.lab`);
    const text = generateIpvs(seed);
    if (!opts.fromRaw) writeFileSync(file, text);
    return { seed, file, text };
  });
  if (opts.write) {
    console.log(`difftest: ${cases.length} pinned IPVS scripts written to ${dir}`);
    return 0;
  }
  const t0 = Date.now();
  if (!opts.fromRaw) {
    const build = await run(join(VM, "build-initramfs.sh"), [process.env.LVSVM_BUILD || "/var/tmp/lvslab-vm"], { timeout: 1800_000 });
    if (build.code !== 0) throw new Error(`build-initramfs.sh failed: ${build.stderr}`);
    const vm = await run(join(VM, "run.sh"), ["-o", out, ...cases.map((c) => c.file)], { timeout: 7200_000 });
    if (vm.code !== 0) console.log(`run.sh exit ${vm.code}:\n${vm.stdout}${vm.stderr}`);
  }
  const norm = async (t) => (await run(join(VM, "normalize"), [], { input: t })).stdout;
  let ok = 0;
  const bad = [];
  const unmod = [];
  for (const c of cases) {
    let raw;
    try {
      raw = readFileSync(join(out, `difftest-ipvs-${c.seed}.txt`), "utf8");
    } catch {
      bad.push({ ...c, diff: "(no transcript from the VM)" });
      continue;
    }
    const real = await norm(raw);
    // The lab runs the same text (a --from-raw run has no file of its own).
    const f = join(TMP, `lab-ipvs-${c.seed}.lab`);
    writeFileSync(f, c.text);
    const simr = await run(process.env.LVSLAB_BIN, ["sim", "--scenario", "bare", "--script", f]);
    const lab = await norm(simr.stdout);
    if (real === lab) ok++;
    else if (lab.includes("is not modelled")) unmod.push(c.seed);
    else bad.push({ ...c, diff: await diff(real, lab) });
  }
  for (const r of bad) {
    console.log(`\n=== DIVERGED: IPVS seed ${r.seed}\n${r.text}${r.diff}`);
    if (opts.keep) {
      mkdirSync(opts.keep, { recursive: true });
      writeFileSync(join(opts.keep, `ipvs-${r.seed}.lab`), r.text);
    }
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  const where = opts.fromRaw ? "compared from the VM suite's boot" : "in one VM boot";
  const summary = `${cases.length} IPVS scripts: ${ok} agree, ${bad.length} diverged, ${unmod.length} not compared (the lab said it does not model a form); ${secs} s ${where}`;
  console.log(`\ndifftest: ${summary}`);
  // The pinned seeds are CI's check, not a soak: only soaks are logged.
  if (!opts.ipvsPinned) {
    appendFileSync(join(HERE, "soak-log.txt"), `${new Date().toISOString().slice(0, 10)} ${commit} ipvs ${label}: ${summary}${bad.length ? `; diverged: ${bad.map((r) => r.seed).join(" ")}` : ""}\n`);
  }
  return bad.length ? 1 : 0;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!process.env.LVSLAB_BIN) usage("LVSLAB_BIN must point at the lvslab binary");
  if (process.getuid && process.getuid() !== 0) usage("needs root (network namespaces)");
  TMP = mkdtempSync(join(tmpdir(), "lvs-difftest-"));
  // The commit the soak log names: the one the run started from.
  const head = await run("git", ["-C", HERE, "rev-parse", "--short", "HEAD"]);
  commit = head.code === 0 ? head.stdout.trim() : "?";
  if (opts.ipvs || opts.ipvsPinned) {
    const code = await mainIpvs(opts);
    rmSync(TMP, { recursive: true, force: true });
    process.exit(code);
  }
  let cases;
  if (opts.script) cases = [{ name: basename(opts.script), text: readFileSync(opts.script, "utf8") }];
  else {
    const seeds = opts.pinned ? pinnedSeeds() : Array.from({ length: opts.range[1] - opts.range[0] + 1 }, (_, i) => opts.range[0] + i);
    cases = seeds.map((s) => ({ name: `seed ${s}`, seed: s, text: generate(s) }));
  }
  const t0 = Date.now();
  const results = await pool(cases, opts.jobs, (c) => check(c.name, c.text, opts).then((r) => ({ ...r, seed: c.seed })));
  const secs = ((Date.now() - t0) / 1000).toFixed(0);
  const by = (v) => results.filter((r) => r.verdict === v);
  for (const r of [...by("diverged"), ...by("flapping")]) {
    console.log(`\n=== ${r.verdict.toUpperCase()}: ${r.name}\n${r.text}${r.diff}`);
    if (r.minimal) console.log(`--- minimised (${commandLines(r.minimal).length} of ${r.lines} lines)\n${r.minimal}--- its diff\n${r.minimalDiff}`);
    if (opts.keep) {
      mkdirSync(opts.keep, { recursive: true });
      const stem = r.seed !== undefined ? `seed-${r.seed}` : r.name.replace(/\.lab$/, "");
      writeFileSync(join(opts.keep, `${stem}.lab`), r.text);
      if (r.minimal) writeFileSync(join(opts.keep, `${stem}.min.lab`), `# minimised from ${r.name}\n${r.minimal}`);
    }
  }
  const lines = results.reduce((s, r) => s + r.lines, 0);
  const unm = results.reduce((s, r) => s + r.unmodelled, 0);
  const summary = `${results.length} scripts (${lines} commands): ${by("ok").length} agree, ${by("diverged").length} diverged, ${by("flapping").length} flapped, ${by("unmodelled").length} not compared (${unm} commands the lab says it does not model); ${secs} s, -j ${opts.jobs}`;
  const notes = new Map();
  for (const r of results) for (const n of r.notes ?? []) notes.set(n, (notes.get(n) ?? 0) + 1);
  if (notes.size) {
    console.log("\nnot modelled (the lab's own notes, by count):");
    for (const [n, c] of [...notes].sort((a, b) => b[1] - a[1])) console.log(`  ${c}x ${n}`);
  }
  console.log(`\ndifftest: ${summary}`);
  if (opts.range) {
    const stamp = new Date().toISOString().slice(0, 10);
    appendFileSync(join(HERE, "soak-log.txt"), `${stamp} ${commit} lan ${opts.range[0]}-${opts.range[1]}: ${summary}${by("diverged").length ? `; diverged: ${by("diverged").map((r) => r.seed).join(" ")}` : ""}\n`);
  }
  rmSync(TMP, { recursive: true, force: true });
  process.exit(by("diverged").length || by("flapping").length ? 1 : 0);
}

main().catch((e) => {
  console.error(`difftest: ${e.stack || e}`);
  process.exit(2);
});
