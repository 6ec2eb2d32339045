// The wall clock steps while gw supervises (NTP after a laptop's sleep or a VM's pause, someone
// setting the date): uptimes, "last exit … ago" and the backoff's decisions are durations and
// must come out the same as without the step. Real instances (gw mock, a crashing script); the
// step is Date.now moved in this process (test/helpers/clock.ts), which is what libc's wall clock
// gives Bun — performance.now, the monotonic clock, does not move, as with the real thing.
import { afterAll, expect, test } from "bun:test";
import type { Config } from "../../src/config/types.ts";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { openLocalState } from "../../src/state/local.ts";
import { openRedisState } from "../../src/state/redis.ts";
import { formatStatus, stateLine } from "../../src/supervisor/format.ts";
import { InstanceSet } from "../../src/supervisor/instances.ts";
import { buildStatus, type StatusSources } from "../../src/supervisor/status.ts";
import { DEFAULT_TIMING, type Timing } from "../../src/supervisor/timing.ts";
import { HOUR, stepClock } from "../helpers/clock.ts";
import { freePorts } from "../helpers/ports.ts";
import { crashingScript, killAll, type Sandbox, sandbox, supervised, until } from "../helpers/supervisor.ts";
import { tempDir } from "../helpers/tmp.ts";

const BASE: Timing = { ...DEFAULT_TIMING, readyTimeoutMs: 20_000, backoffMinMs: 50, backoffMaxMs: 50, killWaitMs: 3_000, crashLoopRetryMs: 60_000 };

const sandboxes: Sandbox[] = [];
const sets: InstanceSet[] = [];
afterAll(async () => {
  await Promise.all(sets.map((s) => s.stopAll()));
  for (const sb of sandboxes) await killAll(sb);
});

async function setUp(sb: Sandbox, timing: Timing): Promise<{ set: InstanceSet; lines: string[]; config: Config }> {
  sandboxes.push(sb);
  const { config, lines, deps } = await supervised(sb);
  const set = new InstanceSet(config, { ...deps, timing });
  sets.push(set);
  return { set, lines, config };
}

const exitLines = (lines: string[]) => lines.filter((l) => l.startsWith("instance 'a' exited"));
const ranSecs = (line: string) => Number(/ after (\d+\.\d) s — /.exec(line)?.[1] ?? NaN);

test("two hours back between two exits well apart: a restart after the uptime it had, not a crash loop", async () => {
  // Two exits inside one second would be a crash loop; these are more than a second apart, each
  // after a run that counts as stable. Before: the second exit, on the stepped-back clock, ran
  // "0.0 s" and the first stayed inside the window for two hours — 'crash loop, next try in 60 s'.
  const timing: Timing = { ...BASE, stableUptimeMs: 500, crashLoopExits: 2, crashLoopWindowMs: 1_000 };
  const { set, lines } = await setUp(await sandbox([{ name: "a" }]), timing);
  expect((await set.startAll()).get("a")!.ok).toBe(true);
  const a = set.get("a")!;
  await Bun.sleep(700); // a run longer than stableUptimeMs
  const first = a.child!.pid;
  process.kill(first, "SIGKILL");
  await until(() => a.child !== null && a.child.pid !== first, 10_000, () => `restart of a: ${lines.join("\n")}`);
  const restore = stepClock(-2 * HOUR);
  try {
    await Bun.sleep(1_200); // past the crash-loop window since the first exit, and a stable run again
    process.kill(a.child!.pid, "SIGKILL");
    await until(() => exitLines(lines).length === 2, 10_000, () => lines.join("\n"));
  } finally {
    restore();
  }
  const second = exitLines(lines)[1]!;
  expect(second).toContain("restarting in");
  expect(second).not.toContain("crash loop");
  expect(ranSecs(second)).toBeGreaterThanOrEqual(1.2);
  expect(ranSecs(second)).toBeLessThan(600);
}, 60_000);

test("two hours forward between quick exits: still a crash loop, not a two-hour 'stable' run that starts the count over", async () => {
  // Before: the exit after the step had 'run' two hours (stable: the backoff forgot the streak)
  // and the exit before it had left the window — an instance crashing at once never got there.
  const sb = await sandbox([{ name: "a", command: ["./crash.sh"] }]);
  crashingScript(sb.dir);
  const timing: Timing = { ...BASE, stableUptimeMs: 10_000, crashLoopExits: 3, crashLoopWindowMs: 20_000, backoffMinMs: 200, backoffMaxMs: 200 };
  const { set, lines } = await setUp(sb, timing);
  void set.startAll();
  await until(() => exitLines(lines).length === 1, 10_000, () => lines.join("\n"));
  const restore = stepClock(2 * HOUR);
  try {
    await until(() => exitLines(lines).length === 3, 10_000, () => lines.join("\n"));
  } finally {
    restore();
  }
  const [, second, third] = exitLines(lines);
  for (const l of [second!, third!]) expect(ranSecs(l)).toBeLessThan(10);
  expect(third).toContain("crash loop (3 exits in a minute), next try in 60.0 s");
  expect(set.get("a")!.state).toBe("crashloop");
}, 60_000);

test("gw status after a step either way: uptimes and 'last exit … ago' are what they were, not 0 s, negative or two hours", async () => {
  const { set, lines, config } = await setUp(await sandbox([{ name: "a" }, { name: "b" }]), BASE);
  const startedAt = performance.now();
  const sources = (): StatusSources => ({ config, set, gateway: null, phase: "serving", startedAt, demo: false });
  expect([...(await set.startAll()).values()].every((o) => o.ok)).toBe(true);
  await Bun.sleep(1_100); // b has run more than a second
  const a = set.get("a")!;
  const pid = a.child!.pid;
  process.kill(pid, "SIGKILL");
  await until(() => a.lastExit !== null, 10_000, () => lines.join("\n"));
  for (const step of [-2 * HOUR, 2 * HOUR]) {
    const restore = stepClock(step);
    try {
      const report = buildStatus(sources());
      const text = formatStatus(report);
      const b = report.instances.find((i) => i.name === "b")!;
      expect(b.uptimeMs).toBeGreaterThanOrEqual(1_000);
      expect(b.uptimeMs).toBeLessThan(10 * 60_000);
      expect(report.uptimeMs).toBeGreaterThanOrEqual(1_000);
      expect(report.uptimeMs).toBeLessThan(10 * 60_000);
      // Seconds or minutes, never "0s", "-7200s" or "2h00m".
      expect(text).toMatch(/^gw serving {2}pid \d+ {2}up (\d+m)?[0-9]+s$/m);
      expect(text).toMatch(/^b\s+\d+\s+\d+\s+\S+\s+(\d+m)?([1-9]|\d\d)s\s/m);
      expect(text).toMatch(/^a\s.*\sSIGKILL (\d+m)?\d+s ago\s/m);
      // The exit's wall-clock time is on the clock the reader has now: as long ago as agoMs says.
      const exit = report.instances.find((i) => i.name === "a")!.lastExit!;
      expect(Number.isInteger(exit.at) && Number.isInteger(exit.agoMs)).toBe(true);
      expect(Date.now() - exit.at).toBeWithin(exit.agoMs!, exit.agoMs! + 5_000);
    } finally {
      restore();
    }
  }
}, 60_000);

test("the state line's 'DOWN …' after a step either way: how long this gw has known the store down, not a day, 0 s or negative", async () => {
  // Before: the age was the reader's wall clock minus the store's wall-clock downSince — a day
  // forward showed "DOWN 1d0h", an hour back "DOWN -3599s".
  const dir = tempDir("gw-clock-state-");
  writeFileSync(join(dir, ".gw"), "a file where the directory should be");
  const quiet = { info() {}, warn() {} };
  const local = openLocalState({ file: join(dir, ".gw", "state.db"), log: quiet });
  const [port] = await freePorts(1);
  const redis = await openRedisState({ url: `redis://127.0.0.1:${port}`, prefix: "gw", log: quiet, timing: { backoffMinMs: 50, backoffMaxMs: 200, connectTimeoutMs: 500 } });
  try {
    await Bun.sleep(1_100); // both have been down more than a second
    for (const step of [24 * HOUR, -HOUR]) {
      const restore = stepClock(step);
      try {
        for (const store of [local, redis]) {
          const health = store.health();
          expect(health.up).toBe(false);
          expect(stateLine(health)).toMatch(/ {2}DOWN ([1-9]|\d\d)s: /);
          // downSince stays the wall-clock moment it was (shared and persisted as that).
          expect(health.downSince).toBeLessThan(Date.now() - step);
        }
      } finally {
        restore();
      }
    }
  } finally {
    await local.close();
    await redis.close();
  }
}, 30_000);
