// Rewrite for one attempt (pure): the client's request as one target should receive it. The
// parsed body is never mutated — each attempt gets its own shallow copy — and serialized once.

import type { InstanceConfig, RouteParams, Target } from "../config/types.ts";
import { isReservedHeader, setInstanceKey, upstreamHeaders } from "./headers.ts";
import type { Intake } from "./intake.ts";

export interface UpstreamRequest {
  /** Path and query, e.g. `/v1/messages?beta=true`. */
  readonly pathAndQuery: string;
  readonly headers: Headers;
  readonly body: Uint8Array<ArrayBuffer> | string | undefined;
}

/**
 * The model name sent upstream. `thinking_level` uses CLIProxyAPI's model suffix `model(level)`,
 * the one thinking control it honours for every provider and dialect; an explicit suffix in the
 * target's model wins.
 */
export function upstreamModel(target: Target): string {
  const level = target.params.thinkingLevel;
  return level && !target.model.endsWith(")") ? `${target.model}(${level})` : target.model;
}

type Body = Record<string, unknown>;

/** Apply a route's body params to a copy of `body` (already carrying the new model). */
export function applyBodyParams(body: Body, p: RouteParams): void {
  if (p.reasoningEffort !== undefined) body.reasoning_effort = p.reasoningEffort;
  if (p.maxTokensDefault !== undefined && (body.max_tokens === undefined || body.max_tokens === null)) {
    body.max_tokens = p.maxTokensDefault;
  }
  const maxTokens = body.max_tokens;
  if (p.maxTokensMax !== undefined && typeof maxTokens === "number" && maxTokens > p.maxTokensMax) {
    body.max_tokens = p.maxTokensMax;
  }
  const thinking = body.thinking as Body | null | undefined;
  if (!thinking || typeof thinking !== "object" || typeof thinking.budget_tokens !== "number") return;
  let budget = thinking.budget_tokens;
  if (p.thinkingBudgetMax !== undefined && budget > p.thinkingBudgetMax) budget = p.thinkingBudgetMax;
  // The API rejects budget_tokens >= max_tokens; a clamp above may have caused exactly that.
  const mt = body.max_tokens;
  if (typeof mt === "number" && budget >= mt) budget = Math.max(0, mt - 1);
  if (budget !== thinking.budget_tokens) body.thinking = { ...thinking, budget_tokens: budget };
}

/** Merge beta flags into a comma list, keeping the client's first, de-duplicated case-insensitively. */
export function mergeBeta(current: string | null, add: readonly string[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const flag of [...(current ? current.split(",") : []), ...add]) {
    const f = flag.trim();
    if (!f || seen.has(f.toLowerCase())) continue;
    seen.add(f.toLowerCase());
    out.push(f);
  }
  return out.join(",");
}

function hasBodyParams(p: RouteParams): boolean {
  return (
    p.reasoningEffort !== undefined ||
    p.maxTokensDefault !== undefined ||
    p.maxTokensMax !== undefined ||
    p.thinkingBudgetMax !== undefined
  );
}

/** Headers for one attempt: the client's (cleaned), the instance's key, then the route's header params. */
export function attemptHeaders(client: Headers, instance: InstanceConfig, p: RouteParams | undefined): Headers {
  const h = upstreamHeaders(client);
  // Over loopback compression saves nothing, and plain bytes let the usage watcher read the
  // stream; the client's own Accept-Encoding is a preference, and an identity answer satisfies it.
  h.set("accept-encoding", "identity");
  setInstanceKey(h, instance.apiKey);
  if (!p) return h;
  if (p.anthropicBeta.length > 0) h.set("anthropic-beta", mergeBeta(h.get("anthropic-beta"), p.anthropicBeta));
  for (const name in p.extraHeaders) {
    if (!isReservedHeader(name)) h.set(name, p.extraHeaders[name]!);
  }
  return h;
}

/**
 * The request for one attempt on `target`, or the request unchanged (apart from headers) when
 * `target` is undefined: unknown models go to the default instance as the client sent them.
 */
export function rewriteFor(
  intake: Intake,
  client: Headers,
  instance: InstanceConfig,
  target: Target | undefined,
): UpstreamRequest {
  const headers = attemptHeaders(client, instance, target?.params);
  // A JSON body sent under another type (curl -d, text/plain) is JSON to gw, so to the upstream too.
  if (intake.json && !JSON_TYPE.test(headers.get("content-type") ?? "")) headers.set("content-type", "application/json");
  if (!target) return { pathAndQuery: intake.path + intake.search, headers, body: intake.raw };
  const model = upstreamModel(target);
  const path = intake.geminiPath ? `${intake.geminiPath.prefix}${model}:${intake.geminiPath.action}` : intake.path;
  const json = intake.json;
  let body = intake.raw;
  if (json && typeof body === "string") {
    const modelInBody = !intake.geminiPath || "model" in json;
    const params = !intake.countTokens && hasBodyParams(target.params);
    if (params) {
      const copy: Body = modelInBody ? { ...json, model } : { ...json };
      applyBodyParams(copy, target.params);
      body = JSON.stringify(copy);
    } else if (modelInBody && json.model !== model) {
      body = withModel(body, json, model);
    }
  }
  return { pathAndQuery: path + intake.search, headers, body };
}

const JSON_TYPE = /json/i;

/** `"model"` as the first key of the top-level object (how SDKs and Claude Code write it). */
const LEADING_MODEL = /^\s*\{\s*"model"\s*:\s*"([^"\\]*)"/;

/**
 * The body with only its model replaced. When the model is the first key — the usual case — the
 * new name is spliced into the text, sparing a re-serialization of a body that may be 100 KB;
 * otherwise the parsed body is serialized once.
 */
export function withModel(text: string, json: Body, model: string): string {
  const m = LEADING_MODEL.exec(text);
  // Equal to the parsed value: also rules out a later duplicate key that JSON.parse preferred.
  const value = m?.[1];
  if (m && value !== undefined && value === json.model) {
    const valueStart = m[0].length - value.length - 2;
    return text.slice(0, valueStart) + JSON.stringify(model) + text.slice(m[0].length);
  }
  return JSON.stringify({ ...json, model });
}
