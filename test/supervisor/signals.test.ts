// Ctrl-C under `bun run gw up` (the README's own command): the terminal sends SIGINT to the whole
// process group and `bun run` forwards it to gw as well, so one key press arrives twice. It must
// count as one stop request (streams in flight finish); only a second press a while later cuts.
// The processes here are real: `bun run gw up` as the leader of its own group, signalled as a
// terminal would, with `kill(-group, SIGINT)`.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { SIGNAL_ECHO_MS } from "../../src/supervisor/run.ts";
import { killAll, processesIn, type RunningGw, type Sandbox, sandbox, slowStream, startInGroup, until } from "../helpers/supervisor.ts";

const ROOT = join(import.meta.dir, "../..");
const cleanups: Array<[Sandbox, RunningGw]> = [];
afterAll(async () => {
  for (const [sb, g] of cleanups) await killAll(sb, g);
});

async function bunRunGwUp(): Promise<{ sb: Sandbox; g: RunningGw }> {
  const sb = await sandbox([{ name: "a" }]);
  const g = startInGroup([process.execPath, "run", "gw", "up", "-c", sb.file], ROOT, sb.env);
  cleanups.push([sb, g]);
  await g.waitFor("serving on", 30_000);
  return { sb, g };
}

describe("Ctrl-C under bun run gw up", () => {
  test("one key press (delivered twice) is one stop request: the stream in flight finishes", async () => {
    const { sb, g } = await bunRunGwUp();
    const s = slowStream(sb.mainPort, 16, 150);
    await s.first;
    process.kill(-g.proc.pid, "SIGINT");
    // The kernel merges two SIGINTs that arrive before gw handles the first; an echo that
    // trails the press (a loaded machine) is not merged. Send one such echo on purpose.
    setTimeout(() => process.kill(-g.proc.pid, "SIGINT"), 100);
    expect(await s.ended).toBe("finished");
    expect(s.deltas()).toBe(16);
    expect(await g.proc.exited).toBe(0);
    expect(g.output()).toContain("letting 1 stream(s) in flight finish");
    expect(g.output()).not.toContain("stopping now");
    expect(await processesIn(sb.dir)).toEqual([]);
  }, 60_000);

  test("a second press more than a second later cuts the streams and stops at once", async () => {
    const { sb, g } = await bunRunGwUp();
    const s = slowStream(sb.mainPort, 60, 200);
    await s.first;
    const firstAt = Date.now();
    process.kill(-g.proc.pid, "SIGINT");
    await g.waitFor("letting 1 stream(s) in flight finish");
    // The deliberate second press: past the window in which a press counts as an echo.
    await Bun.sleep(Math.max(0, firstAt + SIGNAL_ECHO_MS + 200 - Date.now()));
    process.kill(-g.proc.pid, "SIGINT");
    expect(await s.ended).toStartWith("cut");
    expect(await s.ended).toContain("gw stopped: a second Ctrl-C cut this answer short");
    expect(s.deltas()).toBeLessThan(60);
    await g.waitFor("stopping now: streams still in flight are cut");
    expect(await g.proc.exited).toBe(0);
    await until(async () => (await processesIn(sb.dir)).length === 0, 15_000, () => "the instances to stop");
  }, 60_000);
});
