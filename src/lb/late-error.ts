// An error object in a 200 whose headers had already gone out: a JSON body without a length is
// held until its first value (json-opening.ts) unless keep-alive newlines come first (CLIProxyAPI's
// non-streamed keep-alive, then `{"error":…}`: spaced-answer.ts, which fails over while only spaces
// went out) or 64 KiB pass without a decision; then it is handed on as it arrives, so its 200
// cannot change by the time the body turns out to be an error (whole-errors.ts masks it). What
// gw does know it says: the error is judged as the same object at
// the head of a sized body is (judge.ts errorAnswer) — its status and class in the request log,
// the metrics and `gw status`, and its target cooled as for that error. So is an answer that
// broke after its first content (judgeBreak): an error event in a stream, a reset, silence.

import type { CooldownsMs, Route } from "../config/types.ts";
import { failedAnswer, failedAttempt } from "../observe/record.ts";
import type { StateStore } from "../state/index.ts";
import { classifyOutcome, failureOutcome, type Outcome as Classified } from "./classify.ts";
import type { Attempt } from "./failover.ts";
import { parseObject } from "../json/object.ts";
import { errorStatus } from "./error-objects.ts";
import type { Prober } from "./probe.ts";
import type { RecordBuilder } from "./record-builder.ts";
import { recordVerdict, type RequestFacts } from "./request-state.ts";
import type { StatsCounter } from "./stats.ts";
import type { RelayEnd } from "./stream.ts";

export interface LateFacts {
  readonly state: StateStore;
  readonly probes: Prober;
  readonly stats: StatsCounter;
  readonly record: RecordBuilder;
  readonly facts: RequestFacts;
  readonly route: Route | undefined;
  readonly cooldowns: CooldownsMs;
  readonly mask: (s: string) => string;
}

/** Judge the error object `text` the final attempt's 200 turned out to be; returns its classification. */
export function judgeLateError(text: string, attempt: Attempt, f: LateFacts): Classified {
  const c = classifyError(text, "error object in a 200 answer whose headers had gone out", f);
  // Counted as a success when its headers went out: an error after all.
  lateVerdict(c, attempt, f, failedAnswer(c.status, false));
  return c;
}

/** The error object `text` found in an answer whose headers had gone out, classified as at the head of a sized one; `where` opens its reason. */
export function classifyError(text: string, where: string, f: Pick<LateFacts, "facts" | "cooldowns" | "mask">): Classified {
  const judged = classifyOutcome({ status: errorStatus(parseObject(text.trimStart())), bodyText: text, signed: f.facts.sig.signed, mask: f.mask }, f.cooldowns);
  return { ...judged, reason: `${where}: ${judged.reason}` };
}

/** How an answer broke after its first content reached the client: an upstream error in it, or its end (stream.ts). */
export type Break = { readonly error: string; readonly where: string } | { readonly end: RelayEnd };

/**
 * An answer that broke after content cannot fail over, but its target failed as surely as before
 * content: judged here as the same failure before content is (judge.ts) — an error event or
 * object by the status it stands for, gw's idle timeout as a first-byte timeout, a reset or a
 * close before the answer's end as a connection error — so its target cools, its record and its
 * instance's counts say so. `requestFailed`: the request was counted as a success at its headers.
 */
export function judgeBreak(b: Break, attempt: Attempt, f: LateFacts, requestFailed: boolean): void {
  lateVerdict(classifyBreak(b, f), attempt, f, requestFailed);
}

/** What a break after content says of the target (pure). */
export function classifyBreak(b: Break, f: Pick<LateFacts, "facts" | "cooldowns" | "mask">): Classified {
  if ("error" in b) return classifyError(b.error, b.where, f);
  return failureOutcome(b.end.silent ? "timeout" : "connection", `after content: ${b.end.why ?? "the answer broke"}`, f.cooldowns, f.mask);
}

/**
 * The attempt's verdict `c`, found after it was recorded as a success: its target cooled, its
 * record and its instance's counts corrected — and the request's, when `requestFailed` (a
 * failover after keep-alive spaces, spaced-answer.ts, may still answer it).
 */
export function lateVerdict(c: Classified, attempt: Attempt, f: LateFacts, requestFailed: boolean): void {
  const now = Date.now();
  const { route } = f;
  const target = attempt.target;
  const cd = route && target ? recordVerdict(f.state, f.facts, c, { route, target: target.id, now })?.cooled : undefined;
  if (cd) f.probes.cooling(cd.route, cd.target, attempt.instance.name, now + cd.ms, cd);
  f.stats.failedLate(attempt.instance.name, requestFailed, failedAttempt(c.class));
  f.record.judgedLate(c, cd);
}
