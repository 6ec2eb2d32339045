// The instances' logs on a full disk (supervisor/log-room.ts): gw cannot hear their failed writes,
// so it looks at the room left — said once when it runs out, once when it is back.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { instanceLogRoom } from "../../src/supervisor/log-room.ts";
import { type FullDisk, fullDisk } from "../helpers/full-disk.ts";
import { tempDir } from "../helpers/tmp.ts";

const disks: FullDisk[] = [];
afterAll(async () => {
  for (const d of disks) await d.close();
});

test("a full logs/ is said once with the files and the cause, and again once there is room", async () => {
  const root = tempDir("gw-logroom-");
  const disk = await fullDisk(join(root, "logs"), join(root, "ctl"), "1m");
  disks.push(disk);
  const logs = disk.view(join(root, "logs"));
  mkdirSync(logs, { recursive: true });
  const said: string[] = [];
  let names = ["a", "b"];
  const room = instanceLogRoom(logs, () => names, { info: (m) => said.push(`info ${m}`), warn: (m) => said.push(`warn ${m}`) });
  room.check();
  expect(room.problem()).toBeUndefined();

  disk.fill();
  room.check();
  room.check();
  expect(room.problem()).toBe(`cannot write ${logs}/{a,b}.log: no space left on the device`);
  names = ["a"];
  expect(room.problem()).toBe(`cannot write ${logs}/a.log: no space left on the device`);
  disk.free();
  room.check();
  room.check();
  expect(room.problem()).toBeUndefined();
  expect(said).toEqual([
    `warn instance logs: cannot write ${logs}/{a,b}.log: no space left on the device; their lines are lost until there is room`,
    `info instance logs in ${logs} can be written again`,
  ]);
});

test("a full file system mounted read-only is no want of room: its writes fail for that, and the words would mislead", async () => {
  const root = tempDir("gw-logroom-");
  const disk = await fullDisk(join(root, "logs"), join(root, "ctl"), "1m");
  disks.push(disk);
  const logs = disk.view(join(root, "logs"));
  disk.fill();
  expect((await disk.run(["mount", "-t", "tmpfs", "-o", "remount,ro", "tmpfs", disk.mount])).code).toBe(0);
  const room = instanceLogRoom(logs, () => ["a"], { info() {}, warn() {} });
  expect(room.problem()).toBeUndefined();
});
