// `state = "redis://…"`: several gw share cooldowns, sticky sessions, failure streaks and the
// half-open trial. Each gw keeps reading its own in-memory copy (no round trip per request); its
// changes go to Redis as keys (for a gw that starts or reconnects later, see redis-keys.ts) and
// on one channel (for the gw running now), and it applies what the others publish. Only claiming
// a half-open target's trial (or its probe's) asks Redis and waits (one script, one round trip),
// so one trial runs across all replicas, after one probe (redis-trial.ts).

import type { RedisClient } from "bun";
import { redactUrl } from "../config/state.ts";
import { entryOf, PendingChanges } from "./changes.ts";
import { createMemoryStore, entriesMax, type MemoryStoreOptions, STICKY_TTL_MS, STREAK_TTL_MS } from "./memory.ts";
import { connectRedis, type LinkTiming, withTimeout } from "./redis-link.ts";
import { px, sharedTrials } from "./redis-trial.ts";
import { databaseOf, keySpace, readAll } from "./redis-keys.ts";
import { rejoin } from "./rejoin.ts";
import { isChange } from "./wire.ts";
import { downHealth, forgottenAt, type StateBackend, type StateChange, type StateHealth, type StateLog } from "./types.ts";

interface RedisStateOptions extends Omit<MemoryStoreOptions, "onChange"> {
  readonly url: string;
  readonly prefix: string;
  readonly log: StateLog;
  readonly timing?: Partial<LinkTiming>;
}

/** One failure more (or, replayed, a count) and the TTL, in one atomic step: no key without a TTL. */
const STREAK_SCRIPT = `local n
if ARGV[1] == "incr" then n = redis.call("HINCRBY", KEYS[1], "n", 1) else n = tonumber(ARGV[2]); redis.call("HSET", KEYS[1], "n", n) end
redis.call("HSET", KEYS[1], "at", ARGV[3])
redis.call("PEXPIRE", KEYS[1], ARGV[4])
return n`;
/** Changes go out this long after the first of a batch (well inside the 1 s a replica may take to hear). */
const SEND_EVERY_MS = 25;
/** Changes per message on the channel. */
const PUBLISH_MAX = 500;
/** How long a closing gw waits for its last writes to reach Redis. */
const CLOSE_WAIT_MS = 1000;

/** Connects (waiting for the first attempt, bounded) and returns the store; never throws for an unreachable Redis. */
export async function openRedisState(o: RedisStateOptions): Promise<StateBackend> {
  const me = crypto.randomUUID();
  const keys = keySpace(o.prefix, databaseOf(o.url));
  const stickyTtlMs = o.stickyTtlMs ?? STICKY_TTL_MS;
  const streakTtlMs = o.streakTtlMs ?? STREAK_TTL_MS;
  const pending = new PendingChanges(entriesMax(o));
  const inflight = new Set<Promise<unknown>>();
  const where = redactUrl(o.url);

  const store = createMemoryStore({
    ...o,
    onChange(c) {
      pending.add(c);
      flushTimer ??= setTimeout(flush, SEND_EVERY_MS);
    },
  });
  let flushTimer: Timer | undefined;

  /** Send what waits, as one batch; while Redis is away it waits for the re-sync. */
  function flush(): void {
    flushTimer = undefined;
    const cmd = link.cmd();
    if (!cmd || pending.size === 0) return;
    const batch = pending.take();
    const done = writeBatch(cmd, batch, { live: true, publish: true }).catch(() => pending.restore(batch));
    inflight.add(done);
    void done.finally(() => inflight.delete(done));
  }

  /**
   * Each change to its key, then the whole batch on the channel (in messages of at most
   * PUBLISH_MAX changes, well inside Redis's output limit for subscribers). Commands issued in
   * one turn go out pipelined: a batch costs about one round trip, not one per change.
   */
  async function writeBatch(cmd: RedisClient, batch: readonly StateChange[], o: { live: boolean; publish: boolean }): Promise<void> {
    const t = Date.now();
    const writes: Promise<unknown>[] = [];
    const streaks: Promise<StateChange>[] = [];
    const sent: StateChange[] = [];
    for (const c of batch) {
      if (c.op === "setStreak") streaks.push(countStreak(cmd, c, o.live));
      else {
        const w = writeKey(cmd, c, t);
        if (w) [writes.push(w), sent.push(c)];
      }
    }
    sent.push(...(await Promise.all(streaks)));
    if (o.publish) {
      for (let i = 0; i < sent.length; i += PUBLISH_MAX) writes.push(cmd.publish(keys.channel, JSON.stringify({ from: me, cs: sent.slice(i, i + PUBLISH_MAX) })));
    }
    await Promise.all(writes);
  }

  /** The key command of one change (undefined for a sticky key already past its TTL). */
  function writeKey(cmd: RedisClient, c: Exclude<StateChange, { op: "setStreak" }>, t: number): Promise<unknown> | undefined {
    switch (c.op) {
      case "setCooldown":
        return cmd.send("SET", [keys.cd(c.route, c.target), JSON.stringify(c.c), "PX", px(forgottenAt(c.c) - t)]);
      case "clearCooldown":
        return cmd.del(keys.cd(c.route, c.target));
      case "setSticky": {
        const ttl = stickyTtlMs - (t - c.at);
        return ttl > 0 ? cmd.send("SET", [keys.st(c.key), JSON.stringify({ target: c.target, at: c.at }), "PX", px(ttl)]) : undefined;
      }
      case "clearSticky":
        return cmd.del(keys.st(c.key));
      case "resetStreak":
        return cmd.del(keys.fs(c.key));
    }
  }

  /** Live: one failure more, counted across replicas (the count comes back); replayed after an outage: our count. */
  async function countStreak(cmd: RedisClient, c: Extract<StateChange, { op: "setStreak" }>, live: boolean): Promise<StateChange> {
    const n = Number(await cmd.send("EVAL", [STREAK_SCRIPT, "1", keys.fs(c.key), live ? "incr" : "set", String(c.n), String(c.at), String(streakTtlMs)]));
    const counted: StateChange = { ...c, n };
    if (n !== c.n) store.apply(counted);
    return counted;
  }

  function hear(message: string): void {
    let m: { from?: unknown; cs?: unknown };
    try {
      m = JSON.parse(message) as typeof m;
    } catch {
      return;
    }
    if (m.from === me || !Array.isArray(m.cs)) return;
    for (const c of m.cs) if (isChange(c)) store.apply(c);
  }

  /** On every (re)connection: take in what Redis holds, then give it what changed here meanwhile. */
  async function resync(cmd: RedisClient, restartedSince: number | undefined, sameRedis: boolean): Promise<void> {
    const remote = await readAll(cmd, keys, Date.now());
    const waiting = pending.take();
    try {
      const changedHere = new Set(waiting.map(entryOf));
      if (restartedSince !== undefined || (remote.length === 0 && !sameRedis)) {
        // Redis restarted (empty, or from an older save), or this is the first gw: what it lacks
        // was lost, not cleared, and what this gw knows is the best there is, newer entries of a
        // gw that re-joined first aside. The same Redis process holding nothing is not that:
        // another gw cleared what this one held (a cooldown over), and its word stands.
        // (The others know it already: only what changed while Redis was away is published.)
        const merged = rejoin(store.snapshot(Date.now()), remote.filter((c) => !changedHere.has(entryOf(c))), restartedSince ?? Date.now());
        for (const c of merged.apply) store.apply(c);
        await writeBatch(cmd, [...merged.write, ...merged.drop], { live: false, publish: false });
        await writeBatch(cmd, waiting, { live: false, publish: true });
        return;
      }
      const remoteCooldowns = new Set<string>();
      for (const c of remote) {
        const entry = entryOf(c);
        if (c.op === "setCooldown") remoteCooldowns.add(entry);
        if (!changedHere.has(entry)) store.apply(c);
      }
      // A cooldown Redis no longer has was cleared (or ran out) while this gw was away.
      for (const c of store.coolingList(Date.now())) {
        const clear: StateChange = { op: "clearCooldown", route: c.route, target: c.target };
        if (!remoteCooldowns.has(entryOf(clear)) && !changedHere.has(entryOf(clear))) store.apply(clear);
      }
      await writeBatch(cmd, waiting, { live: false, publish: true });
    } catch (err) {
      pending.restore(waiting);
      throw err;
    } finally {
      // Changes made during the re-sync go out once the link counts as up.
      flushTimer ??= setTimeout(flush, SEND_EVERY_MS);
    }
  }

  const link = connectRedis({ url: o.url, where, channel: keys.channel, log: o.log, onMessage: hear, onUp: resync, timing: o.timing });
  await link.first;

  return {
    ...store,
    ...sharedTrials({ store, keys, me, now: Date.now, cmd: () => link.cmd() }),
    refresh: () => {},
    health(): StateHealth {
      const down = link.down();
      return { backend: "redis", up: !down, where, ...(down ? downHealth(down.problem, down) : {}) };
    },
    async close() {
      clearTimeout(flushTimer);
      flush();
      await withTimeout(Promise.allSettled([...inflight]), CLOSE_WAIT_MS, "").catch(() => {});
      link.close();
    },
  };
}
