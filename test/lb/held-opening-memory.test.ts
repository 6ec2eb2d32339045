// A stream's opening is held until its first content event, up to HOLD_MAX_BYTES (2 MiB: a Codex
// handshake echoes its request's tools). That memory counts against lb_max_body_memory_mb as the
// request bodies do (body-budget.ts): an upstream that opens many streams with megabytes of
// handshake-like events (`event: ping` on and on) cannot make gw hold more than the budget —
// an opening that does not fit is passed on as one past the bound is. Real gw, real upstream.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { HOLD_MAX_BYTES } from "../../src/lb/first-event.ts";
import type { RunningGateway } from "../../src/lb/server.ts";
import { configFrom, externalInstances, startTestGateway, type TestUpstream, testUpstream, waitFor } from "../helpers/lb.ts";

const MB = 1 << 20;
const PING = 'event: ping\ndata: {"type": "ping"}\n\n';
/** Just under the bound: on its own, held to the first-byte deadline. */
const OPENING = PING.repeat(Math.floor((HOLD_MAX_BYTES - 4096) / PING.length));

let pinger: TestUpstream;
let gw: RunningGateway;
const clients: AbortController[] = [];

beforeAll(() => {
  // Pings, then nothing: no content, no end.
  pinger = testUpstream(
    () =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(new TextEncoder().encode(OPENING));
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      ),
  );
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.abort();
  await gw?.stop(0);
});
afterAll(() => pinger.stop());

function start(budgetMb: number) {
  gw = startTestGateway(
    configFrom(`
[global]
main_port = 8146
lb_first_byte_timeout_ms = 60000
lb_max_body_memory_mb = ${budgetMb}
${externalInstances({ p: pinger.url })}
[routing]
"r" = [{ instance = "p", provider = "anthropic", model = "m" }]
`),
  );
}

/** A streamed request; resolves with its response (headers), the client's first bytes marked in `got`. */
async function ask(got: Set<number>, i: number): Promise<void> {
  const c = new AbortController();
  clients.push(c);
  const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "r", max_tokens: 8, stream: true, messages: [{ role: "user", content: "hi" }] }), signal: c.signal });
  const reader = res.body!.getReader();
  const first = await reader.read().catch(() => undefined);
  if (first?.value?.byteLength) got.add(i);
}

test("openings held at once are counted in the body budget: those that do not fit are passed on, not held to the deadline", async () => {
  start(16);
  const n = 12; // 12 openings of ~2 MiB: more than 16 MiB
  const got = new Set<number>();
  const seen = pinger.seen.length;
  for (let i = 0; i < n; i++) void ask(got, i).catch(() => {});
  await waitFor(() => pinger.seen.length >= seen + n, 20_000, "every request to reach the upstream");
  // Those that did not fit reach their client now, not at the first-byte deadline a minute away.
  await waitFor(() => got.size >= n - Math.floor(16 / (HOLD_MAX_BYTES / MB)), 10_000, "the openings past the budget to reach their clients");
  expect(gw.bodyMemory()).toBeLessThanOrEqual(16 * MB + HOLD_MAX_BYTES);
});

test("a held opening is counted while it is held, and given back when its client leaves", async () => {
  start(16);
  const got = new Set<number>();
  void ask(got, 0).catch(() => {});
  await waitFor(() => gw.bodyMemory() >= OPENING.length, 20_000, "the held opening to be counted");
  expect(got.size).toBe(0);
  for (const c of clients.splice(0)) c.abort();
  await waitFor(() => gw.bodyMemory() === 0, 20_000, "the held opening's memory to be given back");
});
