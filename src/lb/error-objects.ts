// The error objects an upstream answers with, in a body, a stream's event or a 200's JSON: the
// error inside one, the HTTP status it stands for by the names each API gives its errors, and
// whether a whole JSON answer is nothing but one.

import { isObject, parseObject } from "../json/object.ts";

/**
 * The HTTP status an in-stream error stands for: a numeric code (Google's shape), else its code or
 * type by the names each API gives its statuses; an unnamed error counts as a server error. The
 * code is asked first: where both are named, the type is the coarser one — CLIProxyAPI's
 * response.failed for Codex clients types every 4xx invalid_request_error (a revoked credential:
 * code invalid_api_key), as its common body does a 404 (code model_not_found).
 */
export function errorStatus(o: Record<string, unknown> | undefined): number {
  const inner = innerError(o);
  for (const v of [inner?.code, inner?.status]) {
    if (typeof v === "number" && v >= 400 && v < 600) return v;
  }
  for (const v of [inner?.code, inner?.type, inner?.status, o?.code]) {
    const s = typeof v === "string" ? ERROR_STATUS[v.toLowerCase()] : undefined;
    if (s) return s;
  }
  return 500;
}

/** The error inside a body or event: its `error` (Anthropic, OpenAI, Google), a Responses event's `response.error`, else the object itself. */
export function innerError(o: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  return (o?.error ?? (o?.response as Record<string, unknown> | undefined)?.error ?? o) as Record<string, unknown> | undefined;
}

/**
 * The error a whole JSON answer is: an object whose `error` is an object, with no content beside it
 * (`{"error":null,"choices":…}` is an answer). One test for a sized answer (judge.ts) and one
 * without a length found out after its 200 went out (whole-errors.ts), so both judge alike.
 */
export function errorAnswerObject(text: string): Record<string, unknown> | undefined {
  const o = parseObject(text.trimStart());
  if (!o || !isObject(o.error)) return undefined;
  return o.choices || o.candidates || o.content ? undefined : o;
}

/** Error names of the Anthropic, OpenAI, Responses and Google APIs (and CLIProxyAPI's codes). */
const ERROR_STATUS: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  invalid_argument: 400,
  authentication_error: 401,
  invalid_api_key: 401,
  unauthenticated: 401,
  billing_error: 402,
  permission_error: 403,
  permission_denied: 403,
  insufficient_quota: 403,
  not_found_error: 404,
  model_not_found: 404,
  not_found: 404,
  request_timeout: 408,
  request_too_large: 413,
  // OpenAI's code for a prompt over the model's window, alone in a Responses stream's error event
  // (CLIProxyAPI keeps code and message) and Codex's response.failed: the 400 it stands for.
  context_length_exceeded: 400,
  rate_limit_error: 429,
  rate_limit_exceeded: 429,
  model_cooldown: 429,
  resource_exhausted: 429,
  api_error: 500,
  server_error: 500,
  internal_server_error: 500,
  internal: 500,
  unavailable: 503,
  server_is_overloaded: 503,
  timeout_error: 504,
  deadline_exceeded: 504,
  overloaded_error: 529,
};
