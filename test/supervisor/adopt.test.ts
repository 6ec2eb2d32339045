// Adopted instances (supervisor/adopt.ts): processes a previous gw started, watched by one timer
// for all of them. Each one's end is seen on its own, a released one is no longer watched, and a
// pid whose process was replaced is not taken for the adopted one.
import { afterAll, expect, test } from "bun:test";
import { adoptChild } from "../../src/supervisor/adopt.ts";
import { DEFAULT_TIMING } from "../../src/supervisor/timing.ts";
import { procInfo } from "../../src/supervisor/proc.ts";
import { HOUR, stepClock } from "../helpers/clock.ts";
import { until } from "../helpers/supervisor.ts";

const started: Bun.Subprocess[] = [];
afterAll(() => {
  for (const p of started) p.kill("SIGKILL");
});

/** A process of its own group, as gw starts an instance, and its identity as gw records it. */
async function sleeper(name: string) {
  const p = Bun.spawn(["setsid", "sleep", "120"], { stdio: ["ignore", "ignore", "ignore"] });
  started.push(p);
  let info = await procInfo(p.pid);
  await until(async () => (info = await procInfo(p.pid)) !== null && info.pgid === p.pid, 10_000, () => `${name} in its own group`);
  return { proc: p, rec: { name, pid: p.pid, startTime: info!.startTime } };
}

test("several adopted processes: each end is seen on its own; a released one is let go; a replaced pid is refused", async () => {
  const [a, b, c] = await Promise.all([sleeper("a"), sleeper("b"), sleeper("c")]);
  const [ca, cb, cc] = await Promise.all([adoptChild(a.rec, DEFAULT_TIMING.adoptedPollMs), adoptChild(b.rec, DEFAULT_TIMING.adoptedPollMs), adoptChild(c.rec, DEFAULT_TIMING.adoptedPollMs)]);
  expect([ca?.pid, cb?.pid, cc?.pid]).toEqual([a.rec.pid, b.rec.pid, c.rec.pid]);
  const ended = new Set<string>();
  void ca!.exited.then(() => ended.add("a"));
  void cb!.exited.then(() => ended.add("b"));
  void cc!.exited.then(() => ended.add("c"));

  a.proc.kill("SIGKILL");
  await until(() => ended.has("a"), 10_000, () => "a's end seen");
  cc!.release();
  c.proc.kill("SIGKILL");
  await c.proc.exited;
  b.proc.kill("SIGKILL");
  await until(() => ended.has("b"), 10_000, () => "b's end seen");
  // c was let go before it ended: its end is not reported (a later gw watches it now).
  expect([...ended].sort()).toEqual(["a", "b"]);

  // The same pid with another start time is another process: not adopted.
  const d = await sleeper("d");
  expect(await adoptChild({ ...d.rec, startTime: d.rec.startTime - 1 }, DEFAULT_TIMING.adoptedPollMs)).toBeNull();
});

test("an adopted process's uptime is how long it has run, on this process's monotonic clock, whatever the wall clock says", async () => {
  // The predecessor's stamps mean nothing here (another process, another clock origin): the start
  // is placed from /proc (boot clock), so a wall clock stepped back 2 h changes nothing.
  const e = await sleeper("e");
  const spawned = performance.now();
  await Bun.sleep(1_000); // it has run a second before it is adopted
  const restore = stepClock(-2 * HOUR);
  try {
    const ce = await adoptChild(e.rec, DEFAULT_TIMING.adoptedPollMs);
    const ran = performance.now() - ce!.startedAt;
    // /proc start times are in 10 ms ticks; the spawn took a little before `spawned`.
    expect(ran).toBeGreaterThanOrEqual(1_000 - 20);
    expect(ran).toBeLessThanOrEqual(performance.now() - spawned + 5_000);
    e.proc.kill("SIGKILL");
    const exit = await ce!.exited;
    expect(exit.at - ce!.startedAt).toBeGreaterThanOrEqual(ran);
  } finally {
    restore();
  }
});
