// How long a gw stopped soon after an upgrade waits for its predecessor (supervisor/handover.ts):
// the predecessor's own limit, counted from the hand-over (lb/server.ts handOff), not a bound that
// matched it only while two 10 s constants and both gws' grace periods happened to agree.
import { expect, test } from "bun:test";
import { predecessorWaitMs, TAKEOVER_ENV, TAKEOVER_GRACE_ENV, takeoverFrom } from "../../src/supervisor/handover.ts";

test("a late keep-alive request 10 s after the hand-over (Bun's idle timeout) gets the old gw's whole grace: the wait covers it, whatever the new config's grace", () => {
  // The old gw's grace was 60 s; the config the successor read says 5 s. Stopped 1 s after the hand-over.
  const wait = predecessorWaitMs(1_000, 60_000, 2_000);
  expect(wait).toBeGreaterThanOrEqual(1_000 + 10_000 + 60_000 - 2_000);
  expect(wait).toBeLessThan(1_000 + 10_000 + 60_000 + 10_000 - 2_000); // and no open-ended wait
});

test("counted from the hand-over: later stops wait less, and never a negative time", () => {
  expect(predecessorWaitMs(0, 10_000, 5_000)).toBe(predecessorWaitMs(0, 10_000, 0) - 5_000);
  expect(predecessorWaitMs(0, 10_000, 10 * 60_000)).toBe(0);
});

test("the predecessor's grace travels to its successor; one from before (no grace said) is still a predecessor", () => {
  expect(takeoverFrom({ [TAKEOVER_ENV]: "12:34", [TAKEOVER_GRACE_ENV]: "60000" })).toEqual({ pid: 12, startTime: 34, graceMs: 60_000 });
  expect(takeoverFrom({ [TAKEOVER_ENV]: "12:34" })).toEqual({ pid: 12, startTime: 34 });
  expect(takeoverFrom({ [TAKEOVER_GRACE_ENV]: "60000" })).toBeNull();
});
