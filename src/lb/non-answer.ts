// Statuses below 400 that are no answer gw may deliver. gw follows no redirect (forward.ts:
// `redirect: "manual"`), and passed on, one sent the client's SDK (curl -L, @google/genai) to the
// Location it named with the client's gw key and its prompt. A model call has no 3xx answer at
// all. Each is judged an answer that broke before any byte went out (judge.ts): it fails over,
// and the last target's gives the client gw's own 502 — the upstream's Location and body never go out.

import { isModelCall } from "./paths.ts";

/** What a request's answers below 400 may be: a model call's must be an answer; any other passes but a redirect. */
export type AnswerRule = "model" | "other";

export function answerRule(method: string, path: string): AnswerRule {
  return method === "POST" && isModelCall(path) ? "model" : "other";
}

/** Why a status below 400 with these headers is no answer to deliver, or undefined when it may be one. */
export function noAnswer(status: number, headers: Headers, rule: AnswerRule): string | undefined {
  if (status < 300) return undefined;
  if (headers.has("location")) return `answered ${status}, a redirect elsewhere: gw follows none and passes none on (the client would take its key and prompt there)`;
  return rule === "model" ? `answered ${status}, which is no answer to a model call` : undefined;
}
