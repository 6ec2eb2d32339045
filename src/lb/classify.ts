// What an attempt's outcome means for failover and cooldowns: old-lb.md's class table, plus the
// two failures that have no status (connection error, first-byte timeout). Pure: error bodies
// come decoded (error-body.ts).

import type { CooldownsMs, LbConfig } from "../config/types.ts";
import type { CooldownKind } from "../state/types.ts";

export type OutcomeClass = "ok" | "auth" | "signature" | "transient" | "context" | "client" | "other";

export interface Outcome {
  readonly class: OutcomeClass;
  /** HTTP status of the attempt; 0 for a connection error or first-byte timeout. */
  readonly status: number;
  /** Cooldown to set on (route, target); 0 = none. Already capped Retry-After when one came. */
  readonly cooldownMs: number;
  /** Which `lb_*_cooldown_ms` applied (undefined when no cooldown). */
  readonly kind?: CooldownKind;
  /** One line for logs and the status page: what was seen. Never contains secrets. */
  readonly reason: string;
  /** A context refusal's count of the tokens it was asked for, where its wording names it (promptTokensOf). */
  readonly promptTokens?: number;
}

interface OutcomeFacts {
  readonly status: number;
  readonly headers?: Headers;
  /** Decoded error body (error-body.ts readErrorBody); ignored for 2xx. */
  readonly bodyText?: string;
  /** The request carried signed thinking blocks (lb/session.ts findSignature). */
  readonly signed?: boolean;
  /** Clock for an HTTP-date Retry-After; defaults to Date.now(). */
  readonly now?: number;
  /** Masks secrets in the reason (Runtime.masker.text); applied before it is cut to length. */
  readonly mask?: (s: string) => string;
}

/** Classify an attempt that got a status line. `cooldowns` = Config.global.lb.cooldownsMs. */
export function classifyOutcome(f: OutcomeFacts, cooldowns: CooldownsMs): Outcome {
  const { status } = f;
  if (status < 400) return { class: "ok", status, cooldownMs: 0, reason: String(status) };
  const text = errorText(f.bodyText ?? "");
  const says = (...words: string[]) => words.some((w) => text.includes(w));
  const make = (cls: OutcomeClass, kind: CooldownKind | undefined) => {
    const full = kind ? cooldowns[COOLDOWN_KEY[kind]] : 0;
    const cooldownMs = kind ? capRetryAfter(full, f.headers, f.bodyText, f.now ?? Date.now(), status === 429) : 0;
    return { class: cls, status, cooldownMs, kind, reason: reasonLine(status, text, f.mask) };
  };

  // 402 (OpenRouter's "Insufficient credits", a relay's billing error) is the account's, as a 401
  // or 403 is: another target may serve the same request (the old LB called it a client error).
  if (status === 401 || status === 402 || status === 403 || says("auth_unavailable", "auth_not_found")) {
    if (says("validation_required")) return make("auth", "validation");
    if (says("insufficient_quota", "quota exceeded", "quota_exceeded")) return make("auth", "quota");
    return make("auth", "auth");
  }
  if (f.signed && (status === 400 || status === 422 || status === 500) && says("signature")) {
    return make("signature", "signature");
  }
  if (status === 429 || status === 503) return make("transient", "transient_heavy");
  if (status === 408 || (status >= 500 && status <= 599)) return make("transient", "transient");
  // Too long for this target's model, not for every model: a target with a larger window may take
  // it (attempt.ts passes over the ones no larger); the target itself is fine, so no cooldown.
  if (status < 500 && says(...PROMPT_TOO_LONG)) {
    const tokens = promptTokensOf(text);
    return tokens === undefined ? make("context", undefined) : { ...make("context", undefined), promptTokens: tokens };
  }
  if (status < 500) return make("client", undefined); // 400/422 and the other 4xx: the request is at fault
  return make("other", "transient"); // non-standard statuses (≥ 600): cool down, but do not retry
}

/** An attempt that never got a status line: refused/reset socket, or no first byte in time. */
export function failureOutcome(kind: "connection" | "timeout", detail: string, cooldowns: CooldownsMs, mask: (s: string) => string = same): Outcome {
  return { class: "transient", status: 0, cooldownMs: cooldowns.transient, kind, reason: mask(`${kind}: ${detail}`).slice(0, REASON_MAX) };
}

/**
 * The one retry decision of the failover loop. `attempts` = attempts made so far (1 after the
 * first). Retry only auth / transient outcomes (connection errors and timeouts are transient) and
 * prompts too long for the target's window (on a target with a larger one: attempt.ts), an auth
 * error that came as 5xx only with lb_retry_auth_on_5xx, at most lb_max_target_retries
 * extra attempts, and never once a byte reached the client. Signature errors are not retried
 * here: the caller re-routes them once, to a route of their family that can answer (signature-fallback.ts).
 */
export function shouldRetry(o: Outcome, attempts: number, lb: LbConfig, method: string, bytesSent: number): boolean {
  if (bytesSent > 0 || attempts > lb.maxTargetRetries) return false;
  if (!RETRY_METHODS.has(method.toUpperCase())) return false;
  if (o.class === "transient" || o.class === "context") return true;
  if (o.class === "auth") return o.status < 500 || lb.retryAuthOn5xx;
  return false;
}

/**
 * Lower-cased text to search: the message / code / type / status / reason / details of a JSON
 * error (nested `error` or `response.error`, arrays like Gemini's), or the raw text when it is not JSON.
 */
export function errorText(body: string): string {
  if (!body) return "";
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return body.slice(0, 4096).toLowerCase();
  }
  const parts: string[] = [];
  collect(json, parts, 0);
  return (parts.length ? parts.join(" ") : body.slice(0, 4096)).toLowerCase();
}

/**
 * How long the upstream asks to be left alone, never above `capMs`: `retry-after-ms`, Retry-After
 * (seconds or HTTP date), for a 429 (`rateLimited`) the rate-limit headers relays send instead
 * (OpenRouter's `x-ratelimit-reset`, OpenAI's `x-ratelimit-reset-requests` / `-tokens`), else
 * CLIProxyAPI's `reset_seconds`. Without any, `capMs`.
 */
export function capRetryAfter(capMs: number, headers: Headers | undefined, body: string | undefined, now: number, rateLimited = false): number {
  const ms =
    msValue(headers?.get("retry-after-ms")) ??
    retryAfterMs(headers?.get("retry-after") ?? null, now) ??
    (rateLimited && headers ? rateLimitResetMs(headers, now) : undefined) ??
    resetSecondsMs(body);
  return ms === undefined ? capMs : Math.min(ms, capMs);
}

// --- internal ---

const RETRY_METHODS = new Set(["POST", "GET", "HEAD"]);
/**
 * How upstreams refuse a prompt over the model's context window (lower-cased): Anthropic
 * (`prompt is too long: N tokens > M maximum`; `input length and \`max_tokens\` exceed context
 * limit` when the prompt fits but not with its max_tokens), OpenAI and OpenAI-compatible relays
 * (code `context_length_exceeded`, `maximum context length is M tokens`), the Responses API and
 * Codex (`exceeds the context window`), Google (`input token count (N) exceeds the maximum number
 * of tokens allowed`), Bedrock (`Input is too long for requested model`), Moonshot (`exceeded
 * model token limit`), xAI (`maximum prompt length is M`), llama.cpp's server (`exceeds the
 * available context size`).
 */
const PROMPT_TOO_LONG = [
  "prompt is too long",
  "exceed context limit",
  "context_length_exceeded",
  "maximum context length",
  "exceeds the context window",
  "exceeds the maximum number of tokens",
  "input is too long for requested model",
  "exceeded model token limit",
  "maximum prompt length",
  "exceeds the available context size",
];
/**
 * What a refusal says it was asked for, in the wordings that name it (lower-cased): Anthropic's
 * `prompt is too long: N tokens > M maximum` and `exceed context limit: N + MAX_TOKENS > M`,
 * OpenAI's `resulted in N tokens` (OpenRouter's `you requested about N tokens`), Google's `input
 * token count (N) exceeds`, xAI's `the request contains N tokens`, Moonshot's `(requested: N)`,
 * llama.cpp's `request (N tokens) exceeds the available context size` (its older wording names
 * none: its error object's `n_prompt_tokens` does, collected as `n_prompt_tokens N`).
 */
export function promptTokensOf(text: string): number | undefined {
  for (const re of ASKED_TOKENS) {
    const m = re.exec(text);
    if (m) return Number(m[1]) + Number(m[2] ?? 0);
  }
  return undefined;
}

const ASKED_TOKENS = [
  /prompt is too long: (\d+) tokens/,
  /exceed context limit: (\d+) \+ (\d+)/,
  /(?:resulted in|requested(?: about)?|request contains) (\d+) tokens/,
  /input token count \((\d+)\)/,
  /\(requested: (\d+)\)/,
  /request \((\d+) tokens\) exceeds/,
  /n_prompt_tokens (\d+)/,
];
// `response`: a Responses stream's response.failed carries its error there (Codex's and CLIProxyAPI's for Codex clients).
const TEXT_FIELDS = ["message", "code", "type", "status", "reason", "details", "error", "errors", "response"];

const COOLDOWN_KEY: Record<CooldownKind, keyof CooldownsMs> = {
  auth: "auth",
  validation: "validation",
  quota: "quota",
  signature: "signature",
  transient: "transient",
  transient_heavy: "transientHeavy",
  connection: "transient",
  timeout: "transient",
};

function collect(v: unknown, out: string[], depth: number): void {
  if (depth > 6 || out.length > 64) return;
  if (typeof v === "string") out.push(v);
  else if (typeof v === "number") out.push(String(v));
  else if (Array.isArray(v)) for (const x of v) collect(x, out, depth + 1);
  else if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    for (const k of TEXT_FIELDS) if (k in o) collect(o[k], out, depth + 1);
    if (typeof o.n_prompt_tokens === "number") out.push(`n_prompt_tokens ${o.n_prompt_tokens}`);
  }
}

function retryAfterMs(v: string | null, now: number): number | undefined {
  if (!v) return undefined;
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const at = Date.parse(s);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function msValue(v: string | null | undefined): number | undefined {
  return v && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Math.round(Number(v)) : undefined;
}

/**
 * When a relay's rate limit resets. `x-ratelimit-reset` is a time (OpenRouter: epoch ms; others
 * epoch seconds) or, when small, seconds from now; OpenAI's per-limit resets are durations
 * (`6m0s`, `1.5s`, `20ms`), and which limit was hit is not said, so the later one counts.
 */
function rateLimitResetMs(h: Headers, now: number): number | undefined {
  const reset = h.get("x-ratelimit-reset")?.trim();
  if (reset && /^\d+(\.\d+)?$/.test(reset)) {
    const n = Number(reset);
    // Whole ms, up: a fraction (`1796200391.0001234`) would reach the cooldown's end, the record,
    // gw status and Redis's TTL as 30000.1235 ms; and coming back before the reset finds it shut.
    return Math.max(0, Math.ceil(n > 1e12 ? n - now : n > 1e9 ? n * 1000 - now : n * 1000));
  }
  const spans = [h.get("x-ratelimit-reset-requests"), h.get("x-ratelimit-reset-tokens")].map(durationMs).filter((x) => x !== undefined);
  return spans.length ? Math.max(...spans) : undefined;
}

/** A Go-style duration (`1h2m3.5s`, `6m0s`, `20ms`) in ms. */
function durationMs(v: string | null): number | undefined {
  const s = v?.trim();
  if (!s || !/^(\d+(\.\d+)?(h|ms|m|s))+$/.test(s)) return undefined;
  let ms = 0;
  for (const [, n, , unit] of s.matchAll(/(\d+(\.\d+)?)(h|ms|m|s)/g)) ms += Number(n) * DURATION_UNIT_MS[unit!]!;
  return Math.round(ms);
}

const DURATION_UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

function resetSecondsMs(body: string | undefined): number | undefined {
  const m = body?.match(/"reset_seconds"\s*:\s*(\d+(?:\.\d+)?)/);
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}

/** Longest reason kept (status page, log, state store). */
const REASON_MAX = 200;
const same = (s: string) => s;

/** `429 all credentials are cooling down…`: masked first, then cut, so no part of a key survives the cut. */
function reasonLine(status: number, text: string, mask: (s: string) => string = same): string {
  return text ? `${status} ${mask(text.replace(/\s+/g, " ")).slice(0, 160)}` : String(status);
}
