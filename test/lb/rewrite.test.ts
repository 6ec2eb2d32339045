import { describe, expect, test } from "bun:test";
import type { InstanceConfig, RouteParams, Target } from "../../src/config/types.ts";
import { type Intake, routed } from "../../src/lb/intake.ts";
import { applyBodyParams, attemptHeaders, mergeBeta, rewriteFor, upstreamModel } from "../../src/lb/rewrite.ts";

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
  const run = (body: Record<string, unknown>, p: Partial<RouteParams>) => {
    const copy = { ...body };
    applyBodyParams(copy, params(p));
    return copy;
  };
  test("reasoning_effort is set top-level", () => {
    expect(run({ reasoning_effort: "low" }, { reasoningEffort: "high" }).reasoning_effort).toBe("high");
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
    const up = rewriteFor(intake({ model: "r", messages: [] }), new Headers(), instance, target({ maxTokensDefault: 4096, reasoningEffort: "high" }));
    expect(up.body).toBe('{"reasoning_effort":"high","max_tokens":4096,"model":"up-model","messages":[]}');
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
      for (const path of ["/v1/messages", "/v1/responses", "/v1/messages/count_tokens"]) {
        const whole = intake(body, { path, countTokens: path.endsWith("count_tokens") });
        const r = routed(whole);
        expect("json" in r).toBe(false);
        for (const t of targets) {
          for (const inst of [withProvider("anthropic"), withProvider("minimax")]) {
            const a = rewriteFor(whole, new Headers({ "content-type": "text/plain" }), inst, t);
            const b = rewriteFor(r, new Headers({ "content-type": "text/plain" }), inst, t);
            expect(b.body).toBe(a.body as string);
            expect(b.pathAndQuery).toBe(a.pathAndQuery);
            expect([...b.headers]).toEqual([...a.headers]);
          }
        }
      }
    }
  });
});
