// OpenAI-compatible relays behind gw as `url` instances (OpenRouter-like, one-api/new-api, vLLM,
// Ollama): small Bun upstreams that behave as those do, the official OpenAI SDK as the client.
// Each case: what gw must make of the relay's quirk — fail over before content, never cut or
// hold a good stream, never count an unusable answer as a success.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { constants, createDeflate, createDeflateRaw, createGzip, gzipSync } from "node:zlib";
import type { RunningGateway } from "../../src/lb/server.ts";
import { configFrom, startTestGateway, type TestUpstream, testUpstream, waitFor } from "../helpers/lb.ts";
import { type MockServer, startMock } from "../helpers/mock.ts";
import { logRecords } from "../helpers/resilience.ts";
import { tempDir } from "../helpers/tmp.ts";

const enc = new TextEncoder();
const chunk = (content: string) => JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "vendor/m", choices: [{ index: 0, delta: { content }, finish_reason: null }] });
const completion = (content: string) => ({ id: "c1", object: "chat.completion", created: 1, model: "vendor/m", choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }] });

/** An event stream written part by part; `gap` waits for the test between the parts it separates. */
function sse(parts: (string | Uint8Array)[], headers: Record<string, string> = {}, gap?: Promise<unknown>): Response {
  const body = new ReadableStream<Uint8Array>({
    async start(c) {
      for (const [i, p] of parts.entries()) {
        c.enqueue(typeof p === "string" ? enc.encode(p) : p);
        if (i === 0 && gap) await gap;
      }
      c.close();
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream", ...headers } });
}

// The relay under test answers as `quirk` says; the fallback relay answers every request well.
let quirk: (req: Request) => Response | Promise<Response>;
let relay: TestUpstream, fallback: TestUpstream, mock: MockServer, gw: RunningGateway, dir: string, toml: string;

beforeAll(() => {
  mock = startMock({ name: "cpa" });
  relay = testUpstream((req) => quirk(req));
  fallback = testUpstream((req, seen) =>
    (JSON.parse(seen.body) as { stream?: boolean }).stream ? sse([`data: ${chunk("from fallback")}\n\n`, "data: [DONE]\n\n"]) : Response.json(completion("from fallback")),
  );
  dir = tempDir("gw-relays-");
  toml = `
[global]
main_port = 8145
lb_first_byte_timeout_ms = 20000
[instances.relay]
url = "${relay.url}"
api_key = "sk-relay-0123456789abcdef0123"
providers = [{ type = "openai", base_url = "https://relay.example/v1", api_keys = ["sk-or-v1-0123456789abcdef0123456789"] }]
[instances.fallback]
url = "${fallback.url}"
api_key = "sk-fallback-0123456789abcdef"
providers = [{ type = "openai", base_url = "https://fallback.example/v1", api_keys = ["sk-fb-0123456789abcdef0123456789"] }]
[instances.cpa]
url = "${mock.url}"
api_key = "sk-cpa-0123456789abcdef0123"
providers = [{ type = "openai", base_url = "https://cpa.example/v1", api_keys = ["sk-cpa-up-0123456789abcdef0123"] }]
[routing]
"slow" = [{ instance = "cpa", provider = "openai", model = "m~slow-first=400~ns-keepalive=100" }]
"slow-error" = [{ instance = "cpa", provider = "openai", model = "m~503~slow-first=400~ns-keepalive=100" }]
"solo" = [{ instance = "relay", provider = "openai", model = "vendor/m" }]
"pair" = [{ instance = "relay", provider = "openai", model = "vendor/m", priority = 1 }, { instance = "fallback", provider = "openai", model = "vendor/m" }]
"quick" = [{ instance = "relay", provider = "openai", model = "vendor/m", priority = 1, first_byte_timeout_ms = 500 }, { instance = "fallback", provider = "openai", model = "vendor/m" }]
`;
});
// A fresh gateway (fresh cooldowns) for each case; the request log is the same directory.
beforeEach(() => {
  gw = startTestGateway(configFrom(toml, join(dir, "providers.toml")));
});
afterEach(() => gw.stop(0));
afterAll(async () => {
  await relay.stop();
  await fallback.stop();
  await mock.stop();
});

const client = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0, timeout: 30_000 });
const ask = (model: string) => ({ model, messages: [{ role: "user" as const, content: "hi" }] });
async function streamText(model: string): Promise<string> {
  let text = "";
  for await (const c of await client().chat.completions.create({ ...ask(model), stream: true })) text += c.choices[0]?.delta?.content ?? "";
  return text;
}
/** The request-log record of the request whose answer carried `id`. */
async function recordOf(id: string | null) {
  const [r] = await logRecords(dir, 1, (r) => r.id === id);
  return r!;
}

describe("event streams", () => {
  // Not every client stops reading at [DONE] (the OpenAI SDK does; curl, fetch-based SDKs read to
  // the end): the answer must end there, not when lb_idle_timeout_ms cuts the relay's held stream.
  test.each([
    ["in one piece", [`data: ${chunk("Hello")}\n\ndata: [DONE]\n\n`]],
    ["cut inside [DONE]", [`data: ${chunk("Hello")}\n\n`, "data: [DO", "NE]\r\n\r\n"]],
  ])("a relay that keeps the connection open after data: [DONE] (%s): the answer ends at [DONE], whole, and the upstream is let go", async (_, parts) => {
    quirk = () => slowly(parts, { open: true });
    const aborted = relay.aborted.length;
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ ...ask("solo"), stream: true }) });
    const text = await res.text();
    expect(text).toBe(parts.join(""));
    const r = await recordOf(res.headers.get("x-gw-request-id"));
    expect(r.response.broken).toBeUndefined();
    expect(r.response.error).toBeUndefined();
    await waitFor(() => relay.aborted.length > aborted, 10_000, "the held upstream request to be let go");
  });

  test("a relay that keeps the connection open after Anthropic's message_stop, or a Responses stream's response.completed: the SDK's answer ends there, whole, and the upstream is let go", async () => {
    const event = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    quirk = () =>
      slowly(
        [
          event("message_start", { message: { id: "msg_1", type: "message", role: "assistant", model: "vendor/m", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 3, output_tokens: 1 } } }),
          event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
          event("content_block_delta", { index: 0, delta: { type: "text_delta", text: "Hello" } }),
          event("content_block_stop", { index: 0 }),
          event("message_delta", { delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 2 } }),
          event("message_stop", {}),
        ],
        { open: true },
      );
    let aborted = relay.aborted.length;
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: "unused", maxRetries: 0 });
    const { data: stream, response } = await anthropic.messages.stream({ model: "solo", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }).withResponse();
    expect((await stream.finalMessage()).content).toMatchObject([{ type: "text", text: "Hello" }]);
    const r = await recordOf(response.headers.get("x-gw-request-id"));
    expect([r.response.broken, r.response.error, r.usage?.output]).toEqual([undefined, undefined, 2]);
    await waitFor(() => relay.aborted.length > aborted, 10_000, "the held upstream request to be let go");

    const done = { id: "resp_1", object: "response", status: "completed", model: "vendor/m", output: [{ id: "m1", type: "message", role: "assistant", status: "completed", content: [{ type: "output_text", text: "Hello", annotations: [] }] }], usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5 } };
    quirk = () => slowly([event("response.created", { response: { ...done, status: "in_progress", output: [] } }), event("response.output_text.delta", { item_id: "m1", output_index: 0, content_index: 0, delta: "Hello" }), event("response.completed", { response: done })], { open: true });
    aborted = relay.aborted.length;
    const responses = await client().responses.create({ model: "solo", input: "hi", stream: true }).withResponse();
    const types: string[] = [];
    for await (const e of responses.data) types.push(e.type);
    expect(types).toEqual(["response.created", "response.output_text.delta", "response.completed"]);
    expect((await recordOf(responses.response.headers.get("x-gw-request-id"))).response.broken).toBeUndefined();
    await waitFor(() => relay.aborted.length > aborted, 10_000, "the held upstream request to be let go");
  });

  const openRouter = { id: "c1", provider: "X", object: "chat.completion.chunk", created: 1, model: "vendor/m", choices: [{ index: 0, delta: { role: "assistant", content: "", reasoning: null, reasoning_details: [] }, finish_reason: null, native_finish_reason: null, logprobs: null }] };
  const azure = { id: "", object: "", created: 0, model: "", choices: [], prompt_filter_results: [{ prompt_index: 0, content_filter_results: {} }] };
  test.each([
    ["OpenRouter's (processing comments, its role chunk with empty fields)", [": OPENROUTER PROCESSING\n\n", `data: ${JSON.stringify(openRouter)}\n\n`]],
    ["Azure's (a chunk with no choice yet, its prompt filter's verdict)", [`data: ${JSON.stringify(azure)}\n\n`]],
  ])("an opening, %s, then an error event: fails over, unseen by the client", async (_, opening) => {
    quirk = () => slowly([...opening, `data: ${JSON.stringify({ error: { message: "Provider returned error", code: 502 } })}\n\n`]);
    const res = await client().chat.completions.create({ ...ask("pair"), stream: true }).withResponse();
    let text = "";
    for await (const c of res.data) text += c.choices[0]?.delta?.content ?? "";
    expect(text).toBe("from fallback");
    const r = await recordOf(res.response.headers.get("x-gw-request-id"));
    expect(r.routing.attempts.map((a) => [a.target, a.status, a.class])).toEqual([["relay/vendor/m", 502, "transient"], ["fallback/vendor/m", 200, "ok"]]);
  });

  test("a gzipped stream (a relay behind a compressing proxy) streams at once, decoded, not held until the first-byte timeout", async () => {
    let release!: () => void;
    const later = new Promise<void>((r) => (release = r));
    const parts = await gzipParts([`: OPENROUTER PROCESSING\n\ndata: ${chunk("Hel")}\n\n`, `data: ${chunk("lo")}\n\ndata: [DONE]\n\n`]);
    quirk = () => sse(parts, { "content-encoding": "gzip" }, later);
    const res = await client().chat.completions.create({ ...ask("pair"), stream: true }).withResponse();
    const it = res.data[Symbol.asyncIterator]();
    // The first content reaches the client while the relay still holds the rest back.
    expect((await it.next()).value?.choices[0]?.delta?.content).toBe("Hel");
    release();
    expect((await it.next()).value?.choices[0]?.delta?.content).toBe("lo");
    expect((await it.next()).done).toBe(true);
    expect(res.response.headers.get("content-encoding")).toBeNull();
    const r = await recordOf(res.response.headers.get("x-gw-request-id"));
    expect(r.routing.attempts.map((a) => [a.target, a.class])).toEqual([["relay/vendor/m", "ok"]]);
    expect(r.response.broken).toBeUndefined();
  });
});

/** A body without a length (an event stream unless `type` says) whose parts arrive apart (20 ms between them: separate reads for gw); `open` never ends it. */
function slowly(parts: (string | Uint8Array)[], o: { open?: boolean; type?: string; headers?: Record<string, string> } = {}): Response {
  const body = new ReadableStream<Uint8Array>({
    async start(c) {
      for (const p of parts) {
        c.enqueue(typeof p === "string" ? enc.encode(p) : p);
        await Bun.sleep(20);
      }
      if (!o.open) c.close();
    },
  });
  return new Response(body, { headers: { "content-type": o.type ?? "text/event-stream", ...o.headers } });
}

/** One gzip stream (or `make`'s) in parts, each flushed as a compressing proxy flushes an event stream. */
async function gzipParts(texts: string[], make: () => ReturnType<typeof createGzip> = createGzip): Promise<Uint8Array[]> {
  const z = make();
  const out: Uint8Array[] = [];
  for (const [i, t] of texts.entries()) {
    const got: Buffer[] = [];
    const take = (b: Buffer) => got.push(b);
    z.on("data", take);
    if (i < texts.length - 1) {
      z.write(t);
      await new Promise<void>((r) => z.flush(constants.Z_SYNC_FLUSH, () => r()));
    } else {
      const ended = new Promise<void>((r) => z.once("end", () => r()));
      z.end(t);
      await ended;
    }
    z.off("data", take);
    out.push(Buffer.concat(got));
  }
  return out;
}

describe("error answers", () => {
  test("402 out of credits (OpenRouter's shape) fails over to the next target, which is cooled for it", async () => {
    quirk = () => Response.json({ error: { message: "Insufficient credits. Add more using https://openrouter.ai/credits", code: 402 } }, { status: 402 });
    const res = await client().chat.completions.create(ask("pair")).withResponse();
    expect(res.data.choices[0]?.message.content).toBe("from fallback");
    const r = await recordOf(res.response.headers.get("x-gw-request-id"));
    expect(r.routing.attempts.map((a) => [a.target, a.status, a.class])).toEqual([
      ["relay/vendor/m", 402, "auth"],
      ["fallback/vendor/m", 200, "ok"],
    ]);
    expect(r.cooldowns.map((c) => [c.target, c.kind])).toEqual([["relay/vendor/m", "auth"]]);
  });
});

describe("rate limits", () => {
  test("a 429 with OpenRouter's x-ratelimit-reset (no Retry-After) fails over and cools the relay until that reset, not for lb_transient_heavy_cooldown_ms", async () => {
    quirk = () => Response.json({ error: { message: "Rate limit exceeded: free-models-per-min", code: 429 } }, { status: 429, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(Date.now() + 30_000) } });
    const res = await client().chat.completions.create(ask("pair")).withResponse();
    expect(res.data.choices[0]?.message.content).toBe("from fallback");
    const r = await recordOf(res.response.headers.get("x-gw-request-id"));
    expect(r.cooldowns).toHaveLength(1);
    expect(r.cooldowns[0]!.kind).toBe("transient_heavy");
    expect(r.cooldowns[0]!.ms).toBeGreaterThan(20_000);
    expect(r.cooldowns[0]!.ms).toBeLessThanOrEqual(30_000);
  });

  test("a reset in epoch seconds with a fraction (`1796200391.0001234`) cools for whole ms: the record and gw status show whole numbers", async () => {
    quirk = () => Response.json({ error: { message: "Rate limit exceeded", code: 429 } }, { status: 429, headers: { "x-ratelimit-reset": `${Math.floor(Date.now() / 1000) + 30}.0001234` } });
    const res = await client().chat.completions.create(ask("pair")).withResponse();
    const r = await recordOf(res.response.headers.get("x-gw-request-id"));
    expect(r.cooldowns).toHaveLength(1);
    expect(Number.isInteger(r.cooldowns[0]!.ms)).toBe(true);
    const [c] = gw.coolingList(Date.now());
    expect(Number.isInteger(c!.until)).toBe(true);
  });
});

describe("answers that carry nothing", () => {
  const roleOnly = `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "vendor/m", choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] })}\n\n`;
  const cases: [string, () => Response, boolean, string][] = [
    ["a 200 JSON answer that is only an error object", () => Response.json({ error: { message: "Provider returned error", code: 502, metadata: { provider_name: "X" } } }), false, "Provider returned error"],
    ["a 200 with an empty body", () => new Response("", { headers: { "content-type": "application/json" } }), false, "relay: answered 200 with an empty body"],
    ["a stream that ends without an event", () => sse([]), true, "relay: stream ended before any content"],
    ["a stream that ends after its opening (role chunk, keep-alive) only", () => sse([": OPENROUTER PROCESSING\n\n", roleOnly]), true, "relay: stream ended before any content"],
    ["a stream of data: [DONE] alone (CLIProxyAPI's answer when its upstream sent nothing), held open", () => slowly([roleOnly, "data: [DONE]\n\n"], { open: true }), true, "relay: stream ended before any content"],
  ];
  for (const [what, answer, stream, message] of cases) {
    test(`${what}: fails over, and is no success on a single target`, async () => {
      quirk = answer;
      const res = stream ? await client().chat.completions.create({ ...ask("pair"), stream: true }).withResponse() : await client().chat.completions.create(ask("pair")).withResponse();
      let text = "";
      if (stream) for await (const c of res.data as AsyncIterable<OpenAI.ChatCompletionChunk>) text += c.choices[0]?.delta?.content ?? "";
      else text = (res.data as OpenAI.ChatCompletion).choices[0]?.message.content ?? "";
      expect(text).toBe("from fallback");
      const r = await recordOf(res.response.headers.get("x-gw-request-id"));
      expect(r.routing.attempts.map((a) => [a.target, a.class])).toEqual([["relay/vendor/m", "transient"], ["fallback/vendor/m", "ok"]]);

      // Alone, the client gets an error its SDK raises, not an empty answer.
      const alone = stream ? streamText("solo") : client().chat.completions.create(ask("solo"));
      const err = await Promise.resolve(alone).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
      expect((err as Error).message).toContain(message);
    });
  }
});

describe("the relay's key", () => {
  test("an error event after content, cut by the relay in the middle of the key it quotes, reaches the client masked", async () => {
    quirk = (req) => {
      const echoed = `Incorrect API key provided: ${req.headers.get("authorization")}`;
      const cut = echoed.length - 12;
      const event = `data: ${JSON.stringify({ error: { message: echoed, type: "invalid_request_error" } })}\n\n`;
      const at = event.indexOf(echoed) + cut;
      return slowly([`data: ${chunk("Hel")}\n\n`, event.slice(0, at), event.slice(at)]);
    };
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ ...ask("solo"), stream: true }) });
    const text = await res.text();
    expect(text).toContain("Incorrect API key provided: Bearer sk-rel");
    expect(text).not.toContain("0123456789abcdef0123");
    // The SDK reads the masked error as the stream's error.
    const err = await streamText("solo").then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toContain("Incorrect API key provided");
    expect(err?.message).not.toContain("0123456789abcdef0123");
  });
});

// A body without a length that is not an event stream: a relay's chunked answer (a compressing
// proxy in front, any chunked server), CLIProxyAPI's non-streamed keep-alive, Gemini's JSON array.
// Servers disagree on deflate: zlib-wrapped (RFC 1950, as the coding's name says) or raw (IIS,
// some proxies). gw decodes a JSON answer without a length, and an event stream, to judge them: one
// it could not decode would be a healthy relay failed over and cooled.
test.each([
  ["zlib-wrapped", createDeflate],
  ["raw", createDeflateRaw],
] as const)("deflate, %s: a JSON answer without a length and an event stream are the answer, the stream as it comes", async (_, make) => {
  const whole = JSON.stringify(completion("fine"));
  const json = await gzipParts([whole.slice(0, 10), whole.slice(10)], make);
  quirk = () => slowly(json, { type: "application/json", headers: { "content-encoding": "deflate" } });
  const answer = await client().chat.completions.create(ask("pair")).withResponse();
  expect(answer.data.choices[0]?.message.content).toBe("fine");
  let release!: () => void;
  const later = new Promise<void>((r) => (release = r));
  const events = await gzipParts([`data: ${chunk("Hel")}\n\n`, `data: ${chunk("lo")}\n\ndata: [DONE]\n\n`], make);
  quirk = () => sse(events, { "content-encoding": "deflate" }, later);
  const streamed = await client().chat.completions.create({ ...ask("pair"), stream: true }).withResponse();
  const it = streamed.data[Symbol.asyncIterator]();
  expect((await it.next()).value?.choices[0]?.delta?.content).toBe("Hel");
  release();
  expect((await it.next()).value?.choices[0]?.delta?.content).toBe("lo");
  for (const res of [answer.response, streamed.response]) {
    const r = await recordOf(res.headers.get("x-gw-request-id"));
    expect(r.routing.attempts.map((a) => [a.target, a.class])).toEqual([["relay/vendor/m", "ok"]]);
  }
});

describe("the relay's key in a JSON answer, without a length (and with one)", () => {
  const KEY = "sk-relay-0123456789abcdef0123";
  const MASKED = "sk-rel…0123";
  const json = Object.assign((parts: string[]) => slowly(parts, { type: "application/json" }), {
    /** Compressed parts without a length, as a gzip-encoding proxy sends them. */
    gzip: (parts: Uint8Array[]) => slowly(parts, { type: "application/json", headers: { "content-encoding": "gzip" } }),
  });

  test("NDJSON: an error object after a first value, cut at every position of the key it quotes, reaches the client masked (a break, not a failover)", async () => {
    const first = JSON.stringify(completion("Hel"));
    const body = JSON.stringify({ error: { message: `Incorrect API key provided: Bearer ${KEY}`, type: "invalid_request_error" } });
    const start = body.indexOf(KEY);
    for (let at = start; at <= start + KEY.length; at++) {
      quirk = () => slowly([`${first}\n`, body.slice(0, at), `${body.slice(at)}\n`], { type: "application/x-ndjson" });
      const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(ask("solo")) });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect({ at, leaked: text.includes(KEY) }).toEqual({ at, leaked: false });
      expect(text).toBe(`${first}\n${body.replace(KEY, MASKED)}\n`);
    }
    const r = await recordOf((await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(ask("solo")) }).then(async (res) => (await res.text(), res))).headers.get("x-gw-request-id"));
    expect(r.response.broken).toBe(true);
    expect(r.response.error).toContain("Incorrect API key provided: Bearer sk-rel…0123");
    // Judged as the error object it broke with (late-error.ts judgeBreak): a 400, the request's own error.
    expect(r.routing.attempts.map((a) => a.class)).toEqual(["client"]);
  });

  test("a Gemini JSON-array stream: content passes as it came, an error element after it quoting a key is masked", async () => {
    const content = `[{"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}]}`;
    const error = `{"error":{"code":401,"message":"API key not valid: ${KEY}","status":"UNAUTHENTICATED"}}`;
    const at = error.indexOf(KEY) + 7;
    quirk = () => json([`${content}\r\n`, `,\r\n${error.slice(0, at)}`, `${error.slice(at)}\r\n]`]);
    const res = await fetch(`${gw.url}/v1beta/models/solo:streamGenerateContent`, { method: "POST", body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }) });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    // The content element reaches the client while the error element is still arriving.
    expect(new TextDecoder().decode((await reader.read()).value)).toBe(`${content}\r\n`);
    let text = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
    expect(text).not.toContain(KEY);
    expect(text).toBe(`,\r\n${error.replace(KEY, MASKED)}\r\n]`);
    // The answer broke after content, as one an error event ends does: the log says so.
    const r = await recordOf(res.headers.get("x-gw-request-id"));
    expect(r.response.broken).toBe(true);
    expect(r.response.error).toContain("API key not valid: sk-rel…0123");
  });

  test("with a length (a buffering proxy between), an error object after content fails over before any byte: the SDK sees only the fallback's answer; on the only target the client gets the error's status, masked, and none of the content", async () => {
    const first = JSON.stringify(completion("Hel"));
    const error = JSON.stringify({ error: { message: `Incorrect API key provided: Bearer ${KEY}`, type: "invalid_request_error", code: 401 } });
    quirk = () => new Response(`${first}\n${error}\n`, { headers: { "content-type": "application/x-ndjson" } });
    const res = await client().chat.completions.create(ask("pair")).withResponse();
    expect(res.data.choices[0]?.message.content).toBe("from fallback");
    const r = await recordOf(res.response.headers.get("x-gw-request-id"));
    expect(r.routing.attempts.map((a) => [a.target, a.status, a.class])).toEqual([["relay/vendor/m", 401, "auth"], ["fallback/vendor/m", 200, "ok"]]);
    expect(r.routing.attempts[0]!.error).toContain("error object after content in a 200 answer");
    expect(r.routing.attempts[0]!.error).not.toContain(KEY);
    // Gemini's JSON array, sized, on the only target.
    const content = `[{"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}]}`;
    const element = `{"error":{"code":401,"message":"API key not valid: ${KEY}","status":"UNAUTHENTICATED"}}`;
    quirk = () => new Response(`${content},\r\n${element}\r\n]`, { headers: { "content-type": "application/json" } });
    const only = await fetch(`${gw.url}/v1beta/models/solo:streamGenerateContent`, { method: "POST", body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }) });
    const text = await only.text();
    expect([only.status, text]).toEqual([401, element.replace(KEY, MASKED)]);
    const last = await recordOf(only.headers.get("x-gw-request-id"));
    expect([last.response.status, last.routing.attempts.map((a) => a.class)]).toEqual([401, ["auth"]]);
  });

  test("CLIProxyAPI's non-streamed keep-alive: the newlines reach the client as they come, before the answer or the error (a reverse proxy's read timeout must see bytes)", async () => {
    for (const model of ["slow", "slow-error"]) {
      const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(ask(model)) });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      expect(first).toMatch(/^\n+$/); // the mock holds its body 400 ms; its first newline comes at 100
      let text = first;
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
      expect(text).toMatch(model === "slow" ? /^\n+\{"id":/ : /^\n+\{"error":\{"message":"auth_unavailable: /);
      JSON.parse(text);
    }
  });

  test("Content-Encoding: identity (no coding, said aloud): after keep-alive newlines an error quoting a key is masked, an answer's usage read", async () => {
    const error = JSON.stringify({ error: { message: `Incorrect API key provided: ${KEY}`, type: "invalid_request_error" } });
    quirk = () => slowly(["\n", error], { type: "application/json", headers: { "content-encoding": "identity" } });
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(ask("solo")) });
    expect(await res.text()).toBe(`\n${error.replace(KEY, MASKED)}`);
    const answer = JSON.stringify({ ...completion("fine"), usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } });
    quirk = () => slowly(["\n", answer], { type: "application/json", headers: { "content-encoding": "identity" } });
    const ok = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(ask("solo")) });
    await ok.text();
    expect((await recordOf(ok.headers.get("x-gw-request-id"))).usage?.output).toBe(5);
  });

  test("keep-alive spaces (of every kind, apart), then a real answer: 200, byte for byte, usage read", async () => {
    const body = JSON.stringify({ ...completion("fine"), usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } });
    const parts = [" ", "\n", "\r\n\t ", body.slice(0, 1), body.slice(1, 4), body.slice(4)];
    quirk = () => json(parts);
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(ask("solo")) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(parts.join(""));
    const r = await recordOf(res.headers.get("x-gw-request-id"));
    expect([r.response.status, r.usage?.output]).toEqual([200, 5]);
    const answer = await client().chat.completions.create(ask("solo"));
    expect(answer.choices[0]?.message.content).toBe("fine");
  });

  test("keep-alive newlines for longer than the first-byte timeout, then the answer: they keep it alive, it is no failover", async () => {
    quirk = () => json(Array.from({ length: 60 }, () => "\n").concat(JSON.stringify(completion("worth the wait"))));
    const res = await client().chat.completions.create(ask("quick")).withResponse();
    expect(res.data.choices[0]?.message.content).toBe("worth the wait");
    const r = await recordOf(res.response.headers.get("x-gw-request-id"));
    expect(r.routing.attempts.map((a) => [a.target, a.class])).toEqual([["relay/vendor/m", "ok"]]);
  });

  test("a chunked 200 that is an error object is judged before its headers, as the same error sized: the client's status, log, metrics and cooldown; after keep-alive newlines its 200 stays, judged alike", async () => {
    const error = JSON.stringify({ error: { message: "Rate limit reached for requests", type: "rate_limit_error", code: 429 } });
    const judged = async () => {
      const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(ask("solo")) });
      const text = await res.text();
      const r = await recordOf(res.headers.get("x-gw-request-id"));
      return { res, text, r, cooling: gw.coolingList(Date.now()).map((c) => [c.route, c.target, c.kind]) };
    };
    quirk = () => new Response(error, { headers: { "content-type": "application/json" } });
    const sized = await judged();
    expect(sized.res.status).toBe(429);
    // A fresh gateway for the chunked case: no cooldown left from the sized one.
    await gw.stop(0);
    gw = startTestGateway(configFrom(toml, join(dir, "providers.toml")));
    quirk = () => json([error.slice(0, 5), error.slice(5)]);
    const chunked = await judged();
    expect(chunked.res.status).toBe(429);
    expect(chunked.text).toBe(error);
    expect(chunked.r.response.status).toBe(sized.r.response.status);
    expect(chunked.r.response.error).toContain("Rate limit reached for requests");
    expect(chunked.r.routing.attempts.map((a) => [a.status, a.class])).toEqual(sized.r.routing.attempts.map((a) => [a.status, a.class]));
    expect(chunked.r.cooldowns.map((c) => c.kind)).toEqual(sized.r.cooldowns.map((c) => c.kind));
    expect(chunked.cooling).toEqual(sized.cooling);
    expect(chunked.cooling.length).toBe(1);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toContain('gw_requests_total{route="solo",target="relay/vendor/m",dialect="openai",status_class="4xx"} 1');
    // After keep-alive newlines its 200 went out with them (CLIProxyAPI's late error): that stays,
    // but the record, the metrics and the cooldown are those of the error.
    await gw.stop(0);
    gw = startTestGateway(configFrom(toml, join(dir, "providers.toml")));
    quirk = () => json(["\n", "\n", error]);
    const late = await judged();
    expect([late.res.status, late.text]).toEqual([200, `\n\n${error}`]);
    expect(late.r.response.status).toBe(sized.r.response.status);
    expect(late.r.routing.attempts.map((a) => [a.status, a.class])).toEqual(sized.r.routing.attempts.map((a) => [a.status, a.class]));
    expect(late.r.cooldowns.map((c) => c.kind)).toEqual(sized.r.cooldowns.map((c) => c.kind));
    expect(late.cooling).toEqual(sized.cooling);
  });

  test("more than 64 KiB of keep-alive spaces before an error object on the only target: they go on as they come, its 200 stays, the error after them is masked and judged", async () => {
    const error = JSON.stringify({ error: { message: `Rate limit reached for ${KEY}`, type: "rate_limit_error", code: 429 } });
    quirk = () => json(["\n".repeat(40_000), "\n".repeat(40_000), error]);
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(ask("solo")) });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(`${"\n".repeat(80_000)}${error.replace(KEY, MASKED)}`);
    const r = await recordOf(res.headers.get("x-gw-request-id"));
    expect([r.response.status, r.routing.attempts.map((a) => [a.status, a.class]), r.cooldowns.map((c) => c.kind)]).toEqual([429, [[429, "transient"]], ["transient_heavy"]]);
  });

  test("a chunked 200 error object (OpenRouter's, or Gemini's array stream opening with one) fails over: the SDK sees only the fallback's answer", async () => {
    const error = { error: { message: "Provider returned error", code: 502, metadata: { provider_name: "X" } } };
    for (const parts of [[JSON.stringify(error)], ["[", `\r\n${JSON.stringify(error)}\r\n`, "]"]]) {
      // A fresh gateway for each: the relay is cooled after the first.
      await gw.stop(0);
      gw = startTestGateway(configFrom(toml, join(dir, "providers.toml")));
      quirk = () => json(parts);
      const res = await client().chat.completions.create(ask("pair")).withResponse();
      expect(res.data.choices[0]?.message.content).toBe("from fallback");
      const r = await recordOf(res.response.headers.get("x-gw-request-id"));
      expect(r.routing.attempts.map((a) => [a.target, a.status, a.class])).toEqual([["relay/vendor/m", 502, "transient"], ["fallback/vendor/m", 200, "ok"]]);
    }
  });

  test("a chunked 200 error object from the final target: the client's SDK raises its status and message, in the client's dialect", async () => {
    const error = JSON.stringify({ error: { message: "Rate limit reached for requests", type: "rate_limit_error", code: 429 } });
    quirk = () => json([error.slice(0, 3), error.slice(3)]);
    const openai = await client().chat.completions.create(ask("solo")).then(() => undefined, (e: unknown) => e);
    expect(openai).toBeInstanceOf(OpenAI.RateLimitError);
    expect((openai as Error).message).toContain("Rate limit reached for requests");
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: "unused", maxRetries: 0 });
    const err = await anthropic.messages.create({ model: "solo", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.RateLimitError);
    expect((err as Error).message).toContain("Rate limit reached for requests");
  });

  test("a gzipped chunked answer (a relay behind a compressing proxy) is decoded: an error quoting a key is masked and judged, an answer's usage read", async () => {
    const error = JSON.stringify({ error: { message: `Incorrect API key provided: Bearer ${KEY}`, type: "invalid_request_error", code: "invalid_api_key" } });
    quirk = async () => json.gzip(await gzipParts([error.slice(0, 40), error.slice(40)]));
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(ask("solo")) });
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(text).not.toContain(KEY);
    expect(text).toBe(error.replace(KEY, MASKED));
    const r = await recordOf(res.headers.get("x-gw-request-id"));
    expect(r.routing.attempts.map((a) => [a.status, a.class])).toEqual([[401, "auth"]]);
    // The same with a length: judged and masked alike.
    quirk = () => new Response(gzipSync(error), { headers: { "content-type": "application/json", "content-encoding": "gzip" } });
    const sized = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(ask("solo")) });
    expect([sized.status, await sized.text()]).toEqual([401, error.replace(KEY, MASKED)]);
    // A later error (NDJSON) is masked as it is plain.
    const first = JSON.stringify(completion("Hel"));
    quirk = async () => json.gzip(await gzipParts([`${first}\n${error.slice(0, 60)}`, `${error.slice(60)}\n`]));
    const later = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(ask("solo")) });
    expect([later.status, later.headers.get("content-encoding"), await later.text()]).toEqual([200, null, `${first}\n${error.replace(KEY, MASKED)}\n`]);
    // An answer: decoded for the client, its usage in the log.
    const body = JSON.stringify({ ...completion("fine"), usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 } });
    quirk = async () => json.gzip(await gzipParts([body.slice(0, 30), body.slice(30)]));
    const ok = await client().chat.completions.create(ask("solo")).withResponse();
    expect(ok.data.choices[0]?.message.content).toBe("fine");
    expect((await recordOf(ok.response.headers.get("x-gw-request-id"))).usage?.output).toBe(5);
  });

  test("a chunked 200 answer whose first key is an \"error\" that is no error object (null, a string, beside choices) is a success, as it is sized", async () => {
    const answers = [
      { error: null, ...completion("fine") },
      { error: "", ...completion("fine") },
      { error: { message: "a warning, not a failure" }, ...completion("fine") },
    ];
    for (const answer of answers) {
      for (const sized of [true, false]) {
        const body = JSON.stringify(answer);
        quirk = () => (sized ? new Response(body, { headers: { "content-type": "application/json" } }) : json(["\n", body]));
        const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(ask("solo")) });
        expect(res.status).toBe(200);
        expect(JSON.parse(await res.text())).toEqual(answer);
        const r = await recordOf(res.headers.get("x-gw-request-id"));
        expect([body.slice(0, 20), sized, r.response.status, r.routing.attempts.map((a) => a.class), r.cooldowns]).toEqual([body.slice(0, 20), sized, 200, ["ok"], []]);
      }
    }
    expect(gw.coolingList(Date.now())).toEqual([]);
    // An error object after keep-alive newlines, with a length (a buffering proxy between): judged
    // as it is without one. Before, the newlines hid it and its 200 went out as a success.
    quirk = () => new Response(`\n\n${JSON.stringify({ error: { message: "Rate limit reached", code: 429 } })}`, { headers: { "content-type": "application/json" } });
    const sized = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(ask("solo")) });
    expect(sized.status).toBe(429);
    await sized.arrayBuffer();
  });

  test("an ordinary chunked JSON answer arrives byte for byte, a key-shaped example in its content included", async () => {
    const body = `\n${JSON.stringify(completion("export OPENAI_API_KEY=sk-example-0123456789abcdefghij; \"quoted\" \\ {braces} [and] \\u00e9 é"))}`;
    const cuts = [1, 7, body.indexOf("sk-example") + 5, body.indexOf("é") + 1, body.length - 1];
    quirk = () => json(cuts.map((c, i) => body.slice(i ? cuts[i - 1] : 0, c)).concat(body.slice(cuts.at(-1))));
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(ask("solo")) });
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(body))).toBe(true);
    const answer = await client().chat.completions.create(ask("solo"));
    expect(answer.choices[0]?.message.content).toStartWith("export OPENAI_API_KEY=sk-example-0123456789abcdefghij");
  });
});

// A JSON answer without a length has no length to be complete by: one whose upstream closes
// cleanly in the middle of its JSON (a relay that lost its own upstream) is cut short, as a
// stream closed before its answer's end is.
describe("a JSON answer without a length that ends inside its JSON", () => {
  const json = (parts: string[]) => slowly(parts, { type: "application/json" });
  const message = JSON.stringify({ id: "msg_1", type: "message", role: "assistant", model: "vendor/m", content: [{ type: "text", text: "Hello" }], stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: 3, output_tokens: 5 } });
  const cut = message.slice(0, message.indexOf("Hello") + 3); // …"text":"Hel

  test("after its first bytes went out: the body is aborted, not closed as whole; the record says broken, the target cools", async () => {
    quirk = () => json([cut.slice(0, 20), cut.slice(20)]);
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", body: JSON.stringify({ ...ask("solo"), max_tokens: 16 }) });
    expect(res.status).toBe(200);
    expect(await res.text().then(() => "ended", () => "aborted")).toBe("aborted");
    const r = await recordOf(res.headers.get("x-gw-request-id"));
    expect(r.response).toMatchObject({ status: 200, broken: true, error: "upstream closed the stream before the answer's end" });
    expect(r.cooldowns.map((c) => [c.target, c.kind])).toEqual([["relay/vendor/m", "connection"]]);
    // Each SDK raises as for a connection reset (before: a SyntaxError from the half JSON, and the record said success).
    const anthropic = new Anthropic({ baseURL: gw.url, apiKey: "unused", maxRetries: 0 });
    for (const asked of [anthropic.messages.create({ model: "solo", max_tokens: 16, messages: ask("solo").messages }), client().chat.completions.create(ask("solo"))]) {
      const err = await asked.then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(SyntaxError);
    }
  });

  test.each([
    ["an error object", [`{"error":{"message":"Rate lim`]],
    ["an opening that never decided", ['{"']],
    ["an error object after keep-alive newlines", ["\n", "\n", `{"error":{"message":"Rate lim`]],
  ])("before any of its JSON went out (%s): a broken answer that fails over; alone (no newlines first), gw's 502", async (_, parts) => {
    quirk = () => json(parts);
    const res = await client().chat.completions.create(ask("pair")).withResponse();
    expect(res.data.choices[0]?.message.content).toBe("from fallback");
    const r = await recordOf(res.response.headers.get("x-gw-request-id"));
    expect(r.routing.attempts.map((a) => [a.target, a.class])).toEqual([["relay/vendor/m", "transient"], ["fallback/vendor/m", "ok"]]);
    expect(r.routing.attempts[0]!.error).toContain("answer ended inside its JSON");
    if (parts.length === 1) {
      // Alone: the SDK raises gw's error, not a SyntaxError (after newlines its 200 went out: spaced-answer.ts).
      const err = await client().chat.completions.create(ask("solo")).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.APIError);
      expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
      expect((err as Error).message).toContain("answer ended inside its JSON");
    }
  });
});
