// Active, token-free probes. When a target's cooldown ends it becomes half-open: the next request
// is its trial. If its instance is down, that trial is a user's request spent on a dead instance.
// So a cooling target's trial is claimed for a probe first: when the cooldown ends, the instance
// is asked (`/healthz` for a managed instance, an authenticated `GET /v1/models` for an external
// one — neither costs a token); only if it answers does the trial go to a user's request. An
// instance that is down keeps its targets out, probed again with backoff. One probe in flight per
// instance, whatever the number of its cooling targets. Nothing here decides routing: it writes
// cooldowns and trials through the state store, which route.ts reads as before.

import type { InstanceConfig, Route } from "../config/types.ts";
import type { LearnedCooldown, StateBackend, StateStore } from "../state/index.ts";
import { type HeaderMap, setInstanceKey } from "./headers.ts";
import { networkError } from "./forward.ts";

export interface ProbeTiming {
  /** A probe without an answer by then counts as down. */
  readonly timeoutMs: number;
  /** Wait after the first failed probe; doubled after each further failure… */
  readonly backoffMs: number;
  /** …up to this. */
  readonly maxBackoffMs: number;
}

const PROBE_TIMING: ProbeTiming = { timeoutMs: 2_000, backoffMs: 1_000, maxBackoffMs: 60_000 };

export interface ProbeLog {
  info(message: string): void;
  warn(message: string): void;
}

interface ProberDeps {
  readonly state: StateStore;
  /** The instances of the running config (a reload may add or remove some). */
  readonly instances: () => ReadonlyMap<string, InstanceConfig>;
  readonly log: ProbeLog;
  /** Each probe's verdict (metrics). */
  readonly onProbe?: (instance: string, up: boolean) => void;
  readonly timing?: ProbeTiming;
}

export interface Prober {
  /** (route, target) on `instance` cools until `until`: probe the instance before its trial. */
  cooling(route: string, target: string, instance: string, until: number): void;
  /** Instances whose last probe failed. */
  down(): string[];
  /** Whether `instance`'s last probe failed: down() for one, a Map lookup (the attempt loop asks it per target, dead-ends.ts). */
  isDown(instance: string): boolean;
  /**
   * `instance` answered — the supervisor saw it ready (respawned), or a request got a 2xx from it:
   * a failed probe before that is stale and no longer makes it down. Its cooling targets still
   * wait for their next probe. One Map lookup (there is a watch only while something cools).
   */
  up(instance: string): void;
  stop(): void;
}

/**
 * Every cooldown the state knows of besides those this gw sets (which attempt.ts and late-error.ts
 * hand to `cooling` themselves) is watched like a fresh one, so its trial goes to a probe first,
 * not to a user's request on an instance that may still be down: those it holds at start
 * (restored from its file after a restart or an upgrade, or shared by another replica), and those
 * it learns of later (heard from another replica, read at a late Redis connect, taken in after an
 * upgrade's hand-over). One mechanism for all: the store says what it learns (onLearned).
 */
export function watchStore(prober: Prober, state: Pick<StateBackend, "coolingList" | "onLearned">, routes: () => ReadonlyMap<string, Route>, now: number): void {
  const watch = (c: LearnedCooldown) => {
    const target = targetOf(routes(), c);
    if (target) prober.cooling(c.route, c.target, target.instance, c.until);
  };
  for (const c of state.coolingList(now)) watch(c);
  state.onLearned(watch);
}

/**
 * The configured target a state entry is about; undefined when this config has no such route or
 * target (an entry shared through Redis by a gw whose config differs, or left from before an edit).
 */
export function targetOf(routes: ReadonlyMap<string, Route>, c: { readonly route: string; readonly target: string }): Route["targets"][number] | undefined {
  return routes.get(c.route)?.targets.find((t) => t.id === c.target);
}

export function createProber(deps: ProberDeps): Prober {
  const t = deps.timing ?? PROBE_TIMING;
  const watches = new Map<string, Watch>();
  let stopped = false;

  const watchOf = (instance: string) => {
    let w = watches.get(instance);
    if (!w) watches.set(instance, (w = { instance, targets: new Map(), failures: 0, inFlight: undefined, timer: undefined, at: Infinity }));
    return w;
  };

  /** Run the instance's probe at `at` (or earlier, if one is already due sooner). */
  const schedule = (w: Watch, at: number) => {
    if (stopped || w.inFlight || at >= w.at) return;
    clearTimeout(w.timer);
    w.at = at;
    w.timer = setTimeout(() => void run(w), Math.max(0, at - Date.now()));
    w.timer.unref?.();
  };

  const run = async (w: Watch) => {
    w.timer = undefined;
    w.at = Infinity;
    const instance = deps.instances().get(w.instance);
    if (!instance) return void watches.delete(w.instance); // removed by a reload
    const now = Date.now();
    const due: Pair[] = [];
    for (const [k, p] of w.targets) {
      const c = deps.state.cooldown(p.route, p.target, now);
      if (!c) w.targets.delete(k); // cleared by a success meanwhile
      else if (c.until <= now && p.askAt <= now) due.push(p);
    }
    if (due.length === 0) return reschedule(w);
    const ctrl = new AbortController();
    w.inFlight = ctrl; // from here on, one run at a time
    // Ours to probe only where this gw won the trial of the cooldown that ended; another replica
    // that won it probes or tries the target itself. It may die before it does (its claim then
    // runs out with the cooldown still standing): so a lost claim is asked for again a probe's
    // timeout later — the window a holder's claim keeps after the end — not given up.
    for (const p of due) p.claim ??= deps.state.claimTrial(p.route, p.target, now + t.timeoutMs);
    const won = await Promise.all(due.map((p) => p.claim));
    const mine = due.filter((p, i) => {
      if (!won[i]) [p.claim, p.askAt] = [undefined, Date.now() + t.timeoutMs];
      return won[i];
    });
    if (mine.length === 0) {
      w.inFlight = undefined;
      return reschedule(w);
    }
    for (const p of mine) void deps.state.claimTrial(p.route, p.target, Date.now() + t.timeoutMs); // held while it runs (here)
    const verdict = await probe(instance, t.timeoutMs, ctrl.signal);
    w.inFlight = undefined;
    if (stopped) return;
    deps.onProbe?.(w.instance, verdict.up);
    const after = Date.now();
    if (verdict.up) {
      // Only targets still cooling and over are touched: a success meanwhile has cleared one.
      const still = mine.filter((p) => {
        const c = deps.state.cooldown(p.route, p.target, after);
        return c !== undefined && c.until <= after;
      });
      const wasDown = w.failures > 0;
      w.failures = 0;
      for (const p of still) {
        deps.state.endTrial(p.route, p.target); // half-open: the next request is its trial
        w.targets.delete(key(p));
      }
      if (wasDown || still.length > 0) deps.log.info(`probe: instance ${w.instance} answered (${verdict.what}); ${still.length} cooling target(s) may take a trial request`);
    } else {
      w.failures++;
      const wait = Math.min(t.backoffMs * 2 ** (w.failures - 1), t.maxBackoffMs);
      const until = after + wait;
      // The instance is down for all its targets: those whose cooldowns end before the next probe
      // wait for it too, or each would bring its own probe (and log line) and use up the backoff.
      const out = [...w.targets.values()].filter((p) => {
        const c = deps.state.cooldown(p.route, p.target, after);
        return c !== undefined && c.until < until;
      });
      for (const p of out) {
        deps.state.setCooldown(p.route, p.target, { until, kind: "connection", reason: `probe: ${verdict.what}`, setAt: after });
        p.claim = deps.state.claimTrial(p.route, p.target, until + t.timeoutMs);
      }
      deps.log.warn(`probe: instance ${w.instance} is down (${verdict.what}); its ${out.length} cooling target(s) stay out, next probe in ${fmtMs(wait)}`);
    }
    reschedule(w);
  };

  /** The next probe of `w` when its soonest cooldown ends; the watch goes when nothing cools. */
  const reschedule = (w: Watch) => {
    let next = Infinity;
    const now = Date.now();
    for (const p of w.targets.values()) next = Math.min(next, Math.max(deps.state.cooldown(p.route, p.target, now)?.until ?? Infinity, p.askAt));
    if (next < Infinity) schedule(w, next);
    else watches.delete(w.instance);
  };

  return {
    cooling(route, target, instance, until) {
      if (stopped) return;
      const w = watchOf(instance);
      // The trial of this cooldown is claimed for the probe now (marked at once here, and across
      // replicas for a shared store), so no user request can take it before the probe has answered.
      // Held from now for one that is over already (half-open, brought back by a restart): a window
      // from its end would have closed long ago, leaving the trial free until the probe runs.
      const p: Pair = { route, target, claim: deps.state.claimTrial(route, target, Math.max(until, Date.now()) + t.timeoutMs), askAt: 0 };
      w.targets.set(key(p), p);
      schedule(w, until);
    },
    down: () => [...watches.values()].filter((w) => w.failures > 0).map((w) => w.instance),
    isDown: (instance) => (watches.get(instance)?.failures ?? 0) > 0,
    up(instance) {
      const w = watches.get(instance);
      if (!w || w.failures === 0) return;
      w.failures = 0;
      // Said here: the probe that follows, finding it up, says nothing (it was not down then).
      deps.log.info(`probe: instance ${instance} answers again; its cooling target(s) wait for their next probe`);
    },
    stop() {
      stopped = true;
      for (const w of watches.values()) {
        clearTimeout(w.timer);
        w.inFlight?.abort();
      }
      watches.clear();
    },
  };
}

/** Ask an instance whether it serves: a 2xx within the timeout is up; anything else is down. */
async function probe(instance: InstanceConfig, timeoutMs: number, signal?: AbortSignal): Promise<{ up: boolean; what: string }> {
  const path = instance.managed ? "/healthz" : "/v1/models";
  const headers: HeaderMap = {};
  if (!instance.managed) setInstanceKey(headers, instance.apiKey);
  const started = Date.now();
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(instance.baseUrl + path, {
      headers,
      redirect: "manual",
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    res.body?.cancel().catch(() => {});
    return { up: res.status >= 200 && res.status < 300, what: `GET ${path} ${res.status} in ${Date.now() - started} ms` };
  } catch (e) {
    const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : networkError(e, instance.baseUrl + path);
    return { up: false, what: `GET ${path}: ${why}` };
  }
}

// --- internal ---

interface Pair {
  readonly route: string;
  readonly target: string;
  /** Whether this gw holds the trial of the target's current cooldown (the probe's to use); undefined: lost, to ask again. */
  claim: boolean | Promise<boolean> | undefined;
  /** A lost claim is asked for again from then on (epoch ms; 0: nothing lost). */
  askAt: number;
}

interface Watch {
  readonly instance: string;
  /** Cooling targets of the instance, by key(). */
  readonly targets: Map<string, Pair>;
  /** Probes failed in a row (the backoff's exponent). */
  failures: number;
  inFlight: AbortController | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer fires (Infinity: none set). */
  at: number;
}

const key = (p: Pick<Pair, "route" | "target">) => `${p.route}\0${p.target}`;

function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 ? 1 : 0)} s` : `${ms} ms`;
}
