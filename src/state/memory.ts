// In-memory StateStore: what the LB reads on every request, whatever the backend. Timer-free:
// every entry carries timestamps and is judged lazily when read, so nothing needs sweeping and a
// test can drive time by passing `now`. A backend hangs on `onChange` (only real changes reach
// it: a success on a healthy target or a refresh of a fresh sticky key writes nothing) and feeds
// back what it loads or hears from other replicas through `apply`.

import { type Cooldown, type CoolingEntry, forgottenAt, type LearnedCooldown, outranks, type StateBackend, type StateChange, type StateStore } from "./types.ts";

export interface MemoryStoreOptions {
  /** Sticky keys kept at most; the least recently used is evicted first. Default 10,000. */
  readonly stickyMax?: number;
  /** Sliding TTL of a sticky key. Default 7 days. */
  readonly stickyTtlMs?: number;
  /** A failure streak is forgotten this long after its last failure. Default 2 h. */
  readonly streakTtlMs?: number;
  /** Streak keys kept at most (LRU), so anonymous churn cannot grow memory. Default 10,000. */
  readonly streakMax?: number;
  /**
   * Cooldowns kept at most, the oldest set dropped first. Default 10,000: far above routes ×
   * targets of any config, and what keeps a flood of entries for unknown routes (a foreign writer
   * on a shared Redis prefix) from growing memory and every status page and scrape.
   */
  readonly cooldownMax?: number;
  /**
   * Refreshing a sticky key to the same target reaches `onChange` at most this often (default
   * 1 min): a backend needs the sliding TTL roughly, not one write per request.
   */
  readonly stickySaveEveryMs?: number;
  /** Every change made through the StateStore methods (not through `apply`). */
  readonly onChange?: (c: StateChange) => void;
}

/** The in-memory store plus what backends need of it. */
export interface LocalStore extends StateStore {
  /** Take a change made elsewhere (loaded from disk, heard from another replica) without echoing it to `onChange`. */
  apply(c: StateChange): void;
  /** Every entry still valid at `now`, as changes (sticky keys least recently used first). */
  snapshot(now: number): StateChange[];
  /** See StateBackend.onLearned: fed by `apply`, the one way in for what comes from elsewhere. */
  onLearned: StateBackend["onLearned"];
}

export const STICKY_MAX = 10_000;

/** The most entries a store with these options keeps: sticky keys, streaks and cooldowns. */
export const entriesMax = (o: MemoryStoreOptions) => (o.stickyMax ?? STICKY_MAX) + (o.streakMax ?? STICKY_MAX) + (o.cooldownMax ?? STICKY_MAX);
export const STICKY_TTL_MS = 7 * 24 * 3600_000;
export const STREAK_TTL_MS = 2 * 3600_000;
const STICKY_SAVE_EVERY_MS = 60_000;
/**
 * Session keys come from clients (headers, body fields). Longer ones are kept as their sha256, so
 * a huge key costs neither memory here nor room in a state file or a shared Redis.
 */
const MAX_KEY_CHARS = 256;
/**
 * Cooldowns are kept as wall-clock times, because they outlive the process (state file) and
 * cross hosts (Redis). The wall clock may step back (NTP, a resumed VM, someone setting the
 * date): read as stored, a 120 s cooldown would then last another hour. So a cooldown that
 * started more than this far in the future of `now` is moved to start at `now`: it never lasts
 * longer than its own length from now. The slack leaves alone the small skew between replicas'
 * clocks, so replicas sharing a Redis keep agreeing on a cooldown's end (and its one trial).
 */
export const CLOCK_SLACK_MS = 1000;

interface Entry<T> {
  value: T;
  /** Last write (sticky: last use; streak: last failure). */
  at: number;
  /** Last time the entry reached onChange. */
  saved: number;
}

export function createMemoryStore(opts: MemoryStoreOptions = {}): LocalStore {
  const {
    stickyMax = STICKY_MAX,
    stickyTtlMs = STICKY_TTL_MS,
    streakTtlMs = STREAK_TTL_MS,
    streakMax = STICKY_MAX,
    cooldownMax = STICKY_MAX,
    stickySaveEveryMs = STICKY_SAVE_EVERY_MS,
    onChange,
  } = opts;
  // Key = route + "\0" + target id: neither may contain NUL, so pairs never collide.
  const cooldowns = new Map<string, Cooldown>();
  const sticky = new Lru<string>(stickyMax);
  const streaks = new Lru<number>(streakMax);
  const pair = (route: string, target: string) => `${route}\0${target}`;
  const learned: ((c: LearnedCooldown) => void)[] = [];
  const emit = onChange ?? (() => {});
  const fresh = <T>(e: Entry<T> | undefined, ttl: number, now: number) => (e && now - e.at < ttl ? e : undefined);
  /**
   * The cooldown under `key` as it stands at `now` (see CLOCK_SLACK_MS); kept moved, so it counts
   * down from there. One forgotten by then (forgottenAt) is dropped: every store's one rule, and
   * nothing to tell a backend, which applies the same rule itself.
   */
  const current = (key: string, now: number): Cooldown | undefined => {
    let c = cooldowns.get(key);
    if (c && c.setAt - now > CLOCK_SLACK_MS) {
      const back = c.setAt - now;
      if (!movedFrom.has(key)) movedFrom.set(key, c.setAt);
      c = { until: c.until - back, kind: c.kind, reason: c.reason, setAt: now, ...(c.trialUntil === undefined ? {} : { trialUntil: c.trialUntil - back }) };
      cooldowns.set(key, c);
    }
    if (c && now >= forgottenAt(c)) return void drop(key);
    return c;
  };
  /**
   * The setAt a cooldown `current` moved was written with: its period's name, which `outranks`
   * and a clear compare, here as on the replica that set it and in Redis (a clear naming the
   * moved start would pass for the end of an older period there).
   */
  const movedFrom = new Map<string, number>();
  const written = (key: string, c: Cooldown): Cooldown => {
    const setAt = movedFrom.get(key);
    return setAt === undefined ? c : { ...c, setAt, until: c.until + (setAt - c.setAt) };
  };
  const drop = (key: string): boolean => {
    movedFrom.delete(key);
    return cooldowns.delete(key);
  };

  /**
   * Take in a change, from here (the StateStore methods) or from elsewhere (`apply`, `heard`).
   * One from elsewhere meets the cooldown it finds by `outranks`, and a clear naming its period
   * ends that period or an older one only: replicas hearing the same changes in another order
   * keep the same entry. (One set here always takes: a shared backend gives back what it kept
   * instead, redis-merge.ts.) Returns whether a cooldown changed.
   */
  const put = (c: StateChange, heard = false): boolean => {
    switch (c.op) {
      case "setCooldown": {
        const key = pair(c.route, c.target);
        const had = cooldowns.get(key);
        if (heard && had && !outranks(c.c, written(key, had))) return false;
        drop(key); // re-inserted last: the oldest set stays first, to go first
        cooldowns.set(key, { until: c.c.until, kind: c.c.kind, reason: c.c.reason, setAt: c.c.setAt });
        for (const oldest of cooldowns.keys()) {
          if (cooldowns.size <= cooldownMax) break;
          drop(oldest);
        }
        return true;
      }
      case "clearCooldown": {
        const key = pair(c.route, c.target);
        const had = cooldowns.get(key);
        if (!had || (c.setAt !== undefined && written(key, had).setAt > c.setAt)) return false;
        return drop(key);
      }
      case "setSticky":
        sticky.set(c.key, { value: c.target, at: c.at, saved: c.at });
        return false;
      case "clearSticky":
        sticky.delete(c.key);
        return false;
      case "setStreak":
        streaks.set(c.key, { value: c.n, at: c.at, saved: c.at });
        return false;
      case "resetStreak":
        streaks.delete(c.key);
        return false;
    }
  };

  /** A change from elsewhere; a new cooldown period among them is news for onLearned's listeners (not one set here: its setter watches it). */
  const apply = (c: StateChange): void => {
    const news = c.op === "setCooldown" && cooldowns.get(pair(c.route, c.target))?.until !== c.c.until;
    if (put(c, true) && news && cooldowns.has(pair(c.route, c.target))) for (const l of learned) l({ route: c.route, target: c.target, until: c.c.until });
  };

  const store: LocalStore = {
    apply,
    onLearned: (listener) => void learned.push(listener),
    cooldown: (route, target, now) => current(pair(route, target), now),
    setCooldown(route, target, c) {
      const change: StateChange = { op: "setCooldown", route, target, c: { until: c.until, kind: c.kind, reason: c.reason, setAt: c.setAt } };
      put(change);
      emit(change);
    },
    clearCooldown(route, target) {
      const key = pair(route, target);
      const c = cooldowns.get(key);
      if (!c) return;
      const { setAt, until } = written(key, c);
      drop(key);
      emit({ op: "clearCooldown", route, target, setAt, until });
    },
    claimTrial(route, target, until) {
      const key = pair(route, target);
      const c = cooldowns.get(key);
      if (c) cooldowns.set(key, { ...c, trialUntil: until });
      return true;
    },
    // One process: the probe's local mark keeps its requests away until it answers; nobody else to ask.
    claimProbe(route, target, until) {
      store.claimTrial(route, target, until);
      return "mine";
    },
    probeAnswered: (route, target) => store.endTrial(route, target),
    extendTrial(route, target, until) {
      const key = pair(route, target);
      const c = cooldowns.get(key);
      if (c?.trialUntil !== undefined && until > c.trialUntil) cooldowns.set(key, { ...c, trialUntil: until });
    },
    endTrial(route, target) {
      const key = pair(route, target);
      const c = cooldowns.get(key);
      if (c?.trialUntil !== undefined) cooldowns.set(key, { until: c.until, kind: c.kind, reason: c.reason, setAt: c.setAt });
    },

    sticky(key, now) {
      return fresh(sticky.peek(keyOf(key)), stickyTtlMs, now)?.value;
    },
    setSticky(rawKey, target, now) {
      const key = keyOf(rawKey);
      const prev = fresh(sticky.peek(key), stickyTtlMs, now);
      const save = !prev || prev.value !== target || now - prev.saved >= stickySaveEveryMs;
      sticky.set(key, { value: target, at: now, saved: save ? now : prev.saved });
      if (save) emit({ op: "setSticky", key, target, at: now, was: prev?.value ?? null });
    },
    clearSticky(rawKey) {
      const key = keyOf(rawKey);
      if (sticky.delete(key)) emit({ op: "clearSticky", key });
    },

    streak(key, now) {
      return fresh(streaks.peek(keyOf(key)), streakTtlMs, now)?.value ?? 0;
    },
    addFailure(rawKey, now) {
      const key = keyOf(rawKey);
      const n = (fresh(streaks.peek(key), streakTtlMs, now)?.value ?? 0) + 1;
      streaks.set(key, { value: n, at: now, saved: now });
      emit({ op: "setStreak", key, n, at: now });
      return n;
    },
    resetStreak(rawKey) {
      const key = keyOf(rawKey);
      if (streaks.delete(key)) emit({ op: "resetStreak", key });
    },

    coolingList(now) {
      const out: CoolingEntry[] = [];
      for (const key of [...cooldowns.keys()]) {
        const c = current(key, now);
        if (!c) continue;
        const [route = "", target = ""] = key.split("\0");
        // Half-open entries stay listed: they are not confirmed healthy yet.
        out.push({ ...c, route, target, halfOpen: now >= c.until });
      }
      return out.sort((a, b) => a.until - b.until);
    },

    snapshot(now) {
      const out: StateChange[] = [];
      for (const key of [...cooldowns.keys()]) {
        const c = current(key, now);
        const [route = "", target = ""] = key.split("\0");
        if (c) out.push({ op: "setCooldown", route, target, c: { until: c.until, kind: c.kind, reason: c.reason, setAt: c.setAt } });
      }
      for (const [key, e] of sticky.entries()) if (now - e.at < stickyTtlMs) out.push({ op: "setSticky", key, target: e.value, at: e.at });
      for (const [key, e] of streaks.entries()) if (now - e.at < streakTtlMs) out.push({ op: "setStreak", key, n: e.value, at: e.at });
      return out;
    },
  };
  return store;
}

/** The key a client-supplied session key is kept under (see MAX_KEY_CHARS). */
function keyOf(key: string): string {
  return key.length <= MAX_KEY_CHARS ? key : `h:${new Bun.CryptoHasher("sha256").update(key).digest("hex")}`;
}

/** Map-backed LRU: Map keeps insertion order, so re-inserting on write makes the first key the oldest. */
class Lru<T> {
  readonly #map = new Map<string, Entry<T>>();
  constructor(readonly max: number) {}

  peek(key: string): Entry<T> | undefined {
    return this.#map.get(key);
  }

  set(key: string, entry: Entry<T>): void {
    this.#map.delete(key);
    this.#map.set(key, entry);
    while (this.#map.size > this.max) {
      const oldest = this.#map.keys().next().value;
      if (oldest === undefined) break;
      this.#map.delete(oldest);
    }
  }

  delete(key: string): boolean {
    return this.#map.delete(key);
  }

  /** Least recently written first. */
  entries(): IterableIterator<[string, Entry<T>]> {
    return this.#map.entries();
  }
}
