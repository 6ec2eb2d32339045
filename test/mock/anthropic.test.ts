// Anthropic Messages against the mock through @anthropic-ai/sdk: JSON, stream, count_tokens,
// and the exact SSE framing a real upstream uses.

import { afterAll, describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { signatureFor } from "../../src/mock/signatures.ts";
import { startMock } from "../helpers/mock.ts";

const mock = startMock({ name: "alpha", apiKeys: ["k-alpha"], models: ["claude-sonnet-4-6", "gemini-3-flash"] });
afterAll(() => mock.stop());
const client = new Anthropic({ apiKey: "k-alpha", baseURL: mock.url, maxRetries: 0 });
const ask = { model: "claude-sonnet-4-6", max_tokens: 100, messages: [{ role: "user" as const, content: "hi" }] };

describe("POST /v1/messages", () => {
  test("non-streamed answer names the instance and model, with usage", async () => {
    const msg = await client.messages.create(ask);
    expect(msg.type).toBe("message");
    expect(msg.role).toBe("assistant");
    expect(msg.model).toBe("claude-sonnet-4-6");
    expect(msg.stop_reason).toBe("end_turn");
    const text = msg.content.map((b) => (b.type === "text" ? b.text : "")).join("");
    expect(text).toContain("instance alpha");
    expect(text).toContain("model claude-sonnet-4-6");
    expect(msg.usage.input_tokens).toBeGreaterThan(0);
    expect(msg.usage.output_tokens).toBe(12);
  });

  test("answers are deterministic", async () => {
    const [a, b] = await Promise.all([client.messages.create(ask), client.messages.create(ask)]);
    expect(a.content).toEqual(b.content);
    expect(a.usage).toEqual(b.usage);
  });

  test("streamed answer: the SDK assembles the same text and usage", async () => {
    const stream = client.messages.stream(ask);
    const types: string[] = [];
    for await (const ev of stream) types.push(ev.type);
    const final = await stream.finalMessage();
    const plain = await client.messages.create(ask);
    expect(JSON.stringify(final.content)).toBe(JSON.stringify(plain.content));
    expect(final.usage.output_tokens).toBe(12);
    expect(types[0]).toBe("message_start");
    expect(types.at(-1)).toBe("message_stop");
    expect(types).toContain("message_delta");
  });

  test("raw stream: event/data framing, ping after content_block_start, SSE headers", async () => {
    const res = await fetch(`${mock.url}/v1/messages?beta=true`, {
      method: "POST",
      headers: { "x-api-key": "k-alpha", "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ ...ask, stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("content-length")).toBeNull();
    const text = await res.text();
    const frames = text.split("\n\n").filter(Boolean);
    for (const f of frames) expect(f).toMatch(/^event: [a-z_]+\ndata: \{.*\}$/);
    const names = frames.map((f) => f.slice(7, f.indexOf("\n")));
    expect(names.slice(0, 3)).toEqual(["message_start", "content_block_start", "ping"]);
    expect(names.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    expect(names.filter((n) => n === "content_block_delta")).toHaveLength(12);
    for (const f of frames) {
      const name = f.slice(7, f.indexOf("\n"));
      expect(JSON.parse(f.slice(f.indexOf("data: ") + 6)).type).toBe(name);
    }
  });

  test("events knob sets the number of deltas and output tokens", async () => {
    const m2 = startMock({ events: 40 });
    try {
      const c2 = new Anthropic({ apiKey: "x", baseURL: m2.url, maxRetries: 0 });
      const msg = await c2.messages.create({ ...ask, model: "claude-sonnet-4-6~events=3" });
      expect(msg.usage.output_tokens).toBe(3);
      expect(msg.model).toBe("claude-sonnet-4-6");
      const long = await c2.messages.create(ask);
      expect(long.usage.output_tokens).toBe(40);
    } finally {
      await m2.stop();
    }
  });
});

describe("extended thinking", () => {
  const thinking = { type: "enabled" as const, budget_tokens: 2048 };

  test("non-streamed: a signed thinking block before the text; claude models get claude#", async () => {
    const msg = await client.messages.create({ ...ask, max_tokens: 4096, thinking });
    expect(msg.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    const block = msg.content[0]!;
    expect(block.type === "thinking" && block.signature).toStartWith("claude#");
    expect(msg.usage.output_tokens).toBe(13);
  });

  test("streamed: thinking_delta and signature_delta in block 0, text in block 1; the SDK assembles both", async () => {
    const stream = client.messages.stream({ ...ask, model: "gemini-3-flash", max_tokens: 4096, thinking: { type: "adaptive" } as never });
    const final = await stream.finalMessage();
    const [think, text] = final.content;
    expect(think?.type === "thinking" && think.thinking).toBe("Thinking as gemini-3-flash on alpha.");
    // Gemini signatures pass through CLIProxyAPI raw, without a group prefix.
    expect(think?.type === "thinking" && think.signature).not.toContain("#");
    expect(text?.type === "text" && text.text).toStartWith("Mock answer from instance alpha, model gemini-3-flash.");
  });

  test("the signed block can be sent back in the next turn", async () => {
    const first = await client.messages.create({ ...ask, max_tokens: 4096, thinking });
    const next = await client.messages.create({
      ...ask,
      max_tokens: 4096,
      thinking,
      messages: [...ask.messages, { role: "assistant", content: first.content as never }, { role: "user", content: "more" }],
    });
    expect(next.stop_reason).toBe("end_turn");
    const sent = mock.stats(1).last[0]!.body as { messages: { content: { type: string; signature?: string }[] }[] };
    expect(sent.messages[1]!.content[0]!.signature).toStartWith("claude#");
  });

  test("sig=foreign: the instance's own signature goes through, another instance's gets the 400 signature error", async () => {
    const first = await client.messages.create({ ...ask, max_tokens: 4096, thinking });
    const strict = { ...ask, model: "claude-sonnet-4-6~sig=foreign", max_tokens: 4096, thinking };
    const turn = (content: unknown) => [...ask.messages, { role: "assistant" as const, content: content as never }, { role: "user" as const, content: "more" }];
    expect((await client.messages.create({ ...strict, messages: turn(first.content) })).stop_reason).toBe("end_turn");
    const foreign = first.content.map((b) => (b.type === "thinking" ? { ...b, signature: signatureFor("beta", "claude-sonnet-4-6") } : b));
    const err = await client.messages.create({ ...strict, messages: turn(foreign) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect((err as Error).message).toContain("Invalid `signature` in `thinking` block");
    expect((await client.messages.create(strict)).stop_reason).toBe("end_turn"); // nothing signed: nothing to reject
  });
});

describe("POST /v1/messages/count_tokens", () => {
  test("returns input_tokens that grow with the prompt", async () => {
    const small = await client.messages.countTokens({ model: ask.model, messages: ask.messages });
    const big = await client.messages.countTokens({ model: ask.model, messages: [{ role: "user", content: "x".repeat(4000) }] });
    expect(small.input_tokens).toBeGreaterThan(0);
    expect(big.input_tokens).toBeGreaterThan(small.input_tokens + 900);
  });

  test("answers JSON even when the body says stream: true", async () => {
    const res = await fetch(`${mock.url}/v1/messages/count_tokens`, {
      method: "POST",
      headers: { "x-api-key": "k-alpha" },
      body: JSON.stringify({ ...ask, stream: true }),
    });
    expect(res.headers.get("content-type")).toBe("application/json");
    expect((await res.json()).input_tokens).toBeGreaterThan(0);
  });

  test("unknown model is a 400 in Anthropic's shape", async () => {
    const err = await client.messages.countTokens({ model: "nope", messages: ask.messages }).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.error).toEqual({ type: "error", error: { type: "invalid_request_error", message: "unknown provider for model nope" } });
  });
});
