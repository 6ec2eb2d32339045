// In-memory StateStore. Timer-free: every entry carries timestamps and is judged lazily when read,
// so nothing needs sweeping and a test can drive time by passing `now`.

import type { Cooldown, CoolingEntry, StateStore } from "./types.ts";

export interface MemoryStoreOptions {
  /** Sticky keys kept at most; the least recently used is evicted first. Default 10,000. */
  readonly stickyMax?: number;
  /** Sliding TTL of a sticky key. Default 7 days. */
  readonly stickyTtlMs?: number;
  /** A failure streak is forgotten this long after its last failure. Default 2 h. */
  readonly streakTtlMs?: number;
  /** Streak keys kept at most (LRU), so anonymous churn cannot grow memory. Default 10,000. */
  readonly streakMax?: number;
}

export const STICKY_MAX = 10_000;
export const STICKY_TTL_MS = 7 * 24 * 3600_000;
export const STREAK_TTL_MS = 2 * 3600_000;

interface Stamped<T> {
  value: T;
  at: number;
}

export function createMemoryStore(opts: MemoryStoreOptions = {}): StateStore {
  const { stickyMax = STICKY_MAX, stickyTtlMs = STICKY_TTL_MS, streakTtlMs = STREAK_TTL_MS, streakMax = STICKY_MAX } =
    opts;
  // Key = route + "\0" + target id: neither may contain NUL, so pairs never collide.
  const cooldowns = new Map<string, Cooldown>();
  const sticky = new Lru<string>(stickyMax);
  const streaks = new Lru<number>(streakMax);
  const pair = (route: string, target: string) => `${route}\0${target}`;

  return {
    cooldown: (route, target) => cooldowns.get(pair(route, target)),
    setCooldown(route, target, c) {
      cooldowns.set(pair(route, target), { until: c.until, kind: c.kind, reason: c.reason, setAt: c.setAt });
    },
    clearCooldown: (route, target) => void cooldowns.delete(pair(route, target)),
    beginTrial(route, target, until) {
      const key = pair(route, target);
      const c = cooldowns.get(key);
      if (c) cooldowns.set(key, { ...c, trialUntil: until });
    },
    endTrial(route, target) {
      const key = pair(route, target);
      const c = cooldowns.get(key);
      if (c?.trialUntil !== undefined) cooldowns.set(key, { until: c.until, kind: c.kind, reason: c.reason, setAt: c.setAt });
    },

    sticky(key, now) {
      const e = sticky.peek(key);
      return e && now - e.at < stickyTtlMs ? e.value : undefined;
    },
    setSticky: (key, target, now) => sticky.set(key, target, now),
    clearSticky: (key) => sticky.delete(key),

    streak(key, now) {
      const e = streaks.peek(key);
      return e && now - e.at < streakTtlMs ? e.value : 0;
    },
    addFailure(key, now) {
      const e = streaks.peek(key);
      const n = (e && now - e.at < streakTtlMs ? e.value : 0) + 1;
      streaks.set(key, n, now);
      return n;
    },
    resetStreak: (key) => streaks.delete(key),

    coolingList(now) {
      const out: CoolingEntry[] = [];
      for (const [key, c] of cooldowns) {
        const [route = "", target = ""] = key.split("\0");
        // Half-open entries stay listed: they are not confirmed healthy yet.
        out.push({ ...c, route, target, halfOpen: now >= c.until });
      }
      return out.sort((a, b) => a.until - b.until);
    },
  };
}

/** Map-backed LRU: Map keeps insertion order, so re-inserting on write makes the first key the oldest. */
class Lru<T> {
  readonly #map = new Map<string, Stamped<T>>();
  constructor(readonly max: number) {}

  peek(key: string): Stamped<T> | undefined {
    return this.#map.get(key);
  }

  set(key: string, value: T, at: number): void {
    this.#map.delete(key);
    this.#map.set(key, { value, at });
    while (this.#map.size > this.max) {
      const oldest = this.#map.keys().next().value;
      if (oldest === undefined) break;
      this.#map.delete(oldest);
    }
  }

  delete(key: string): void {
    this.#map.delete(key);
  }

  get size(): number {
    return this.#map.size;
  }
}
