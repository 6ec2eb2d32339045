// Holding a request for an instance on its way back: restarted (`gw restart`, a reload that moves
// its port or changes its command), respawned after a crash, or still starting. The supervisor
// says when an instance goes away and when it is back (ready) or not coming after all (its start
// failed, it crash-loops, it was removed); a request whose target is on an away instance waits for
// that word — within its attempt's own first-byte deadline, and only for one start — instead of
// meeting a port nobody listens on. When nothing restarts this costs one Map lookup per attempt.

import type { InstanceConfig } from "../config/types.ts";

/** What the supervisor says about an instance: gone for a moment, serving again, or not coming back soon. */
export type Availability = "away" | "ready" | "lost";

export class InstanceHold {
  /** Away instances, each with the wake-ups of the requests waiting for it. */
  private readonly away = new Map<string, Set<() => void>>();

  /** `current(name)`: the instance as configured now (a reload may have moved it while a request waited). */
  constructor(private readonly current: (name: string) => InstanceConfig | undefined) {}

  has(instance: string): boolean {
    return this.away.has(instance);
  }

  set(instance: string, a: Availability): void {
    if (a === "away") {
      if (!this.away.has(instance)) this.away.set(instance, new Set());
      return;
    }
    const waiting = this.away.get(instance);
    this.away.delete(instance);
    if (waiting) for (const wake of waiting) wake();
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
