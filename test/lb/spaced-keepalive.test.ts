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
