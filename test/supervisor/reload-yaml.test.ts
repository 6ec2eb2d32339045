// Issue 4's reload rule for instances: one whose settings changed gets new YAML, and keeps
// running (CLIProxyAPI reloads its own file); the others' files stay as they were.
import { afterAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { StatusReport } from "../../src/supervisor/status.ts";
import { gw, killAll, type Sandbox, sandbox } from "../helpers/supervisor.ts";

let sb: Sandbox;
afterAll(async () => {
  if (sb) await killAll(sb);
});

test("gw reload rewrites the YAML of an instance whose settings changed; no instance is restarted", async () => {
  sb = await sandbox();
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  const pids = async () => ((JSON.parse((await gw(sb, ["status", "-c", sb.file, "--json"])).stdout) as StatusReport).instances.map((i) => [i.name, i.pid]));
  const yaml = (name: string) => readFileSync(join(sb.dir, "instances", `${name}.yaml`), "utf8");
  const before = await pids();
  const bYaml = yaml("b");
  expect(yaml("a")).not.toContain("request-retry: 7");

  writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace(/(\[instances\.a\]\n)/, "$1request_retry = 7\n"));
  const reload = await gw(sb, ["reload", "-c", sb.file, "--json"]);
  expect(JSON.parse(reload.stdout)).toMatchObject({ ok: true, problems: [] });

  expect(yaml("a")).toContain("request-retry: 7");
  expect(yaml("b")).toBe(bYaml);
  expect(await pids()).toEqual(before);
  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
}, 60_000);
