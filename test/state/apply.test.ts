import { describe, expect, test } from "bun:test";
import { classifyOutcome, failureOutcome } from "../../src/lb/classify.ts";
import { explainPick } from "../../src/lb/route.ts";
import { createMemoryStore, recordAttempt, recordRequestEnd } from "../../src/state/index.ts";
import { LB_DEFAULTS, route } from "../helpers/policy.ts";

const CD = LB_DEFAULTS.cooldownsMs;
const NOW = 1_700_000_000_000;
const outcome = (status: number, body = "", signed = false) => classifyOutcome({ status, bodyText: body, signed, now: NOW }, CD);
const facts = { route: "r", target: "a", stickyKey: "cc:1::r", now: NOW };

describe("recordAttempt", () => {
  test("a 2xx clears the cooldown and makes the target sticky", () => {
    const s = createMemoryStore();
    s.setCooldown("r", "a", { until: NOW - 1, kind: "transient", reason: "", setAt: NOW - 100 });
    expect(recordAttempt(s, outcome(200), facts)).toEqual({ ended: { until: NOW - 1, kind: "transient", reason: "", setAt: NOW - 100 } });
    expect(s.cooldown("r", "a", NOW)).toBeUndefined();
    expect(recordAttempt(s, outcome(200), facts)).toBeUndefined(); // nothing left to end
    expect(s.sticky("cc:1::r", NOW)).toBe("a");
  });

  test("a 2xx ends only a cooling that began before its attempt was sent", () => {
    const s = createMemoryStore();
    s.setCooldown("r", "a", { until: NOW + 120_000, kind: "transient_heavy", reason: "429", setAt: NOW - 10 });
    // Sent before the 429 that cooled it (admitted before the rate limit): the cooling stands.
    expect(recordAttempt(s, outcome(200), { ...facts, sentAt: NOW - 500 })).toBeUndefined();
    expect(s.cooldown("r", "a", NOW)).toMatchObject({ kind: "transient_heavy" });
    expect(s.sticky("cc:1::r", NOW)).toBe("a");
    // Sent to it while it cooled (a last resort, a signed session's own target): it ends it.
    expect(recordAttempt(s, outcome(200), { ...facts, sentAt: NOW - 10 })).toMatchObject({ ended: { kind: "transient_heavy" } });
    expect(s.cooldown("r", "a", NOW)).toBeUndefined();
  });

  test("a signature cooldown is cleared by a signed request's 2xx only", () => {
    const s = createMemoryStore();
    s.setCooldown("r", "a", { until: NOW + 120_000, kind: "signature", reason: "400", setAt: NOW });
    expect(recordAttempt(s, outcome(200), facts)).toBeUndefined();
    expect(s.cooldown("r", "a", NOW)).toMatchObject({ kind: "signature" });
    expect(s.sticky("cc:1::r", NOW)).toBe("a");
    expect(recordAttempt(s, outcome(200, "", true), { ...facts, signed: true })).toMatchObject({ ended: { kind: "signature" } });
    expect(s.cooldown("r", "a", NOW)).toBeUndefined();
  });

  test("a 429 cools the target for lb_transient_heavy_cooldown_ms and keeps it sticky", () => {
    const s = createMemoryStore();
    s.setSticky("cc:1::r", "a", NOW);
    expect(recordAttempt(s, outcome(429), facts)).toEqual({ cooled: { route: "r", target: "a", kind: "transient_heavy", ms: CD.transientHeavy, reason: "429" } });
    expect(s.cooldown("r", "a", NOW)).toMatchObject({ until: NOW + CD.transientHeavy, kind: "transient_heavy" });
    expect(s.sticky("cc:1::r", NOW)).toBe("a");
  });

  test("auth and signature failures forget the sticky target", () => {
    for (const o of [outcome(401), outcome(400, '{"error":{"message":"signature invalid"}}', true)]) {
      const s = createMemoryStore();
      s.setSticky("cc:1::r", "a", NOW);
      recordAttempt(s, o, facts);
      expect(s.sticky("cc:1::r", NOW)).toBeUndefined();
    }
  });

  test("a failure on another target leaves the sticky entry alone", () => {
    const s = createMemoryStore();
    s.setSticky("cc:1::r", "b", NOW);
    recordAttempt(s, outcome(401), facts);
    expect(s.sticky("cc:1::r", NOW)).toBe("b");
  });

  test("a client error sets nothing", () => {
    const s = createMemoryStore();
    expect(recordAttempt(s, outcome(400), facts)).toBeUndefined();
    expect(s.coolingList(NOW)).toEqual([]);
  });

  test("a failure whose cooldown is configured to 0 ms sets none (no half-open entry waiting for a trial)", () => {
    const s = createMemoryStore();
    const off = classifyOutcome({ status: 503, bodyText: "", signed: false, now: NOW }, { ...CD, transientHeavy: 0 });
    expect(off).toMatchObject({ kind: "transient_heavy", cooldownMs: 0 });
    expect(recordAttempt(s, off, facts)).toBeUndefined();
    expect(s.coolingList(NOW)).toEqual([]);
  });

  test("connection errors cool with the transient cooldown", () => {
    const s = createMemoryStore();
    recordAttempt(s, failureOutcome("connection", "ECONNREFUSED", CD), facts);
    expect(s.cooldown("r", "a", NOW)).toMatchObject({ kind: "connection", until: NOW + CD.transient });
  });

  test("recovery: cooled, half-open trial, success → healthy and weighted again", () => {
    const s = createMemoryStore();
    const r = route("r", [{ id: "a", weight: 1000 }, { id: "b", weight: 1 }]);
    recordAttempt(s, outcome(503), facts);
    expect(explainPick(r, { tried: new Set(), now: NOW + 1, state: s, random: () => 0 })!.target.id).toBe("b");
    const later = NOW + CD.transientHeavy;
    const trial = explainPick(r, { tried: new Set(), now: later, state: s, random: () => 0 })!;
    expect(trial).toMatchObject({ target: { id: "a" }, trial: true });
    s.claimTrial("r", "a", later + 120_000);
    recordAttempt(s, outcome(200), { ...facts, now: later + 5 });
    expect(explainPick(r, { tried: new Set(), now: later + 6, state: s, random: () => 0 })).toMatchObject({
      target: { id: "a" },
      trial: false,
    });
  });
});

test("a target whose trials keep timing out stays out twice as long each time, up to 16 cooldowns; other failures keep their cooldown", () => {
  const s = createMemoryStore();
  const timeout = failureOutcome("timeout", "a: no answer within 120000 ms", CD);
  let now = NOW;
  expect(recordAttempt(s, timeout, { ...facts, now })?.cooled?.ms).toBe(CD.transient); // the first timeout: no trial, the plain cooldown
  const lengths: number[] = [];
  for (let i = 0; i < 6; i++) {
    now = s.cooldown("r", "a", now)!.until + 1; // half-open: the next request is the trial, and it hangs again
    lengths.push(recordAttempt(s, timeout, { ...facts, now, trial: true })!.cooled!.ms);
  }
  expect(lengths).toEqual([2, 4, 8, 16, 16, 16].map((k) => k * CD.transient));
  expect(s.cooldown("r", "a", now)).toMatchObject({ until: now + 16 * CD.transient, kind: "timeout" });
  // A failed trial of another kind (an error that costs the user nothing like a timeout) keeps its own cooldown.
  now = s.cooldown("r", "a", now)!.until + 1;
  expect(recordAttempt(s, outcome(503), { ...facts, now, trial: true })?.cooled?.ms).toBe(CD.transientHeavy);
  // A success clears it: the next timeout starts from the plain cooldown again.
  recordAttempt(s, outcome(200), { ...facts, now: now + 1 });
  expect(recordAttempt(s, timeout, { ...facts, now: now + 2 })?.cooled?.ms).toBe(CD.transient);
});

test("a trial answered with the client's own 400 ends the trial: the target is free for the next request", () => {
  const s = createMemoryStore();
  s.setCooldown("r", "a", { until: NOW, kind: "transient", reason: "503", setAt: NOW - 1 });
  s.claimTrial("r", "a", NOW + 120_000);
  expect(recordAttempt(s, outcome(400, '{"error":{"message":"bad request"}}'), { ...facts, now: NOW + 5, trial: true })).toBeUndefined();
  const r = route("r", [{ id: "a", weight: 1 }]);
  expect(explainPick(r, { tried: new Set(), now: NOW + 6, state: s })).toMatchObject({ target: { id: "a" }, trial: true });
});

describe("recordRequestEnd", () => {
  test("failures add up, a success resets", () => {
    const s = createMemoryStore();
    expect(recordRequestEnd(s, "anon::g3f.auto", false, NOW)).toBe(1);
    expect(recordRequestEnd(s, "anon::g3f.auto", false, NOW + 1)).toBe(2);
    expect(recordRequestEnd(s, "anon::g3f.auto", true, NOW + 2)).toBe(0);
    expect(s.streak("anon::g3f.auto", NOW + 3)).toBe(0);
  });
});
