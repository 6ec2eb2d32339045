// Target selection for one attempt: a pure function of (route, tried set, state snapshot, request
// facts). Small policies are asked in order; the first that returns a target wins. Every policy
// decides availability through `isAvailable` only (Caddy's habit), so cooldown semantics live in
// one place (state/types.ts).

import type { Route, Target } from "../config/types.ts";
import { availableAt, type Cooldown, isAvailable, isHalfOpen, keepsOut, type StateView } from "../state/types.ts";
import type { DeadEndView } from "./dead-ends.ts";

export type PickReason =
  /** Signed thinking blocks: the sticky target, even while cooling (only it can verify them). */
  | "signature-lock"
  /** Signed thinking blocks, no usable sticky target: the highest-weight available target. */
  | "signature-weight"
  /** The session's remembered target, not cooling. */
  | "sticky"
  /** Weighted random within the highest priority tier that has an available target. */
  | "weighted"
  /** Only weight-0 targets are available (weight 0 = never picked unless nothing else). */
  | "zero-weight"
  /** Every other target is cooling or tried: one on an instance draining for a restart or on its way back (the attempt waits for it to be back). */
  | "draining"
  /** Everything untried that is no dead end is cooling: the one whose cooldown ends soonest, never a hard 503. */
  | "soonest-cooldown"
  /** Everything untried is a dead end (PickContext.deadEnds): tried anyway, the one back soonest — it may answer after all. */
  | "known-down";

export interface PickContext {
  /** Target ids already attempted for this request. */
  readonly tried: ReadonlySet<string>;
  readonly now: number;
  /** [0,1) source; defaults to Math.random (tests pass a seeded one). */
  readonly random?: () => number;
  /** Cooldowns and sticky map; without it every target counts as healthy and nothing is sticky. */
  readonly state?: StateView;
  /** Sticky key of the request (`session::route`), see lb/session.ts `stickyKey`. */
  readonly sessionKey?: string;
  /** The request carries signed thinking blocks (lb/session.ts `findSignature`). */
  readonly signed?: boolean;
  /** Instances draining before a restart or away (lb/drain.ts): their targets are picked only when nothing else is available. */
  readonly draining?: { has(instance: string): boolean };
  /**
   * Targets known unable to answer this request (dead-ends.ts: on an instance known down, or the
   * instance and model that rejected its signature): out, even for a signature lock, and the
   * soonest-cooldown last resort takes them only when nothing else is left.
   */
  readonly deadEnds?: DeadEndView;
}

interface Pick {
  readonly target: Target;
  readonly reason: PickReason;
  /**
   * The target was half-open (cooldown over, not yet confirmed healthy): this attempt is its one
   * trial. The caller must claim it with `state.claimTrial(route, id, until)` (until its first-byte deadline) before
   * sending it (another replica may hold it: then the caller picks again).
   */
  readonly trial: boolean;
}

/** One selection rule. Returns undefined to let the next policy decide. */
interface Policy {
  readonly name: PickReason;
  pick(pool: readonly Target[], route: Route, ctx: PickContext): Target | undefined;
}

/** The target of the next attempt and why (for `x-gw-route`, the request log, and half-open trials); undefined when every target was tried. */
export function explainPick(route: Route, ctx: PickContext): Pick | undefined {
  const untried = ctx.tried.size === 0 ? route.targets : route.targets.filter((t) => !ctx.tried.has(t.id));
  const pool = ctx.deadEnds?.barred ? withoutBarred(untried, ctx.deadEnds) : untried;
  if (pool.length === 0) return undefined;
  for (const policy of POLICIES) {
    const target = policy.pick(pool, route, ctx);
    if (!target) continue;
    const c = cooldownFor(route, target, ctx);
    return { target, reason: policy.name, trial: isAvailable(c, ctx.now) && isHalfOpen(c, ctx.now) };
  }
  return undefined; // unreachable: knownDown always answers for a non-empty pool
}

/**
 * The sticky part of a pick, for the request log: `hit` reused the session's target, `lock` kept
 * it for signed thinking, `left` had one but went elsewhere (cooling or already tried), `none` had
 * none. (`set` — remembered after a 2xx — is the caller's to note.)
 */
export function stickyAction(ctx: PickContext, pick: Pick | undefined): "hit" | "lock" | "left" | "none" {
  if (pick?.reason === "signature-lock") return "lock";
  const id = stickyId(ctx);
  if (id === undefined) return "none";
  return pick?.target.id === id ? "hit" : "left";
}

const signatureLock = {
  name: "signature-lock",
  pick(pool, _route, ctx) {
    if (!ctx.signed) return undefined;
    const id = stickyId(ctx);
    // Even while cooling (only it can verify), but not where it is known it cannot answer.
    return id === undefined ? undefined : pool.find((t) => t.id === id && !ctx.deadEnds?.has(t));
  },
} satisfies Policy;

const signatureWeight = {
  name: "signature-weight",
  pick(pool, route, ctx) {
    if (!ctx.signed) return undefined;
    return heaviest(pool.filter((t) => available(route, t, ctx)));
  },
} satisfies Policy;

/** The session's target while it serves: not cooling, not draining, not on standby (weight 0 — a reload may put it there; a session leaves it as it leaves a removed target). */
const sticky = {
  name: "sticky",
  pick(pool, route, ctx) {
    const id = stickyId(ctx);
    const t = id === undefined ? undefined : pool.find((x) => x.id === id);
    return t && t.weight > 0 && available(route, t, ctx) ? t : undefined;
  },
} satisfies Policy;

const weighted = {
  name: "weighted",
  pick(pool, route, ctx) {
    const usable: Target[] = [];
    for (const t of pool) if (t.weight > 0 && available(route, t, ctx)) usable.push(t);
    return weightedRandom(highestTier(usable), ctx.random ?? Math.random);
  },
} satisfies Policy;

/** Standby targets, when nothing else serves: the session's own one if it is among them (its prompt cache is there), else the first. */
const zeroWeight = {
  name: "zero-weight",
  pick(pool, route, ctx) {
    const tier = highestTier(pool.filter((t) => available(route, t, ctx)));
    const id = stickyId(ctx);
    return tier.find((t) => t.id === id) ?? tier[0];
  },
} satisfies Policy;

/**
 * A route whose only available targets are on a draining or away instance still picks one: the
 * attempt waits for the instance to be back (lb/hold.ts) — after the restart the drain leads to,
 * a respawn, a start. Started on the draining instance instead, the request would hold the drain
 * up and be cut when its grace period ends (Claude Code sends one request after another).
 */
const draining = {
  name: "draining",
  pick(pool, route, ctx) {
    return heaviest(pool.filter((t) => readiness(route, t, ctx) !== "out"));
  },
} satisfies Policy;

/** Dead ends (PickContext.deadEnds) are left to knownDown: a cooling target may answer, a dead end is not expected to. */
const soonestCooldown = {
  name: "soonest-cooldown",
  pick(pool, route, ctx) {
    return soonest(ctx.deadEnds ? pool.filter((t) => !ctx.deadEnds!.has(t)) : pool, route, ctx);
  },
} satisfies Policy;

/**
 * Only dead ends left: still tried (gw's word may be stale — a probe's, a lost instance's), under
 * a reason of its own, so that its answer reaches the client as any target's would (own-error.ts
 * gives its "every target is out" for a cooling pick's answer, and for this pick only when it
 * refuses the connection, as expected) and the record says why it was picked.
 */
const knownDown = {
  name: "known-down",
  pick: (pool, route, ctx) => soonest(pool, route, ctx),
} satisfies Policy;

/** Order matters: locks before preferences before the fallbacks that never fail. */
const POLICIES: readonly Policy[] = [signatureLock, signatureWeight, sticky, weighted, zeroWeight, draining, soonestCooldown, knownDown];

/**
 * When `t` can take this request, by the rule the policies pick with: `now` (not cooling for it,
 * its instance neither draining nor away), `back` (not cooling, but its instance is on its way
 * back: an attempt waits for it, hold.ts) or `out` (cooling, its one trial in flight, or a dead
 * end for this request). The signature fallback (fallback-choice.ts) judges routes by it too.
 */
export function readiness(route: Route, t: Target, ctx: PickContext): "now" | "back" | "out" {
  if (ctx.deadEnds?.has(t) || !isAvailable(cooldownFor(route, t, ctx), ctx.now)) return "out";
  return ctx.draining?.has(t.instance) ? "back" : "now";
}

/** A context's `tried` before any attempt. */
export const NOTHING_TRIED: ReadonlySet<string> = new Set();

/** Whether any target of `route` can take this request now, or once its instance is back: not all cooling or dead ends. */
export function routeAnswers(route: Route, ctx: PickContext): boolean {
  return route.targets.some((t) => readiness(route, t, ctx) !== "out");
}

// --- internal ---

/** `pool` without the targets nothing may be sent to (dead-ends.ts barred); the same array when there are none. */
function withoutBarred(pool: readonly Target[], view: DeadEndView): readonly Target[] {
  for (const t of pool) if (view.barred?.(t.instance)) return pool.filter((x) => !view.barred?.(x.instance));
  return pool;
}

function stickyId(ctx: PickContext): string | undefined {
  return ctx.sessionKey === undefined ? undefined : ctx.state?.sticky(ctx.sessionKey, ctx.now);
}

/** Not cooling, and not on an instance draining for a restart or away. */
function available(route: Route, t: Target, ctx: PickContext): boolean {
  return readiness(route, t, ctx) === "now";
}

/** The target's cooldown as it stands for this request (state/types.ts keepsOut: a signature cooldown, for signed ones only). */
export function cooldownFor(route: Route, t: Target, ctx: PickContext): Cooldown | undefined {
  const c = ctx.state?.cooldown(route.name, t.id, ctx.now);
  return c && keepsOut(c, ctx.signed) ? c : undefined;
}

/** Targets of the highest priority present in `ts` (file order kept): `ts` itself when all share it, as in most routes. */
function highestTier(ts: readonly Target[]): readonly Target[] {
  let top = Number.NEGATIVE_INFINITY;
  let lower = false;
  for (const t of ts) {
    if (t.priority !== top && top !== Number.NEGATIVE_INFINITY) lower = true;
    if (t.priority > top) top = t.priority;
  }
  return lower ? ts.filter((t) => t.priority === top) : ts;
}

/** The target whose cooldown ends soonest (one not cooling first), the heavier on a tie. */
function soonest(ts: readonly Target[], route: Route, ctx: PickContext): Target | undefined {
  let best: Target | undefined;
  let bestAt = Infinity;
  for (const t of ts) {
    const at = availableAt(cooldownFor(route, t, ctx));
    if (at < bestAt || (at === bestAt && best && t.weight > best.weight)) [best, bestAt] = [t, at];
  }
  return best;
}

/** Highest priority first, then highest weight, then file order. */
function heaviest(ts: readonly Target[]): Target | undefined {
  let best: Target | undefined;
  for (const t of ts) {
    if (!best || t.priority > best.priority || (t.priority === best.priority && t.weight > best.weight)) best = t;
  }
  return best;
}

function weightedRandom(ts: readonly Target[], random: () => number): Target | undefined {
  let total = 0;
  for (const t of ts) total += t.weight;
  if (total <= 0) return undefined;
  let r = random() * total;
  for (const t of ts) {
    r -= t.weight;
    if (r < 0) return t;
  }
  return ts[ts.length - 1]; // float rounding at the top edge
}
