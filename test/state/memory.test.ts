import { describe, expect, test } from "bun:test";
import { createMemoryStore, isAvailable, STICKY_TTL_MS, STREAK_TTL_MS } from "../../src/state/index.ts";

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
    expect(isAvailable(s.cooldown("r", "t"), NOW + 99)).toBe(false);
    expect(isAvailable(s.cooldown("r", "t"), NOW + 100)).toBe(true);
    s.beginTrial("r", "t", NOW + 500);
    expect(isAvailable(s.cooldown("r", "t"), NOW + 499)).toBe(false);
    expect(isAvailable(s.cooldown("r", "t"), NOW + 500)).toBe(true);
    s.clearCooldown("r", "t");
    expect(s.cooldown("r", "t")).toBeUndefined();
  });

  test("a new cooldown replaces the old one and drops its trial", () => {
    const s = createMemoryStore();
    s.setCooldown("r", "t", { until: NOW, kind: "transient", reason: "", setAt: NOW - 1 });
    s.beginTrial("r", "t", NOW + 1000);
    s.setCooldown("r", "t", { until: NOW + 60_000, kind: "transient", reason: "503", setAt: NOW + 5 });
    expect(s.cooldown("r", "t")).toEqual({ until: NOW + 60_000, kind: "transient", reason: "503", setAt: NOW + 5 });
  });

  test("endTrial: a trial without a verdict frees the half-open target at once, the cooldown entry stays", () => {
    const s = createMemoryStore();
    s.setCooldown("r", "t", { until: NOW, kind: "transient", reason: "503", setAt: NOW - 1 });
    s.beginTrial("r", "t", NOW + 120_000);
    expect(isAvailable(s.cooldown("r", "t"), NOW + 10)).toBe(false);
    s.endTrial("r", "t");
    expect(isAvailable(s.cooldown("r", "t"), NOW + 10)).toBe(true);
    expect(s.cooldown("r", "t")).toEqual({ until: NOW, kind: "transient", reason: "503", setAt: NOW - 1 });
    s.endTrial("r", "healthy"); // nothing to end
    expect(s.cooldown("r", "healthy")).toBeUndefined();
  });

  test("beginTrial on a healthy target does nothing", () => {
    const s = createMemoryStore();
    s.beginTrial("r", "t", NOW);
    expect(s.cooldown("r", "t")).toBeUndefined();
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
