// Where `state = "redis://…"` keeps things, and reading all of it back (on every (re)connection).
//
// Keys, all under `PREFIX:` and all with a TTL:
//   cd:ROUTE\0TARGET  cooldown JSON          until forgotten (types.ts forgottenAt: its end + 10 min)
//   cx:ROUTE\0TARGET  {setAt, until} JSON    a success ended that cooldown period: as long as the period
//                     would have lived, so a gw that re-joins late does not write it back (redis-merge.ts)
//   pr:ROUTE\0TARGET\0END  the probe before that trial: the gw whose probe holds it (its window),
//                     then "up" once a probe answered (until the cooldown is forgotten); redis-trial.ts
//   tr:ROUTE\0TARGET\0END  the holder of the trial of the cooldown ending at END: the trial window
//   st:KEY            {target, at} JSON      the sticky TTL from its last use
//   st-by-use         sorted set KEY → at    the sticky TTL from the last write: the newest STICKY_MAX
//                     sticky keys, the older ones deleted as new ones come (redis.ts STICKY_SCRIPT)
//   connected         "1"                    renewed by every gw's heartbeat: gone, Redis lost its keys (redis-link.ts)
//   fs:KEY            hash {n, at}           the streak TTL from its last failure (set by one script)
// Channel `PREFIX:changes` (`PREFIX:changes:dbN` for database N ≠ 0: keys live in their database,
// but a channel is heard by every client of the server, whichever database it uses — a staging
// gw on /1 would take prod's cooldowns on /0): {from, cs: StateChange[]}, a batch of changes per message.

import type { RedisClient } from "bun";
import type { StateChange } from "./types.ts";
import { STICKY_MAX } from "./memory.ts";
import { isChange } from "./wire.ts";

type KeySpace = ReturnType<typeof keySpace>;

export function keySpace(prefix: string, database = 0) {
  const p = `${prefix}:`;
  return {
    prefix: p,
    channel: database ? `${p}changes:db${database}` : `${p}changes`,
    cd: (route: string, target: string) => `${p}cd:${route}\0${target}`,
    cx: (route: string, target: string) => `${p}cx:${route}\0${target}`,
    pr: (route: string, target: string, end: number) => `${p}pr:${route}\0${target}\0${end}`,
    tr: (route: string, target: string, end: number) => `${p}tr:${route}\0${target}\0${end}`,
    st: (key: string) => `${p}st:${key}`,
    stickyByUse: `${p}st-by-use`,
    marker: `${p}connected`,
    fs: (key: string) => `${p}fs:${key}`,
    /** SCAN pattern for every key of this gateway (the prefix's glob characters escaped). */
    all: `${p.replace(/[*?[\]\\]/g, "\\$&")}*`,
  };
}

/**
 * The database a `redis://host:port/N` URL selects: 0 when it names none. The path alone, as the
 * client reads it: a `?db=N` read here named a channel of database N while the keys went to 0, so
 * a gw with `?db=3` and one without shared keys but never heard each other (config/state.ts refuses it).
 */
export function databaseOf(url: string): number {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 0;
  }
  return Number(/^\/(\d+)\/?$/.exec(u.pathname)?.[1] ?? 0);
}

/**
 * Every entry under the prefix, as changes (cooldowns and cleared periods first, then sticky and
 * streak keys oldest first) — of sticky and streak keys only the newest `keep` of each, as many as
 * the store keeps (memory.ts STICKY_MAX):
 * Redis keeps a session's key for its TTL (7 days), and 200,000 of them, applied one by one on the
 * event loop at every reconnection, held every request of every replica for seconds.
 */
export async function readAll(cmd: RedisClient, keys: KeySpace, now: number, keep = STICKY_MAX): Promise<StateChange[]> {
  const names: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = (await cmd.send("SCAN", [cursor, "MATCH", keys.all, "COUNT", "1000"])) as [string, string[]];
    cursor = next;
    names.push(...batch);
  } while (cursor !== "0");
  const byKind = (kind: string) => names.filter((n) => n.startsWith(`${keys.prefix}${kind}:`)).map((n) => [n, n.slice(keys.prefix.length + kind.length + 1)] as const);

  const out: StateChange[] = [];
  const cds = byKind("cd");
  const cdValues = await mget(cmd, cds.map(([n]) => n));
  cds.forEach(([, rest], i) => {
    const [route = "", target = ""] = rest.split("\0");
    const c = parse(cdValues[i]);
    const change = { op: "setCooldown", route, target, c };
    if (isChange(change)) out.push(change);
  });
  const cxs = byKind("cx");
  const cxValues = await mget(cmd, cxs.map(([n]) => n));
  cxs.forEach(([, rest], i) => {
    const [route = "", target = ""] = rest.split("\0");
    const v = parse(cxValues[i]) as { setAt?: unknown; until?: unknown } | undefined;
    const change = { op: "clearCooldown", route, target, setAt: v?.setAt, until: v?.until };
    if (isChange(change) && change.setAt !== undefined) out.push(change);
  });
  const later: StateChange[] = [];
  const sts = byKind("st");
  const stValues = await mget(cmd, sts.map(([n]) => n));
  sts.forEach(([, key], i) => {
    const v = parse(stValues[i]) as { target?: unknown; at?: unknown } | undefined;
    const change = { op: "setSticky", key, target: v?.target, at: v?.at };
    if (isChange(change)) later.push(change);
  });
  const fss = byKind("fs");
  const fsValues = (await Promise.all(fss.map(([n]) => cmd.send("HMGET", [n, "n", "at"])))) as [string | null, string | null][];
  fss.forEach(([, key], i) => {
    const [n, at] = fsValues[i] ?? [];
    const change = { op: "setStreak", key, n: Number(n), at: Number(at ?? now) };
    if (isChange(change)) later.push(change);
  });
  later.sort((a, b) => ("at" in a ? a.at : 0) - ("at" in b ? b.at : 0));
  return [...out, ...newest(later, "setSticky", keep), ...newest(later, "setStreak", keep)];
}

// --- internal ---

/** The last `keep` changes of `op` in `sorted`, in its order. */
function newest(sorted: readonly StateChange[], op: StateChange["op"], keep: number): StateChange[] {
  const of = sorted.filter((c) => c.op === op);
  return of.length > keep ? of.slice(-keep) : of;
}

async function mget(cmd: RedisClient, names: readonly string[]): Promise<(string | null)[]> {
  const out: (string | null)[] = [];
  for (let i = 0; i < names.length; i += 500) out.push(...((await cmd.send("MGET", names.slice(i, i + 500))) as (string | null)[]));
  return out;
}

function parse(v: string | null | undefined): unknown {
  if (!v) return undefined;
  try {
    return JSON.parse(v);
  } catch {
    return undefined;
  }
}
