// A gw that takes connections on its control socket but never answers (kill -STOP, a frozen
// laptop, a debugger): every control command ends with one line saying it is stopped, naming the pid and the ways out,
// instead of waiting for ever; and a live gw begins every answer at once, so none reads as silent.
import { afterAll, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { controlJson, controlRequest } from "../../src/supervisor/control.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";
import type { StatusReport } from "../../src/supervisor/status.ts";
import { alive, gw, killAll, MAIN, type Sandbox, sandbox, until } from "../helpers/supervisor.ts";

let sb: Sandbox | undefined;
let stopped: number | undefined;
afterAll(async () => {
  if (stopped) process.kill(stopped, "SIGCONT");
  if (sb) await killAll(sb);
});

/** A gw command, killed if it is still waiting after `ms`: a hang fails the test instead of holding it. */
async function gwWithin(s: Sandbox, args: string[], ms = 60_000) {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], { cwd: s.dir, env: s.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), ms);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { stdout, stderr, code };
}

test("a live gw begins a follow with nothing new at once; a stopped gw gets one line from status, down, reload, logs", async () => {
  sb = await sandbox();
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  const paths = gwPaths(sb.dir);
  // `logs -f -n 0`: nothing to send yet, and still its head goes out (else it would read as a silent gw).
  const follow = await controlRequest(paths, "/logs?n=0&follow=1");
  expect(follow.status).toBe(200);
  await follow.body!.cancel();

  const instances = (await controlJson<StatusReport>(paths, "/status")).instances.map((i) => i.pid!);
  const pid = (JSON.parse(readFileSync(join(sb.dir, ".gw", "gw.pid"), "utf8")) as { pid: number }).pid;
  process.kill(pid, "SIGSTOP");
  stopped = pid;
  const s = sb;
  // A login beside it: it writes the instance files through the running gw first, so it ends alike, having run nothing.
  const saver = join(s.dir, "saver.sh");
  writeFileSync(saver, `#!/bin/sh\n"${process.execPath}" "${MAIN}" mock "$@" >/dev/null || exit $?\necho '{"type":"antigravity"}' > "${join(s.dir, "auths/a")}/antigravity-me.json"\n`, { mode: 0o755 });
  const [login, ...runs] = await Promise.all([
    gwWithin({ ...s, env: { ...s.env, GW_CLIPROXY: saver } }, ["login", "a", "antigravity", "--no-browser", "-c", s.file]),
    ...[["status"], ["down"], ["reload"], ["logs"], ["logs", "-f"]].map((c) => gwWithin(s, [...c, "-c", s.file])),
  ]);
  for (const r of runs) {
    expect(r.stderr).toBe(`gw: gw (pid ${pid}) is stopped (SIGSTOP, a debugger) and cannot answer\n  to let it go on: kill -CONT ${pid}; to stop it anyway: kill -KILL ${pid}, then gw down stops the instances it left\n`);
    expect(r.code).toBe(1);
  }
  expect(login).toEqual(runs[0]!);
  expect(existsSync(join(s.dir, "auths/a/antigravity-me.json"))).toBe(false);

  // The way out the line names: SIGKILL works on a stopped process; gw down then stops what it left.
  process.kill(pid, "SIGKILL");
  stopped = undefined;
  await until(async () => !(await alive(pid)), 10_000, () => `gw ${pid} gone after SIGKILL`);
  const down = await gwWithin(sb, ["down", "-c", sb.file]);
  expect(down.code).toBe(0);
  await until(async () => !(await Promise.all(instances.map(alive))).some(Boolean), 20_000, () => `instances ${instances.join(", ")} stopped`);
}, 120_000);
