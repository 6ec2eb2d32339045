// Where one request cannot be answered, as far as gw knows — the instances known down: the
// supervisor's lost ones (hold.ts), those whose last probe failed (probe.ts), and those this
// request could not reach (no connection, or one cut before any answer — after the wait for a
// respawn, when the attempt had one: attempt.ts) or waited for in vain (its attempt's deadline
// came and the instance is on its way back still: a second wait would cost as long).
// Cooldowns cannot say it: they are per (route, target), and the same instance behind another
// route — a signature fallback's (signature-fallback.ts) — has none. route.ts `readiness` reads
// this, so every attempt loop and the fallback's choice (fallback-choice.ts) pass these over alike.

import type { Target } from "../config/types.ts";
import type { Outcome } from "./forward.ts";

/** What route.ts asks: can `t` not answer this request at all? */
export interface DeadEndView {
  has(t: Target): boolean;
}

/** What the request's attempts left and what the supervisor and the probes say, read when asked. */
interface Sources {
  /** Instances whose last probe failed (probe.ts isDown). */
  readonly probedDown: (instance: string) => boolean;
  /** The supervisor's lost instances (hold.ts). */
  readonly lost?: { has(instance: string): boolean };
  /** Instances on their way back (drain.ts resting). */
  readonly resting?: { has(instance: string): boolean };
}

/** One request's dead ends: one per request (pipeline.ts), noted after each attempt (attempt.ts). */
export class DeadEnds implements DeadEndView {
  /** Instances this request could not reach; created at the first (most requests never need one). */
  private unreached: Set<string> | undefined;
  /** Instances this request waited for until its attempt's deadline. */
  private waitedFor: Set<string> | undefined;

  constructor(private readonly sources: Sources) {}

  /** An attempt's outcome: a connection that failed, or a deadline that came while the instance was away. */
  note(o: Outcome): void {
    if (o.kind !== "failed") return;
    const name = o.attempt.instance.name;
    if (o.reason === "connect") (this.unreached ??= new Set()).add(name);
    else if (o.reason === "timeout" && this.sources.resting?.has(name)) (this.waitedFor ??= new Set()).add(name);
  }

  has(t: Target): boolean {
    return this.instanceDown(t.instance);
  }

  private instanceDown(name: string): boolean {
    const { probedDown, lost, resting } = this.sources;
    if (this.unreached?.has(name) || lost?.has(name) || probedDown(name)) return true;
    // Waited for in vain counts only while it is still away: once back, it may answer.
    return this.waitedFor?.has(name) === true && resting?.has(name) === true;
  }
}
