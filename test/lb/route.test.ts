import { describe, expect, test } from "bun:test";
import { explainPick, type PickContext, stickyAction } from "../../src/lb/route.ts";
import { createMemoryStore } from "../../src/state/index.ts";
import { route, seededRandom } from "../helpers/policy.ts";

const NONE = new Set<string>();
const NOW = 1_700_000_000_000;
/** The target the pick chose (what attempt.ts sends to). */
const pickTarget = (r: ReturnType<typeof route>, ctx: PickContext) => explainPick(r, ctx)?.target;

function counts(r: ReturnType<typeof route>, n: number, seed = 7) {
  const random = seededRandom(seed);
  const c: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const t = pickTarget(r, { tried: NONE, now: NOW, random });
    c[t!.id] = (c[t!.id] ?? 0) + 1;
  }
  return c;
}

describe("without state", () => {
  test("weights split traffic proportionally (80/20 within 2 points over 20k picks)", () => {
    const c = counts(route("opus", [{ id: "a/m", weight: 80 }, { id: "b/m", weight: 20 }]), 20_000);
    expect(Math.abs(c["a/m"]! / 20_000 - 0.8)).toBeLessThan(0.02);
    expect(Math.abs(c["b/m"]! / 20_000 - 0.2)).toBeLessThan(0.02);
  });

  test("three targets 1:1:2", () => {
    const c = counts(route("r", [{ id: "a" }, { id: "b" }, { id: "c", weight: 2 }]), 20_000, 99);
    expect(Math.abs(c.a! / 20_000 - 0.25)).toBeLessThan(0.02);
    expect(Math.abs(c.b! / 20_000 - 0.25)).toBeLessThan(0.02);
    expect(Math.abs(c.c! / 20_000 - 0.5)).toBeLessThan(0.02);
  });

  test("highest priority tier first, lower tiers after it is tried", () => {
    const r = route("r", [{ id: "low", priority: 0, weight: 100 }, { id: "hi1", priority: 5 }, { id: "hi2", priority: 5 }]);
    const random = seededRandom(1);
    const first = pickTarget(r, { tried: NONE, now: NOW, random })!;
    expect(first.id.startsWith("hi")).toBe(true);
    const second = pickTarget(r, { tried: new Set([first.id]), now: NOW, random })!;
    expect(second.id).toBe(first.id === "hi1" ? "hi2" : "hi1");
    expect(pickTarget(r, { tried: new Set(["hi1", "hi2"]), now: NOW, random })!.id).toBe("low");
  });

  test("weight 0 is never picked unless nothing else is left", () => {
    const r = route("r", [{ id: "zero", weight: 0, priority: 9 }, { id: "one", weight: 1 }]);
    const c = counts(r, 2000);
    expect(c.zero).toBeUndefined();
    const last = explainPick(r, { tried: new Set(["one"]), now: NOW });
    expect(last).toMatchObject({ target: { id: "zero" }, reason: "zero-weight" });
  });

  test("undefined when every target was tried", () => {
    const r = route("r", [{ id: "a" }, { id: "b" }]);
    expect(pickTarget(r, { tried: new Set(["a", "b"]), now: NOW })).toBeUndefined();
  });
});

describe("with cooldowns", () => {
  const r = route("r", [{ id: "a", weight: 100 }, { id: "b", weight: 1 }, { id: "c", weight: 1 }]);

  test("cooling targets are skipped", () => {
    const state = createMemoryStore();
    state.setCooldown("r", "a", { until: NOW + 60_000, kind: "transient", reason: "503", setAt: NOW });
    const random = seededRandom(3);
    for (let i = 0; i < 500; i++) expect(pickTarget(r, { tried: NONE, now: NOW, random, state })!.id).not.toBe("a");
  });

  test("a cooldown on another route does not matter", () => {
    const state = createMemoryStore();
    state.setCooldown("other", "a", { until: NOW + 60_000, kind: "auth", reason: "401", setAt: NOW });
    const c: Record<string, number> = {};
    const random = seededRandom(5);
    for (let i = 0; i < 1000; i++) {
      const id = pickTarget(r, { tried: NONE, now: NOW, random, state })!.id;
      c[id] = (c[id] ?? 0) + 1;
    }
    expect(c.a!).toBeGreaterThan(900);
  });

  test("all cooling: the one whose cooldown ends soonest", () => {
    const state = createMemoryStore();
    state.setCooldown("r", "a", { until: NOW + 90_000, kind: "transient", reason: "", setAt: NOW });
    state.setCooldown("r", "b", { until: NOW + 10_000, kind: "auth", reason: "", setAt: NOW });
    state.setCooldown("r", "c", { until: NOW + 50_000, kind: "quota", reason: "", setAt: NOW });
    expect(explainPick(r, { tried: NONE, now: NOW, state })).toMatchObject({
      target: { id: "b" },
      reason: "soonest-cooldown",
      trial: false,
    });
    expect(pickTarget(r, { tried: new Set(["b"]), now: NOW, state })!.id).toBe("c");
  });

  test("all cooling until the same moment: the heavier, then the first in the file", () => {
    const tie = route("r", [{ id: "x", weight: 1 }, { id: "y", weight: 3 }, { id: "z", weight: 3 }]);
    const state = createMemoryStore();
    for (const id of ["x", "y", "z"]) state.setCooldown("r", id, { until: NOW + 10_000, kind: "transient", reason: "", setAt: NOW });
    expect(explainPick(tie, { tried: NONE, now: NOW, state })).toMatchObject({ target: { id: "y" }, reason: "soonest-cooldown" });
    expect(pickTarget(tie, { tried: new Set(["y"]), now: NOW, state })!.id).toBe("z");
    expect(pickTarget(tie, { tried: new Set(["y", "z"]), now: NOW, state })!.id).toBe("x");
  });

  test("half-open: after the cooldown one trial request, others stay away until it ends", () => {
    const state = createMemoryStore();
    const solo = route("s", [{ id: "a", weight: 100 }, { id: "b", weight: 1 }]);
    state.setCooldown("s", "a", { until: NOW + 1000, kind: "transient", reason: "", setAt: NOW });
    const later = NOW + 2000;
    // Only "a" can be chosen when b is tried: it is half-open, so the pick is its trial.
    const pick = explainPick(solo, { tried: new Set(["b"]), now: later, state })!;
    expect(pick).toMatchObject({ target: { id: "a" }, trial: true });
    state.claimTrial("s", "a", later + 30_000);
    // While the trial is in flight, concurrent requests go elsewhere.
    const random = seededRandom(11);
    for (let i = 0; i < 200; i++) expect(pickTarget(solo, { tried: NONE, now: later + 1, random, state })!.id).toBe("b");
    // A trial that never reports back expires, and the target gets another one.
    expect(explainPick(solo, { tried: new Set(["b"]), now: later + 30_000, state })).toMatchObject({
      target: { id: "a" },
      trial: true,
    });
    // A success clears it for good.
    state.clearCooldown("s", "a");
    expect(explainPick(solo, { tried: new Set(["b"]), now: later, state })).toMatchObject({ trial: false, reason: "weighted" });
  });
});

describe("sticky and signature lock", () => {
  const r = route("r", [{ id: "heavy", weight: 90 }, { id: "light", weight: 10 }]);
  const key = "sess-1::r";

  test("a non-cooling sticky target is reused", () => {
    const state = createMemoryStore();
    state.setSticky(key, "light", NOW);
    const random = seededRandom(2);
    for (let i = 0; i < 100; i++) {
      expect(explainPick(r, { tried: NONE, now: NOW, random, state, sessionKey: key })).toMatchObject({
        target: { id: "light" },
        reason: "sticky",
      });
    }
  });

  test("a signature cooldown keeps out signed requests only: the target serves every other one", () => {
    const state = createMemoryStore();
    state.setSticky(key, "light", NOW);
    state.setCooldown("r", "heavy", { until: NOW + 120_000, kind: "signature", reason: "400", setAt: NOW });
    state.setCooldown("r", "light", { until: NOW + 5000, kind: "transient", reason: "", setAt: NOW });
    // Unsigned: heavy is not cooling for it (no trial either), light is.
    expect(explainPick(r, { tried: NONE, now: NOW, random: seededRandom(1), state, sessionKey: key })).toMatchObject({ target: { id: "heavy" }, reason: "weighted", trial: false });
    // Signed: the lock keeps the sticky light; without a sticky target, heavy's signature cooldown stands.
    expect(explainPick(r, { tried: NONE, now: NOW, state, sessionKey: key, signed: true })).toMatchObject({ target: { id: "light" }, reason: "signature-lock" });
    expect(explainPick(r, { tried: new Set(["light"]), now: NOW, state, signed: true })).toMatchObject({ target: { id: "heavy" }, reason: "soonest-cooldown" });
  });

  test("a cooling sticky target is left", () => {
    const state = createMemoryStore();
    state.setSticky(key, "light", NOW);
    state.setCooldown("r", "light", { until: NOW + 5000, kind: "transient", reason: "", setAt: NOW });
    expect(explainPick(r, { tried: NONE, now: NOW, state, sessionKey: key })).toMatchObject({
      target: { id: "heavy" },
      reason: "weighted",
    });
  });

  test("a sticky target on standby (weight 0, as a reload may set it) is left at the next request; signed thinking stays on it", () => {
    // Before: the session stayed on it for as long as it kept asking (its sticky entry slides).
    const standby = route("r", [{ id: "heavy", weight: 90 }, { id: "light", weight: 0 }]);
    const state = createMemoryStore();
    state.setSticky(key, "light", NOW);
    expect(explainPick(standby, { tried: NONE, now: NOW, state, sessionKey: key })).toMatchObject({ target: { id: "heavy" }, reason: "weighted" });
    expect(stickyAction({ tried: NONE, now: NOW, state, sessionKey: key }, explainPick(standby, { tried: NONE, now: NOW, state, sessionKey: key }))).toBe("left");
    // Only it can verify the conversation's signatures: it stays, as through a cooldown or a drain.
    expect(explainPick(standby, { tried: NONE, now: NOW, state, sessionKey: key, signed: true })).toMatchObject({ target: { id: "light" }, reason: "signature-lock" });
    // Nothing else left: the standby target serves, the session's as any.
    expect(explainPick(standby, { tried: new Set(["heavy"]), now: NOW, state, sessionKey: key })).toMatchObject({ target: { id: "light" } });
  });

  test("with only standby targets to serve, a session stays on its own one rather than hopping to the first", () => {
    // The active target cools; both standby targets serve. Before: the session stuck to the second
    // moved to the first (file order) at its next request — its prompt cache lost — and the log said 'left'.
    const r = route("r", [{ id: "main", weight: 1 }, { id: "spare1", weight: 0 }, { id: "spare2", weight: 0 }]);
    const state = createMemoryStore();
    state.setCooldown("r", "main", { until: NOW + 60_000, kind: "transient", reason: "503", setAt: NOW });
    state.setSticky(key, "spare2", NOW);
    const ctx = { tried: NONE, now: NOW, state, sessionKey: key };
    expect(explainPick(r, ctx)).toMatchObject({ target: { id: "spare2" }, reason: "zero-weight" });
    expect(stickyAction(ctx, explainPick(r, ctx))).toBe("hit");
    // A route of standby targets only (gw check warns): the same.
    const standby = route("s", [{ id: "spare1", weight: 0 }, { id: "spare2", weight: 0 }]);
    expect(explainPick(standby, { ...ctx, tried: NONE })).toMatchObject({ target: { id: "spare2" } });
    // Once the active target is back, the session moves to it.
    expect(explainPick(r, { ...ctx, now: NOW + 61_000 })).toMatchObject({ target: { id: "main" } });
  });

  test("a sticky target already tried is not picked again", () => {
    const state = createMemoryStore();
    state.setSticky(key, "light", NOW);
    expect(pickTarget(r, { tried: new Set(["light"]), now: NOW, state, sessionKey: key })!.id).toBe("heavy");
  });

  test("signed request stays on its sticky target even while it cools", () => {
    const state = createMemoryStore();
    state.setSticky(key, "light", NOW);
    state.setCooldown("r", "light", { until: NOW + 5000, kind: "transient", reason: "", setAt: NOW });
    expect(explainPick(r, { tried: NONE, now: NOW, state, sessionKey: key, signed: true })).toMatchObject({
      target: { id: "light" },
      reason: "signature-lock",
    });
  });

  test("signed request without a sticky target goes to the highest weight, every time", () => {
    const state = createMemoryStore();
    const random = seededRandom(4);
    for (let i = 0; i < 100; i++) {
      expect(explainPick(r, { tried: NONE, now: NOW, random, state, sessionKey: key, signed: true })).toMatchObject({
        target: { id: "heavy" },
        reason: "signature-weight",
      });
    }
  });

  test("…wherever it stands in the file, and within the highest priority only", () => {
    const state = createMemoryStore();
    const later = route("r", [{ id: "light", weight: 10 }, { id: "heavy", weight: 90 }, { id: "backup", weight: 500, priority: -1 }]);
    expect(explainPick(later, { tried: NONE, now: NOW, random: seededRandom(4), state, sessionKey: key, signed: true })).toMatchObject({
      target: { id: "heavy" },
      reason: "signature-weight",
    });
  });

  test("stickyAction names what happened to the session's target", () => {
    const state = createMemoryStore();
    const ctx = { tried: NONE, now: NOW, state, sessionKey: key };
    expect(stickyAction(ctx, explainPick(r, ctx))).toBe("none");
    state.setSticky(key, "light", NOW);
    expect(stickyAction(ctx, explainPick(r, ctx))).toBe("hit");
    expect(stickyAction({ ...ctx, signed: true }, explainPick(r, { ...ctx, signed: true }))).toBe("lock");
    const tried = { ...ctx, tried: new Set(["light"]) };
    expect(stickyAction(tried, explainPick(r, tried))).toBe("left");
  });

  test("sticky entries expire after the TTL", () => {
    const state = createMemoryStore({ stickyTtlMs: 1000 });
    state.setSticky(key, "light", NOW);
    expect(explainPick(r, { tried: NONE, now: NOW + 1000, state, sessionKey: key, random: () => 0 })).toMatchObject({
      target: { id: "heavy" },
      reason: "weighted",
    });
  });
});

describe("an instance draining for a restart", () => {
  const r = route("r", [{ id: "a/m", instance: "a", weight: 90 }, { id: "b/m", instance: "b", weight: 10 }]);
  const draining = new Set(["a"]);
  const key = "sess-1::r";

  test("its targets are passed over, even a sticky one; after the drain they are picked again", () => {
    const state = createMemoryStore();
    state.setSticky(key, "a/m", NOW);
    const random = seededRandom(3);
    for (let i = 0; i < 200; i++) expect(explainPick(r, { tried: NONE, now: NOW, random, state, draining })).toMatchObject({ target: { id: "b/m" }, reason: "weighted" });
    expect(explainPick(r, { tried: NONE, now: NOW, random, state, sessionKey: key, draining })).toMatchObject({ target: { id: "b/m" }, reason: "weighted" });
    expect(explainPick(r, { tried: NONE, now: NOW, random, state, sessionKey: key, draining: new Set() })).toMatchObject({ target: { id: "a/m" }, reason: "sticky" });
  });

  test("when nothing else is available its target is still picked (the attempt waits for the restart), before any cooling target", () => {
    const state = createMemoryStore();
    state.setCooldown("r", "b/m", { until: NOW + 5000, kind: "transient", reason: "", setAt: NOW });
    expect(explainPick(r, { tried: NONE, now: NOW, state, draining })).toMatchObject({ target: { id: "a/m" }, reason: "draining" });
    expect(explainPick(route("solo", [{ id: "a/m", instance: "a" }]), { tried: NONE, now: NOW, draining })).toMatchObject({ target: { id: "a/m" }, reason: "draining" });
  });

  test("signed thinking stays on its sticky target while it drains (only it can verify the signature)", () => {
    const state = createMemoryStore();
    state.setSticky(key, "a/m", NOW);
    expect(explainPick(r, { tried: NONE, now: NOW, state, sessionKey: key, signed: true, draining })).toMatchObject({ target: { id: "a/m" }, reason: "signature-lock" });
  });
});

describe("a target known unable to answer this request (dead-ends.ts: its instance known down)", () => {
  const r = route("r", [{ id: "a/m", instance: "a", weight: 90 }, { id: "b/m", instance: "b", weight: 10 }]);
  const deadEnds = { has: (t: { instance: string }) => t.instance === "a" };
  const key = "sess-1::r";

  test("is out: passed over by every policy while another target can be tried, even a signature lock's", () => {
    const state = createMemoryStore();
    state.setSticky(key, "a/m", NOW);
    expect(explainPick(r, { tried: NONE, now: NOW, state, deadEnds })).toMatchObject({ target: { id: "b/m" }, reason: "weighted" });
    expect(explainPick(r, { tried: NONE, now: NOW, state, sessionKey: key, signed: true, deadEnds })).toMatchObject({ target: { id: "b/m" }, reason: "signature-weight" });
    // On its way back too: a dead end is not waited for.
    expect(explainPick(r, { tried: NONE, now: NOW, state, draining: new Set(["a"]), deadEnds })).toMatchObject({ target: { id: "b/m" }, reason: "weighted" });
  });

  test("comes after every cooling target, and is still tried when nothing else is left", () => {
    const state = createMemoryStore();
    state.setCooldown("r", "b/m", { until: NOW + 60_000, kind: "signature", reason: "", setAt: NOW });
    expect(explainPick(r, { tried: NONE, now: NOW, state, signed: true, deadEnds })).toMatchObject({ target: { id: "b/m" }, reason: "soonest-cooldown" });
    // Under its own reason: its answer is no cooling target's (own-error.ts), and the record says so.
    expect(explainPick(r, { tried: new Set(["b/m"]), now: NOW, state, signed: true, deadEnds })).toMatchObject({ target: { id: "a/m" }, reason: "known-down" });
  });
});
