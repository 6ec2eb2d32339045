// A rejected thinking signature gets one more go where its provider family lives (session.ts
// signatureFallbackRoute): once per request, before any byte (pipeline.ts) or after keep-alive
// spaces (spaced-answer.ts), with the same route and the same record. Only an answer there
// replaces the 400: when that go fails too (the family's route is down: its instance dead, as the
// one that signed may be), the client gets the rejected signature, which it can heal — Claude
// Code strips its thinking blocks and sends again — not a 502 it would retry for minutes.

import type { Config, Route } from "../config/types.ts";
import { type AttemptDeps, attemptLoop } from "./attempt.ts";
import { type AttemptRun, discard, runAttempts, type Tried } from "./failover.ts";
import type { RecordBuilder } from "./record-builder.ts";
import type { RequestFacts } from "./request-state.ts";
import { signatureFallbackRoute } from "./session.ts";

/** The route `final`, a rejected signature, goes on to; undefined when it is none, there is none, or the request had its fallback. */
export function signatureFallback(final: Tried | undefined, facts: RequestFacts, config: Config, record: RecordBuilder): Route | undefined {
  if (final?.classified?.class !== "signature" || !facts.route || record.signatureFallback !== undefined) return undefined;
  return signatureFallbackRoute(config, facts.sig.prefix, facts.route.name);
}

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
