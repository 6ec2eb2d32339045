// One lifetime for a half-open entry (cooldown over, no trial has cleared it) in every store:
// forgotten HALF_OPEN_KEEP_MS after its end (state/types.ts forgottenAt) — by the memory copy
// while gw runs, by the state file across a restart, by Redis for a replica that starts later.
// A thinking-signature entry waits for a signed request to take its trial, which may never come.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openLocalState } from "../../src/state/local.ts";
import { openRedisState } from "../../src/state/redis.ts";
import { type Cooldown, forgottenAt, HALF_OPEN_KEEP_MS } from "../../src/state/types.ts";
import { createMemoryStore, type StateStore } from "../../src/state/index.ts";
import { cleanedUp, startRedis } from "../helpers/redis.ts";
import { until } from "../helpers/supervisor.ts";
import { tempDir } from "../helpers/tmp.ts";

const { open, servers } = cleanedUp();
const log = { info: () => {}, warn: () => {} };

/** A signature cooldown of 120 s that ended `agoMs` before `now`. */
const ended = (now: number, agoMs: number): Cooldown => ({ until: now - agoMs, kind: "signature", reason: "400 invalid signature", setAt: now - agoMs - 120_000 });

/** `recent` ended a second ago; `old` is forgotten 300 ms after `now`. */
function setBoth(s: StateStore, now: number): { recent: Cooldown; old: Cooldown } {
  const recent = ended(now, 1000);
  const old = ended(now, HALF_OPEN_KEEP_MS - 300);
  s.setCooldown("opus", "recent", recent);
  s.setCooldown("opus", "old", old);
  return { recent, old };
}

/** What a running store holds at `at`, by both readers (the pick's and the status page's). */
function held(s: StateStore, at: number): string[] {
  const read = ["recent", "old"].filter((t) => s.cooldown("opus", t, at) !== undefined);
  expect(s.coolingList(at).map((c) => c.target).sort()).toEqual([...read].sort());
  return read;
}

describe("a half-open entry is forgotten HALF_OPEN_KEEP_MS after its end", () => {
  test("the rule: 10 minutes after the end, or when a trial claimed past that ends", () => {
    const c = ended(1_700_000_000_000, 0);
    expect(forgottenAt(c)).toBe(c.until + 600_000);
    expect(forgottenAt({ ...c, trialUntil: c.until + 700_000 })).toBe(c.until + 700_000);
  });

  test("memory: read then, it is gone; a trial still in flight keeps it until it ends", () => {
    const s = createMemoryStore();
    const now = 1_700_000_000_000;
    const { old } = setBoth(s, now);
    expect(held(s, now)).toEqual(["recent", "old"]);
    expect(held(s, forgottenAt(old) - 1)).toEqual(["recent", "old"]);
    expect(held(s, forgottenAt(old))).toEqual(["recent"]);
    expect(s.snapshot(forgottenAt(old)).map((c) => ("target" in c ? c.target : ""))).toEqual(["recent"]);

    const c = ended(now, HALF_OPEN_KEEP_MS - 300);
    s.setCooldown("opus", "trial", c);
    s.claimTrial("opus", "trial", forgottenAt(c) + 5_000); // a tool call's input awaited for minutes
    expect(s.cooldown("opus", "trial", forgottenAt(c) + 4_999)).toBeDefined();
    expect(s.cooldown("opus", "trial", forgottenAt(c) + 5_000)).toBeUndefined();
  });

  test("local: a restart keeps it while it lasts (an upgrade is no reason to forget a failure) and drops it, and its row, after", async () => {
    const file = join(tempDir("gw-state-"), ".gw", "state.db");
    const now = 1_700_000_000_000;
    let clock = now;
    const first = openLocalState({ file, log, now: () => clock });
    open.push(first);
    const { old } = setBoth(first, now);
    expect(held(first, forgottenAt(old))).toEqual(["recent"]);
    await first.close();

    const second = openLocalState({ file, log, now: () => clock });
    open.push(second);
    expect(held(second, now)).toEqual(["recent", "old"]);
    await second.close();

    clock = forgottenAt(old);
    const third = openLocalState({ file, log, now: () => clock });
    open.push(third);
    expect(held(third, clock)).toEqual(["recent"]);
    await third.close();
    const { Database } = await import("bun:sqlite");
    const db = new Database(file, { readonly: true });
    expect(db.query("SELECT target FROM cooldown").all()).toEqual([{ target: "recent" }]); // pruned at the start
    db.close();
  });

  test("redis: the key lives as long (its TTL), a later replica loads it until then, and a running replica forgets it too", async () => {
    const r = await startRedis();
    servers.push(r);
    const a = await openRedisState({ url: r.url, prefix: "gw", log });
    open.push(a);
    const now = Date.now();
    const { old } = setBoth(a, now);
    const look = await r.client();
    const key = (t: string) => `gw:cd:opus\0${t}`;
    await until(async () => Number(await look.send("EXISTS", [key("recent"), key("old")])) === 2, 1000, () => "both keys in Redis");
    // Set at `now` or a little later: the TTL ends at forgottenAt or a little before, never after.
    const recentTtl = Number(await look.send("PTTL", [key("recent")]));
    expect(recentTtl).toBeGreaterThan(HALF_OPEN_KEEP_MS - 1000 - 5_000);
    expect(recentTtl).toBeLessThanOrEqual(HALF_OPEN_KEEP_MS - 1000);
    expect(held(a, forgottenAt(old))).toEqual(["recent"]);

    await until(async () => Number(await look.send("EXISTS", [key("old")])) === 0, 5000, () => "the old key to expire");
    const later = await openRedisState({ url: r.url, prefix: "gw", log });
    open.push(later);
    expect(held(later, Date.now())).toEqual(["recent"]);
  });
});
