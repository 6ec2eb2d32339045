// Error bodies exactly as CLIProxyAPI (v7) writes them. It first reduces every failure to a status
// plus an "error text" (plain text, or JSON from its own selector / the upstream); then each
// handler family shapes that text: the Claude handler into Anthropic's shape, every other handler
// (OpenAI chat, Responses, Gemini) through one builder that passes JSON text through unchanged.

import { isObject } from "../json/object.ts";
import type { Fault } from "./faults.ts";
import type { Upstream } from "./upstream.ts";

export interface ErrorText {
  status: number;
  text: string;
  retryAfterS?: number;
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  408: "Request Timeout",
  409: "Conflict",
  413: "Request Entity Too Large",
  422: "Unprocessable Entity",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** Go's time.Duration.String() for whole seconds: 60 → "1m0s", 3600 → "1h0m0s". */
function goDuration(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h) return `${h}h${m}m${sec}s`;
  if (m) return `${m}m${sec}s`;
  return `${sec}s`;
}

/** The error text CLIProxyAPI would have for a fault on `model` served by `provider`. */
export function faultErrorText(f: Readonly<Fault>, model: string, provider: string): ErrorText {
  const status = f.status;
  switch (f.kind) {
    case "cooldown": {
      // Its selector marshals a Go map, so the keys come out sorted.
      const message = `All credentials for model ${model} are cooling down via provider ${provider}`;
      const error = {
        code: "model_cooldown",
        message,
        model,
        provider,
        reset_seconds: f.retryAfterS,
        reset_time: goDuration(f.retryAfterS),
      };
      return { status, text: JSON.stringify({ error }), retryAfterS: f.retryAfterS };
    }
    case "auth_unavailable": {
      // enrichAuthSelectionError (handlers_errors.go) names providers and model, and for Claude
      // points at the management API — a path gw never forwards.
      const hint = provider === "claude" ? "; check Claude auth/key session and cooldown state via /v0/management/auth-files" : "";
      return { status, text: `auth_unavailable: no auth available (providers=${provider}, model=${model})${hint}` };
    }
    case "auth":
      return { status, text: "unauthorized: upstream rejected the credential (token expired or revoked)" };
    case "quota":
      return {
        status,
        text: "insufficient_quota: You exceeded your current quota, please check your plan and billing details.",
      };
    case "signature":
      return { status, text: "messages.1.content.0.thinking.signature: Invalid `signature` in `thinking` block" };
    case "overloaded":
      return { status, text: "Overloaded" };
    default:
      return { status, text: STATUS_TEXT[status] ?? `upstream returned status ${status}` };
  }
}

/**
 * The upstream's own refusal of a prompt over the model's context window, in each family's words
 * (the JSON its API sends with the 400), which CLIProxyAPI passes through as it passes every
 * upstream error.
 */
export function promptTooLongText(upstream: Upstream, tokens: number, window: number): ErrorText {
  const error = {
    claude: { type: "error", error: { type: "invalid_request_error", message: `prompt is too long: ${tokens} tokens > ${window} maximum` } },
    gemini: { error: { code: 400, message: `The input token count (${tokens}) exceeds the maximum number of tokens allowed (${window}).`, status: "INVALID_ARGUMENT" } },
    codex: { error: { message: "Your input exceeds the context window of this model. Please adjust your input and try again.", type: "invalid_request_error", param: "input", code: "context_length_exceeded" } },
    openai: {
      error: {
        message: `This model's maximum context length is ${window} tokens. However, your messages resulted in ${tokens} tokens. Please reduce the length of the messages.`,
        type: "invalid_request_error",
        param: "messages",
        code: "context_length_exceeded",
      },
    },
  }[upstream];
  return { status: 400, text: JSON.stringify(error) };
}

export function unknownModelText(model: string): ErrorText {
  const error = { message: `unknown provider for model ${model}`, type: "invalid_request_error", code: "model_not_found", param: "model" };
  return { status: 400, text: JSON.stringify({ error }) };
}

function parseJsonObject(text: string): Record<string, any> | null {
  const t = text.trim();
  if (!t.startsWith("{")) return null;
  try {
    const v = JSON.parse(t);
    return isObject(v) ? v : null;
  } catch {
    return null;
  }
}

/** Body for every non-Claude handler (its BuildErrorResponseBody). */
export function baseErrorBody(e: ErrorText): string {
  if (parseJsonObject(e.text)) return e.text.trim();
  let type = "invalid_request_error";
  let code = "";
  if (e.status === 401) [type, code] = ["authentication_error", "invalid_api_key"];
  else if (e.status === 403) [type, code] = ["permission_error", "insufficient_quota"];
  else if (e.status === 429) [type, code] = ["rate_limit_error", "rate_limit_exceeded"];
  else if (e.status === 404) code = "model_not_found";
  else if (e.status >= 500) [type, code] = ["server_error", "internal_server_error"];
  const error = code ? { message: e.text, type, code } : { message: e.text, type };
  return JSON.stringify({ error });
}

const CLAUDE_TYPE: Record<number, string> = {
  401: "authentication_error",
  402: "billing_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  504: "timeout_error",
  529: "overloaded_error",
};

/** Body of the Claude handler (/v1/messages, count_tokens): Anthropic's error shape. */
export function claudeErrorBody(e: ErrorText): string {
  let type = CLAUDE_TYPE[e.status] ?? (e.status >= 500 ? "api_error" : "invalid_request_error");
  let message = e.text.trim();
  const payload = parseJsonObject(message);
  if (payload) {
    const inner = payload.error;
    if (inner && typeof inner === "object") {
      if (typeof inner.type === "string" && inner.type.trim()) type = inner.type.trim();
      if (typeof inner.message === "string" && inner.message.trim()) message = inner.message.trim();
      else if (typeof inner.code === "string" && inner.code.trim()) message = inner.code.trim();
    } else {
      if (typeof payload.type === "string" && payload.type.trim() && payload.type.trim() !== "error") type = payload.type.trim();
      if (typeof payload.message === "string" && payload.message.trim()) message = payload.message.trim();
    }
  }
  return JSON.stringify({ type: "error", error: { type, message } });
}

/** Code field of a Responses stream error chunk (its openAIResponsesStreamErrorCode). */
function responsesCode(status: number): string {
  const known: Record<number, string> = {
    401: "invalid_api_key",
    403: "insufficient_quota",
    429: "rate_limit_exceeded",
    404: "model_not_found",
    408: "request_timeout",
  };
  return known[status] ?? (status >= 500 ? "internal_server_error" : status >= 400 ? "invalid_request_error" : "unknown_error");
}

/** gjson's Result.String(): strings as they are, anything else as its JSON text. */
const gjsonString = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v));

function parseJson(text: string): { value: unknown } | null {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return null;
  }
}

/**
 * What the Responses handler makes of an error text on a streamed request, before it is written
 * as the status body or an in-stream event (openai_responses_handlers.go: responsesStreamErrorText,
 * applied by sanitizeResponses{Initial,Stream}ErrorMessage): JSON keeps only the error's type,
 * code, message and param — so a cooldown's reset_seconds, reset_time, model and provider are
 * gone — and plain text stays as it is. Non-streamed requests get the text unchanged.
 */
export function responsesStreamText(e: ErrorText): ErrorText {
  const text = e.text.trim() || (STATUS_TEXT[e.status] ?? "");
  const parsed = parseJson(text);
  if (!parsed) return { ...e, text };
  const root = parsed.value;
  const pick = (from: Record<string, unknown>, fields: string[]) => {
    const out: Record<string, string> = {};
    for (const f of fields) if (from[f] !== undefined && from[f] !== null) out[f] = gjsonString(from[f]);
    return out;
  };
  if (isObject(root)) {
    const inner = isObject(root.error) ? root.error : isObject(root.response) && isObject(root.response.error) ? root.response.error : undefined;
    const error = inner && pick(inner, ["type", "code", "message", "param"]);
    if (error && Object.keys(error).length) return { ...e, text: JSON.stringify({ error }) };
    const top = pick(root, ["code", "message", "param"]);
    if (Object.keys(top).length) return { ...e, text: JSON.stringify({ type: "error", ...top }) };
  }
  return { ...e, text: STATUS_TEXT[e.status] ?? "" };
}

/** code and message of a Responses error chunk (BuildOpenAIResponsesStreamErrorChunk). */
function responsesCodeAndMessage(e: ErrorText): { code: string; message: string } {
  let code = responsesCode(e.status);
  let message = e.text.trim() || (STATUS_TEXT[e.status] ?? "");
  const payload = parseJsonObject(e.text);
  const take = (o: Record<string, any>) => {
    if (typeof o.message === "string" && o.message.trim()) message = o.message.trim();
    if (o.code !== undefined && o.code !== null) code = (typeof o.code === "string" ? o.code : String(o.code)).trim() || code;
  };
  if (payload?.type === "error") take(payload);
  if (payload?.error && typeof payload.error === "object") take(payload.error);
  return { code, message };
}

/**
 * The Responses handler's in-stream `error` chunk. Its sequence_number is always 0: CLIProxyAPI
 * builds it with 0 whatever the stream had reached (forwardResponsesStream's writeTerminalError).
 */
export function responsesStreamError(e: ErrorText): string {
  const s = responsesStreamText(e);
  return JSON.stringify({ type: "error", ...responsesCodeAndMessage(s), sequence_number: 0 });
}

/**
 * The in-stream error chunk an official Codex client gets instead (BuildOpenAIResponsesStreamFailedChunk):
 * `response.failed` whose response.error is the error object of the text, else {type, code,
 * message}; Go marshals that map with its keys sorted.
 */
export function responsesFailedChunk(e: ErrorText): string {
  const s = responsesStreamText(e);
  const { code, message } = responsesCodeAndMessage(s);
  const payload = parseJsonObject(s.text);
  const fromText = payload?.error && typeof payload.error === "object" ? payload.error : payload?.response?.error;
  const detail: Record<string, unknown> =
    fromText && typeof fromText === "object" ? fromText : { type: e.status >= 500 ? "server_error" : "invalid_request_error", code, message };
  const sorted = Object.fromEntries(Object.keys(detail).sort().map((k) => [k, detail[k]]));
  return JSON.stringify({ type: "response.failed", sequence_number: 0, response: { status: "failed", error: sorted } });
}

/** Status response for an error, optionally gzip-compressed (a fault some upstreams produce). */
export function errorResponse(status: number, body: string, opts: { gzip?: boolean; retryAfterS?: number } = {}): Response {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (opts.retryAfterS !== undefined) headers["retry-after"] = String(opts.retryAfterS);
  if (!opts.gzip) return new Response(body, { status, headers });
  headers["content-encoding"] = "gzip";
  return new Response(Bun.gzipSync(Buffer.from(body)), { status, headers });
}
