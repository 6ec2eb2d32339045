// When to restart an instance that exited, and when to call it a crash loop. Pure: the clock
// and the exit facts come in, the decision goes out; instance.ts does the waiting.
import type { Timing } from "./timing.ts";

export interface BackoffState {
  /** Quick exits in a row (uptime below stableUptimeMs); sets the exponent of the delay. */
  readonly streak: number;
  /** When the exits inside the crash-loop window were, oldest first: monotonic ms (spawn.ts monoNow), not wall time. */
  readonly exits: readonly number[];
  readonly crashLoop: boolean;
}

export const FRESH_BACKOFF: BackoffState = Object.freeze({ streak: 0, exits: [], crashLoop: false });

interface RestartDecision {
  readonly state: BackoffState;
  readonly delayMs: number;
}

type BackoffTiming = Pick<
  Timing,
  "backoffMinMs" | "backoffMaxMs" | "stableUptimeMs" | "crashLoopExits" | "crashLoopWindowMs" | "crashLoopRetryMs"
>;

/** An instance exited at `now` (monotonic ms) after running `uptimeMs`: how long until the next start, and in which state. */
export function onExit(prev: BackoffState, uptimeMs: number, now: number, t: BackoffTiming): RestartDecision {
  const stable = uptimeMs >= t.stableUptimeMs;
  const exits = [...prev.exits.filter((at) => now - at < t.crashLoopWindowMs), now];
  const streak = stable ? 0 : prev.streak;
  // Once in a crash loop, only a stable run gets it out: the slow retries must not each
  // start a fresh burst of fast restarts.
  const crashLoop = stable ? exits.length >= t.crashLoopExits : prev.crashLoop || exits.length >= t.crashLoopExits;
  const delayMs = crashLoop ? t.crashLoopRetryMs : Math.min(t.backoffMaxMs, t.backoffMinMs * 2 ** streak);
  return { state: { streak: streak + 1, exits, crashLoop }, delayMs };
}
