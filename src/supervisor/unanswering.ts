// A managed instance whose process runs but does not answer — deadlocked, stopped (SIGSTOP, a
// debugger), stuck on a dead mount — was left alone: gw restarts an instance that exits, and its
// probes (lb/probe.ts) kept its targets out for the rest of the run; for a route with no other
// instance, every request failed until someone ran `gw restart`. One the supervisor has ready
// whose last probe has failed for `unansweredRestartMs` is restarted as a crashed one would be.

interface UnansweringDeps {
  /** Instances whose last probe failed (the gateway's probes; empty while it does not serve). */
  readonly unanswering: () => readonly string[];
  /** Is `name` an instance gw runs, whose process the supervisor has ready (so a restart is due, not one under way)? */
  readonly running: (name: string) => boolean;
  readonly restart: (name: string) => Promise<unknown>;
  readonly warn: (message: string) => void;
  readonly afterMs: number;
}

/**
 * Which of `unanswering` are due a restart at `now`. `since` keeps when each was first seen
 * unanswering while running (updated here); one that answered again, or stopped running
 * meanwhile, starts over.
 */
export function dueForRestart(unanswering: readonly string[], running: (name: string) => boolean, since: Map<string, number>, now: number, afterMs: number): string[] {
  const seen = new Set(unanswering.filter(running));
  for (const name of since.keys()) if (!seen.has(name)) since.delete(name);
  const due: string[] = [];
  for (const name of seen) {
    const first = since.get(name);
    if (first === undefined) since.set(name, now);
    else if (now - first >= afterMs) {
      due.push(name);
      since.delete(name);
    }
  }
  return due;
}

/** Look every third of `afterMs` (at most every 5 s); returns the stop function. */
export function restartUnanswering(d: UnansweringDeps): () => void {
  const since = new Map<string, number>();
  const restarting = new Set<string>();
  const check = () => {
    for (const name of dueForRestart(d.unanswering(), (n) => !restarting.has(n) && d.running(n), since, Date.now(), d.afterMs)) {
      d.warn(`${name}: running but not answering its probes for ${Math.round(d.afterMs / 1000)} s (hung or stopped): restarting it`);
      restarting.add(name);
      void d.restart(name).finally(() => restarting.delete(name));
    }
  };
  const timer = setInterval(check, Math.min(5_000, Math.max(100, d.afterMs / 3)));
  timer.unref?.();
  return () => clearInterval(timer);
}
