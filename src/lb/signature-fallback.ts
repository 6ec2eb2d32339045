// A rejected thinking signature gets one more go where its provider family lives: once per
// request, before any byte (pipeline.ts) or after keep-alive spaces (spaced-answer.ts), with the
// same record, on a route of the family that can answer (fallback-choice.ts; this file reads what
// it is judged by). Only an answer there replaces the 400: when that go fails too, or no route of
// the family can answer (every target cooling, its instance down — as the one that signed may
// be), the client gets the rejected signature, which it can heal — Claude Code strips its
// thinking blocks and sends again — not a 502 it would retry for minutes. A signed request whose
// route was out, its last resort failed too, goes the same way: its family's routes may answer
// where the route could only give gw's 503 (its failed go keeps that 503).

import type { Route } from "../config/types.ts";
import { type AttemptDeps, attemptLoop, lastResortFailed } from "./attempt.ts";
import { type AttemptRun, discard, runAttempts, type Tried } from "./failover.ts";
import { chooseFallback } from "./fallback-choice.ts";
import type { RecordBuilder } from "./record-builder.ts";
import { familyRoutes } from "./session.ts";

/**
 * The route `final`, a rejected signature, goes on to; undefined when it is none, the request had
 * its fallback, its family has no route — or none that can answer (its cooldowns, the instances
 * on their way back, and its dead ends: dead-ends.ts): then the record says so and the 400 is
 * delivered at once.
 */
export function signatureFallback(final: Tried | undefined, d: AttemptDeps): Route | undefined {
  const { facts, record } = d;
  if (!final || !wantsFamily(final, facts.sig.signed) || !facts.route || record.signatureFallback !== undefined) return undefined;
  const choice = chooseFallback(familyRoutes(d.rt.config, facts.sig.prefix, facts.route.name), { now: Date.now(), state: d.state, resting: d.load?.resting, deadEnds: d.deadEnds });
  if (!choice) return undefined;
  if (choice.answers) return choice.route;
  record.fallbackSkipped(choice.route);
  return undefined;
}

/**
 * A rejected signature; or a signed request whose route was out and whose last resort failed too
 * (every target cooling, some perhaps for this very signature: attempt.ts lastResortFailed) — the
 * family's routes may still answer it, where the route could only give gw's 503.
 */
const wantsFamily = (final: Tried, signed: boolean): boolean => final.classified?.class === "signature" || (signed && lastResortFailed(final));

/** The attempts on `route`, numbered on from `attemptsBefore`; the record names it the route that served. */
export function fallBack(deps: AttemptDeps, route: Route, attemptsBefore: number, afterSpaces: boolean): Promise<AttemptRun> {
  deps.record.fellBackTo(route);
  return runAttempts(attemptLoop(deps, route), attemptsBefore, afterSpaces);
}

/** Does the fallback's run answer (then it is delivered)? Its failure is let go: the 400 it followed is delivered instead, and recorded so. */
export function fallbackAnswers(second: AttemptRun, record: RecordBuilder): second is AttemptRun & { readonly final: Tried } {
  const t = second.final;
  if (t?.classified?.class === "ok") return true;
  if (t) discard(t);
  record.fallbackFailed();
  return false;
}
