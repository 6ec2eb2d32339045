// Ctrl-C at the command line on a command that waits for the running gw: gw up -d that waits for
// its gw to serve, gw restart following a restart. gw goes on in the background either way; the
// user who pressed Ctrl-C is told so, and how to see or stop it.
import { afterAll, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gw, killAll, type Sandbox, sandbox, startGw, timesLogged, untilLogged } from "../helpers/supervisor.ts";

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

test("Ctrl-C on gw restart while it follows: exit 130 and one line saying gw goes on with the restart; it does", async () => {
  // an instance that starts only once the test opens its gate (removes a file), so the restart is still under way at Ctrl-C
  const sb = await sandbox([{ name: "a" }]);
  cleanups.push(sb);
  const gate = join(sb.dir, "hold-start");
  const slow = ["sh", "-c", `while [ -e "${gate}" ]; do sleep 0.05; done; exec "$0" "$@"`, join(sb.dir, "cliproxy.sh"), "-config", "{config}"];
  await Bun.write(sb.file, (await Bun.file(sb.file).text()).replace('providers = [{ type = "antigravity" }]', `providers = [{ type = "antigravity" }]\ncommand = ${JSON.stringify(slow)}`));
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  const before = JSON.parse((await gw(sb, ["status", "--json", "-c", sb.file])).stdout).instances[0];
  const [starts, readies] = [timesLogged(sb, "a: started pid"), timesLogged(sb, "a: ready in")];
  writeFileSync(gate, "");
  const restart = startGw(sb, ["restart", "a", "-c", sb.file]);
  // the restart's start is under way once gw.log says a started once more
  await untilLogged(sb, "a: started pid", starts + 1);
  expect(JSON.parse((await gw(sb, ["status", "--json", "-c", sb.file])).stdout).instances[0].pid).not.toBe(before.pid);
  restart.proc.kill("SIGINT");
  expect(await restart.proc.exited).toBe(130);
  expect(restart.output()).toBe("gw: stopped following; the running gw goes on with the restart\n  see how it ends with: gw status · gw logs\n");
  rmSync(gate);
  await untilLogged(sb, "a: ready in", readies + 1);
  expect(JSON.parse((await gw(sb, ["status", "--json", "-c", sb.file])).stdout).instances[0].state).toBe("ready");
  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
}, 60_000);
