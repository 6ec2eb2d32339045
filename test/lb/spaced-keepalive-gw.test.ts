// gw's own keep-alive newlines while a spaced answer fails over (spaced-keepalive.ts), over more
// than one failover and with the client leaving at every point: the pace stays the first
// target's, and no moment of the shared timer (due.ts) outlives its request.
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { pendingMoments } from "../../src/lb/due.ts";
import type { RunningGateway } from "../../src/lb/server.ts";
import type { KeepAlivePace } from "../../src/lb/spaced-keepalive.ts";
import { configFrom, startTestGateway, type TestUpstream, testUpstream, waitFor } from "../helpers/lb.ts";
import { logRecords } from "../helpers/resilience.ts";
import { newlinesRead } from "../helpers/newlines-read.ts";
import { tempDir } from "../helpers/tmp.ts";

const enc = new TextEncoder();
const ERROR_529 = JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } });
const ANSWER = JSON.stringify({ id: "msg_1", type: "message", role: "assistant", model: "m", content: [{ type: "text", text: "from c" }], stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: 3, output_tokens: 5 } });

/**
 * A 200 JSON body without a length: `newlines` newlines 5 ms apart (once `gate` opened), then
 * `body`; given `read`, each write past the first waits until the client has read the newlines
 * before it (newlines-read.ts).
 */
function spacedThen(body: string, newlines: number, gate: Promise<void> = Promise.resolve(), read?: (n: number) => Promise<void>): Response {
  let i = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        await gate;
        if (i > 0) await Bun.sleep(5);
        if (i > 0 && i <= newlines) await read?.(i);
        if (i > newlines) return c.close();
        c.enqueue(enc.encode(i++ < newlines ? "\n" : body));
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(stream, { headers: { "content-type": "application/json" } });
}

/** A promise and its resolver: an upstream held until the test lets it go on. */
const gate = () => Promise.withResolvers<void>();

let replyA: () => Response, replyB: () => Response | Promise<Response>, replyC: () => Response | Promise<Response>;
let a: TestUpstream, b: TestUpstream, c: TestUpstream, gw: RunningGateway | undefined, dir: string, toml: string;

beforeAll(() => {
  a = testUpstream(() => replyA());
  b = testUpstream(() => replyB());
  c = testUpstream(() => replyC());
  dir = tempDir("gw-spaced-ka-");
  const instance = (name: string, url: string) => `
[instances.${name}]
url = "${url}"
api_key = "sk-${name}-instance-0123456789ab"
providers = [{ type = "anthropic", api_keys = ["sk-${name}-up-0123456789abcdef"] }]`;
  toml = `
[global]
main_port = 8145
lb_first_byte_timeout_ms = 20000
lb_max_target_retries = 2
${instance("a", a.url)}
${instance("b", b.url)}
${instance("c", c.url)}
[routing]
"trio" = [{ instance = "a", provider = "anthropic", model = "m", priority = 2 }, { instance = "b", provider = "anthropic", model = "m", priority = 1 }, { instance = "c", provider = "anthropic", model = "m" }]
`;
});
afterEach(async () => {
  await gw?.stop(0);
  gw = undefined;
});
afterAll(async () => {
  await a.stop();
  await b.stop();
  await c.stop();
});

/** A fresh gateway (fresh cooldowns) whose own newlines go at `pace`. */
function start(pace: KeepAlivePace): RunningGateway {
  gw = startTestGateway(configFrom(toml, join(dir, "providers.toml")), { spacedKeepAlive: pace });
  return gw;
}

const post = (g: RunningGateway, signal?: AbortSignal) =>
  fetch(`${g.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "trio", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }), signal });

test("two failovers behind newlines: gw keeps the client alive through both, then the third target's answer alone; the record names all three", async () => {
  // No default pace a test waits for: only the first target's (5 ms, kept at the shared timer's 50 ms tick) keeps the client.
  const g = start({ defaultMs: 600_000, minMs: 1 });
  const A_NEWLINES = 3;
  const B_NEWLINES = 3;
  // A: newlines, then a 529. B: answers once gw wrote 12 newlines of its own (~600 ms), newlines, a 529. C: answers when the test says.
  const bGo = gate();
  const cGo = gate();
  const client = newlinesRead(); // A's newlines one read each at gw, as in the reload test below
  replyA = () => spacedThen(ERROR_529, A_NEWLINES, undefined, client.reached);
  replyB = () => spacedThen(ERROR_529, B_NEWLINES, bGo.promise);
  replyC = async () => {
    await cGo.promise;
    return new Response(ANSWER, { headers: { "content-type": "application/json" } });
  };
  const res = await post(g);
  let n = 0; // newlines received
  const decoder = new TextDecoder();
  let text = "";
  let bReleasedAt = Number.POSITIVE_INFINITY;
  for await (const chunk of res.body!) {
    const part = decoder.decode(chunk, { stream: true });
    text += part;
    for (const ch of part) if (ch === "\n") n++;
    client.saw(n);
    if (n === A_NEWLINES + 12 && bReleasedAt === Number.POSITIVE_INFINITY) {
      bReleasedAt = n;
      bGo.resolve();
    }
    // Three of gw's own newlines in the second failover: it keeps the client alive too.
    if (n >= bReleasedAt + B_NEWLINES + 3) cGo.resolve();
  }
  // Newlines only, then the answer: none of gw's after its first byte.
  expect(text.replace(/^\n+/, "")).toBe(ANSWER);
  // The pace of the second failover's newlines is SpaceGaps' (spaced-keepalive.test.ts): judged there, without a clock.
  const [r] = await logRecords(dir, 1, (x) => x.id === res.headers.get("x-gw-request-id"));
  expect(r!.routing.attempts.map((t) => [t.target, t.class])).toEqual([
    ["a/m", "transient"],
    ["b/m", "transient"],
    ["c/m", "ok"],
  ]);
});

test("clients leaving at every point of two failovers behind newlines: no moment of the shared timer outlives its request, no error escapes", async () => {
  // A pace no request outlives: gw's newline moment stays pending unless the request stops it.
  const pace = { defaultMs: 600_000, minMs: 600_000 };
  const points: Record<string, (s: { newlines: number; text: string }) => boolean> = {
    "before any byte": () => true,
    "at the first target's first newline": (s) => s.newlines >= 1,
    "at its last": (s) => s.newlines >= 3,
    "while the second target works": () => b.seen.length > bSeen,
    "at the second target's first newline": (s) => s.newlines >= 4,
    "while the third target works": () => c.seen.length > cSeen,
    "at the third target's answer": (s) => s.text.includes("{"),
  };
  let bSeen = 0;
  let cSeen = 0;
  for (const [point, reached] of Object.entries(points)) {
    const g = start(pace);
    const bGo = gate();
    const cGo = gate();
    replyA = () => spacedThen(ERROR_529, 3);
    replyB = () => spacedThen(ERROR_529, 3, bGo.promise);
    replyC = async () => {
      await cGo.promise;
      return new Response(ANSWER, { headers: { "content-type": "application/json" } });
    };
    bSeen = b.seen.length;
    cSeen = c.seen.length;
    const leave = new AbortController();
    const res = await post(g, leave.signal);
    const id = res.headers.get("x-gw-request-id");
    const state = { newlines: 0, text: "" };
    const decoder = new TextDecoder();
    const read = (async () => {
      for await (const chunk of res.body!) {
        state.text += decoder.decode(chunk, { stream: true });
        state.newlines = state.text.split("\n").length - 1;
      }
    })().catch(() => {});
    // The upstreams held go on as soon as they are asked, but where the client is to leave while one works.
    await waitFor(() => {
      if (b.seen.length > bSeen && point !== "while the second target works") bGo.resolve();
      if (c.seen.length > cSeen && point !== "while the third target works") cGo.resolve();
      return reached(state);
    }, 10_000, point);
    leave.abort();
    await read;
    // A slow upstream answers in the end.
    bGo.resolve();
    cGo.resolve();
    await logRecords(dir, 1, (x) => x.id === id);
    await waitFor(() => pendingMoments() === 0, 5_000, `no moment pending after the client left ${point} (${pendingMoments()} pending)`);
    await g.stop(0);
    gw = undefined;
  }
});

test("a reload while gw keeps the client alive: the failover goes on, gw's newlines then the next target's answer; nothing left pending", async () => {
  const g = start({ defaultMs: 600_000, minMs: 1 });
  const bGo = gate();
  // A's newlines one read each at gw: its pace is the only one that keeps the client (beside two
  // CPU hogs gw once got all three in one read, sent none of its own, and C answered after B's 20 s).
  const client = newlinesRead();
  replyA = () => spacedThen(ERROR_529, 3, undefined, client.reached);
  replyB = () => spacedThen(ANSWER.replace("from c", "from b"), 0, bGo.promise);
  const bSeen = b.seen.length;
  const res = await post(g);
  let reloaded = false;
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of res.body!) {
    text += decoder.decode(chunk, { stream: true });
    client.saw(text.split("\n").length - 1);
    // gw's own newlines going: reload (a new config object, the same routes), then let B answer.
    if (!reloaded && text.length > 4 && b.seen.length > bSeen) {
      reloaded = true;
      expect(g.reload(configFrom(toml, join(dir, "providers.toml")))).toEqual([]);
      bGo.resolve();
    }
  }
  expect(reloaded).toBe(true);
  expect(text.replace(/^\n+/, "")).toBe(ANSWER.replace("from c", "from b"));
  await logRecords(dir, 1, (x) => x.id === res.headers.get("x-gw-request-id"));
  await waitFor(() => pendingMoments() === 0, 5_000, "no moment pending after the answer");
});
