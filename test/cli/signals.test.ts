// Ctrl-C at the command line: gw up -d that is still waiting for its gw to serve. The gw goes on
// starting in the background either way; the user who pressed Ctrl-C is told so, and how to stop it.
import { afterAll, expect, test } from "bun:test";
import { gw, killAll, type Sandbox, sandbox, startGw } from "../helpers/supervisor.ts";

const cleanups: Sandbox[] = [];
afterAll(async () => {
  for (const sb of cleanups) await killAll(sb);
});

test("Ctrl-C on gw up -d while it waits: exit 130 and one line saying gw goes on starting in the background (it said nothing)", async () => {
  // b never answers, so gw up -d waits (for the whole start timeout) until Ctrl-C
  const sb = await sandbox([{ name: "a" }, { name: "b", command: ["sleep", "300"] }]);
  cleanups.push(sb);
  const up = startGw(sb, ["up", "-d", "-c", sb.file]);
  await up.waitFor("a: ready in");
  up.proc.kill("SIGINT");
  expect(await up.proc.exited).toBe(130);
  const pid = up.output().match(/gw (\d+): starting 2 instances/)![1];
  expect(up.output()).toContain(`gw: stopped waiting; gw (pid ${pid}) goes on starting in the background\n  see it with: gw status · stop it with: gw down\n`);
  expect(up.output()).not.toMatch(/\n\s+at /); // no stack
  const status = JSON.parse((await gw(sb, ["status", "--json", "-c", sb.file])).stdout);
  expect(status.pid).toBe(Number(pid));
  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
}, 60_000);
