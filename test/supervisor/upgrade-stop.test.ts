// A stop asked for while `gw upgrade` hands over (gw down, SIGTERM) waits for the hand-over's
// outcome, then stops the gw that owns the instances: before, the old gw stopped at once and killed
// the instances the new gw was adopting (its streams cut, the new gw left unreachable), or, the
// upgrade failing, came back to serve from a gw that had already stopped and never exited.
// The hand-over is held open by a new "binary" that waits for a file before it goes on.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gwPaths } from "../../src/supervisor/paths.ts";
import type { StatusReport } from "../../src/supervisor/status.ts";
import { alive, gw, killAll, MAIN, processesIn, type Sandbox, sandbox, startGw, until, untilLogged, withGwLog } from "../helpers/supervisor.ts";

const cleanups: Sandbox[] = [];
afterAll(async () => {
  for (const sb of cleanups) await killAll(sb);
});

/**
 * Where the new gw is held: `start` — before it runs at all (the old gw waits for it to serve);
 * `verdict` — serving, but not yet told "commit" (its stdin is passed on only later); `fail` —
 * it exits 3 instead of starting. Each goes on once the file `go` exists.
 */
type Hold = "start" | "verdict" | "fail";

function heldBinary(sb: Sandbox, hold: Hold): string {
  const p = join(sb.dir, `gw-held-${hold}`);
  const gwCmd = `"${process.execPath}" "${MAIN}" "$@"`;
  const waitGo = `while [ ! -e "${sb.dir}/go" ]; do sleep 0.05; done`;
  const body = {
    start: `touch "${sb.dir}/held"\n${waitGo}\nexec ${gwCmd}`,
    verdict: `exec ${gwCmd} < <(${waitGo}; cat)`,
    fail: `touch "${sb.dir}/held"\n${waitGo}\nexit 3`,
  }[hold];
  writeFileSync(p, `#!/bin/bash\nif [ "$1" = --version ]; then exec ${gwCmd}; fi\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

async function status(sb: Sandbox): Promise<StatusReport> {
  const r = await gw(sb, ["status", "--json", "-c", sb.file]);
  if (r.code !== 0) throw new Error(`gw status failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as StatusReport;
}

/** gw up -d, then gw upgrade to a held binary; resolves once the hand-over is held open. */
async function upgradeHeld(sb: Sandbox, hold: Hold) {
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  const before = await status(sb);
  const instance = before.instances[0]!.pid!;
  const upgrade = startGw(sb, ["upgrade", heldBinary(sb, hold), "-c", sb.file]);
  if (hold === "verdict") await upgrade.waitFor("serves now as pid", 60_000);
  else await until(() => existsSync(join(sb.dir, "held")), 30_000, () => `the new gw held at its start; gw upgrade said: ${upgrade.output()}`);
  return { oldPid: before.pid, instance, upgrade };
}

const go = (sb: Sandbox) => writeFileSync(join(sb.dir, "go"), "");

/** Nothing of the sandbox runs any more, and no gw is left to answer in it. */
async function allStopped(sb: Sandbox) {
  let left: number[] = [];
  await until(async () => (left = await processesIn(sb.dir)).length === 0, 40_000, () => `still running: ${left.join(", ")}`);
  expect(existsSync(gwPaths(sb.dir).socket)).toBe(false);
  expect(existsSync(gwPaths(sb.dir).pidFile)).toBe(false);
}

describe("a stop asked for while gw upgrade hands over", () => {
  for (const hold of ["start", "verdict"] as const)
    test(`gw down while the new gw is held ${hold === "start" ? "at its start" : "before its verdict"}: nothing stops or restarts until the hand-over ends, then the new gw stops with the instances`, async () => {
      const sb = await sandbox([{ name: "a" }]);
      cleanups.push(sb);
      await withGwLog(sb, async () => {
        const { oldPid, instance, upgrade } = await upgradeHeld(sb, hold);
        const down = startGw(sb, ["down", "-c", sb.file]);
        await down.waitFor("is handing over to a new gw (gw upgrade); stopping the gw that owns the instances once that has ended…");
        expect(await alive(instance)).toBe(true);
        if (hold === "start") expect(await alive(oldPid)).toBe(true);
        // Neither may a restart: the instance is not yet the new gw's, nor any longer the old one's.
        const restart = await gw(sb, ["restart", "a", "-c", sb.file]);
        expect([restart.code, restart.stderr.trim()]).toEqual([1, "gw: gw is upgrading; run gw restart again once the new gw serves"]);
        if (hold === "verdict") {
          const reload = await gw(sb, ["reload", "-c", sb.file]);
          expect([reload.code, reload.stdout + reload.stderr]).toEqual([1, expect.stringContaining("gw is upgrading; run gw reload again once the new gw serves")]);
        }
        go(sb);
        expect(await down.proc.exited).toBe(0);
        const stopped = /^gw stopped \(pid (\d+)\)$/m.exec(down.output());
        expect(stopped, down.output()).not.toBeNull();
        expect(Number(stopped![1])).not.toBe(oldPid);
        expect(await upgrade.proc.exited).toBe(0);
        await allStopped(sb);
      });
    }, 120_000);

  test("SIGTERM to the old gw while the new one starts: the hand-over completes, then the new gw is told to stop and stops the instances", async () => {
    const sb = await sandbox([{ name: "a" }]);
    cleanups.push(sb);
    await withGwLog(sb, async () => {
      const { oldPid, instance, upgrade } = await upgradeHeld(sb, "start");
      process.kill(oldPid, "SIGTERM");
      await untilLogged(sb, "SIGTERM: gw is handing over to a new gw (gw upgrade); it stops once that has ended");
      expect(await alive(instance)).toBe(true);
      go(sb);
      expect(await upgrade.proc.exited).toBe(0);
      await untilLogged(sb, "owns the instances now and is told to stop");
      await allStopped(sb);
    });
  }, 120_000);

  test("gw down while the new gw waits for its verdict, and it dies: down stops the instances nobody owns at once, not after the hand-over's 70 s", async () => {
    const sb = await sandbox([{ name: "a" }]);
    cleanups.push(sb);
    await withGwLog(sb, async () => {
      const { oldPid, instance, upgrade } = await upgradeHeld(sb, "verdict");
      const successor = Number(/serves now as pid (\d+)/.exec(upgrade.output())![1]);
      const down = startGw(sb, ["down", "-c", sb.file]);
      await down.waitFor("is handing over to a new gw");
      // The old gw has handed over and exits; the new one dies before it reads the verdict.
      expect(await upgrade.proc.exited).toBe(0);
      await until(async () => !(await alive(oldPid)), 30_000, () => "the old gw to exit");
      process.kill(successor, "SIGKILL");
      const t0 = performance.now();
      expect(await down.proc.exited).toBe(0);
      expect(performance.now() - t0).toBeLessThan(45_000); // it asked for 70 s before, then failed
      expect(down.output()).toContain("stopped instances a dead gw left running: a");
      expect(await alive(instance)).toBe(false);
      go(sb);
    });
  }, 120_000);

  test("gw down while a new gw that fails is held: the old gw serves again, then stops and exits", async () => {
    const sb = await sandbox([{ name: "a" }]);
    cleanups.push(sb);
    await withGwLog(sb, async () => {
      const { oldPid, upgrade } = await upgradeHeld(sb, "fail");
      const down = startGw(sb, ["down", "-c", sb.file]);
      await down.waitFor("is handing over to a new gw");
      go(sb);
      expect(await upgrade.proc.exited).toBe(1);
      expect(upgrade.output()).toContain("upgrade failed: the new gw");
      expect(await down.proc.exited).toBe(0);
      expect(down.output()).toContain(`gw stopped (pid ${oldPid})`);
      await allStopped(sb);
    });
  }, 120_000);
});
