// `gw down` of a gw up running in the background lets the streams in flight finish (up to
// shutdown_grace_ms), as a first Ctrl-C does in the foreground; `gw down` again while it stops
// cuts them, as a second Ctrl-C does — no flag to remember. Each says which it did.
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { logRecords } from "../helpers/resilience.ts";
import { gw, killAll, processesIn, type Sandbox, sandbox, slowStream, startGw, until } from "../helpers/supervisor.ts";

const cleanups: Sandbox[] = [];
afterAll(async () => {
  for (const sb of cleanups) await killAll(sb);
});

test("gw down with a stream in flight says it may finish and how to cut it; gw down again cuts it and gw stops", async () => {
  const sb = await sandbox([{ name: "a" }]);
  cleanups.push(sb);
  writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace("shutdown_grace_ms = 15000", "shutdown_grace_ms = 60000"));
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  const s = slowStream(sb.mainPort, 300, 200); // a minute of deltas
  await s.first;

  const first = startGw(sb, ["down", "-c", sb.file]);
  await first.waitFor(/stopping gw \(pid \d+\): 1 stream in flight may finish first \(up to 60 s; gw down again cuts it\)…/);
  const again = await gw(sb, ["down", "-c", sb.file]);
  expect(again.stdout).toMatch(/^gw \(pid \d+\) was stopping: cutting its 1 stream in flight now…\ngw stopped \(pid \d+\)\n$/);
  expect(again.code).toBe(0);
  // Told why, the client and the request log alike: its grace period had 58 s to go.
  const why = "gw stopped: a second gw down cut this answer short";
  expect(await s.ended).toStartWith("cut");
  expect(await s.ended).toContain(why);
  expect(s.deltas()).toBeLessThan(300);
  const [record] = await logRecords(sb.dir, 1);
  expect([record!.response.broken, record!.response.error]).toEqual([true, why]);
  expect(await first.proc.exited).toBe(0);
  expect(first.output()).toMatch(/gw stopped \(pid \d+\)/);
  await until(async () => (await processesIn(sb.dir)).length === 0, 15_000, () => "the instances to stop");
}, 60_000);

test("gw down with nothing in flight: one line, stopped", async () => {
  const sb = await sandbox([{ name: "a" }]);
  cleanups.push(sb);
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  const down = await gw(sb, ["down", "-c", sb.file]);
  expect(down.stdout).toMatch(/^stopping gw \(pid (\d+)\)…\ngw stopped \(pid \1\)\n$/);
  expect(down.code).toBe(0);
});
