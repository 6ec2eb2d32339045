// What a request keeps while it lasts. While the upstream's answer is awaited: what its attempts
// and its record need of the body (the text to resend, its top-level members), not the parsed
// body — Claude Code's bodies parse into thousands of values, which the collector would otherwise
// mark, and promote, for as long as each request lasts (bench/README.md, `bun bench/lb-cost.ts
// --cells`). While its answer streams: not even the body's text, which no attempt will resend —
// a long conversation's body runs to megabytes, and a stream to minutes. Counted after a full
// collection, requests held open by a real upstream.
import { afterAll, expect, test } from "bun:test";
import { heapStats } from "bun:jsc";
import { configFrom, externalInstances, startTestGateway, testUpstream, waitFor } from "../helpers/lb.ts";

let release = () => {};
const answer = new Promise<void>((r) => (release = r));
const upstream = testUpstream(async (req, seen) => {
  seen.body = ""; // the test's upstream keeps no copy of the bodies it measures
  if (new URL(req.url).pathname === "/v1/messages" && !req.headers.has("x-stream")) {
    await answer;
    return Response.json({ type: "message", content: [{ type: "text", text: "ok" }], usage: { input_tokens: 1, output_tokens: 1 } });
  }
  // A stream that has begun its content, and goes on.
  const opening = 'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":1,"output_tokens":1}}}\n\nevent: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi"}}\n\n';
  return new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode(opening)) }), { headers: { "content-type": "text/event-stream" } });
});
const gw = startTestGateway(
  configFrom(`
${externalInstances({ u: upstream.url })}
[routing]
"r" = [{ instance = "u", provider = "anthropic", model = "m" }]
`),
);
const clients: AbortController[] = [];
afterAll(async () => {
  release();
  for (const c of clients) c.abort();
  await gw.stop(0);
  await upstream.stop();
});

const collected = () => {
  Bun.gc(true);
  return heapStats();
};

test("requests in flight do not hold their parsed bodies", async () => {
  const MESSAGES = 20_000;
  const REQUESTS = 4;
  // Built as text, so the test itself holds no parsed copy.
  const body = `{"model":"r","max_tokens":8,"messages":[${'{"role":"user","content":"hi"},'.repeat(MESSAGES - 1)}{"role":"user","content":"hi"}]}`;
  const before = collected().objectTypeCounts.Object ?? 0;
  const seen = upstream.seen.length;
  const answers: Promise<Response>[] = [];
  for (let i = 1; i <= REQUESTS; i++) {
    answers.push(fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body }));
    await waitFor(() => upstream.seen.length === seen + i, 10_000, `request ${i} to reach the upstream`);
  }
  const held = (collected().objectTypeCounts.Object ?? 0) - before;
  release();
  for (const res of answers) expect((await res).status).toBe(200);
  // Parsed, each body is MESSAGES objects; what a request keeps besides is a few dozen. The
  // collector's conservative scan of the stack may still find a stale pointer to the latest
  // parse, hence the bound of one body and a half, not of none.
  expect(held).toBeLessThan(MESSAGES * 1.5);
});

test("an answer streaming does not hold its request's body", async () => {
  const BODY = 2 << 20;
  const STREAMS = 8;
  const before = collected().heapSize;
  const seen = upstream.seen.length;
  for (let i = 0; i < STREAMS; i++) {
    // Each its own text (built here, dropped once sent): 2 MiB of a long conversation.
    const body = `{"model":"r","max_tokens":8,"stream":true,"system":"${String(i).padEnd(BODY, "x")}","messages":[{"role":"user","content":"hi"}]}`;
    const c = new AbortController();
    clients.push(c);
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", "x-stream": "1" }, body, signal: c.signal });
    expect((await res.body!.getReader().read()).done).toBe(false); // the content has begun
  }
  await waitFor(() => upstream.seen.length === seen + STREAMS, 10_000, "the streams to reach the upstream");
  const grown = collected().heapSize - before;
  // Each open stream costs its client, gw and upstream well under a megabyte here; its body,
  // kept, was 2 MiB more.
  expect(grown / STREAMS).toBeLessThan(BODY / 2);
});
