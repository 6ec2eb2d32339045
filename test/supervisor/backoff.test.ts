import { describe, expect, test } from "bun:test";
import { FRESH_BACKOFF, onExit, type BackoffState } from "../../src/supervisor/backoff.ts";
import { DEFAULT_TIMING as T } from "../../src/supervisor/timing.ts";

/** Feed a sequence of (uptime, gap before the exit) and collect the delays. */
function run(exits: Array<[uptimeMs: number, atMs: number]>): { delays: number[]; state: BackoffState } {
  let state = FRESH_BACKOFF;
  const delays: number[] = [];
  for (const [uptime, at] of exits) {
    const d = onExit(state, uptime, at, T);
    state = d.state;
    delays.push(d.delayMs);
  }
  return { delays, state };
}

describe("onExit", () => {
  test("doubles from 0.5 s and caps at 30 s", () => {
    // Exits 70 s apart never reach 5 in a minute, so this is pure backoff.
    const { delays, state } = run(Array.from({ length: 9 }, (_, i) => [100, i * 70_000] as [number, number]));
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(state.crashLoop).toBe(false);
  });

  test("a run of 60 s resets the backoff", () => {
    const { delays } = run([
      [100, 0],
      [100, 70_000],
      [60_000, 200_000],
      [100, 300_000],
    ]);
    expect(delays).toEqual([500, 1000, 500, 1000]);
  });

  test("5 exits within 60 s is a crash loop, retried slowly", () => {
    const { delays, state } = run([
      [10, 0],
      [10, 600],
      [10, 1700],
      [10, 3800],
      [10, 7900],
    ]);
    expect(delays.slice(0, 4)).toEqual([500, 1000, 2000, 4000]);
    expect(delays[4]).toBe(T.crashLoopRetryMs);
    expect(state.crashLoop).toBe(true);
  });

  test("a crash loop stays slow until a stable run, then recovers", () => {
    let { state } = run([
      [10, 0],
      [10, 1],
      [10, 2],
      [10, 3],
      [10, 4],
    ]);
    // The slow retry fails quickly again, long after the window emptied: still a crash loop.
    let d = onExit(state, 10, 400_000, T);
    expect(d.state.crashLoop).toBe(true);
    expect(d.delayMs).toBe(T.crashLoopRetryMs);
    // Then it runs for a minute: back to normal backoff.
    d = onExit(d.state, 61_000, 800_000, T);
    expect(d.state.crashLoop).toBe(false);
    expect(d.delayMs).toBe(T.backoffMinMs);
    state = d.state;
    expect(state.exits).toEqual([800_000]);
  });
});
