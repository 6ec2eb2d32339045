// `state = "redis://…"`: several gw share cooldowns, sticky sessions, failure streaks and the
// half-open trial. Each gw keeps reading its own in-memory copy (no round trip per request); its
// changes go to Redis as keys (for a gw that starts or reconnects later, see redis-keys.ts) and
// on one channel (for the gw running now), and it applies what the others publish. Only claiming
// a half-open target's trial (or its probe's) asks Redis and waits (one script, one round trip),
// so one trial runs across all replicas, after one probe (redis-trial.ts).

import type { RedisClient } from "bun";
import { redactUrl } from "../config/state.ts";
import { entryOf, PendingChanges } from "./changes.ts";
import { createMemoryStore, entriesMax, type MemoryStoreOptions, STICKY_MAX, STICKY_TTL_MS, STREAK_TTL_MS } from "./memory.ts";
import { connectRedis, type LinkTiming, withTimeout } from "./redis-link.ts";
import { keyWriter } from "./redis-merge.ts";
import { sharedTrials } from "./redis-trial.ts";
import { databaseOf, keySpace, readAll } from "./redis-keys.ts";
import { isRedisAnswer, RefusedWrites, WRITE_RETRY_TIMING, type WriteRetryTiming } from "./redis-refused.ts";
import { rejoin } from "./rejoin.ts";
import { isChange } from "./wire.ts";
import { downHealth, type StateBackend, type StateChange, type StateHealth, type StateLog } from "./types.ts";

interface RedisStateOptions extends Omit<MemoryStoreOptions, "onChange"> {
  readonly url: string;
  readonly prefix: string;
  readonly log: StateLog;
  readonly timing?: Partial<LinkTiming & WriteRetryTiming>;
}

/** What became of a batch: changes Redis refused (with its first refusal's words) and changes a lost connection took. */
interface Outcome {
  readonly refused: StateChange[];
  readonly lost: StateChange[];
  error?: string;
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
  const database = databaseOf(o.url);
  const keys = keySpace(o.prefix, database);
  const stickyTtlMs = o.stickyTtlMs ?? STICKY_TTL_MS;
  const streakTtlMs = o.streakTtlMs ?? STREAK_TTL_MS;
  const stickyMax = o.stickyMax ?? STICKY_MAX;
  const pending = new PendingChanges(entriesMax(o));
  const where = redactUrl(o.url);

  const timing = { ...WRITE_RETRY_TIMING, ...o.timing };
  const refused = new RefusedWrites({ where, log: o.log, max: entriesMax(o), timing, retry: () => ((retryDue = true), flush()) });
  /** The refused changes go again with the next batch. */
  let retryDue = false;
  /** A batch is on its way: the next waits for it, so a refused change put back is never older than one sent after it. */
  let writing: Promise<void> | undefined;

  const store = createMemoryStore({
    ...o,
    onChange(c) {
      pending.add(c);
      refused.changes.forget(c); // this one is newer, and goes out with the next batch
      flushTimer ??= setTimeout(flush, SEND_EVERY_MS);
    },
  });
  let flushTimer: Timer | undefined;
  const writeKey = keyWriter({
    keys,
    stickyTtlMs,
    stickyMax,
    adopt(kept, lost) {
      // A session's write lost to another replica's: take its target, unless this gw heard of a newer one since.
      if (lost.op !== "setSticky" || store.sticky(lost.key, Date.now()) === lost.target) store.apply(kept);
    },
  });

  /** Send what waits, as one batch (the refused changes too when their retry is due); while Redis is away it waits for the re-sync. */
  function flush(): void {
    flushTimer = undefined;
    const cmd = link.cmd();
    if (!cmd || writing || (pending.size === 0 && !retryDue)) return;
    const again = retryDue ? waitingRefused() : [];
    retryDue = false;
    const batch = pending.take();
    writing = Promise.all([writeBatch(cmd, again, { live: false, publish: false }), writeBatch(cmd, batch, { live: true, publish: true })])
      .then((outcomes) => settle(outcomes))
      .finally(() => {
        writing = undefined;
        if (pending.size > 0) flushTimer ??= setTimeout(flush, SEND_EVERY_MS);
      });
  }

  /** The refused changes that nothing newer waits to replace. */
  function waitingRefused(): StateChange[] {
    return refused.changes.take().filter((c) => !pending.has(c));
  }

  /**
   * What a batch left: a change Redis refused waits for the retry (unless a newer one waits
   * already); one a lost connection took is put back for the re-sync.
   */
  function settle(outcomes: readonly Outcome[]): void {
    let error: string | undefined;
    for (const out of outcomes) {
      pending.restore(out.lost);
      if (out.error === undefined) continue;
      refused.refused(out.refused.filter((c) => !pending.has(c)), out.error);
      error = out.error;
    }
    if (error === undefined && outcomes.every((out) => out.lost.length === 0)) refused.wentThrough();
  }

  /**
   * Each change to its key, then the batch on the channel (in messages of at most PUBLISH_MAX
   * changes, well inside Redis's output limit for subscribers) — a change whose key Redis refused
   * too: the others hear it all the same; not one whose entry Redis kept as another replica wrote
   * it (redis-merge.ts: this gw took that one instead). Commands issued in one turn go out
   * pipelined: a batch costs about one round trip, not one per change. Never throws.
   */
  async function writeBatch(cmd: RedisClient, batch: readonly StateChange[], o: { live: boolean; publish: boolean }): Promise<Outcome> {
    const out: Outcome = { refused: [], lost: [] };
    const failed = (c: StateChange, err: unknown) => {
      if (!isRedisAnswer(err)) return void out.lost.push(c);
      out.refused.push(c);
      out.error ??= (err as Error).message;
    };
    const t = Date.now();
    const sends = batch.map((c) => (c.op === "setStreak" ? countStreak(cmd, c, o.live) : writeKey(cmd, c, t)?.then((stored) => (stored ? c : undefined))));
    const sent: StateChange[] = [];
    (await Promise.allSettled(sends)).forEach((s, i) => {
      const c = batch[i]!;
      if (s.status === "rejected") failed(c, s.reason);
      if (sends[i] === undefined) return;
      if (s.status === "rejected") sent.push(c);
      else if (s.value) sent.push(s.value);
    });
    if (o.publish && out.lost.length === 0) {
      const messages: Promise<unknown>[] = [];
      for (let i = 0; i < sent.length; i += PUBLISH_MAX) messages.push(cmd.publish(keys.channel, JSON.stringify({ from: me, cs: sent.slice(i, i + PUBLISH_MAX) })));
      for (const s of await Promise.allSettled(messages)) if (s.status === "rejected" && isRedisAnswer(s.reason)) out.error ??= (s.reason as Error).message;
    }
    return out;
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
    const waiting = [...waitingRefused(), ...pending.take()];
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
        return settleResync([await writeBatch(cmd, [...merged.write, ...merged.drop], { live: false, publish: false }), await writeBatch(cmd, waiting, { live: false, publish: true })]);
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
      settleResync([await writeBatch(cmd, waiting, { live: false, publish: true })]);
    } catch (err) {
      pending.restore(waiting);
      throw err;
    } finally {
      // Changes made during the re-sync go out once the link counts as up.
      flushTimer ??= setTimeout(flush, SEND_EVERY_MS);
    }
  }

  /** A re-sync's writes: a lost connection fails it (what waited is put back whole); refusals wait for their retry. */
  function settleResync(outcomes: readonly Outcome[]): void {
    if (outcomes.some((out) => out.lost.length > 0)) throw new Error("connection lost while re-syncing");
    settle(outcomes);
  }

  const link = connectRedis({ url: o.url, where, database, channel: keys.channel, marker: keys.marker, log: o.log, onMessage: hear, onUp: resync, timing: o.timing });
  await link.first;

  return {
    ...store,
    ...sharedTrials({ store, keys, me, now: Date.now, cmd: () => link.cmd() }),
    refresh: () => {},
    health(): StateHealth {
      const down = link.down() ?? refused.down();
      return { backend: "redis", up: !down, where, ...(down ? downHealth(down.problem, down) : {}) };
    },
    async close() {
      clearTimeout(flushTimer);
      refused.stop();
      const last = async () => {
        await writing;
        retryDue = true;
        flush();
        await writing;
      };
      await withTimeout(last(), CLOSE_WAIT_MS, "").catch(() => {});
      link.close();
    },
  };
}
