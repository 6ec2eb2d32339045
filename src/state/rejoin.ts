// A Redis that restarted comes back empty or from a save older than what the replicas heard since
// (an RDB snapshot of some minutes ago). What it lacks then was not cleared — it was lost — so
// the entries of both sides are merged by when they were written, instead of taking Redis's word
// for what no longer exists.

import { entryOf } from "./changes.ts";
import type { StateChange } from "./types.ts";

interface Rejoin {
  /** Entries another gw wrote after the restart, newer than ours: take them. */
  readonly apply: StateChange[];
  /** What this gw holds that Redis lacks or has older: give it back. */
  readonly write: StateChange[];
  /** Entries of the old save that this gw has seen cleared since: remove them from Redis. */
  readonly drop: StateChange[];
}

/**
 * `local`: this gw's snapshot; `remote`: what the restarted Redis holds; `lostAt`: when this gw
 * lost the Redis that went away. Until then it heard every change, so an entry it lacks that was
 * written before then was cleared (a success ended the cooldown, a session moved on) and is
 * dropped; one written later comes from a gw that re-joined first and is taken. A cooldown of
 * this gw whose period another gw ended since the restart (its cx: mark: redis-merge.ts) is
 * over here too — this gw may have been away far longer than the restart (stopped, suspended).
 */
export function rejoin(local: readonly StateChange[], remote: readonly StateChange[], lostAt: number): Rejoin {
  const mine = new Map(local.map((c) => [entryOf(c), c]));
  const apply: StateChange[] = [];
  const drop: StateChange[] = [];
  for (const r of remote) {
    const key = entryOf(r);
    const l = mine.get(key);
    if (r.op === "clearCooldown") {
      if (l?.op === "setCooldown" && r.setAt !== undefined && l.c.setAt <= r.setAt) {
        apply.push(r);
        mine.delete(key);
      }
      continue;
    }
    if (l ? writtenAt(r) > writtenAt(l) : writtenAt(r) >= lostAt) {
      apply.push(r);
      mine.delete(key);
    } else if (!l) {
      const gone = cleared(r);
      if (gone) drop.push(gone);
    }
  }
  return { apply, write: [...mine.values()], drop };
}

// --- internal ---

/** When an entry was last written: a cooldown's start, a sticky key's last use, a streak's last failure. */
function writtenAt(c: StateChange): number {
  if (c.op === "setCooldown") return c.c.setAt;
  return "at" in c ? c.at : 0;
}

function cleared(c: StateChange): StateChange | undefined {
  switch (c.op) {
    case "setCooldown":
      return { op: "clearCooldown", route: c.route, target: c.target };
    case "setSticky":
      return { op: "clearSticky", key: c.key };
    case "setStreak":
      return { op: "resetStreak", key: c.key };
    default:
      return undefined;
  }
}
