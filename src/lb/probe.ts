// Active, token-free probes. When a target's cooldown ends it becomes half-open: the next request
// is its trial. If its instance is down, that trial is a user's request spent on a dead instance.
// So a cooling target's trial is claimed for a probe first: when the cooldown ends, the instance
// is asked (`/healthz` for a managed instance, an authenticated `GET /v1/models` for an external
// one — neither costs a token); only if it answers does the trial go to a user's request. An
// instance that is down keeps its targets out, probed again with backoff. One probe in flight per
// instance, whatever the number of its cooling targets. Nothing here decides routing: it writes
// cooldowns and trials through the state store, which route.ts reads as before.

import type { InstanceConfig, Route } from "../config/types.ts";
import { oneLine } from "../cli/one-line.ts";
import type { CooldownSet, LearnedCooldown, StateBackend, StateStore } from "../state/index.ts";
import type { Cooldown } from "../state/types.ts";
import { type HeaderMap, setInstanceKey } from "./headers.ts";
import { networkError } from "./forward.ts";

export interface ProbeTiming {
  /** A probe without an answer by then counts as down. */
  readonly timeoutMs: number;
  /** Wait after the first failed probe; doubled after each further failure… */
  readonly backoffMs: number;
  /** …up to this. */
  readonly maxBackoffMs: number;
  /** While picks pass the instance over, its next probe comes at most this long after its last (Prober.want); default WANTED_MS. */
  readonly wantedMs?: number;
}

/**
 * The backoff's cap while requests want a down instance. Its targets in every route are out
 * meanwhile (dead-ends.ts), a signed session's lock too: so a relay back up should not wait for a
 * 60 s backoff. 3 s: about what a client waits for one answer anyway, a GET /v1/models or
 * /healthz every 3 s is nothing to any relay's rate limit, and it stays above the probe's own 2 s
 * timeout, so a hanging instance is not asked back to back.
 */
const WANTED_MS = 3_000;

const PROBE_TIMING: ProbeTiming = { timeoutMs: 2_000, backoffMs: 1_000, maxBackoffMs: 60_000, wantedMs: WANTED_MS };

/** Why a request cooled a target: its class and the masked reason (classify.ts). */
export type CoolingCause = Pick<CooldownSet, "kind" | "reason" | "ms">;

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
  /**
   * (route, target) on `instance` cools until `until`: probe the instance before its trial. With
   * `cause` (a request of this gw cooled it), a target not watched yet is said in the log — once
   * per cooling, not once per request that failed on it meanwhile.
   */
  cooling(route: string, target: string, instance: string, until: number, cause?: CoolingCause): void;
  /** Instances whose last probe failed. */
  down(): string[];
  /** Whether `instance`'s last probe failed: down() for one, a Map lookup (the attempt loop asks it per target, dead-ends.ts). */
  isDown(instance: string): boolean;
  /**
   * `instance` answered — the supervisor saw it ready (respawned), or a request got a 2xx from it:
   * a failed probe before that is stale and no longer makes it down. Its cooling targets still
   * wait for their next probe, brought forward as by want. One Map lookup (there is a watch only
   * while something cools) and, once, a timer.
   */
  up(instance: string): void;
  /** A request to (route, target) was answered and ended its cooling (`trial`: as its one trial): said in the log as its start was. */
  coolingOver(route: string, target: string, trial: boolean): void;
  /**
   * A pick passed `instance` over because its last probe failed (dead-ends.ts): requests want it,
   * so its next probe comes at most `wantedMs` after its last, however far the backoff has grown.
   * Still one probe at a time. One Map lookup; a timer moved at most once per probe.
   */
  want(instance: string): void;
  /**
   * The config was reloaded: an instance whose address (url, port, key) changed or that is gone
   * loses its failed probe — that was the old address's — and is asked again now.
   */
  reloaded(): void;
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
  const wantedMs = t.wantedMs ?? WANTED_MS;
  const watches = new Map<string, Watch>();
  let stopped = false;

  const watchOf = (instance: string) => {
    let w = watches.get(instance);
    if (!w) watches.set(instance, (w = { instance, targets: new Map(), failures: 0, inFlight: undefined, timer: undefined, at: Infinity, lastAt: 0, probed: undefined }));
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
      // Held: waits for this probe, however early (want); a lost claim is asked for again from askAt.
      else if ((c.until <= now || heldForProbe(p, c)) && p.askAt <= now) due.push(p);
    }
    // While the instance is down a run is its next probe, targets due or not: want brought it forward.
    if (due.length === 0 && w.failures === 0) return reschedule(w);
    const ctrl = new AbortController();
    w.inFlight = ctrl; // from here on, one run at a time
    // Ours to probe only where this gw holds the probe's claim on the trial of the cooldown that
    // ended (asked now: a claim held since cooling is renewed for the probe's run). Another
    // replica that holds it probes; it may die before its probe answers (its claim then runs out
    // with the cooldown still standing, and no request may take the trial meanwhile): so a claim
    // held elsewhere is asked for again a probe's timeout later, not given up. One whose probe
    // answered is not probed again: the trial is the requests' now.
    const claims = await Promise.all(due.map((p) => deps.state.claimProbe(p.route, p.target, Date.now() + t.timeoutMs)));
    const mine = due.filter((p, i) => claims[i] === "mine");
    const answered = due.filter((p, i) => claims[i] === "answered");
    for (const p of due.filter((p, i) => claims[i] === "held")) p.askAt = Date.now() + t.timeoutMs;
    for (const p of answered) w.targets.delete(key(p));
    if (answered.length > 0) deps.log.info(`probe: instance ${w.instance} answered another gw's probe; ${answered.length} cooling target(s) may take a trial request`);
    if (mine.length === 0 && w.failures === 0) {
      w.inFlight = undefined;
      return reschedule(w);
    }
    w.probed = instance;
    const verdict = await probe(instance, t.timeoutMs, ctrl.signal);
    w.inFlight = undefined;
    if (stopped) return;
    if (w.probed !== instance) return schedule(w, Date.now()); // a reload moved it meanwhile: this verdict is the old address's
    deps.onProbe?.(w.instance, verdict.up);
    const after = Date.now();
    w.lastAt = after;
    if (verdict.up) {
      // Only targets still cooling and over (or held for this probe) are touched: a success meanwhile has cleared one.
      const still: Pair[] = [];
      for (const p of mine) {
        const c = deps.state.cooldown(p.route, p.target, after);
        if (!c || (c.until > after && !heldForProbe(p, c))) continue;
        // Held for an instance that answers now (an early probe, want): the hold is over.
        if (c.until > after) deps.state.setCooldown(p.route, p.target, { until: after, kind: c.kind, reason: c.reason, setAt: c.setAt });
        still.push(p);
      }
      const wasDown = w.failures > 0;
      w.failures = 0;
      for (const p of still) {
        deps.state.probeAnswered(p.route, p.target); // half-open: the next request, on any replica, is its trial
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
        p.heldUntil = until;
        void deps.state.claimProbe(p.route, p.target, until + t.timeoutMs);
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
    cooling(route, target, instance, until, cause) {
      if (stopped) return;
      const w = watchOf(instance);
      const p: Pair = { route, target, askAt: 0 };
      const k = key(p);
      if (cause && !w.targets.has(k)) deps.log.warn(`cooling: ${route} → ${target} for ${fmtMs(cause.ms)} (${causeText(cause)})`);
      // The trial of this cooldown is claimed for the probe now (marked at once here, and across
      // replicas for a shared store), so no user request can take it before the probe has answered.
      // Held from now for one that is over already (half-open, brought back by a restart): a window
      // from its end would have closed long ago, leaving the trial free until the probe runs.
      void deps.state.claimProbe(route, target, Math.max(until, Date.now()) + t.timeoutMs);
      w.targets.set(k, p);
      schedule(w, until);
    },
    down: () => [...watches.values()].filter((w) => w.failures > 0).map((w) => w.instance),
    isDown: (instance) => (watches.get(instance)?.failures ?? 0) > 0,
    up(instance) {
      const w = watches.get(instance);
      if (!w || w.failures === 0) return;
      w.failures = 0;
      schedule(w, w.lastAt + wantedMs); // the targets the failed probes held: back after one that answers, not after the backoff
      // Said here: the probe that follows, finding it up, says nothing (it was not down then).
      deps.log.info(`probe: instance ${instance} answers again; its cooling target(s) wait for their next probe`);
    },
    coolingOver(route, target, trial) {
      deps.log.info(`cooling over: ${route} → ${target} (${trial ? "its trial request" : "a request"} was answered)`);
      // No longer watched: its next cooling is a new one, said as such (its watch goes at its next run).
      for (const w of watches.values()) w.targets.delete(key({ route, target }));
    },
    want(instance) {
      const w = watches.get(instance);
      if (w && w.failures > 0) schedule(w, w.lastAt + wantedMs);
    },
    reloaded() {
      for (const w of watches.values()) {
        const current = deps.instances().get(w.instance);
        if (!w.probed || (current && sameAddress(w.probed, current))) continue;
        if (w.failures > 0) deps.log.info(`probe: instance ${w.instance} ${current ? "has a new address" : "was removed"} (reload); its failed probe no longer counts`);
        w.probed = undefined; // the verdict of a probe in flight is void (run)
        w.failures = 0;
        w.inFlight?.abort();
        schedule(w, Date.now()); // held targets: the new address is asked now (after the probe in flight, if one is)
      }
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
  /** A claim another replica held is asked for again from then on (epoch ms; 0: nothing lost). */
  askAt: number;
  /** The end of the hold a failed probe set on it: while its cooldown ends then, it waits for the instance's next probe, not for a time. */
  heldUntil?: number;
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
  /** When the last probe ended (want counts from it). */
  lastAt: number;
  /** The instance as the last probe asked it (a reload may change its address: reloaded). */
  probed: InstanceConfig | undefined;
}

const heldForProbe = (p: Pair, c: Cooldown) => c.until === p.heldUntil;

/** Whether a probe of `b` asks what a probe of `a` asked: same place, same way, same key. */
function sameAddress(a: InstanceConfig, b: InstanceConfig): boolean {
  return a.baseUrl === b.baseUrl && a.managed === b.managed && (a.managed || a.apiKey === b.apiKey);
}

const key = (p: Pick<Pair, "route" | "target">) => `${p.route}\0${p.target}`;

/** `transient: 529 …`; a connection failure's or a timeout's reason opens with its kind already. */
function causeText(c: CoolingCause): string {
  const reason = oneLine(c.reason);
  return reason.startsWith(`${c.kind}:`) ? reason : `${c.kind}: ${reason}`;
}

function fmtMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(ms % 1000 ? 1 : 0)} s`;
  // Cooldowns run to hours (quota: 12 h by default).
  return ms < 7_200_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 3_600_000)} h`;
}
