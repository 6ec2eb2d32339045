// Holding a request for an instance on its way back: restarted (`gw restart`, a reload that moves
// its port or changes its command), respawned after a crash, or still starting. The supervisor
// says when an instance goes away and when it is back (ready) or not coming after all (its start
// failed, it crash-loops, it was removed); a request whose target is on an away instance waits for
// that word — within its attempt's own first-byte deadline, and only for one start — instead of
// meeting a port nobody listens on. When nothing restarts this costs one Map lookup per attempt.
// The supervisor's word may come late — a process that died a moment ago, before its exit was
// delivered (an instance adopted at an upgrade is looked at only every few hundred ms) — so a
// connection to an instance this gw runs that fails before any answer asks it to look now (`gone`).

import type { InstanceConfig } from "../config/types.ts";

/**
 * What the supervisor says about an instance: gone for a moment, serving again, not coming back
 * soon — or its port taken: held by a process that is not the instance (found so when it was to
 * start). Nothing may be sent there: the instance's key and the client's prompt would go to
 * whatever holds the port (another program, or gw itself).
 */
export type Availability = "away" | "ready" | "lost" | "taken";

export class InstanceHold {
  /** Away instances, each with the wake-ups of the requests waiting for it. */
  private readonly away = new Map<string, Set<() => void>>();
  /**
   * Instances the supervisor last called lost — not coming back soon: a crash loop, a start that
   * failed. Nothing waits for them; a signature fallback passes them over (fallback-choice.ts).
   */
  readonly lost = new Set<string>();
  /** Instances whose port another process holds (Availability "taken"): lost, and never sent to. */
  readonly taken = new Set<string>();

  /**
   * `current(name)`: the instance as configured now (a reload may have moved it while a request
   * waited). `look(name)`: the supervisor looks at the instance's process now and says what it
   * saw (set) before it resolves; absent when no supervisor runs the instances.
   */
  constructor(
    private readonly current: (name: string) => InstanceConfig | undefined,
    private readonly look?: (name: string) => Promise<void>,
  ) {}

  has(instance: string): boolean {
    return this.away.has(instance);
  }

  set(instance: string, a: Availability): void {
    if (a === "lost" || a === "taken") this.lost.add(instance);
    else this.lost.delete(instance);
    if (a === "taken") this.taken.add(instance);
    else this.taken.delete(instance);
    if (a === "away") {
      if (!this.away.has(instance)) this.away.set(instance, new Set());
      return;
    }
    const waiting = this.away.get(instance);
    this.away.delete(instance);
    if (waiting) for (const wake of waiting) wake();
  }

  /**
   * A connection to `instance` failed before any answer (refused, reset). When this gw runs it,
   * the supervisor looks whether its process is still there; true when it is away after that
   * (dead, respawning): the request may wait for it. False for an instance that is alive (the
   * failure stands), down for good (a crash loop is lost, not away) or not this gw's (`url`).
   */
  async gone(instance: InstanceConfig): Promise<boolean> {
    if (!instance.managed || !this.look) return false;
    await this.look(instance.name);
    return this.away.has(instance.name);
  }

  /**
   * Wait while `instance` is away: until the supervisor says it is ready or lost, or `stop`
   * aborts (the attempt's deadline, its client leaving). Resolves with the instance to send to —
   * as configured now — and how long the wait was (0: it was not away, and nothing was awaited).
   */
  async wait(instance: InstanceConfig, stop: AbortSignal): Promise<{ instance: InstanceConfig; ms: number }> {
    const waiting = this.away.get(instance.name);
    if (!waiting) return { instance, ms: 0 };
    const t0 = Date.now();
    await new Promise<void>((resolve) => {
      const wake = () => {
        waiting.delete(wake);
        stop.removeEventListener("abort", wake);
        resolve();
      };
      waiting.add(wake);
      if (stop.aborted) wake();
      else stop.addEventListener("abort", wake, { once: true });
    });
    return { instance: this.current(instance.name) ?? instance, ms: Math.max(1, Date.now() - t0) };
  }
}
