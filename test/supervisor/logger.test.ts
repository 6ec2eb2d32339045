// gw.log (supervisor/logger.ts): a line a full disk takes only in part is no line; each line says which gw wrote it.
import { afterAll, expect, test } from "bun:test";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { waitServing } from "../../src/supervisor/daemon.ts";
import { createGwLogger, logLineParts } from "../../src/supervisor/logger.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";
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
  expect(lines.map((l) => l.replace(/^\S+Z /, ""))).toEqual([`[${process.pid}] INFO  first`, `[${process.pid}] WARN  1 line(s) could not be written to this log (no space left on the device)`, `[${process.pid}] INFO  after`]);
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
  expect(readFileSync(file, "utf8")).toMatch(/^\S+Z \[\d+\] WARN {2}1 line\(s\) could not be written to this log \(no space left on the device\)\n$/);
});

test("a gw.log line's message and its writer: the pid of the gw that logged it, none for what a process printed itself or an older gw's line", () => {
  expect(logLineParts("2026-12-02T15:36:35.123Z [4242] INFO  a: ready in 1.2 s")).toEqual({ pid: 4242, message: "a: ready in 1.2 s" });
  expect(logLineParts("2026-12-02T15:36:35.123Z [4242] ERROR the load balancer could not listen")).toEqual({ pid: 4242, message: "the load balancer could not listen" });
  expect(logLineParts("2026-12-02T15:36:35.123Z WARN  from a gw before lines said their pid")).toEqual({ message: "from a gw before lines said their pid" });
  expect(logLineParts("gw: the load balancer could not listen on 127.0.0.1:8080")).toEqual({ message: "gw: the load balancer could not listen on 127.0.0.1:8080" });
});

test("every line of a message carries the time, pid and level: a gw handing over shows the successor's lines alone, none of its own message's rest", async () => {
  const paths = gwPaths(tempDir("gw-logger-"));
  mkdirSync(join(paths.dir, "logs"));
  const log = createGwLogger({ file: paths.gwLog, terminal: false });
  log.warn("config reload failed:\n  providers.toml:3:1  error: the rest of this message");
  await log.close();
  const lines = readFileSync(paths.gwLog, "utf8").split("\n").filter(Boolean);
  expect(lines.map((l) => l.replace(/^\S+Z /, ""))).toEqual([`[${process.pid}] WARN  config reload failed:`, `[${process.pid}] WARN    providers.toml:3:1  error: the rest of this message`]);
  expect(lines.map((l) => logLineParts(l).pid)).toEqual([process.pid, process.pid]);
  // This process is the gw handing over; a successor, its output appended to the same file as
  // spawnGw's is, writes a line of its own and ends.
  const fd = openSync(paths.gwLog, "a");
  const proc = Bun.spawn(["sh", "-c", "printf '%s [%s] INFO  the successor says\\n' 2026-12-02T00:00:00.000Z $$"], { stdin: "ignore", stdout: fd, stderr: fd });
  closeSync(fd);
  const shown: string[] = [];
  const out = await waitServing(paths, { proc, logOffset: 0 }, (l) => shown.push(l));
  expect(out.ok).toBe(false);
  expect(shown).toEqual(["the successor says"]);
});
