// Issue 12 item 14: only the model APIs reach an instance. Every management, internal and
// local-only path CLIProxyAPI serves (v5 – v7) is refused in every spelling, and the spellings
// of real API paths still pass.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Gateway } from "../../src/lb/server.ts";
import { dialectOf } from "../../src/lb/dialect.ts";
import { foldPath } from "../../src/lb/intake.ts";
import { canonicalPath, isForbiddenPath } from "../../src/lb/paths.ts";
import { configFrom, externalInstances, startTestGateway, testUpstream, type TestUpstream } from "../helpers/lb.ts";

/** What CLIProxyAPI's routers serve besides the model APIs (see src/lb/paths.ts). */
const INTERNAL = [
  "/v0/management/config",
  "/v0/management",
  "/v0/management/oauth-callback",
  "/v0/resource/plugins/x/y.js",
  "/management.html",
  "/keep-alive",
  "/anthropic/callback",
  "/codex/callback",
  "/google/callback",
  "/antigravity/callback",
  "/xai/callback",
  "/v1internal:generateContent",
  "/v1internal:streamGenerateContent",
  "/v1internal:loadCodeAssist",
  "/v1/ws",
  "/api/internal/x",
  "/api/user",
  "/threads",
  "/docs/x",
  "/settings",
  "/news.rss",
  "/auth/cli",
  "/",
];

/** Ways to spell the same path that an upstream router (Go's URL decoding, then gin) may fold. */
function spellings(p: string): string[] {
  const first = p.split("/")[1] ?? "";
  const out = [p, p.toUpperCase(), p.replace(/\//g, "//"), p.replace(/\//g, "\\").replace(/^\\/, "/")];
  if (first) {
    const enc = [...first].map((c) => `%${c.charCodeAt(0).toString(16)}`).join("");
    out.push(p.replace(first, enc), p.replace(first, enc.replace(/%/g, "%25")), `/v1/%2e%2e/${p.slice(1)}`, `/v1/messages%2f..%2f${p.slice(1)}`);
  }
  return out;
}

describe("isForbiddenPath", () => {
  test("every internal path, in every spelling, is refused", () => {
    const passed = INTERNAL.flatMap(spellings).filter((p) => !isForbiddenPath(p));
    expect(passed).toEqual([]);
  });

  test("the model APIs pass, also oddly spelled", () => {
    const api = [
      "/v1/messages",
      "/v1/messages/count_tokens",
      "/v1/chat/completions",
      "/v1/responses",
      "/v1/models",
      "/v1/wsx",
      "/v1beta/models/gemini-3-pro:streamGenerateContent",
      "/v1beta/models/a%2Fb:generateContent",
      "/openai/v1/videos",
      "/backend-api/codex/responses",
      "/api/provider/anthropic/v1/messages",
      "/v1//messages",
      "/%76%31/messages",
    ];
    expect(api.filter(isForbiddenPath)).toEqual([]);
  });

  test("undecodable or endlessly nested escapes are refused", () => {
    expect(isForbiddenPath("/v1/%ff%fe")).toBe(true);
    expect(isForbiddenPath("/v1/messages/%")).toBe(true);
    expect(canonicalPath("/%2525252576%30/x")).toBeUndefined();
  });
});

describe("foldPath", () => {
  test("doubled slashes and /v1/v1 are folded; a model's name in the path keeps its own", () => {
    expect(["//v1/messages", "/v1//chat///completions", "/v1/v1//v1/responses", "/v1beta//models/a//b:generateContent", "/v1/models/x//y"].map(foldPath)).toEqual([
      "/v1/messages",
      "/v1/chat/completions",
      "/v1/responses",
      "/v1beta/models/a//b:generateContent",
      "/v1/models/x//y",
    ]);
  });
});

describe("through the gateway", () => {
  let up: TestUpstream, gw: Gateway;
  beforeAll(() => {
    up = testUpstream();
    gw = startTestGateway(configFrom(`
[global]
main_port = 8145
${externalInstances({ a: up.url })}
[routing]
"m" = [{ instance = "a", provider = "anthropic", model = "up" }]
`));
  });
  afterAll(async () => {
    await gw.stop(0);
    await up.stop();
  });

  test("internal paths get 403 in the client's dialect and never reach the instance", async () => {
    for (const path of INTERNAL.flatMap(spellings)) {
      for (const method of ["GET", "POST"]) {
        const res = await fetch(gw.url + path, { method, body: method === "POST" ? '{"model":"m"}' : undefined, headers: { "anthropic-version": "2023-06-01" } });
        // Anthropic's shape (the client sent anthropic-version), or Gemini's for a Gemini-looking path.
        const body = (await res.json()) as { error?: { type?: string; status?: string } };
        expect({ path, status: res.status, type: body.error?.type ?? body.error?.status }).toEqual({ path, status: 403, type: dialectOf(new URL(gw.url + path).pathname, new Headers({ "anthropic-version": "1" })) === "gemini" ? "PERMISSION_DENIED" : "permission_error" });
      }
    }
    expect(up.seen).toEqual([]);
  });

  test("API paths outside /v1 (Codex, OpenAI videos, Amp providers) are forwarded", async () => {
    for (const path of ["/backend-api/codex/responses", "/openai/v1/videos", "/api/provider/anthropic/v1/messages", "/v1/messages"]) {
      const res = await fetch(gw.url + path, { method: "POST", body: '{"model":"m"}' });
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
    }
    expect(up.seen.map((s) => s.path)).toEqual(["/backend-api/codex/responses", "/openai/v1/videos", "/api/provider/anthropic/v1/messages", "/v1/messages"]);
  });

  test("doubled slashes (a base URL ending in /) are folded: routed and forwarded as the API's path", async () => {
    const before = up.seen.length;
    for (const path of ["/v1//messages", "/v1/chat//completions", "/v1//v1/responses", "/v1beta//models/m:generateContent"]) {
      const res = await fetch(gw.url + path, { method: "POST", body: '{"model":"m","contents":[]}', headers: { "content-type": "application/json" } });
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
    }
    expect(up.seen.slice(before).map((s) => s.path)).toEqual(["/v1/messages", "/v1/chat/completions", "/v1/responses", "/v1beta/models/up:generateContent"]);
  });
});
