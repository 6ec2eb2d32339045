// `state = "redis://…"`: several gw share cooldowns, sticky sessions, failure streaks and the
// half-open trial. Each gw keeps reading its own in-memory copy (no round trip per request); its
// changes go to Redis as keys (for a gw that starts or reconnects later, see redis-keys.ts) and
// on one channel (for the gw running now), and it applies what the others publish. Only claiming
// a half-open target's trial asks Redis and waits (SET NX, one round trip), so one trial runs
// across all replicas.

import type { RedisClient } from "bun";
import { redactUrl } from "../config/state.ts";
import { entryOf, PendingChanges } from "./changes.ts";
import { createMemoryStore, type MemoryStoreOptions, STICKY_TTL_MS, STREAK_TTL_MS } from "./memory.ts";
import { connectRedis, type LinkTiming, withTimeout } from "./redis-link.ts";
import { keySpace, readAll } from "./redis-keys.ts";
import { isChange } from "./wire.ts";
import type { StateBackend, StateChange, StateHealth, StateLog } from "./types.ts";

export interface RedisStateOptions extends Omit<MemoryStoreOptions, "onChange"> {
  readonly url: string;
  readonly prefix: string;
  readonly log: StateLog;
  readonly timing?: Partial<LinkTiming>;
  readonly now?: () => number;
}

/** A cooldown stays in Redis this long after its end, so a half-open target is still known to a gw that starts meanwhile. */
export const HALF_OPEN_KEEP_MS = 10 * 60_000;
/** Longest wait for a trial claim; an unanswered one counts as granted (Redis trouble never fails a request). */
export const CLAIM_TIMEOUT_MS = 500;
/** One failure more (or, replayed, a count) and the TTL, in one atomic step: no key without a TTL. */
const STREAK_SCRIPT = `local n
if ARGV[1] == "incr" then n = redis.call("HINCRBY", KEYS[1], "n", 1) else n = tonumber(ARGV[2]); redis.call("HSET", KEYS[1], "n", n) end
redis.call("HSET", KEYS[1], "at", ARGV[3])
redis.call("PEXPIRE", KEYS[1], ARGV[4])
return n`;
/** How long a closing gw waits for its last writes to reach Redis. */
const CLOSE_WAIT_MS = 1000;

/** Connects (waiting for the first attempt, bounded) and returns the store; never throws for an unreachable Redis. */
export async function openRedisState(o: RedisStateOptions): Promise<StateBackend> {
  const now = o.now ?? Date.now;
  const me = crypto.randomUUID();
  const keys = keySpace(o.prefix);
  const stickyTtlMs = o.stickyTtlMs ?? STICKY_TTL_MS;
  const streakTtlMs = o.streakTtlMs ?? STREAK_TTL_MS;
  const pending = new PendingChanges();
  const inflight = new Set<Promise<unknown>>();
  const where = redactUrl(o.url);

  const store = createMemoryStore({
    ...o,
    onChange(c) {
      const cmd = link.cmd();
      if (cmd) send(cmd, c, true);
      else pending.add(c);
    },
  });

  /** Write one change and publish it; one that fails waits for the next connection. */
  function send(cmd: RedisClient, c: StateChange, live: boolean): void {
    const done = write(cmd, c, live).catch(() => pending.restore([c]));
    inflight.add(done);
    void done.finally(() => inflight.delete(done));
  }

  async function write(cmd: RedisClient, c: StateChange, live: boolean): Promise<void> {
    const t = now();
    const publish = (change: StateChange) => cmd.publish(keys.channel, JSON.stringify({ from: me, c: change }));
    switch (c.op) {
      case "setCooldown": {
        const ttl = Math.max(1, c.c.until - t + HALF_OPEN_KEEP_MS);
        await Promise.all([cmd.send("SET", [keys.cd(c.route, c.target), JSON.stringify(c.c), "PX", String(ttl)]), cmd.del(keys.tr(c.route, c.target)), publish(c)]);
        return;
      }
      case "clearCooldown":
        await Promise.all([cmd.del(keys.cd(c.route, c.target), keys.tr(c.route, c.target)), publish(c)]);
        return;
      case "setSticky": {
        const ttl = stickyTtlMs - (t - c.at);
        if (ttl <= 0) return;
        await Promise.all([cmd.send("SET", [keys.st(c.key), JSON.stringify({ target: c.target, at: c.at }), "PX", String(ttl)]), publish(c)]);
        return;
      }
      case "clearSticky":
        await Promise.all([cmd.del(keys.st(c.key)), publish(c)]);
        return;
      case "setStreak": {
        // Live: one more failure, counted across replicas; replayed after an outage: our count.
        const args = [STREAK_SCRIPT, "1", keys.fs(c.key), live ? "incr" : "set", String(c.n), String(c.at), String(streakTtlMs)];
        const n = Number(await cmd.send("EVAL", args));
        const counted: StateChange = { ...c, n };
        if (n !== c.n) store.apply(counted);
        await publish(counted);
        return;
      }
      case "resetStreak":
        await Promise.all([cmd.del(keys.fs(c.key)), publish(c)]);
        return;
    }
  }

  function hear(message: string): void {
    let m: { from?: unknown; c?: unknown };
    try {
      m = JSON.parse(message) as typeof m;
    } catch {
      return;
    }
    if (m.from !== me && isChange(m.c)) store.apply(m.c);
  }

  /** On every (re)connection: take in what Redis holds, then give it what changed here meanwhile. */
  async function resync(cmd: RedisClient): Promise<void> {
    const remote = await readAll(cmd, keys, now());
    const waiting = pending.take();
    try {
      if (remote.length === 0) {
        // Redis holds nothing of ours: it restarted empty, or this is the first gw. What this gw
        // knows is the best there is.
        for (const c of store.snapshot(now())) await write(cmd, c, false);
        return;
      }
      const changedHere = new Set(waiting.map(entryOf));
      const remoteCooldowns = new Set<string>();
      for (const c of remote) {
        const entry = entryOf(c);
        if (c.op === "setCooldown") remoteCooldowns.add(entry);
        if (!changedHere.has(entry)) store.apply(c);
      }
      // A cooldown Redis no longer has was cleared (or ran out) while this gw was away.
      for (const c of store.coolingList(now())) {
        const clear: StateChange = { op: "clearCooldown", route: c.route, target: c.target };
        if (!remoteCooldowns.has(entryOf(clear)) && !changedHere.has(entryOf(clear))) store.apply(clear);
      }
      for (const c of waiting) await write(cmd, c, false);
    } catch (err) {
      pending.restore(waiting);
      throw err;
    }
  }

  const link = connectRedis({ url: o.url, where, channel: keys.channel, log: o.log, onMessage: hear, onUp: resync, timing: o.timing });
  await link.first;

  return {
    ...store,
    claimTrial(route, target, until) {
      store.claimTrial(route, target, until);
      const cmd = link.cmd();
      if (!cmd) return true;
      const ttl = String(Math.max(1, until - now()));
      const claim = cmd.send("SET", [keys.tr(route, target), me, "NX", "PX", ttl]) as Promise<string | null>;
      return withTimeout(claim, CLAIM_TIMEOUT_MS, "trial claim timed out").then(
        (r) => r === "OK",
        () => true,
      );
    },
    endTrial(route, target) {
      store.endTrial(route, target);
      link.cmd()?.del(keys.tr(route, target)).catch(() => {});
    },
    health(): StateHealth {
      const down = link.down();
      return { backend: "redis", up: !down, where, ...(down ? { problem: down.problem, downSince: down.since } : {}) };
    },
    async close() {
      await withTimeout(Promise.allSettled([...inflight]), CLOSE_WAIT_MS, "").catch(() => {});
      link.close();
    },
  };
}
