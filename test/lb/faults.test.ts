// gw against `gw mock`'s faults, seen through the official SDKs: weights, broken and silent
// streams, and clients that leave before or after the headers.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Gateway } from "../../src/lb/server.ts";
import { configFrom, externalInstances, startTestGateway, waitFor } from "../helpers/lb.ts";
import { type MockServer, startMock } from "../helpers/mock.ts";

let a: MockServer, b: MockServer, gw: Gateway;

beforeAll(() => {
  a = startMock({ name: "a", apiKeys: ["key-a"] });
  b = startMock({ name: "b", apiKeys: ["key-b"] });
  gw = startTestGateway(configFrom(`
[global]
main_port = 8145
${externalInstances({ a: a.url, b: b.url })}
[routing]
"split" = [
  { instance = "a", provider = "anthropic", model = "claude-a", weight = 3 },
  { instance = "b", provider = "anthropic", model = "claude-b", weight = 1 },
]
"cut" = [{ instance = "a", provider = "anthropic", model = "claude-a~cut=5" }]
"quiet" = [{ instance = "a", provider = "anthropic", model = "claude-a~gap=15000~events=2" }]
"hang" = [{ instance = "b", provider = "anthropic", model = "claude-b~hang" }]
"slowly" = [{ instance = "b", provider = "anthropic", model = "claude-b~interval=50~events=400" }]
`));
});
afterAll(async () => {
  await gw.stop(0);
  await a.stop();
  await b.stop();
});

const anthropic = () => new Anthropic({ baseURL: gw.url, apiKey: "any", maxRetries: 0 });
const ask = { max_tokens: 50, messages: [{ role: "user" as const, content: "hi" }] };

test("weights: 3:1 over 1,000 SDK calls lands within ±6 points of 75%", async () => {
  a.reset();
  b.reset();
  const client = anthropic();
  for (let i = 0; i < 1000; i += 50) {
    await Promise.all(Array.from({ length: 50 }, () => client.messages.create({ model: "split", ...ask })));
  }
  const share = a.stats().total / (a.stats().total + b.stats().total);
  expect(a.stats().total + b.stats().total).toBe(1000);
  expect(Math.abs(share - 0.75)).toBeLessThan(0.06);
});

describe("streams", () => {
  test("a stream cut after bytes ends with an error the SDK raises, not a clean close", async () => {
    const stream = anthropic().messages.stream({ model: "cut", ...ask });
    const err = await stream.finalMessage().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(String((err as Error).message)).toContain("upstream stream broke");
  });

  test("the same for an OpenAI client: the error arrives as a data event", async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "any", maxRetries: 0 });
    const run = async () => {
      for await (const _ of await client.chat.completions.create({ model: "cut", stream: true, messages: [{ role: "user", content: "hi" }] })) {
      }
    };
    const err = await run().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
  });

  test("a stream silent for 15 s survives to its end", async () => {
    const msg = await anthropic().messages.stream({ model: "quiet", ...ask }).finalMessage();
    expect(msg.stop_reason).toBe("end_turn");
  }, 40_000);
});

describe("client disconnects", () => {
  test("before the headers: the upstream request is abandoned at once", async () => {
    const ctrl = new AbortController();
    const pending = anthropic().messages.create({ model: "hang", ...ask }, { signal: ctrl.signal }).catch((e: unknown) => e);
    await waitFor(() => b.stats().inFlight === 1, 10_000, "the mock to hold the request");
    ctrl.abort();
    expect(await pending).toBeInstanceOf(Anthropic.APIUserAbortError);
    await waitFor(() => b.stats().inFlight === 0, 10_000, "the mock to see the abort");
  });

  test("mid-stream: the upstream stream is cancelled", async () => {
    const ctrl = new AbortController();
    const stream = anthropic().messages.stream({ model: "slowly", ...ask }, { signal: ctrl.signal });
    const firstDelta = new Promise<void>((r) => stream.on("text", () => r()));
    void stream.done().catch(() => {});
    await firstDelta;
    expect(b.stats().inFlight).toBe(1);
    ctrl.abort();
    await waitFor(() => b.stats().inFlight === 0, 10_000, "the mock's stream to end");
    await waitFor(() => gw.stats().openStreams === 0, 10_000, "gw to close the stream");
  });
});

describe("gw's own idle timeout (lb_idle_timeout_ms)", () => {
  let strict: Gateway;
  beforeAll(() => {
    strict = startTestGateway(configFrom(`
[global]
main_port = 8145
lb_idle_timeout_ms = 500
${externalInstances({ a: a.url })}
[routing]
"stalls" = [{ instance = "a", provider = "anthropic", model = "claude-a~gap=3000~events=2" }]
"hangs-alive" = [{ instance = "a", provider = "anthropic", model = "claude-a~gap=5000~keepalive=100~events=2" }]
"paced" = [{ instance = "a", provider = "anthropic", model = "claude-a~interval=200~keepalive=100~events=6" }]
`));
  });
  afterAll(() => strict.stop(0));
  const client = () => new Anthropic({ baseURL: strict.url, apiKey: "any", maxRetries: 0 });

  test("a stream silent for longer ends with an error event, and the upstream is let go", async () => {
    const err = await client().messages.stream({ model: "stalls", ...ask }).finalMessage().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(String((err as Error).message)).toContain("no event for 500 ms");
    await waitFor(() => a.stats().inFlight === 0, 10_000, "the mock's stream to be cancelled");
  });

  // CLIProxyAPI sends `: keep-alive` exactly when its upstream is silent: an upstream hung after
  // its first content kept the stream open for as long as it hung (Claude Code waited for ever).
  test("keep-alive comments are no sign of life: a stream hung after content ends with the same error, and the upstream is let go", async () => {
    const err = await client().messages.stream({ model: "hangs-alive", ...ask }).finalMessage().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(String((err as Error).message)).toContain("no event for 500 ms");
    await waitFor(() => a.stats().inFlight === 0, 10_000, "the mock's stream to be cancelled");
  });

  test("events reset the clock, and the keep-alives between them still reach the client", async () => {
    const res = await fetch(`${strict.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "paced", stream: true, ...ask }) });
    const text = await res.text();
    expect(text).toContain(": keep-alive\n\n");
    expect(text).toContain("event: message_stop");
    expect(text).not.toContain("event: error");
  });
});
