// Real SDK clients through gw to `gw mock`: each dialect, streaming and not, every route param
// as the upstream receives it.
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI, ThinkingLevel } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Gateway } from "../../src/lb/server.ts";
import type { RecordedRequest } from "../../src/mock/index.ts";
import { configFrom, externalInstances, startTestGateway } from "../helpers/lb.ts";
import { type MockServer, startMock } from "../helpers/mock.ts";
import { withRecord } from "../helpers/resilience.ts";
import { tempDir } from "../helpers/tmp.ts";

let mock: MockServer, gw: Gateway;
const CLIENT_KEY = "client-secret";
/** What `gw mock` answers as instance a for `model`: the whole answer, so one cut short or thinned shows. */
const answer = (model: string) => `Mock answer from instance a, model ${model}. ok ok ok ok ok`;

beforeAll(() => {
  // The upstream names the routes send, so that any other model is unknown there, as in CLIProxyAPI.
  mock = startMock({ name: "a", apiKeys: ["key-a"], models: ["claude-up", "claude-tuned", "claude-d", "gemini-3-pro"] });
  gw = startTestGateway(withRoutes(`
"tuned" = [{ instance = "a", provider = "anthropic", model = "claude-tuned", params = {
  reasoning_effort = "high", thinking_budget_max = 24576, max_tokens_max = 20000,
  anthropic_beta = "context-1m-2025-08-07,Interleaved-Thinking-2025-05-14", extra_headers = { "x-route-tag" = "tuned" } } }]
"defaulted" = [{ instance = "a", provider = "anthropic", model = "claude-d", params = { max_tokens_default = 4096 } }]
"leveled" = [{ instance = "a", provider = "anthropic", model = "gemini-3-pro", params = { thinking_level = "high" } }]
`));
});

/** A config with client keys, instance a (the mock) and the route "plain", then `routes` (in `file`, if given). */
const withRoutes = (routes: string, file?: string) =>
  configFrom(`
[global]
main_port = 8145
api_keys = ["${CLIENT_KEY}"]
${externalInstances({ a: mock.url })}
[routing]
"plain" = [{ instance = "a", provider = "anthropic", model = "claude-up" }]
${routes}`, file);
afterAll(async () => {
  await gw.stop(0);
  await mock.stop();
});

/** The newest request the mock received. */
const lastUpstream = (): RecordedRequest => mock.stats(1).last[0]!;

describe("Anthropic SDK", () => {
  // Claude Code adds ?beta=true to its calls; the query must reach the upstream.
  const client = () => new Anthropic({ baseURL: gw.url, apiKey: CLIENT_KEY, maxRetries: 0, defaultQuery: { beta: "true" } });

  test("messages.create: model rewritten, instance key sent, client key not", async () => {
    const msg = await client().messages.create({ model: "plain", max_tokens: 100, messages: [{ role: "user", content: "hi" }] });
    expect(msg.type).toBe("message");
    const up = lastUpstream();
    expect((up.body as { model: string }).model).toBe("claude-up");
    expect(up.headers["x-api-key"]).toBeUndefined();
    expect(up.headers.authorization).toBe("Bearer key-a");
    expect(JSON.stringify(up.headers)).not.toContain(CLIENT_KEY);
  });

  test("streaming with every param that Anthropic's API has a field for applied", async () => {
    const stream = client().beta.messages.stream({
      model: "tuned",
      max_tokens: 32000,
      thinking: { type: "enabled", budget_tokens: 31999 },
      messages: [{ role: "user", content: "think hard" }],
      betas: ["interleaved-thinking-2025-05-14"],
    });
    const final = await stream.finalMessage();
    expect(final.content.map((b) => (b.type === "text" ? b.text : b.type))).toEqual(["thinking", answer("claude-tuned")]);
    const up = lastUpstream();
    expect(up.query).toBe("?beta=true");
    const body = up.body as Record<string, any>;
    expect(body.model).toBe("claude-tuned");
    expect(body.reasoning_effort).toBeUndefined(); // no such field in Anthropic's API
    expect(body.max_tokens).toBe(20000);
    expect(body.thinking.budget_tokens).toBe(19999); // 24576 cap, then below max_tokens
    expect(up.headers["anthropic-beta"]).toBe("interleaved-thinking-2025-05-14,context-1m-2025-08-07");
    expect(up.headers["x-route-tag"]).toBe("tuned");
  });

  test("max_tokens_default fills an absent max_tokens", async () => {
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: "defaulted", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    expect((lastUpstream().body as { max_tokens: number }).max_tokens).toBe(4096);
  });

  test("thinking_level rides on the model name", async () => {
    await client().messages.create({ model: "leveled", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
    expect((lastUpstream().body as { model: string }).model).toBe("gemini-3-pro(high)");
  });

  test("count_tokens: only the model and headers are rewritten", async () => {
    const r = await client().messages.countTokens({ model: "tuned", messages: [{ role: "user", content: "count me" }] });
    expect(r.input_tokens).toBeGreaterThan(0);
    const up = lastUpstream();
    expect(up.path + up.query).toBe("/v1/messages/count_tokens?beta=true");
    const body = up.body as Record<string, unknown>;
    expect(body.model).toBe("claude-tuned");
    expect(body.reasoning_effort).toBeUndefined();
    expect(up.headers["x-route-tag"]).toBe("tuned");
  });

  test("models.list shows the routes, each also under the claude-gw- id Claude Code's picker keeps", async () => {
    const ids: string[] = [];
    for await (const m of client().models.list()) ids.push(m.id);
    expect(ids).toEqual(["plain", "claude-gw-plain", "tuned", "claude-gw-tuned", "defaulted", "claude-gw-defaulted", "leveled", "claude-gw-leveled"]);
  });

  test("a wrong key is an AuthenticationError", async () => {
    const bad = new Anthropic({ baseURL: gw.url, apiKey: "wrong", maxRetries: 0 });
    const err = await bad.messages.create({ model: "plain", max_tokens: 5, messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.AuthenticationError);
  });
});

describe("OpenAI SDK", () => {
  const client = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });

  test("chat.completions, plain and streamed", async () => {
    const done = await client().chat.completions.create({ model: "plain", messages: [{ role: "user", content: "hi" }] });
    expect(done.choices[0]!.message.content).toBe(answer("claude-up"));
    let text = "";
    const stream = await client().chat.completions.create({ model: "tuned", stream: true, messages: [{ role: "user", content: "hi" }] });
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text).toBe(answer("claude-tuned"));
    const body = lastUpstream().body as Record<string, unknown>;
    expect(body.model).toBe("claude-tuned");
    expect(body.reasoning_effort).toBe("high");
  });

  test("responses API passes through", async () => {
    const r = await client().responses.create({ model: "plain", input: "hi" });
    expect(r.output_text).toBe(answer("claude-up"));
    expect(lastUpstream().path).toBe("/v1/responses");
  });

  // CLIProxyAPI reads a Responses request's effort from `reasoning.effort` (and there the
  // client's own value would beat a top-level reasoning_effort): the route's effort goes there.
  test("responses API: reasoning_effort lands in reasoning.effort, the client's other reasoning fields kept", async () => {
    await client().responses.create({ model: "tuned", input: "hi", reasoning: { effort: "low", summary: "auto" } });
    const body = lastUpstream().body as Record<string, unknown>;
    expect(body.reasoning).toEqual({ effort: "high", summary: "auto" });
    expect(body.reasoning_effort).toBeUndefined();
    await client().responses.create({ model: "tuned", input: "hi" });
    expect((lastUpstream().body as Record<string, unknown>).reasoning).toEqual({ effort: "high" });
  });

  test("models.list in OpenAI shape", async () => {
    const page = await client().models.list();
    expect(page.data.map((m) => m.id)).toContain("plain");
  });
});

describe("Gemini SDK", () => {
  const client = () => new GoogleGenAI({ apiKey: CLIENT_KEY, httpOptions: { baseUrl: gw.url, apiVersion: "v1beta" } });

  test("generateContent routes by the model in the path", async () => {
    const r = await client().models.generateContent({ model: "plain", contents: "hi" });
    expect(r.text).toBe(answer("claude-up"));
    const up = lastUpstream();
    expect(up.path).toBe("/v1beta/models/claude-up:generateContent");
    expect(up.headers["x-goog-api-key"]).toBeUndefined();
  });

  test("generateContentStream", async () => {
    let text = "";
    for await (const chunk of await client().models.generateContentStream({ model: "plain", contents: "hi" })) text += chunk.text ?? "";
    expect(text).toBe(answer("claude-up"));
    expect(lastUpstream().path).toBe("/v1beta/models/claude-up:streamGenerateContent");
  });

  test("models.list shows the routes in Google's shape, under every API version", async () => {
    for (const apiVersion of ["v1beta", "v1", "v1alpha"]) {
      const ai = new GoogleGenAI({ apiKey: CLIENT_KEY, httpOptions: { baseUrl: gw.url, apiVersion } });
      const models: { name?: string; inputTokenLimit?: number }[] = [];
      const pager = await ai.models.list();
      for await (const m of pager) models.push(m);
      expect(models.map((m) => m.name)).toEqual(["models/plain", "models/tuned", "models/defaulted", "models/leveled"]);
      expect(models.every((m) => (m.inputTokenLimit ?? 0) > 0)).toBe(true);
    }
  });

  // The SDK's default API version is v1 (v1alpha for some features); CLIProxyAPI serves v1beta only.
  test.each([["the default", undefined], ["v1", "v1"], ["v1alpha", "v1alpha"]])("apiVersion %s reaches the instance's /v1beta, errors in Google's shape", async (_, apiVersion) => {
    const other = new GoogleGenAI({ apiKey: CLIENT_KEY, httpOptions: { baseUrl: gw.url, ...(apiVersion ? { apiVersion } : {}) } });
    const r = await other.models.generateContent({ model: "plain", contents: "hi" });
    expect(r.text).toBe(answer("claude-up"));
    expect(lastUpstream().path).toBe("/v1beta/models/claude-up:generateContent");
    let text = "";
    for await (const chunk of await other.models.generateContentStream({ model: "tuned", contents: "hi" })) text += chunk.text ?? "";
    expect(text).toBe(answer("claude-tuned"));
    expect(lastUpstream().path).toBe("/v1beta/models/claude-tuned:streamGenerateContent");
    const counted = await other.models.countTokens({ model: "plain", contents: "hi" });
    expect(counted.totalTokens).toBeGreaterThan(0);
    expect(lastUpstream().path).toBe("/v1beta/models/claude-up:countTokens");
    // gw's own refusal of a countTokens call is in Google's shape too.
    const res = await fetch(`${gw.url}/${apiVersion ?? "v1"}/models/plain:countTokens`, { method: "POST", headers: { "x-goog-api-key": CLIENT_KEY }, body: "{" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { status: string } }).error.status).toBe("INVALID_ARGUMENT");
  });

  // The SDK lists and gets models under /v1 by default, where OpenAI's clients list them too: its key header tells them apart.
  test("models.get of a name no route has, and a wrong key on list and get, under the default /v1: errors in Google's shape", async () => {
    const googleError = (e: unknown) => JSON.parse((e as Error).message.replace(/^[^{]*/, "")) as { error: Record<string, unknown> };
    const missing = await new GoogleGenAI({ apiKey: CLIENT_KEY, httpOptions: { baseUrl: gw.url } }).models.get({ model: "plian" }).catch((e: unknown) => e);
    expect((missing as { status: number }).status).toBe(404);
    expect(googleError(missing).error).toEqual({ code: 404, status: "NOT_FOUND", message: expect.stringContaining('did you mean "plain"?') });
    const wrong = new GoogleGenAI({ apiKey: "wrong-key", httpOptions: { baseUrl: gw.url } });
    for (const call of [() => wrong.models.list(), () => wrong.models.get({ model: "plain" })]) {
      const refused = await call().catch((e: unknown) => e);
      expect((refused as { status: number }).status).toBe(401);
      expect(googleError(refused).error).toEqual({ code: 401, status: "UNAUTHENTICATED", message: "invalid API key for gw" });
    }
  });
});

// A model no route names goes to the default instance, which refuses it: gw adds the routes it
// could have meant. A missing or empty model is the client's error, answered without an instance.
// A path or method no instance serves (Gin's plain "404 page not found") gets a 404 or 405 in the
// client's dialect.
describe("bad models and paths, through each SDK", () => {
  const anthropic = () => new Anthropic({ baseURL: gw.url, apiKey: CLIENT_KEY, maxRetries: 0 });
  const openai = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
  const bodyMessage = (e: unknown) => ((e as InstanceType<typeof Anthropic.APIError>).error as { error: { message: string } }).error.message;

  test("an unknown model: 404 naming the closest routes and where the list is", async () => {
    const a = await anthropic().messages.create({ model: "plian", max_tokens: 5, messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e);
    expect(a).toBeInstanceOf(Anthropic.NotFoundError);
    expect(bodyMessage(a)).toMatch(/^model "plian" is no route of gw, and instance "a" .* does not serve it either; did you mean "plain"\? GET \/v1\/models or gw status lists the routes$/);
    const o = await openai().chat.completions.create({ model: "tunde", messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e);
    expect(o).toBeInstanceOf(OpenAI.NotFoundError);
    expect((o as Error).message).toContain('did you mean "tuned"?');
    const g = await new GoogleGenAI({ apiKey: CLIENT_KEY, httpOptions: { baseUrl: gw.url } }).models.generateContent({ model: "leveld", contents: "x" }).catch((e: unknown) => e);
    expect((g as { status: number }).status).toBe(404);
    const gm = JSON.parse((g as Error).message.replace(/^[^{]*/, "")) as { error: { code: number; status: string; message: string } };
    expect(gm.error).toMatchObject({ code: 404, status: "NOT_FOUND", message: expect.stringContaining('did you mean "leveled"?') });
  });

  test("a missing or empty model: 400 naming the field, no instance asked", async () => {
    const before = mock.stats().total;
    const a = await anthropic().messages.create({ model: "", max_tokens: 5, messages: [{ role: "user", content: "x" }] }).catch((e: unknown) => e);
    expect(a).toBeInstanceOf(Anthropic.BadRequestError);
    expect(bodyMessage(a)).toStartWith("`model` is empty");
    const o = await openai().chat.completions.create({ messages: [{ role: "user", content: "x" }] } as never).catch((e: unknown) => e);
    expect(o).toBeInstanceOf(OpenAI.BadRequestError);
    expect((o as Error).message).toContain("`model` is missing");
    const r = await openai().responses.create({ input: "x" } as never).catch((e: unknown) => e);
    expect(r).toBeInstanceOf(OpenAI.BadRequestError);
    expect(mock.stats().total).toBe(before);
  });

  test("a wrong method on a path gw serves: 405 with Allow, from gw without asking an instance", async () => {
    const before = mock.stats().total;
    const headers = { authorization: `Bearer ${CLIENT_KEY}`, "anthropic-version": "2023-06-01" };
    const get = await fetch(`${gw.url}/v1/messages`, { headers });
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    expect(await get.json()).toEqual({ type: "error", error: { type: "invalid_request_error", message: "GET /v1/messages: gw serves /v1/messages with POST only" } });
    const del = await openai().delete("/chat/completions").catch((e: unknown) => e);
    expect((del as { status: number }).status).toBe(405);
    expect((del as Error).message).toContain("DELETE /v1/chat/completions: gw serves /v1/chat/completions with POST only");
    expect(mock.stats().total).toBe(before);
  });

  test("an unknown path or model id: 404 in the client's dialect naming what gw serves", async () => {
    const nope = await openai().post("/nope", { body: {} }).catch((e: unknown) => e);
    expect(nope).toBeInstanceOf(OpenAI.NotFoundError);
    expect((nope as Error).message).toContain("gw serves no POST /v1/nope; it serves POST /v1/messages");
    const retrieved = await openai().models.retrieve("plian").catch((e: unknown) => e);
    expect(retrieved).toBeInstanceOf(OpenAI.NotFoundError);
    expect((retrieved as Error).message).toContain('model "plian" is no route of gw; did you mean "plain"?');
    const gemini = await fetch(`${gw.url}/v1beta/nope`, { headers: { "x-goog-api-key": CLIENT_KEY } });
    expect(gemini.status).toBe(404);
    expect(((await gemini.json()) as { error: { status: string } }).error.status).toBe("NOT_FOUND");
  });
});

// The SDKs' one-model calls, and route names with `/` and `:` (gw check allows both: "org/model",
// "model:tag"), which Google's SDK puts in the path as they are.
describe("one model, and routes named with / and :, through each SDK", () => {
  let named: Gateway;
  beforeAll(() => {
    named = startTestGateway(withRoutes(`
"org/model.x" = [{ instance = "a", provider = "anthropic", model = "claude-tuned" }]
"a:b" = [{ instance = "a", provider = "anthropic", model = "claude-d" }]
`));
  });
  afterAll(() => named.stop(0));

  test("models.retrieve (OpenAI, Anthropic) and models.get (Google): a route's entry in its list's shape; a name no list carries stays a 404 naming the routes", async () => {
    const openai = new OpenAI({ baseURL: `${named.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
    const anthropic = new Anthropic({ baseURL: named.url, apiKey: CLIENT_KEY, maxRetries: 0 });
    const google = new GoogleGenAI({ apiKey: CLIENT_KEY, httpOptions: { baseUrl: named.url, apiVersion: "v1beta" } });
    for (const name of ["plain", "org/model.x", "a:b"]) {
      expect(await openai.models.retrieve(name)).toMatchObject({ id: name, object: "model", owned_by: "gw" });
      const a = await anthropic.models.retrieve(name);
      expect([a.id, a.type, a.display_name.startsWith(`${name} → `)]).toEqual([name, "model", true]);
      const g = await google.models.get({ model: name });
      expect([g.name, (g.inputTokenLimit ?? 0) > 0]).toEqual([`models/${name}`, true]);
    }
    expect((await anthropic.models.retrieve("claude-gw-plain")).id).toBe("claude-gw-plain"); // the id Claude Code's picker keeps
    const missing = await openai.models.retrieve("plian").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as Error).message).toContain('model "plian" is no route of gw; did you mean "plain"?');
  });

  test("Google's SDK reaches the routes whose names hold / and :, as the other SDKs do", async () => {
    const google = new GoogleGenAI({ apiKey: CLIENT_KEY, httpOptions: { baseUrl: named.url, apiVersion: "v1beta" } });
    for (const [name, upstream] of [["org/model.x", "claude-tuned"], ["a:b", "claude-d"]] as const) {
      expect((await google.models.generateContent({ model: name, contents: "hi" })).text).toBe(answer(upstream));
      expect(lastUpstream().path).toBe(`/v1beta/models/${upstream}:generateContent`);
      let text = "";
      for await (const chunk of await google.models.generateContentStream({ model: name, contents: "hi" })) text += chunk.text ?? "";
      expect(text).toBe(answer(upstream));
      expect(lastUpstream().path).toBe(`/v1beta/models/${upstream}:streamGenerateContent`);
    }
  });
});

// Each API carries the token cap, the thinking budget and the effort in fields of its own: a
// route's params reach them there, a param the API has no field for adds none, and the request
// log names the params that changed the request (none for token counting).
describe("route params in each API's own fields, through each SDK", () => {
  let capped: Gateway;
  const dir = tempDir("gw-params-");
  beforeAll(() => {
    capped = startTestGateway(withRoutes(`
"capped" = [{ instance = "a", provider = "anthropic", model = "claude-tuned", params = { reasoning_effort = "high", max_tokens_max = 1000, thinking_budget_max = 600 } }]
"filled" = [{ instance = "a", provider = "anthropic", model = "claude-d", params = { max_tokens_default = 500, thinking_budget_max = 600 } }]
"budgeted" = [{ instance = "a", provider = "anthropic", model = "claude-d", params = { thinking_budget_max = 24576 } }]
`, join(dir, "providers.toml")));
  });
  afterAll(() => capped.stop(0));

  /** The upstream body of one request `send` makes to `route`, and that request's `routing.params`. */
  async function sent(route: string, send: () => Promise<unknown>): Promise<{ body: Record<string, any>; params: readonly string[] }> {
    const [, record] = await withRecord(dir, route, send);
    return { body: lastUpstream().body as Record<string, any>, params: record.routing.params };
  }

  test("Anthropic messages: max_tokens, thinking.budget_tokens, no reasoning_effort (the API has no such field); count_tokens gets none and its record lists none", async () => {
    const anthropic = new Anthropic({ baseURL: capped.url, apiKey: CLIENT_KEY, maxRetries: 0 });
    const r = await sent("capped", () => anthropic.messages.create({ model: "capped", max_tokens: 16000, thinking: { type: "enabled", budget_tokens: 15000 }, messages: [{ role: "user", content: "hi" }] }));
    expect(r.body).toMatchObject({ model: "claude-tuned", max_tokens: 1000, thinking: { type: "enabled", budget_tokens: 600 } });
    expect(r.body.reasoning_effort).toBeUndefined();
    expect(r.params).toEqual(["max_tokens_max", "thinking_budget_max"]);
    const counted = await sent("capped", () => anthropic.messages.countTokens({ model: "capped", thinking: { type: "enabled", budget_tokens: 31999 }, messages: [{ role: "user", content: "hi" }] }));
    expect(counted.body).toEqual({ model: "claude-tuned", thinking: { type: "enabled", budget_tokens: 31999 }, messages: [{ role: "user", content: "hi" }] });
    expect(counted.params).toEqual([]);
  });

  test("OpenAI chat: max_completion_tokens is clamped; max_tokens_default fills max_tokens when neither is sent", async () => {
    const openai = new OpenAI({ baseURL: `${capped.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
    const r = await sent("capped", () => openai.chat.completions.create({ model: "capped", max_completion_tokens: 32000, messages: [{ role: "user", content: "hi" }] }));
    expect(r.body).toMatchObject({ max_completion_tokens: 1000, reasoning_effort: "high" });
    expect(r.body.max_tokens).toBeUndefined();
    expect(r.params).toEqual(["reasoning_effort", "max_tokens_max"]);
    const filled = await sent("filled", () => openai.chat.completions.create({ model: "filled", messages: [{ role: "user", content: "hi" }] }));
    expect(filled.body.max_tokens).toBe(500);
    expect(filled.params).toEqual(["max_tokens_default"]);
    const within = await sent("filled", () => openai.chat.completions.create({ model: "filled", max_completion_tokens: 64, messages: [{ role: "user", content: "hi" }] }));
    expect([within.body.max_tokens, within.body.max_completion_tokens, within.params]).toEqual([undefined, 64, []]);
  });

  // CLIProxyAPI reads an effort level as a budget (xhigh 32768, max 128000): thinking_budget_max
  // = 24576 keeps a client's xhigh from going out, as it keeps Claude Code's 31999 budget.
  test("OpenAI chat and Responses: thinking_budget_max lowers the client's effort level to the highest within it", async () => {
    const openai = new OpenAI({ baseURL: `${capped.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
    const chat = await sent("budgeted", () => openai.chat.completions.create({ model: "budgeted", reasoning_effort: "xhigh", messages: [{ role: "user", content: "hi" }] }));
    expect([chat.body.reasoning_effort, chat.params]).toEqual(["high", ["thinking_budget_max"]]);
    const within = await sent("budgeted", () => openai.chat.completions.create({ model: "budgeted", reasoning_effort: "medium", messages: [{ role: "user", content: "hi" }] }));
    expect([within.body.reasoning_effort, within.params]).toEqual(["medium", []]);
    const responses = await sent("budgeted", () => openai.responses.create({ model: "budgeted", input: "hi", reasoning: { effort: "xhigh", summary: "auto" } }));
    expect([responses.body.reasoning, responses.params]).toEqual([{ effort: "high", summary: "auto" }, ["thinking_budget_max"]]);
  });

  test("OpenAI Responses: max_output_tokens and reasoning.effort, no top-level fields of other APIs", async () => {
    const openai = new OpenAI({ baseURL: `${capped.url}/v1`, apiKey: CLIENT_KEY, maxRetries: 0 });
    const r = await sent("capped", () => openai.responses.create({ model: "capped", input: "hi", max_output_tokens: 32000 }));
    expect(r.body).toMatchObject({ max_output_tokens: 1000, reasoning: { effort: "high" } });
    expect([r.body.reasoning_effort, r.body.max_tokens]).toEqual([undefined, undefined]);
    expect(r.params).toEqual(["reasoning_effort", "max_tokens_max"]);
    const filled = await sent("filled", () => openai.responses.create({ model: "filled", input: "hi" }));
    expect([filled.body.max_output_tokens, filled.body.max_tokens, filled.params]).toEqual([500, undefined, ["max_tokens_default"]]);
  });

  test("Gemini: generationConfig.maxOutputTokens, thinkingConfig's budget and level; never a top-level reasoning_effort", async () => {
    const google = new GoogleGenAI({ apiKey: CLIENT_KEY, httpOptions: { baseUrl: capped.url, apiVersion: "v1beta" } });
    const r = await sent("capped", () => google.models.generateContent({ model: "capped", contents: "hi", config: { temperature: 0.5, maxOutputTokens: 32000, thinkingConfig: { thinkingBudget: 31999, includeThoughts: true } } }));
    expect(r.body.generationConfig).toEqual({ temperature: 0.5, maxOutputTokens: 1000, thinkingConfig: { includeThoughts: true, thinkingLevel: "high" } });
    expect(r.body.reasoning_effort).toBeUndefined();
    expect(r.params).toEqual(["reasoning_effort", "max_tokens_max"]);
    // The budget: clamped to thinking_budget_max, then below the cap max_tokens_default set.
    const filled = await sent("filled", async () => {
      for await (const _ of await google.models.generateContentStream({ model: "filled", contents: "hi", config: { thinkingConfig: { thinkingBudget: 31999 } } }));
    });
    expect(filled.body.generationConfig).toEqual({ maxOutputTokens: 500, thinkingConfig: { thinkingBudget: 499 } });
    expect(filled.params).toEqual(["max_tokens_default", "thinking_budget_max"]);
    // A level, lowered to the highest within thinking_budget_max = 600 (minimal's 512), in the SDK's case.
    const leveled = await sent("filled", () => google.models.generateContent({ model: "filled", contents: "hi", config: { thinkingConfig: { thinkingLevel: ThinkingLevel.HIGH } } }));
    expect([leveled.body.generationConfig.thinkingConfig, leveled.params]).toEqual([{ thinkingLevel: "MINIMAL" }, ["max_tokens_default", "thinking_budget_max"]]);
    const counted = await sent("capped", () => google.models.countTokens({ model: "capped", contents: "hi" }));
    expect(Object.keys(counted.body)).toEqual(["contents"]);
    expect(counted.params).toEqual([]);
  });
});
