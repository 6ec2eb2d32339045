// instances.json (orphans.ts): through a write that fails — a full disk for a moment must not
// stop the registry for the rest of gw's life, nor make stopping gw throw — and through two
// cleanups of one dead gw's leftovers at once.
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { childRegistry, recordOf, removeStalePidFile, stopLeftovers } from "../../src/supervisor/orphans.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";
import { procInfo, signalGroup } from "../../src/supervisor/proc.ts";
import { until } from "../helpers/supervisor.ts";
import { tempDir } from "../helpers/tmp.ts";

test("a failed write is said once; the next change writes the whole list again", async () => {
  const paths = gwPaths(tempDir("gw-orphans-"));
  mkdirSync(paths.childrenFile, { recursive: true }); // the file cannot be replaced while a directory sits there
  const said: string[] = [];
  const children = [{ name: "a", pid: process.pid }];
  const registry = childRegistry(paths, () => children, { info: (m) => said.push(`info ${m}`), warn: (m) => said.push(`warn ${m}`) });
  registry.update();
  registry.update();
  await registry.flushed(); // resolves: gw's stop awaits it
  expect(said).toHaveLength(1);
  expect(said[0]).toStartWith(`warn cannot write ${paths.childrenFile}: `);
  expect(said[0]).toContain("the instances' pids are not recorded");

  rmSync(paths.childrenFile, { recursive: true });
  registry.update();
  await registry.flushed();
  const file = JSON.parse(readFileSync(paths.childrenFile, "utf8")) as { children: { name: string; pid: number }[] };
  expect(file.children.map((c) => [c.name, c.pid])).toEqual([["a", process.pid]]);
  expect(said[1]).toBe(`info ${paths.childrenFile} is written again`);
});

// After a SIGKILL of gw, its watchdog (`gw down --after-crash`) and the next `gw up` both stop
// what it left. The slower one used to delete instances.json after its stop, the new gw's file by
// then: a `gw upgrade` later adopted no instance, and the sticky sessions on them moved
// (test/state/persist.test.ts failed so).
test("stopping a dead gw's leftovers leaves the instances.json another gw wrote meanwhile", async () => {
  const dir = tempDir("gw-orphans-");
  const paths = gwPaths(dir);
  mkdirSync(join(paths.childrenFile, ".."), { recursive: true });
  const dead = Bun.spawn(["true"]);
  await dead.exited;
  // A leftover that says when it is told to stop, and stops only when this test kills it: the
  // other gw writes its file in between, however long that takes.
  const [told, ready] = [join(dir, "told"), join(dir, "ready")];
  const leftover = Bun.spawn(["/bin/sh", "-c", `trap 'echo >> "${told}"' TERM; echo > "${ready}"; while :; do sleep 0.05; done`], { detached: true, stdin: "ignore", stderr: "ignore" });
  // A TERM before the trap is set ends the shell at once (told never comes): on a loaded machine it did.
  await until(() => existsSync(ready), 20_000, () => "the leftover's trap to be set");
  writeFileSync(paths.childrenFile, JSON.stringify({ gw: { name: "gw", pid: dead.pid, startTime: 1 }, children: [await recordOf("a", leftover.pid)] }));
  try {
    const stopping = stopLeftovers(paths, 120_000, dead.pid);
    await until(() => existsSync(told), 20_000, () => "the leftover to be told to stop");
    const mine = JSON.stringify({ gw: await recordOf("gw", process.pid), children: [] });
    writeFileSync(paths.childrenFile, mine);
    signalGroup(leftover.pid, "SIGKILL");
    expect(await stopping).toEqual(["a"]);
    expect(readFileSync(paths.childrenFile, "utf8")).toBe(mine);
  } finally {
    signalGroup(leftover.pid, "SIGKILL");
  }
});

// Two gws starting at once on a dead gw's pid file: the one that judged it dead second removed the
// file the first had just created in its place, took the folder too, and both served on it.
test("a dead gw's pid file is removed only while it still holds that gw's record", () => {
  const paths = gwPaths(tempDir("gw-pidfile-"));
  mkdirSync(join(paths.pidFile, ".."), { recursive: true });
  const stale = `${JSON.stringify({ name: "gw", pid: 999_999, startTime: 1 })}\n`;
  const taken = `${JSON.stringify({ name: "gw", pid: process.pid, startTime: 2 })}\n`;
  writeFileSync(paths.pidFile, taken);
  removeStalePidFile(paths, stale);
  expect(readFileSync(paths.pidFile, "utf8")).toBe(taken);
  writeFileSync(paths.pidFile, stale);
  removeStalePidFile(paths, stale);
  expect(existsSync(paths.pidFile)).toBe(false);
  removeStalePidFile(paths, stale); // gone already: nothing to do
  expect(readdirSync(join(paths.pidFile, ".."))).toEqual([]); // nothing left aside
});

// A cloned folder may bring its own .gw/instances.json. A recorded group whose leader is gone has
// no start time left to prove it gw's, and `gw down` (or `gw up`) there sent SIGTERM, then
// SIGKILL, to whatever group of the user's had that number: a double-forked daemon, the pager a
// pipeline left. Only a group working in the folder's instances/NAME (where gw starts each
// instance) is a leftover of gw's.
test("a recorded group whose leader is gone is stopped only when it works in the folder's instance directory", async () => {
  const dir = tempDir("gw-orphans-");
  const paths = gwPaths(dir);
  mkdirSync(join(paths.childrenFile, ".."), { recursive: true });
  const instanceDir = join(dir, "instances", "a");
  mkdirSync(instanceDir, { recursive: true });
  /** A group in its own session whose leader has exited, leaving one member: its pgid and the member's pid. */
  const leaderless = async (cwd: string) => {
    const memberFile = join(dir, `member-${Math.random()}`);
    const leader = Bun.spawn(["/bin/sh", "-c", `sleep 600 & echo $! > "${memberFile}"`], { cwd, detached: true, stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    await leader.exited;
    await until(() => existsSync(memberFile) && readFileSync(memberFile, "utf8").endsWith("\n"), 20_000, () => "the member's pid");
    return { pgid: leader.pid, member: Number(readFileSync(memberFile, "utf8")) };
  };
  const alive = async (pid: number) => (await procInfo(pid)) !== null;
  const users = await leaderless(tempDir("gw-elsewhere-"));
  const ours = await leaderless(instanceDir);
  try {
    const planted = (pgid: number) => writeFileSync(paths.childrenFile, JSON.stringify({ gw: null, children: [{ name: "a", pid: pgid, startTime: 0 }] }));
    planted(users.pgid);
    expect(await stopLeftovers(paths, 5_000)).toEqual([]);
    expect(await alive(users.member)).toBe(true);

    planted(ours.pgid);
    expect(await stopLeftovers(paths, 5_000)).toEqual(["a"]);
    await until(async () => !(await alive(ours.member)), 20_000, () => "the instance's leftover to stop");
  } finally {
    for (const pid of [users.member, ours.member]) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    }
  }
});
