// Draining an instance before a deliberate restart (`gw restart`, a reload that relaunches it):
// its targets take no new requests — route.ts passes over them as over cooling ones — while what
// already runs on it finishes. It is away (hold.ts) from the drain's start until the supervisor
// says it is back: a request that nothing else can serve (a route's only target, a signature
// lock) waits for the restarted instance rather than starting on this one, where it would keep
// the drain going and be cut when the grace period ends.
// The request path pays a set lookup per candidate target and two counter updates per upstream
// exchange; the waiting happens here, off the request path.

import type { InstanceConfig } from "../config/types.ts";
import { InstanceHold } from "./hold.ts";

/** How a drain ended, for `gw restart`'s output. */
export interface DrainReport {
  /** Requests in flight on the instance when the drain began. */
  readonly streams: number;
  /** How long the drain took. */
  readonly ms: number;
  /** Requests still running when the grace period ended (the restart cuts them). */
  readonly left: number;
}

/** What follows a drain: the instance restarts, or stops (a reload removed or replaced it). */
export type DrainThen = "restart" | "stop";

/** What a request still running when its instance's drain ran out of time is told: gw cut it, not the instance. */
export function drainCutWhy(instance: string, then: DrainThen): string {
  const what = then === "restart" ? `gw restarted instance ${instance}` : `gw stopped instance ${instance} (a reload removed or replaced it)`;
  return `${what}: shutdown_grace_ms ran out before this answer ended`;
}

const DRAIN_POLL_MS = 50;
/** How long bodies cut at the end of a drain get for their error event to leave (as server.ts gives a stop's). */
const CUT_FLUSH_MS = 500;
const CUT_POLL_MS = 10;

export class InstanceLoad {
  /** Instances being drained: their targets are picked only when nothing else can serve. */
  readonly draining = new Set<string>();
  /** Instances on their way back (restarting, respawning, starting): requests wait for them. */
  readonly hold: InstanceHold;
  /** Draining or away: what route.ts passes over while another target can serve. */
  readonly resting = { has: (instance: string) => this.draining.has(instance) || this.hold.has(instance) };
  private readonly active = new Map<string, number>();

  constructor(current: (name: string) => InstanceConfig | undefined = () => undefined, look?: (name: string) => Promise<void>) {
    this.hold = new InstanceHold(current, look);
  }

  /** An upstream exchange with `instance` began: an attempt, or later the body relayed from it. */
  enter(instance: string): void {
    this.active.set(instance, (this.active.get(instance) ?? 0) + 1);
  }

  leave(instance: string): void {
    const n = (this.active.get(instance) ?? 1) - 1;
    if (n > 0) this.active.set(instance, n);
    else this.active.delete(instance);
  }

  /** Exchanges with `instance` running now. */
  on(instance: string): number {
    return this.active.get(instance) ?? 0;
  }

  /**
   * Take `instance` out of the rotation and wait until nothing runs on it, or `graceMs` has
   * passed, or `abandon()` says to stop waiting. It stays out until `undrain`, and is away from
   * the start — so what begins during the drain waits for the restart that follows instead of
   * holding the drain up — until the supervisor says it is back (or lost: gw stops, the start
   * fails). `onWait` hears once that there is something to wait for. When the grace period ends
   * with requests left, `cut` ends them in gw's words (how many it cut), and they get a moment
   * (`flushMs`) for their error events to leave before the process that serves them stops —
   * gw's cut, not the upstream's reset, so no fault of the instance's.
   */
  async drain(instance: string, graceMs: number, onWait?: (streams: number) => void, abandon?: () => boolean, cut?: () => number, flushMs = CUT_FLUSH_MS): Promise<DrainReport> {
    this.draining.add(instance);
    this.hold.set(instance, "away");
    const t0 = performance.now();
    const streams = this.on(instance);
    if (streams > 0) onWait?.(streams);
    while (this.on(instance) > 0 && performance.now() - t0 < graceMs && !abandon?.()) await Bun.sleep(Math.min(DRAIN_POLL_MS, graceMs));
    const report = { streams, ms: Math.round(performance.now() - t0), left: this.on(instance) };
    if (report.left > 0 && !abandon?.() && cut && cut() > 0) {
      const cutAt = performance.now();
      while (this.on(instance) > 0 && performance.now() - cutAt < flushMs) await Bun.sleep(CUT_POLL_MS);
    }
    return report;
  }

  undrain(instance: string): void {
    this.draining.delete(instance);
  }
}
