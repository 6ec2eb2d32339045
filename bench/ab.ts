#!/usr/bin/env bun
// A/B of two versions of gw, to judge one change: `bun bench/ab.ts [--cost [--real]] [--rounds 3] [--duration 4] A B`
// where A and B are git refs (commit, branch, tag) or "." for the working tree.
//
// --cost: gw's own work per request with fetch stubbed (bench/lb-cost.ts of each tree), the two
// trees taking turns; repeatable within a few per cent, so it judges changes of a microsecond.
//
// --cost --real: the same with `lb-cost.ts --real` (CPU per request over the real fetch, against
// the bare relay in the same process): slower (~12 s a process) and noisier — one code lands in a
// fast or a slow mode from one process to the next (bench/README.md) — so give it ≥ 5 rounds.
//
// Otherwise, end to end: both run side by
// side against one upstream; each round measures both in alternating order (A B, then B A, …),
// so load from other work on this shared machine falls on both alike. Per round it prints gw's
// CPU per request (user + system, every thread) on the small body at c=64 and the 90 KB body at
// c=16, and the time to first byte of the streamed 90 KB body (interleaved requests, median);
// at the end the median over the rounds and B relative to A. CPU is read under saturating load
// only: at c=1 a process sleeps between requests and its CPU per request swings by ±40 % with
// the neighbours' load (wake-ups, cache), where a busy process repeats within a few per cent.

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BODIES } from "./lb-bodies.ts";
import { benchArgs, count, flag, refuseArgs, seconds, words } from "./args.ts";
import { Children, interleavedTtfb, median, pidsListening, startGw, startUpstream, TTFB_SAMPLES, wrk } from "./lb-harness.ts";

const ROOT = join(import.meta.dir, "..");
const USAGE = "bun bench/ab.ts [--cost [--real]] [--rounds N] [--duration S] A B\n(A and B: git refs, or . for the working tree)";
const args = benchArgs(USAGE, { cost: flag, real: flag, rounds: count(3), duration: seconds(4) }, words(2, 2, "two git refs (A B)"));
if (args.real && !args.cost) refuseArgs(USAGE, "--real goes with --cost");
const { rounds, duration, real: REAL, words: refs } = args;

/** A source tree for `ref`: the working tree itself, or the ref's files unpacked beside node_modules. */
function tree(ref: string, dir: string, name: string): string {
  if (ref === ".") return ROOT;
  const out = join(dir, name);
  mkdirSync(out);
  const archive = Bun.spawnSync(["git", "-C", ROOT, "archive", ref], { stdout: "pipe", stderr: "pipe" });
  if (archive.exitCode !== 0) throw new Error(`git archive ${ref}: ${archive.stderr.toString().trim()}`);
  const untar = Bun.spawnSync(["tar", "-x", "-C", out], { stdin: archive.stdout });
  if (untar.exitCode !== 0) throw new Error(`could not unpack ${ref}`);
  symlinkSync(join(ROOT, "node_modules"), join(out, "node_modules"));
  return out;
}

type Case = "small c=64 µs/req" | "large c=16 µs/req" | "large TTFB ms";
const CASES: Case[] = ["small c=64 µs/req", "large c=16 µs/req", "large TTFB ms"];

/** `bun bench/lb-cost.ts` of each tree in turn; the gw figures of each round. */
async function costAb(roots: Record<"A" | "B", string>) {
  const got: Record<"A" | "B", Record<string, number[]>> = { A: {}, B: {} };
  for (let r = 0; r < rounds; r++) {
    for (const v of r % 2 === 0 ? (["A", "B"] as const) : (["B", "A"] as const)) {
      const p = Bun.spawnSync([process.execPath, join(roots[v], "bench/lb-cost.ts"), ...(REAL ? ["--real"] : [])], { stdout: "pipe", stderr: "inherit" });
      // --real: gw/relay of each process, so the machine's load on that process cancels out.
      const figure = REAL ? /^(\w+) \(\d+ bytes\): .*gw\/relay ([\d.]+)/gm : /^(\w+) \(\d+ bytes\): .*gw ([\d.]+) µs/gm;
      for (const m of p.stdout.toString().matchAll(figure)) (got[v][m[1]!] ??= []).push(Number(m[2]));
    }
    const unit = REAL ? "× relay" : "µs";
    console.log(`round ${r + 1}: ${Object.keys(got.A).map((b) => `${b} A ${got.A[b]!.at(-1)} B ${got.B[b]?.at(-1)} ${unit}`).join(" | ")}`);
  }
  const what = REAL ? "gw's CPU per request ÷ the relay's in the same process (real fetch)" : "gw's own work per request (fetch stubbed)";
  console.log(`\n| ${what} | A | B | B/A |\n|---|---|---|---|`);
  for (const b of Object.keys(got.A)) {
    const a = median(got.A[b]!);
    const x = median(got.B[b]!);
    const show = (n: number) => (REAL ? `${n.toFixed(2)}×` : `${n.toFixed(1)} µs`);
    console.log(`| ${b} body (median of ${rounds}) | ${show(a)} | ${show(x)} | ${(x / a).toFixed(2)} |`);
  }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "gw-ab-"));
  if (args.cost) {
    try {
      return await costAb({ A: tree(refs[0]!, dir, "A"), B: tree(refs[1]!, dir, "B") });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const children = new Children();
  try {
    const roots = { A: tree(refs[0]!, dir, "A"), B: tree(refs[1]!, dir, "B") };
    const upPort = await startUpstream(children);
    const ports = { A: await startGw(roots.A, dir, upPort, children, "A"), B: await startGw(roots.B, dir, upPort, children, "B") };
    const pids = { A: await pidsListening(ports.A), B: await pidsListening(ports.B) };
    const url = (v: "A" | "B") => `http://127.0.0.1:${ports[v]}/v1/messages`;
    const files: Record<string, string> = {};
    for (const b of BODIES) writeFileSync((files[b.name] = join(dir, `${b.name}.json`)), b.text);
    for (const v of ["A", "B"] as const) for (const b of BODIES) await wrk(url(v), files[b.name]!, 16, 4); // warm the JIT past its ~20,000 requests (README)

    const got: Record<"A" | "B", Record<Case, number[]>> = {
      A: { "small c=64 µs/req": [], "large c=16 µs/req": [], "large TTFB ms": [] },
      B: { "small c=64 µs/req": [], "large c=16 µs/req": [], "large TTFB ms": [] },
    };
    console.log(`A = ${refs[0]}, B = ${refs[1]}; ${rounds} rounds, wrk ${duration} s per cell`);
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (["A", "B"] as const) : (["B", "A"] as const);
      for (const v of order) got[v]["small c=64 µs/req"].push((await wrk(url(v), files.small!, 64, duration, pids[v])).cpuUsPerReq!);
      for (const v of order) got[v]["large c=16 µs/req"].push((await wrk(url(v), files.large!, 16, duration, pids[v])).cpuUsPerReq!);
      const ttfb = await interleavedTtfb({ A: url("A"), B: url("B") }, BODIES.find((b) => b.name === "large")!.text, TTFB_SAMPLES);
      got.A["large TTFB ms"].push(ttfb.A!);
      got.B["large TTFB ms"].push(ttfb.B!);
      console.log(`round ${r + 1}: ${CASES.map((c) => `${c} A ${fmt(got.A[c].at(-1)!)} B ${fmt(got.B[c].at(-1)!)}`).join(" | ")}`);
    }
    console.log("\n| measure | A median (min) | B median (min) | B/A median (min) |\n|---|---|---|---|");
    for (const c of CASES) {
      const [a, b] = [median(got.A[c]), median(got.B[c])];
      const [am, bm] = [Math.min(...got.A[c]), Math.min(...got.B[c])];
      console.log(`| ${c}, ${rounds} rounds | ${fmt(a)} (${fmt(am)}) | ${fmt(b)} (${fmt(bm)}) | ${(b / a).toFixed(2)} (${(bm / am).toFixed(2)}) |`);
    }
  } finally {
    await children.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (x: number) => (x >= 10 ? x.toFixed(0) : x.toFixed(3));

await main();
