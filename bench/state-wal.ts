#!/usr/bin/env bun
// Does the state file's WAL checkpoint stall the event loop? One command:
//   bun bench/state-wal.ts [--duration S] [--rate N] [--rounds N] [--dir DIR]… [--no-write]
// `state = "local"` opened as the LB opens it (openLocalState), driven in-process through the
// request's state calls (bench/state-path.ts) with a new Claude Code session per request — every
// request remembers a new sticky key — at a sustained rate, twice: checkpoints "inline" (SQLite's
// own, inside the commit that takes the WAL past 1000 pages: gw before the checkpoint worker) and
// "worker" (state/checkpoint.ts). Measured meanwhile:
// - every commit (the batch local.ts writes every 250 ms) timed with Bun.nanoseconds, and whether
//   it checkpointed: the WAL index (-shm) counts the frames copied back into the database
//   (nBackfill); a commit after which that count rose ran a checkpoint, on the event loop;
// - the worker's checkpoints (their count and time, on its own thread);
// - the event loop's stalls: a 1 ms setInterval's lateness; the WAL file's size.
// Each DIR is a disk to put the file on (default: the OS temp dir and /dev/shm, which separates
// the fsyncs from the page copying). Writes bench/notes/state-wal.md.

import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { Checkpointer, type CheckpointResult } from "../src/state/checkpoint.ts";
import { openLocalState } from "../src/state/local.ts";
import { StateFile } from "../src/state/sqlite.ts";
import { walIndex } from "../test/helpers/wal.ts";
import { benchArgs, count, flag, repeated, seconds } from "./args.ts";
import { oneRequest } from "./state-path.ts";

const USAGE = "bun bench/state-wal.ts [--duration S] [--rate N] [--rounds N] [--dir DIR]… [--no-write]";
const args = benchArgs(USAGE, { duration: seconds(30), rate: count(2000), rounds: count(1), dir: repeated, "no-write": flag });
const MODES = ["inline", "worker"] as const;
type Mode = (typeof MODES)[number];

interface Run {
  requests: number;
  commits: number[];
  /** Commits that ran a checkpoint (on the event loop), ms. */
  checkpointing: number[];
  worker: CheckpointResult[];
  lateness: number[];
  walMax: number;
}

/** Every batch write local.ts makes, timed where it makes it (the same call, measured around). */
function timeCommits(shm: () => string, sink: () => Run | undefined): void {
  const original = StateFile.prototype.write;
  StateFile.prototype.write = function (this: StateFile, changes) {
    const run = sink();
    if (!run || !changes.length) return original.call(this, changes);
    const before = walIndex(shm()).nBackfill;
    const t0 = Bun.nanoseconds();
    original.call(this, changes);
    const ms = (Bun.nanoseconds() - t0) / 1e6;
    (walIndex(shm()).nBackfill > before ? run.checkpointing : run.commits).push(ms);
  };
}

async function measure(dir: string, mode: Mode, setCurrent: (r: Run | undefined, file: string) => void): Promise<Run> {
  const file = join(mkdtempSync(join(dir, "gw-bench-wal-")), "state.db");
  const run: Run = { requests: 0, commits: [], checkpointing: [], worker: [], lateness: [], walMax: 0 };
  setCurrent(run, file);
  const quiet = { info() {}, warn: (m: string) => console.warn(m) };
  const restore = mode === "inline" ? inlineCheckpoints() : undefined;
  const state = openLocalState({ file, log: quiet, onCheckpoint: (r) => run.worker.push(r) });
  let last = performance.now();
  const tick = setInterval(() => {
    const t = performance.now();
    run.lateness.push(t - last - 1);
    last = t;
  }, 1);
  const size = setInterval(() => {
    try {
      run.walMax = Math.max(run.walMax, statSync(`${file}-wal`).size);
    } catch {}
  }, 50);
  const tag = crypto.randomUUID().slice(0, 8);
  const perBurst = Math.max(1, Math.round(args.rate / 100));
  const end = performance.now() + args.duration * 1000;
  // 100 bursts a second, each the requests of 10 ms: a sustained rate, the loop free between.
  while (performance.now() < end) {
    const next = performance.now() + 10;
    for (let i = 0; i < perBurst; i++) oneRequest(state, `cc:${tag}-${run.requests++}`);
    await Bun.sleep(Math.max(0, next - performance.now()));
  }
  clearInterval(tick);
  clearInterval(size);
  await state.close();
  restore?.();
  setCurrent(undefined, file);
  rmSync(join(file, ".."), { recursive: true, force: true });
  return run;
}

/**
 * "inline": gw before the checkpoint worker — the commits keep SQLite's own checkpoints and no
 * worker is asked. Patched here, as timeCommits patches the writes, so gw has no switch for it.
 */
function inlineCheckpoints(): () => void {
  const elsewhere = StateFile.prototype.checkpointsElsewhere;
  const wrote = Checkpointer.prototype.wrote;
  StateFile.prototype.checkpointsElsewhere = () => {};
  Checkpointer.prototype.wrote = () => {};
  return () => {
    StateFile.prototype.checkpointsElsewhere = elsewhere;
    Checkpointer.prototype.wrote = wrote;
  };
}

function report(dir: string, mode: Mode, r: Run): string[] {
  const min = args.duration / 60;
  const all = [...r.commits, ...r.checkpointing];
  return [
    `${dir} ${mode}: ${r.requests} requests (${(r.requests / args.duration).toFixed(0)}/s, a new session each), ${all.length} commits (${(all.length / args.duration).toFixed(1)}/s), WAL up to ${(r.walMax / 2 ** 20).toFixed(2)} MiB`,
    `  checkpoints in a commit (event loop): ${r.checkpointing.length} (${(r.checkpointing.length / min).toFixed(1)}/min), commit median ${fmt(median(r.checkpointing))} ms, max ${fmt(max(r.checkpointing))} ms`,
    `  checkpoints by the worker: ${r.worker.length} (${(r.worker.length / min).toFixed(1)}/min), ${fmt(median(r.worker.map((w) => w.checkpointed)))} frames each (median), median ${fmt(median(r.worker.map((w) => w.ms)))} ms, max ${fmt(max(r.worker.map((w) => w.ms)))} ms (its thread)`,
    `  commits without a checkpoint: median ${fmt(median(r.commits))} ms, p99 ${fmt(quantile(r.commits, 0.99))} ms, max ${fmt(max(r.commits))} ms`,
    `  event loop lateness (1 ms timer): p50 ${fmt(median(r.lateness))} ms, p99 ${fmt(quantile(r.lateness, 0.99))} ms, p99.9 ${fmt(quantile(r.lateness, 0.999))} ms, max ${fmt(max(r.lateness))} ms`,
  ];
}

async function main() {
  const dirs = args.dir.length ? args.dir : [tmpdir(), "/dev/shm"];
  let current: Run | undefined;
  let shm = "";
  timeCommits(() => shm, () => current);
  const say = (lines: string[]) => {
    console.log(lines.join("\n"));
    notes.push(...lines);
  };
  const notes = [`# WAL checkpoints and the event loop (bun bench/state-wal.ts --duration ${args.duration} --rate ${args.rate} --rounds ${args.rounds})`, "", "```"];
  say([`${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), Bun ${Bun.version}, load average ${os.loadavg()[0]!.toFixed(1)}`]);
  for (let round = 0; round < args.rounds; round++) {
    for (const dir of dirs) {
      // Alternate which mode goes first, so neither always runs after the other's load.
      for (const mode of round % 2 ? [...MODES].reverse() : MODES) {
        const r = await measure(dir, mode, (run, file) => {
          current = run;
          shm = `${file}-shm`;
        });
        say(report(dir, mode, r));
      }
    }
  }
  say([`load average at the end ${os.loadavg()[0]!.toFixed(1)}`]);
  if (!args["no-write"]) {
    writeFileSync(join(import.meta.dir, "notes/state-wal.md"), `${[...notes, "```", ""].join("\n")}`);
    console.log("wrote bench/notes/state-wal.md");
  }
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "–");
const max = (xs: readonly number[]) => (xs.length ? Math.max(...xs) : Number.NaN);
const median = (xs: readonly number[]) => quantile(xs, 0.5);
function quantile(xs: readonly number[], q: number): number {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

await main();
