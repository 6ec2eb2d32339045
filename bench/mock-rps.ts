#!/usr/bin/env bun
/**
 * The mock's own throughput on POST /v1/messages, non-streamed and streamed, so that LB
 * benchmarks can show it is never their bottleneck. Starts `gw mock` as a child process, loads
 * it with wrk (Debian package; falls back to a small Bun client when wrk is missing), and writes
 * the figures with the machine and date to bench/notes/mock.md.
 *
 *   bun bench/mock-rps.ts [--duration 5] [--rounds 3] [--connections 50]
 *
 * The machine is shared with other work, so each figure is the best of a few rounds (the run
 * least disturbed by others); the median is printed next to it.
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { spawnMock } from "../test/helpers/mock.ts";
import { benchArgs, count, seconds } from "./args.ts";

const args = benchArgs("bun bench/mock-rps.ts [--duration S] [--rounds N] [--connections N]", { duration: seconds(5), rounds: count(3), connections: count(50) });
const { duration: DURATION_S, rounds: ROUNDS, connections: CONNECTIONS } = args;
const KEY = "bench-key";
const BODY = JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 1024, messages: [{ role: "user", content: "Say hi." }] });

interface Result {
  name: string;
  rps: number;
  latency: string;
  tool: string;
  /** Median rps over the rounds (set by bestOf). */
  median?: number;
}

/** Runs a measurement ROUNDS times; keeps the fastest round and notes the median. */
async function bestOf(run: () => Promise<Result>): Promise<Result> {
  const rounds: Result[] = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await run());
  rounds.sort((a, b) => b.rps - a.rps);
  return { ...rounds[0]!, median: rounds[Math.floor(rounds.length / 2)]!.rps };
}

async function wrk(url: string, body: string, name: string): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), "gw-bench-"));
  try {
    const lua = join(dir, "post.lua");
    writeFileSync(
      lua,
      `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["content-type"] = "application/json"\nwrk.headers["x-api-key"] = "${KEY}"\nwrk.headers["anthropic-version"] = "2023-06-01"\n`,
    );
    const p = Bun.spawn(["wrk", "-t1", `-c${CONNECTIONS}`, `-d${DURATION_S}s`, "--latency", "-s", lua, url], { stdout: "pipe", stderr: "pipe" });
    const out = await new Response(p.stdout).text();
    await p.exited;
    const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
    const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: .*/.exec(out)?.[0];
    if (errors) throw new Error(`wrk saw errors: ${errors}\n${out}`);
    const pct = (p: string) => new RegExp(`\\s${p}%\\s+(\\S+)`).exec(out)?.[1] ?? "?";
    return { name, rps, latency: `p50 ${pct("50")}, p99 ${pct("99")}`, tool: `wrk -t1 -c${CONNECTIONS} -d${DURATION_S}s` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Fallback load generator: CONNECTIONS concurrent loops of fetch for DURATION_S. */
async function bunClient(url: string, body: string, name: string): Promise<Result> {
  const end = Date.now() + DURATION_S * 1000;
  const lat: number[] = [];
  const headers = { "content-type": "application/json", "x-api-key": KEY };
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < end) {
        const t = performance.now();
        const res = await fetch(url, { method: "POST", headers, body });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`status ${res.status}`);
        lat.push(performance.now() - t);
      }
    }),
  );
  lat.sort((a, b) => a - b);
  const q = (p: number) => `${lat[Math.floor((lat.length - 1) * p)]!.toFixed(2)}ms`;
  return { name, rps: lat.length / DURATION_S, latency: `p50 ${q(0.5)}, p99 ${q(0.99)}`, tool: `Bun fetch client, ${CONNECTIONS} loops, ${DURATION_S}s` };
}

const load = Bun.which("wrk") ? wrk : bunClient;
const mock = await spawnMock(["--api-key", KEY, "--name", "bench"]);
const results: Result[] = [];
const sizes: number[] = [];
// The machine is shared: record how busy it was when the run started.
const load1 = loadavg()[0]!.toFixed(1);
try {
  const url = `${mock.url}/v1/messages`;
  // Warm up the JIT before measuring.
  await bunClient(url, BODY, "warm-up").catch(() => {});
  const streamBody = JSON.stringify({ ...JSON.parse(BODY), stream: true });
  for (const body of [BODY, streamBody]) {
    const res = await fetch(url, { method: "POST", headers: { "x-api-key": KEY }, body });
    sizes.push((await res.arrayBuffer()).byteLength);
  }
  results.push(await bestOf(() => load(url, BODY, "POST /v1/messages (JSON)")));
  results.push(await bestOf(() => load(url, streamBody, "POST /v1/messages (stream, 12 deltas)")));
} finally {
  await mock.stop();
}

const cpuinfo = await Bun.file("/proc/cpuinfo").text().catch(() => "");
const cpu = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? "unknown CPU";
const nproc = cpus().length;
const date = new Date().toISOString().slice(0, 16).replace("T", " ");
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const rows = results.map((r) => `| ${r.name} | ${fmt(r.rps)} | ${fmt(r.median ?? r.rps)} | ${r.latency} |`);
const md = `# gw mock: its own throughput

Measured ${date} UTC on ${nproc} cores (${cpu}), Bun ${Bun.version}, ${results[0]?.tool ?? ""},
best of ${ROUNDS} rounds, load generator and mock sharing the machine; its 1-minute load average
was ${load1} at the start (other work was running, so treat these as floors).
\`bun bench/mock-rps.ts\` reproduces it.

| request | requests/s (best) | median | latency of the best round |
|---|---:|---:|---|
${rows.join("\n")}

Every answer is the same deterministic text in 12 content deltas: ${sizes[0]} bytes of JSON, or
${sizes[1]} bytes of SSE in 17 events. An LB benchmark against the mock measures the LB as long
as the LB's own figure stays well below these.
`;
writeFileSync(join(import.meta.dir, "notes/mock.md"), md);
console.log(md);
