// What an attempt's outcome means, read as far as gw must to know (attempt.ts sends, then asks
// here): a failure's class; an error body read and classified; a 2xx read whole when sized, up to
// its first content event when an event stream (first-event.ts), up to its first value when JSON
// without a length (json-opening.ts) — an error object or event found there judged as the status
// it stands for, so the request may still fail over while no byte has reached the client.

import type { CooldownsMs } from "../config/types.ts";
import { classifyOutcome, failureOutcome, type Outcome as Classified } from "./classify.ts";
import type { Tried } from "./failover.ts";
import type { AttemptControl, Outcome } from "./forward.ts";
import type { BodyHold } from "./body-budget.ts";
import { errorAnswerObject, errorStatus } from "./error-objects.ts";
import { HOLD_MAX_BYTES, holdOpening } from "./first-event.ts";
import { isEventStream, isJson, readWhole } from "./stream.ts";
import { ErrorOpening, holdJsonOpening, isJsonSpace, readOn } from "./json-opening.ts";
import { answerError, endsInsideValue, errorAfterContent } from "./whole-errors.ts";
import { codingsOf, decodedWhole, decodingStream, isKnownCoding } from "./encoding.ts";
import { codedAnswerError, type ErrorBody, readErrorBody } from "./error-body.ts";
import type { PieceMask } from "../observe/mask-pieces.ts";
import { type Usage, usageFromSse } from "../observe/tokens.ts";
import { type AnswerRule, noAnswer } from "./non-answer.ts";

/** Error bodies are short; one that is not is cut here (its head is enough to classify). */
const ERROR_BODY_MAX_BYTES = 1 << 20;
/** Largest sized answer taken whole instead of relayed (see judge). */
const WHOLE_BODY_MAX = 1 << 20;

interface JudgeFacts {
  /** The request carries signed thinking (a 400 "signature" is then its own class). */
  readonly signed: boolean;
  readonly cooldowns: CooldownsMs;
  /** The attempt's control: whether its deadline passed or its client left while it was read. */
  readonly ctl: AttemptControl;
  /** Masks secrets in reasons (an upstream may echo a key in its error text). */
  readonly mask: (s: string) => string;
  /** The same masker for text cut short (an error body read only in part: error-body.ts). */
  readonly maskPieces: () => PieceMask;
  /** A POST (a model call: its 200 always has a body). */
  readonly post: boolean;
  /** Its body is to follow an earlier attempt's keep-alive spaces (failover.ts Attempt.afterSpaces). */
  readonly afterSpaces: boolean;
  /** The request's share of the body budget (AttemptDeps.memory). */
  readonly memory?: BodyHold;
  /** lb_idle_timeout_ms: the silence a held opening may keep once a tool call began in it. */
  readonly idleMs: number;
  /** What its answers below 400 may be (non-answer.ts). */
  readonly answers: AnswerRule;
}

/**
 * What an outcome means. Error bodies (status ≥ 400) are read here — they are small, and the
 * class depends on their text — and kept as bytes to deliver unchanged if this attempt is final
 * and they were decoded strictly whole (else read as far as they go: error-body.ts).
 * A sized answer that is not an event stream was complete when its headers left the upstream, so
 * it is read whole too: one native read instead of a per-chunk relay, and a body that breaks
 * before its end is still a failure gw can fail over from (no byte has reached the client). An
 * event stream is read up to its first content event (first-event.ts): an error event before it
 * is judged like an error status; a JSON answer without a length up to its first value
 * (json-opening.ts): an error object first is read whole and judged as a sized one. Both are
 * decoded first (decodedStream). All of it within the attempt's first-byte deadline. Other
 * answers without a length stream as they come.
 */
export async function judge(o: Outcome, f: JudgeFacts): Promise<Tried> {
  const { cooldowns, mask } = f;
  if (o.kind === "failed") {
    if (o.reason === "aborted") return { outcome: o, classified: undefined };
    return { outcome: o, classified: failureOutcome(o.reason === "timeout" ? "timeout" : "connection", o.message, cooldowns, mask) };
  }
  if (o.status < 400) {
    const no = noAnswer(o.status, o.headers, f.answers);
    if (no !== undefined) {
      o.body?.cancel().catch(() => {});
      // A 3xx answers the request's path or headers (gin redirects a trailing slash; a 304 a
      // conditional request), not the target's health: it fails over, but cools nothing — one
      // client's typo would otherwise keep every target of its route out for a minute.
      return brokenAttempt(o, no, f, o.status < 300);
    }
    if (f.afterSpaces && !followsSpaces(o.headers)) return cannotFollowSpaces(o, f);
    const ok = classifyOutcome({ status: o.status }, cooldowns);
    const length = Number(o.headers.get("content-length") ?? Number.NaN);
    if (length <= WHOLE_BODY_MAX && !isEventStream(o.headers)) {
      const { bytes, complete } = await o.whole();
      return judgeWhole(o, bytes, complete, ok, f);
    }
    const body = o.body;
    const sse = isEventStream(o.headers);
    if (!body || !(sse || isJson(o.headers))) return { outcome: o, classified: ok };
    const plain = decodedStream(o, body);
    if (!plain) return { outcome: o, classified: ok };
    return sse ? judgeStream(plain.outcome, plain.body, ok, f) : judgeUnsized(plain.outcome, plain.body, ok, f);
  }
  const { bytes, complete } = o.body ? await readWhole(o.body, ERROR_BODY_MAX_BYTES) : { bytes: new Uint8Array(0), complete: true };
  const read = await readErrorBody(bytes, complete, o.headers.get("content-encoding"), f.maskPieces);
  const classified: Classified = classifyOutcome({ status: o.status, headers: o.headers, bodyText: read.text, signed: f.signed, mask }, cooldowns);
  return { outcome: o, classified, body: bytes, errorText: read.errorText, errorRead: read.read };
}

/** A whole 2xx answer (sized, or read on from a held opening): broken, empty, an error object, or the answer. */
function judgeWhole(o: Answered, bytes: Uint8Array<ArrayBuffer>, complete: boolean, ok: Classified, f: JudgeFacts): Tried | Promise<Tried> {
  if (!complete) return stopped(o, f) ?? brokenAttempt(o, "answer broke before its end", f);
  // Keep-alive newlines with nothing after them (CLIProxyAPI's, its upstream gone) are no answer either.
  if (((o.status === 200 && f.post) || f.answers !== "other") && isBlank(bytes)) return brokenAttempt(o, `answered ${o.status} with an empty body`, f);
  // Read decoded once: judged here, its usage read when it is delivered (deliver.ts).
  const plain = decodedWhole(bytes, o.headers.get("content-encoding"), WHOLE_BODY_MAX);
  if (!plain) return undecodedAnswer(o, bytes, ok, f);
  return errorAnswer(o, bytes, plain, f) ?? { outcome: o, classified: ok, body: bytes, ...(plain === bytes ? {} : { plain }) };
}

/**
 * A compressed 2xx gw cannot decode strictly within WHOLE_BODY_MAX (larger decoded, its data cut
 * or followed by other bytes), read as far as it goes: one that opens as an error object is that
 * error, however large or broken — an answer that opens so is no answer, and may fail over. One
 * that does not is delivered as it came (as an answer's content, it is not masked).
 */
async function undecodedAnswer(o: Answered, bytes: Uint8Array<ArrayBuffer>, ok: Classified, f: JudgeFacts): Promise<Tried> {
  const error = await codedAnswerError(bytes, o.headers.get("content-encoding"), f.maskPieces);
  return error ? answeredError(o, bytes, error, false, f) : { outcome: o, classified: ok, body: bytes };
}

/** Nothing but JSON spaces (or nothing). */
function isBlank(bytes: Uint8Array): boolean {
  for (const b of bytes) if (!isJsonSpace(b)) return false;
  return true;
}

/**
 * A 2xx JSON answer without a length: held until its first value (json-opening.ts). One that opens
 * as an error object, or ends before a value, is read whole and judged as a sized answer is —
 * and, having no length to be complete by, broken when it ends inside its JSON (closed cleanly
 * in the middle of it): no byte has reached the client, so the request fails over. One handed on
 * is judged so at its end (deliver.ts).
 */
async function judgeUnsized(o: Answered, body: ReadableStream<Uint8Array>, ok: Classified, f: JudgeFacts): Promise<Tried> {
  const opening = await holdJsonOpening(body);
  if (opening.kind === "broke") return stopped(o, f, " (no JSON value yet)") ?? brokenAttempt(o, opening.message, f);
  if (opening.kind === "deliver") return { outcome: o, classified: ok, held: opening.source };
  if (opening.kind === "spaced") return { outcome: o, classified: ok, held: opening.source, spaced: true };
  const whole = await readOn(opening.source, WHOLE_BODY_MAX);
  // Larger than any error (an answer with an "error" warning first): relayed, whole-errors.ts masking it.
  if ("source" in whole) return { outcome: o, classified: ok, held: whole.source };
  if (whole.complete && endsInsideValue(whole.bytes)) return brokenAttempt(o, "answer ended inside its JSON", f);
  return judgeWhole(o, whole.bytes, whole.complete, ok, f);
}

/** A 2xx event stream: held until its first content event, or judged by the error event before it. */
async function judgeStream(o: Outcome & { kind: "response" }, body: ReadableStream<Uint8Array>, ok: Classified, f: JudgeFacts): Promise<Tried> {
  const opening = await holdOpening(body, HOLD_MAX_BYTES, f.memory, () => f.ctl.toolCallBegan(f.idleMs));
  switch (opening.kind) {
    case "deliver":
      return { outcome: o, classified: ok, held: opening.source };
    case "empty":
      // Ended with no content event (nothing, a handshake, [DONE] alone): an empty answer is no answer.
      opening.source.reader.cancel().catch(() => {});
      return billed(brokenAttempt(o, "stream ended before any content", f), opening.source.head);
    case "error": {
      const c = classifyOutcome({ status: opening.status, bodyText: opening.text, signed: f.signed, mask: f.mask }, f.cooldowns);
      const classified = { ...c, reason: `error event in a ${o.status} stream: ${c.reason}` };
      return billed({ outcome: o, classified, held: opening.source, errorText: `error event in a ${o.status} stream: ${opening.text}` }, opening.source.head);
    }
    case "broke":
      return billed(stopped(o, f, " (no content event yet)") ?? brokenAttempt(o, opening.message, f), opening.head);
  }
}

/**
 * An attempt dropped at its stream's opening, with the usage the opening reported: the upstream
 * bills the prompt once it has begun (Anthropic's message_start carries the input and cache counts;
 * so may a Responses handshake or an OpenAI or Gemini chunk), whether or not an answer follows or
 * its client is still there. Its output count is left out: before any content it is a placeholder
 * (message_start's 1), no count of anything generated. Read here, on the failure path only: a
 * delivered stream's usage is read as it passes (deliver.ts).
 */
function billed(t: Tried, head: readonly Uint8Array[]): Tried {
  const usage = openingUsage(head);
  return usage ? { ...t, usage } : t;
}

function openingUsage(head: readonly Uint8Array[]): Usage | undefined {
  const watcher = usageFromSse();
  for (const chunk of head) watcher.push(chunk);
  const { output: _placeholder, ...prompt } = watcher.usage() ?? {};
  return Object.keys(prompt).length > 0 ? prompt : undefined;
}

/**
 * An event stream, or a JSON answer without a length, as gw must read it (its opening, usage,
 * error objects or events): a relay behind a compressing proxy (Caddy's `encode`, nginx
 * `gzip_types`) sends it compressed, and its events would never be found — the opening held until
 * the first-byte deadline, a healthy target failed over and cooled — nor an error quoting a key
 * masked (whole-errors.ts would scan compressed bytes). It is decoded as it arrives and goes to
 * the client plain. Undefined for a coding gw cannot undo: that body is passed on as it came, unheld.
 */
function decodedStream(o: Answered, body: ReadableStream<Uint8Array>): { outcome: Answered; body: ReadableStream<Uint8Array> } | undefined {
  const codings = codingsOf(o.headers.get("content-encoding"));
  if (codings.length === 0) return { outcome: o, body };
  const decoded = decodingStream(body, codings);
  if (!decoded) return undefined;
  const headers = new Headers(o.headers);
  headers.delete("content-encoding");
  headers.delete("content-length");
  return { outcome: { kind: "response", attempt: o.attempt, status: o.status, headers, body: decoded, whole: () => o.whole() }, body: decoded };
}

type Answered = Outcome & { kind: "response" };

/**
 * A 2xx JSON answer that is nothing but an error object (`{"error":{…}}`: OpenRouter when the
 * provider behind it fails, relays that keep 200 for everything; Gemini's array stream that
 * opens with one, `[{"error":{…}}]`; Anthropic's `{"type":"error","error":{…}}`) is judged as the status its
 * error stands for, as an error event opening a stream is: the request may fail over, and the
 * client, when it is final, gets that status rather than a 200 its SDK reads as an empty answer.
 * So is one whose error object follows content (a later NDJSON value, an element of Gemini's
 * array after its content): relayed as it came, that is a break after content (whole-errors.ts);
 * held whole, no byte of it has reached the client, so it is a failure like any other.
 */
function errorAnswer(o: Answered, bytes: Uint8Array<ArrayBuffer>, plain: Uint8Array, f: JudgeFacts): Tried | undefined {
  // Asked of every sized answer: the opening's few bytes first, the body parsed only when they are an error's.
  const first = new ErrorOpening().push(plain) === true ? answerError(plain) : undefined;
  const later = first === undefined ? errorAfterContent(plain) : undefined;
  const text = first ?? later;
  if (text === undefined) return undefined;
  return answeredError(o, bytes, { text, errorText: text }, later !== undefined, f);
}

/** A 2xx judged as the error object it carries. */
function answeredError(o: Answered, bytes: Uint8Array<ArrayBuffer>, e: ErrorBody, afterContent: boolean, f: JudgeFacts): Tried {
  const c = classifyOutcome({ status: errorStatus(errorAnswerObject(e.text)), bodyText: e.text, signed: f.signed, mask: f.mask }, f.cooldowns);
  const where = afterContent ? "after content " : "";
  return { outcome: o, classified: { ...c, reason: `error object ${where}in a ${o.status} answer: ${c.reason}` }, body: bytes, errorText: e.errorText, errorRead: e.read };
}

/** Whether a 2xx's body can follow keep-alive spaces already sent: no event stream, no coding gw cannot undo (spaced-answer.ts decodes the rest). */
function followsSpaces(headers: Headers): boolean {
  return !isEventStream(headers) && codingsOf(headers.get("content-encoding")).every(isKnownCoding);
}

/**
 * A 2xx whose body cannot follow the keep-alive spaces the client already has: it is no answer to
 * this request, and the next target may have one. Not the target's fault (a fresh request may
 * take it as it is): no cooldown.
 */
function cannotFollowSpaces(o: Answered, f: JudgeFacts): Tried {
  o.body?.cancel().catch(() => {});
  const what = isEventStream(o.headers) ? "an event stream" : `Content-Encoding ${o.headers.get("content-encoding")}`;
  const message = `${o.attempt.instance.name}: answered ${o.status} with ${what}, where a JSON body had begun with keep-alive spaces`;
  const broke: Outcome = { kind: "failed", attempt: o.attempt, reason: "broken", message };
  return { outcome: broke, classified: { class: "transient", status: o.status, cooldownMs: 0, reason: f.mask(message) } };
}

/** The attempt was stopped while its answer was read: the client left (no verdict), or its deadline passed. */
function stopped(o: Outcome, f: JudgeFacts, what = ""): Tried | undefined {
  if (f.ctl.clientGone()) return clientLeft(o);
  if (!f.ctl.timedOut()) return undefined;
  const late = f.ctl.toolWaitMs === undefined ? `no answer within ${f.ctl.timeoutMs} ms` : `a tool call began, then nothing more within ${f.ctl.toolWaitMs} ms`;
  const failed: Outcome = { kind: "failed", attempt: o.attempt, reason: "timeout", message: `${o.attempt.instance.name}: ${late}${what}` };
  return { outcome: failed, classified: failureOutcome("timeout", failed.message, f.cooldowns, f.mask) };
}

/** The client went away while the answer was read: no verdict on the target. */
function clientLeft(o: Outcome): Tried {
  return { outcome: { kind: "failed", attempt: o.attempt, reason: "aborted", message: "client went away" }, classified: undefined };
}

/** A response whose body broke before anything was delivered: a connection failure, retryable (`cools`: with its cooldown). */
function brokenAttempt(o: Outcome, what: string, f: JudgeFacts, cools = true): Tried {
  const broke: Outcome = { kind: "failed", attempt: o.attempt, reason: "broken", message: `${o.attempt.instance.name}: ${what}` };
  const classified = failureOutcome("connection", broke.message, f.cooldowns, f.mask);
  return { outcome: broke, classified: cools ? classified : { ...classified, cooldownMs: 0 } };
}
