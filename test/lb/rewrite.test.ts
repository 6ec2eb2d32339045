import { describe, expect, test } from "bun:test";
import type { InstanceConfig, RouteParams, Target } from "../../src/config/types.ts";
import { type Intake, routed } from "../../src/lb/intake.ts";
import { applyBodyParams, type ParamCall, paramCallOf } from "../../src/lb/body-params.ts";
import { attemptHeaders, mergeBeta, rewriteFor, upstreamModel } from "../../src/lb/rewrite.ts";

const params = (p: Partial<RouteParams>): RouteParams => ({ anthropicBeta: [], extraHeaders: {}, ...p });
const target = (p: Partial<RouteParams> = {}, model = "up-model"): Target => ({
  id: `a/${model}`, instance: "a", provider: "anthropic", model, weight: 1, priority: 0, params: params(p),
});
const instance = { name: "a", apiKey: "inst-key", baseUrl: "http://127.0.0.1:1" } as InstanceConfig;

function intake(json: Record<string, unknown>, over: Partial<Intake> = {}): Intake {
  const raw = JSON.stringify(json);
  return { method: "POST", path: "/v1/messages", search: "?beta=true", dialect: "anthropic", model: json.model as string, json, raw, countTokens: false, ...over };
}

describe("body params", () => {
  const run = (body: Record<string, unknown>, p: Partial<RouteParams>, call: ParamCall = "messages") => {
    const copy = { ...body };
    applyBodyParams(copy, params(p), call);
    return copy;
  };
  // Anthropic's Messages API has no effort field, and CLIProxyAPI reads none from a Claude body.
  test("reasoning_effort adds nothing to Anthropic messages; a client's own field is left as sent", () => {
    expect(run({ max_tokens: 10 }, { reasoningEffort: "high" })).toEqual({ max_tokens: 10 });
    expect(run({ reasoning_effort: "low" }, { reasoningEffort: "high" }).reasoning_effort).toBe("low");
  });
  test("max_tokens_max clamps down, never up", () => {
    expect(run({ max_tokens: 32000 }, { maxTokensMax: 24000 }).max_tokens).toBe(24000);
    expect(run({ max_tokens: 100 }, { maxTokensMax: 24000 }).max_tokens).toBe(100);
  });
  test("max_tokens_default only fills an absent value", () => {
    expect(run({}, { maxTokensDefault: 4096 }).max_tokens).toBe(4096);
    expect(run({ max_tokens: 10 }, { maxTokensDefault: 4096 }).max_tokens).toBe(10);
  });
  test("thinking_budget_max clamps the budget", () => {
    const out = run({ max_tokens: 64000, thinking: { type: "enabled", budget_tokens: 31999 } }, { thinkingBudgetMax: 24576 });
    expect(out.thinking).toEqual({ type: "enabled", budget_tokens: 24576 });
  });
  test("a budget under thinking_budget_max is the client's", () => {
    const out = run({ max_tokens: 64000, thinking: { type: "enabled", budget_tokens: 1000 } }, { thinkingBudgetMax: 24576 });
    expect(out.thinking).toEqual({ type: "enabled", budget_tokens: 1000 });
  });
  test("a budget equal to max_tokens goes one below it (the API wants budget_tokens < max_tokens)", () => {
    const out = run({ max_tokens: 2000, thinking: { type: "enabled", budget_tokens: 2000 } }, { thinkingBudgetMax: 24576 });
    expect(out.thinking).toEqual({ type: "enabled", budget_tokens: 1999 });
  });
  test("thinking: null is left as the client sent it", () => {
    expect(run({ max_tokens: 10, thinking: null }, { thinkingBudgetMax: 5 }).thinking).toBeNull();
  });
  test("budget is lowered below max_tokens after clamping", () => {
    const out = run({ max_tokens: 32000, thinking: { type: "enabled", budget_tokens: 31999 } }, { maxTokensMax: 16000 });
    expect(out).toEqual({ max_tokens: 16000, thinking: { type: "enabled", budget_tokens: 15999 } });
  });
  test("the client's thinking object is not mutated", () => {
    const thinking = { type: "enabled", budget_tokens: 30000 };
    run({ max_tokens: 1000, thinking }, { thinkingBudgetMax: 2000 });
    expect(thinking.budget_tokens).toBe(30000);
  });
  test("adaptive thinking (no budget) is left alone", () => {
    expect(run({ max_tokens: 10, thinking: { type: "adaptive" } }, { thinkingBudgetMax: 5 }).thinking).toEqual({ type: "adaptive" });
  });
});

// Each API names the token cap, the budget and the effort its own way: a param goes where the
// call carries it, and where the call has no field for it nothing is added.
describe("body params per call", () => {
  const apply = (call: ParamCall, body: Record<string, unknown>, p: Partial<RouteParams>) => {
    const copy = { ...body };
    const applied = applyBodyParams(copy, params(p), call);
    return { body: copy, applied };
  };
  const all = { reasoningEffort: "high", maxTokensMax: 1000, maxTokensDefault: 500, thinkingBudgetMax: 600 };

  test("the call comes from the path, under any API root; token counting and other calls take none", () => {
    expect(paramCallOf("/v1/messages", undefined)).toBe("messages");
    expect(paramCallOf("/api/provider/anthropic/v1/messages", undefined)).toBe("messages");
    expect(paramCallOf("/v1/chat/completions", undefined)).toBe("chat");
    expect(paramCallOf("/v1/completions", undefined)).toBe("completions");
    expect(paramCallOf("/backend-api/codex/responses", undefined)).toBe("responses");
    expect(paramCallOf("/v1beta/models/g:streamGenerateContent", "streamGenerateContent")).toBe("gemini");
    for (const [path, action] of [["/v1/messages/count_tokens"], ["/v1beta/models/g:countTokens", "countTokens"], ["/v1/embeddings"], ["/v1/responses/compact"]] as const) {
      expect(paramCallOf(path, action)).toBeUndefined();
    }
  });

  test("Anthropic messages: max_tokens and thinking.budget_tokens; no effort field", () => {
    const r = apply("messages", { max_tokens: 4000, thinking: { type: "enabled", budget_tokens: 3000 } }, all);
    expect(r.body).toEqual({ max_tokens: 1000, thinking: { type: "enabled", budget_tokens: 600 } });
    expect(r.applied).toEqual(["max_tokens_max", "thinking_budget_max"]);
  });

  test("OpenAI chat: max_completion_tokens (what current SDKs send) is clamped as max_tokens is; the default fills neither when one is there", () => {
    expect(apply("chat", { max_completion_tokens: 32000 }, { maxTokensMax: 1000 })).toEqual({ body: { max_completion_tokens: 1000 }, applied: ["max_tokens_max"] });
    expect(apply("chat", { max_tokens: 32000, max_completion_tokens: 900 }, { maxTokensMax: 1000 }).body).toEqual({ max_tokens: 1000, max_completion_tokens: 900 });
    expect(apply("chat", { max_completion_tokens: 10 }, { maxTokensDefault: 4096 })).toEqual({ body: { max_completion_tokens: 10 }, applied: [] });
    expect(apply("chat", {}, { maxTokensDefault: 4096 }).body).toEqual({ max_tokens: 4096 });
    expect(apply("chat", { reasoning_effort: "low" }, { reasoningEffort: "high" }).body).toEqual({ reasoning_effort: "high" });
  });

  test("OpenAI chat: a thinking budget (Anthropic's OpenAI-compatible form) stays below the smallest cap", () => {
    const r = apply("chat", { max_completion_tokens: 2000, thinking: { type: "enabled", budget_tokens: 5000 } }, { maxTokensMax: 1000 });
    expect(r.body).toEqual({ max_completion_tokens: 1000, thinking: { type: "enabled", budget_tokens: 999 } });
    expect(r.applied).toEqual(["max_tokens_max"]);
  });

  test("Responses API: max_output_tokens and reasoning.effort (the client's other reasoning fields kept); no budget, no top-level effort", () => {
    const client = { reasoning: { effort: "low", summary: "auto" }, max_output_tokens: 32000, thinking: { type: "enabled", budget_tokens: 3000 } };
    const r = apply("responses", client, all);
    expect(r.body).toEqual({ reasoning: { effort: "high", summary: "auto" }, max_output_tokens: 1000, thinking: { type: "enabled", budget_tokens: 3000 } });
    expect(r.applied).toEqual(["reasoning_effort", "max_tokens_max"]);
    expect(client.reasoning.effort).toBe("low");
    expect(apply("responses", {}, { maxTokensDefault: 4096 }).body).toEqual({ max_output_tokens: 4096 });
  });

  // CLIProxyAPI turns a level into a budget (minimal 512 … high 24576, xhigh 32768, max 128000)
  // and a budget above 24576 into xhigh: the cap that keeps a Claude Code budget of 31999 from
  // becoming xhigh keeps a client's xhigh from going out too.
  test("thinking_budget_max lowers a client's effort level to the highest within it, in each API's effort field", () => {
    const cap = { thinkingBudgetMax: 24576 };
    expect(apply("chat", { reasoning_effort: "xhigh" }, cap)).toEqual({ body: { reasoning_effort: "high" }, applied: ["thinking_budget_max"] });
    const client = { reasoning: { effort: "max", summary: "auto" } };
    expect(apply("responses", client, cap)).toEqual({ body: { reasoning: { effort: "high", summary: "auto" } }, applied: ["thinking_budget_max"] });
    expect(client.reasoning.effort).toBe("max");
    const gemini = apply("gemini", { generationConfig: { thinkingConfig: { thinkingLevel: "HIGH", includeThoughts: true } } }, { thinkingBudgetMax: 8000 });
    expect(gemini).toEqual({ body: { generationConfig: { thinkingConfig: { thinkingLevel: "LOW", includeThoughts: true } } }, applied: ["thinking_budget_max"] });
    // Within the cap, no level (none, auto) or one CLIProxyAPI does not know: as sent.
    for (const effort of ["high", "medium", "none", "auto", "turbo", 3]) expect(apply("chat", { reasoning_effort: effort }, cap)).toEqual({ body: { reasoning_effort: effort }, applied: [] });
    // Below the lowest level's budget: the lowest level, not none (a budget cap still thinks).
    expect(apply("chat", { reasoning_effort: "low" }, { thinkingBudgetMax: 100 }).body).toEqual({ reasoning_effort: "minimal" });
    // Named once with the budget it clamped too; a route's own effort is its choice, not lowered.
    expect(apply("chat", { reasoning_effort: "xhigh", max_tokens: 99999, thinking: { type: "enabled", budget_tokens: 31999 } }, cap).applied).toEqual(["thinking_budget_max"]);
    expect(apply("chat", { reasoning_effort: "low" }, { ...cap, reasoningEffort: "xhigh" })).toEqual({ body: { reasoning_effort: "xhigh" }, applied: ["reasoning_effort"] });
  });

  test("legacy completions: max_tokens only, no effort field", () => {
    expect(apply("completions", { max_tokens: 5000 }, all)).toEqual({ body: { max_tokens: 1000 }, applied: ["max_tokens_max"] });
  });

  test("Gemini: generationConfig.maxOutputTokens and thinkingConfig.thinkingBudget, kept below the cap; the client's objects untouched", () => {
    const gc = { temperature: 0.5, maxOutputTokens: 8000, thinkingConfig: { includeThoughts: true, thinkingBudget: 31999 } };
    const r = apply("gemini", { contents: [], generationConfig: gc }, { maxTokensMax: 4000, thinkingBudgetMax: 24576 });
    expect(r.body.generationConfig).toEqual({ temperature: 0.5, maxOutputTokens: 4000, thinkingConfig: { includeThoughts: true, thinkingBudget: 3999 } });
    expect(r.applied).toEqual(["max_tokens_max", "thinking_budget_max"]);
    expect(gc).toEqual({ temperature: 0.5, maxOutputTokens: 8000, thinkingConfig: { includeThoughts: true, thinkingBudget: 31999 } });
    // Dynamic (-1) and off (0) are no budgets to clamp.
    expect(apply("gemini", { generationConfig: { thinkingConfig: { thinkingBudget: -1 } } }, { thinkingBudgetMax: 100 }).applied).toEqual([]);
    expect(apply("gemini", { contents: [] }, { maxTokensDefault: 4096 }).body).toEqual({ contents: [], generationConfig: { maxOutputTokens: 4096 } });
  });

  test("Gemini: thinkingConfig's snake-case thinking_budget (Google's Python SDK writes it) and thinking_level are clamped as the camel-case ones are", () => {
    const budget = apply("gemini", { generationConfig: { maxOutputTokens: 8000, thinkingConfig: { thinking_budget: 31999 } } }, { thinkingBudgetMax: 24576 });
    expect(budget).toEqual({ body: { generationConfig: { maxOutputTokens: 8000, thinkingConfig: { thinking_budget: 7999 } } }, applied: ["thinking_budget_max"] });
    const level = apply("gemini", { generationConfig: { thinkingConfig: { thinking_level: "high" } } }, { thinkingBudgetMax: 8192 });
    expect(level).toEqual({ body: { generationConfig: { thinkingConfig: { thinking_level: "medium" } } }, applied: ["thinking_budget_max"] });
    // Both spellings sent: each is clamped, the param named once.
    const both = apply("gemini", { generationConfig: { thinkingConfig: { thinkingBudget: 30000, thinking_budget: 30000 } } }, { thinkingBudgetMax: 1000 });
    expect(both).toEqual({ body: { generationConfig: { thinkingConfig: { thinkingBudget: 1000, thinking_budget: 1000 } } }, applied: ["thinking_budget_max"] });
  });

  test("Gemini: reasoning_effort is thinkingConfig.thinkingLevel, which replaces the client's budget; never a top-level reasoning_effort", () => {
    const r = apply("gemini", { contents: [], generationConfig: { maxOutputTokens: 100, thinkingConfig: { thinkingBudget: 8000, includeThoughts: true } } }, { reasoningEffort: "high", thinkingBudgetMax: 50 });
    expect(r.body).toEqual({ contents: [], generationConfig: { maxOutputTokens: 100, thinkingConfig: { thinkingLevel: "high", includeThoughts: true } } });
    expect(r.applied).toEqual(["reasoning_effort"]);
    expect(apply("gemini", { contents: [] }, { reasoningEffort: "low" }).body).toEqual({ contents: [], generationConfig: { thinkingConfig: { thinkingLevel: "low" } } });
  });

  test("only what changed is named: a value within the limit, or the effort already set, is no change", () => {
    expect(apply("messages", { max_tokens: 10, reasoning_effort: "high", thinking: { type: "enabled", budget_tokens: 5 } }, all).applied).toEqual([]);
    expect(apply("gemini", { generationConfig: { maxOutputTokens: 10 } }, all).applied).toEqual(["reasoning_effort"]);
  });

  test("a path through a value that is no object is left as the client sent it (null counts as absent)", () => {
    expect(apply("gemini", { generationConfig: "x" }, { maxTokensDefault: 5, reasoningEffort: "high" })).toEqual({ body: { generationConfig: "x" }, applied: [] });
    expect(apply("responses", { reasoning: [1] }, { reasoningEffort: "high" })).toEqual({ body: { reasoning: [1] }, applied: [] });
    expect(apply("gemini", { generationConfig: null }, { maxTokensDefault: 5 }).body).toEqual({ generationConfig: { maxOutputTokens: 5 } });
  });

  test("a route with only an effort leaves the client's budget as it sent it", () => {
    const thinking = { type: "enabled", budget_tokens: 5000 };
    expect(apply("messages", { max_tokens: 100, thinking }, { reasoningEffort: "low" }).body.thinking).toBe(thinking);
  });
});

describe("headers", () => {
  test("anthropic_beta merges with case-insensitive dedupe, client's flags first", () => {
    expect(mergeBeta("a, B ,c", ["b", "D", "d"])).toBe("a,B,c,D");
    expect(mergeBeta(null, ["x"])).toBe("x");
  });
  test("instance key, beta and extra headers; reserved names are never set", () => {
    const h = attemptHeaders(new Headers({ "anthropic-beta": "one" }), instance, params({
      anthropicBeta: ["two"], extraHeaders: { "x-extra": "1", host: "evil", "content-length": "9" },
    }));
    expect(h.get("authorization")).toBe("Bearer inst-key");
    expect(h.get("anthropic-beta")).toBe("one,two");
    expect(h.get("x-extra")).toBe("1");
    expect(h.get("host")).toBeNull();
    expect(h.get("content-length")).toBeNull();
  });
  test("a route without beta flags adds no anthropic-beta header", () => {
    expect(attemptHeaders(new Headers(), instance, params({})).has("anthropic-beta")).toBe(false);
  });
});

describe("rewriteFor", () => {
  test("model and params are rewritten, the query kept", () => {
    const up = rewriteFor(intake({ model: "r", max_tokens: 50000 }), new Headers(), instance, target({ maxTokensMax: 8000 }));
    expect(up.pathAndQuery).toBe("/v1/messages?beta=true");
    expect(JSON.parse(up.body as string)).toEqual({ model: "up-model", max_tokens: 8000 });
  });
  test("count_tokens gets only the model (and headers)", () => {
    const i = intake({ model: "r", max_tokens: 50000 }, { path: "/v1/messages/count_tokens", countTokens: true });
    const up = rewriteFor(i, new Headers(), instance, target({ maxTokensMax: 8000, reasoningEffort: "high", anthropicBeta: ["b1"] }));
    expect(JSON.parse(up.body as string)).toEqual({ model: "up-model", max_tokens: 50000 });
    expect(up.headers.get("anthropic-beta")).toBe("b1");
    expect(up.params).toEqual(["anthropic_beta"]);
  });
  test("params names what changed the request: body params, the level suffix, headers not already so", () => {
    const t = target({ maxTokensMax: 8000, reasoningEffort: "high", thinkingLevel: "low", anthropicBeta: ["b1"], extraHeaders: { "x-tag": "1" } });
    const chat = { path: "/v1/chat/completions", dialect: "openai" } as const;
    expect(rewriteFor(intake({ model: "r", max_tokens: 50000 }, chat), new Headers(), instance, t).params).toEqual(["reasoning_effort", "max_tokens_max", "thinking_level", "anthropic_beta", "extra_headers"]);
    // Anthropic messages: no effort field, so no reasoning_effort.
    expect(rewriteFor(intake({ model: "r", max_tokens: 50000 }), new Headers(), instance, t).params).toEqual(["max_tokens_max", "thinking_level", "anthropic_beta", "extra_headers"]);
    const already = rewriteFor(intake({ model: "r", max_tokens: 10, reasoning_effort: "high" }, chat), new Headers({ "anthropic-beta": "B1", "x-tag": "1" }), instance, t);
    expect(already.params).toEqual(["thinking_level"]);
    expect(rewriteFor(intake({ model: "r" }), new Headers(), instance, target()).params).toEqual([]);
  });
  test("Gemini: params rewrite the generationConfig member alone (as JSON), every other byte as sent, no top-level reasoning_effort", () => {
    const raw = '{"contents":[{"parts":[{"text":"1.0"}]}], "generationConfig" : {"maxOutputTokens":65536,"temperature":1.0,"thinkingConfig":{"thinkingBudget":31999}} }';
    const i: Intake = { ...intake({}), raw, json: JSON.parse(raw), model: "r", path: "/v1beta/models/r:generateContent", search: "", dialect: "gemini", geminiPath: { prefix: "/v1beta/models/", action: "generateContent" } };
    const up = rewriteFor(i, new Headers(), instance, target({ maxTokensMax: 20000, reasoningEffort: "high" }, "gemini-3-pro"));
    expect(up.body).toBe('{"contents":[{"parts":[{"text":"1.0"}]}], "generationConfig" : {"maxOutputTokens":20000,"temperature":1,"thinkingConfig":{"thinkingLevel":"high"}} }');
    expect(up.params).toEqual(["reasoning_effort", "max_tokens_max"]);
    const counted = rewriteFor({ ...i, path: "/v1beta/models/r:countTokens", geminiPath: { prefix: "/v1beta/models/", action: "countTokens" }, countTokens: true }, new Headers(), instance, target({ maxTokensMax: 20000, reasoningEffort: "high" }));
    expect([counted.body, counted.params]).toEqual([raw, []]);
  });
  test("OpenAI chat and Responses: each call's own fields", () => {
    const chat = rewriteFor(intake({ model: "r", max_completion_tokens: 50000 }, { path: "/v1/chat/completions", dialect: "openai" }), new Headers(), instance, target({ maxTokensMax: 8000, reasoningEffort: "high" }));
    expect(chat.body).toBe('{"reasoning_effort":"high","model":"up-model","max_completion_tokens":8000}');
    const responses = rewriteFor(intake({ model: "r", max_output_tokens: 50000 }, { path: "/v1/responses", dialect: "openai" }), new Headers(), instance, target({ maxTokensMax: 8000, reasoningEffort: "high" }));
    expect(responses.body).toBe('{"reasoning":{"effort":"high"},"model":"up-model","max_output_tokens":8000}');
  });
  test("only what changes is written; every other byte goes as the client sent it", () => {
    const raw = '{ "model" : "r",  "a":[1, 2.0, 1e2, 12345678901234567890],"model2":"r", "max_tokens" :50000 }';
    const i = { ...intake({}), raw, json: JSON.parse(raw), model: "r" };
    const up = rewriteFor(i, new Headers(), instance, target({ maxTokensMax: 8000 }));
    expect(up.body).toBe('{ "model" : "up-model",  "a":[1, 2.0, 1e2, 12345678901234567890],"model2":"r", "max_tokens" :8000 }');
  });
  test("a model that is not the first key, or a duplicated one, is still rewritten for every parser", () => {
    const raw = '{"a":1,"model":"r","model":"r"}';
    const up = rewriteFor({ ...intake({}), raw, json: JSON.parse(raw), model: "r" }, new Headers(), instance, target());
    expect(up.body).toBe('{"a":1,"model":"up-model","model":"up-model"}');
  });
  test("params add what is missing at the front", () => {
    const up = rewriteFor(intake({ model: "r", messages: [] }, { path: "/v1/chat/completions", dialect: "openai" }), new Headers(), instance, target({ maxTokensDefault: 4096, reasoningEffort: "high" }));
    expect(up.body).toBe('{"max_tokens":4096,"reasoning_effort":"high","model":"up-model","messages":[]}');
  });
  test("minimax targets get no metadata (MiniMax rejects it); other providers keep it", () => {
    const body = { model: "r", metadata: { user_id: "u" }, messages: [] };
    const mm: Target = { ...target(), provider: "minimax" };
    expect(JSON.parse(rewriteFor(intake(body), new Headers(), instance, mm).body as string)).toEqual({ model: "up-model", messages: [] });
    expect(JSON.parse(rewriteFor(intake(body), new Headers(), instance, target()).body as string)).toEqual({ ...body, model: "up-model" });
  });
  test("a target without a provider takes its instance's", () => {
    const mmInstance = { ...instance, providers: [{ type: "minimax", index: 0, baseUrl: "", apiKeys: [] }] } as InstanceConfig;
    const up = rewriteFor(intake({ model: "up-model", metadata: {} }), new Headers(), mmInstance, { ...target(), provider: "" });
    expect(up.body).toBe('{"model":"up-model"}');
  });
  test("unchanged body is forwarded as the original bytes", () => {
    const i = intake({ model: "up-model", x: 1 });
    expect(rewriteFor(i, new Headers(), instance, target()).body).toBe(i.raw);
  });
  test("no target: passthrough, only the key changes", () => {
    const i = intake({ model: "raw-upstream-name" });
    const up = rewriteFor(i, new Headers({ "x-a": "1" }), instance, undefined);
    expect(up.body).toBe(i.raw);
    expect(up.headers.get("authorization")).toBe("Bearer inst-key");
  });
  test("Gemini: the model is rewritten in the path, the body untouched", () => {
    const json = { contents: [] };
    const i = intake(json, { path: "/v1beta/models/r:streamGenerateContent", search: "?alt=sse", model: "r", geminiPath: { prefix: "/v1beta/models/", action: "streamGenerateContent" }, dialect: "gemini" });
    const up = rewriteFor(i, new Headers(), instance, target({}, "gemini-3-flash"));
    expect(up.pathAndQuery).toBe("/v1beta/models/gemini-3-flash:streamGenerateContent?alt=sse");
    expect(up.body).toBe(i.raw);
  });
  test("Gemini: a model the body names too is rewritten there as well", () => {
    const i = intake({ model: "r", contents: [] }, { path: "/v1beta/models/r:generateContent", search: "", model: "r", geminiPath: { prefix: "/v1beta/models/", action: "generateContent" }, dialect: "gemini" });
    expect(JSON.parse(rewriteFor(i, new Headers(), instance, target({}, "gemini-3-flash")).body as string)).toEqual({ model: "gemini-3-flash", contents: [] });
  });
  test("a body that is not JSON keeps its content type and bytes (an upload)", () => {
    const raw = '--b\r\nContent-Disposition: form-data; name="file"\r\n\r\n{}\r\n--b--\r\n';
    const i: Intake = { ...intake({}), json: undefined, raw, model: "" };
    const up = rewriteFor(i, new Headers({ "content-type": "multipart/form-data; boundary=b" }), instance, undefined);
    expect([up.headers.get("content-type"), up.body]).toEqual(["multipart/form-data; boundary=b", raw]);
  });
  test("thinking_level becomes CLIProxyAPI's model suffix", () => {
    expect(upstreamModel(target({ thinkingLevel: "high" }, "gemini-3-pro"))).toBe("gemini-3-pro(high)");
    expect(upstreamModel(target({ thinkingLevel: "high" }, "gemini-3-pro(low)"))).toBe("gemini-3-pro(low)");
  });
});

describe("a routed intake (its parsed body let go)", () => {
  // What the attempts of a routed request send must be what the whole intake would have sent.
  const bodies: Record<string, unknown>[] = [
    { model: "r", max_tokens: 50000, messages: [{ role: "user", content: "hi" }] },
    { model: "r", thinking: { type: "enabled", budget_tokens: 31999 }, max_tokens: 32000, metadata: { user_id: "u" } },
    { model: "r", reasoning: { effort: "low", summary: "auto" }, input: "x" },
    { model: "r", max_tokens: null, reasoning_effort: "low" },
    { model: "r", max_completion_tokens: 50000, max_output_tokens: 50000, thinking: { type: "enabled", budget_tokens: 9000 } },
    { contents: [], generationConfig: { maxOutputTokens: 9000, thinkingConfig: { thinkingBudget: 9000 } } },
    { messages: [] },
    JSON.parse('{"model":"r","__proto__":{"polluted":1},"constructor":"c","metadata":1}'),
  ];
  const targets: Target[] = [
    target(),
    target({ maxTokensMax: 8000, thinkingBudgetMax: 1024, reasoningEffort: "high" }),
    target({ maxTokensDefault: 4096 }, "r"),
    { ...target(), provider: "" },
  ];
  const withProvider = (type: string) => ({ ...instance, providers: [{ type, index: 0, baseUrl: "", apiKeys: [] }] }) as InstanceConfig;
  test("sends the same body, headers and path as the whole intake", () => {
    for (const body of bodies) {
      for (const path of ["/v1/messages", "/v1/responses", "/v1/chat/completions", "/v1/messages/count_tokens", "/v1beta/models/r:generateContent"]) {
        const action = path.split(":")[1];
        const whole = intake(body, { path, countTokens: path.endsWith("count_tokens"), ...(action ? { geminiPath: { prefix: "/v1beta/models/", action } } : {}) });
        const r = routed(whole);
        expect("json" in r).toBe(false);
        for (const t of targets) {
          for (const inst of [withProvider("anthropic"), withProvider("minimax")]) {
            const a = rewriteFor(whole, new Headers({ "content-type": "text/plain" }), inst, t);
            const b = rewriteFor(r, new Headers({ "content-type": "text/plain" }), inst, t);
            expect(b.body).toBe(a.body as string);
            expect(b.pathAndQuery).toBe(a.pathAndQuery);
            expect([...b.headers]).toEqual([...a.headers]);
            expect(b.params).toEqual(a.params);
          }
        }
      }
    }
  });
});
