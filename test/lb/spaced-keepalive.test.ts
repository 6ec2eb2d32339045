// The pace of gw's own keep-alive newlines (src/lb/spaced-keepalive.ts): the first target's, kept
// within bounds. The newlines themselves are tested end to end in spaced-answer.test.ts.
import { expect, test } from "bun:test";
import { KEEP_ALIVE_PACE, paceOf, SpaceGaps } from "../../src/lb/spaced-keepalive.ts";

test("the widest gap between the newlines seen sets the pace; none known, the default", () => {
  const gaps = new SpaceGaps();
  expect(paceOf(gaps.widest, KEEP_ALIVE_PACE)).toBe(15_000);
  gaps.seen(1_000);
  expect(gaps.widest).toBeUndefined();
  gaps.seen(6_000);
  gaps.seen(6_010);
  gaps.seen(9_000);
  expect(paceOf(gaps.widest, KEEP_ALIVE_PACE)).toBe(5_000);
});

test("never slower than the default (the client needs no slower pace), never faster than the minimum (a burst of newlines)", () => {
  expect(paceOf(60_000, KEEP_ALIVE_PACE)).toBe(15_000);
  expect(paceOf(3, KEEP_ALIVE_PACE)).toBe(1_000);
});

test("a pace of 0 (a test's, or two newlines in the same millisecond with no minimum) is 1 ms: the shared timer would run it again within its tick for ever", () => {
  expect(paceOf(0, { defaultMs: 100, minMs: 0 })).toBe(1);
  expect(paceOf(undefined, { defaultMs: 0, minMs: 0 })).toBe(1);
});

test("a failover is no gap of a target's: the time gw kept the client alive between two targets' newlines does not slow the pace of the next failover", () => {
  const gaps = new SpaceGaps();
  gaps.seen(0);
  gaps.seen(5); // the first target's pace: 5 ms
  gaps.failedOver(); // gw's own newlines for 600 ms, then the second target's
  gaps.seen(605);
  gaps.seen(610);
  expect(gaps.widest).toBe(5);
  expect(paceOf(gaps.widest, { defaultMs: 15_000, minMs: 1 })).toBe(5);
});
