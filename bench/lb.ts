#!/usr/bin/env bun
// LB benchmark, one command: `bun bench/lb.ts [--rounds 3] [--duration 3] [--no-nginx] [--no-write]`.
// Starts a raw upstream, gw (`gw lb`), the bare Bun relay of issue 16 and nginx (one worker), each
// in its own process, and measures them against the upstream directly: wrk latency and throughput
// on a small body and the 90 KB Claude Code body, CPU per request of each proxy process, the time
// to first byte of the streamed 90 KB request, and gw's RSS with 1,000 open streams. Every figure
// is the median of the rounds; within a round the targets take turns, so load from other work on
// this machine falls on all of them alike. Prints the summary table of issue 16 and writes
// bench/notes/lb.md. Needs: apt-get install -y nginx wrk.

import { rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { benchArgs, count, flag, seconds } from "./args.ts";
import { BODIES } from "./lb-bodies.ts";
import {
  Children,
  interleavedTtfb,
  median,
  nginxBinary,
  pidsListening,
  rssMb,
  startGw,
  startNginx,
  startRelay,
  startUpstream,
  TTFB_SAMPLES,
  type WrkResult,
  wrk,
} from "./lb-harness.ts";
import { type Cell, renderNotes, summary, type Target } from "./lb-notes.ts";

const ROOT = join(import.meta.dir, "..");
const { rounds, duration, ...args } = benchArgs(
  "bun bench/lb.ts [--rounds N] [--duration S] [--no-nginx] [--no-write]\n(minutes of load on every core: run it on a quiet machine)",
  { rounds: count(3), duration: seconds(3), "no-nginx": flag, "no-write": flag },
);

/** The cells of the table: body and concurrency. */
const CELLS: readonly Cell[] = [
  { body: "small", c: 1 },
  { body: "small", c: 16 },
  { body: "small", c: 64 },
  { body: "large", c: 1 },
  { body: "large", c: 16 },
];

async function main() {
  if (!Bun.which("wrk")) throw new Error("wrk is not installed: apt-get install -y wrk");
  const children = new Children();
  const dir = children.tempDir("gw-bench-");
  try {
    const upPort = await startUpstream(children);
    const urls: Partial<Record<Target, string>> = {
      direct: `http://127.0.0.1:${upPort}`,
      gw: `http://127.0.0.1:${await startGw(ROOT, dir, upPort, children)}`,
      relay: `http://127.0.0.1:${await startRelay(upPort, children)}`,
    };
    if (!args["no-nginx"]) {
      if (nginxBinary()) urls.nginx = await startNginx(dir, upPort, children);
      else console.warn("nginx not installed (apt-get install -y nginx): skipping the nginx column");
    }
    const targets = Object.keys(urls) as Target[];
    const pids: Partial<Record<Target, number[]>> = {};
    for (const t of targets) if (t !== "direct") pids[t] = await pidsListening(Number(new URL(urls[t]!).port));
    const files: Record<string, string> = {};
    for (const b of BODIES) writeFileSync((files[b.name] = join(dir, `${b.name}.json`)), b.text);
    for (const t of targets) for (const b of BODIES) await wrk(`${urls[t]}/v1/messages`, files[b.name]!, 16, 4); // warm pools and the JIT (gw: ~20,000 requests, see README)

    const load = [os.loadavg()[0]!];
    const runs: Record<string, WrkResult[]> = {};
    const ttfbRuns: Record<string, number[]> = {};
    const large = BODIES.find((b) => b.name === "large")!;
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? targets : [...targets].reverse();
      for (const cell of CELLS) {
        for (const t of order) {
          const res = await wrk(`${urls[t]}/v1/messages`, files[cell.body]!, cell.c, duration, pids[t]);
          (runs[`${cell.body}/${cell.c}/${t}`] ??= []).push(res);
          const cpu = res.cpuUsPerReq === undefined ? "" : `  cpu ${res.cpuUsPerReq.toFixed(0)} µs/req`;
          console.log(`round ${r + 1}  ${cell.body.padEnd(5)} c=${String(cell.c).padEnd(3)} ${t.padEnd(6)} ${res.rps.toFixed(0).padStart(6)} rps  p50 ${res.p50.toFixed(2)} ms  p99 ${res.p99.toFixed(2)} ms  errors ${res.errors}${cpu}`);
        }
      }
      const ttfb = await interleavedTtfb(Object.fromEntries(order.map((t) => [t, `${urls[t]}/v1/messages`])), large.text, TTFB_SAMPLES);
      for (const [t, v] of Object.entries(ttfb)) (ttfbRuns[t] ??= []).push(v);
      console.log(`round ${r + 1}  streamed 90 KB, time to first byte (median of ${TTFB_SAMPLES}): ${Object.entries(ttfb).map(([t, v]) => `${t} ${v.toFixed(3)} ms`).join(", ")}`);
    }
    load.push(os.loadavg()[0]!);
    const results = Object.fromEntries(Object.entries(runs).map(([k, xs]) => [k, medianResult(xs)]));
    const ttfb = Object.fromEntries(Object.entries(ttfbRuns).map(([k, xs]) => [k, median(xs)])) as Partial<Record<Target, number>>;
    const rss = await rssWithOpenStreams(Number(new URL(urls.gw!).port), pids.gw![0]!, 1000);
    console.log(`gw RSS: ${rss.before} MB after the load runs, ${rss.during} MB with ${rss.opened} open streams`);
    const input = { rounds, duration, cells: CELLS, targets, results, ttfb, rss, load, bodies: BODIES.map((b) => ({ name: b.name, bytes: b.text.length })) };
    console.log(`\n${summary(input)}`);
    if (!args["no-write"]) {
      writeFileSync(join(import.meta.dir, "notes/lb.md"), renderNotes(input));
      console.log("wrote bench/notes/lb.md");
    }
  } finally {
    await children.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Field by field, the median of several runs of one cell. */
function medianResult(xs: readonly WrkResult[]): WrkResult {
  const m = (f: (x: WrkResult) => number | undefined) => {
    const v = xs.map(f).filter((x): x is number => x !== undefined);
    return v.length ? median(v) : undefined;
  };
  return { rps: m((x) => x.rps)!, p50: m((x) => x.p50)!, p99: m((x) => x.p99)!, errors: xs.reduce((a, x) => a + x.errors, 0), cpuUsPerReq: m((x) => x.cpuUsPerReq) };
}

/** Open `n` streams through gw over raw sockets (no client-side fetch limit) and read gw's RSS. */
async function rssWithOpenStreams(port: number, pid: number, n: number) {
  const before = rssMb(pid);
  const body = JSON.stringify({ model: "claude-bench", stream: true, hold: "hold", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
  const req = `POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nx-api-key: bench-client\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
  let opened = 0;
  const sockets = await Promise.all(
    Array.from({ length: n }, async () => {
      let seen = false;
      return Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: { data: (_s, d) => void (!seen && d.toString().includes("content_block_delta") && ((seen = true), opened++)), open: (s) => void s.write(req) },
      });
    }),
  );
  const end = Date.now() + 30_000;
  while (opened < n && Date.now() < end) await Bun.sleep(50);
  const during = rssMb(pid);
  for (const s of sockets) s.end();
  return { before, during, opened };
}

await main();
