// gw.log on a full disk (supervisor/logger.ts): a line the disk takes only in part is no line.
import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createGwLogger } from "../../src/supervisor/logger.ts";
import { type FullDisk, fullDisk } from "../helpers/full-disk.ts";
import { tempDir } from "../helpers/tmp.ts";

const disks: FullDisk[] = [];
afterAll(async () => {
  for (const d of disks) await d.close();
});

test("a line a full disk takes only in part is cut back off and counted as lost, so the next lines stand whole", async () => {
  const root = tempDir("gw-logger-");
  const disk = await fullDisk(join(root, "logs"), join(root, "ctl"), "1m");
  disks.push(disk);
  const file = disk.view(join(disk.mount, "gw.log"));
  const log = createGwLogger({ file, terminal: false });
  log.info("first"); // its page has room left for the start of the next line
  disk.fill();
  log.warn(`long ${"x".repeat(5000)}`); // more than the page has left
  disk.free();
  log.info("after");
  await log.close();
  const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
  expect(lines.map((l) => l.replace(/^\S+Z /, ""))).toEqual(["INFO  first", "WARN  1 line(s) could not be written to this log (no space left on the device)", "INFO  after"]);
});

test("once there is room, gw.log's problem ends when asked, not at a next line that may be long in coming (an idle gw)", async () => {
  const root = tempDir("gw-logger-");
  const disk = await fullDisk(join(root, "logs"), join(root, "ctl"), "1m");
  disks.push(disk);
  const file = disk.view(join(disk.mount, "gw.log"));
  const log = createGwLogger({ file, terminal: false });
  disk.fill();
  log.warn(`long ${"x".repeat(5000)}`);
  expect(log.problem()).toBe(`cannot write ${file}: no space left on the device`);
  expect(log.problem()).toBe(`cannot write ${file}: no space left on the device`); // asking again writes nothing while full
  disk.free();
  expect(log.problem()).toBeUndefined();
  await log.close();
  expect(readFileSync(file, "utf8")).toMatch(/^\S+Z WARN {2}1 line\(s\) could not be written to this log \(no space left on the device\)\n$/);
});
