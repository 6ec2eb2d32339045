// `gw usage` prices and groups what gw itself sent upstream: official SDKs as clients, gw on
// loopback, an upstream of the test's own answering exact usage figures, then the report over the
// request log gw wrote.
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { join } from "node:path";
import type { RunningGateway } from "../../src/lb/server.ts";
import { type GroupBy, parseSince, usageReport } from "../../src/observe/usage.ts";
import type { StatusJson } from "../../src/observe/status-api.ts";
import { costText, usageJson, usageTable } from "../../src/observe/usage-format.ts";
import { configFrom, externalInstances, type TestUpstream, testUpstream, startTestGateway } from "../helpers/lb.ts";
import { until } from "../helpers/supervisor.ts";
import { removeTempDirs, tempDir } from "../helpers/tmp.ts";

afterAll(removeTempDirs);

/** An Anthropic message answering `model` with 1000 tokens of each kind. */
const message = (model: string) => ({
  id: "msg_1",
  type: "message",
  role: "assistant",
  model,
  content: [{ type: "text", text: "ok" }],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage: { input_tokens: 1000, output_tokens: 1000, cache_read_input_tokens: 1000, cache_creation_input_tokens: 1000 },
});

describe("a thinking suffix gw adds to the upstream model does not change its price", () => {
  let up: TestUpstream;
  let gw: RunningGateway;
  let dir: string;
  beforeAll(() => {
    up = testUpstream(async (_req, seen) => Response.json(message((JSON.parse(seen.body) as { model: string }).model)));
    dir = tempDir("gw-usage-pricing-");
    const toml = `${externalInstances({ a: up.url })}
[routing]
"plain" = [{ instance = "a", provider = "anthropic", model = "claude-haiku-4-5" }]
"level" = [{ instance = "a", provider = "anthropic", model = "claude-haiku-4-5", params = { thinking_level = "high" } }]
"budget" = [{ instance = "a", provider = "anthropic", model = "claude-haiku-4-5(8192)" }]

[pricing."claude-haiku-4-5"]
input = 100
output = 100
cache_read = 100
cache_write = 100
`;
    gw = startTestGateway(configFrom(toml, join(dir, "providers.toml")));
  });
  afterAll(async () => {
    await gw.stop(0);
    await up.stop();
  });

  test("each route costs [pricing]'s $100/M for its 4000 tokens; --by model is one model", async () => {
    const claude = new Anthropic({ baseURL: gw.url, apiKey: "unused", maxRetries: 0 });
    for (const model of ["plain", "level", "budget"]) await claude.messages.create({ model, max_tokens: 100, messages: [{ role: "user", content: "hi" }] });
    // What went upstream: the suffix is gw's (thinking_level) or the target's own.
    expect(up.seen.map((s) => (JSON.parse(s.body) as { model: string }).model)).toEqual(["claude-haiku-4-5", "claude-haiku-4-5(high)", "claude-haiku-4-5(8192)"]);

    const read = (by: GroupBy) => usageReport({ dirs: [join(dir, "logs", "requests")], pricing: gw.config().pricing, sinceMs: parseSince("1d", Date.now())!, by });
    let report = await read("route");
    await until(async () => (report = await read("route")).records === 3, 10_000, () => `3 records in the request log, not ${report.records}`);
    const cost = Object.fromEntries(report.rows.map((r) => [r.key, r.costUsd]));
    expect(cost.plain).toBeCloseTo(0.4, 9);
    expect(cost.level).toBeCloseTo(0.4, 9);
    expect(cost.budget).toBeCloseTo(0.4, 9);

    const byModel = await read("model");
    expect(byModel.rows.map((r) => [r.key, r.requests])).toEqual([["claude-haiku-4-5", 3]]);
    expect(byModel.total.costUsd).toBeCloseTo(1.2, 9);
  });

  test("a [pricing] entry written with the suffix prices that suffix over the entry without it", async () => {
    const pricing = { ...gw.config().pricing, "claude-haiku-4-5(high)": { output: 10 } };
    const r = await usageReport({ dirs: [join(dir, "logs", "requests")], pricing, sinceMs: parseSince("1d", Date.now())!, by: "route" });
    // input, cache read and cache write at the bare entry's $100/M, output at the suffixed one's $10/M.
    expect(r.rows.find((x) => x.key === "level")!.costUsd).toBeCloseTo(0.31, 9);
    expect(r.rows.find((x) => x.key === "plain")!.costUsd).toBeCloseTo(0.4, 9);
  });
});

describe("Gemini's tool-use prompt tokens are input", () => {
  let up: TestUpstream;
  let gw: RunningGateway;
  let dir: string;
  // A grounded answer: 1000 prompt tokens (200 of them cached), 4000 of Google Search results, 100 out.
  const usageMetadata = { promptTokenCount: 1000, cachedContentTokenCount: 200, toolUsePromptTokenCount: 4000, candidatesTokenCount: 100, totalTokenCount: 5100 };
  beforeAll(() => {
    up = testUpstream(() =>
      Response.json({ candidates: [{ content: { role: "model", parts: [{ text: "ok" }] }, finishReason: "STOP", index: 0 }], usageMetadata, modelVersion: "gemini-2.5-flash" }),
    );
    dir = tempDir("gw-usage-gemini-");
    const toml = `${externalInstances({ g: up.url }, "gemini")}\n[routing]\n"flash" = [{ instance = "g", provider = "gemini", model = "gemini-2.5-flash" }]\n`;
    gw = startTestGateway(configFrom(toml, join(dir, "providers.toml")));
  });
  afterAll(async () => {
    await gw.stop(0);
    await up.stop();
  });

  test("generateContent through the Gemini SDK logs input 4800, cache read 200, output 100", async () => {
    const ai = new GoogleGenAI({ apiKey: "unused", httpOptions: { baseUrl: gw.url, apiVersion: "v1beta" } });
    const r = await ai.models.generateContent({ model: "flash", contents: "what is new today?" });
    expect(r.usageMetadata?.toolUsePromptTokenCount).toBe(4000); // the client gets Google's figures unchanged
    const read = () => usageReport({ dirs: [join(dir, "logs", "requests")], pricing: {}, sinceMs: parseSince("1d", Date.now())!, by: "route" });
    let report = await read();
    await until(async () => (report = await read()).records === 1, 10_000, () => `1 record in the request log, not ${report.records}`);
    expect(report.total).toMatchObject({ requests: 1, input: 4800, cacheRead: 200, output: 100, unpriced: 0 });
  });
});

const haikuToml = (up: TestUpstream, pricing = "") => `${externalInstances({ a: up.url })}\n[routing]\n"haiku" = [{ instance = "a", provider = "anthropic", model = "claude-haiku-4-5" }]\n${pricing}`;

describe("answers that report no tokens are counted as such, never as $0", () => {
  let up: TestUpstream;
  let gw: RunningGateway;
  let dir: string;
  const chunk = (extra: Record<string, unknown>) => ({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "claude-haiku-4-5", ...extra });
  // A chat stream as an upstream sends it when the client did not ask for stream_options.include_usage.
  const noUsageStream = [chunk({ choices: [{ index: 0, delta: { role: "assistant", content: "ok" }, finish_reason: null }] }), chunk({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }), "[DONE]"]
    .map((d) => `data: ${typeof d === "string" ? d : JSON.stringify(d)}\n\n`)
    .join("");
  beforeAll(() => {
    up = testUpstream((req, seen) => {
      const path = new URL(req.url).pathname;
      if (path.endsWith("/count_tokens")) return Response.json({ input_tokens: 12 });
      if (path.endsWith("/chat/completions")) return new Response(noUsageStream, { headers: { "content-type": "text/event-stream" } });
      if ((JSON.parse(seen.body) as { max_tokens: number }).max_tokens === 1) return Response.json({ type: "error", error: { type: "invalid_request_error", message: "no" } }, { status: 400 });
      return Response.json(message("claude-haiku-4-5"));
    });
    dir = tempDir("gw-usage-none-");
    gw = startTestGateway(configFrom(haikuToml(up), join(dir, "providers.toml")));
  });
  afterAll(async () => {
    await gw.stop(0);
    await up.stop();
  });

  test("an OpenAI chat stream without include_usage: the client's stream untouched, gw usage says its cost is unknown", async () => {
    const openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const chunks = [];
    for await (const c of await openai.chat.completions.create({ model: "haiku", stream: true, messages: [{ role: "user", content: "hi" }] })) chunks.push(c);
    expect(chunks.map((c) => c.usage ?? null)).toEqual([null, null]); // gw asked for nothing on the client's behalf
    const claude = new Anthropic({ baseURL: gw.url, apiKey: "unused", maxRetries: 0 });
    await claude.messages.countTokens({ model: "haiku", messages: [{ role: "user", content: "hi" }] });
    await claude.messages.create({ model: "haiku", max_tokens: 1, messages: [{ role: "user", content: "hi" }] }).catch(() => undefined);
    await claude.messages.create({ model: "haiku", max_tokens: 100, messages: [{ role: "user", content: "hi" }] });

    const read = () => usageReport({ dirs: [join(dir, "logs", "requests")], pricing: {}, sinceMs: parseSince("1d", Date.now())!, by: "route" });
    let report = await read();
    await until(async () => (report = await read()).records === 4, 10_000, () => `4 records in the request log, not ${report.records}`);
    // Of 4 requests, one answer reported no tokens; count_tokens and the 400 were never to.
    expect(report.total).toMatchObject({ requests: 4, input: 1000, noUsage: 1, unpriced: 0 });
    expect(JSON.parse(usageJson(report)).total).toMatchObject({ requests: 4, no_usage_requests: 1, unpriced_requests: 0 });
    const table = usageTable(report);
    expect(table).toContain("cost leaves out 1 answered request that reported no usage: their cost is unknown");
    expect(table).toMatch(/total .*\$[0-9.]+\*/);
  });

  test("the status page says what gw usage says of today, before and after a [pricing] reload", async () => {
    const read = () => usageReport({ dirs: [join(dir, "logs", "requests")], pricing: gw.config().pricing, sinceMs: parseSince("1d", Date.now())!, by: "route" });
    const page = async () => ((await (await fetch(`${gw.url}/_gw/api/status`)).json()) as StatusJson).tokensToday.total;
    const agree = async () => {
      const [report, total] = [await read(), await page()];
      expect(total).toMatchObject({ requests: report.total.requests, input: report.total.input, noUsage: report.total.noUsage, unpriced: report.total.unpriced, cost: costText(report.total) });
      expect(total.costUsd).toBeCloseTo(report.total.costUsd, 12);
      return total;
    };
    // The requests of the test above: 4, one of them an answer without usage.
    expect(await agree()).toMatchObject({ requests: 4, noUsage: 1 });
    expect(gw.reload(configFrom(haikuToml(up, '[pricing]\n"claude-haiku-4-5" = { input = 100, output = 100, cache_read = 100, cache_write = 100 }\n'), join(dir, "providers.toml")))).toEqual([]);
    // The request before the reload, 4000 tokens, at the new $100/M.
    expect((await agree()).costUsd).toBeCloseTo(0.4, 9);
  });
});
