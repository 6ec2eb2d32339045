// The three API dialects gw's clients speak, and the one place that shapes gw's own errors in
// each of them: a JSON error response before any byte was sent, or an SSE error event after.

import { NEVER_A_DOCUMENT } from "./headers.ts";

export type Dialect = "anthropic" | "openai" | "gemini";
/** A stream's dialect: an OpenAI Responses stream has an error event of its own shape. */
export type StreamDialect = Dialect | "responses";

/** A Gemini model call under any API version (`/v1/models/gemini-3-flash:countTokens`). */
const GEMINI_CALL = /^\/v1[a-z0-9]*\/models\/[^/]+:[A-Za-z]+$|:generateContent|:streamGenerateContent/;

/**
 * Dialect of a request, from its (already folded) path. Paths no dialect owns answer in
 * Anthropic's shape when the client sent `anthropic-version`, else OpenAI's (the common default).
 */
export function dialectOf(path: string, headers: Headers): Dialect {
  if (path.startsWith("/v1/messages")) return "anthropic";
  if (path.startsWith("/v1beta/") || GEMINI_CALL.test(path)) return "gemini";
  if (path.startsWith("/v1/")) {
    // Google's SDKs list and get models under /v1 by default, as OpenAI's do: only their key
    // header tells them apart (models.ts answers them in Google's shape by the same rule).
    if (isModelPath(path) && headers.has("x-goog-api-key")) return "gemini";
    return headers.has("anthropic-version") ? "anthropic" : "openai";
  }
  return headers.has("anthropic-version") ? "anthropic" : headers.has("x-goog-api-key") ? "gemini" : "openai";
}

const isModelPath = (path: string) => path === "/v1/models" || path.startsWith("/v1/models/");

const ANTHROPIC_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  405: "invalid_request_error",
  413: "request_too_large",
  415: "invalid_request_error",
  429: "rate_limit_error",
  504: "timeout_error",
  529: "overloaded_error",
};

const OPENAI_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  405: "invalid_request_error",
  413: "invalid_request_error",
  415: "invalid_request_error",
  429: "rate_limit_error",
};

const GEMINI_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  405: "INVALID_ARGUMENT",
  408: "DEADLINE_EXCEEDED",
  413: "INVALID_ARGUMENT",
  415: "INVALID_ARGUMENT",
  429: "RESOURCE_EXHAUSTED",
  501: "UNIMPLEMENTED",
  502: "UNAVAILABLE",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/** Short machine code for OpenAI's `code` field. */
export type GwErrorCode =
  | "invalid_json"
  | "invalid_request"
  | "body_too_large"
  | "unsupported_media_type"
  | "invalid_api_key"
  | "missing_api_key"
  | "forbidden_path"
  | "not_found"
  | "method_not_allowed"
  | "model_not_found"
  | "forbidden_host"
  | "forbidden_origin"
  | "upstream_unreachable"
  | "upstream_timeout"
  | "upstream_stream_broken"
  | "upstream_error_unreadable"
  | "gw_stopping"
  | "no_instance"
  | "busy"
  | "internal_error";

/** The error object in the client's dialect (what goes into a JSON body or an SSE `data:`). */
function errorPayload(dialect: Dialect, status: number, message: string, code: GwErrorCode): object {
  switch (dialect) {
    case "anthropic":
      return { type: "error", error: { type: ANTHROPIC_TYPES[status] ?? "api_error", message } };
    case "gemini":
      return { error: { code: status, message, status: GEMINI_STATUS[status] ?? "INTERNAL" } };
    case "openai":
      return { error: { message, type: OPENAI_TYPES[status] ?? "server_error", code } };
  }
}

const JSON_HEADERS = { "content-type": "application/json", ...NEVER_A_DOCUMENT };

/** A response gw makes whole, as its parts: what its body is is known before it goes out (its size: deliver.ts). */
export interface Reply {
  readonly status: number;
  readonly body: string | Uint8Array<ArrayBuffer> | null;
  readonly headers?: Record<string, string>;
}

/** gw's own error in the client's dialect, as the parts of its response: status, JSON body, headers. */
export function errorReply(dialect: Dialect, status: number, message: string, code: GwErrorCode, headers?: Record<string, string>): Reply & { readonly body: string } {
  const body = JSON.stringify(errorPayload(dialect, status, message, code));
  return { status, body, headers: headers ? { ...JSON_HEADERS, ...headers } : JSON_HEADERS };
}

/** gw's own error as an HTTP response in the client's dialect. */
export function errorResponse(
  dialect: Dialect,
  status: number,
  message: string,
  code: GwErrorCode,
  headers?: Record<string, string>,
): Response {
  const r = errorReply(dialect, status, message, code, headers);
  return new Response(r.body, r);
}

/**
 * An SSE event that ends a stream which broke after bytes reached the client, so the client sees
 * an error instead of a clean but truncated close. Anthropic names the event; OpenAI and Gemini
 * clients read errors from a bare `data:` line; a Responses stream's clients (Codex, the SDKs'
 * typed events) read every event by its `type`, and its error event has one, with the code and
 * message beside it. The leading blank line ends any partial event.
 */
export function sseErrorEvent(dialect: StreamDialect, status: number, message: string, code: GwErrorCode): string {
  if (dialect === "responses") return `\n\nevent: error\ndata: ${JSON.stringify({ type: "error", code, message, param: null })}\n\n`;
  const data = JSON.stringify(errorPayload(dialect, status, message, code));
  return dialect === "anthropic" ? `\n\nevent: error\ndata: ${data}\n\n` : `\n\ndata: ${data}\n\n`;
}
