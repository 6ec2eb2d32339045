// What a user is told a request cost, end to end: official SDKs as clients, gw on loopback, an
// upstream that answers with the usage CLIProxyAPI writes (its translators' shapes, cache and
// thinking tokens included), then `gw usage` over the request log gw wrote — checked against
// genai-prices' own price for the same tokens.
import Anthropic from "@anthropic-ai/sdk";
import { calcPrice } from "@pydantic/genai-prices";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { join } from "node:path";
import type { RunningGateway } from "../../src/lb/server.ts";
import { parseSince, usageReport } from "../../src/observe/usage.ts";
import { configFrom, externalInstances, type TestUpstream, testUpstream, startTestGateway } from "../helpers/lb.ts";
import { until } from "../helpers/supervisor.ts";
import { removeTempDirs, tempDir } from "../helpers/tmp.ts";

afterAll(removeTempDirs);

const sse = (events: [string | undefined, unknown][]) =>
  events.map(([name, data]) => `${name ? `event: ${name}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`).join("");

// Claude Code on Sonnet 4.5 writing its prompt to the 1-hour cache (Anthropic's own usage).
const CLAUDE_USAGE = { input_tokens: 40, cache_creation_input_tokens: 12_000, cache_read_input_tokens: 30_000, cache_creation: { ephemeral_5m_input_tokens: 2_000, ephemeral_1h_input_tokens: 10_000 } };
const anthropicStream = sse([
  ["message_start", { type: "message_start", message: { id: "msg_1", type: "message", role: "assistant", model: "claude-sonnet-4-5", content: [], usage: { ...CLAUDE_USAGE, output_tokens: 1 } } }],
  ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }],
  ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "ok" } }],
  ["content_block_stop", { type: "content_block_stop", index: 0 }],
  ["message_delta", { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 900 } }],
  ["message_stop", { type: "message_stop" }],
]);

// The same model through chat completions: CLIProxyAPI folds the cache into prompt_tokens.
const chatChunk = (extra: Record<string, unknown>) => ({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "claude-sonnet-4-5", ...extra });
const openaiStream = sse([
  [undefined, chatChunk({ choices: [{ index: 0, delta: { role: "assistant", content: "ok" }, finish_reason: null }] })],
  [
    undefined,
    chatChunk({
      choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
      usage: { prompt_tokens: 42_040, completion_tokens: 900, total_tokens: 42_940, prompt_tokens_details: { cached_tokens: 30_000, cached_creation_tokens: 12_000 } },
    }),
  ],
  [undefined, "[DONE]"],
]);

describe("gw usage prices what the client's dialect reported, once per token", () => {
  let up: TestUpstream;
  let gw: RunningGateway;
  let dir: string;
  beforeAll(() => {
    up = testUpstream((req) => new Response(new URL(req.url).pathname.endsWith("/chat/completions") ? openaiStream : anthropicStream, { headers: { "content-type": "text/event-stream" } }));
    dir = tempDir("gw-usage-wire-");
    const config = configFrom(`${externalInstances({ a: up.url })}\n[routing]\n"sonnet" = [{ instance = "a", provider = "anthropic", model = "claude-sonnet-4-5" }]\n`, join(dir, "providers.toml"));
    gw = startTestGateway(config);
  });
  afterAll(async () => {
    await gw.stop(0);
    await up.stop();
  });

  test("Anthropic SDK and OpenAI SDK, streamed: the log's tokens and the report's cost match the catalogue's price", async () => {
    const claude = new Anthropic({ baseURL: gw.url, apiKey: "unused", maxRetries: 0 });
    const stream = await claude.messages.create({ model: "sonnet", max_tokens: 1000, stream: true, messages: [{ role: "user", content: "hi" }] });
    for await (const _ of stream);
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const chat = await openai.chat.completions.create({ model: "sonnet", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi" }] });
    for await (const _ of chat);

    const read = () => usageReport({ dirs: [join(dir, "logs", "requests")], pricing: {}, sinceMs: parseSince("1d", Date.now())!, by: "route" });
    let report = await read();
    await until(async () => (report = await read()).records === 2, 10_000, () => `2 records in the request log, not ${report.records}`);
    // Each request: 40 uncached, 30 000 cache reads, 12 000 cache writes (10 000 for an hour), 900 output.
    expect(report.total).toMatchObject({ requests: 2, input: 80, cacheRead: 60_000, cacheWrite: 24_000, output: 1_800, unpriced: 0 });
    const price = (hour: number) =>
      calcPrice({ input_tokens: 42_040, cache_read_tokens: 30_000, cache_write_tokens: 12_000, cache_write_1h_tokens: hour, output_tokens: 900 }, "claude-sonnet-4-5")!.total_price;
    // CLIProxyAPI's chat translation does not say how long the writes are cached: the 5-minute rate.
    expect(report.total.costUsd).toBeCloseTo(price(10_000) + price(0), 9);
  });
});
