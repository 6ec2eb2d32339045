// Statuses below 400 that are no answer gw may deliver. gw follows no redirect (forward.ts:
// `redirect: "manual"`), and passed on, one sent the client's SDK (curl -L, @google/genai) to the
// Location it named with the client's gw key and its prompt. A model call has no 3xx answer at
// all, and its 2xx is JSON or an event stream with a body: a captive portal's HTML page, a body
// without a Content-Type, a 204 — the SDKs resolved them as answers (the page as the text, a
// 204 as null). Each is judged an answer that broke before any byte went out (judge.ts): it
// fails over, and the last target's gives the client gw's own 502 — the upstream's Location and
// body never go out.

import { isModelCall } from "./paths.ts";

/**
 * What a request's answers below 400 may be: a model call's must be an answer (JSON or an event
 * stream; for `model-text`, also text/plain); any other request's passes unless it is a redirect.
 */
export type AnswerRule = "model" | "model-text" | "other";

export function answerRule(method: string, path: string, search: string): AnswerRule {
  if (method !== "POST" || !isModelCall(path)) return "other";
  return path.endsWith(":streamGenerateContent") && plainStream(search) ? "model-text" : "model";
}

/** Why a status below 400 with these headers is no answer to deliver, or undefined when it may be one. */
export function noAnswer(status: number, headers: Headers, rule: AnswerRule): string | undefined {
  if (status >= 300) {
    if (headers.has("location")) return `answered ${status}, a redirect elsewhere: gw follows none and passes none on (the client would take its key and prompt there)`;
    return rule === "other" ? undefined : `answered ${status}, which is no answer to a model call`;
  }
  if (rule === "other") return undefined;
  // An empty body with a length is judged as read (judge.ts judgeWhole, judgeStream), a 204's or 205's is never there.
  if (status === 204 || status === 205) return `answered ${status} with no body`;
  const type = headers.get("content-type")?.toLowerCase();
  if (type === undefined) return `answered ${status} with no Content-Type, which is no answer to a model call`;
  // The types judge.ts reads as JSON (isJson: application/json, Gemini's array stream, NDJSON) and as an event stream.
  if (type.includes("json") || type.includes("text/event-stream")) return undefined;
  if (rule === "model-text" && type.startsWith("text/plain")) return undefined;
  return `answered ${status} with Content-Type ${type.slice(0, 80)}, neither JSON nor an event stream: no answer to a model call`;
}

// --- internal ---

/**
 * A Gemini stream asked for without SSE (`alt=json`): CLIProxyAPI writes its chunks with no
 * Content-Type of its own (gemini_handlers.go sets text/event-stream only for SSE), so Go's
 * server labels the JSON it sniffs text/plain.
 */
function plainStream(search: string): boolean {
  if (search === "") return false;
  const q = new URLSearchParams(search);
  const alt = q.get("alt") ?? q.get("$alt");
  return alt !== null && alt !== "sse";
}
