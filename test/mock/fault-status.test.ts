// Status faults through the SDKs: every kind in CLIProxyAPI's exact shape, per handler family,
// chosen by model suffix, by x-mock-fault, or for the whole instance; gzip-compressed bodies.

import { afterAll, describe, expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { join } from "node:path";
import { startMock } from "../helpers/mock.ts";
import { tempFiles } from "../helpers/tmp.ts";

const mock = startMock({ name: "f", apiKeys: ["k"], models: [{ id: "gemini-3-flash", provider: "antigravity" }] });
afterAll(() => mock.stop());
const anthropic = new Anthropic({ apiKey: "k", baseURL: mock.url, maxRetries: 0 });
const openai = new OpenAI({ apiKey: "k", baseURL: `${mock.url}/v1`, maxRetries: 0 });
const genai = new GoogleGenAI({ apiKey: "k", httpOptions: { baseUrl: mock.url, apiVersion: "v1beta" } });
const M = "gemini-3-flash";
const msgs = [{ role: "user" as const, content: "hi" }];
const claude = (model: string) => anthropic.messages.create({ model, max_tokens: 9, messages: msgs }).catch((e) => e);
const chat = (model: string) => openai.chat.completions.create({ model, messages: msgs }).catch((e) => e);

const COOLDOWN = {
  error: {
    code: "model_cooldown",
    message: `All credentials for model ${M} are cooling down via provider antigravity`,
    model: M,
    provider: "antigravity",
    reset_seconds: 60,
    reset_time: "1m0s",
  },
};

describe("status faults, Anthropic shape on /v1/messages", () => {
  test.each([
    ["429", 429, "rate_limit_error", `All credentials for model ${M} are cooling down via provider antigravity`],
    ["503", 503, "api_error", `auth_unavailable: no auth available (providers=antigravity, model=${M})`],
    ["401", 401, "authentication_error", "unauthorized: upstream rejected the credential (token expired or revoked)"],
    ["403", 403, "permission_error", "insufficient_quota: You exceeded your current quota, please check your plan and billing details."],
    ["sig", 400, "invalid_request_error", "messages.1.content.0.thinking.signature: Invalid `signature` in `thinking` block"],
    ["529", 529, "overloaded_error", "Overloaded"],
    ["502", 502, "api_error", "Bad Gateway"],
  ])("%s", async (spec, status, type, message) => {
    const err = await claude(`${M}~${spec}`);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(err.status).toBe(status);
    expect(err.error).toEqual({ type: "error", error: { type, message } });
  });

  test("503 for a model of a Claude provider adds CLIProxyAPI's hint at its management API", async () => {
    // handlers_errors.go: enrichAuthSelectionError appends it when the providers include claude.
    const own = startMock({ models: [{ id: "claude-opus-4-6", provider: "claude" }] });
    try {
      const client = new Anthropic({ apiKey: "x", baseURL: own.url, maxRetries: 0 });
      const err = await client.messages.create({ model: "claude-opus-4-6~503", max_tokens: 9, messages: msgs }).catch((e) => e);
      expect(err.error.error.message).toBe(
        "auth_unavailable: no auth available (providers=claude, model=claude-opus-4-6); check Claude auth/key session and cooldown state via /v0/management/auth-files",
      );
    } finally {
      await own.stop();
    }
  });

  test("like CLIProxyAPI, a 429 has no Retry-After unless passthrough-headers is on", async () => {
    const plain = await claude(`${M}~429=7`);
    expect(plain.headers.get("retry-after")).toBeNull();
    const passed = await claude(`${M}~429=7~passthrough`);
    expect(passed.headers.get("retry-after")).toBe("7");
    expect(passed.error.error.type).toBe("rate_limit_error");
  });
});

describe("status faults, CLIProxyAPI's common shape on OpenAI and Gemini routes", () => {
  test("429 model_cooldown passes its JSON through (reset_seconds in the body)", async () => {
    const err = await chat(`${M}~429`);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.error).toEqual(COOLDOWN.error);
    expect(err.headers.get("retry-after")).toBeNull();
    expect((await chat(`${M}~429~passthrough`)).headers.get("retry-after")).toBe("60");
  });

  test.each([
    ["503", 503, { message: `auth_unavailable: no auth available (providers=antigravity, model=${M})`, type: "server_error", code: "internal_server_error" }],
    ["401", 401, { message: "unauthorized: upstream rejected the credential (token expired or revoked)", type: "authentication_error", code: "invalid_api_key" }],
    ["403", 403, { message: "insufficient_quota: You exceeded your current quota, please check your plan and billing details.", type: "permission_error", code: "insufficient_quota" }],
    ["sig", 400, { message: "messages.1.content.0.thinking.signature: Invalid `signature` in `thinking` block", type: "invalid_request_error" }],
    ["529", 529, { message: "Overloaded", type: "server_error", code: "internal_server_error" }],
  ])("%s on /v1/chat/completions", async (spec, status, error) => {
    const err = await chat(`${M}~${spec}`);
    expect(err.status).toBe(status);
    expect(err.error).toEqual(error);
  });

  test("/v1/responses uses the same builder", async () => {
    const err = await openai.responses.create({ model: `${M}~503`, input: "hi" }).catch((e) => e);
    expect(err.status).toBe(503);
    expect(err.error.code).toBe("internal_server_error");
  });

  test("/v1/responses with stream: true reduces the error first: a cooldown loses reset_seconds", async () => {
    // openai_responses_handlers.go: handleStreamingResponse writes sanitizeResponsesInitialErrorMessage's
    // text, which keeps only error.{type,code,message,param} (responsesStreamErrorText).
    const stream = (model: string) =>
      fetch(`${mock.url}/v1/responses`, { method: "POST", headers: { authorization: "Bearer k" }, body: JSON.stringify({ model, input: "hi", stream: true }) });
    const cooling = await stream(`${M}~429`);
    expect(cooling.status).toBe(429);
    expect(await cooling.text()).toBe(`{"error":{"code":"model_cooldown","message":"All credentials for model ${M} are cooling down via provider antigravity"}}`);
    const unknown = await stream("nope");
    expect(await unknown.json()).toEqual({ error: { type: "invalid_request_error", code: "model_not_found", message: "unknown provider for model nope", param: "model" } });
    const noAuth = await stream(`${M}~503`);
    expect((await noAuth.json()).error.message).toBe(`auth_unavailable: no auth available (providers=antigravity, model=${M})`);
    // Not streamed: the cooldown's whole JSON, as on the other routes.
    const whole = await openai.responses.create({ model: `${M}~429`, input: "hi" }).catch((e) => e);
    expect(whole.error).toEqual(COOLDOWN.error);
  });

  test("Gemini generateContent gets the same body, not Google's", async () => {
    const err = await genai.models.generateContent({ model: `${M}~429`, contents: "hi" }).catch((e) => e);
    expect(err.status).toBe(429);
    expect(JSON.parse(err.message)).toEqual(COOLDOWN);
  });
});

describe("how a fault is chosen", () => {
  test("x-mock-fault header, and the model suffix wins over it", async () => {
    const viaHeader = await anthropic.messages
      .create({ model: M, max_tokens: 9, messages: msgs }, { headers: { "x-mock-fault": "503" } })
      .catch((e) => e);
    expect(viaHeader.status).toBe(503);
    const both = await anthropic.messages
      .create({ model: `${M}~529`, max_tokens: 9, messages: msgs }, { headers: { "x-mock-fault": "503" } })
      .catch((e) => e);
    expect(both.status).toBe(529);
  });

  test("the suffix is stripped before the model lookup; unknown models still fail first", async () => {
    const err = await claude("gemini-9~429");
    expect(err.status).toBe(400);
    expect(err.error.error.message).toBe("unknown provider for model gemini-9");
  });

  test("passthrough-headers: true in the YAML lets Retry-After out", async () => {
    const dir = tempFiles({ "p.yaml": "passthrough-headers: true\n" });
    const m = startMock({ config: join(dir, "p.yaml") });
    try {
      const res = await fetch(`${m.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "x~429=9" }) });
      expect(res.headers.get("retry-after")).toBe("9");
    } finally {
      await m.stop();
    }
  });

  test("an instance-wide default fault", async () => {
    const bad = startMock({ fault: "503" });
    try {
      const res = await fetch(`${bad.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "x" }) });
      expect(res.status).toBe(503);
    } finally {
      await bad.stop();
    }
  });

  test("a bad spec is a 400 naming the token", async () => {
    const err = await claude(`${M}~teapot`);
    expect(err.status).toBe(400);
    expect(err.error.error.message).toContain('unknown fault token "teapot"');
  });
});

describe("window=N: a prompt over the model's context window gets the upstream's own 400", () => {
  const open = startMock({ name: "w", apiKeys: ["k"] }); // no models listed: any name, its family by name
  afterAll(() => open.stop());
  const long = [{ role: "user" as const, content: "lorem ipsum ".repeat(100) }]; // ~300 tokens at 4 bytes each

  test("Anthropic's words, in Anthropic's shape, for a Claude model; a prompt that fits is answered", async () => {
    const a = new Anthropic({ apiKey: "k", baseURL: open.url, maxRetries: 0 });
    const err = await a.messages.create({ model: "claude-x~window=100", max_tokens: 9, messages: long }).catch((e) => e);
    expect(err.status).toBe(400);
    expect(err.error.type).toBe("error");
    expect(err.error.error.type).toBe("invalid_request_error");
    expect(err.error.error.message).toMatch(/^prompt is too long: 3\d\d tokens > 100 maximum$/);
    const fits = await a.messages.create({ model: "claude-x~window=100", max_tokens: 9, messages: msgs });
    expect(fits.content[0]).toMatchObject({ type: "text" });
  });

  test("Google's words for a Gemini model, Codex's for any other, passed through as JSON on the OpenAI route", async () => {
    const o = new OpenAI({ apiKey: "k", baseURL: `${open.url}/v1`, maxRetries: 0 });
    const gem = await o.chat.completions.create({ model: "gemini-x~window=100", messages: long }).catch((e) => e);
    expect(gem.status).toBe(400);
    expect(gem.error).toMatchObject({ code: 400, status: "INVALID_ARGUMENT" });
    expect(gem.error.message).toMatch(/^The input token count \(3\d\d\) exceeds the maximum number of tokens allowed \(100\)\.$/);
    const codex = await o.chat.completions.create({ model: "gpt-x~window=100", messages: long }).catch((e) => e);
    expect(codex.status).toBe(400);
    expect(codex.error).toMatchObject({ code: "context_length_exceeded", param: "input", type: "invalid_request_error" });
  });

  test("an OpenAI-compatible provider's model: OpenAI's words with both counts", async () => {
    const m = startMock({ name: "r", apiKeys: ["k"], models: [{ id: "relay-model", provider: "openrouter" }] });
    try {
      const o = new OpenAI({ apiKey: "k", baseURL: `${m.url}/v1`, maxRetries: 0 });
      const err = await o.chat.completions.create({ model: "relay-model~window=100", messages: long }).catch((e) => e);
      expect(err.status).toBe(400);
      expect(err.error).toMatchObject({ code: "context_length_exceeded", param: "messages" });
      expect(err.error.message).toMatch(/^This model's maximum context length is 100 tokens\. However, your messages resulted in 3\d\d tokens\./);
    } finally {
      await m.stop();
    }
  });
});

describe("gzip-compressed error bodies", () => {
  test("raw bytes are gzip with Content-Encoding: gzip", async () => {
    const res = await fetch(`${mock.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer k" },
      body: JSON.stringify({ model: `${M}~429~gzip`, messages: msgs }),
      decompress: false,
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("content-encoding")).toBe("gzip");
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    expect(JSON.parse(gunzipSync(bytes).toString())).toEqual(COOLDOWN);
  });

  test("SDKs (which decode gzip) still see the error", async () => {
    const err = await claude(`${M}~529~gzip`);
    expect(err.status).toBe(529);
    expect(err.error.error.type).toBe("overloaded_error");
  });
});
