import { describe, expect, test } from "bun:test";
import {
  capRetryAfter,
  classifyOutcome,
  errorText,
  failureOutcome,
  shouldRetry,
} from "../../src/lb/classify.ts";
import { fromToml, LB_DEFAULTS, lbConfig } from "../helpers/policy.ts";

const CD = LB_DEFAULTS.cooldownsMs;
const NOW = Date.parse("2026-11-26T06:00:00Z");
const classify = (status: number, body = "", extra: { signed?: boolean; headers?: HeadersInit } = {}) =>
  classifyOutcome({ status, bodyText: body, signed: extra.signed, headers: new Headers(extra.headers), now: NOW }, CD);

/** A one-route config whose [global] gets `lines`. */
const withGlobal = (lines: string) =>
  fromToml(`[global]
main_port = 8145
${lines}
[instances.a]
port = 8146
providers = [{ type = "antigravity" }]
[routing]
"g3f" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }]
`);

describe("old-lb.md class table", () => {
  test("2xx/3xx are ok with no cooldown", () => {
    expect(classify(200)).toMatchObject({ class: "ok", cooldownMs: 0 });
    expect(classify(304)).toMatchObject({ class: "ok", cooldownMs: 0 });
  });

  test.each([401, 402, 403])("auth: %d → lb_auth_cooldown_ms", (s) => {
    expect(classify(s, '{"error":{"message":"Invalid API key"}}')).toMatchObject({ class: "auth", kind: "auth", cooldownMs: CD.auth });
  });

  test("auth by text: CLIProxyAPI 503 auth_unavailable / auth_not_found", () => {
    const body = '{"error":{"message":"auth_unavailable: no auth available for model x","type":"server_error"}}';
    expect(classify(503, body)).toMatchObject({ class: "auth", kind: "auth", cooldownMs: CD.auth, status: 503 });
    expect(classify(500, '{"error":{"code":"auth_not_found"}}')).toMatchObject({ class: "auth" });
  });

  test("auth sub-kinds: validation_required → validation, quota → quota", () => {
    expect(classify(403, '{"error":{"reason":"VALIDATION_REQUIRED"}}')).toMatchObject({ kind: "validation", cooldownMs: CD.validation });
    expect(classify(403, '{"error":{"code":"insufficient_quota"}}')).toMatchObject({ kind: "quota", cooldownMs: CD.quota });
    expect(classify(401, '{"error":{"message":"Quota exceeded for project"}}')).toMatchObject({ kind: "quota" });
  });

  test.each([400, 422, 500])("signature: %d mentioning signature on a signed request", (s) => {
    const body = '{"type":"error","error":{"type":"invalid_request_error","message":"Invalid `signature` in `thinking` block"}}';
    expect(classify(s, body, { signed: true })).toMatchObject({ class: "signature", kind: "signature", cooldownMs: CD.signature });
  });

  test("signature text on an unsigned request is an ordinary client/transient error", () => {
    const body = '{"error":{"message":"invalid signature"}}';
    expect(classify(400, body)).toMatchObject({ class: "client", cooldownMs: 0 });
    expect(classify(500, body)).toMatchObject({ class: "transient", kind: "transient" });
  });

  test.each([408, 500, 502, 504, 529])("transient: %d → lb_transient_cooldown_ms", (s) => {
    expect(classify(s)).toMatchObject({ class: "transient", kind: "transient", cooldownMs: CD.transient });
  });

  test.each([429, 503])("transient heavy: %d → lb_transient_heavy_cooldown_ms", (s) => {
    expect(classify(s)).toMatchObject({ class: "transient", kind: "transient_heavy", cooldownMs: CD.transientHeavy });
  });

  test.each([400, 404, 413, 422])("client: %d → no cooldown", (s) => {
    expect(classify(s, '{"error":{"message":"bad"}}')).toMatchObject({ class: "client", cooldownMs: 0, kind: undefined });
  });

  // Each upstream's own words for a prompt over the model's window, as its API sends them.
  const TOO_LONG = {
    anthropic: '{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 215234 tokens > 200000 maximum"},"request_id":"req_011CV"}',
    openai: '{"error":{"message":"This model\'s maximum context length is 128000 tokens. However, your messages resulted in 130412 tokens. Please reduce the length of the messages.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}',
    responses: '{"error":{"message":"Your input exceeds the context window of this model. Please adjust your input and try again.","type":"invalid_request_error","param":"input","code":"context_length_exceeded"}}',
    google: '{"error":{"code":400,"message":"The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).","status":"INVALID_ARGUMENT"}}',
    openrouter: '{"error":{"message":"This endpoint\'s maximum context length is 163840 tokens. However, you requested about 170000 tokens (165000 of text input, 5000 in the output). Please reduce the length of either one.","code":400}}',
    // Anthropic when the prompt fits but prompt + max_tokens does not: a larger window takes it too.
    "anthropic max_tokens": '{"type":"error","error":{"type":"invalid_request_error","message":"input length and `max_tokens` exceed context limit: 188240 + 21333 > 200000, decrease input length or `max_tokens` and try again"}}',
    bedrock: '{"message":"Input is too long for requested model."}',
    moonshot: '{"error":{"message":"Invalid request: Your request exceeded model token limit: 262144 (requested: 263001)","type":"invalid_request_error"}}',
    xai: '{"code":"Client specified an invalid argument","error":"This model\'s maximum prompt length is 131072 but the request contains 150112 tokens."}',
    "llama.cpp": '{"error":{"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error","n_prompt_tokens":40000,"n_ctx":32768}}',
    "llama.cpp later": '{"error":{"code":400,"message":"request (4476 tokens) exceeds the available context size (4096 tokens), try increasing it","type":"exceed_context_size_error","n_prompt_tokens":4476,"n_ctx":4096}}',
  };

  test.each(Object.entries(TOO_LONG))("context: %s's prompt-too-long 400 → its own class, no cooldown", (_, body) => {
    expect(classify(400, body)).toMatchObject({ class: "context", cooldownMs: 0, kind: undefined });
  });

  test("context: the tokens a refusal says it was asked for, where its wording names them (prompt + max_tokens for Anthropic's second)", () => {
    const asked = Object.fromEntries(Object.entries(TOO_LONG).map(([who, body]) => [who, classify(400, body).promptTokens]));
    expect(asked).toEqual({
      anthropic: 215234,
      openai: 130412,
      responses: undefined,
      google: 1200000,
      openrouter: 170000,
      "anthropic max_tokens": 209573,
      bedrock: undefined,
      moonshot: 263001,
      xai: 150112,
      "llama.cpp": 40000,
      "llama.cpp later": 4476,
    });
  });

  test("context only for a 4xx: the same words in a 5xx are the upstream's failure", () => {
    expect(classify(413, TOO_LONG.anthropic)).toMatchObject({ class: "context" });
    expect(classify(500, TOO_LONG.anthropic)).toMatchObject({ class: "transient" });
    expect(classify(429, TOO_LONG.openai)).toMatchObject({ class: "transient" });
    // A request too large in bytes (Anthropic's 413 request_too_large) is not one a larger window takes.
    expect(classify(413, '{"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum allowed number of bytes."}}')).toMatchObject({ class: "client" });
  });

  test("other: a non-standard status ≥ 600 cools like transient but is its own class", () => {
    expect(classify(600)).toMatchObject({ class: "other", cooldownMs: CD.transient });
    expect(classify(599)).toMatchObject({ class: "transient", cooldownMs: CD.transient }); // the last 5xx
  });

  test("the old lb_*_cooldown_ms keys of providers.toml drive every cooldown", () => {
    const cfg = withGlobal(`
lb_auth_cooldown_ms = 1001
lb_validation_cooldown_ms = "1002"
lb_quota_cooldown_ms = 1003
lb_transient_cooldown_ms = 1004
lb_transient_heavy_cooldown_ms = 1005
lb_signature_cooldown_ms = 1006`);
    const cds = cfg.global.lb.cooldownsMs;
    const ms = (status: number, body = "", signed = false) => classifyOutcome({ status, bodyText: body, signed, now: NOW }, cds).cooldownMs;
    expect(ms(401)).toBe(1001);
    expect(ms(403, '{"error":{"message":"validation_required"}}')).toBe(1002);
    expect(ms(403, '{"error":{"code":"insufficient_quota"}}')).toBe(1003);
    expect(ms(502)).toBe(1004);
    expect(ms(429)).toBe(1005);
    expect(ms(400, '{"error":{"message":"bad signature"}}', true)).toBe(1006);
  });

  test("the loader's defaults are old-lb's", () => {
    const cfg = withGlobal("");
    expect(cfg.global.lb.cooldownsMs).toEqual(CD);
    expect(cfg.global.lb.maxTargetRetries).toBe(1);
    expect(cfg.global.lb.retryAuthOn5xx).toBe(true);
  });

  test("reason names the status and the error text", () => {
    expect(classify(429, '{"error":{"code":"model_cooldown","message":"All credentials cooling"}}').reason).toBe(
      "429 all credentials cooling model_cooldown",
    );
  });
});

describe("Retry-After", () => {
  test("seconds, capped by the class cooldown", () => {
    expect(classify(429, "", { headers: { "retry-after": "30" } }).cooldownMs).toBe(30_000);
    expect(classify(429, "", { headers: { "retry-after": "99999" } }).cooldownMs).toBe(CD.transientHeavy);
  });

  test("HTTP date", () => {
    const at = new Date(NOW + 45_000).toUTCString();
    expect(classify(503, "", { headers: { "retry-after": at } }).cooldownMs).toBe(45_000);
    const past = new Date(NOW - 45_000).toUTCString();
    expect(classify(503, "", { headers: { "retry-after": past } }).cooldownMs).toBe(0);
  });

  test("garbage is ignored; CLIProxyAPI reset_seconds is used when no header came", () => {
    expect(classify(429, "", { headers: { "retry-after": "soon" } }).cooldownMs).toBe(CD.transientHeavy);
    expect(classify(429, '{"error":{"code":"model_cooldown","reset_seconds":60}}').cooldownMs).toBe(60_000);
    expect(capRetryAfter(10_000, new Headers({ "retry-after": "5" }), '{"reset_seconds":60}', NOW)).toBe(5000);
    // A rate-limit reset that is no duration is no reset of 0 ms: the 429's own cooldown stands.
    expect(classify(429, "", { headers: { "x-ratelimit-reset-requests": "soon" } }).cooldownMs).toBe(CD.transientHeavy);
    expect(classify(429, "", { headers: { "x-ratelimit-reset-tokens": "1m0s", "x-ratelimit-reset-requests": "later" } }).cooldownMs).toBe(60_000);
  });

  test("relays' own headers: retry-after-ms; for a 429 OpenRouter's x-ratelimit-reset and OpenAI's per-limit resets (the later one)", () => {
    expect(classify(429, "", { headers: { "retry-after-ms": "1500" } }).cooldownMs).toBe(1500);
    expect(classify(429, "", { headers: { "x-ratelimit-reset": String(NOW + 20_000) } }).cooldownMs).toBe(20_000); // epoch ms
    expect(classify(429, "", { headers: { "x-ratelimit-reset": String(Math.round((NOW + 30_000) / 1000)) } }).cooldownMs).toBe(Math.round((NOW + 30_000) / 1000) * 1000 - NOW); // epoch s
    expect(classify(429, "", { headers: { "x-ratelimit-reset": "12" } }).cooldownMs).toBe(12_000); // seconds from now
    expect(classify(429, "", { headers: { "x-ratelimit-reset-requests": "1.5s", "x-ratelimit-reset-tokens": "1m0s" } }).cooldownMs).toBe(60_000);
    expect(classify(429, "", { headers: { "x-ratelimit-reset-requests": "20ms" } }).cooldownMs).toBe(20);
    expect(classify(429, "", { headers: { "x-ratelimit-reset-tokens": "6m0s" } }).cooldownMs).toBe(CD.transientHeavy); // capped
    expect(classify(429, "", { headers: { "retry-after": "3", "x-ratelimit-reset-requests": "1s" } }).cooldownMs).toBe(3000); // Retry-After first
  });

  test("rate-limit headers on anything but a 429 say nothing about the failure (OpenAI sends them on every answer)", () => {
    expect(classify(500, "", { headers: { "x-ratelimit-reset-requests": "20ms" } }).cooldownMs).toBe(CD.transient);
    expect(classify(503, "", { headers: { "x-ratelimit-reset": "1" } }).cooldownMs).toBe(CD.transientHeavy);
  });

  test("a client error gets no cooldown even with Retry-After", () => {
    expect(classify(400, "", { headers: { "retry-after": "5" } }).cooldownMs).toBe(0);
  });
});

describe("error text", () => {
  const json = '{"error":{"message":"auth_unavailable: no auth","type":"server_error","details":[{"reason":"X"}]}}';

  test("gathers message / code / type / status / reason / details", () => {
    expect(errorText(json)).toBe("auth_unavailable: no auth server_error x");
    expect(errorText('[{"error":{"code":429,"status":"RESOURCE_EXHAUSTED"}}]')).toBe("429 resource_exhausted");
    expect(errorText('{"error":"Missing API key"}')).toBe("missing api key");
    expect(errorText("<html>Bad Gateway</html>")).toBe("<html>bad gateway</html>");
  });

  test("null fields are skipped; nesting past 6 levels and more than 64 pieces are not searched (a hostile body costs little)", () => {
    expect(errorText('{"error":{"message":"Overloaded","code":null,"details":[null]}}')).toBe("overloaded");
    // Level 7 and below: nothing gathered there, so the raw text is what is searched.
    const deep = `${'{"error":'.repeat(7)}"buried"${"}".repeat(7)}`;
    expect(errorText(deep)).toBe(deep);
    expect(errorText(`${'{"error":'.repeat(6)}"found"${"}".repeat(6)}`)).toBe("found");
    const deepList = `${"[".repeat(7)}"buried"${"]".repeat(7)}`;
    expect(errorText(deepList)).toBe(deepList);
    const many = JSON.stringify({ errors: Array.from({ length: 100 }, (_, i) => ({ message: `m${i}` })) });
    expect(errorText(many).split(" ")).toEqual(Array.from({ length: 65 }, (_, i) => `m${i}`));
  });
});

describe("shouldRetry", () => {
  const lb = lbConfig({ maxTargetRetries: 2 });
  const o = (status: number, body = "") => classify(status, body);

  test("transient, auth, connection error and first-byte timeout are retried", () => {
    expect(shouldRetry(o(503), 1, lb, "POST", 0)).toBe(true);
    expect(shouldRetry(o(429), 1, lb, "POST", 0)).toBe(true);
    expect(shouldRetry(o(401), 1, lb, "POST", 0)).toBe(true);
    expect(shouldRetry(failureOutcome("connection", "ECONNREFUSED", CD), 1, lb, "POST", 0)).toBe(true);
    expect(shouldRetry(failureOutcome("timeout", "no first byte in 120000 ms", CD), 1, lb, "POST", 0)).toBe(true);
  });

  test("a prompt too long for the target's window is retried (on a larger window: attempt.ts)", () => {
    expect(shouldRetry(o(400, '{"error":{"message":"prompt is too long: 215234 tokens > 200000 maximum"}}'), 1, lb, "POST", 0)).toBe(true);
  });

  test("client, signature, other and ok are not", () => {
    expect(shouldRetry(o(400), 1, lb, "POST", 0)).toBe(false);
    expect(shouldRetry(classify(400, '{"error":{"message":"signature"}}', { signed: true }), 1, lb, "POST", 0)).toBe(false);
    expect(shouldRetry(o(600), 1, lb, "POST", 0)).toBe(false);
    expect(shouldRetry(o(200), 1, lb, "POST", 0)).toBe(false);
  });

  test("at most lb_max_target_retries extra attempts", () => {
    expect(shouldRetry(o(503), 2, lb, "POST", 0)).toBe(true);
    expect(shouldRetry(o(503), 3, lb, "POST", 0)).toBe(false);
    expect(shouldRetry(o(503), 1, lbConfig({ maxTargetRetries: 0 }), "POST", 0)).toBe(false);
  });

  test("never once a byte reached the client", () => {
    expect(shouldRetry(o(503), 1, lb, "POST", 1)).toBe(false);
  });

  test("auth as 5xx only with lb_retry_auth_on_5xx", () => {
    const authAs503 = o(503, '{"error":{"message":"auth_unavailable"}}');
    expect(shouldRetry(authAs503, 1, lb, "POST", 0)).toBe(true);
    expect(shouldRetry(authAs503, 1, lbConfig({ maxTargetRetries: 2, retryAuthOn5xx: false }), "POST", 0)).toBe(false);
    expect(shouldRetry(o(500, '{"error":{"message":"auth_unavailable"}}'), 1, lbConfig({ retryAuthOn5xx: false }), "POST", 0)).toBe(false); // 500 is a 5xx too
    expect(shouldRetry(o(401), 1, lbConfig({ retryAuthOn5xx: false }), "POST", 0)).toBe(true);
  });

  test("only safe-to-repeat or routed methods", () => {
    expect(shouldRetry(o(503), 1, lb, "DELETE", 0)).toBe(false);
    expect(shouldRetry(o(503), 1, lb, "get", 0)).toBe(true);
  });
});
