// The connection to Redis behind `state = "redis://…"`: one client for commands, one for the
// change channel (a subscribed connection can do nothing else), both kept alive here. Loss is
// noticed by a closed socket or an unanswered heartbeat; gw then goes on from local state, says so
// once, and reconnects with backoff. On every (re)connection `onUp` runs (the re-sync) before the
// link counts as up, and messages heard meanwhile wait for it. The heartbeat renews a marker key:
// found gone, Redis lost its keys while connected (FLUSHALL, FLUSHDB, eviction) and is re-synced
// as one that restarted empty.

import { RedisClient } from "bun";
import { redisPassword } from "../config/state.ts";
import { askRefusal, isRefusal, refusalOf } from "./redis-refusal.ts";
import { isRedisAnswer } from "./redis-refused.ts";
import { type DownMark, downMark, type StateLog } from "./types.ts";

interface LinkOptions {
  readonly url: string;
  /** The URL as it may be shown (no password). */
  readonly where: string;
  /** The database the keys live in (the URL's /N): selected by gw itself, see `serverUrl`. */
  readonly database: number;
  readonly channel: string;
  /** The key whose TTL the heartbeat renews (set after each re-sync). */
  readonly marker: string;
  readonly log: StateLog;
  /** A message on the channel (never one heard before onUp finished). */
  onMessage(message: string): void;
  /**
   * Runs on every (re)connection before the link counts as up; a throw counts as a failed
   * connection. `restartedSince`: this is another Redis process than the one lost (it restarted,
   * empty or from an older save), so what it lacks may have been lost, not cleared; the time is
   * when this gw last knew the lost one to answer (its last heartbeat answered), not when it
   * noticed the loss — a gw stopped or suspended notices only once it runs again, and what others
   * wrote meanwhile it never heard.
   * `sameRedis`: it is the process of the last connection (its run_id unchanged), so what it lacks
   * was cleared by others, whatever it holds.
   */
  onUp(cmd: RedisClient, restartedSince: number | undefined, sameRedis: boolean): Promise<void>;
  readonly timing?: Partial<LinkTiming>;
}

export interface LinkTiming {
  readonly connectTimeoutMs: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  /** The marker's TTL renewed this often; one unanswered within `heartbeatTimeoutMs` drops the link. */
  readonly heartbeatMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly resyncTimeoutMs: number;
}

const LINK_TIMING: LinkTiming = { connectTimeoutMs: 2000, backoffMinMs: 200, backoffMaxMs: 5000, heartbeatMs: 5000, heartbeatTimeoutMs: 3000, resyncTimeoutMs: 10_000 };

interface RedisLink {
  /** The command client while the link is up. */
  cmd(): RedisClient | undefined;
  /** Settles after the first connection attempt, whatever its outcome. */
  readonly first: Promise<void>;
  /** Why the link is down, since when; undefined while up. */
  down(): (DownMark & { problem: string }) | undefined;
  close(): void;
}

export function connectRedis(o: LinkOptions): RedisLink {
  const t = { ...LINK_TIMING, ...o.timing };
  let up: { cmd: RedisClient; sub: RedisClient; heartbeat: Timer } | undefined;
  let down: (DownMark & { problem: string }) | undefined = { problem: "connecting", ...downMark(Date.now()) };
  let warned = false;
  /** The refusal last said (a changed one is said again). */
  let saidRefusal: string | undefined;
  let everUp = false;
  let delay = t.backoffMinMs;
  let retry: Timer | undefined;
  let closed = false;
  let attemptNo = 0;
  /** The run_id of the Redis process of the last connection (it changes when Redis restarts). */
  let runId: string | undefined;
  /** When the marker was last seen, if it was then found gone: Redis lost its keys since. */
  let emptiedSince: number | undefined;
  /** When the link last proved to work: connected, or a heartbeat answered (sent then). */
  let aliveAt = 0;
  /** Long enough for heartbeats missed by a busy gw; every replica renews it. */
  const markerTtl = String(Math.max(60_000, 10 * t.heartbeatMs));
  /** Whether Redis took the marker: a full one (OOM) refuses it, and the link stays up all the same. */
  let markerSet = false;
  const setMarker = (cmd: RedisClient) =>
    cmd.send("SET", [o.marker, "1", "PX", markerTtl]).then(
      () => true,
      (err) => (isRedisAnswer(err) ? false : Promise.reject(err)),
    );
  const password = redisPassword(o.url);

  const url = serverUrl(o.url);
  const client = () => new RedisClient(url, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: t.connectTimeoutMs });

  async function attempt(): Promise<void> {
    const no = ++attemptNo;
    const cmd = client();
    const sub = client();
    // Messages that arrive while re-syncing are applied after it, in order.
    let held: string[] | undefined = [];
    const lost = (why: string) => {
      if (no !== attemptNo || closed) return;
      fail(cmd, sub, password ? why.replaceAll(password, "***") : why);
    };
    // While connecting, a close is the connect's own failure, said by the catch below.
    let connecting = true;
    cmd.onclose = (err) => connecting || lost(err?.message || "connection closed");
    sub.onclose = (err) => connecting || lost(err?.message || "connection closed");
    try {
      try {
        await withTimeout(Promise.all([cmd.connect(), sub.connect()]), t.connectTimeoutMs, "connect timed out");
      } catch (err) {
        // Closed as it opened: Redis refused the handshake (Bun's client does not say why).
        const refusal = (err as { code?: string })?.code === "ERR_REDIS_CONNECTION_CLOSED" ? await askRefusal(o.url) : undefined;
        throw refusal ? new Error(refusal) : err;
      } finally {
        connecting = false;
      }
      // Refused (an index past Redis's `databases`): Redis's own words, said as a refusal with the fix.
      if (o.database !== 0) await cmd.send("SELECT", [String(o.database)]);
      await sub.subscribe(o.channel, (message) => (held ? held.push(message) : o.onMessage(message)));
      const run = /run_id:(\w+)/.exec(String(await cmd.send("INFO", ["server"]).catch(() => "")))?.[1];
      const restartedSince = runId !== undefined && run !== runId ? aliveAt : emptiedSince;
      await withTimeout(o.onUp(cmd, restartedSince, run !== undefined && run === runId && emptiedSince === undefined), t.resyncTimeoutMs, "re-sync timed out");
      markerSet = await setMarker(cmd);
      [runId, emptiedSince] = [run, undefined];
    } catch (err) {
      const why = describe(err);
      lost(refusalOf(why) ?? why);
      return;
    }
    if (no !== attemptNo || closed) return void quietClose(cmd, sub);
    const messages = held;
    held = undefined;
    for (const m of messages) o.onMessage(m);
    aliveAt = Date.now();
    const heartbeat = setInterval(() => {
      const asked = Date.now();
      // A marker Redis refused to keep (full, an ACL) is no marker lost: set again until it takes.
      const beat = markerSet ? cmd.send("PEXPIRE", [o.marker, markerTtl]) : setMarker(cmd).then((set) => ((markerSet = set), 1));
      withTimeout(beat, t.heartbeatTimeoutMs, "no answer to the heartbeat").then(
        (renewed) => {
          if (renewed !== 0) return void (aliveAt = asked);
          emptiedSince = aliveAt;
          lost("its keys are gone (FLUSHALL, FLUSHDB, eviction or a DEL)");
        },
        // Any answer proves the link alive, a refusal too: dropping the link for it would re-sync and log twice every few seconds.
        (err) => refusalOf(describe(err)) || lost(describe(err)),
      );
    }, t.heartbeatMs);
    up = { cmd, sub, heartbeat };
    if (down && (warned || everUp)) o.log.info(`state: Redis at ${o.where} reachable again; shared state re-synced`);
    [down, warned, saidRefusal, everUp, delay] = [undefined, false, undefined, true, t.backoffMinMs];
  }

  function fail(cmd: RedisClient, sub: RedisClient, why: string): void {
    if (up) clearInterval(up.heartbeat);
    up = undefined;
    attemptNo++; // late callbacks of this attempt are ignored from now on
    quietClose(cmd, sub);
    // A refusal (wrong password…) is the cause to show and say, even after a first warning.
    const refused = isRefusal(why);
    down ??= { problem: why, ...downMark(Date.now()) };
    if (down.problem === "connecting" || refused) down = { ...down, problem: why };
    if (!warned || (refused && why !== saidRefusal)) {
      warned = true;
      if (refused) saidRefusal = why;
      const what = refused ? `Redis at ${o.where} ${why}` : everUp ? `lost Redis at ${o.where} (${why})` : `Redis at ${o.where} unreachable (${why})`;
      o.log.warn(`state: ${what}; serving from local state, reconnecting in the background`);
    }
    clearTimeout(retry);
    retry = setTimeout(() => void attempt(), delay);
    delay = Math.min(t.backoffMaxMs, delay * 2);
  }

  const first = attempt();
  return {
    cmd: () => up?.cmd,
    first,
    down: () => down,
    close() {
      closed = true;
      clearTimeout(retry);
      if (up) {
        clearInterval(up.heartbeat);
        quietClose(up.cmd, up.sub);
      }
      up = undefined;
      attemptNo++;
    },
  };
}

// --- internal ---

function quietClose(...clients: RedisClient[]): void {
  for (const c of clients) {
    c.onclose = null;
    try {
      c.close();
    } catch {}
  }
}

/**
 * The URL without its database. Bun's client sends SELECT as it connects, and when Redis refuses
 * it (`ERR DB index is out of range`) its answer goes to the next command or is lost with the
 * connection it closes: gw said "unreachable (Connection closed)" and retried for ever. So gw
 * selects the database itself on the command connection (the subscribed one needs none: a channel
 * is heard in every database).
 */
function serverUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url; // the client says why
  }
  if (u.pathname === "" || u.pathname === "/") return url;
  u.pathname = "";
  return u.href;
}

/** One line; a refusal whole (the part Redis or TLS supplied is bounded where it is made, the fix must stay). */
function describe(err: unknown): string {
  const e = err as { message?: string; code?: string };
  const line = (e?.message || e?.code || String(err)).split("\n")[0]!;
  return isRefusal(line) ? line : line.slice(0, 200);
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
