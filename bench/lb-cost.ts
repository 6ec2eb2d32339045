#!/usr/bin/env bun
// gw's own work per request, measured apart from the network: `bun bench/lb-cost.ts [--rounds 30]`.
// The request path (src/lb/pipeline.ts, with its real state store, request log, metrics and
// probes) and the bare Bun relay of issue 16 run in this process against a stubbed `fetch` that
// answers at once, so what is timed is only what each does with a request — parsing, routing,
// rewriting, headers, the relay of the body, the record. Each round times a batch of requests;
// the fastest round is kept, since load from other work on this shared machine only ever adds
// time. Repeatable within a few per cent where end-to-end CPU figures move by tens: the tool
// for judging one change to the request path (run it before and after).

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
import { gwConfig, option, UPSTREAM_MODEL } from "./lb-harness.ts";

const args = process.argv.slice(2);
const ROUNDS = Number(option(args, "--rounds", "100"));
const BATCH = 50;

const UPSTREAM = "http://127.0.0.1:9";
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

/** The bare relay of issue 16 (bench/lb-servers.ts relay), on the stub. */
async function relay(req: Request): Promise<Response> {
  const body = (await req.json()) as Record<string, unknown>;
  body.model = UPSTREAM_MODEL;
  const up = await stubFetch(UPSTREAM + new URL(req.url).pathname, { method: req.method, headers: req.headers, body: JSON.stringify(body) });
  return new Response(up.body, { status: up.status, headers: up.headers });
}

function gateway(dir: string) {
  const { config } = parseConfig(gwConfig(9), join(dir, "providers.toml"), {});
  if (!config) throw new Error("bench config has errors");
  const rt = buildRuntime(config);
  const state = createMemoryStore();
  const observe = createObservability(() => rt.config);
  const gw: GatewayContext = {
    stats: new StatsCounter(),
    bodies: new BodyBudget(),
    state,
    probes: createProber({ state, instances: () => rt.instances, log: { info() {}, warn() {} } }),
    log: createRequestLog({ dir: join(dir, "logs"), retentionDays: 0 }),
    observe,
  };
  const server = { timeout() {}, requestIP: () => ({ address: "127.0.0.1", family: "IPv4", port: 1 }) };
  return { gw, serve: (req: Request) => observe.serve(req, server) ?? handle(req, server as never, rt, gw) };
}

async function time(serve: (req: Request) => Promise<Response> | Response, text: string): Promise<number> {
  const headers = { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": "bench-client", "content-length": String(Buffer.byteLength(text)) };
  const one = async () => {
    const res = await serve(new Request("http://127.0.0.1:8145/v1/messages", { method: "POST", headers, body: text }));
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`answered ${res.status}`);
  };
  for (let i = 0; i < 2000; i++) await one(); // JIT warm-up
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < BATCH; i++) await one();
    best = Math.min(best, ((performance.now() - t0) * 1000) / BATCH);
  }
  return best;
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "gw-cost-"));
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

await main();
