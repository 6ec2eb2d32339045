// Timing and stream faults: slow first byte, slow tokens, silent and keep-alive gaps, cut
// connections, error events inside a 200 stream, hangs. No assertion depends on the machine's
// speed: "nothing yet" is only checked against delays of a minute.

import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { startMock } from "../helpers/mock.ts";

// Child processes and streams are slow on a loaded 2-core machine; nothing here is timed.
setDefaultTimeout(30_000);

const mock = startMock({ name: "s", models: ["m"] });
afterAll(() => mock.stop());
const anthropic = new Anthropic({ apiKey: "x", baseURL: mock.url, maxRetries: 0 });
const openai = new OpenAI({ apiKey: "x", baseURL: `${mock.url}/v1`, maxRetries: 0 });
const msgs = [{ role: "user" as const, content: "hi" }];
const EXPECTED = "Mock answer from instance s, model m.";
const LONG = 60_000;

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}
const inFlight = () => mock.stats().inFlight;
const quiet = <T>(p: Promise<T>) => Promise.race([p.then(() => "settled"), Bun.sleep(300).then(() => "quiet")]);

function post(path: string, body: object, signal?: AbortSignal) {
  return fetch(`${mock.url}${path}`, { method: "POST", body: JSON.stringify(body), signal });
}

/** Reads a stream until `stop` matches the text so far (then cancels) or the stream ends or breaks. */
async function readUntil(res: Response, stop?: (text: string) => boolean) {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { text, ended: true, error: null };
      text += dec.decode(value, { stream: true });
      if (stop?.(text)) {
        await reader.cancel();
        return { text, ended: false, error: null };
      }
    }
  } catch (error) {
    return { text, ended: false, error };
  }
}

describe("slow first byte", () => {
  test("slow-first=MS delays the answer, which is then complete", async () => {
    const msg = await anthropic.messages.create({ model: "m~slow-first=150", max_tokens: 9, messages: msgs });
    expect(msg.content[0]!.type === "text" && msg.content[0]!.text.startsWith(EXPECTED)).toBe(true);
  });

  test("no status line is sent while the first byte is held back", async () => {
    const ac = new AbortController();
    const pending = post("/v1/messages", { model: `m~slow-first=${LONG}`, stream: true }, ac.signal);
    pending.catch(() => {});
    await until(() => inFlight() === 1, "the request to arrive");
    expect(await quiet(pending)).toBe("quiet");
    ac.abort();
    expect(await pending.then(() => "answered", (e) => e.name)).toBe("AbortError");
    await until(() => inFlight() === 0, "the aborted request to be released");
  });
});

describe("slow tokens and gaps", () => {
  test("interval=MS spaces events; the SDK still assembles the whole answer", async () => {
    const stream = anthropic.messages.stream({ model: "m~interval=15~events=4", max_tokens: 9, messages: msgs });
    const final = await stream.finalMessage();
    expect(final.content[0]!.type === "text" && final.content[0]!.text).toBe("Mock answer from instance s, model m.");
    expect(final.usage.output_tokens).toBe(4);
  });

  test("while the next event is due the stream stays open and in flight; cancelling releases it", async () => {
    const res = await post("/v1/messages", { model: `m~interval=${LONG}`, stream: true });
    const r = await readUntil(res, (t) => t.includes("event: message_start"));
    expect(r.text).toStartWith("event: message_start\n");
    await until(() => inFlight() === 0, "the cancelled stream to end");
  });

  test("gap=MS: silence after the first content event", async () => {
    const res = await post("/v1/messages", { model: `m~gap=${LONG}`, stream: true });
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes("content_block_delta")) text += new TextDecoder().decode((await reader.read()).value);
    expect(await quiet(reader.read())).toBe("quiet");
    expect(inFlight()).toBe(1);
    await reader.cancel();
    await until(() => inFlight() === 0, "the cancelled stream to end");
  });

  test("gap with keepalive=MS sends `: keep-alive` comment lines", async () => {
    const res = await post("/v1/messages", { model: `m~gap=${LONG}~keepalive=20`, stream: true });
    const r = await readUntil(res, (t) => (t.match(/\n: keep-alive\n\n/g) ?? []).length >= 2);
    expect(r.text).toContain('"text_delta","text":"Mock"}}\n\n: keep-alive\n\n: keep-alive\n\n');
  });

  test("keep-alives tick from the first event on, between events too, as CLIProxyAPI's ForwardStream ticker", async () => {
    const res = await post("/v1/messages", { model: "m~slow-first=150~interval=20~keepalive=50~events=12", stream: true });
    const r = await readUntil(res);
    expect(r.ended).toBe(true);
    expect(r.text).toStartWith("event: message_start\n");
    const kinds = r.text.split("\n\n").filter(Boolean).map((b) => (b === ": keep-alive" ? "ka" : b.slice(0, b.indexOf("\n"))));
    expect([kinds[0], kinds.at(-1)]).toEqual(["event: message_start", "event: message_stop"]);
    // Events come faster than the ticker, yet it ticks: no pause is needed for a keep-alive.
    const runs = kinds.filter((k, i) => k === "ka" && kinds[i + 1] !== "ka").length;
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(kinds.filter((k) => k !== "ka").every((k) => k.startsWith("event: "))).toBe(true);
  });

  test("SDKs skip keep-alive comments", async () => {
    const stream = await openai.chat.completions.create({ model: "m~gap=120~keepalive=20", messages: msgs, stream: true });
    let text = "";
    for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
    expect(text).toStartWith(EXPECTED);
  });
});

describe("cut streams", () => {
  test("cut=N: N events, then the connection is destroyed without a clean end", async () => {
    const res = await post("/v1/messages", { model: "m~cut=4", stream: true });
    expect(res.status).toBe(200);
    const r = await readUntil(res);
    expect(r.ended).toBe(false);
    expect(r.error).not.toBeNull();
    expect(r.text.split("\n\n").filter(Boolean)).toHaveLength(4);
  });

  test("the Anthropic SDK sees the broken stream as an error", async () => {
    const stream = anthropic.messages.stream({ model: "m~cut=5", max_tokens: 9, messages: msgs });
    expect(await stream.finalMessage().then(() => "finished", () => "failed")).toBe("failed");
  });
});

describe("error event inside a 200 stream (status + after=N: the opening, N content events, the error)", () => {
  test("Anthropic, after=0: the handshake then `event: error` with overloaded_error, no content; the SDK throws it", async () => {
    const res = await post("/v1/messages", { model: "m~529~after=0", stream: true });
    expect(res.status).toBe(200);
    const frames = (await res.text()).split("\n\n").filter(Boolean);
    expect(frames).toHaveLength(4);
    expect(frames.slice(0, 3).map((f) => f.split("\n")[0])).toEqual(["event: message_start", "event: content_block_start", "event: ping"]);
    expect(frames[3]).toBe('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}');
    const stream = anthropic.messages.stream({ model: "m~529~after=0", max_tokens: 9, messages: msgs });
    const err = await stream.finalMessage().catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(String(err.message)).toContain("Overloaded");
  });

  test("OpenAI chat: `data: {\"error\":…}`; the SDK throws it", async () => {
    const res = await post("/v1/chat/completions", { model: "m~429~after=1", stream: true });
    const frames = (await res.text()).split("\n\n").filter(Boolean);
    expect(frames).toHaveLength(3);
    expect(JSON.parse(frames[2]!.slice(6)).error.code).toBe("model_cooldown");
    const stream = await openai.chat.completions.create({ model: "m~503~after=2", messages: msgs, stream: true });
    const err = await (async () => {
      for await (const _ of stream);
    })().catch((e) => e);
    expect(String(err.message)).toContain("auth_unavailable");
  });

  test("Responses: `event: error` with type, code, message and sequence_number 0, no closing newline", async () => {
    // forwardResponsesStream's writeTerminalError builds the chunk with sequence number 0.
    const res = await post("/v1/responses", { model: "m~529~after=1", stream: true, input: "hi" });
    const text = await res.text();
    const frames = text.split("\n\n").filter((f) => f.trim());
    expect(frames[5]).toBe('\nevent: error\ndata: {"type":"error","code":"internal_server_error","message":"Overloaded","sequence_number":0}');
    expect(text).toEndWith("}\n\n");
    expect(text).not.toEndWith("\n\n\n");
  });

  test("Responses to a Codex client: `event: response.failed` (isCodexResponsesClientRequest)", async () => {
    // BuildOpenAIResponsesStreamFailedChunk: the error object of the (reduced) text, keys sorted.
    const codex = async (model: string, headers: Record<string, string>) => {
      const res = await fetch(`${mock.url}/v1/responses`, { method: "POST", headers, body: JSON.stringify({ model, stream: true, input: "hi" }) });
      return (await res.text()).split("\n\n").filter((f) => f.trim());
    };
    const cooling = await codex("m~429~after=0", { "user-agent": "codex_cli_rs/0.80.0 (Linux; x86_64)" });
    expect(cooling).toHaveLength(5);
    expect(cooling[4]).toBe(
      '\nevent: response.failed\ndata: {"type":"response.failed","sequence_number":0,"response":{"status":"failed","error":' +
        '{"code":"model_cooldown","message":"All credentials for model m are cooling down via provider mock"}}}',
    );
    // A plain-text error gets {type, code, message} from its status: a 401 reads invalid_request_error + invalid_api_key.
    const revoked = await codex("m~401~after=0", { originator: "codex_cli_rs" });
    expect(JSON.parse(revoked[4]!.split("data: ")[1]!).response.error).toEqual({
      code: "invalid_api_key",
      message: "unauthorized: upstream rejected the credential (token expired or revoked)",
      type: "invalid_request_error",
    });
    // Anyone else keeps the legacy `error` event.
    expect((await codex("m~401~after=0", { "user-agent": "openai-node" }))[4]).toStartWith("\nevent: error\n");
  });

  test("Gemini: `event: error` with CLIProxyAPI's common body", async () => {
    const res = await post("/v1beta/models/m~503~after=1:streamGenerateContent?alt=sse", { contents: [] });
    const frames = (await res.text()).split("\n\n").filter(Boolean);
    expect(frames).toHaveLength(2);
    expect(frames[1]).toStartWith('event: error\ndata: {"error":{"message":"auth_unavailable: no auth available (providers=mock, model=m)"');
  });

  test("a non-streamed request gets the status instead", async () => {
    const err = await openai.chat.completions.create({ model: "m~529~after=2", messages: msgs }).catch((e) => e);
    expect(err.status).toBe(529);
  });
});

describe("empty: the upstream's stream ended before any data", () => {
  // Each handler's "closed without data" branch: code_handlers.go, openai_handlers.go and
  // gemini_handlers.go still commit their 200; the Responses handler answers 502 instead.
  test.each([
    ["/v1/messages", { model: "m~empty", stream: true }, ""],
    ["/v1/chat/completions", { model: "m~empty", stream: true }, "data: [DONE]\n\n"],
    ["/v1beta/models/m~empty:streamGenerateContent?alt=sse", {}, ""],
  ])("%s: 200, event-stream, %j", async (path, body, expected) => {
    const res = await post(path, body);
    expect([res.status, res.headers.get("content-type"), await res.text()]).toEqual([200, "text/event-stream", expected]);
  });

  test("/v1/responses: 502 upstream stream closed before first payload", async () => {
    const res = await post("/v1/responses", { model: "m~empty", stream: true, input: "hi" });
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ error: { message: "upstream stream closed before first payload", type: "server_error", code: "internal_server_error" } });
  });

  test("a non-streamed request is answered as usual", async () => {
    const r = await openai.chat.completions.create({ model: "m~empty", messages: msgs });
    expect(r.choices[0]!.message.content).toStartWith(EXPECTED);
  });
});

describe("non-streamed keep-alive (CLIProxyAPI's nonstream-keepalive-interval)", () => {
  test("200 goes out early, newlines while waiting, then the JSON answer", async () => {
    const res = await post("/v1/messages", { model: "m~slow-first=250~ns-keepalive=100" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    const text = await res.text();
    expect(text).toStartWith("\n\n{");
    expect(JSON.parse(text).content[0].text).toStartWith(EXPECTED);
  });

  test("an error after the first newline keeps the 200: the body is the error", async () => {
    const res = await post("/v1/chat/completions", { model: "m~503~slow-first=250~ns-keepalive=100", messages: msgs });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^\n+\{"error":\{"message":"auth_unavailable: /);
  });

  test("an answer faster than the interval is an ordinary response", async () => {
    const res = await post("/v1/chat/completions", { model: "m~503~slow-first=50~ns-keepalive=1000", messages: msgs });
    expect(res.status).toBe(503);
  });
});

describe("hang", () => {
  test("never answers; the request is released when the client leaves", async () => {
    const ac = new AbortController();
    const pending = post("/v1/chat/completions", { model: "m~hang", messages: msgs }, ac.signal);
    pending.catch(() => {});
    await until(() => inFlight() === 1, "the request to arrive");
    expect(await quiet(pending)).toBe("quiet");
    ac.abort();
    await until(() => inFlight() === 0, "the hung request to be released");
  });
});
