// Changes that come from outside this process (another replica, through Redis) are checked before
// they touch the store: a wrong shape is dropped, never half-applied.

import type { CooldownKind, StateChange } from "./types.ts";

const KINDS: ReadonlySet<string> = new Set<CooldownKind>(["auth", "validation", "quota", "signature", "transient", "transient_heavy", "connection", "timeout"]);

const str = (v: unknown): v is string => typeof v === "string";
const num = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const maybe = <T>(v: unknown, is: (v: unknown) => v is T) => v === undefined || is(v);

export function isCooldownKind(v: unknown): v is CooldownKind {
  return str(v) && KINDS.has(v);
}

export function isChange(v: unknown): v is StateChange {
  if (!v || typeof v !== "object") return false;
  const c = v as Record<string, unknown>;
  switch (c.op) {
    case "setCooldown": {
      const cd = c.c as Record<string, unknown> | undefined;
      return str(c.route) && str(c.target) && !!cd && num(cd.until) && isCooldownKind(cd.kind) && str(cd.reason) && num(cd.setAt);
    }
    case "clearCooldown":
      return str(c.route) && str(c.target) && maybe(c.setAt, num) && maybe(c.until, num);
    case "setSticky":
      return str(c.key) && str(c.target) && num(c.at) && (c.was === null || maybe(c.was, str));
    case "setStreak":
      return str(c.key) && num(c.n) && c.n >= 0 && num(c.at);
    case "clearSticky":
    case "resetStreak":
      return str(c.key);
    default:
      return false;
  }
}
