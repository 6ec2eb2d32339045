// `gw gen` and `gw login` while a gw up runs this config: the instance files are the running gw's,
// written by its reload (gateway and instances both or neither). An edit the reload refuses leaves
// them as they are — CLIProxyAPI hot-reloads its YAML, so writing them would hand the instances a
// config gw up refused, or half-apply a good one (instances on the new, gateway routing by the old).
import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { gw, killAll, MAIN, type RunningGw, type Sandbox, sandbox, startGw, until } from "../helpers/supervisor.ts";

const sandboxes: Sandbox[] = [];
afterAll(async () => {
  for (const s of sandboxes) await killAll(s);
});

/** A sandbox (helpers/supervisor.ts) whose processes afterAll kills, should a test stop half-way. */
async function box(...args: Parameters<typeof sandbox>): Promise<Sandbox> {
  const sb = await sandbox(...args);
  sandboxes.push(sb);
  return sb;
}

/** gw in the foreground (`up` or `lb`), once its log says `ready`: consola is quiet under NODE_ENV=test, which bun test sets. */
async function foreground(sb: Sandbox, args: string[], ready: string): Promise<RunningGw> {
  const g = startGw({ dir: sb.dir, env: { ...sb.env, NODE_ENV: "production" } }, args);
  await g.waitFor(ready);
  return g;
}

/** A gw lb serving `config` (by default the sandbox's providers.toml), listening. */
const startLb = (sb: Sandbox, config = sb.file) => foreground(sb, ["lb", "-c", config, "--port", "0"], "gw lb listening on");

async function stop(g: RunningGw): Promise<void> {
  g.proc.kill("SIGTERM");
  await g.proc.exited;
}

const yamlOf = (sb: Sandbox, name: string) => readFileSync(join(sb.dir, "instances", `${name}.yaml`), "utf8");

/** The models instance `name` lists itself (it hot-reloads its YAML), asked with its own key. */
async function instanceModels(sb: Sandbox, name: string): Promise<string[]> {
  const key = (parse(yamlOf(sb, name)) as { "api-keys": string[] })["api-keys"][0];
  const res = await fetch(`http://127.0.0.1:${sb.ports[name]}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
  return ((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id);
}

/** The route the gateway picks for `model` (x-gw-route; "-" when it has none). */
async function routeOf(sb: Sandbox, model: string, key?: string): Promise<string | null> {
  const res = await fetch(`http://127.0.0.1:${sb.mainPort}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });
  await res.arrayBuffer();
  return res.headers.get("x-gw-route");
}

/** An edit that gives instance a new model (an openai provider) and a route "m2" to it. */
const withM2 = (toml: string) =>
  toml
    .replace('providers = [{ type = "antigravity" }]', 'providers = [{ type = "antigravity" }, { type = "openai", base_url = "http://127.0.0.1:9/v1", api_keys = ["sk-up-1234567890"] }]')
    .replace("[routing]\n", '[routing]\n"m2" = [{ instance = "a", provider = "openai", model = "x-model" }]\n');

test("gw gen while gw up runs: an edit the reload refuses writes nothing — exit 1, one line, the instances serve on as before", async () => {
  const sb = await box([{ name: "a" }], 'api_keys = ["client-key"]');
  const keyed = readFileSync(sb.file, "utf8").replace('host = "127.0.0.1"', 'host = "0.0.0.0"');
  writeFileSync(sb.file, keyed);
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  const before = yamlOf(sb, "a");
  expect(await instanceModels(sb, "a")).not.toContain("x-model");

  // Valid on its own (gw check passes), refused by the running gw: it would open its listener.
  writeFileSync(sb.file, withM2(keyed).replace('api_keys = ["client-key"]', ""));
  const gen = await gw(sb, ["gen", "-c", sb.file]);
  expect(yamlOf(sb, "a")).toBe(before);
  expect(gen.code).toBe(1);
  const lines = gen.stderr.trim().split("\n").filter((l) => l.startsWith("gw:"));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain("reload refused: the load balancer listens on http://0.0.0.0:");
  expect(gen.stdout).toBe("");
  expect(await instanceModels(sb, "a")).not.toContain("x-model");
  expect(await routeOf(sb, "m2", "client-key")).toBe("-");
  // gw login writes the instance's file before it logs in: refused the same way, no login started.
  const login = await gw(sb, ["login", "a", "antigravity", "--no-browser", "-c", sb.file]);
  expect(login.code).toBe(1);
  expect(login.stderr).toContain("did not take this config, so no instance file was written: ");
  expect(login.stdout).toBe("");
  expect(yamlOf(sb, "a")).toBe(before);
  expect(await instanceModels(sb, "a")).not.toContain("x-model");
  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
}, 60_000);

test("gw gen while gw up runs: an edit it takes is applied by gw up — gateway and instances agree; --json keeps its shape", async () => {
  const sb = await box([{ name: "a" }, { name: "b" }]);
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  const bYaml = yamlOf(sb, "b");
  writeFileSync(sb.file, withM2(readFileSync(sb.file, "utf8")));
  const gen = await gw(sb, ["gen", "-c", sb.file, "--json"]);
  expect(gen.code).toBe(0);
  const files = JSON.parse(gen.stdout) as { instance: string; file: string; changed: boolean }[];
  expect(files.map((f) => [f.instance, f.file])).toEqual([["a", join(sb.dir, "instances", "a.yaml")], ["b", join(sb.dir, "instances", "b.yaml")]]);
  expect(files.every((f) => typeof f.changed === "boolean")).toBe(true);
  expect(files[1]!.changed).toBe(false);
  expect(yamlOf(sb, "a")).toContain("x-model");
  expect(yamlOf(sb, "b")).toBe(bYaml);
  // Both took it: the gateway routes m2, and instance a lists its model (hot-reloaded).
  expect(await routeOf(sb, "m2")).toBe("m2");
  await until(async () => (await instanceModels(sb, "a")).includes("x-model"), 15_000, () => "instance a lists x-model");
  const text = await gw(sb, ["gen", "-c", sb.file]);
  expect(text.code).toBe(0);
  expect(text.stdout).toContain("unchanged instances/a.yaml");
  expect(text.stdout).toMatch(/the running gw up \(pid \d+\) runs this config/);
  // Another config in the same directory would write the files this gw's instances read.
  const other = join(sb.dir, "other.toml");
  writeFileSync(other, readFileSync(sb.file, "utf8").replace('model = "x-model"', 'model = "y-model"'));
  const refused = await gw(sb, ["gen", "-c", other]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/^gw: the running gw \(pid \d+\) serves providers\.toml from this directory, and its instances read the files other\.toml would write; nothing was written\n/);
  expect(yamlOf(sb, "a")).not.toContain("y-model");
  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
}, 60_000);

/** Instance a's auth dir made one gw cannot make private: a link to an open dir (it changes nothing through a link). */
function withOpenAuthDir(sb: Sandbox): Sandbox {
  const open = join(sb.dir, "open-dir");
  mkdirSync(open, { mode: 0o755 });
  chmodSync(open, 0o755);
  symlinkSync(open, join(sb.dir, "auth-a"));
  writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace("[instances.a]\n", '[instances.a]\nauth_dir = "auth-a"\n'));
  return sb;
}

test("gw gen while gw up runs says the auth dir warnings gw gen says with no gw running (the reload's went to gw.log alone), and --json carries them", async () => {
  const sb = await withOpenAuthDir(await box([{ name: "a" }]));
  const alone = await gw(sb, ["gen", "-c", sb.file]);
  expect(alone.code).toBe(0);
  expect(alone.stderr).toContain("is a link to an auth dir other users can read");
  const aloneJson = JSON.parse((await gw(sb, ["gen", "-c", sb.file, "--json"])).stdout) as { warnings: string[] }[];
  expect(aloneJson[0]!.warnings).toHaveLength(1);
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  // An edit the running gw writes by its reload (gen's, or its file watcher's first): the same line, on the same stream.
  writeFileSync(sb.file, withM2(readFileSync(sb.file, "utf8")));
  const running = await gw(sb, ["gen", "-c", sb.file]);
  expect(running.code).toBe(0);
  expect(running.stdout).toMatch(/instances\/a\.yaml\n\(the running gw up \(pid \d+\) runs this config/);
  expect(yamlOf(sb, "a")).toContain("x-model");
  expect(running.stderr).toBe(alone.stderr);
  const json = await gw(sb, ["gen", "-c", sb.file, "--json"]);
  expect(json.code).toBe(0);
  expect(JSON.parse(json.stdout)).toEqual(aloneJson.map((f) => ({ ...f, changed: false })));
  expect(json.stderr).toBe(alone.stderr);
  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
}, 60_000);

test("gw gen while a gw lb serves the config: never written by gen — the files the lb wrote pass, an edit it refused is said", async () => {
  const sb = await box([{ name: "a" }], 'api_keys = ["client-key"]');
  const keyed = readFileSync(sb.file, "utf8").replace('host = "127.0.0.1"', 'host = "0.0.0.0"');
  writeFileSync(sb.file, keyed);
  const lb = await startLb(sb);
  // An edit it takes: it writes the file itself; gen finds it so and writes nothing.
  writeFileSync(sb.file, withM2(keyed));
  await until(() => yamlOf(sb, "a").includes("x-model"), 15_000, () => `gw lb writes a.yaml:\n${lb.output()}`);
  const took = await gw(sb, ["gen", "-c", sb.file]);
  expect(took.code).toBe(0);
  expect(took.stdout).toContain("unchanged instances/a.yaml");
  expect(took.stdout).toMatch(/the running gw lb \(pid \d+\) runs this config/);
  // An edit it refuses: gen does not write it behind its back.
  const before = yamlOf(sb, "a");
  writeFileSync(sb.file, keyed.replace('api_keys = ["client-key"]', ""));
  await lb.waitFor("reload refused");
  const gen = await gw(sb, ["gen", "-c", sb.file]);
  expect(gen.code).toBe(1);
  expect(gen.stderr).toContain(`gw: gw lb (pid ${lb.proc.pid}) serves this config and writes its instance files when it reloads; those of a are not this config's yet, so nothing was written`);
  expect(yamlOf(sb, "a")).toBe(before);
  await stop(lb);
}, 60_000);

test("gw gen while a gw lb serves the config says the auth dir warnings gw gen says with no gw running", async () => {
  const sb = await withOpenAuthDir(await box([{ name: "a" }]));
  const alone = await gw(sb, ["gen", "-c", sb.file]);
  expect(alone.stderr).toContain("is a link to an auth dir other users can read");
  const lb = await startLb(sb);
  const gen = await gw(sb, ["gen", "-c", sb.file]);
  expect(gen.code).toBe(0);
  expect(gen.stdout).toMatch(/the running gw lb \(pid \d+\) runs this config/);
  expect(gen.stderr).toBe(alone.stderr);
  await stop(lb);
}, 60_000);

test("gw status and gw down where a gw lb serves the config: it is named, with where its status is and how to stop it, not called 'not running'", async () => {
  const sb = await box([{ name: "a" }]);
  const lb = await startLb(sb);
  const url = /gw lb listening on (http:\/\/\S+)/.exec(lb.output())![1]!;
  for (const args of [["status"], ["down"]]) {
    const r = await gw(sb, [...args, "-c", sb.file]);
    expect([args[0], r.code, r.stderr]).toEqual([args[0], 1, `gw: gw lb (pid ${lb.proc.pid}) serves ${sb.file} on ${url}, and only gw up answers this command\n  its status page is ${url}/_gw/; stop it where it runs (Ctrl-C) or with: kill ${lb.proc.pid}\n`]);
  }
  expect(lb.proc.exitCode).toBeNull();
  await stop(lb);
}, 60_000);

test("gw gen with no gw running writes the files itself, as it always did", async () => {
  const sb = await box([{ name: "a" }]);
  const gen = await gw(sb, ["gen", "-c", sb.file]);
  expect(gen.code).toBe(0);
  expect(gen.stdout).toBe("wrote     instances/a.yaml\n");
  writeFileSync(sb.file, withM2(readFileSync(sb.file, "utf8")));
  expect((await gw(sb, ["gen", "-c", sb.file])).stdout).toBe("wrote     instances/a.yaml\n");
  expect(yamlOf(sb, "a")).toContain("x-model");
});

test("gw gen while a gw lb serves another config of the same directory: refused, as under a gw up (its instances read these files)", async () => {
  const sb = await box([{ name: "a" }]);
  const lb = await startLb(sb);
  const before = yamlOf(sb, "a");
  const other = join(sb.dir, "other.toml");
  writeFileSync(other, withM2(readFileSync(sb.file, "utf8")));
  const gen = await gw(sb, ["gen", "-c", other]);
  expect(yamlOf(sb, "a")).toBe(before);
  expect(gen.code).toBe(1);
  expect(gen.stderr).toMatch(new RegExp(`^gw: the running gw lb \\(pid ${lb.proc.pid}\\) serves providers\\.toml from this directory, and its instances read the files other\\.toml would write; nothing was written\\n`));
  await stop(lb);
}, 60_000);

test("gw gen under a gw up that was given the config by another path (a linked directory): the same config — reloaded, not refused", async () => {
  const sb = await box([{ name: "a" }]);
  const linked = join(sb.dir, "linked");
  symlinkSync(sb.dir, linked);
  expect((await gw(sb, ["up", "-d", "-c", join(linked, "providers.toml")])).code).toBe(0);
  writeFileSync(sb.file, withM2(readFileSync(sb.file, "utf8")));
  const gen = await gw(sb, ["gen", "-c", sb.file]);
  expect(gen.stderr).not.toContain("would write");
  expect(gen.code).toBe(0);
  expect(gen.stdout).toMatch(/the running gw up \(pid \d+\) runs this config/);
  expect(yamlOf(sb, "a")).toContain("x-model");
  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
}, 60_000);

test("gw gen under a gw lb given the config by another path (a linked directory): its files are this config's — passed, not refused", async () => {
  const sb = await box([{ name: "a" }]);
  const linked = join(sb.dir, "linked");
  symlinkSync(sb.dir, linked);
  const lb = await startLb(sb, join(linked, "providers.toml"));
  const before = yamlOf(sb, "a");
  const gen = await gw(sb, ["gen", "-c", sb.file]);
  expect(gen.stderr).toBe("");
  expect(gen.code).toBe(0);
  expect(gen.stdout).toMatch(/unchanged instances\/a\.yaml\n\(the running gw lb \(pid \d+\) runs this config/);
  expect(yamlOf(sb, "a")).toBe(before);
  await stop(lb);
}, 60_000);

test("gw login and gen while gw up is starting (it cannot reload yet): files that already are this config's let them go on; an edit of them is refused as such", async () => {
  const sb = await box([{ name: "a" }]);
  // An instance slow to start keeps gw up starting while the commands run (a login starts at once).
  const slow = join(sb.dir, "slow.sh");
  writeFileSync(slow, `#!/bin/sh\ncase "$*" in *-login*) ;; *) sleep 30 ;; esac\nexec "${process.execPath}" "${MAIN}" mock "$@"\n`);
  chmodSync(slow, 0o755);
  const toml = readFileSync(sb.file, "utf8").replace(/cliproxy = ".*"/, `cliproxy = "${slow}"`);
  writeFileSync(sb.file, toml);
  const up = await foreground(sb, ["up", "-c", sb.file], "starting 1 instance");
  const before = yamlOf(sb, "a");
  const login = await gw(sb, ["login", "a", "antigravity", "--no-browser", "-c", sb.file]);
  expect(login.stderr).not.toContain("no instance file was written");
  expect(login.stdout).toContain("gw mock: -antigravity-login"); // the login ran
  // An edit of the gateway's part alone: the instance files are this config's already.
  writeFileSync(sb.file, toml.replace("[routing]\n", '[routing]\n"m3" = [{ instance = "a", provider = "antigravity", model = "gemini-3-pro" }]\n'));
  const gen = await gw(sb, ["gen", "-c", sb.file]);
  expect(gen.code).toBe(0);
  expect(gen.stdout).toMatch(/unchanged instances\/a\.yaml\n\(the running gw up \(pid \d+\) is starting and did not reload; these files already are this config's — the rest of an edit waits for gw reload once it serves\)\n/);
  // An edit of an instance file: not written behind the starting gw's back.
  writeFileSync(sb.file, withM2(toml));
  const refused = await gw(sb, ["gen", "-c", sb.file]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(/^gw: the running gw \(pid \d+\) is starting: it cannot reload now, so no instance file was written\n  run this again once it serves/);
  expect(yamlOf(sb, "a")).toBe(before);
  await stop(up);
}, 60_000);
