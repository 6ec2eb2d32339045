// A half-open target's one trial across replicas sharing a Redis (state/redis.ts), and the probe
// that comes before it (lb/probe.ts). Two keys per cooldown period (replicas agree on its end):
//   pr:…  the probe's: a gw's id while its probe holds the trial (the probe's window), "up" once a
//         probe answered (until the cooldown is forgotten);
//   tr:…  the request's: the id of the gw whose request is the trial (the request's window).
// A request may take tr only once pr says "up" — or when pr is absent and this gw's prober never
// asked for it (no prober, or Redis restarted empty after the probe answered). So when a replica
// dies holding pr, its claim runs out and the other replicas' requests still keep away: their
// probers, which lost the claim to it, ask again and one of them probes. And a prober that finds
// "up" does not probe again. Each claim is one script: one round trip, atomic.

import type { RedisClient } from "bun";
import type { LocalStore } from "./memory.ts";
import type { keySpace } from "./redis-keys.ts";
import { withTimeout } from "./redis-link.ts";
import { forgottenAt, type ProbeClaim, type StateStore } from "./types.ts";

/** Longest wait for a claim; an unanswered one counts as granted (Redis trouble never fails a request). */
const CLAIM_TIMEOUT_MS = 500;
/** A replica that lost a trial claim asks again this much later (the holder's early end is not published). */
export const LOST_CLAIM_RECHECK_MS = 1000;

/** KEYS: pr. ARGV: me, window (ms). The caller's own claim is renewed. */
const PROBE_CLAIM = `local v = redis.call("GET", KEYS[1])
if v == "up" then return "answered" end
if v and v ~= ARGV[1] then return "held" end
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
return "mine"`;

/** KEYS: pr, tr. ARGV: me, window (ms), "1" when this gw's prober asked for pr (so an absent pr is a holder gone, not no probe). */
const TRIAL_CLAIM = `local p = redis.call("GET", KEYS[1])
if p ~= "up" and (p or ARGV[3] == "1") then return 0 end
if redis.call("SET", KEYS[2], ARGV[1], "NX", "PX", ARGV[2]) then return 1 end
return 0`;

/**
 * A TTL as Redis takes it: whole ms, at least 1. Ends are not always whole ms (classify.ts reads a
 * relay's `x-ratelimit-reset: 1796200391.1234` as 30000.12… ms), and Redis refuses the command
 * for a fraction (`ERR value is not an integer`): the cooldown never reached Redis, the failed
 * batch was sent again with every later one, and a refused trial claim counted as granted.
 */
export const px = (ms: number): string => String(Math.max(1, Math.ceil(ms)));

interface TrialDeps {
  readonly store: LocalStore;
  readonly keys: ReturnType<typeof keySpace>;
  /** This gw's id (the holder a key names). */
  readonly me: string;
  readonly now: () => number;
  /** The command connection while Redis is up. */
  readonly cmd: () => RedisClient | undefined;
  /** Where the prober's asks are kept (see `probing` below); a test passes its own to watch it. */
  readonly probing?: Map<string, Asked>;
}

/** This gw's prober asked for the probe's claim of a pair's cooldown period ending at `end`. */
export interface Asked {
  readonly route: string;
  readonly target: string;
  readonly end: number;
}

type TrialMethods = Pick<StateStore, "claimTrial" | "claimProbe" | "probeAnswered" | "extendTrial" | "endTrial">;

export function sharedTrials(d: TrialDeps): TrialMethods {
  const { store, keys, me, now } = d;
  /**
   * The cooldown period (its end) for which this gw's prober asked for the probe's claim and has
   * not heard of an answer, by pair: one entry per pair at most. An entry counts only while its
   * period is the pair's (claimTrial compares the two): once that cooldown is forgotten, cleared by
   * a success, replaced by a new one or moved by a clock step, it never counts again, and it goes
   * at the next ask (prune) — a route a reload removed, or a target that recovered unprobed, no
   * longer leaves one behind for the life of the process.
   */
  const probing = d.probing ?? new Map<string, Asked>();
  const pair = (route: string, target: string) => `${route}\0${target}`;
  const period = (route: string, target: string) => store.cooldown(route, target, now())?.until;
  const prune = () => {
    for (const [key, a] of probing) if (period(a.route, a.target) !== a.end) probing.delete(key);
  };
  /** Another replica holds it and may end it early without a word: stay away only briefly, then ask again. */
  const lost = (route: string, target: string, until: number, was: number) => {
    if (period(route, target) === was) store.claimTrial(route, target, Math.min(until, now() + LOST_CLAIM_RECHECK_MS));
  };

  return {
    claimTrial(route, target, until) {
      const end = period(route, target);
      store.claimTrial(route, target, until);
      const cmd = d.cmd();
      if (!cmd || end === undefined) return true;
      const asked = probing.get(pair(route, target))?.end === end ? "1" : "0";
      const claim = cmd.send("EVAL", [TRIAL_CLAIM, "2", keys.pr(route, target, end), keys.tr(route, target, end), me, px(until - now()), asked]) as Promise<number>;
      return withTimeout(claim, CLAIM_TIMEOUT_MS, "trial claim timed out").then(
        (r) => {
          if (r === 1) return true;
          lost(route, target, until, end);
          return false;
        },
        () => true,
      );
    },
    claimProbe(route, target, until) {
      const end = period(route, target);
      store.claimProbe(route, target, until);
      const cmd = d.cmd();
      if (!cmd || end === undefined) return "mine";
      prune();
      probing.set(pair(route, target), { route, target, end });
      const claim = cmd.send("EVAL", [PROBE_CLAIM, "1", keys.pr(route, target, end), me, px(until - now())]) as Promise<ProbeClaim>;
      return withTimeout(claim, CLAIM_TIMEOUT_MS, "probe claim timed out").then(
        (r) => {
          if (r === "held") lost(route, target, until, end);
          else if (r === "answered") answered(route, target);
          return r;
        },
        () => "mine" as const,
      );
    },
    probeAnswered(route, target) {
      const c = store.cooldown(route, target, now());
      answered(route, target);
      if (c) d.cmd()?.send("SET", [keys.pr(route, target, c.until), "up", "PX", px(forgottenAt(c) - now())]).catch(() => {});
    },
    extendTrial(route, target, until) {
      const end = period(route, target);
      store.extendTrial(route, target, until);
      // The claim's key lives as long as the window: other replicas keep away as long too.
      if (end !== undefined) d.cmd()?.send("PEXPIRE", [keys.tr(route, target, end), px(until - now())]).catch(() => {});
    },
    endTrial(route, target) {
      const end = period(route, target);
      store.endTrial(route, target);
      if (end !== undefined) d.cmd()?.del(keys.tr(route, target, end)).catch(() => {});
    },
  };

  /** A probe of the pair's cooldown answered (here or on another replica): the trial goes to requests. */
  function answered(route: string, target: string): void {
    probing.delete(pair(route, target));
    store.endTrial(route, target);
  }
}
