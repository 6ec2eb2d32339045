import { describe, expect, test } from "bun:test";
import { CLOCK_SLACK_MS, createMemoryStore, STICKY_TTL_MS, STREAK_TTL_MS } from "../../src/state/memory.ts";
import { availableAt, isAvailable, type StateChange } from "../../src/state/types.ts";
import { HALF_OPEN_KEEP_MS } from "../../src/state/types.ts";

const NOW = 1_700_000_000_000;

describe("sticky map", () => {
  test("bounded: the least recently written key is evicted first", () => {
    const s = createMemoryStore({ stickyMax: 3 });
    s.setSticky("a", "t1", NOW);
    s.setSticky("b", "t2", NOW);
    s.setSticky("c", "t3", NOW);
    s.setSticky("a", "t1", NOW + 1); // refresh: "b" is now the oldest
    s.setSticky("d", "t4", NOW + 2);
    expect(s.sticky("b", NOW + 2)).toBeUndefined();
    expect(["a", "c", "d"].map((k) => s.sticky(k, NOW + 2))).toEqual(["t1", "t3", "t4"]);
  });

  test("10,000 keys by default, memory stays bounded under churn", () => {
    const s = createMemoryStore();
    for (let i = 0; i < 25_000; i++) s.setSticky(`k${i}`, "t", NOW);
    expect(s.sticky("k0", NOW)).toBeUndefined();
    expect(s.sticky("k14999", NOW)).toBeUndefined();
    expect(s.sticky("k15000", NOW)).toBe("t");
    expect(s.sticky("k24999", NOW)).toBe("t");
  });

  test("7-day sliding TTL: each write extends it", () => {
    const s = createMemoryStore();
    s.setSticky("k", "t", NOW);
    expect(s.sticky("k", NOW + STICKY_TTL_MS - 1)).toBe("t");
    s.setSticky("k", "t", NOW + STICKY_TTL_MS - 1);
    expect(s.sticky("k", NOW + 2 * STICKY_TTL_MS - 2)).toBe("t");
    expect(s.sticky("k", NOW + 2 * STICKY_TTL_MS - 1)).toBeUndefined();
  });

  test("clearSticky forgets the key", () => {
    const s = createMemoryStore();
    s.setSticky("k", "t", NOW);
    s.clearSticky("k");
    expect(s.sticky("k", NOW)).toBeUndefined();
  });
});

describe("failure streaks", () => {
  test("count up, reset on success", () => {
    const s = createMemoryStore();
    expect(s.streak("anon::g3f", NOW)).toBe(0);
    expect(s.addFailure("anon::g3f", NOW)).toBe(1);
    expect(s.addFailure("anon::g3f", NOW + 1)).toBe(2);
    expect(s.streak("anon::g3f", NOW + 2)).toBe(2);
    expect(s.streak("other::g3f", NOW + 2)).toBe(0);
    s.resetStreak("anon::g3f");
    expect(s.streak("anon::g3f", NOW + 3)).toBe(0);
  });

  test("expire 2 h after the last failure", () => {
    const s = createMemoryStore();
    s.addFailure("k", NOW);
    s.addFailure("k", NOW + 1000);
    expect(s.streak("k", NOW + 1000 + STREAK_TTL_MS - 1)).toBe(2);
    expect(s.streak("k", NOW + 1000 + STREAK_TTL_MS)).toBe(0);
    expect(s.addFailure("k", NOW + 1000 + STREAK_TTL_MS)).toBe(1);
  });
});

describe("cooldowns", () => {
  test("set, read, half-open after the end, cleared by success", () => {
    const s = createMemoryStore();
    s.setCooldown("r", "t", { until: NOW + 100, kind: "transient_heavy", reason: "429", setAt: NOW });
    expect(isAvailable(s.cooldown("r", "t", NOW + 99), NOW + 99)).toBe(false);
    expect(isAvailable(s.cooldown("r", "t", NOW + 100), NOW + 100)).toBe(true);
    s.claimTrial("r", "t", NOW + 500);
    expect(isAvailable(s.cooldown("r", "t", NOW + 499), NOW + 499)).toBe(false);
    expect(isAvailable(s.cooldown("r", "t", NOW + 500), NOW + 500)).toBe(true);
    s.clearCooldown("r", "t");
    expect(s.cooldown("r", "t", NOW)).toBeUndefined();
  });

  test("a new cooldown replaces the old one and drops its trial", () => {
    const s = createMemoryStore();
    s.setCooldown("r", "t", { until: NOW, kind: "transient", reason: "", setAt: NOW - 1 });
    s.claimTrial("r", "t", NOW + 1000);
    s.setCooldown("r", "t", { until: NOW + 60_000, kind: "transient", reason: "503", setAt: NOW + 5 });
    expect(s.cooldown("r", "t", NOW)).toEqual({ until: NOW + 60_000, kind: "transient", reason: "503", setAt: NOW + 5 });
  });

  test("endTrial: a trial without a verdict frees the half-open target at once, the cooldown entry stays", () => {
    const s = createMemoryStore();
    s.setCooldown("r", "t", { until: NOW, kind: "transient", reason: "503", setAt: NOW - 1 });
    s.claimTrial("r", "t", NOW + 120_000);
    expect(isAvailable(s.cooldown("r", "t", NOW + 10), NOW + 10)).toBe(false);
    s.endTrial("r", "t");
    expect(isAvailable(s.cooldown("r", "t", NOW + 10), NOW + 10)).toBe(true);
    expect(s.cooldown("r", "t", NOW)).toEqual({ until: NOW, kind: "transient", reason: "503", setAt: NOW - 1 });
    s.endTrial("r", "healthy"); // nothing to end
    expect(s.cooldown("r", "healthy", NOW)).toBeUndefined();
  });

  test("extendTrial: a claimed trial's window only grows; no claim, nothing to extend", () => {
    const s = createMemoryStore();
    s.setCooldown("r", "t", { until: NOW, kind: "transient", reason: "503", setAt: NOW - 1 });
    s.extendTrial("r", "t", NOW + 60_000); // not claimed: the next request is its trial
    expect(isAvailable(s.cooldown("r", "t", NOW + 10), NOW + 10)).toBe(true);
    s.claimTrial("r", "t", NOW + 1000);
    s.extendTrial("r", "t", NOW + 60_000);
    expect(isAvailable(s.cooldown("r", "t", NOW + 30_000), NOW + 30_000)).toBe(false);
    s.extendTrial("r", "t", NOW + 2000); // never shorter
    expect(s.cooldown("r", "t", NOW)?.trialUntil).toBe(NOW + 60_000);
    s.extendTrial("r", "healthy", NOW + 60_000);
    expect(s.cooldown("r", "healthy", NOW)).toBeUndefined();
  });

  test("the wall clock stepping back never makes a cooldown last longer than its own length from now", () => {
    const s = createMemoryStore();
    s.setCooldown("r", "t", { until: NOW + 120_000, kind: "transient_heavy", reason: "429", setAt: NOW });
    // 10 s later the clock is set back an hour: read as stored, the 120 s would last 3710 s more.
    const back = NOW + 10_000 - 3600_000;
    expect(s.cooldown("r", "t", back)).toMatchObject({ until: back + 120_000, setAt: back });
    expect(s.coolingList(back + 60_000)).toMatchObject([{ route: "r", target: "t", until: back + 120_000, halfOpen: false }]);
    // …and from there it counts down as usual: half-open after its length, not after an hour.
    expect(isAvailable(s.cooldown("r", "t", back + 119_999), back + 119_999)).toBe(false);
    expect(isAvailable(s.cooldown("r", "t", back + 120_000), back + 120_000)).toBe(true);
  });

  test("a trial in flight when the clock steps back keeps its own length too", () => {
    const s = createMemoryStore();
    s.setCooldown("r", "t", { until: NOW, kind: "transient", reason: "503", setAt: NOW - 60_000 });
    s.claimTrial("r", "t", NOW + 30_000);
    const back = NOW - 3600_000;
    expect(availableAt(s.cooldown("r", "t", back)) - back).toBeLessThanOrEqual(90_000);
  });

  test("a clock a little behind the one that set the cooldown (another replica's) keeps its end", () => {
    const s = createMemoryStore();
    s.setCooldown("r", "t", { until: NOW + 60_000, kind: "quota", reason: "429", setAt: NOW });
    expect(s.cooldown("r", "t", NOW - CLOCK_SLACK_MS)).toMatchObject({ until: NOW + 60_000, setAt: NOW });
  });

  test("bounded: a flood of cooldowns (unknown routes written to a shared Redis) keeps the 10,000 set last", () => {
    const s = createMemoryStore();
    const cd = { until: NOW + 60_000, kind: "quota" as const, reason: "429", setAt: NOW };
    s.setCooldown("r", "first", cd);
    s.setCooldown("r", "renewed", cd);
    for (let i = 0; i < 25_000; i++) s.apply({ op: "setCooldown", route: `ghost${i}`, target: "x/y", c: cd });
    s.setCooldown("r", "renewed", cd); // set again: the newest now
    expect(s.coolingList(NOW)).toHaveLength(10_000);
    expect(s.cooldown("r", "first", NOW)).toBeUndefined();
    expect(s.cooldown("ghost15000", "x/y", NOW)).toBeUndefined();
    expect(s.cooldown("ghost15001", "x/y", NOW)).toEqual(cd);
    expect(s.cooldown("r", "renewed", NOW)).toEqual(cd);
  });

  test("claimTrial on a healthy target does nothing", () => {
    const s = createMemoryStore();
    s.claimTrial("r", "t", NOW);
    expect(s.cooldown("r", "t", NOW)).toBeUndefined();
  });

  test("one process: every trial claim is its own (true), a probe's too", async () => {
    const s = createMemoryStore();
    s.setCooldown("r", "t", { until: NOW, kind: "transient", reason: "503", setAt: NOW - 100 });
    expect(await s.claimTrial("r", "t", NOW + 500)).toBe(true);
    expect(await s.claimProbe("r", "t", NOW + 500)).toBe("mine");
    expect(s.coolingList(NOW)).toMatchObject([{ until: NOW, halfOpen: true }]); // half-open from its very end
  });

  test("coolingList: soonest end first, half-open flagged, route/target kept apart", () => {
    const s = createMemoryStore();
    s.setCooldown("opus4.6", "relay/anthropic/claude", { until: NOW + 300, kind: "auth", reason: "401", setAt: NOW });
    s.setCooldown("g3f", "official/gemini-3-flash", { until: NOW - 5, kind: "transient", reason: "503", setAt: NOW - 100 });
    expect(s.coolingList(NOW)).toEqual([
      { route: "g3f", target: "official/gemini-3-flash", until: NOW - 5, kind: "transient", reason: "503", setAt: NOW - 100, halfOpen: true },
      { route: "opus4.6", target: "relay/anthropic/claude", until: NOW + 300, kind: "auth", reason: "401", setAt: NOW, halfOpen: false },
    ]);
  });
});

describe("changes for a backend (onChange)", () => {
  const recording = (opts: Parameters<typeof createMemoryStore>[0] = {}) => {
    const changes: StateChange[] = [];
    return { s: createMemoryStore({ ...opts, onChange: (c) => changes.push(c) }), changes };
  };

  test("only real changes are reported: a success on a healthy target or an unknown streak writes nothing", () => {
    const { s, changes } = recording();
    s.clearCooldown("r", "t");
    s.resetStreak("anon::r");
    s.clearSticky("cc:1::r");
    s.claimTrial("r", "t", NOW);
    s.endTrial("r", "t");
    expect(changes).toEqual([]);
    s.setCooldown("r", "t", { until: NOW + 10, kind: "transient", reason: "503", setAt: NOW });
    s.clearCooldown("r", "t");
    s.addFailure("anon::r", NOW);
    s.addFailure("anon::r", NOW + 1);
    s.resetStreak("anon::r");
    expect(changes.map((c) => c.op)).toEqual(["setCooldown", "clearCooldown", "setStreak", "setStreak", "resetStreak"]);
    expect(changes[3]).toEqual({ op: "setStreak", key: "anon::r", n: 2, at: NOW + 1 });
  });

  test("a sticky refresh to the same target is reported at most once a minute; a new target at once", () => {
    const { s, changes } = recording({ stickySaveEveryMs: 60_000 });
    s.setSticky("k", "a", NOW);
    for (let i = 1; i <= 59; i++) s.setSticky("k", "a", NOW + i * 1000);
    expect(changes).toHaveLength(1);
    s.setSticky("k", "a", NOW + 60_000);
    expect(changes).toHaveLength(2);
    s.setSticky("k", "b", NOW + 60_001);
    expect(changes.at(-1)).toEqual({ op: "setSticky", key: "k", target: "b", at: NOW + 60_001, was: "a" });
    s.clearSticky("k");
    expect(changes.at(-1)).toEqual({ op: "clearSticky", key: "k" });
  });

  test("apply takes a change silently; snapshot gives back what is still valid, oldest sticky first", () => {
    const { s, changes } = recording();
    s.apply({ op: "setSticky", key: "old", target: "a", at: NOW - STICKY_TTL_MS });
    s.apply({ op: "setSticky", key: "k1", target: "a", at: NOW - 2 });
    s.apply({ op: "setSticky", key: "k2", target: "b", at: NOW - 1 });
    s.apply({ op: "setCooldown", route: "r", target: "t", c: { until: NOW + 5, kind: "quota", reason: "403", setAt: NOW - 5 } });
    s.apply({ op: "setCooldown", route: "r", target: "half-open", c: { until: NOW, kind: "transient", reason: "503", setAt: NOW - 5 } });
    s.apply({ op: "setCooldown", route: "r", target: "forgotten", c: { until: NOW - HALF_OPEN_KEEP_MS, kind: "transient", reason: "503", setAt: NOW - HALF_OPEN_KEEP_MS - 5 } });
    s.apply({ op: "setStreak", key: "anon::r", n: 3, at: NOW - 10 });
    expect(changes).toEqual([]);
    expect(s.sticky("k2", NOW)).toBe("b");
    expect(s.streak("anon::r", NOW)).toBe(3);
    expect(s.snapshot(NOW)).toEqual([
      { op: "setCooldown", route: "r", target: "t", c: { until: NOW + 5, kind: "quota", reason: "403", setAt: NOW - 5 } },
      { op: "setCooldown", route: "r", target: "half-open", c: { until: NOW, kind: "transient", reason: "503", setAt: NOW - 5 } },
      { op: "setSticky", key: "k1", target: "a", at: NOW - 2 },
      { op: "setSticky", key: "k2", target: "b", at: NOW - 1 },
      { op: "setStreak", key: "anon::r", n: 3, at: NOW - 10 },
    ]);
  });

  test("a client's huge session key is kept (and reported) as its sha256", () => {
    const { s, changes } = recording();
    const huge = `pck:${"x".repeat(100_000)}::r`;
    s.setSticky(huge, "a", NOW);
    expect(s.sticky(huge, NOW)).toBe("a");
    expect(s.addFailure(huge, NOW)).toBe(1);
    const keys = changes.map((c) => ("key" in c ? c.key : ""));
    expect(keys.every((k) => /^h:[0-9a-f]{64}$/.test(k))).toBe(true);
    expect(new Set(keys).size).toBe(1);
  });
});

describe("cooldowns learned from elsewhere (onLearned)", () => {
  test("a new period taken in through apply is news; one set here, or a copy of one held, is not", () => {
    const s = createMemoryStore();
    const heard: string[] = [];
    s.onLearned((c) => heard.push(`${c.route} ${c.target} ${c.until}`));
    const cd = (until: number, setAt = 0) => ({ until, kind: "transient" as const, reason: "503", setAt });
    s.setCooldown("r", "own", cd(1000)); // set here: its setter (attempt.ts) watches it itself
    s.apply({ op: "setCooldown", route: "r", target: "own", c: cd(1000) }); // Redis giving it back
    s.apply({ op: "setCooldown", route: "r", target: "x", c: cd(2000) });
    s.apply({ op: "setCooldown", route: "r", target: "x", c: cd(2000) });
    s.apply({ op: "setCooldown", route: "r", target: "x", c: cd(3000, 1) }); // a new period
    s.apply({ op: "clearCooldown", route: "r", target: "x" });
    expect(heard).toEqual(["r x 2000", "r x 3000"]);
  });
});
