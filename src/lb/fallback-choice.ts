// Which of its family's routes a rejected thinking signature goes on to (signature-fallback.ts):
// one that can answer it. The fallback is a single go, and when it fails the client gets the 400
// it followed anyway — so a go on a route that cannot answer only costs time (a wait for a dead
// instance's respawn, seconds) and an attempt. Pure: the caller reads cooldowns and instance
// health; a target's readiness is route.ts's, the rule the attempt loop picks by.

import type { Route } from "../config/types.ts";
import type { StateView } from "../state/types.ts";
import type { DeadEndView } from "./dead-ends.ts";
import { NOTHING_TRIED, type PickContext, readiness } from "./route.ts";

/** What is known, at the moment of the fallback, of whether a target could answer. */
interface Liveness {
  readonly now: number;
  readonly state?: StateView;
  /** Instances draining for a restart or away (restarting, respawning, starting): an attempt waits for them. */
  readonly resting?: { has(instance: string): boolean };
  /** Targets that cannot answer this request (dead-ends.ts): on instances known down — lost (the supervisor's word), their last probe failed, this request could not reach them — or the instance and model that rejected its signature. */
  readonly deadEnds?: DeadEndView;
}

interface FallbackChoice {
  readonly route: Route;
  /** False: no route of the family can answer now, and `route` (the first) is only named in the record. */
  readonly answers: boolean;
}

/**
 * Among `routes` (the family's, in file order: session.ts familyRoutes), the first with a target
 * that can take the request now; else the first whose target is on its way back (a restart, a
 * respawn, a start — what the hold waits for, and the attempt loop also prefers over a cooling
 * target): worth the wait, since a restart is back in seconds and its answer spares the client
 * healing a 400, while an instance this request already waited for in vain counts as down, not
 * back; else the first whose target cools for signed requests only (it rejected a signature —
 * another conversation's, maybe: it verifies those it made, so the attempt loop still tries it,
 * last); else none can answer. A target cooling for every request is out (the attempt would go to
 * it only as the loop's last resort, and fail again), and so is a dead end: one on an instance known down, or the very call that rejected it.
 * Undefined when there are no routes.
 */
export function chooseFallback(routes: readonly Route[], live: Liveness): FallbackChoice | undefined {
  if (routes.length === 0) return undefined;
  // Every request that reaches here carries signed thinking (its signature was rejected).
  const ctx: PickContext = { tried: NOTHING_TRIED, now: live.now, state: live.state, signed: true, draining: live.resting, deadEnds: live.deadEnds };
  // The same target as an unsigned request sees it: a signature cooldown passed over.
  const unsigned: PickContext = { ...ctx, signed: false };
  let back: Route | undefined;
  let lastResort: Route | undefined;
  for (const route of routes) {
    for (const t of route.targets) {
      const r = readiness(route, t, ctx);
      if (r === "now") return { route, answers: true };
      if (r === "back") back ??= route;
      else if (readiness(route, t, unsigned) !== "out") lastResort ??= route;
    }
  }
  const route = back ?? lastResort;
  return route ? { route, answers: true } : { route: routes[0]!, answers: false };
}
