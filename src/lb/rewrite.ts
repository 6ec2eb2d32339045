// Rewrite for one attempt (pure): the client's request as one target should receive it. Only
// what changes is written — the model, the route's body params (body-params.ts), the provider's quirks — as
// top-level edits on the text that came in (json-edit.ts); every other byte goes upstream as the
// client sent it. The parsed body is never mutated.

import type { InstanceConfig, RouteParams, Target } from "../config/types.ts";
import { applyBodyParams, hasBodyParams, PARAM_FIELDS, paramCallOf } from "./body-params.ts";
import { isReservedHeader, setInstanceKey, upstreamHeaders } from "./headers.ts";
import type { Intake, RoutedIntake } from "./intake.ts";
import { editTopLevel, type Member, topLevelMembers } from "./json-edit.ts";
import { providerOf, quirkOf } from "./quirks.ts";

export interface UpstreamRequest {
  /** Path and query, e.g. `/v1/messages?beta=true`. */
  readonly pathAndQuery: string;
  readonly headers: Headers;
  readonly body: Uint8Array<ArrayBuffer> | string | undefined;
  /** Names of the route params that changed this request (for the request log's `routing.params`). */
  readonly params: readonly string[];
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

/**
 * Headers for one attempt: the client's (cleaned), the instance's key, then the route's header
 * params; the names of those that changed a header go into `applied`.
 */
export function attemptHeaders(client: Headers, instance: InstanceConfig, p: RouteParams | undefined, applied: string[] = []): Headers {
  const h = upstreamHeaders(client);
  // Over loopback compression saves nothing, and plain bytes let the usage watcher read the
  // stream; the client's own Accept-Encoding is a preference, and an identity answer satisfies it.
  h.set("accept-encoding", "identity");
  setInstanceKey(h, instance.apiKey);
  if (!p) return h;
  if (p.anthropicBeta.length > 0) {
    const current = h.get("anthropic-beta");
    const merged = mergeBeta(current, p.anthropicBeta);
    if (merged !== current) {
      h.set("anthropic-beta", merged);
      applied.push("anthropic_beta");
    }
  }
  let extra = false;
  for (const name in p.extraHeaders) {
    const value = p.extraHeaders[name]!;
    if (isReservedHeader(name) || h.get(name) === value) continue;
    h.set(name, value);
    extra = true;
  }
  if (extra) applied.push("extra_headers");
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
  const headerParams: string[] = [];
  const headers = attemptHeaders(client, instance, target?.params, headerParams);
  if (intake.decoded) headers.delete("content-encoding"); // the body goes as gw decoded it
  // A JSON body sent under another type (curl -d, text/plain) is JSON to gw, so to the upstream too.
  const top = topLevel(intake);
  if (top && !JSON_TYPE.test(headers.get("content-type") ?? "")) headers.set("content-type", "application/json");
  if (!target) return { pathAndQuery: intake.path + intake.search, headers, body: intake.raw, params: NONE };
  const model = upstreamModel(target);
  const path = intake.geminiPath ? `${intake.geminiPath.prefix}${model}:${intake.geminiPath.action}` : intake.path;
  let body = intake.raw;
  let bodyParams: readonly string[] = NONE;
  if (top && typeof body === "string") {
    const { edits, applied } = bodyEdits(intake, top, model, target.params, providerOf(target, instance));
    if (edits.size > 0) body = editTopLevel(body, membersOf(intake, body), edits);
    bodyParams = applied;
  }
  const leveled = model !== target.model;
  const params = bodyParams.length + headerParams.length > 0 || leveled ? [...bodyParams, ...(leveled ? ["thinking_level"] : []), ...headerParams] : NONE;
  return { pathAndQuery: path + intake.search, headers, body, params };
}

/** A request's lists are only read: one empty list serves every request that changes nothing. */
const NONE: readonly string[] = Object.freeze([]);

const JSON_TYPE = /json/i;

/** The top-level fields whose values bodyEdits reads; of the others it asks only whether they are there. */
export const FIELDS_A_REWRITE_READS: ReadonlySet<string> = new Set(["model", ...PARAM_FIELDS]);

type Body = Record<string, unknown>;

/**
 * What one target changes in the body, as top-level edits (field → new JSON text, or undefined to
 * remove it): its model (unless a Gemini body has none: the path carries it), the route's body
 * params where the call has their fields (not for token counting: body-params.ts), and the
 * provider's quirks. With the names of the params that changed it.
 */
function bodyEdits(intake: Sendable, json: Body, model: string, params: RouteParams, provider: Parameters<typeof quirkOf>[0]): { edits: Map<string, string | undefined>; applied: readonly string[] } {
  const edits = new Map<string, string | undefined>();
  const modelInBody = !intake.geminiPath || "model" in json;
  if (modelInBody && json.model !== model) edits.set("model", JSON.stringify(model));
  const call = intake.countTokens ? undefined : paramCallOf(intake.path, intake.geminiPath?.action);
  let applied: readonly string[] = NONE;
  if (call && hasBodyParams(params)) {
    const copy: Body = { ...json };
    applied = applyBodyParams(copy, params, call);
    for (const f of PARAM_FIELDS) if (copy[f] !== json[f]) edits.set(f, copy[f] === undefined ? undefined : JSON.stringify(copy[f]));
  }
  for (const f of quirkOf(provider)?.dropFields ?? []) if (f in json) edits.set(f, undefined);
  return { edits, applied };
}

/** The body's top-level fields as a rewrite reads them: what routing kept, else the parsed body. */
function topLevel(intake: Sendable): Body | undefined {
  return intake.top ?? intake.json;
}

/** The body's top-level members: found by intake's measuring pass, else (a hand-made intake) here. */
function membersOf(intake: Sendable, text: string): readonly Member[] {
  return intake.members ?? topLevelMembers(text);
}
