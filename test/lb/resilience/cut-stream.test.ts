// A stream that breaks after bytes reached the client is never retried (the client already has
// half an answer) and never looks like a success: it ends with an error event in the client's
// dialect, which each official SDK raises.
import Anthropic from "@anthropic-ai/sdk";
import { ApiError, GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { geminiClient, HI, leaveMidStream, logRecords, type Rig, rejection, startRig, waitFor } from "../../helpers/resilience.ts";

let rig: Rig;
beforeAll(() => {
  const pair = (a: string) =>
    `[{ instance = "a", provider = "anthropic", model = "${a}", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b" }]`;
  rig = startRig({
    mocks: ["a", "b"],
    // No cooldown: a stream broken after content cools its target (broken-after-content.test.ts),
    // and each test here breaks a's stream anew.
    global: "lb_transient_cooldown_ms = 0",
    routing: [`"cut" = ${pair("claude-a~cut=6")}`, `"errors-inside" = ${pair("claude-a~529~after=2")}`, `"long" = ${pair("claude-a~interval=50~events=400")}`].join("\n"),
  });
});
afterAll(() => rig.stop());

/** Asserts what only a stream that went wrong after its start can show: one attempt, b untouched. */
const expectNoRetry = (res: Response, b0: number) => {
  expect(res.status).toBe(200);
  expect(res.headers.get("x-gw-attempts")).toBe("1");
  expect(res.headers.get("x-gw-target")).toStartWith("a/");
  expect(rig.hits("b")).toBe(b0);
};

describe.each(["cut", "errors-inside"])("%s", (route) => {
  test("Anthropic SDK: the stream raises an APIError, no truncated message", async () => {
    const b0 = rig.hits("b");
    const { data, response } = await rig.anthropic().messages.stream({ model: route, max_tokens: 100, messages: HI }).withResponse();
    const err = await rejection(data.finalMessage());
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(data.receivedMessages).toHaveLength(0);
    expectNoRetry(response, b0);
  }, 30_000);

  test("OpenAI SDK, chat completions: the iteration raises an APIError", async () => {
    const b0 = rig.hits("b");
    const { data, response } = await rig.openai().chat.completions.create({ model: route, stream: true, messages: HI }).withResponse();
    let finish: string | null | undefined;
    const err = await rejection(
      (async () => {
        for await (const chunk of data) finish = chunk.choices[0]?.finish_reason ?? finish;
      })(),
    );
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(finish ?? null).toBeNull(); // no clean finish_reason slipped through
    expectNoRetry(response, b0);
  }, 30_000);

  test("OpenAI SDK, responses: the iteration raises, no response.completed", async () => {
    const b0 = rig.hits("b");
    const { data, response } = await rig.openai().responses.create({ model: route, stream: true, input: "hi" }).withResponse();
    const types: string[] = [];
    const err = await rejection(
      (async () => {
        for await (const ev of data) types.push(ev.type);
      })(),
    );
    expect(err).toBeInstanceOf(Error);
    expect(types).not.toContain("response.completed");
    expectNoRetry(response, b0);
  }, 30_000);

  test("Gemini SDK: generateContentStream raises with the error's status", async () => {
    const b0 = rig.hits("b");
    let text = "";
    const err = await rejection(
      (async () => {
        for await (const chunk of await geminiClient(rig.gw.url).models.generateContentStream({ model: route, contents: "hi" })) text += chunk.text ?? "";
      })(),
    );
    expect(err).toBeInstanceOf(ApiError);
    // gw's own break is a 502; CLIProxyAPI's error event names no status, only a server error.
    expect((err as ApiError).status).toBe(route === "cut" ? 502 : 500);
    if (route === "errors-inside") expect((err as ApiError).message).toContain("Overloaded");
    expect(text.length).toBeGreaterThan(0); // it broke after content, not before
    expect(rig.hits("b")).toBe(b0);
  }, 30_000);

  test("the request log marks the stream broken, with the upstream's error when it sent one", async () => {
    await rejection(rig.anthropic().messages.stream({ model: route, max_tokens: 100, messages: HI }).finalMessage());
    const recs = await logRecords(rig.dir, 1, (r) => r.request.model === route && r.request.dialect === "anthropic" && r.request.stream === true);
    expect(recs.every((r) => r.response.status === 200 && r.response.broken === true)).toBe(true);
    if (route === "errors-inside") expect(recs[0]!.response.error).toContain("Overloaded");
  }, 30_000);

  test("on the wire: the last Anthropic event is `event: error` with an error object", async () => {
    const res = await fetch(`${rig.gw.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: route, max_tokens: 100, stream: true, messages: HI }),
    });
    const text = await res.text();
    const events = text.trim().split(/\n\n+/);
    const last = events[events.length - 1]!;
    expect(last).toStartWith("event: error\ndata: ");
    const data = JSON.parse(last.slice(last.indexOf("data: ") + 6)) as { type: string; error: { type: string; message: string } };
    expect(data.type).toBe("error");
    expect(typeof data.error.message).toBe("string");
    expect(data.error.message).not.toContain("verbose: true"); // Bun's advice to fetch's caller is not the client's
    expect(text).not.toContain("message_stop");
  }, 30_000);
});

// A break gw itself detects (the upstream socket reset); an upstream's own error event, as in
// "errors-inside", passes through as it came (a Gemini stream then also gets it in Google's shape).
describe("cut (gw's own error event)", () => {
  test("Gemini SDK: generateContentStream raises; on the wire the last event is `data: {\"error\": …}`", async () => {
    const b0 = rig.hits("b");
    const gemini = new GoogleGenAI({ apiKey: "client", httpOptions: { baseUrl: rig.gw.url, apiVersion: "v1beta" } });
    const err = await rejection(
      (async () => {
        for await (const _ of await gemini.models.generateContentStream({ model: "cut", contents: "hi" }));
      })(),
    );
    expect(err).toBeInstanceOf(Error);
    expect(String(err)).toContain("error");
    const res = await fetch(`${rig.gw.url}/v1beta/models/cut:streamGenerateContent?alt=sse`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }),
    });
    const last = (await res.text()).trim().split(/\n\n+/).pop()!;
    expect(last).toStartWith("data: {");
    const data = JSON.parse(last.slice(6)) as { error: { code: number; message: string; status: string } };
    expect(typeof data.error.code).toBe("number");
    expect(typeof data.error.status).toBe("string");
    expectNoRetry(res, b0);
  }, 30_000);

  test("OpenAI SDK, responses: the iteration raises an APIError with gw's reason; on the wire the last event is a Responses error event", async () => {
    const b0 = rig.hits("b");
    const data = await rig.openai().responses.create({ model: "cut", stream: true, input: "hi" });
    const err = await rejection(
      (async () => {
        for await (const _ of data);
      })(),
    );
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain("upstream");
    const res = await fetch(`${rig.gw.url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "cut", stream: true, input: "hi" }),
    });
    const last = (await res.text()).trim().split(/\n\n+/).pop()!;
    // Codex and typed clients read a Responses event by its type; its error event carries code and message beside it.
    expect(last).toStartWith("event: error\ndata: ");
    expect(JSON.parse(last.slice(last.indexOf("data: ") + 6))).toEqual({ type: "error", code: "upstream_stream_broken", message: expect.stringContaining("upstream"), param: null });
    expectNoRetry(res, b0);
  }, 30_000);
});

// The other way a stream ends early: its client stops reading. Nothing broke, but the record must
// not read like a whole answer.
test("a client that leaves mid-stream: the upstream request is cancelled, the record says client_left", async () => {
  await leaveMidStream(rig.anthropic(), "long");
  await waitFor(() => rig.mocks.a!.stats().inFlight === 0, 10_000, "the upstream stream to be cancelled");
  const [rec] = await logRecords(rig.dir, 1, (r) => r.request.model === "long");
  expect(rec!.response).toMatchObject({ status: 200, client_left: true });
  expect(rec!.response.broken).toBeUndefined();
  // A stream read to its end carries no such mark.
  await rig.openai().chat.completions.create({ model: "long", messages: HI, stream: false });
  const whole = await logRecords(rig.dir, 1, (r) => r.request.model === "long" && r.request.dialect === "openai");
  expect(whole[0]!.response.client_left).toBeUndefined();
}, 30_000);
