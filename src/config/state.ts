// `[global] state` and `state_prefix` (overridden by $GW_STATE): where the LB keeps cooldowns,
// sticky sessions and failure streaks — a SQLite file beside the config (default), memory only,
// or a Redis shared by several gw.
import { join } from "node:path";
import type { Field, Reader } from "./reader.ts";
import type { StateConfig } from "./types.ts";

export const STATE_KEYS = ["state", "state_prefix"];
const DEFAULT_STATE_PREFIX = "gw";
const PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;
const HINT = 'use "local" (a file beside the config, the default), "memory" (nothing kept across restarts) or "redis://HOST:PORT" / "rediss://…" (shared by several gw)';

/** Redis's default `databases`. */
const REDIS_DATABASES = 16;

/** The state file of `state = "local"`, inside the config's .gw/. */
const stateFile = (dir: string) => join(dir, ".gw", "state.db");

export function readState(r: Reader, f: Map<string, Field>, dir: string): StateConfig {
  const field = f.get("state");
  const fromEnv = r.envValue("GW_STATE");
  const path = field?.path ?? ["global", "state"];
  const raw = fromEnv ?? r.str(field, { secret: true }) ?? "local";
  const where = fromEnv !== undefined ? "$GW_STATE" : "state";
  const prefixField = f.get("state_prefix");
  const prefix = r.str(prefixField) ?? DEFAULT_STATE_PREFIX;
  if (prefixField && !PREFIX.test(prefix)) {
    r.error(prefixField.path, `state_prefix "${prefix.slice(0, 80)}" is not a usable key prefix`, "use 1-64 letters, digits or _ . : -, e.g. state_prefix = \"team-a\"");
  }
  const value = raw.trim();
  if (value === "local" || value === "") return finish(r, prefixField, { kind: "local", file: stateFile(dir) });
  if (value === "memory") return finish(r, prefixField, { kind: "memory" });
  const problem = redisUrlProblem(value);
  if (problem === undefined) {
    const db = Number(new URL(value).pathname.slice(1) || 0);
    if (db >= REDIS_DATABASES) r.warn(path, `${where} names Redis database ${db}, and a Redis keeps ${REDIS_DATABASES} (0–${REDIS_DATABASES - 1}) unless its \`databases\` setting says more: gw's SELECT would fail`, `use a database from 0 to ${REDIS_DATABASES - 1}, or raise \`databases\` in redis.conf`);
    return { kind: "redis", url: value, prefix };
  }
  r.error(path, `${where} ${problem}`, HINT);
  return { kind: "memory" };
}

/** Why a state value is no Redis URL gw can use, or undefined when it is one. */
function redisUrlProblem(value: string): string | undefined {
  const shown = JSON.stringify(redactUrl(value).slice(0, 80));
  if (!/^rediss?:\/\//i.test(value)) return `${shown} is not a state backend`;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    // The usual cause: a generated password with / ? # or @ in it, which ends the URL's userinfo early.
    return value.includes("@") ? `${shown} is not a valid URL: percent-encode / ? # @ in its password (%2F %3F %23 %40)` : `${shown} is not a valid URL`;
  }
  if (!u.hostname) return `${shown} names no host`;
  if (u.pathname !== "" && u.pathname !== "/" && !/^\/\d{1,2}$/.test(u.pathname)) return `${shown}: the path must be a database number, e.g. /0`;
  const db = u.searchParams.get("db");
  // Read by no client of gw's (the keys went to database 0): the database is the path's alone.
  if (db !== null) return `${shown}: ?db= is not read; put the database in the path: redis://HOST:PORT/${/^\d{1,2}$/.test(db) ? db : "N"}`;
  return undefined;
}

/** A Redis URL as it may be shown: no user or password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    // No userinfo found, yet an @: a URL missing a slash (`redis:/:pw@host`) reads it as its path.
    if (!u.username && !u.password) return url.includes("@") ? upToLastAt(url) : url;
    u.username = "";
    u.password = "";
    return u.href;
  } catch {
    return upToLastAt(url);
  }
}

/**
 * Everything before the last @ hidden (a password that broke the URL may hold / or @ itself), but a
 * leading scheme and the : and / after it, however mistyped (`redis//:***@`, `redis:/:***@`): a
 * value that does not begin so (`:pw@host`, `redis;//…`) shows nothing before its @.
 */
const upToLastAt = (url: string): string => url.replace(/^([a-z][a-z0-9+.-]*[:/]+|).*@/is, "$1***@");

/** The password a Redis URL carries ("" when none): a secret to mask wherever gw shows text. */
export function redisPassword(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return "";
  }
}

/** One line for status output: `local /srv/gw/.gw/state.db`, `redis redis://host:6379 (prefix gw)`. */
export function describeState(s: StateConfig): string {
  if (s.kind === "local") return `local ${s.file}`;
  if (s.kind === "memory") return "memory";
  return `redis ${redactUrl(s.url)} (prefix ${s.prefix})`;
}

function finish(r: Reader, prefixField: Field | undefined, s: StateConfig): StateConfig {
  if (prefixField) r.warn(prefixField.path, "state_prefix only matters with a redis:// state", "remove it, or set state = \"redis://…\"");
  return s;
}
