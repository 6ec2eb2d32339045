// gw's own words for failures where the upstream's answer says less than gw knows: a route whose
// every target is out (the instance only says "429" for the one gw tried anyway), a model no
// route names that the default instance refuses ("unknown provider for model claude-sonet"), and
// a path or method no instance serves (Gin's plain-text "404 page not found"). Pure: it reads the
// attempt that would be delivered and the state; the caller sends the error in the client's
// dialect. Everything else is delivered as the upstream sent it.

import { closeNames } from "../config/suggest.ts";
import type { Config, Route, Target } from "../config/types.ts";
import type { Cooldown, CooldownKind, StateView } from "../state/types.ts";
import { availableAt } from "../state/types.ts";
import type { DeadEndView } from "./dead-ends.ts";
import type { GwErrorCode } from "./dialect.ts";
import type { Tried } from "./failover.ts";
import { innerError } from "./error-objects.ts";
import { modelIdsOf } from "./model-ids.ts";
import { decodeSafe } from "../observe/secret-shapes.ts";
import { typedForClients } from "../supervisor/self.ts";

export interface OwnError {
  readonly status: number;
  readonly message: string;
  readonly code: GwErrorCode;
  readonly headers?: Record<string, string>;
}

interface OwnFacts {
  readonly method: string;
  /** The path as forwarded (intake.ts). */
  readonly path: string;
  readonly model: string | undefined;
  /** The route that served the request; undefined when it went to the default instance. */
  readonly route: Route | undefined;
  /** Its routes and router: the names a client may send, for "did you mean". */
  readonly config: Config;
  readonly state: StateView;
  /** Instances draining for a restart or on their way back (drain.ts). */
  readonly resting?: { has(instance: string): boolean };
  /** Targets this request could not be answered by (dead-ends.ts): an untried one is out for that. */
  readonly deadEnds?: DeadEndView;
  readonly now: number;
  /** The runtime's masker: the upstream's words quoted in gw's error go through it. */
  readonly mask: (s: string) => string;
}

/** Nothing to send to at all (no route, no default instance). */
export const NO_INSTANCE: OwnError = { status: 503, message: "gw has no instance to send this request to", code: "no_instance" };

/** gw's own error for the attempt about to be delivered, or undefined to deliver it as it is. */
export function ownError(final: Tried | undefined, f: OwnFacts): OwnError | undefined {
  if (!final) return f.route ? routeOut(f.route, f) : NO_INSTANCE;
  const o = final.outcome;
  const c = final.classified;
  // known-down: the last resort, tried since every other target was out or had failed this
  // request; it refused the connection, as gw expected. Where another target cools, why each is
  // out and when the first is back (Retry-After) says more than that expected refusal's 502; a
  // route with nothing else (its only instance down for good) keeps the refusal: it is the news.
  if (f.route && o.kind === "failed" && o.reason === "connect" && o.attempt.pick === "known-down" && othersCool(f.route, o.attempt.target, f)) return routeOut(f.route, f);
  if (o.kind === "response" && o.status < 400) return undefined;
  // soonest-cooldown: when the attempt was picked, every untried target was cooling or known down
  // (the tried ones had failed this request), and it failed too — for the target's sake, not the
  // request's: an error status, or no answer at all (the request ends there: attempt.ts) — that
  // one, as above, only where another target cools: alone, its 502/504 is the news. (A
  // known-down pick that answers is delivered as it answered.)
  if (f.route && o.attempt.pick === "soonest-cooldown" && c && TARGET_FAULT.has(c.class) && (o.kind === "response" || othersCool(f.route, o.attempt.target, f))) {
    return routeOut(f.route, f, lastWords(c.status, final.errorText, c.reason, f.mask));
  }
  if (o.kind !== "response") return undefined; // gw's own 502/504 already say what happened
  if (isRouterNotFound(o.status, o.headers, final.errorText)) return notServed(f);
  // A name gw knows that reached the instance as sent (the router in shadow mode) keeps the instance's words.
  if (!f.route && UNKNOWN_MODEL.test(final.errorText ?? "") && !f.config.global.lb.router?.activationModels.has(f.model ?? "")) return unknownModel(f, o.attempt.instance.name);
  return undefined;
}

/** The paths gw documents, and their methods (what a 405's Allow names). CLIProxyAPI serves more (videos, realtime, …): those pass through. */
const ENDPOINTS: readonly (readonly [RegExp, string, readonly string[]])[] = [
  [/^\/v1\/messages$/, "/v1/messages", ["POST"]],
  [/^\/v1\/messages\/count_tokens$/, "/v1/messages/count_tokens", ["POST"]],
  [/^\/v1\/chat\/completions$/, "/v1/chat/completions", ["POST"]],
  [/^\/v1\/completions$/, "/v1/completions", ["POST"]],
  // GET is the Responses websocket (Codex)
  [/^\/v1\/responses$/, "/v1/responses", ["GET", "POST"]],
  [/^\/v1\/responses\/compact$/, "/v1/responses/compact", ["POST"]],
  [/^\/v1\/models$/, "/v1/models", ["GET"]],
  [/^\/v1beta\/models$/, "/v1beta/models", ["GET"]],
  [/^\/v1beta\/models\/[^/]+:(?:generateContent|streamGenerateContent|countTokens)$/, "/v1beta/models/MODEL:generateContent", ["POST"]],
];

/**
 * A path gw documents asked with a method it does not take (GET /v1/messages: a browser's
 * navigation, say), answered by gw before any instance is asked. Forwarded, it reached an
 * instance, was logged, and its 404 counted in the anonymous failure streak: a web page could
 * force `*.auto` upgrades by navigating to a model call.
 */
export function wrongMethod(method: string, path: string): OwnError | undefined {
  const known = ENDPOINTS.find(([re]) => re.test(path));
  if (!known || known[2].includes(method)) return undefined;
  const allow = known[2].join(", ");
  return { status: 405, message: `${method} ${path.slice(0, 200)}: gw serves ${known[1]} with ${allow} only`, code: "method_not_allowed", headers: { allow } };
}

const SERVED = "POST /v1/messages, /v1/chat/completions, /v1/responses, /v1beta/models/MODEL:generateContent; GET /v1/models";

// --- internal ---

const TARGET_FAULT = new Set(["auth", "transient", "other"]);

/** CLIProxyAPI's "unknown provider for model X" (code model_not_found), in any of its builds. */
const UNKNOWN_MODEL = /unknown provider for model|model_not_found/;

/**
 * The instance's router found nothing at the path (or not for this method): Gin answers 404 (or
 * 405) with its own plain words or none. Any other answer is a handler's or an upstream's (a JSON
 * 404, a relay's HTML "404 Not Found" passed through) and passes: it says what was not found.
 */
function isRouterNotFound(status: number, headers: Headers, text = ""): boolean {
  if (status !== 404 && status !== 405) return false;
  if ((headers.get("content-type") ?? "").includes("json")) return false;
  const said = text.trim();
  return said === "" || said === GIN_WORDS[status];
}

const GIN_WORDS: Record<number, string> = { 404: "404 page not found", 405: "405 method not allowed" };

function notServed(f: OwnFacts): OwnError {
  const path = f.path.slice(0, 200);
  const model = /^\/v1(?:beta)?\/models\/([^/:]+)$/.exec(f.path)?.[1];
  if (model !== undefined) return { status: 404, message: noRoute(decodeSafe(model), modelIdsOf(f.config).names), code: "model_not_found" };
  return { status: 404, message: `gw serves no ${f.method} ${path}; it serves ${SERVED} (and the rest of CLIProxyAPI's API)`, code: "not_found" };
}

function unknownModel(f: OwnFacts, instance: string): OwnError {
  return { status: 404, message: noRoute(f.model ?? "", modelIdsOf(f.config).names, `, and instance "${instance}" (which gets the models no route names) does not serve it either`), code: "model_not_found" };
}

/** `model "x" is no route of gw[…]; did you mean "y"? GET /v1/models or gw status lists the routes` */
function noRoute(model: string, names: readonly string[], more = ""): string {
  const near = closeNames(model, names);
  const guess = near.length > 0 ? `; did you mean ${near.map((n) => `"${n}"`).join(" or ")}?` : ";";
  return `model "${model.slice(0, 100)}" is no route of gw${more}${guess} GET /v1/models or ${typedForClients("gw status")} lists the routes`;
}

/** `429 <the upstream's words>` for gw's error, or the classifier's reason when it said nothing. */
function lastWords(status: number, text: string | undefined, reason: string, mask: (s: string) => string): string {
  const said = upstreamWords(text);
  // Masked first, then cut: no part of a key survives the cut.
  return said ? `${status} ${mask(said).slice(0, 160)}` : reason;
}

/**
 * What an upstream's error says, as it says it: the `message` of its error object (Anthropic's,
 * OpenAI's, Google's; a Gemini array's first element; the JSON of an error event), else its text,
 * on one line. The classifier's reason is lower-cased and runs message, code and type together:
 * fine for matching, hard to read in a client's error.
 */
function upstreamWords(text: string | undefined): string {
  if (!text) return "";
  let said = text;
  try {
    // The JSON in it: the whole body, or an event's data after gw's "error event in a 200 stream: ".
    const body = JSON.parse(text.slice(text.search(/[[{]/), Math.max(text.lastIndexOf("}"), text.lastIndexOf("]")) + 1)) as unknown;
    const first = (Array.isArray(body) ? body[0] : body) as Record<string, unknown> | null;
    const message = first && typeof first === "object" ? innerError(first)?.message : undefined;
    if (typeof message === "string" && message.trim()) said = message;
  } catch {}
  return said.replace(/\s+/g, " ").trim();
}

/** Whether a target of `route` other than `tried` has a cooldown (running or half-open) to tell of. */
function othersCool(route: Route, tried: Target | undefined, f: OwnFacts): boolean {
  return route.targets.some((t) => t.id !== tried?.id && f.state.cooldown(route.name, t.id, f.now) !== undefined);
}

/** Why each target of `route` is out, and when the first one is back (Retry-After). */
function routeOut(route: Route, f: OwnFacts, lastAnswer?: string): OwnError {
  let soonest = Infinity;
  const parts = route.targets.map((t) => {
    const c = f.state.cooldown(route.name, t.id, f.now);
    // Back when its cooldown ends (a trial in flight: when that trial's window ends).
    if (c) soonest = Math.min(soonest, f.now < c.until ? c.until : availableAt(c));
    return `${t.id} ${whyOut(t, c, f)}`;
  });
  const inS = Number.isFinite(soonest) ? Math.max(1, Math.ceil((soonest - f.now) / 1000)) : 1;
  return {
    status: 503,
    message: `route "${route.name}": every target is out — ${parts.join("; ")}; the first is back in ${inS} s (${typedForClients("gw status")} shows the targets)${lastAnswer ? `; the last try answered ${withoutEmails(lastAnswer)}` : ""}`,
    code: "no_instance",
    headers: inS > RETRY_AFTER_MAX_S ? { "x-should-retry": "false" } : { "retry-after": String(inS) },
  };
}

/**
 * Most a Retry-After says. The Anthropic SDK sleeps for whatever it is told (a quota's 12 h
 * included: a client that looks hung); OpenAI's ignores more than 60 s. A request sooner than the
 * cooldown's end is not wasted: gw tries the soonest target anyway, and a quota may come back early.
 * When no target is back within it, `x-should-retry: false` (read by both SDKs and Claude Code)
 * and no Retry-After: retrying cannot help, Claude Code would sleep 60 s ten times before showing
 * the error, and Codex, which reads no x-should-retry, sleeps any Retry-After before each of its
 * 30 tries (5 × 6): 60 s made `codex exec` silent for 30 minutes; without it, its own backoff
 * shows gw's words after some 25 s.
 */
const RETRY_AFTER_MAX_S = 60;

function whyOut(t: Target, c: Cooldown | undefined, f: OwnFacts): string {
  if (c && f.now < c.until) return `${KIND[c.kind]}, cooling until ${clock(c.until)} UTC (in ${Math.ceil((c.until - f.now) / 1000)} s)`;
  if (c) return `on trial after ${KIND[c.kind]} (a request is testing it now)`;
  if (f.resting?.has(t.instance)) return `on instance "${t.instance}", which is restarting`;
  if (f.deadEnds?.barred?.(t.instance)) return `on instance "${t.instance}", whose port another process holds (gw sends it nothing)`;
  if (f.deadEnds?.has(t)) return `on instance "${t.instance}", known down`;
  return "failed just now";
}

/** The reason class of a cooldown, in words (never the upstream's text: it may quote an account). */
const KIND: Record<CooldownKind, string> = {
  auth: "auth refused",
  validation: "account needs validation (auth)",
  quota: "out of quota",
  signature: "thinking-signature errors",
  transient: "upstream errors",
  transient_heavy: "rate limited or overloaded",
  connection: "down (unreachable)",
  timeout: "not answering in time",
};

/** An upstream's words may name the account (its e-mail): masked like a secret. */
const withoutEmails = (s: string) => s.replace(/[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g, "***@***");

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);
