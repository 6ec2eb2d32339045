// A non-streamed answer that opens with keep-alive newlines (CLIProxyAPI's
// nonstream-keepalive-interval) and then turns out to be an error object: only whitespace reached
// the client, so the request still fails over, and the next target's answer follows the newlines
// (src/lb/spaced-answer.ts). Real gw, real upstreams on loopback, the official SDKs as clients.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { RunningGateway } from "../../src/lb/server.ts";
import type { KeepAlivePace } from "../../src/lb/spaced-keepalive.ts";
import { configFrom, startTestGateway, type TestUpstream, testUpstream, waitFor } from "../helpers/lb.ts";
import { type MockServer, startMock } from "../helpers/mock.ts";
import { logRecords } from "../helpers/resilience.ts";
import { newlinesRead } from "../helpers/newlines-read.ts";
import { tempDir } from "../helpers/tmp.ts";

/** A provider key gw knows (from the config): an error quoting it must reach no client. */
const KEY = "sk-relay-0123456789abcdef0123";
const MASKED = "sk-rel…0123";
const enc = new TextEncoder();

type Dialect = "anthropic" | "openai";
const message = (text: string) => ({ id: "msg_1", type: "message", role: "assistant", model: "m", content: [{ type: "text", text }], stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: 3, output_tokens: 5 } });
const completion = (text: string) => ({ id: "c1", object: "chat.completion", created: 1, model: "m", choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }], usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } });
const answer = (d: Dialect, text: string) => JSON.stringify(d === "anthropic" ? message(text) : completion(text));

/** The error objects CLIProxyAPI writes after its keep-alive: Anthropic's shape on /v1/messages, OpenAI's elsewhere. */
const ERRORS = {
  429: { anthropic: { type: "rate_limit_error", message: "Rate limit reached" }, openai: { message: "Rate limit reached", type: "rate_limit_error", code: "rate_limit_exceeded" }, class: "transient" },
  529: { anthropic: { type: "overloaded_error", message: "Overloaded" }, openai: { message: "Overloaded", type: "server_error", code: 529 }, class: "transient" },
  401: { anthropic: { type: "authentication_error", message: "invalid x-api-key" }, openai: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" }, class: "auth" },
} as const;
type Status = keyof typeof ERRORS;
const errorObject = (d: Dialect, status: Status, message?: string) => {
  const inner = { ...ERRORS[status][d], ...(message ? { message } : {}) };
  return JSON.stringify(d === "anthropic" ? { type: "error", error: inner } : { error: inner });
};

/**
 * A 200 JSON body without a length: `newlines` keep-alive newlines, then `body`. "apart": one per
 * write, written as the stream is read (CLIProxyAPI writes one per interval); "one write": all of
 * it in one chunk (the body ends after it: a body that ended in its first write would get a length).
 */
function keepAliveThen(body: string, newlines: number, how: "apart" | "one write", read?: (n: number) => Promise<void>): Response {
  const parts = how === "one write" ? [`${"\n".repeat(newlines)}${body}`] : [...Array.from({ length: newlines }, () => "\n"), body];
  let i = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        // A moment between writes, as between CLIProxyAPI's ticks: each newline its own read at gw.
        if (i > 0) await Bun.sleep(5);
        // Given `read`: each write waits until the client has read the newlines before it (newlines-read.ts).
        if (i > 0 && i < parts.length) await read?.(i);
        if (i === parts.length) return c.close();
        c.enqueue(enc.encode(parts[i++]!));
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(stream, { headers: { "content-type": "application/json" } });
}

// The first target answers as `quirkA` says, the second as `quirkB` (a normal answer by default).
let quirkA: (d: Dialect) => Response | Promise<Response>;
let quirkB: ((d: Dialect) => Response | Promise<Response>) | undefined;
let a: TestUpstream, b: TestUpstream, mock: MockServer, gw: RunningGateway, dir: string, toml: string;
const dialectOf = (req: Request): Dialect => (new URL(req.url).pathname === "/v1/messages" ? "anthropic" : "openai");

beforeAll(() => {
  a = testUpstream((req) => quirkA(dialectOf(req)));
  b = testUpstream((req) => quirkB?.(dialectOf(req)) ?? new Response(answer(dialectOf(req), "from b"), { headers: { "content-type": "application/json" } }));
  mock = startMock({ name: "cpa" });
  dir = tempDir("gw-spaced-");
  const instance = (name: string, url: string, key: string) => `
[instances.${name}]
url = "${url}"
api_key = "sk-${name}-instance-0123456789ab"
providers = [{ type = "anthropic", api_keys = ["${key}"] }, { type = "openai", base_url = "https://${name}.example/v1", api_keys = ["${key}"] }]`;
  toml = `
[global]
main_port = 8145
lb_first_byte_timeout_ms = 20000
${instance("a", "A_URL", KEY)}
${instance("b", "B_URL", "sk-b-up-0123456789abcdef0123")}
${instance("cpa", mock.url, "sk-cpa-up-0123456789abcdef0123")}
[routing]
"claude-home" = [{ instance = "b", provider = "anthropic", model = "claude-home" }]
"opus-a" = [{ instance = "a", provider = "anthropic", model = "claude-a" }]
"opus-a-alias" = [{ instance = "a", provider = "anthropic", model = "claude-a" }]
"pair" = [{ instance = "a", provider = "anthropic", model = "m", priority = 1 }, { instance = "b", provider = "anthropic", model = "m" }]
"cpa-pair" = [{ instance = "cpa", provider = "anthropic", model = "m~529~slow-first=300~ns-keepalive=100", priority = 1 }, { instance = "cpa", provider = "anthropic", model = "m" }]
"gem" = [{ instance = "a", provider = "anthropic", model = "gemini-3-pro" }]
"cpa-gem" = [{ instance = "cpa", provider = "anthropic", model = "gemini-3-pro~sig~slow-first=300~ns-keepalive=100" }]
`
    .replace("A_URL", a.url)
    .replace("B_URL", b.url);
});
// A fresh gateway (fresh cooldowns) for each case; the request log is the same directory.
beforeEach(() => {
  quirkB = undefined;
  gw = startTestGateway(configFrom(toml, join(dir, "providers.toml")));
});
afterEach(() => gw.stop(0));
afterAll(async () => {
  await a.stop();
  await b.stop();
  await mock.stop();
});

const anthropic = () => new Anthropic({ baseURL: gw.url, apiKey: "unused", maxRetries: 0 });
const openai = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
const HI = [{ role: "user" as const, content: "hi" }];

/** Ask `model` through the dialect's SDK (not streamed): the answer's text and the request id, or what the SDK raised. */
async function ask(d: Dialect, model = "pair"): Promise<{ text?: string; id: string | null; raised?: unknown; data?: unknown }> {
  try {
    if (d === "anthropic") {
      const r = await anthropic().messages.create({ model, max_tokens: 16, messages: HI }).withResponse();
      const block = r.data.content?.[0];
      return { text: block?.type === "text" ? block.text : undefined, id: r.response.headers.get("x-gw-request-id"), data: r.data };
    }
    const r = await openai().chat.completions.create({ model, messages: HI }).withResponse();
    return { text: r.data.choices?.[0]?.message.content ?? undefined, id: r.response.headers.get("x-gw-request-id"), data: r.data };
  } catch (e) {
    return { raised: e, id: null };
  }
}

/** The request-log record of the request whose answer carried `id`. */
async function recordOf(id: string | null) {
  const [r] = await logRecords(dir, 1, (r) => r.id === id);
  return r!;
}

const post = (d: Dialect, model = "pair", init: RequestInit = {}) =>
  fetch(`${gw.url}${d === "anthropic" ? "/v1/messages" : "/v1/chat/completions"}`, { method: "POST", body: JSON.stringify({ model, max_tokens: 16, messages: HI }), ...init });

describe("an error object after keep-alive newlines fails over", () => {
  const cases = (["anthropic", "openai"] as const).flatMap((d) => ([429, 529, 401] as const).flatMap((status) => (["apart", "one write"] as const).map((how) => [d, status, how] as const)));
  test.each(cases)("%s SDK, %d, newlines and error %s: the SDK gets the second target's answer, the log both attempts, the first target cools", async (d, status, how) => {
    quirkA = (dd) => keepAliveThen(errorObject(dd, status), 3, how);
    const got = await ask(d);
    expect(got.raised).toBeUndefined();
    expect(got.text).toBe("from b");
    const r = await recordOf(got.id);
    expect(r.routing.attempts.map((t) => [t.target, t.status, t.class])).toEqual([
      ["a/m", status, ERRORS[status].class],
      ["b/m", 200, "ok"],
    ]);
    expect(r.routing.attempts[0]!.error).toContain("after keep-alive spaces");
    expect(r.response.status).toBe(200);
    expect(gw.coolingList(Date.now()).map((c) => [c.route, c.target])).toEqual([["pair", "a/m"]]);
    // Counted as a failover, as one before any byte is.
    expect(await (await fetch(`${gw.url}/metrics`)).text()).toContain('gw_failovers_total{route="pair"} 1');
  });

  test("the client's bytes: the first target's newlines, then the second target's body as it sent it (gzip decoded: the client's body is identity)", async () => {
    quirkA = (d) => keepAliveThen(errorObject(d, 429), 2, "apart");
    const body = answer("openai", "from b");
    quirkB = () => new Response(gzipSync(body), { headers: { "content-type": "application/json", "content-encoding": "gzip" } });
    const res = await post("openai");
    expect([res.status, res.headers.get("content-encoding")]).toEqual([200, null]);
    expect(await res.text()).toBe(`\n\n${body}`);
    const r = await recordOf(res.headers.get("x-gw-request-id"));
    expect(r.usage?.output).toBe(5);
  });

  test("the next target opens with keep-alive newlines too: its newlines follow, then its answer (or, failing, the next)", async () => {
    quirkA = (d) => keepAliveThen(errorObject(d, 529), 2, "apart");
    quirkB = (d) => keepAliveThen(answer(d, "worth the wait"), 3, "apart");
    const res = await post("anthropic");
    expect(await res.text()).toBe(`\n\n\n\n\n${answer("anthropic", "worth the wait")}`);
    const r = await recordOf(res.headers.get("x-gw-request-id"));
    expect(r.routing.attempts.map((t) => [t.target, t.class])).toEqual([
      ["a/m", "transient"],
      ["b/m", "ok"],
    ]);
  });

  test("the next target answers an event stream to the non-streamed request: no answer here, the error after the newlines", async () => {
    quirkA = (d) => keepAliveThen(errorObject(d, 429), 1, "apart");
    quirkB = () => new Response("event: ping\ndata: {}\n\n", { headers: { "content-type": "text/event-stream" } });
    const res = await post("openai");
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.startsWith("\n")).toBe(true);
    expect(JSON.parse(text).error.message).toContain("event stream");
    const r = await recordOf(res.headers.get("x-gw-request-id"));
    expect(r.routing.attempts.map((t) => [t.target, t.class])).toEqual([
      ["a/m", "transient"],
      ["b/m", "transient"],
    ]);
    // Not the target's fault: no cooldown for it.
    expect(gw.coolingList(Date.now()).map((c) => c.target)).toEqual(["a/m"]);
  });

  test.each([
    ["breaks", (c: ReadableStreamDefaultController<Uint8Array>) => c.error(new Error("upstream gone"))],
    ["ends", (c: ReadableStreamDefaultController<Uint8Array>) => c.close()],
  ] as const)("a body that %s after keep-alive newlines, before any value, fails over too", async (_, end) => {
    quirkA = () => {
      let sent = false;
      const body = new ReadableStream<Uint8Array>(
        {
          async pull(c) {
            if (sent) return end(c);
            sent = true;
            c.enqueue(enc.encode("\n"));
            await Bun.sleep(5);
          },
        },
        { highWaterMark: 0 },
      );
      return new Response(body, { headers: { "content-type": "application/json" } });
    };
    const got = await ask("anthropic");
    expect(got.raised).toBeUndefined();
    expect(got.text).toBe("from b");
    const r = await recordOf(got.id);
    expect(r.routing.attempts.map((t) => [t.target, t.status, t.class])).toEqual([
      ["a/m", 0, "transient"],
      ["b/m", 200, "ok"],
    ]);
  });

  test("Anthropic's error shape in a 200 without newlines (sized, as CLIProxyAPI's error comes when it has not kept alive) is judged as its error: it fails over", async () => {
    quirkA = () => new Response(errorObject("anthropic", 529), { headers: { "content-type": "application/json" } });
    const got = await ask("anthropic");
    expect(got.text).toBe("from b");
    const r = await recordOf(got.id);
    expect(r.routing.attempts.map((t) => [t.target, t.status, t.class])).toEqual([
      ["a/m", 529, "transient"],
      ["b/m", 200, "ok"],
    ]);
  });

  test("gw mock as CLIProxyAPI (ns-keepalive, then a 529 on /v1/messages): the Anthropic SDK gets the second target's message", async () => {
    const got = await ask("anthropic", "cpa-pair");
    expect(got.raised).toBeUndefined();
    expect(got.text).toContain("cpa");
    const r = await recordOf(got.id);
    expect(r.routing.attempts.map((t) => [t.target, t.class])).toEqual([
      ["cpa/m~529~slow-first=300~ns-keepalive=100", "transient"],
      ["cpa/m", "ok"],
    ]);
  });
});

describe("when every target fails after newlines", () => {
  test.each(["openai", "anthropic"] as const)("%s: the last error follows the newlines, masked, under the 200; the record says the final status", async (d) => {
    quirkA = (dd) => keepAliveThen(errorObject(dd, 429), 2, "apart");
    quirkB = (dd) => keepAliveThen(errorObject(dd, 401, `Incorrect API key provided: ${KEY}`), 1, "one write");
    const res = await post(d);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(KEY);
    expect(text).toBe(`\n\n\n${errorObject(d, 401, `Incorrect API key provided: ${MASKED}`)}`);
    const r = await recordOf(res.headers.get("x-gw-request-id"));
    expect(r.response.status).toBe(401);
    expect(r.response.error).toContain("Incorrect API key provided");
    expect(r.routing.attempts.map((t) => [t.target, t.status, t.class])).toEqual([
      ["a/m", 429, "transient"],
      ["b/m", 401, "auth"],
    ]);
  });

  test("what the SDKs make of it: a 200 whose body is an error object", async () => {
    quirkA = (d) => keepAliveThen(errorObject(d, 429), 2, "apart");
    quirkB = (d) => keepAliveThen(errorObject(d, 529), 1, "apart");
    // Neither SDK raises for a 200: each returns the error object as its answer.
    const viaAnthropic = await ask("anthropic");
    expect(viaAnthropic.raised).toBeUndefined();
    expect(viaAnthropic.data).toEqual({ type: "error", error: ERRORS[529].anthropic });
    // A fresh gateway: no cooldown left from the first request.
    await gw.stop(0);
    gw = startTestGateway(configFrom(toml, join(dir, "providers.toml")));
    const viaOpenai = await ask("openai");
    expect(viaOpenai.raised).toBeUndefined();
    expect(viaOpenai.data).toEqual({ error: ERRORS[529].openai });
  });
});

test("the client leaves while the next target works: that upstream request is aborted, nothing left running", async () => {
  quirkA = (d) => keepAliveThen(errorObject(d, 429), 1, "apart");
  const bSeen = b.seen.length;
  const bAborted = b.aborted.length;
  // The second target never answers on its own.
  quirkB = () => new Promise<Response>(() => {});
  const leave = new AbortController();
  const res = await post("openai", "pair", { signal: leave.signal });
  const reader = res.body!.getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toBe("\n");
  await waitFor(() => b.seen.length > bSeen, 10_000, "the failover to reach the second target");
  leave.abort();
  await waitFor(() => b.aborted.length > bAborted, 10_000, "the second target's request to be aborted");
  const r = await recordOf(res.headers.get("x-gw-request-id"));
  expect(r.routing.attempts.map((t) => [t.target, t.class])).toEqual([
    ["a/m", "transient"],
    ["b/m", "aborted"],
  ]);
});

/** Why gw ends an answer still running when its shutdown grace period ends (server.ts). */
const GRACE_ENDED = "gw stopped: the shutdown grace period ended before this answer did";
/** gw's error JSON that then follows keep-alive newlines, in the client's dialect. */
const stoppedError = (d: Dialect) => (d === "anthropic" ? { type: "error", error: { type: "api_error", message: GRACE_ENDED } } : { error: { message: GRACE_ENDED, type: "server_error", code: "gw_stopping" } });

test("gw stops while the next target works: that upstream request is aborted, the client's body ends with gw's error JSON after the newlines, the record is written", async () => {
  quirkA = (d) => keepAliveThen(errorObject(d, 429), 1, "apart");
  const bSeen = b.seen.length;
  const bAborted = b.aborted.length;
  quirkB = () => new Promise<Response>(() => {});
  const res = await post("openai");
  const reader = res.body!.getReader();
  expect(new TextDecoder().decode((await reader.read()).value)).toBe("\n");
  await waitFor(() => b.seen.length > bSeen, 10_000, "the failover to reach the second target");
  const stopped = gw.stop(50);
  const rest = (async () => {
    let text = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
    return text;
  })();
  await stopped;
  // gw's newlines may come before it: JSON allows them.
  expect(JSON.parse(await rest)).toEqual(stoppedError("openai"));
  await waitFor(() => b.aborted.length > bAborted, 10_000, "the second target's request to be aborted");
  const r = await recordOf(res.headers.get("x-gw-request-id"));
  expect(r.routing.attempts.map((t) => [t.target, t.class])).toEqual([
    ["a/m", "transient"],
    ["b/m", "aborted"],
  ]);
});

test.each(["anthropic", "openai"] as const)("%s SDK: gw stops while the target still sends keep-alive newlines: gw's error JSON follows them, which the SDK reads as its answer's body (no reset), and the record says gw cut it", async (d) => {
  // Newlines until gw lets the request go: the model never answers within the grace period.
  const aAborted = a.aborted.length;
  quirkA = () => {
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(c) {
          await Bun.sleep(5);
          c.enqueue(enc.encode("\n"));
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { headers: { "content-type": "application/json" } });
  };
  // The SDK's fetch, telling the test when the 200 and its headers are in: the answer is under way.
  const headers = Promise.withResolvers<void>();
  const seen: typeof fetch = Object.assign(async (input: string | URL | Request, init?: RequestInit) => {
    const res = await fetch(input, init);
    headers.resolve();
    return res;
  }, { preconnect: fetch.preconnect });
  const asked =
    d === "anthropic"
      ? new Anthropic({ baseURL: gw.url, apiKey: "unused", maxRetries: 0, fetch: seen }).messages.create({ model: "pair", max_tokens: 16, messages: HI }).withResponse()
      : new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0, fetch: seen }).chat.completions.create({ model: "pair", messages: HI }).withResponse();
  await headers.promise;
  await gw.stop(50);
  // Before, the body was aborted: each SDK threw a bare TypeError (ECONNRESET), no API error at all.
  // A 200 cannot become an error status: the SDKs return an error body as the answer (see above).
  const got = await asked;
  expect(got.data as unknown).toEqual(stoppedError(d));
  const r = await recordOf(got.response.headers.get("x-gw-request-id"));
  expect(r.response).toMatchObject({ status: 200, broken: true, error: GRACE_ENDED });
  expect(r.response.client_left).toBeUndefined();
  // Cut by gw, not failed by the target: it does not cool.
  expect(r.routing.attempts.map((t) => [t.target, t.class])).toEqual([["a/m", "ok"]]);
  expect(r.cooldowns).toEqual([]);
  await waitFor(() => a.aborted.length > aAborted, 10_000, "the target's request to be let go");
});

/** A gateway on the same config whose own keep-alive newlines go at `pace` (fresh cooldowns). */
/**
 * For tests about what ends gw's own newlines, not their pace: one comes within 20 ms whether or
 * not gw saw the first target's newlines apart — a loaded machine may hand them to gw in one read,
 * and then the default pace alone (600 s in the pace test) would leave the wait to the 20 s deadline.
 */
const OWN_NEWLINES_SOON: KeepAlivePace = { defaultMs: 20, minMs: 1 };

async function restartWith(pace: KeepAlivePace): Promise<void> {
  await gw.stop(0);
  gw = startTestGateway(configFrom(toml, join(dir, "providers.toml")), { spacedKeepAlive: pace });
}

/** The second target's answer, held back until release(): it "works" for as long as the test says. */
function heldB(): { release: () => void } {
  const { promise, resolve } = Promise.withResolvers<void>();
  quirkB = async (d) => {
    await promise;
    return new Response(answer(d, "from b"), { headers: { "content-type": "application/json" } });
  };
  return { release: () => resolve() };
}

/** A body read as it arrives: `onNewlines(n)` after each chunk with the count of newlines so far. */
async function readCounting(body: ReadableStream<Uint8Array>, onNewlines: (n: number) => void): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of body) {
    text += decoder.decode(chunk, { stream: true });
    onNewlines(text.split("\n").length - 1);
  }
  return text;
}

describe("gw keeps the client alive while the next target works", () => {
  // The first target's newlines: 3, then its 529. Any newline past those is gw's own.
  const A_NEWLINES = 3;

  test("at the first target's pace: a newline of gw's while the second target has not answered, then its JSON, then nothing", async () => {
    // A default pace no test waits for: only the first target's pace (5 ms, kept at the 50 ms tick) can keep the client.
    await restartWith({ defaultMs: 600_000, minMs: 1 });
    const client = newlinesRead();
    quirkA = (d) => keepAliveThen(errorObject(d, 529), A_NEWLINES, "apart", client.reached);
    const b = heldB();
    const res = await post("anthropic");
    const text = await readCounting(res.body!, (n) => (client.saw(n), n > A_NEWLINES && b.release()));
    const body = answer("anthropic", "from b");
    expect(text.endsWith(body)).toBe(true);
    const spaces = text.slice(0, -body.length);
    expect(spaces.length).toBeGreaterThan(A_NEWLINES);
    expect(spaces).toMatch(/^\n+$/);
    const r = await recordOf(res.headers.get("x-gw-request-id"));
    expect(r.routing.attempts.map((t) => [t.target, t.class])).toEqual([
      ["a/m", "transient"],
      ["b/m", "ok"],
    ]);
    expect(r.response.bytes).toBe(text.length);
  });

  test("at the default pace when the first target's is not known (its newlines in one write): the Anthropic SDK parses the answer", async () => {
    await restartWith({ defaultMs: 100, minMs: 1 });
    quirkA = (d) => keepAliveThen(errorObject(d, 529), A_NEWLINES, "one write");
    const b = heldB();
    let newlines = 0;
    // The SDK's fetch, counting the body's newlines as the SDK reads it: B answers once gw sent one of its own.
    const counting: typeof fetch = Object.assign(async (input: string | URL | Request, init?: RequestInit) => {
      const res = await fetch(input, init);
      const decoder = new TextDecoder();
      const count = new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, c) {
          newlines += decoder.decode(chunk).split("\n").length - 1;
          if (newlines > A_NEWLINES) b.release();
          c.enqueue(chunk);
        },
      });
      return new Response(res.body!.pipeThrough(count), { status: res.status, headers: res.headers });
    }, { preconnect: fetch.preconnect });
    const client = new Anthropic({ baseURL: gw.url, apiKey: "unused", maxRetries: 0, fetch: counting });
    const message = await client.messages.create({ model: "pair", max_tokens: 16, messages: HI });
    expect(message.content.map((c) => (c.type === "text" ? c.text : c.type))).toEqual(["from b"]);
    expect(newlines).toBeGreaterThan(A_NEWLINES);
  });

  test("the client leaves while gw keeps it alive: the second target's request is aborted, gw's newlines stop", async () => {
    await restartWith(OWN_NEWLINES_SOON);
    quirkA = (d) => keepAliveThen(errorObject(d, 429), A_NEWLINES, "apart");
    const bAborted = b.aborted.length;
    quirkB = () => new Promise<Response>(() => {});
    const leave = new AbortController();
    const res = await post("openai", "pair", { signal: leave.signal });
    const read = readCounting(res.body!, (n) => n > A_NEWLINES + 1 && leave.abort()).catch(() => "left");
    expect(await read).toBe("left");
    await waitFor(() => b.aborted.length > bAborted, 10_000, "the second target's request to be aborted");
    const r = await recordOf(res.headers.get("x-gw-request-id"));
    expect(r.routing.attempts.map((t) => [t.target, t.class])).toEqual([
      ["a/m", "transient"],
      ["b/m", "aborted"],
    ]);
  });
});

test("gw stops while it keeps the client alive: the second target's request is aborted, the client's body ends with gw's error JSON after the newlines", async () => {
  await restartWith(OWN_NEWLINES_SOON);
  quirkA = (d) => keepAliveThen(errorObject(d, 429), 3, "apart");
  const bAborted = b.aborted.length;
  quirkB = () => new Promise<Response>(() => {});
  const res = await post("openai");
  let stopped: Promise<void> | undefined;
  const read = readCounting(res.body!, (n) => {
    if (n > 3) stopped ??= gw.stop(50);
  }).then(
    (text) => `ended: ${JSON.stringify(text.replace(/\n/g, ""))}`,
    () => "aborted",
  );
  // Ended with gw's error, the SDK's to read: no reset, nor the second target's answer.
  expect(await read).toBe(`ended: ${JSON.stringify(JSON.stringify(stoppedError("openai")))}`);
  await stopped;
  await waitFor(() => b.aborted.length > bAborted, 10_000, "the second target's request to be aborted");
});

describe("a thinking-signature rejection after keep-alive newlines", () => {
  // The first route in file order whose every target serves Claude ("claude-home", on b) is where a
  // claude# signature gets its one more go (signature-fallback.ts), as before any byte.
  const SIGNED = [
    { role: "user" as const, content: "q" },
    { role: "assistant" as const, content: [{ type: "thinking" as const, thinking: "…", signature: "claude#c2lnbmVk" }, { type: "text" as const, text: "a" }] },
    { role: "user" as const, content: "q2" },
  ];
  const REJECTION = JSON.stringify({ type: "error", error: { type: "invalid_request_error", message: "messages.1.content.0.thinking.signature: Invalid `signature` in `thinking` block" } });

  test("gets the signature fallback route: the newlines, then its answer; the record names the fallback and both attempts", async () => {
    quirkA = () => keepAliveThen(REJECTION, 2, "apart");
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "gem", max_tokens: 16, messages: SIGNED }) });
    expect(res.status).toBe(200);
    // Its headers went out with the first attempt's 200: they name that route.
    expect(res.headers.get("x-gw-route")).toBe("gem");
    expect(await res.text()).toBe(`\n\n${answer("anthropic", "from b")}`);
    const r = await recordOf(res.headers.get("x-gw-request-id"));
    expect(r.routing.signature_fallback).toBe("claude-home");
    expect(r.routing.route).toBe("claude-home");
    // The rejected attempt names the route it was made on: not the record's.
    expect(r.routing.attempts.map((t) => [t.target, t.status, t.class, t.route])).toEqual([
      ["a/gemini-3-pro", 400, "signature", "gem"],
      ["b/claude-home", 200, "ok", undefined],
    ]);
    expect(r.response.status).toBe(200);
  });

  test("the fallback route fails too: the rejection follows the newlines, not that failure (a client heals a rejected signature)", async () => {
    quirkA = () => keepAliveThen(REJECTION, 2, "apart");
    quirkB = (d) => new Response(errorObject(d, 529), { status: 529, headers: { "content-type": "application/json" } });
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "gem", max_tokens: 16, messages: SIGNED }) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(`\n\n${REJECTION}`);
    const r = await recordOf(res.headers.get("x-gw-request-id"));
    expect([r.response.status, r.routing.signature_fallback]).toEqual([400, "claude-home"]);
    expect(r.routing.attempts.map((t) => [t.target, t.status, t.class])).toEqual([
      ["a/gemini-3-pro", 400, "signature"],
      ["b/claude-home", 529, "transient"],
    ]);
  });

  test("no route of the family can answer (their instances lost, as the supervisor says): the rejection follows the newlines at once, with no go", async () => {
    quirkA = () => keepAliveThen(REJECTION, 2, "apart");
    for (const i of ["a", "b", "cpa"]) gw.availability(i, "lost"); // the Claude routes' instances: claude-home, pair, cpa-pair
    const bSeen = b.seen.length;
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "gem", max_tokens: 16, messages: SIGNED }) });
    expect(await res.text()).toBe(`\n\n${REJECTION}`);
    expect(b.seen.length).toBe(bSeen);
    const r = await recordOf(res.headers.get("x-gw-request-id"));
    expect([r.response.status, r.routing.route, r.routing.signature_fallback]).toEqual([400, "gem", "claude-home"]);
    expect(r.routing.attempts.map((t) => [t.target, t.status, t.class, t.route])).toEqual([["a/gemini-3-pro", 400, "signature", undefined]]);
  });

  test("a family route that is another name for the call that rejected it (a's claude-a) is passed over: the next one gets the go", async () => {
    quirkA = () => keepAliveThen(REJECTION, 2, "apart");
    gw.availability("b", "lost"); // claude-home's instance: the family's first route cannot answer
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "opus-a", max_tokens: 16, messages: SIGNED }) });
    await res.text();
    const r = await recordOf(res.headers.get("x-gw-request-id"));
    // "pair" (a's m: another model, which may verify it — here a rejects it too) follows in file order.
    expect(r.routing.signature_fallback).toBe("pair");
    expect(r.routing.attempts.map((t) => [t.target, t.status, t.class])).toEqual([
      ["a/claude-a", 400, "signature"],
      ["a/m", 400, "signature"],
    ]);
  });

  test("gw mock as CLIProxyAPI (ns-keepalive, then its 400 signature error): the Anthropic SDK gets the fallback route's message", async () => {
    const bSeen = b.seen.length;
    const { data, response } = await anthropic().messages.create({ model: "cpa-gem", max_tokens: 16, messages: SIGNED }).withResponse();
    expect(data.content.map((c) => (c.type === "text" ? c.text : c.type))).toEqual(["from b"]);
    expect(JSON.parse(b.seen[bSeen]!.body).model).toBe("claude-home");
    const r = await recordOf(response.headers.get("x-gw-request-id"));
    expect(r.routing.signature_fallback).toBe("claude-home");
    expect(r.routing.attempts.map((t) => [t.target, t.class])).toEqual([
      ["cpa/gemini-3-pro~sig~slow-first=300~ns-keepalive=100", "signature"],
      ["b/claude-home", "ok"],
    ]);
  });
});

describe("which attempt a spaced failover is said to be answered by", () => {
  type Status = { routes: { name: string; targets: { id: string; attempts: number; failed: number }[] }[]; errors: { route: string; target: string; status: number; attempts: number }[] };
  const status = async () => (await (await fetch(`${gw.url}/_gw/api/status`)).json()) as Status;
  const pairTargets = (s: Status) => s.routes.find((r) => r.name === "pair")!.targets.map((t) => [t.id, t.attempts, t.failed]);

  test("the x-gw-* headers name the first attempt (they went out with its 200); the record, /metrics, the status API and route explain the one that answered", async () => {
    quirkA = (d) => keepAliveThen(errorObject(d, 529), 2, "apart");
    const session = crypto.randomUUID();
    const res = await post("anthropic", "pair", { headers: { "x-claude-code-session-id": session } });
    expect(await res.text()).toBe(`\n\n${answer("anthropic", "from b")}`);
    expect([res.headers.get("x-gw-target"), res.headers.get("x-gw-attempts")]).toEqual(["a/m", "1"]);
    const r = await recordOf(res.headers.get("x-gw-request-id"));
    expect(r.routing.attempts.map((t) => [t.target, t.class])).toEqual([
      ["a/m", "transient"],
      ["b/m", "ok"],
    ]);
    expect(r.routing.sticky).toBe("set");
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toContain('gw_requests_total{route="pair",target="b/m",dialect="anthropic",status_class="2xx"} 1');
    expect(metrics).not.toContain('gw_requests_total{route="pair",target="a/m"');
    expect(pairTargets(await status())).toEqual([
      ["a/m", 1, 1],
      ["b/m", 1, 0],
    ]);
    // `gw status`: the request a success, the first target's attempt failed, the second's not.
    expect(gw.stats()).toMatchObject({ requests: 1, errors: 0, byInstance: { a: { requests: 1, errors: 1 }, b: { requests: 1, errors: 0 } } });
    // The session stays with the target that answered.
    const e = await gw.explain(JSON.stringify({ model: "pair", max_tokens: 16, messages: HI }), { session });
    const target = e && "target" in e ? e.target : null;
    expect(target && "pool" in target ? target.pool.filter((p) => p.sticky).map((p) => p.id) : []).toEqual(["b/m"]);
    expect(target && "id" in target ? target.id : null).toBe("b/m");
  });

  test("every target failed after the newlines: the status API's recent error names the last attempt, and the final status", async () => {
    quirkA = (d) => keepAliveThen(errorObject(d, 429), 2, "apart");
    quirkB = (d) => keepAliveThen(errorObject(d, 529), 1, "apart");
    const res = await post("openai");
    expect(res.headers.get("x-gw-target")).toBe("a/m");
    await res.text();
    await recordOf(res.headers.get("x-gw-request-id"));
    expect((await status()).errors.map((x) => [x.route, x.target, x.status, x.attempts])).toEqual([["pair", "b/m", 529, 2]]);
    expect(gw.stats()).toMatchObject({ requests: 1, errors: 1, byInstance: { a: { requests: 1, errors: 1 }, b: { requests: 1, errors: 1 } } });
    expect(pairTargets(await status())).toEqual([
      ["a/m", 1, 1],
      ["b/m", 1, 1],
    ]);
  });
});
