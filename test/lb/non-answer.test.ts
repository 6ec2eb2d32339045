// Answers below 400 that are no answer (non-answer.ts): an upstream's redirect never reaches the
// client — gw follows none, and a client that did (the @google/genai SDK, curl -L) took its gw
// key and its prompt to the host the Location named; nor does a model call's 2xx that is no
// JSON and no event stream (a captive portal's page, a body without a type) or has no body (a
// 204), which the SDKs resolved as answers. Such an answer fails over; the last target's is gw's
// own 502 in the client's dialect. Raw-socket upstreams: they send exactly what a broken relay sends.
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { RunningGateway } from "../../src/lb/server.ts";
import { configFrom, startTestGateway } from "../helpers/lb.ts";
import { httpAnswer, type RawRequest, rawUpstream, type RawUpstream } from "../helpers/raw-upstream.ts";
import { rejection, withRecord } from "../helpers/resilience.ts";
import { tempDir } from "../helpers/tmp.ts";

const CLIENT_KEY = "sk-gw-client-7c1e5a9b3d2f4e6a";
const PROMPT = "my secret prompt XYZZY-4711";

/** The upstream's answer in each dialect, by the path it was sent to. */
function okAnswer(req: RawRequest): string {
  const body = req.path.includes(":generateContent")
    ? { candidates: [{ content: { role: "model", parts: [{ text: "fine" }] }, finishReason: "STOP", index: 0 }], usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 1, totalTokenCount: 2 } }
    : req.path.startsWith("/v1/chat/completions")
      ? { id: "c1", object: "chat.completion", created: 1, model: "ok", choices: [{ index: 0, message: { role: "assistant", content: "fine" }, finish_reason: "stop" }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }
      : { id: "msg_1", type: "message", role: "assistant", model: "ok", content: [{ type: "text", text: "fine" }], stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } };
  return httpAnswer("200 OK", [["content-type", "application/json"]], JSON.stringify(body));
}

/** The model the upstream was asked for: in the path for Gemini, in the body for the others. */
const modelOf = (req: RawRequest): string => /\/models\/([^/:]+):/.exec(req.path)?.[1] ?? (JSON.parse(req.body || "{}") as { model?: string }).model ?? "";

/** 2xx that are no answer, by the model asked for. */
const NOT_ANSWERS: Record<string, (req: RawRequest) => string> = {
  html: () => httpAnswer("200 OK", [["content-type", "text/html; charset=utf-8"]], "<html><body>Please log in to the hotel wifi</body></html>"),
  // The right body, but nothing says what it is: the SDKs take it as text.
  untyped: (req) => okAnswer(req).replace("content-type: application/json\r\n", ""),
  s204: () => httpAnswer("204 No Content", []),
  s205: () => httpAnswer("205 Reset Content", [["content-length", "0"]]),
  e201: () => httpAnswer("201 Created", [["content-type", "application/json"]]),
};

const SSE = [
  `event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"ok","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":0}}}\n\n`,
  `event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n`,
  `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"streamed"}}\n\n`,
  `event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n`,
  `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":1}}\n\n`,
  `event: message_stop\ndata: {"type":"message_stop"}\n\n`,
].join("");
const GEMINI_ARRAY = JSON.stringify([{ candidates: [{ content: { role: "model", parts: [{ text: "arr" }] }, index: 0 }] }, { candidates: [{ content: { role: "model", parts: [{ text: "ay" }] }, finishReason: "STOP", index: 0 }], usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 2, totalTokenCount: 3 } }]);

/** Answers in the types real upstreams label them with, by the model asked for. */
const ANSWERS: Record<string, (req: RawRequest) => string> = {
  // Gin's c.JSON (CLIProxyAPI's own answers).
  charset: (req) => okAnswer(req).replace("content-type: application/json", "content-type: application/json; charset=utf-8"),
  upper: (req) => okAnswer(req).replace("content-type: application/json", "Content-Type: Application/JSON"),
  sse: () => httpAnswer("200 OK", [["content-type", "text/event-stream; charset=utf-8"]], SSE),
  // Gemini's stream without SSE: a JSON array (Google's type), or the same as CLIProxyAPI sends it with no type of its own (Go sniffs text/plain).
  array: () => httpAnswer("200 OK", [["content-type", "application/json; charset=UTF-8"]], GEMINI_ARRAY),
  sniffed: () => httpAnswer("200 OK", [["content-type", "text/plain; charset=utf-8"]], GEMINI_ARRAY),
};

let up: RawUpstream, elsewhere: RawUpstream, gw: RunningGateway, dir: string;
beforeAll(async () => {
  // Where a redirect points: anything reaching it is the client's key and prompt, leaked.
  elsewhere = await rawUpstream(() => httpAnswer("200 OK", [["content-type", "application/json"]], "{}"));
  // Model `r307` answers 307 to `elsewhere`; `bare304` a 304 with no Location; `ok` an answer.
  up = await rawUpstream((req) => {
    const model = modelOf(req);
    const redirect = /^r(\d{3})$/.exec(model) ?? /^\/v1\/files\/r(\d{3})$/.exec(req.path);
    if (redirect) return httpAnswer(`${redirect[1]} Moved`, [["location", `${elsewhere.url}/steal`], ["content-type", "text/html"]], `<a href="${elsewhere.url}/steal">moved</a>`);
    if (model === "bare304" || req.path === "/v1/files/bare304") return httpAnswer("304 Not Modified", [["etag", '"1"']]);
    return NOT_ANSWERS[model]?.(req) ?? ANSWERS[model]?.(req) ?? okAnswer(req);
  });
  dir = tempDir("gw-non-answer-");
  const redirecting = [300, 301, 302, 303, 307, 308].map((s) => `"r${s}" = [{ instance = "up", provider = "anthropic", model = "r${s}" }]`).join("\n");
  gw = startTestGateway(configFrom(`
[global]
main_port = 8145
api_keys = ["${CLIENT_KEY}"]
# Every request here meets its targets afresh: a cooled target would make the route out (own-error.ts).
lb_transient_cooldown_ms = 0
[instances.up]
url = "${up.url}"
api_key = "sk-up-0123456789abcdef0123"
providers = [{ type = "anthropic", api_keys = ["sk-ant-0123456789abcdef0123456789"] }]
[routing]
${redirecting}
"bare304" = [{ instance = "up", provider = "anthropic", model = "bare304" }]
${[...Object.keys(NOT_ANSWERS), ...Object.keys(ANSWERS)].map((m) => `"${m}" = [{ instance = "up", provider = "anthropic", model = "${m}" }]`).join("\n")}
"portal-first" = [{ instance = "up", provider = "anthropic", model = "html" }, { instance = "up", provider = "anthropic", model = "ok", weight = 0 }]
# The redirecting target first (weight 1), the answering one only when nothing else is left (weight 0).
"fallback" = [{ instance = "up", provider = "anthropic", model = "r307" }, { instance = "up", provider = "anthropic", model = "ok", weight = 0 }]
`, join(dir, "providers.toml")));
});
afterAll(async () => {
  await gw.stop(0);
  await up.stop();
  await elsewhere.stop();
});

const gemini = (headers?: Record<string, string>) => new GoogleGenAI({ apiKey: CLIENT_KEY, httpOptions: { baseUrl: gw.url, apiVersion: "v1beta", headers } });

describe("an upstream's redirect", () => {
  test("@google/genai gets gw's 502, not the 307: the host it named hears nothing (no key, no prompt)", async () => {
    const [err, record] = await withRecord(dir, "r307", () => rejection(gemini().models.generateContent({ model: "r307", contents: PROMPT })));
    expect((err as { status?: number }).status).toBe(502);
    expect(String((err as Error).message)).toContain("redirect");
    expect(String((err as Error).message)).not.toContain(elsewhere.url);
    expect(elsewhere.connections()).toBe(0);
    // The upstream was asked (with gw's key for it, not the client's), and its answer judged a failure.
    expect(up.seen.at(-1)!.path).toContain("/models/r307:generateContent");
    expect(record.response.status).toBe(502);
    expect(record.routing.attempts.map((a) => a.class)).toEqual(["transient"]);
    expect(record.routing.attempts[0]!.error).toContain("answered 307");
  });

  test("every 3xx to a model call, and a 304 without a Location, is gw's 502 in the client's dialect, without Location or body", async () => {
    for (const model of ["r300", "r301", "r302", "r303", "r307", "r308", "bare304"]) {
      // fetch follows redirects by default, as curl -L does.
      const res = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "x-api-key": CLIENT_KEY, "anthropic-version": "2023-06-01", "content-type": "application/json" }, body: JSON.stringify({ model, max_tokens: 5, messages: [{ role: "user", content: PROMPT }] }) });
      const text = await res.text();
      expect({ model, status: res.status, location: res.headers.get("location") }).toEqual({ model, status: 502, location: null });
      expect(JSON.parse(text)).toMatchObject({ type: "error", error: { type: "api_error" } });
      expect(text).not.toContain(elsewhere.url);
      expect(text).not.toContain("moved");
    }
    expect(elsewhere.connections()).toBe(0);
  });

  test("another request's redirect is not passed on either; its 304 without a Location is", async () => {
    const get = (path: string) => fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${CLIENT_KEY}` }, redirect: "manual" });
    const redirected = await get("/v1/files/r302");
    expect(redirected.status).toBe(502);
    expect(redirected.headers.get("location")).toBeNull();
    expect(await redirected.text()).not.toContain(elsewhere.url);
    expect((await get("/v1/files/bare304")).status).toBe(304);
    expect(elsewhere.connections()).toBe(0);
  });

  test("a redirect fails over: the next target answers", async () => {
    const r = await gemini().models.generateContent({ model: "fallback", contents: PROMPT });
    expect(r.text).toBe("fine");
    expect(r.sdkHttpResponse?.headers?.["x-gw-attempts"]).toBe("2");
    expect(elsewhere.connections()).toBe(0);
  });
});

describe("a redirect that answers the request, not the target (gin's trailing-slash 307 from every instance)", () => {
  const chat = JSON.stringify({ id: "c1", object: "chat.completion", created: 1, model: "m", choices: [{ index: 0, message: { role: "assistant", content: "fine" }, finish_reason: "stop" }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });
  const gin = () => rawUpstream((req) => (req.path.endsWith("/") ? httpAnswer("307 Temporary Redirect", [["location", req.path.slice(0, -1)]]) : httpAnswer("200 OK", [["content-type", "application/json"]], chat)));
  let a: RawUpstream, b: RawUpstream, lb: RunningGateway;
  beforeAll(async () => {
    [a, b] = [await gin(), await gin()];
    const instance = (name: string, url: string) => `[instances.${name}]\nurl = "${url}"\napi_key = "sk-up-0123456789abcdef012${name}"\nproviders = [{ type = "anthropic", api_keys = ["sk-ant-0123456789abcdef0123456789"] }]\n`;
    // Default cooldowns: the point is that none is set.
    lb = startTestGateway(configFrom(`[global]\nmain_port = 8145\napi_keys = ["${CLIENT_KEY}"]\n${instance("a", a.url)}${instance("b", b.url)}[routing]\n"m" = [{ instance = "a", provider = "anthropic", model = "m" }, { instance = "b", provider = "anthropic", model = "m" }]\n`, join(tempDir("gw-redirect-"), "providers.toml")));
  });
  afterAll(async () => {
    await lb.stop(0);
    await a.stop();
    await b.stop();
  });
  const post = (path: string) => fetch(`${lb.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" }, body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }), redirect: "manual" });

  test("fails over to every target, cools none of them: the next well-formed request is served at once", async () => {
    const typo = await post("/v1/chat/completions/");
    expect([typo.status, typo.headers.get("location"), typo.headers.get("x-gw-attempts")]).toEqual([502, null, "2"]);
    expect(lb.coolingList(Date.now())).toEqual([]);
    const fine = await post("/v1/chat/completions");
    expect([fine.status, fine.headers.get("x-gw-attempts")]).toEqual([200, "1"]);
  });
});

describe("a model call's 2xx that is no answer", () => {
  const claude = () => new Anthropic({ apiKey: CLIENT_KEY, baseURL: gw.url, maxRetries: 0 });
  const openai = () => new OpenAI({ apiKey: CLIENT_KEY, baseURL: `${gw.url}/v1`, maxRetries: 0 });
  const ask = (model: string) => claude().messages.create({ model, max_tokens: 5, messages: [{ role: "user", content: "hi" }] });

  test("the Anthropic SDK gets gw's 502 for a captive portal's page, a body without a type, a 204, a 205, an empty 201", async () => {
    for (const model of Object.keys(NOT_ANSWERS)) {
      const [err, record] = await withRecord(dir, model, () => rejection(ask(model)));
      expect({ model, status: (err as { status?: number }).status }).toEqual({ model, status: 502 });
      expect(JSON.stringify((err as { error?: unknown }).error)).not.toContain("hotel wifi");
      expect(record.response.status).toBe(502);
      expect(record.routing.attempts.map((a) => a.class)).toEqual(["transient"]);
      expect(record.routing.attempts[0]!.error).toMatch(/answered 20\d with (Content-Type text\/html|no Content-Type|no body|an empty body)/);
    }
  });

  test("so do the OpenAI SDK, @google/genai and a token count", async () => {
    const chat = await rejection(openai().chat.completions.create({ model: "html", messages: [{ role: "user", content: "hi" }] }));
    expect((chat as { status?: number }).status).toBe(502);
    const gen = await rejection(gemini().models.generateContent({ model: "html", contents: "hi" }));
    expect((gen as { status?: number }).status).toBe(502);
    const count = await rejection(claude().messages.countTokens({ model: "untyped", messages: [{ role: "user", content: "hi" }] }));
    expect((count as { status?: number }).status).toBe(502);
  });

  test("it fails over: the next target answers", async () => {
    const { data, response } = await ask("portal-first").withResponse();
    expect(data.content).toMatchObject([{ type: "text", text: "fine" }]);
    expect(response.headers.get("x-gw-attempts")).toBe("2");
  });

  test("answers in every type real upstreams give them pass: charset, upper case, an event stream, Gemini's array, CLIProxyAPI's sniffed text/plain", async () => {
    expect((await ask("charset")).content).toMatchObject([{ type: "text", text: "fine" }]);
    // A type in upper case is JSON all the same (the Anthropic SDK reads it as text: not gw's to mend).
    const upper = await fetch(`${gw.url}/v1/messages`, { method: "POST", headers: { "x-api-key": CLIENT_KEY }, body: JSON.stringify({ model: "upper", max_tokens: 5, messages: [] }) });
    expect(upper.status).toBe(200);
    expect(((await upper.json()) as { content: unknown }).content).toEqual([{ type: "text", text: "fine" }]);
    expect((await claude().messages.stream({ model: "sse", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }).finalText())).toBe("streamed");
    expect((await openai().chat.completions.create({ model: "charset", messages: [{ role: "user", content: "hi" }] })).choices[0]!.message.content).toBe("fine");
    expect((await gemini().models.generateContent({ model: "charset", contents: "hi" })).text).toBe("fine");
    for (const model of ["array", "sniffed"]) {
      const res = await fetch(`${gw.url}/v1beta/models/${model}:streamGenerateContent?alt=json`, { method: "POST", headers: { "x-goog-api-key": CLIENT_KEY }, body: JSON.stringify({ contents: [{ role: "user", parts: [{ text: "hi" }] }] }) });
      expect({ model, status: res.status, body: await res.text() }).toEqual({ model, status: 200, body: GEMINI_ARRAY });
    }
  });

  test("a request that is no model call passes its answer as it came, whatever its type", async () => {
    const page = await fetch(`${gw.url}/v1/files/x/content`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } });
    expect(page.status).toBe(200);
    const speech = await fetch(`${gw.url}/v1/audio/speech`, { method: "POST", headers: { authorization: `Bearer ${CLIENT_KEY}` }, body: JSON.stringify({ model: "untyped", input: "hi", voice: "x" }) });
    expect(speech.status).toBe(200);
    expect(((await speech.json()) as { content: unknown }).content).toEqual([{ type: "text", text: "fine" }]);
  });
});
