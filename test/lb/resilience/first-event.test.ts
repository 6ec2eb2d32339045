// An error that arrives as the first event of a 200 stream (CLIProxyAPI commits its 200 with the
// upstream's handshake, then reports the failure inside the stream): until content has been sent,
// gw holds the handshake back, judges the error like an error status, cools the target and fails
// over — the client never sees the failed attempt. Bounded: no content by the first-byte deadline
// is a timeout; more opening than HOLD_MAX_BYTES is passed on as it is.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  answeredBy,
  chat,
  claude,
  gemini,
  geminiClient,
  HI,
  logRecords,
  type Rig,
  startRig,
  waitFor,
} from "../../helpers/resilience.ts";
import { testUpstream, type TestUpstream } from "../../helpers/lb.ts";
import { HOLD_MAX_BYTES } from "../../../src/lb/first-event.ts";

let rig: Rig;
let opener: TestUpstream, omitted: TestUpstream;
const KEEP_ALIVE = ": keep-alive\n\n";
const KEEP_ALIVES = Math.ceil(HOLD_MAX_BYTES / KEEP_ALIVE.length) + 1;

/** A failing first target in the top tier, a healthy one below it. */
const pair = (first: string, extra = "") =>
  `[{ instance = "a", provider = "anthropic", model = "${first}", priority = 1${extra} }, { instance = "b", provider = "anthropic", model = "claude-b" }]`;

beforeAll(() => {
  // Keep-alive comments past the hold bound, then an error event: more opening than gw holds back.
  opener = testUpstream(() => {
    const body = `${KEEP_ALIVE.repeat(KEEP_ALIVES)}event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n`;
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  // A thinking block whose text is omitted (its signature alone), then an overload before any text.
  omitted = testUpstream(() => {
    const event = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
    const body = [
      event("message_start", { message: { id: "msg_1", type: "message", role: "assistant", model: "x", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 3, output_tokens: 1 } } }),
      event("content_block_start", { index: 0, content_block: { type: "thinking", thinking: "" } }),
      event("content_block_delta", { index: 0, delta: { type: "signature_delta", signature: "EqQBCkgIARABGAIiQL0xsig" } }),
      event("content_block_stop", { index: 0 }),
      event("error", { error: { type: "overloaded_error", message: "Overloaded" } }),
    ].join("");
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  rig = startRig({
    mocks: ["a", "b"],
    upstreams: { big: opener.url, omitted: omitted.url },
    global: "lb_transient_cooldown_ms = 600000\nlb_transient_heavy_cooldown_ms = 600000",
    routing: [
      `"overloaded.anthropic" = ${pair("claude-a~529~after=0")}`,
      `"overloaded.wire" = ${pair("claude-a~529~after=0")}`,
      `"overloaded.openai" = ${pair("claude-a~529~after=0")}`,
      `"cooling.openai" = ${pair("claude-a~429~after=0")}`,
      `"overloaded.responses" = ${pair("claude-a~529~after=0")}`,
      `"unavailable.gemini" = ${pair("claude-a~503~after=0")}`,
      `"revoked.codex" = ${pair("claude-a~401~after=0")}`,
      `"cooling.codex" = ${pair("claude-a~429~after=0")}`,
      `"cut.anthropic" = ${pair("claude-a~cut=2")}`,
      `"stalled.anthropic" = ${pair("claude-a~interval=400", ", first_byte_timeout_ms = 250")}`,
      `"refused.anthropic" = ${pair("claude-a~400~after=0")}`,
      `"later.anthropic" = ${pair("claude-a~529~after=2")}`,
      `"empty.anthropic" = ${pair("claude-a~empty")}`,
      `"empty.openai" = ${pair("claude-a~empty")}`,
      `"empty.gemini" = ${pair("claude-a~empty")}`,
      `"big.anthropic" = [{ instance = "big", provider = "anthropic", model = "x", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b" }]`,
      `"omitted.anthropic" = [{ instance = "omitted", provider = "anthropic", model = "x", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b" }]`,
    ].join("\n"),
  });
});
afterAll(async () => {
  await rig.stop();
  await opener.stop();
  await omitted.stop();
});

/** A streamed Anthropic request on the wire, read by the test itself. */
const rawStream = (model: string) =>
  fetch(`${rig.gw.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, max_tokens: 10, stream: true, messages: HI }),
  });

/** The request-log record of the last request to `route`. */
const lastRecord = async (route: string) => (await logRecords(rig.dir, 1, (r) => r.routing.requested === route)).at(-1)!;

describe("an error event before any content fails over, unseen by the client", () => {
  test("Anthropic SDK, streamed: message_start… then overloaded_error on a; b answers", async () => {
    const [a0, b0] = [rig.hits("a"), rig.hits("b")];
    const r = await claude(rig.anthropic(), "overloaded.anthropic", { stream: true });
    expect(r.status).toBe(200);
    expect(answeredBy(r.text)).toBe("b");
    expect(r.attempts).toBe(2);
    expect(r.target).toBe("b/claude-b");
    expect([rig.hits("a") - a0, rig.hits("b") - b0]).toEqual([1, 1]);
    const rec = await lastRecord("overloaded.anthropic");
    expect(rec.routing.attempts.map((x) => [x.status, x.class])).toEqual([[529, "transient"], [200, "ok"]]);
    expect(rec.routing.attempts[0]!.error).toContain("error event");
    expect(rec.cooldowns.map((c) => c.target)).toEqual(["a/claude-a~529~after=0"]);
    // The failed attempt's stream was let go, not leaked.
    await waitFor(() => rig.mocks.a!.stats().inFlight === 0, 5000, "a's stream to be released");
  });

  test("on the wire: one opening, b's, and nothing of a's attempt", async () => {
    const a0 = rig.hits("a");
    const res = await rawStream("overloaded.wire");
    const text = await res.text();
    expect([res.status, res.headers.get("x-gw-attempts"), rig.hits("a") - a0]).toEqual([200, "2", 1]);
    expect(text.match(/event: message_start/g)).toHaveLength(1);
    expect(text).toStartWith("event: message_start");
    expect(text).toContain('"model":"claude-b"');
    expect(text).not.toContain("claude-a");
    expect(text).not.toContain("event: error");
    expect(text).not.toContain("overloaded_error");
  });

  test("a thinking block with its signature alone (its text omitted), then overloaded_error: no output yet, so b answers", async () => {
    const r = await claude(rig.anthropic(), "omitted.anthropic", { stream: true });
    expect([r.status, answeredBy(r.text), r.attempts]).toEqual([200, "b", 2]);
    const rec = await lastRecord("omitted.anthropic");
    expect(rec.routing.attempts.map((x) => [x.status, x.class])).toEqual([[529, "transient"], [200, "ok"]]);
  });

  test("the cooled target is skipped next time: one attempt, straight to b", async () => {
    const a0 = rig.hits("a");
    const r = await claude(rig.anthropic(), "overloaded.anthropic", { stream: true });
    expect([answeredBy(r.text), r.attempts, rig.hits("a") - a0]).toEqual(["b", 1, 0]);
  });

  test("OpenAI SDK, chat: the role chunk then `data: {\"error\"}` (overloaded, then model_cooldown); b answers", async () => {
    for (const route of ["overloaded.openai", "cooling.openai"]) {
      const r = await chat(rig.openai(), route, { stream: true });
      expect([r.status, answeredBy(r.text), r.attempts]).toEqual([200, "b", 2]);
      const rec = await lastRecord(route);
      expect(rec.routing.attempts[0]!.status).toBe(route.startsWith("cooling") ? 429 : 500);
    }
  });

  test("OpenAI SDK, responses: response.created… then `event: error`; b answers", async () => {
    const { data, response } = await rig.openai().responses.create({ model: "overloaded.responses", stream: true, input: "hi" }).withResponse();
    let text = "";
    for await (const ev of data) if (ev.type === "response.output_text.delta") text += ev.delta;
    expect(answeredBy(text)).toBe("b");
    expect(response.headers.get("x-gw-attempts")).toBe("2");
  });

  test("Codex: response.created… then `event: response.failed` (CLIProxyAPI's event for Codex clients) is judged by its code; b answers", async () => {
    // A revoked credential reads {type: invalid_request_error, code: invalid_api_key} there: an
    // auth failure (401) to fail over and cool, not the client's mistake (400) to hand back.
    for (const [route, status] of [["revoked.codex", 401], ["cooling.codex", 429]] as const) {
      const res = await fetch(`${rig.gw.url}/v1/responses`, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "codex_cli_rs/0.80.0 (Debian 13; x86_64)" },
        body: JSON.stringify({ model: route, stream: true, input: "hi" }),
      });
      const text = await res.text();
      expect([res.status, res.headers.get("x-gw-attempts")]).toEqual([200, "2"]);
      expect(text).not.toContain("response.failed");
      expect(text).toContain("event: response.completed");
      expect((await lastRecord(route)).routing.attempts[0]!.status).toBe(status);
    }
  });

  test("Gemini SDK: the error JSON in the stream; b answers", async () => {
    const r = await gemini(geminiClient(rig.gw.url), "unavailable.gemini", { stream: true });
    expect([answeredBy(r.text), r.attempts]).toEqual(["b", 2]);
  });

  test("an empty stream (CLIProxyAPI's 200 when its upstream sent nothing: no events, or data: [DONE] alone on chat) is no answer: b answers", async () => {
    const results = [
      await claude(rig.anthropic(), "empty.anthropic", { stream: true }),
      await chat(rig.openai(), "empty.openai", { stream: true }),
      await gemini(geminiClient(rig.gw.url), "empty.gemini", { stream: true }),
    ];
    expect(results.map((r) => [answeredBy(r.text), r.attempts])).toEqual([["b", 2], ["b", 2], ["b", 2]]);
    for (const route of ["empty.anthropic", "empty.openai", "empty.gemini"]) {
      expect((await lastRecord(route)).routing.attempts[0]!.error).toContain("stream ended before any content");
    }
    await waitFor(() => rig.mocks.a!.stats().inFlight === 0, 5000, "a's empty streams to be released");
  });

  test("a stream cut during its handshake is a failure like a refused connection: b answers", async () => {
    const r = await claude(rig.anthropic(), "cut.anthropic", { stream: true });
    expect([answeredBy(r.text), r.attempts]).toEqual(["b", 2]);
    expect((await lastRecord("cut.anthropic")).routing.attempts[0]!.class).toBe("transient");
  });
});

describe("bounds and what is not failed over", () => {
  test("no content by the first-byte deadline (handshake, then silence) is a timeout: b answers", async () => {
    const r = await claude(rig.anthropic(), "stalled.anthropic", { stream: true });
    expect([answeredBy(r.text), r.attempts]).toEqual(["b", 2]);
    expect((await lastRecord("stalled.anthropic")).routing.attempts[0]!.error).toContain("no answer within 250 ms (no content event yet)");
  });

  test("an error event the client caused (400) is not retried: the client gets the stream as it came", async () => {
    const b0 = rig.hits("b");
    const res = await rawStream("refused.anthropic");
    const text = await res.text();
    expect([res.status, res.headers.get("x-gw-attempts"), rig.hits("b") - b0]).toEqual([200, "1", 0]);
    expect(text).toStartWith("event: message_start");
    expect(text).toContain("event: error");
    expect((await lastRecord("refused.anthropic")).response.error).toContain("error event");
  });

  test("an error after content has reached the client stays in the stream (no retry)", async () => {
    const b0 = rig.hits("b");
    const res = await rawStream("later.anthropic");
    const text = await res.text();
    expect([res.headers.get("x-gw-attempts"), rig.hits("b") - b0]).toEqual(["1", 0]);
    expect(text).toContain("content_block_delta");
    expect(text).toContain("event: error");
  });

  test("more opening than HOLD_MAX_BYTES is passed on as it is", async () => {
    const res = await rawStream("big.anthropic");
    const text = await res.text();
    expect(res.headers.get("x-gw-attempts")).toBe("1");
    expect(text.length).toBeGreaterThan(HOLD_MAX_BYTES);
    expect(text).toEndWith('"Overloaded"}}\n\n');
  });
});
