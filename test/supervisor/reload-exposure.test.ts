// Issue 12 through the real supervisor. Item 1: `gw up -d` on every interface with client keys;
// an edit that drops the keys is refused by `gw reload` (exit 1, the reason printed) and by the
// file watch, loudly in gw.log, which names the address really bound; the keys stay required.
// Item 6: what gw.log is told passes the masker (a key pasted where a setting belongs).
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { gwPaths } from "../../src/supervisor/paths.ts";
import { gw, killAll, type Sandbox, sandbox, until } from "../helpers/supervisor.ts";

let sb: Sandbox | undefined;
afterAll(async () => {
  if (sb) await killAll(sb);
});

test("a reload that would open a public listener is refused on every path, loudly", async () => {
  sb = await sandbox([{ name: "a" }], 'api_keys = ["client-key"]');
  const keyed = readFileSync(sb.file, "utf8").replace('host = "127.0.0.1"', 'host = "0.0.0.0"');
  writeFileSync(sb.file, keyed);
  const up = await gw(sb, ["up", "-d", "-c", sb.file]);
  expect(up.code).toBe(0);
  const log = gwPaths(sb.dir).gwLog;
  const gwLog = () => readFileSync(log, "utf8");
  expect(gwLog()).toContain(`serving on http://0.0.0.0:${sb.mainPort} (every interface)`);
  const withoutKey = async () => (await fetch(`http://127.0.0.1:${sb!.mainPort}/v1/messages`, { method: "POST", body: '{"model":"m","max_tokens":5,"messages":[]}' })).status;
  expect(await withoutKey()).toBe(401);

  writeFileSync(sb.file, keyed.replace('api_keys = ["client-key"]', ""));
  const reload = await gw(sb, ["reload", "-c", sb.file]);
  expect(reload.code).toBe(1);
  expect(reload.stderr).toContain("reload refused: the load balancer listens on http://0.0.0.0:");
  expect(reload.stdout).toContain("config not reloaded; gw keeps running the previous one");
  const json = JSON.parse((await gw(sb, ["reload", "-c", sb.file, "--json"])).stdout) as { ok: boolean; problems: string[] };
  expect(json.ok).toBe(false);
  expect(json.problems[0]).toContain("global.api_keys");
  // The file watch saw the same edit: refused too, in gw.log, without claiming a 127.0.0.1 bind.
  await until(() => (gwLog().match(/ERROR .*reload refused/g) ?? []).length >= 3, 15_000, () => `three refusals in gw.log:\n${gwLog()}`);
  expect(gwLog()).not.toContain("binding 127.0.0.1");
  expect(await withoutKey()).toBe(401);

  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
}, 60_000);

test("host, main_port and state edits: gw reload (and --json) says each waits for a restart, every time, and the rest applies", async () => {
  const moved = await sandbox([{ name: "a" }]);
  try {
    expect((await gw(moved, ["up", "-d", "-c", moved.file])).code).toBe(0);
    const url = `http://127.0.0.1:${moved.mainPort}`;
    const other = moved.mainPort === 65535 ? 65534 : moved.mainPort + 1;
    const edited = readFileSync(moved.file, "utf8")
      .replace(/main_port = \d+/, `main_port = ${other}\nstate = "memory"\napi_keys = ["client-key-after-reload"]`)
      .replace('host = "127.0.0.1"', 'host = "127.0.0.2"');
    writeFileSync(moved.file, edited);
    const reload = await gw(moved, ["reload", "-c", moved.file]);
    expect(reload.code).toBe(0);
    expect(reload.stderr).toContain(`global.main_port  warning: main_port changed to ${other}; the load balancer stays on ${url} until gw restarts`);
    expect(reload.stderr).toContain(`global.host  warning: host changed to 127.0.0.2; the load balancer stays on ${url} until gw restarts`);
    expect(reload.stderr).toMatch(/global\.state  warning: \[global\] state changed to memory; this gw keeps local \S+state\.db until it restarts/);
    expect(reload.stdout).toContain("config reloaded");
    // Asked again with nothing changed in between: still true, still said.
    const json = JSON.parse((await gw(moved, ["reload", "-c", moved.file, "--json"])).stdout) as { ok: boolean; problems: string[] };
    expect(json.ok).toBe(true);
    expect(json.problems.filter((p) => /global\.(host|main_port|state) .*until (gw )?(it )?restarts/.test(p))).toHaveLength(3);
    // The rest of the edit took effect on the listener that stayed: its client keys are asked for.
    expect((await fetch(`${url}/v1/messages`, { method: "POST", body: '{"model":"m","max_tokens":5,"messages":[]}' })).status).toBe(401);
    const log = readFileSync(gwPaths(moved.dir).gwLog, "utf8");
    expect(log).toContain(`global.main_port  warning: main_port changed to ${other}; the load balancer stays on ${url} until gw restarts`);
    expect((await gw(moved, ["down", "-c", moved.file])).code).toBe(0);
  } finally {
    await killAll(moved);
  }
}, 60_000);

test("gw.log masks what it is told: a key pasted into the wrong place of the file is not written out", async () => {
  const logged = await sandbox([{ name: "a" }]);
  try {
    expect((await gw(logged, ["up", "-d", "-c", logged.file])).code).toBe(0);
    const pasted = "sk-ant-api03-PastedIntoTheWrongPlace0123456789";
    writeFileSync(logged.file, readFileSync(logged.file, "utf8").replace("main_port", `"${pasted}" = true\nmain_port`));
    const reload = await gw(logged, ["reload", "-c", logged.file]);
    expect(reload.code).toBe(0);
    expect(reload.stderr).toContain("unknown key"); // gw reload shows the user their own file
    const log = () => readFileSync(gwPaths(logged.dir).gwLog, "utf8");
    await until(() => log().includes("unknown key"), 15_000, () => `the warning in gw.log:\n${log()}`);
    expect(log()).not.toContain(pasted.slice(0, 16));
    expect(log()).toContain("sk-ant…6789");
    expect((await gw(logged, ["down", "-c", logged.file])).code).toBe(0);
  } finally {
    await killAll(logged);
  }
}, 60_000);
