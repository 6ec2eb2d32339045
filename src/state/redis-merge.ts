// How a change meets what Redis holds for its entry (state/redis.ts writes every key through
// here), so that replicas writing one entry at the same moment end with one value, whichever
// write Redis takes first and in whatever order the others hear them:
//   cooldowns: the one that `outranks` the other stays (types.ts; the same rule in Lua here, and
//     in each gw's memory for what it hears); a success that ends a period leaves a mark (cx:)
//     for as long as that period would have lived, and a write of that period or an older one
//     finds it: a gw that re-joins late does not bring back a cooldown ended meanwhile;
//   sticky sessions: a write is kept only while the key holds the target its writer knew (`was`)
//     or none — the first replica to pick a new session's target wins it, and a move away from a
//     target the key no longer holds loses to the move that came first.
// Each is one script: no round trip more than the plain write. A write that lost resolves to
// false: its writer takes what Redis kept (`adopt`) and publishes nothing (the other replicas
// hear the winner from its own writer).

import type { RedisClient } from "bun";
import type { keySpace } from "./redis-keys.ts";
import { px } from "./redis-trial.ts";
import { forgottenAt, type StateChange } from "./types.ts";
import { isChange } from "./wire.ts";

/** KEYS: cd, cx. ARGV: the cooldown's JSON, its setAt, until, kind, TTL. types.ts `outranks` in Lua (`until` is a Lua keyword). */
const COOLDOWN_SCRIPT = `local s, u = tonumber(ARGV[2]), tonumber(ARGV[3])
local function read(key)
  local v = redis.call("GET", key)
  if not v then return nil end
  local ok, t = pcall(cjson.decode, v)
  if ok and type(t) == "table" and type(t.setAt) == "number" and type(t["until"]) == "number" then return v, t end
  return nil
end
local x, cleared = read(KEYS[2])
if cleared and cleared.setAt >= s then return {"cleared", x} end
local v, c = read(KEYS[1])
if c and (c.setAt > s or (c.setAt == s and (c["until"] < u or (c["until"] == u and tostring(c.kind) > ARGV[4])))) then return {"kept", v} end
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[5])
redis.call("DEL", KEYS[2])
return false`;

/** KEYS: cd, cx. ARGV: the ended period's setAt, the mark's JSON, its TTL. A newer period stays; of two marks, the newer. */
const CLEAR_SCRIPT = `local s = tonumber(ARGV[1])
local function setAt(key)
  local v = redis.call("GET", key)
  if not v then return nil end
  local ok, t = pcall(cjson.decode, v)
  if ok and type(t) == "table" and type(t.setAt) == "number" then return t.setAt, v end
  return nil
end
local newer, v = setAt(KEYS[1])
if newer and newer > s then return v end
redis.call("DEL", KEYS[1])
local marked = setAt(KEYS[2])
if not (marked and marked >= s) then redis.call("SET", KEYS[2], ARGV[2], "PX", ARGV[3]) end
return false`;

/**
 * KEYS: st:KEY, st-by-use. ARGV: {target, at} JSON, TTL, at, KEY, cap, the st: prefix, "1" when
 * `was` binds, was ("" for none), target. A session's key and its place in the index of sticky
 * keys by last use, in one atomic step; past the cap, the least recently used go (keys and
 * places). A client sending a new session id per request left every one of them in Redis for the
 * sticky TTL (7 days): at 100 requests/s, ~60 million keys, where a gw reads back only the newest
 * STICKY_MAX (redis-keys.ts readAll).
 */
const STICKY_SCRIPT = `if ARGV[7] == "1" then
  local v = redis.call("GET", KEYS[1])
  if v then
    local ok, s = pcall(cjson.decode, v)
    if ok and type(s) == "table" and type(s.target) == "string" and s.target ~= ARGV[9] and s.target ~= ARGV[8] then return v end
  end
end
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[2])
redis.call("ZADD", KEYS[2], ARGV[3], ARGV[4])
redis.call("PEXPIRE", KEYS[2], ARGV[2])
local over = redis.call("ZCARD", KEYS[2]) - tonumber(ARGV[5])
if over > 0 then
  local gone = redis.call("ZPOPMIN", KEYS[2], over)
  for i = 1, #gone, 2 do redis.call("DEL", ARGV[6] .. gone[i]) end
end
return false`;

interface KeyWriterOptions {
  readonly keys: ReturnType<typeof keySpace>;
  readonly stickyTtlMs: number;
  readonly stickyMax: number;
  /** Redis kept `kept` where `lost` was written: take it (the writer's memory may hold `lost`). */
  adopt(kept: StateChange, lost: StateChange): void;
}

type KeyChange = Exclude<StateChange, { op: "setStreak" }>;

/**
 * The key command of one change, at time `t`: resolves to true once written, false when Redis
 * kept what it held (adopted); undefined when there is nothing to write (a sticky key past its TTL).
 */
export function keyWriter(o: KeyWriterOptions): (cmd: RedisClient, c: KeyChange, t: number) => Promise<boolean> | undefined {
  const { keys } = o;
  const lost = (c: KeyChange, kept: unknown) => {
    if (!kept) return true;
    const change = keptAs(c, kept);
    if (change) o.adopt(change, c);
    return false;
  };
  return (cmd, c, t) => {
    switch (c.op) {
      case "setCooldown": {
        const args = [COOLDOWN_SCRIPT, "2", keys.cd(c.route, c.target), keys.cx(c.route, c.target), JSON.stringify(c.c), String(c.c.setAt), String(c.c.until), c.c.kind, px(forgottenAt(c.c) - t)];
        return cmd.send("EVAL", args).then((kept) => lost(c, kept));
      }
      case "clearCooldown": {
        if (c.setAt === undefined || c.until === undefined) return cmd.del(keys.cd(c.route, c.target)).then(() => true);
        const mark = { setAt: c.setAt, until: c.until };
        const args = [CLEAR_SCRIPT, "2", keys.cd(c.route, c.target), keys.cx(c.route, c.target), String(c.setAt), JSON.stringify(mark), px(forgottenAt(mark) - t)];
        return cmd.send("EVAL", args).then((kept) => lost(c, kept));
      }
      case "setSticky": {
        const ttl = o.stickyTtlMs - (t - c.at);
        if (ttl <= 0) return undefined;
        const value = JSON.stringify({ target: c.target, at: c.at });
        const args = [STICKY_SCRIPT, "2", keys.st(c.key), keys.stickyByUse, value, px(ttl), String(c.at), c.key, String(o.stickyMax), keys.st(""), c.was === undefined ? "0" : "1", c.was ?? "", c.target];
        return cmd.send("EVAL", args).then((kept) => lost(c, kept));
      }
      case "clearSticky":
        return Promise.all([cmd.del(keys.st(c.key)), cmd.send("ZREM", [keys.stickyByUse, c.key])]).then(() => true);
      case "resetStreak":
        return cmd.del(keys.fs(c.key)).then(() => true);
    }
  };
}

// --- internal ---

/** What a script's answer says Redis kept for `c`'s entry, as a change (undefined when unreadable). */
function keptAs(c: KeyChange, kept: unknown): StateChange | undefined {
  const [how, raw] = Array.isArray(kept) ? (kept as [string, string]) : ["kept", String(kept)];
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const change =
    "key" in c
      ? { op: "setSticky", key: c.key, target: v.target, at: v.at }
      : how === "cleared"
        ? { op: "clearCooldown", route: c.route, target: c.target, setAt: v.setAt, until: v.until }
        : { op: "setCooldown", route: c.route, target: c.target, c: v };
  return isChange(change) ? change : undefined;
}
