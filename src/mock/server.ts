// Bun.serve and the route table of a CLIProxyAPI instance: /healthz without auth, the client-key
// check on /v1 and /v1beta, one handler per API family, and the mock's own /_mock/ endpoints.

import type { Server } from "bun";
import { checkClientKey, ginJson } from "./auth.ts";
import type { Catalog } from "./catalog.ts";
import { anthropic, countTokens } from "./dialects/anthropic.ts";
import { compactionJson, compactRefusal } from "./dialects/compaction.ts";
import { gemini, geminiCountTokens } from "./dialects/gemini.ts";
import { openaiChat } from "./dialects/openai.ts";
import { isCodexClient, responses, responsesForCodex } from "./dialects/responses.ts";
import type { Dialect } from "./dialects/types.ts";
import { type Instance, type ModelRequest, respond } from "./respond.ts";
import type { ToolFamily } from "./tool-call.ts";

interface PostRoute {
  dialect: Dialect;
  /** The dialect an official Codex client is served in, when it differs. */
  codex?: Dialect;
  json?: ModelRequest["json"];
  refuse?: ModelRequest["refuse"];
  /** Whether `"stream": true` streams; "refuse" answers 400 instead (compact). */
  streams: boolean | "refuse";
  /** How its requests declare tools (the `tool` knob's call). */
  tools?: ToolFamily;
}

const POST_ROUTES: Record<string, PostRoute> = {
  "/v1/messages": { dialect: anthropic, streams: true, tools: "anthropic" },
  "/v1/messages/count_tokens": { dialect: anthropic, json: countTokens, streams: false },
  "/v1/chat/completions": { dialect: openaiChat, streams: true, tools: "chat" },
  "/v1/responses": { dialect: responses, codex: responsesForCodex, streams: true, tools: "responses" },
  // Codex's remote compaction; the handler refuses a stream before looking at the model (Compact).
  // What answers is the serving executor's: the upstream's compaction object, or a refusal.
  "/v1/responses/compact": { dialect: responses, json: compactionJson, refuse: compactRefusal, streams: "refuse" },
};
// The same handlers under the Codex CLI's own base path (chatgpt_base_url), behind the same key check.
const CODEX_DIRECT = "/backend-api/codex";
POST_ROUTES[`${CODEX_DIRECT}/responses`] = POST_ROUTES["/v1/responses"]!;
POST_ROUTES[`${CODEX_DIRECT}/responses/compact`] = POST_ROUTES["/v1/responses/compact"]!;
const COMPACT_STREAM = { error: { message: "Streaming not supported for compact responses", type: "invalid_request_error" } };

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };
const NOT_FOUND = () => new Response("404 page not found", { status: 404, headers: { "content-type": "text/plain" } });
const ROOT = JSON.stringify({
  endpoints: ["POST /v1/chat/completions", "POST /v1/completions", "GET /v1/models"],
  message: "CLI Proxy API Server",
});

/** api-keys still holding config.example.yaml's values switch CLIProxyAPI's proxy routes off. */
const TEMPLATE_KEYS = ["your-api-key-1", "your-api-key-2", "your-api-key-3"];
const SAFE_MODE = JSON.stringify({
  error: "unsafe_example_api_key",
  message:
    "Proxy API endpoints are disabled because api-keys contains template values. Open /management.html?safe-mode=configure, update api-keys in Management, then retry.",
});

/** CLIProxyAPI's CORS middleware stamps every response, 404s included, and answers OPTIONS itself. */
const CORS: readonly [string, string][] = [
  ["access-control-allow-origin", "*"],
  ["access-control-allow-methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS"],
  ["access-control-allow-headers", "*"],
  [
    "access-control-expose-headers",
    "X-CPA-TRACE-ID, X-CPA-VERSION, X-CPA-COMMIT, X-CPA-BUILD-DATE, X-CPA-SUPPORT-PLUGIN, X-CPA-HOME-VERSION, " +
      "X-CPA-HOME-BUILD-DATE, X-SERVER-VERSION, X-SERVER-BUILD-DATE, Location, Retry-After, X-Request-Id, OpenAI-Request-Id",
  ],
];

interface RouterOptions {
  instance: Instance;
  apiKeys: ReadonlySet<string>;
}

export function makeFetch(opts: RouterOptions) {
  const { instance: inst, apiKeys } = opts;
  // Asked per request: a hot-reloaded config may put the template keys in or take them out.
  const handle = routeRequest(inst, apiKeys, () => TEMPLATE_KEYS.some((k) => apiKeys.has(k)));
  return async function mockFetch(req: Request, server: Server<undefined>): Promise<Response> {
    const res = req.method === "OPTIONS" ? new Response(null, { status: 204 }) : await handle(req, server);
    for (const [k, v] of CORS) res.headers.set(k, v);
    return res;
  };
}

function routeRequest(inst: Instance, apiKeys: ReadonlySet<string>, safeMode: () => boolean) {
  return async (req: Request, server: Server<undefined>): Promise<Response> => {
    const url = new URL(req.url);
    const path = url.pathname;
    if (path === "/healthz" && (req.method === "GET" || req.method === "HEAD")) {
      return req.method === "HEAD" ? new Response(null) : ginJson({ status: "ok" });
    }
    if (path.startsWith("/_mock/")) return mockControl(req, url, server, inst);
    if (path === "/" && req.method === "GET") return new Response(ROOT, { headers: JSON_HEADERS });
    if (!path.startsWith("/v1/") && !path.startsWith("/v1beta/") && !path.startsWith(`${CODEX_DIRECT}/`)) return NOT_FOUND();

    const rec = inst.stats.record(req, url);
    const answered = (res: Response) => ((rec.status = res.status), res);
    if (safeMode()) {
      return answered(new Response(SAFE_MODE, { status: 403, headers: { ...JSON_HEADERS, "x-cpa-safe-mode": "example-api-key" } }));
    }
    const denied = checkClientKey(req, url, apiKeys);
    if (denied) return answered(denied);

    if (req.method === "GET") return answered(listing(path, req, inst.catalog));
    if (req.method !== "POST") return answered(NOT_FOUND());

    const text = await req.text();
    const body = parseBody(text);
    rec.body = body ?? (text || null);
    const route = POST_ROUTES[path];
    if (route) {
      const model = typeof body?.model === "string" ? body.model : "";
      rec.model = model;
      const stream = body?.stream === true;
      if (stream && route.streams === "refuse") return answered(ginJson(COMPACT_STREAM, 400));
      const thinking = body?.thinking?.type === "enabled" || body?.thinking?.type === "adaptive";
      const dialect = (route.codex && isCodexClient(req.headers) && route.codex) || route.dialect;
      const mr = { dialect, json: route.json, refuse: route.refuse, model, stream: stream && route.streams === true, bodyBytes: text.length, thinking, body: body ?? undefined, tools: route.tools };
      return respond(inst, req, mr, rec);
    }
    const g = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent|countTokens)$/.exec(path);
    if (!g) return answered(NOT_FOUND());
    const model = decodeURIComponent(g[1]!);
    rec.model = model;
    const action = g[2];
    const mr: ModelRequest = {
      dialect: gemini,
      model,
      stream: action === "streamGenerateContent",
      bodyBytes: text.length,
      json: action === "countTokens" ? geminiCountTokens : undefined,
      body: body ?? undefined,
      tools: "gemini",
    };
    return respond(inst, req, mr, rec);
  };
}

function parseBody(text: string): Record<string, any> | null {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** GET /v1/models picks the Anthropic shape for anthropic-version or a claude-cli user agent. */
function listing(path: string, req: Request, catalog: Catalog): Response {
  if (path === "/v1/models") {
    const anthropicShape = !!req.headers.get("anthropic-version") || (req.headers.get("user-agent") ?? "").startsWith("claude-cli");
    return new Response(anthropicShape ? catalog.anthropic() : catalog.openai(), { headers: JSON_HEADERS });
  }
  if (path === "/v1beta/models") return new Response(catalog.gemini(), { headers: JSON_HEADERS });
  return NOT_FOUND();
}

/** /_mock/stats[?last=N] and POST /_mock/reset, for loopback callers only. */
function mockControl(req: Request, url: URL, server: Server<undefined>, inst: Instance): Response {
  const ip = server.requestIP(req)?.address ?? "";
  if (!(ip === "127.0.0.1" || ip === "::1" || ip === "::ffff:127.0.0.1")) return NOT_FOUND();
  if (url.pathname === "/_mock/stats" && req.method === "GET") {
    const last = Number(url.searchParams.get("last") ?? "") || undefined;
    return Response.json(inst.stats.snapshot(last));
  }
  if (url.pathname === "/_mock/reset" && req.method === "POST") {
    inst.stats.reset();
    return Response.json({ ok: true });
  }
  return NOT_FOUND();
}
