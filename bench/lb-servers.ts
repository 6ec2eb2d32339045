// Servers for bench/lb.ts, each started in its own process so they do not share gw's core:
//   bun bench/lb-servers.ts upstream     the raw upstream; prints "PORT n"
//   bun bench/lb-servers.ts relay URL    the bare Bun relay to URL (the "relay" column); prints "PORT n"

import { UPSTREAM_MODEL } from "./lb-harness.ts";

// --- the upstream: answers as fast as Bun can; "hold" streams stay open until the client leaves ---

function runUpstream() {
  const enc = new TextEncoder();
  const json = JSON.stringify({
    id: "msg_bench", type: "message", role: "assistant", model: "claude-bench",
    content: [{ type: "text", text: "Hello from the benchmark upstream. ".repeat(6) }],
    stop_reason: "end_turn", usage: { input_tokens: 420, output_tokens: 42 },
  });
  const events = Array.from({ length: 10 }, (_, i) => `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"chunk ${i} "}}\n\n`).join("");
  const sse = enc.encode(`event: message_start\ndata: {"type":"message_start"}\n\n${events}event: message_stop\ndata: {"type":"message_stop"}\n\n`);
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const text = await req.text();
      if (text.includes('"hold"')) {
        // The first content event, then nothing until the client leaves.
        return new Response(new ReadableStream({ start: (c) => c.enqueue(enc.encode(events.slice(0, events.indexOf("\n\n") + 2))) }), { headers: { "content-type": "text/event-stream" } });
      }
      if (text.includes('"stream":true')) return new Response(sse, { headers: { "content-type": "text/event-stream" } });
      return new Response(json, { headers: { "content-type": "application/json" } });
    },
  });
  console.log(`PORT ${server.port}`);
}

// --- the bare Bun relay of issue 16: parse, set the model, serialise, fetch, stream back — nothing else ---

function runRelay(upstream: string) {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const body = (await req.json()) as Record<string, unknown>;
      body.model = UPSTREAM_MODEL;
      const up = await fetch(upstream + new URL(req.url).pathname, { method: req.method, headers: req.headers, body: JSON.stringify(body), decompress: false });
      return new Response(up.body, { status: up.status, headers: up.headers });
    },
  });
  console.log(`PORT ${server.port}`);
}

const [mode, arg] = process.argv.slice(2);
if (mode === "upstream") runUpstream();
else if (mode === "relay" && arg) runRelay(arg);
else throw new Error("usage: bun bench/lb-servers.ts upstream | relay URL");
