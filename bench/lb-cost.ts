#!/usr/bin/env bun
// gw's own work per request, measured apart from the network: `bun bench/lb-cost.ts [--rounds N] [--real | --cells]`.
// The request path (src/lb/pipeline.ts, with its real state store, request log, metrics and
// probes) and the bare Bun relay of issue 16 run in this process against a stubbed `fetch` that
// answers at once, so what is timed is only what each does with a request — parsing, routing,
// rewriting, headers, the relay of the body, the record. Each round times a batch of requests;
// the fastest round is kept, since load from other work on this shared machine only ever adds
// time. Repeatable within a few per cent where end-to-end CPU figures move by tens: the tool
// for judging one change to the request path (run it before and after).
//
// --real: the same two handlers in this process, but against the raw upstream of bench/lb.ts
// (its own process) through the real `fetch`, 16 requests at a time; CPU time of this process
// (process.cpuUsage: both sides of each request, the upstream's excluded) per request, the two
// taking turns for --rounds rounds (default 5). What the stub hides shows here: how gw's use of
// fetch, responses, streams and the garbage it leaves compares with the relay's.
//
// --cells: heap cells (objects, strings, closures, promises, async frames…) per request, fetch
// stubbed: those allocated (counted between two collections, none in between), and those held
// while the upstream's answer is awaited (1,000 requests in flight, after a full collection).
// Exact and repeatable where CPU figures are not: what the collector has to do per request.

import { deadEndSources } from "../src/lb/dead-ends.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../src/config/index.ts";
import { BodyBudget } from "../src/lb/body-budget.ts";
import { type GatewayContext, handle } from "../src/lb/pipeline.ts";
import { createProber } from "../src/lb/probe.ts";
import { buildRuntime } from "../src/lb/runtime.ts";
import { StatsCounter } from "../src/lb/stats.ts";
import { createObservability } from "../src/observe/http.ts";
import { createRequestLog } from "../src/observe/requestlog.ts";
import { createMemoryStore } from "../src/state/index.ts";
import { BODIES } from "./lb-bodies.ts";
import { benchArgs, count, flag, refuseArgs } from "./args.ts";
import { Children, gwConfig, median, startUpstream, UPSTREAM_MODEL } from "./lb-harness.ts";

const USAGE = "bun bench/lb-cost.ts [--rounds N] [--real | --cells]";
const args = benchArgs(USAGE, { rounds: count(), real: flag, cells: flag });
if (args.real && args.cells) refuseArgs(USAGE, "--real and --cells are two different measures: give one");
const { real: REAL, cells: CELLS } = args;
const ROUNDS = args.rounds ?? (REAL ? 5 : 100);
const BATCH = 50;

let upstream = "http://127.0.0.1:9";
/** The upstream's fetch: the stub, or (--real) the real one. */
let fetchUp: (url: string, init: RequestInit) => Promise<Response> = stubFetch;
const JSON_ANSWER = JSON.stringify({
  id: "msg_bench", type: "message", role: "assistant", model: "claude-bench",
  content: [{ type: "text", text: "Hello from the benchmark upstream. ".repeat(6) }],
  stop_reason: "end_turn", usage: { input_tokens: 420, output_tokens: 42 },
});
const SSE_ANSWER = `event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":420,"output_tokens":1}}}\n\n${Array.from({ length: 10 }, (_, i) => `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"chunk ${i} "}}\n\n`).join("")}event: message_stop\ndata: {"type":"message_stop"}\n\n`;

/** The upstream, answering at once: a sized JSON answer, or an event stream for `stream: true`. */
async function stubFetch(_url: string | URL | Request, init?: RequestInit): Promise<Response> {
  const body = typeof init?.body === "string" ? init.body : "";
  return body.includes('"stream":true')
    ? new Response(SSE_ANSWER, { headers: { "content-type": "text/event-stream" } })
    : new Response(JSON_ANSWER, { headers: { "content-type": "application/json", "content-length": String(JSON_ANSWER.length) } });
}

/** The bare relay of issue 16 (bench/lb-servers.ts relay). */
async function relay(req: Request): Promise<Response> {
  const body = (await req.json()) as Record<string, unknown>;
  body.model = UPSTREAM_MODEL;
  const up = await fetchUp(upstream + new URL(req.url).pathname, { method: req.method, headers: req.headers, body: JSON.stringify(body) });
  return new Response(up.body, { status: up.status, headers: up.headers });
}

function gateway(dir: string) {
  const { config } = parseConfig(gwConfig(Number(new URL(upstream).port)), join(dir, "providers.toml"), {});
  if (!config) throw new Error("bench config has errors");
  const rt = buildRuntime(config);
  const state = createMemoryStore();
  const observe = createObservability(() => rt.config);
  const probes = createProber({ state, instances: () => rt.instances, log: { info() {}, warn() {} } });
  const gw: GatewayContext = {
    stats: new StatsCounter(),
    bodies: new BodyBudget(),
    state,
    probes,
    deadEnds: deadEndSources(probes, undefined),
    log: createRequestLog({ dir: join(dir, "logs"), retentionDays: 0 }),
    observe,
  };
  const server = { timeout() {}, requestIP: () => ({ address: "127.0.0.1", family: "IPv4", port: 1 }) };
  return { gw, serve: (req: Request) => observe.serve(req, server) ?? handle(req, server as never, rt, gw) };
}

type Serve = (req: Request) => Promise<Response> | Response;

/** One request through `serve`, its answer read to the end. */
async function one(serve: Serve, text: string): Promise<void> {
  const headers = { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": "bench-client", "content-length": String(Buffer.byteLength(text)) };
  const res = await serve(new Request("http://127.0.0.1:8145/v1/messages", { method: "POST", headers, body: text }));
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`answered ${res.status}`);
}

/** CPU µs of this process per request, `n` requests `c` at a time (--real). */
async function cpuPerRequest(serve: Serve, text: string, n: number, c: number): Promise<number> {
  let left = n;
  const worker = async () => {
    while (left-- > 0) await one(serve, text);
  };
  const t0 = process.cpuUsage();
  await Promise.all(Array.from({ length: c }, worker));
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / n;
}

async function time(serve: Serve, text: string): Promise<number> {
  for (let i = 0; i < 2000; i++) await one(serve, text); // JIT warm-up
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < BATCH; i++) await one(serve, text);
    best = Math.min(best, ((performance.now() - t0) * 1000) / BATCH);
  }
  return best;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "gw-cost-"));
  if (REAL) return real(dir);
  if (CELLS) return cells(dir);
  globalThis.fetch = stubFetch as typeof fetch;
  const { gw, serve } = gateway(dir);
  try {
    const floor = async (req: Request) => (await req.text(), new Response(JSON_ANSWER));
    console.log(`per request, fetch stubbed (fastest of ${ROUNDS} rounds of ${BATCH}):`);
    for (const b of BODIES.filter((x) => !process.env.ONLY || x.name === process.env.ONLY)) {
      const base = process.env.GW_ONLY ? 0 : await time(floor, b.text);
      const r = process.env.GW_ONLY ? 0 : await time(relay, b.text);
      const g = await time(serve, b.text);
      console.log(`${b.name.padEnd(5)} (${b.text.length} bytes): bare relay ${r.toFixed(1)} µs, gw ${g.toFixed(1)} µs — beyond reading the request and answering (${base.toFixed(1)} µs): relay ${(r - base).toFixed(1)} µs, gw ${(g - base).toFixed(1)} µs`);
    }
  } finally {
    gw.probes.stop();
    await gw.log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** --real: relay and gw against the raw upstream, taking turns; median and lowest of the rounds. */
async function real(dir: string) {
  const children = new Children();
  upstream = `http://127.0.0.1:${await startUpstream(children)}`;
  fetchUp = (url, init) => fetch(url, init);
  const { gw, serve } = gateway(dir);
  try {
    console.log(`CPU of this process per request, real fetch to the raw upstream, 16 at a time (${ROUNDS} rounds, relay and gw taking turns):`);
    for (const b of BODIES.filter((x) => !process.env.ONLY || x.name === process.env.ONLY)) {
      const n = b.name === "small" ? 4000 : 1000;
      // Warm-up long enough for the JIT: the optimizing tier compiles gw's request path on a
      // background thread over its first ~20,000 requests (~1.8 s of CPU, counted by cpuUsage),
      // which a short warm-up charged to the measured rounds (bench/README.md).
      for (const s of [relay, serve]) await cpuPerRequest(s, b.text, 5 * n, 16);
      const r: number[] = [];
      const g: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        r.push(await cpuPerRequest(relay, b.text, n, 16));
        g.push(await cpuPerRequest(serve, b.text, n, 16));
      }
      const fmt = (xs: number[]) => `${median(xs).toFixed(0)} µs (lowest ${Math.min(...xs).toFixed(0)})`;
      console.log(`${b.name.padEnd(5)} (${b.text.length} bytes): bare relay ${fmt(r)}, gw ${fmt(g)} — gw/relay ${(median(g) / median(r)).toFixed(2)}`);
    }
  } finally {
    gw.probes.stop();
    await gw.log.close();
    await children.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** --cells: heap cells allocated per request, and held per request in flight (fetch stubbed). */
async function cells(dir: string) {
  const { heapStats } = await import("bun:jsc");
  const count = () => Object.values(heapStats().objectTypeCounts).reduce((a, b) => a + b, 0);
  // The upstream's answer waits while `held` is set: the requests stay in flight.
  let held: Promise<void> | undefined;
  fetchUp = async (url, init) => {
    if (held) await held;
    return stubFetch(url, init);
  };
  globalThis.fetch = fetchUp as typeof fetch;
  const { gw, serve } = gateway(dir);
  try {
    console.log("heap cells per request, fetch stubbed: allocated (the highest of 3 counts), held while the upstream's answer is awaited (1,000 in flight):");
    for (const b of BODIES.filter((x) => !process.env.ONLY || x.name === process.env.ONLY)) {
      const out: string[] = [];
      for (const [name, s] of [["relay", relay], ["gw", serve]] as const) {
        for (let i = 0; i < 20_000; i++) await one(s, b.text); // past the JIT's tiers, whose own cells would count
        // Few enough requests that no collection runs between the counts (one would sweep some
        // of them: the highest of three counts is the exact one).
        const n = b.name === "small" ? 150 : 10;
        let allocated = 0;
        for (let k = 0; k < 3; k++) {
          Bun.gc(true);
          const before = count();
          for (let i = 0; i < n; i++) await one(s, b.text);
          allocated = Math.max(allocated, (count() - before) / n);
        }
        let release = () => {};
        held = new Promise((r) => (release = r));
        Bun.gc(true);
        const before = count();
        const all = Promise.all(Array.from({ length: 1000 }, () => one(s, b.text)));
        await Bun.sleep(200);
        Bun.gc(true);
        const inFlight = (count() - before) / 1000;
        held = undefined;
        release();
        await all;
        out.push(`${name} ${allocated.toFixed(1)} allocated, ${inFlight.toFixed(1)} held`);
      }
      console.log(`${b.name.padEnd(5)} (${b.text.length} bytes): ${out.join("; ")}`);
    }
  } finally {
    gw.probes.stop();
    await gw.log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
