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

test("a reload whose instance files cannot be written changes nothing: the running routes answer as before, no file is new, and the fixed file reloads", async () => {
  const s = await sandbox([{ name: "a" }]);
  try {
    expect((await gw(s, ["up", "-d", "-c", s.file])).code).toBe(0);
    const aYaml = readFileSync(join(s.dir, "instances", "a.yaml"), "utf8");
    const ask = (model: string) =>
      fetch(`http://127.0.0.1:${s.mainPort}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }) });
    const good = readFileSync(s.file, "utf8");
    // One edit: a new route, and a changed instance whose auth dir has a file in its way.
    writeFileSync(join(s.dir, "blocker"), "");
    const edit = (authDir: string) =>
      good.replace(/(\[instances\.a\]\n)/, `$1request_retry = 7\nauth_dir = "${authDir}"\n`).replace("[routing]\n", `[routing]\n"m2" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }]\n`);
    writeFileSync(s.file, edit("./blocker/a"));
    const reload = await gw(s, ["reload", "-c", s.file, "--json"]);
    expect(reload.code).not.toBe(0);
    expect(reload.stdout + reload.stderr).toContain("cannot make the auth dir of instance 'a': a file is in the way where a directory belongs");
    expect(readFileSync(join(s.dir, "instances", "a.yaml"), "utf8")).toBe(aYaml);
    const route = async (model: string) => (await ask(model)).headers.get("x-gw-route");
    expect(await route("m")).toBe("m");
    expect(await route("m2")).toBe("-"); // the gateway kept the running config: m2 is no route there
    writeFileSync(s.file, edit("./auths/a2"));
    expect((await gw(s, ["reload", "-c", s.file, "--json"])).code).toBe(0);
    expect(await route("m2")).toBe("m2");
    expect(readFileSync(join(s.dir, "instances", "a.yaml"), "utf8")).toContain("request-retry: 7");
    expect((await gw(s, ["down", "-c", s.file])).code).toBe(0);
  } finally {
    await killAll(s);
  }
}, 60_000);
