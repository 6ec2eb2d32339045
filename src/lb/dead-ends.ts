// Where one request cannot be answered, as far as gw knows — the instances known down: the
// supervisor's lost ones (hold.ts), those whose last probe failed (probe.ts), and those this
// request could not reach (no connection, or one cut before any answer — after the wait for a
// respawn, when the attempt had one: attempt.ts) or waited for in vain (its attempt's deadline
// came and the instance is on its way back still: a second wait would cost as long) — and the
// instance and upstream model that rejected its thinking signature: any route over that pair
// makes the same call to the same verifier, and gets the same 400.
// Cooldowns cannot say it: they are per (route, target), and the same instance behind another
// route — a signature fallback's (signature-fallback.ts) — has none. route.ts `readiness` reads
// this, so every attempt loop and the fallback's choice (fallback-choice.ts) pass these over alike.

import type { Target } from "../config/types.ts";
import type { InstanceLoad } from "./drain.ts";
import type { Tried } from "./failover.ts";
import type { Prober } from "./probe.ts";
import { upstreamModel } from "./rewrite.ts";

/** What route.ts asks: can `t` not answer this request at all? May nothing be sent to this instance? */
export interface DeadEndView {
  has(t: Target): boolean;
  /** Its port is held by a process that is not the instance (hold.ts "taken"): never sent to, not even as a last resort. */
  barred?(instance: string): boolean;
}

/** What the supervisor and the probes say, read when asked: the gateway's, one for all its requests. */
export interface DeadEndSources {
  /** Instances whose last probe failed (probe.ts isDown). */
  readonly probedDown: (instance: string) => boolean;
  /** The supervisor's lost instances (hold.ts). */
  readonly lost?: { has(instance: string): boolean };
  /** Instances on their way back (drain.ts resting). */
  readonly resting?: { has(instance: string): boolean };
  /** Instances whose port another process holds (hold.ts). */
  readonly taken?: { has(instance: string): boolean };
}

/**
 * The sources of every request's dead ends, made once per gateway from its prober and instance
 * load (server.ts), so a request allocates only its own DeadEnds. A pick that passes an instance
 * over for its failed probe wants it back: its next probe comes sooner (probe.ts want). An
 * explanation (`gw route explain`) passes no `want`: it asks, it wants nothing.
 */
export function deadEndSources(probes: Pick<Prober, "isDown"> & Partial<Pick<Prober, "want">>, load: InstanceLoad | undefined): DeadEndSources {
  const probedDown = (instance: string) => {
    if (!probes.isDown(instance)) return false;
    probes.want?.(instance);
    return true;
  };
  return { probedDown, lost: load?.hold.lost, resting: load?.resting, taken: load?.hold.taken };
}

/** One request's dead ends: one per request (pipeline.ts), noted after each attempt (attempt.ts). */
export class DeadEnds implements DeadEndView {
  /** Instances this request could not reach; created at the first (most requests never need one). */
  private unreached: Set<string> | undefined;
  /** Instances this request waited for until its attempt's deadline. */
  private waitedFor: Set<string> | undefined;
  /** Instance and upstream model (sameCall) that rejected this request's thinking signature. */
  private rejected: Set<string> | undefined;

  constructor(private readonly sources: DeadEndSources) {}

  /** An attempt: a connection that failed, a deadline that came while the instance was away, a rejected signature. */
  note(t: Tried): void {
    const o = t.outcome;
    const target = o.attempt.target;
    if (t.classified?.class === "signature" && target) (this.rejected ??= new Set()).add(sameCall(o.attempt.instance.name, target));
    if (o.kind !== "failed") return;
    const name = o.attempt.instance.name;
    if (o.reason === "connect") (this.unreached ??= new Set()).add(name);
    else if (o.reason === "timeout" && this.sources.resting?.has(name)) (this.waitedFor ??= new Set()).add(name);
  }

  has(t: Target): boolean {
    return this.instanceDown(t.instance) || this.rejected?.has(sameCall(t.instance, t)) === true;
  }

  barred(instance: string): boolean {
    return this.sources.taken?.has(instance) === true;
  }

  private instanceDown(name: string): boolean {
    const { probedDown, lost, resting } = this.sources;
    if (this.unreached?.has(name) || lost?.has(name) || probedDown(name)) return true;
    // Waited for in vain counts only while it is still away: once back, it may answer.
    return this.waitedFor?.has(name) === true && resting?.has(name) === true;
  }
}

/**
 * What makes two targets the same call for a signature's verifier: the instance (the upstream and
 * its credentials — a CLIProxyAPI's accounts and signature cache, an API key's organisation) and
 * the model as sent (after rewrite: a thinking level's suffix included). Route names and target ids
 * are gw's own labels. Another model on the instance may be served by another account or provider
 * behind it, and another instance has other credentials: either may verify the signature.
 */
function sameCall(instance: string, t: Target): string {
  return `${instance}\n${upstreamModel(t)}`;
}
