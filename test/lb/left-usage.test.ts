// What a request whose answer never finished cost: the upstream bills the prompt as soon as it
// sends message_start (which carries the input and cache counts), whether gw then delivers the
// answer, drops the attempt at its opening (an error event there fails over) or loses its client.
// The record keeps those counts; an output count read before the answer's end (message_start's
// placeholder) is marked as a lower bound. A real gw, a loopback upstream sending exact events, a
// client that leaves at a known moment.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { RunningGateway } from "../../src/lb/server.ts";
import { parseSince, usageReport } from "../../src/observe/usage.ts";
import { usageJson, usageTable } from "../../src/observe/usage-format.ts";
import { logRecords } from "../helpers/resilience.ts";
import { configFrom, externalInstances, startTestGateway, type TestUpstream, testUpstream, waitFor } from "../helpers/lb.ts";

const sse = (name: string, data: object) => `event: ${name}\ndata: ${JSON.stringify({ type: name, ...data })}\n\n`;
const START = sse("message_start", {
  message: { id: "msg_1", type: "message", role: "assistant", model: "m", content: [], stop_reason: null, usage: { input_tokens: 1200, cache_read_input_tokens: 3000, cache_creation_input_tokens: 500, output_tokens: 1 } },
});
const BLOCK = sse("content_block_start", { index: 0, content_block: { type: "text", text: "" } });
const DELTA = sse("content_block_delta", { index: 0, delta: { type: "text_delta", text: "Hello" } });
const END_DELTA = sse("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 42 } });
const OVERLOADED = sse("error", { error: { type: "overloaded_error", message: "Overloaded" } });
const STOP = sse("message_stop", {});

/** What each model's stream sends, then (without "end") holds open. */
const SCRIPTS: Record<string, { events: string[]; end?: boolean }> = {
  opening: { events: [START, BLOCK] },
  content: { events: [START, BLOCK, DELTA] },
  "after-delta": { events: [START, BLOCK, DELTA, END_DELTA] },
  refused: { events: [START, OVERLOADED], end: true },
  whole: { events: [START, BLOCK, DELTA, END_DELTA, STOP], end: true },
};

let upstream: TestUpstream;
let other: TestUpstream;
let gw: RunningGateway;
const clients: AbortController[] = [];

/** Answers each request as its model's script says. */
const scripted = () =>
  testUpstream((_req, seen) => {
    const model = (JSON.parse(seen.body) as { model: string }).model;
    const script = SCRIPTS[model.replace(/^.*-/, "")] ?? SCRIPTS.whole!;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode(script.events.join("")));
        if (script.end) c.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });

beforeAll(() => {
  upstream = scripted();
  other = scripted();
  gw = startTestGateway(
    configFrom(`
[global]
main_port = 8146
lb_first_byte_timeout_ms = 60000
lb_transient_cooldown_ms = 0
${externalInstances({ a: upstream.url, b: other.url })}
[routing]
"opening" = [{ instance = "a", provider = "anthropic", model = "m-opening" }]
"content" = [{ instance = "a", provider = "anthropic", model = "m-content" }]
"after-delta" = [{ instance = "a", provider = "anthropic", model = "m-after-delta" }]
"failover" = [{ instance = "a", provider = "anthropic", model = "m-refused", priority = 1 }, { instance = "b", provider = "anthropic", model = "m-whole" }]
`),
  );
});
afterEach(() => {
  for (const c of clients.splice(0)) c.abort();
});
afterAll(async () => {
  await gw.stop(0);
  await upstream.stop();
  await other.stop();
});

/** A streamed request to `model`; its response, and a way to leave. */
async function ask(model: string): Promise<{ res: Response; leave: () => void }> {
  const c = new AbortController();
  clients.push(c);
  const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model, max_tokens: 100, stream: true, messages: [{ role: "user", content: "hi" }] }), signal: c.signal });
  return { res, leave: () => c.abort() };
}

/** Read `model`'s stream until `seen` has reached the client, then leave. */
async function leaveAfter(model: string, seen: string): Promise<void> {
  const { res, leave } = await ask(model);
  const reader = res.body!.getReader();
  let text = "";
  while (!text.includes(seen)) text += new TextDecoder().decode((await reader.read()).value);
  leave();
}

const recordOf = async (model: string) => (await logRecords(gw.config().dir, 1, (r) => r.request.model === model))[0]!;

test("a client that leaves while gw holds the opening: the record keeps the prompt's counts and says the client left", async () => {
  const seen = upstream.seen.length;
  const asked = ask("opening").catch(() => undefined); // gw holds the headers too: the opening has no content yet
  await waitFor(() => upstream.seen.length > seen && gw.bodyMemory() >= START.length, 10_000, "the opening to be held");
  clients.at(-1)!.abort();
  await asked;
  const rec = await recordOf("opening");
  expect(rec.response).toMatchObject({ status: 499, client_left: true });
  // Nothing was generated that gw saw: message_start's placeholder output is no count.
  expect(rec.usage).toEqual({ input: 1200, cache_read: 3000, cache_write: 500, output_partial: true });
}, 30_000);

test("an attempt dropped at its opening (an error event after message_start): its prompt counts with the answer's", async () => {
  const { res } = await ask("failover");
  expect(await res.text()).toContain("message_stop");
  expect(res.headers.get("x-gw-attempts")).toBe("2");
  const rec = await recordOf("failover");
  expect(rec.routing.attempts[0]).toMatchObject({ instance: "a", usage: { input: 1200, cache_read: 3000, cache_write: 500 } });
  expect(rec.routing.attempts[1]!.usage).toBeUndefined(); // the answer's own is the record's
  expect(rec.usage).toEqual({ input: 2400, output: 42, cache_read: 6000, cache_write: 1000 });
}, 30_000);

test("a client that leaves mid-stream before any output count: message_start's placeholder is marked a lower bound", async () => {
  await leaveAfter("content", "Hello");
  const rec = await recordOf("content");
  expect(rec.response).toMatchObject({ status: 200, client_left: true });
  expect(rec.usage).toEqual({ input: 1200, output: 1, cache_read: 3000, cache_write: 500, output_partial: true });
}, 30_000);

test("a client that leaves once message_delta brought the count: that count is the output, not marked", async () => {
  await leaveAfter("after-delta", "message_delta");
  const rec = await recordOf("after-delta");
  expect(rec.usage).toEqual({ input: 1200, output: 42, cache_read: 3000, cache_write: 500 });
}, 30_000);

test("gw usage and the status page count the answers whose output is a lower bound, and say so", async () => {
  const dir = join(gw.config().dir, "logs", "requests");
  await logRecords(gw.config().dir, 4);
  const report = await usageReport({ dirs: [dir], pricing: {}, sinceMs: parseSince("1d", Date.now())!, by: "route" });
  // Of the tests above: the left opening and the left content; the failover's and the after-delta's outputs are whole.
  expect(report.total).toMatchObject({ requests: 4, partialOutput: 2 });
  expect(JSON.parse(usageJson(report)).total.partial_output_requests).toBe(2);
  expect(usageTable(report)).toContain("output counts 2 requests cut short (client left, stream broke) before the final count: for those, output and its cost are lower bounds");
  const page = (await (await fetch(`${gw.url}/_gw/api/status`)).json()) as { tokensToday: { total: { requests: number; partialOutput: number } } };
  expect(page.tokensToday.total).toMatchObject({ requests: 4, partialOutput: 2 });
}, 30_000);

