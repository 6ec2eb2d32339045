// Rewrite for one attempt (pure): the client's request as one target should receive it. Only
// what changes is written — the model, the route's body params, the provider's quirks — as
// top-level edits on the text that came in (json-edit.ts); every other byte goes upstream as the
// client sent it. The parsed body is never mutated.

import type { InstanceConfig, RouteParams, Target } from "../config/types.ts";
import { asObject } from "../json/object.ts";
import { isReservedHeader, setInstanceKey, upstreamHeaders } from "./headers.ts";
import type { Intake, RoutedIntake } from "./intake.ts";
import { editTopLevel, type Member, topLevelMembers } from "./json-edit.ts";
import { isResponsesCall } from "./paths.ts";
import { providerOf, quirkOf } from "./quirks.ts";

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

/**
 * Apply a route's body params to a copy of `body` (already carrying the new model). The effort
 * goes where the request's API carries it: the Responses API's `reasoning.effort` (CLIProxyAPI
 * reads that, and would let a client's own value there win over a top-level one), else
 * `reasoning_effort`.
 */
export function applyBodyParams(body: Body, p: RouteParams, api: "responses" | "other" = "other"): void {
  if (p.reasoningEffort !== undefined) {
    if (api === "responses") {
      const current = body.reasoning;
      body.reasoning = { ...asObject(current), effort: p.reasoningEffort };
    } else body.reasoning_effort = p.reasoningEffort;
  }
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

/** An intake as routed (its top-level fields in `top`), or whole (a hand-made one, `gw route explain`). */
type Sendable = RoutedIntake & { readonly json?: Intake["json"] };

/**
 * The request for one attempt on `target`, or the request unchanged (apart from headers) when
 * `target` is undefined: unknown models go to the default instance as the client sent them.
 */
export function rewriteFor(
  intake: Sendable,
  client: Headers,
  instance: InstanceConfig,
  target: Target | undefined,
): UpstreamRequest {
  const headers = attemptHeaders(client, instance, target?.params);
  if (intake.decoded) headers.delete("content-encoding"); // the body goes as gw decoded it
  // A JSON body sent under another type (curl -d, text/plain) is JSON to gw, so to the upstream too.
  const top = topLevel(intake);
  if (top && !JSON_TYPE.test(headers.get("content-type") ?? "")) headers.set("content-type", "application/json");
  if (!target) return { pathAndQuery: intake.path + intake.search, headers, body: intake.raw };
  const model = upstreamModel(target);
  const path = intake.geminiPath ? `${intake.geminiPath.prefix}${model}:${intake.geminiPath.action}` : intake.path;
  let body = intake.raw;
  if (top && typeof body === "string") {
    const edits = bodyEdits(intake, top, model, target.params, providerOf(target, instance));
    if (edits.size > 0) body = editTopLevel(body, membersOf(intake, body), edits);
  }
  return { pathAndQuery: path + intake.search, headers, body };
}

const JSON_TYPE = /json/i;

/** Top-level fields the route params may change. */
const PARAM_FIELDS = ["reasoning_effort", "reasoning", "max_tokens", "thinking"] as const;
/** The top-level fields whose values bodyEdits reads; of the others it asks only whether they are there. */
export const FIELDS_A_REWRITE_READS: ReadonlySet<string> = new Set(["model", ...PARAM_FIELDS]);

/**
 * What one target changes in the body, as top-level edits (field → new JSON text, or undefined to
 * remove it): its model (unless a Gemini body has none: the path carries it), the route's body
 * params (not for token counting), and the provider's quirks.
 */
function bodyEdits(intake: Sendable, json: Body, model: string, params: RouteParams, provider: Parameters<typeof quirkOf>[0]): Map<string, string | undefined> {
  const edits = new Map<string, string | undefined>();
  const modelInBody = !intake.geminiPath || "model" in json;
  if (modelInBody && json.model !== model) edits.set("model", JSON.stringify(model));
  if (!intake.countTokens && hasBodyParams(params)) {
    const copy: Body = { ...json };
    applyBodyParams(copy, params, isResponsesCall(intake.path) ? "responses" : "other");
    for (const f of PARAM_FIELDS) if (copy[f] !== json[f]) edits.set(f, JSON.stringify(copy[f]));
  }
  for (const f of quirkOf(provider)?.dropFields ?? []) if (f in json) edits.set(f, undefined);
  return edits;
}

/** The body's top-level fields as a rewrite reads them: what routing kept, else the parsed body. */
function topLevel(intake: Sendable): Body | undefined {
  return intake.top ?? intake.json;
}

/** The body's top-level members: found by intake's measuring pass, else (a hand-made intake) here. */
function membersOf(intake: Sendable, text: string): readonly Member[] {
  return intake.members ?? topLevelMembers(text);
}
