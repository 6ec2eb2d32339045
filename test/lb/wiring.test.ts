// The pipeline wired end to end on loopback: /metrics and the request log after scripted requests
// (exact counts), usage and stickiness from real streams, the signature fallback, auto-upgrade
// in x-gw-route, compression, the log flushed on stop, and a user's HTTP proxy never in the way.
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RequestRecord } from "../../src/observe/record.ts";
import type { RunningGateway } from "../../src/lb/server.ts";
import { configFrom, externalInstances, type TestUpstream, testUpstream, waitFor, startTestGateway } from "../helpers/lb.ts";
import { parseExposition } from "../helpers/observe.ts";
import { removeTempDirs, tempDir } from "../helpers/tmp.ts";
import { memoryBackend } from "../../src/state/open.ts";
import { freePort } from "../helpers/ports.ts";
import { gw as gwCommand, killAll, MAIN, sandbox, startGw } from "../helpers/supervisor.ts";

afterAll(removeTempDirs);

const CLIENT_KEY = "gw-client-key-0123456789abcdef";

function logRecords(dir: string): RequestRecord[] {
  const logs = join(dir, "logs", "requests");
  let names: string[];
  try {
    names = readdirSync(logs);
  } catch {
    return [];
  }
  return names.flatMap((n) => readFileSync(join(logs, n), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as RequestRecord));
}

function logText(dir: string): string {
  const logs = join(dir, "logs", "requests");
  return readdirSync(logs).map((n) => readFileSync(join(logs, n), "utf8")).join("");
}

const SSE = { "content-type": "text/event-stream" };
function anthropicStream(text: string, usage = { input_tokens: 11, output_tokens: 7 }): string {
  const ev = (name: string, data: object) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  return [
    ev("message_start", { type: "message_start", message: { id: "msg_1", type: "message", role: "assistant", model: "m", content: [], usage: { input_tokens: usage.input_tokens, output_tokens: 1 } } }),
    ev("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
    ev("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } }),
    ev("content_block_stop", { type: "content_block_stop", index: 0 }),
    ev("message_delta", { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: usage.output_tokens } }),
    ev("message_stop", { type: "message_stop" }),
  ].join("");
}

function anthropicJson(text: string, model: string) {
  return { id: "msg_1", type: "message", role: "assistant", model, content: [{ type: "text", text }], stop_reason: "end_turn", usage: { input_tokens: 5, output_tokens: 3 } };
}

/** An Anthropic-shaped upstream: `fail(body)` may return an error response instead. */
function claudeUpstream(name: string, fail?: (body: Record<string, unknown>, req: Request) => Response | undefined): TestUpstream {
  return testUpstream((req, seen) => {
    const body = JSON.parse(seen.body) as Record<string, unknown>;
    const bad = fail?.(body, req);
    if (bad) return bad;
    const text = `from ${name}`;
    if (body.stream) return new Response(anthropicStream(text), { headers: SSE });
    return Response.json(anthropicJson(text, String(body.model)));
  });
}

describe("metrics and request log after scripted requests", () => {
  let a: TestUpstream;
  let b: TestUpstream;
  let gw: RunningGateway;
  let dir: string;
  beforeAll(() => {
    // a answers until a request says "fail", then 503s once: that request fails over to b.
    a = claudeUpstream("a", (body) => (JSON.stringify(body.messages).includes("fail") ? Response.json({ type: "error", error: { type: "overloaded_error", message: "busy" } }, { status: 503 }) : undefined));
    b = claudeUpstream("b");
    dir = tempDir("gw-wiring-");
    const config = configFrom(
      `[global]\napi_keys = ["${CLIENT_KEY}"]\n${externalInstances({ a: a.url, b: b.url })}\n[routing]\n"r" = [{ instance = "a", provider = "anthropic", model = "claude-a", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b" }]\n`,
      join(dir, "providers.toml"),
    );
    gw = startTestGateway(config);
  });
  afterAll(async () => {
    await gw.stop(0);
    await Promise.all([a.stop(), b.stop()]);
  });

  test("5 requests, one failover: gw_requests_total, attempts, failovers and cooldowns are exact; the log agrees", async () => {
    const client = new Anthropic({ baseURL: gw.url, apiKey: CLIENT_KEY, maxRetries: 0 });
    const ask = (content: string, stream = false) =>
      client.messages.create({ model: "r", max_tokens: 16, stream, messages: [{ role: "user", content }] } as Anthropic.MessageCreateParamsNonStreaming);
    for (const [i, stream] of [[1, false], [2, true], [3, false], [4, true]] as const) {
      const res = await ask(`hello ${i}`, stream);
      if (stream) for await (const _ of res as unknown as AsyncIterable<unknown>);
    }
    const failed = await client.messages.create({ model: "r", max_tokens: 16, messages: [{ role: "user", content: "please fail" }] }).withResponse();
    expect(failed.response.headers.get("x-gw-attempts")).toBe("2");
    expect(failed.response.headers.get("x-gw-target")).toBe("b/claude-b");

    let samples = new Map<string, number>();
    // Each poll awaits its fetch: one left in flight when the test ends fails the next test once gw stops.
    await waitFor(async () => {
      samples = parseExposition(await (await fetch(`${gw.url}/metrics`)).text()).samples;
      return [...samples].filter(([k]) => k.startsWith("gw_requests_total{")).reduce((n, [, v]) => n + v, 0) === 5;
    }, 10_000, "5 requests in /metrics");
    expect(samples.get('gw_requests_total{route="r",target="a/claude-a",dialect="anthropic",status_class="2xx"}')).toBe(4);
    expect(samples.get('gw_requests_total{route="r",target="b/claude-b",dialect="anthropic",status_class="2xx"}')).toBe(1);
    expect(samples.get('gw_attempts_total{route="r",target="a/claude-a",outcome="ok"}')).toBe(4);
    expect(samples.get('gw_attempts_total{route="r",target="a/claude-a",outcome="transient"}')).toBe(1);
    expect(samples.get('gw_attempts_total{route="r",target="b/claude-b",outcome="ok"}')).toBe(1);
    expect(samples.get('gw_failovers_total{route="r"}')).toBe(1);
    expect(samples.get('gw_cooldowns_total{route="r",target="a/claude-a",kind="transient_heavy"}')).toBe(1);
    expect(samples.get('gw_tokens_total{route="r",kind="input"}')).toBe(2 * 5 + 2 * 11 + 5);
    expect(samples.get('gw_tokens_total{route="r",kind="output"}')).toBe(2 * 3 + 2 * 7 + 3);
    expect(samples.get("gw_open_streams")).toBe(0);
    expect(gw.coolingList(Date.now()).map((c) => [c.route, c.target, c.kind])).toEqual([["r", "a/claude-a", "transient_heavy"]]);

    await waitFor(() => logRecords(dir).length === 5, 10_000, "5 records in the request log");
    const recs = logRecords(dir);
    const last = recs[4]!;
    expect(last.routing.attempts.map((x) => [x.target, x.status, x.class])).toEqual([["a/claude-a", 503, "transient"], ["b/claude-b", 200, "ok"]]);
    expect(last.cooldowns).toMatchObject([{ route: "r", target: "a/claude-a", kind: "transient_heavy" }]);
    expect(last.response).toMatchObject({ status: 200 });
    expect(last.response.bytes).toBeGreaterThan(0);
    expect(recs[1]!.usage).toEqual({ input: 11, output: 7 });
    expect(recs[1]!.request).toMatchObject({ model: "r", stream: true, messages: 1, roles: { user: 1 } });
    expect(recs[1]!.response.ttfb_ms).toBeGreaterThanOrEqual(0);
    // Secrets: the client key and the instances' keys never appear in the file.
    const text = logText(dir);
    for (const secret of [CLIENT_KEY, "key-a", "key-b", "sk-a", "sk-b"]) expect(text).not.toContain(`"${secret}"`);
    expect(text).not.toContain(CLIENT_KEY);
    expect(recs[0]!.client).toBe(`${CLIENT_KEY.slice(0, 6)}…${CLIENT_KEY.slice(-4)}`);
  }, 30_000);
});

describe("cooldowns of routes this config lacks", () => {
  test("shared by a gw whose config differs (a route renamed there): left out of the list the status page, /metrics and gw status show", async () => {
    const state = memoryBackend();
    const config = configFrom(`${externalInstances({ a: "http://127.0.0.1:9" })}\n[routing]\n"r" = [{ instance = "a", provider = "anthropic", model = "claude-a" }]\n`);
    const gw = startTestGateway(config, { state });
    try {
      const now = Date.now();
      const cd = { until: now + 60_000, kind: "quota" as const, reason: "429", setAt: now };
      state.setCooldown("r", "a/claude-a", cd);
      state.setCooldown("renamed", "a/claude-a", cd);
      state.setCooldown("r", "gone/claude-a", cd);
      expect(gw.coolingList(now).map((c) => [c.route, c.target])).toEqual([["r", "a/claude-a"]]);
    } finally {
      await gw.stop(0);
    }
  });
});

describe("sessions, signatures, upgrade, compression", () => {
  let claudeUp: TestUpstream;
  let claudeUp2: TestUpstream;
  let gemUp: TestUpstream;
  let gw: RunningGateway;
  let dir: string;
  beforeAll(() => {
    // The Gemini-backed target rejects Claude signatures, as a real provider would.
    gemUp = claudeUpstream("gem", (body) =>
      JSON.stringify(body.messages).includes("claude#") ? Response.json({ error: { message: "Invalid `signature` in `thinking` block" } }, { status: 400 }) : undefined,
    );
    const claudeReply = (_req: Request, seen: { body: string }) => {
      const body = JSON.parse(seen.body) as Record<string, unknown>;
      if (body.stream) return new Response(anthropicStream("from claude"), { headers: SSE });
      const json = JSON.stringify(anthropicJson("from claude", String(body.model)));
      // An upstream that compresses whatever it was asked: bytes pass through as sent.
      if (String(body.model).includes("gz")) return new Response(Bun.gzipSync(Buffer.from(json)), { headers: { "content-type": "application/json", "content-encoding": "gzip" } });
      return new Response(json, { headers: { "content-type": "application/json" } });
    };
    claudeUp = testUpstream(claudeReply);
    claudeUp2 = testUpstream(claudeReply);
    dir = tempDir("gw-wiring-");
    const config = configFrom(
      `[global]\nlb_auto_upgrade_enabled = true\nlb_auto_upgrade_messages_threshold = 5\nlb_auto_upgrade_signature_enabled = false\nlb_auto_upgrade_map = { "cheap" = "strong" }\n` +
        `${externalInstances({ c1: claudeUp.url, c2: claudeUp2.url })}\n${externalInstances({ g: gemUp.url }, "gemini")}\n[routing]\n` +
        `"cheap" = [{ instance = "g", provider = "gemini", model = "gemini-3-flash" }]\n` +
        `"strong" = [{ instance = "c1", provider = "anthropic", model = "claude-opus-4-6" }]\n` +
        `"pair" = [{ instance = "c1", provider = "anthropic", model = "claude-sonnet-4-6" }, { instance = "c2", provider = "anthropic", model = "claude-sonnet-4-6" }]\n` +
        `"zipped" = [{ instance = "c1", provider = "anthropic", model = "claude-gz" }]\n`,
      join(dir, "providers.toml"),
    );
    gw = startTestGateway(config);
  });
  afterAll(async () => {
    await gw.stop(0);
    await Promise.all([claudeUp.stop(), claudeUp2.stop(), gemUp.stop()]);
  });

  const post = (body: object, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", ...headers }, body: JSON.stringify(body) });

  test("a Claude session stays on one target (x-claude-code-session-id, then the JSON metadata.user_id)", async () => {
    const targets = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const res = await post({ model: "pair", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }, { "x-claude-code-session-id": "sess-1" });
      await res.text();
      targets.add(res.headers.get("x-gw-target")!);
    }
    expect(targets.size).toBe(1);
    // The same session id inside metadata.user_id (Claude Code's JSON string form) is the same session.
    const res = await post({ model: "pair", max_tokens: 8, metadata: { user_id: JSON.stringify({ device_id: "d", account_uuid: "u", session_id: "sess-1" }) }, messages: [{ role: "user", content: "hi" }] });
    await res.text();
    expect(res.headers.get("x-gw-target")).toBe([...targets][0]!);
  });

  test("a 400 signature error is retried on the signature's provider route; the client never sees it", async () => {
    const signed = { role: "assistant", content: [{ type: "thinking", thinking: "…", signature: "claude#c2lnbmF0dXJl" }, { type: "text", text: "ok" }] };
    const res = await post({ model: "cheap", max_tokens: 8, messages: [{ role: "user", content: "a" }, signed, { role: "user", content: "b" }] });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { content: { text: string }[] }).content[0]!.text).toBe("from claude");
    expect(res.headers.get("x-gw-attempts")).toBe("2");
    expect(res.headers.get("x-gw-route")).toContain("(signature fallback)");
    const id = res.headers.get("x-gw-request-id");
    await waitFor(() => logRecords(dir).some((r) => r.id === id), 10_000, "the record");
    const rec = logRecords(dir).find((r) => r.id === id)!;
    expect(rec.routing.signature_fallback).toBe("strong");
    expect(rec.routing.attempts.map((x) => x.class)).toEqual(["signature", "ok"]);
  });

  test("auto-upgrade: the decision and its reasons go to x-gw-route and the log", async () => {
    const msgs = [1, 2, 3, 4, 5].map((i) => ({ role: i % 2 ? "user" : "assistant", content: `m${i}` }));
    const res = await post({ model: "cheap", max_tokens: 8, messages: msgs });
    await res.text();
    expect(res.headers.get("x-gw-route")).toBe("cheap->strong (messages 5>=5)");
    expect(res.headers.get("x-gw-target")).toBe("c1/claude-opus-4-6");
    const id = res.headers.get("x-gw-request-id");
    await waitFor(() => logRecords(dir).some((r) => r.id === id), 10_000, "the record");
    expect(logRecords(dir).find((r) => r.id === id)!.routing).toMatchObject({ route: "strong", requested: "cheap", upgraded: true, upgrade_reasons: ["messages 5>=5"] });
  });

  test("instances are asked for identity encoding; a compressed answer still reaches a gzip client intact", async () => {
    const n = claudeUp.seen.length;
    const res = await post({ model: "zipped", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }, { "accept-encoding": "gzip, br" });
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(((await res.json()) as { content: { text: string }[] }).content[0]!.text).toBe("from claude");
    expect(claudeUp.seen[n]!.headers.get("accept-encoding")).toBe("identity");
  });
});

test("stop() writes every record before it returns", async () => {
  const up = claudeUpstream("a");
  const dir = tempDir("gw-wiring-");
  const gw = startTestGateway(configFrom(`${externalInstances({ a: up.url })}\n[routing]\n"r" = [{ instance = "a", provider = "anthropic", model = "m" }]\n`, join(dir, "providers.toml")));
  try {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "r", messages: [] }) });
      await res.text();
    }
  } finally {
    await gw.stop(0);
    await up.stop();
  }
  expect(logRecords(dir)).toHaveLength(3);
});

// Gemini's image models answer with megabytes of base64 and the usage after them: past what gw
// holds of an answer for its usage (1 MB), the tokens of the priciest requests went unlogged.
test("a Gemini image answer of megabytes, whole and streamed: its tokens are in the request log", async () => {
  const image = "iVBORw0KGgo".repeat(250_000); // 2.75 MB
  const usageMetadata = { promptTokenCount: 14, candidatesTokenCount: 1290, totalTokenCount: 1304 };
  const answer = { candidates: [{ content: { role: "model", parts: [{ inlineData: { mimeType: "image/png", data: image } }] }, finishReason: "STOP", index: 0 }], usageMetadata, modelVersion: "m" };
  const up = testUpstream((req) =>
    new URL(req.url).pathname.endsWith(":streamGenerateContent")
      ? new Response(`data: ${JSON.stringify(answer)}\r\n\r\n`, { headers: SSE })
      : new Response(JSON.stringify(answer), { headers: { "content-type": "application/json" } }),
  );
  const dir = tempDir("gw-wiring-");
  const gw = startTestGateway(configFrom(`${externalInstances({ a: up.url }, "gemini")}\n[routing]\n"img" = [{ instance = "a", provider = "gemini", model = "m" }]\n`, join(dir, "providers.toml")));
  try {
    const google = new GoogleGenAI({ apiKey: "unused", httpOptions: { baseUrl: gw.url, apiVersion: "v1beta" } });
    const whole = await google.models.generateContent({ model: "img", contents: "a cat" });
    expect(whole.candidates?.[0]?.content?.parts?.[0]?.inlineData?.data).toHaveLength(image.length);
    let streamed = 0;
    for await (const c of await google.models.generateContentStream({ model: "img", contents: "a cat" })) streamed += c.candidates?.[0]?.content?.parts?.[0]?.inlineData?.data?.length ?? 0;
    expect(streamed).toBe(image.length);
  } finally {
    await gw.stop(0);
    await up.stop();
  }
  expect(logRecords(dir).map((r) => r.usage)).toEqual([
    { input: 14, output: 1290 },
    { input: 14, output: 1290 },
  ]);
});

test("a user's HTTP(S)_PROXY pointing nowhere does not stop gw reaching its instances", async () => {
  const saved = { HTTP_PROXY: process.env.HTTP_PROXY, HTTPS_PROXY: process.env.HTTPS_PROXY, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
  const dead = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const deadProxy = `http://127.0.0.1:${dead.port}`;
  dead.stop(true);
  const up = claudeUpstream("a");
  let gw: RunningGateway | undefined;
  try {
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
    process.env.HTTP_PROXY = process.env.HTTPS_PROXY = deadProxy;
    // The premise: with that proxy set, this process's fetch to loopback fails.
    expect(await fetch(`${up.url}/v1/models`).then(() => "reached", (e: Error) => e.message)).not.toBe("reached");
    const dir = tempDir("gw-wiring-");
    gw = startTestGateway(configFrom(`${externalInstances({ a: up.url })}\n[routing]\n"r" = [{ instance = "a", provider = "anthropic", model = "m" }]\n`, join(dir, "providers.toml")));
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "r", messages: [] }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ content: [{ text: "from a" }] });
    expect((process.env.NO_PROXY as string | undefined)?.split(",")).toEqual(expect.arrayContaining(["127.0.0.1", "localhost", "::1"]));
  } finally {
    await gw?.stop(0);
    await up.stop();
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

test("a relay on another machine is reached through the user's HTTP_PROXY; loopback is not", async () => {
  const saved = { HTTP_PROXY: process.env.HTTP_PROXY, HTTPS_PROXY: process.env.HTTPS_PROXY, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
  // A company proxy: the only way out. It plays the relay itself (relay.invalid resolves nowhere,
  // so a direct connection cannot reach it) and notes every absolute URL asked of it.
  const asked: string[] = [];
  const proxy = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      asked.push(req.url);
      return Response.json(anthropicJson("from the relay", "m"));
    },
  });
  const local = claudeUpstream("local");
  let gw: RunningGateway | undefined;
  try {
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
    process.env.HTTP_PROXY = process.env.HTTPS_PROXY = `http://127.0.0.1:${proxy.port}`;
    const relay = "http://relay.invalid:8317";
    const dir = tempDir("gw-wiring-");
    const routes = `[routing]\n"far" = [{ instance = "relay", provider = "anthropic", model = "m" }]\n"near" = [{ instance = "local", provider = "anthropic", model = "m" }]\n`;
    gw = startTestGateway(configFrom(`${externalInstances({ relay, local: local.url })}\n${routes}`, join(dir, "providers.toml")));
    const ask = (model: string) => fetch(`${gw!.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, max_tokens: 8, messages: [{ role: "user", content: "hi" }] }) });
    const far = await ask("far");
    expect(far.status).toBe(200);
    expect(await far.json()).toMatchObject({ content: [{ text: "from the relay" }] });
    expect(asked).toContain(`${relay}/v1/messages`);
    const near = await ask("near");
    expect(near.status).toBe(200);
    expect(await near.json()).toMatchObject({ content: [{ text: "from local" }] });
    expect(asked.filter((u) => !u.startsWith(relay))).toEqual([]);
    expect((process.env.NO_PROXY as string | undefined)?.split(",")).not.toContain("relay.invalid");
  } finally {
    await gw?.stop(0);
    await local.stop();
    await proxy.stop(true);
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

/** The 502 message a gw gives for a relay at relay.invalid with this proxy environment (the proxy is a port nothing listens on). */
async function relayErrorThrough(proxy: (deadPort: number) => string, noProxy?: string, relay = "http://relay.invalid:8317"): Promise<{ message: string; deadPort: number }> {
  const saved = { HTTP_PROXY: process.env.HTTP_PROXY, HTTPS_PROXY: process.env.HTTPS_PROXY, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
  const dead = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const deadPort = dead.port!;
  dead.stop(true);
  let gw: RunningGateway | undefined;
  try {
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
    delete process.env.HTTPS_PROXY;
    if (noProxy !== undefined) process.env.NO_PROXY = noProxy;
    process.env.HTTP_PROXY = proxy(deadPort);
    const dir = tempDir("gw-wiring-");
    gw = startTestGateway(configFrom(`${externalInstances({ relay })}\n[routing]\n"far" = [{ instance = "relay", provider = "anthropic", model = "m" }]\n`, join(dir, "providers.toml")));
    const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "far", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }) });
    expect(res.status).toBe(502);
    return { message: ((await res.json()) as { error: { message: string } }).error.message, deadPort };
  } finally {
    await gw?.stop(0);
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

test("a relay unreachable because the user's proxy is down: the 502 names the proxy (no password), not only the relay", async () => {
  const { message, deadPort } = await relayErrorThrough((port) => `http://corp:hunter2@127.0.0.1:${port}`);
  expect(message).toContain(`relay: `);
  expect(message).toContain(`(through the proxy http://127.0.0.1:${deadPort} ($HTTP_PROXY): is it up, or should NO_PROXY list this host?)`);
  expect(message).not.toContain("hunter2");
});

test("a proxy written without a scheme (user:pass@host:port, which Bun takes): its password never shows either", async () => {
  const { message, deadPort } = await relayErrorThrough((port) => `corp:hunter2@127.0.0.1:${port}`);
  expect(message).toContain(`(through the proxy 127.0.0.1:${deadPort} ($HTTP_PROXY)`);
  expect(message).not.toContain("hunter2");
});

test("an https relay with only HTTP_PROXY set: Bun goes direct, so the relay is named, not the proxy", async () => {
  const { message } = await relayErrorThrough((port) => `http://127.0.0.1:${port}`, undefined, "https://relay.invalid:8443");
  expect(message).toContain("relay.invalid");
  expect(message).not.toContain("through the proxy");
});

test("a NO_PROXY entry that only ends the relay's name without a dot does not bypass in Bun: the dead proxy is named", async () => {
  const { message, deadPort } = await relayErrorThrough((port) => `http://127.0.0.1:${port}`, "lay.invalid");
  expect(message).toContain(`(through the proxy http://127.0.0.1:${deadPort} ($HTTP_PROXY)`);
});

describe("gw up: 300 streams open at once all get their first byte (Bun's fetch cap is 256)", () => {
  const STREAMS = 300;
  const FIRST_DELTA = 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a"}}\n\n';
  const held: ReadableStreamDefaultController<Uint8Array>[] = [];
  let upstream: ReturnType<typeof Bun.serve>;
  let dir: string;
  let proc: ReturnType<typeof Bun.spawn> | undefined;
  let output = "";

  beforeAll(() => {
    // Each stream sends its first content event at once and then stays open until the test ends.
    upstream = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      idleTimeout: 0,
      fetch: () =>
        new Response(
          new ReadableStream<Uint8Array>({
            start(c) {
              held.push(c);
              c.enqueue(new TextEncoder().encode(FIRST_DELTA));
            },
          }),
          { headers: SSE },
        ),
    });
    dir = tempDir("gw-wiring-up-");
  });
  afterAll(async () => {
    for (const c of held) c.close();
    if (proc) {
      proc.kill("SIGTERM");
      await proc.exited;
    }
    await upstream.stop(true);
  });

  test("through a real `gw up`, with a dead HTTP_PROXY exported", async () => {
    const port = await freePort();
    writeFileSync(
      join(dir, "providers.toml"),
      `[global]\nhost = "127.0.0.1"\nmain_port = ${port}\nshutdown_grace_ms = 1000\n${externalInstances({ a: upstream.url.origin })}\n[routing]\n"r" = [{ instance = "a", provider = "anthropic", model = "m" }]\n`,
    );
    const env: Record<string, string | undefined> = { ...process.env, HTTP_PROXY: "http://127.0.0.1:9", HTTPS_PROXY: "http://127.0.0.1:9", NO_PROXY: "", no_proxy: "", NO_COLOR: "1", XDG_CACHE_HOME: join(dir, "cache") }; // its registry entry stays in the test's dir
    delete env.BUN_CONFIG_MAX_HTTP_REQUESTS; // gw up must raise it itself
    delete env.MIMALLOC_PURGE_HOLES;
    proc = Bun.spawn([process.execPath, MAIN, "up", "-c", join(dir, "providers.toml")], { cwd: dir, env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    void (async () => {
      for await (const c of proc!.stdout as ReadableStream<Uint8Array>) output += new TextDecoder().decode(c);
    })();
    void (async () => {
      for await (const c of proc!.stderr as ReadableStream<Uint8Array>) output += new TextDecoder().decode(c);
    })();
    await waitFor(() => output.includes("serving on"), 30_000, `gw up serving:\n${output}`);
    // Re-executed in place (same pid) with the LB's Bun settings: the fetch cap and the allocator's
    // hole purging off (lb/concurrency.ts).
    const environ = readFileSync(`/proc/${proc.pid}/environ`, "utf8").split("\0");
    expect(environ).toContain("BUN_CONFIG_MAX_HTTP_REQUESTS=16384");
    expect(environ).toContain("MIMALLOC_PURGE_HOLES=0");

    // Raw sockets: this test process's own fetch has the 256 cap too.
    const body = JSON.stringify({ model: "r", max_tokens: 8, stream: true, messages: [{ role: "user", content: "hi" }] });
    const request = `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    let firstBytes = 0;
    const sockets = await Promise.all(
      Array.from({ length: STREAMS }, () => {
        let seen = "";
        let counted = false;
        return Bun.connect({
          hostname: "127.0.0.1",
          port,
          socket: {
            open: (s) => void s.write(request),
            data(_s, d) {
              seen += d.toString();
              if (!counted && seen.includes("event: content_block_delta")) {
                counted = true;
                firstBytes++;
              }
            },
          },
        });
      }),
    );
    try {
      await waitFor(() => firstBytes === STREAMS, 60_000, `${STREAMS} first bytes (got ${firstBytes}; upstream has ${held.length} streams)`);
      expect(held.length).toBe(STREAMS);
    } finally {
      for (const s of sockets) s.end();
    }
  }, 120_000);
});

test("gw up: instances get the user's proxy settings unchanged, while gw itself bypasses them", async () => {
  const sb = await sandbox([{ name: "a" }]);
  // The "CLIProxyAPI binary" notes the environment it was started with, then runs the mock.
  writeFileSync(join(sb.dir, "cliproxy.sh"), `#!/bin/sh\nenv > "${sb.dir}/instance-env.txt"\nexec "${process.execPath}" "${MAIN}" mock "$@"\n`);
  const env = { ...sb.env, HTTP_PROXY: "http://127.0.0.1:9", HTTPS_PROXY: "http://127.0.0.1:9", NO_PROXY: "corp.example", no_proxy: undefined };
  const g = startGw({ dir: sb.dir, env }, ["up", "-c", sb.file]);
  try {
    // Its readiness probe too goes past the dead proxy: ready at once, not after the 30 s wait.
    await g.waitFor("serving on", 60_000);
    expect(g.output()).toMatch(/serving on \S+ — 1\/1 instances ready/);
    const res = await fetch(`http://127.0.0.1:${sb.mainPort}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    await res.text();
    // A restart after the LB started (and set its own NO_PROXY) must still hand over the user's.
    const envFile = join(sb.dir, "instance-env.txt");
    rmSync(envFile);
    expect((await gwCommand({ dir: sb.dir, env }, ["restart", "a", "-c", sb.file])).code).toBe(0);
    await waitFor(() => existsSync(envFile) && readFileSync(envFile, "utf8").includes("NO_PROXY"), 30_000, "the restarted instance");
    const lines = readFileSync(envFile, "utf8").split("\n");
    expect(lines).toContain("HTTP_PROXY=http://127.0.0.1:9");
    expect(lines).toContain("NO_PROXY=corp.example");
    expect(lines.some((l) => l.startsWith("no_proxy="))).toBe(false);
  } finally {
    await killAll(sb, g);
  }
}, 90_000);
