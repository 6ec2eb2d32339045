// A rejected thinking signature gets one more go where its provider family lives (session.ts
// signatureFallbackRoute): once per request, before any byte (pipeline.ts) or after keep-alive
// spaces (spaced-answer.ts), with the same route and the same record.

import type { Config, Route } from "../config/types.ts";
import { type AttemptDeps, attemptLoop } from "./attempt.ts";
import { type AttemptRun, runAttempts, type Tried } from "./failover.ts";
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
