// `gw up -d` whose background gw refuses to start says why where a foreground gw says it: its
// refusal on stderr (its progress alone on stdout), and with --json as `problem` and `hint`.
// Real gws: one serving, one refused its main_port.
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { ANOTHER_GW_EXIT } from "../../src/supervisor/service.ts";
import { gw, killAll, processesIn, type Sandbox, sandbox } from "../helpers/supervisor.ts";

const made: Sandbox[] = [];
afterAll(async () => {
  for (const sb of made) await killAll(sb);
});

test("a main_port another gw holds: the refusal on stderr as in the foreground, and as problem and hint in --json", async () => {
  const serving = await sandbox([{ name: "a" }]);
  made.push(serving);
  const up = await gw(serving, ["up", "-d", "-c", serving.file, "--json"]);
  expect(up.code).toBe(0);
  const pid = (JSON.parse(up.stdout) as { pid: number }).pid;

  // Another folder, the same user (so the same registry of running gws), the same main_port.
  const other = await sandbox([{ name: "a" }]);
  made.push(other);
  writeFileSync(other.file, readFileSync(other.file, "utf8").replace(`main_port = ${other.mainPort}\n`, `main_port = ${serving.mainPort}\n`));
  const here = { dir: other.dir, env: serving.env };
  const problem = `port ${serving.mainPort} of the load balancer is in use by another gw (pid ${pid}, config ${serving.file})`;
  const hint = `stop it with: gw down -c ${serving.file} — or run this one elsewhere: change [global] main_port (or gw up --port N)`;

  const foreground = await gw(here, ["up", "-c", other.file]);
  expect([foreground.code, foreground.stderr]).toEqual([ANOTHER_GW_EXIT, `gw: ${problem}\n  ${hint}\n`]);
  const plain = await gw(here, ["up", "-d", "-c", other.file]);
  expect([plain.code, plain.stderr]).toEqual([ANOTHER_GW_EXIT, foreground.stderr]);
  expect(plain.stdout).not.toContain("in use");
  const json = await gw(here, ["up", "-d", "-c", other.file, "--json"]);
  expect([json.code, json.stderr]).toEqual([ANOTHER_GW_EXIT, ""]);
  expect(JSON.parse(json.stdout)).toEqual({ ok: false, pid: expect.any(Number), exit_code: ANOTHER_GW_EXIT, signal: null, problem, hint });

  expect((await gw(serving, ["down", "-c", serving.file])).code).toBe(0);
  expect(await processesIn(serving.dir)).toEqual([]);
  expect(await processesIn(other.dir)).toEqual([]);
}, 60_000);
