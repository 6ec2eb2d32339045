// How one attempt's outcome and one request's end change the state: the single place that
// writes cooldowns, sticky entries and streaks, so the attempt loop stays a loop.

import { type Cooldown, type CooldownKind, keepsOut, type StateStore } from "./types.ts";

/** What the store needs of a classified outcome (lb/classify.ts Outcome satisfies it). */
interface OutcomeLike {
  readonly class: string;
  readonly cooldownMs: number;
  readonly kind?: CooldownKind;
  readonly reason: string;
}

interface AttemptFacts {
  readonly route: string;
  readonly target: string;
  /** Sticky key of the request (session.ts stickyKey), when it has a session. */
  readonly stickyKey?: string;
  readonly now: number;
  /** The attempt was a half-open target's one trial (route.ts Pick.trial). */
  readonly trial?: boolean;
  /** The request carried signed thinking (lb/session.ts findSignature). */
  readonly signed?: boolean;
  /** When the attempt was sent (wall clock, as a cooldown's setAt): a success ends only a cooling that began before. */
  readonly sentAt?: number;
}

/** The cooldown an attempt set, for the request log. */
export interface CooldownSet {
  readonly route: string;
  readonly target: string;
  readonly kind: CooldownKind;
  readonly ms: number;
  readonly reason: string;
}

/** What an attempt changed that gw's log says (lb/probe.ts): a cooling it began, or one its success ended. */
export type AttemptEffect = { readonly cooled: CooldownSet; readonly ended?: undefined } | { readonly ended: Cooldown; readonly cooled?: undefined };

/**
 * After each attempt. Success: the target is healthy again — for the requests its cooldown kept
 * out only (keepsOut: a signature cooldown ends with a signed success), and only when the attempt
 * was sent after the cooling began: requests an upstream admitted before its rate limit or
 * overload still finish, and their answers say nothing of it (under Claude Code's parallel
 * streams each one ended the cooling a moment after it began) — and becomes the session's
 * sticky target. Failure with a cooldown: the target cools; an auth or signature failure also
 * forgets it as sticky (its credentials or signatures will not serve this session soon), while a
 * transient one keeps it, so a signature-locked session returns to it after the cooldown.
 */
export function recordAttempt(state: StateStore, o: OutcomeLike, f: AttemptFacts): AttemptEffect | undefined {
  if (o.class === "ok") {
    const c = state.cooldown(f.route, f.target, f.now);
    const ends = !c || (keepsOut(c, f.signed) && !(f.sentAt !== undefined && f.sentAt < c.setAt)); // a signed success ends any
    if (ends) state.clearCooldown(f.route, f.target);
    if (f.stickyKey) state.setSticky(f.stickyKey, f.target, f.now);
    return c && ends ? { ended: c } : undefined;
  }
  if (f.stickyKey && (o.class === "auth" || o.class === "signature") && state.sticky(f.stickyKey, f.now) === f.target) {
    state.clearSticky(f.stickyKey);
  }
  if (o.cooldownMs <= 0 || !o.kind) {
    // A trial answered with the client's own error says nothing about the target: let the next try.
    if (f.trial) state.endTrial(f.route, f.target);
    return undefined;
  }
  const ms = f.trial && o.kind === "timeout" ? timedOutTrialMs(o.cooldownMs, state.cooldown(f.route, f.target, f.now)) : o.cooldownMs;
  state.setCooldown(f.route, f.target, { until: f.now + ms, kind: o.kind, reason: o.reason, setAt: f.now });
  return { cooled: { route: f.route, target: f.target, kind: o.kind, ms, reason: o.reason } };
}

/** A target that keeps timing out stays out at most this many times its cooldown. */
const TIMEOUT_BACKOFF_MAX = 16;

/**
 * The cooldown after a trial that timed out again: twice the one it ended (at least `baseMs`, at
 * most TIMEOUT_BACKOFF_MAX × `baseMs`). A timeout is the one failure that costs the trial's user
 * the whole first-byte timeout and that no probe foresees (an instance whose model hangs still
 * answers /healthz), so a target that hangs every time must cost users ever more rarely, not
 * once per cooldown for as long as it hangs.
 */
function timedOutTrialMs(baseMs: number, ended: Cooldown | undefined): number {
  const previous = ended ? ended.until - ended.setAt : 0;
  return Math.min(Math.max(baseMs, 2 * previous), TIMEOUT_BACKOFF_MAX * baseMs);
}

/**
 * Once per request, with what the client got: a 2xx resets the (session, model) failure streak,
 * anything else adds one (auto-upgrade reads it). Returns the streak after the update.
 */
export function recordRequestEnd(state: StateStore, streakKey: string, ok: boolean, now: number): number {
  if (ok) {
    state.resetStreak(streakKey);
    return 0;
  }
  return state.addFailure(streakKey, now);
}
