// The first hour: `gw init` writes an example with a relay whose keys are placeholders, and its
// comments say `gw login official antigravity`. That login concerns [instances.official] alone,
// so the relay's errors are said but do not refuse it; gw up, which runs the relay, still does.
// TAB offers both instances' names all the same, and gw check names the logins still to do.
import { afterAll, expect, test } from "bun:test";
import { appendFileSync, chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePorts } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tmp.ts";
import { gw, killAll, MAIN, type Sandbox, sandbox } from "../helpers/supervisor.ts";

const cleanups: Sandbox[] = [];
afterAll(async () => {
  for (const sb of cleanups) await killAll(sb);
});

/** A sandbox whose providers.toml is gw init's, run by gw mock. */
async function initialised(): Promise<Sandbox> {
  const sb = await sandbox([{ name: "a" }]);
  cleanups.push(sb);
  const wrapper = join(sb.dir, "cliproxy.sh");
  const init = await gw(sb, ["init", join(sb.dir, "fresh")]);
  expect(init.code).toBe(0);
  const file = join(sb.dir, "fresh", "providers.toml");
  const text = readFileSync(file, "utf8");
  expect(text).toContain('# cliproxy = "./cli-proxy-api"');
  writeFileSync(file, text.replace('# cliproxy = "./cli-proxy-api"', `cliproxy = "${wrapper}"`));
  return { ...sb, dir: join(sb.dir, "fresh"), file };
}

test("after gw init, gw login official antigravity runs the login; the relay's placeholder keys are said, and only official's file is written", async () => {
  const sb = await initialised();
  const r = await gw(sb, ["login", "official", "antigravity", "--no-browser", "-c", sb.file]);
  expect(r.stderr).toContain("${RELAY_KEY} still holds a placeholder");
  expect(r.stderr).toContain("gw: the errors above are in other instances; this touches [instances.official] alone (gw up needs them fixed)");
  expect(r.stdout).toContain("gw mock: -antigravity-login would print the OAuth URL"); // the login ran
  expect(r.stderr).toContain(`gw: no new credential in ${join(sb.dir, "auths/official")}`); // the mock's login saves none
  expect(existsSync(join(sb.dir, "instances/official.yaml"))).toBe(true);
  expect(existsSync(join(sb.dir, "instances/relay.yaml"))).toBe(false);
  const keys = JSON.parse(readFileSync(join(sb.dir, ".gw/keys.json"), "utf8")) as Record<string, string>;
  expect(Object.keys(keys)).toEqual(["official"]);
});

test("the instance with the errors, a name that is none, and gw up: refused as before", async () => {
  const sb = await initialised();
  const relay = await gw(sb, ["login", "relay", "antigravity", "--no-browser", "-c", sb.file]);
  expect(relay.code).toBe(1);
  expect(relay.stderr).toContain(`${sb.file}: 2 errors; nothing was changed`);
  expect(relay.stdout).not.toContain("gw mock:");
  const typo = await gw(sb, ["login", "offical", "antigravity", "--no-browser", "-c", sb.file]);
  expect(typo.code).toBe(1);
  expect(typo.stderr).toContain(`no instance 'offical' in ${sb.file}`);
  expect(typo.stderr).toContain("did you mean 'official'? instances: official, relay");
  const up = await gw(sb, ["up", "-d", "-c", sb.file]);
  expect(up.code).toBe(1);
  expect(up.stderr).toContain(`${sb.file}: 2 errors; nothing was changed`);
  expect(existsSync(join(sb.dir, "instances"))).toBe(false);
});

test("TAB after gw init offers the instances to log in to, though the file has errors; a crafted name never reaches the shell's line", async () => {
  const sb = await initialised();
  const complete = async (file: string) => (await gw(sb, ["_complete", "--", "gw", "login", "-c", file, ""])).stdout;
  expect(await complete(sb.file)).toBe("official\nrelay\n");
  const crafted = join(sb.dir, "crafted.toml");
  writeFileSync(crafted, '[instances."$(touch pwned)"]\nport = 1\n[instances."-rf"]\nport = 2\n[instances.ok]\nport = 3\n');
  expect(await complete(crafted)).toBe("ok\n");
  writeFileSync(crafted, "[instances.ok\n");
  expect(await complete(crafted)).toBe("");
});

/**
 * gw up running instance a, then an edit of its providers.toml that adds `added` (instances, in
 * TOML) and a relay whose key is a placeholder: an edit the running gw refuses. Returns a's file
 * as the gw wrote it.
 */
async function runningThenEdited(added = ""): Promise<{ sb: Sandbox; before: string }> {
  const sb = await sandbox([{ name: "a" }]);
  cleanups.push(sb);
  expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
  const before = readFileSync(join(sb.dir, "instances/a.yaml"), "utf8");
  appendFileSync(join(sb.dir, ".env"), "RELAY_KEY=sk-relay-xxxxxxxxxxxxxxxx\n");
  const relay = '[instances.relay]\nport = 1\nproviders = [{ type = "anthropic", base_url = "https://relay.example", api_keys = ["${RELAY_KEY}"] }]\n\n[routing]';
  writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace("[routing]", added + relay));
  return { sb, before };
}

/** The running gw still serves a alone, as before the edit; then it is stopped. */
async function servesAAloneThenDown(sb: Sandbox): Promise<void> {
  const status = await gw(sb, ["status", "--json", "-c", sb.file]);
  expect(JSON.parse(status.stdout).instances.map((i: { name: string; state: string }) => [i.name, i.state])).toEqual([["a", "ready"]]);
  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
}

test("with gw up running, an instance added with placeholder keys: gw login of a running one runs on its file as it is, and the running gw keeps serving", async () => {
  const { sb, before } = await runningThenEdited();

  const r = await gw(sb, ["login", "a", "antigravity", "--no-browser", "-c", sb.file]);
  expect(r.stderr).toContain("${RELAY_KEY} still holds a placeholder");
  expect(r.stderr).not.toContain("no instance file was written"); // no reload asked of the running gw, so none refused
  expect(r.stdout).toContain("gw mock: -antigravity-login would print the OAuth URL");
  expect(readFileSync(join(sb.dir, "instances/a.yaml"), "utf8")).toBe(before);
  await servesAAloneThenDown(sb);
}, 60_000);

test("with gw up running, gw login of an instance added beside placeholder keys: its file is written here and the login runs, the gw serves on as it was", async () => {
  const [port] = await freePorts(1);
  const { sb, before } = await runningThenEdited(`[instances.b]\nport = ${port}\nproviders = [{ type = "antigravity" }]\n\n`);
  // The running gw refuses the edit (the relay's placeholder): asked to reload, it stopped the login.
  expect((await gw(sb, ["reload", "-c", sb.file])).code).toBe(1);

  // A binary whose login saves a credential, as the real one does.
  const saver = join(sb.dir, "saver.sh");
  writeFileSync(saver, `#!/bin/sh\n"${process.execPath}" "${MAIN}" mock "$@" || exit $?\necho '{"type":"antigravity"}' > "${join(sb.dir, "auths/b")}/antigravity-me.json"\n`);
  chmodSync(saver, 0o755);
  const r = await gw({ ...sb, env: { ...sb.env, GW_CLIPROXY: saver } }, ["login", "b", "antigravity", "--no-browser", "-c", sb.file]);
  expect(r.stderr).toContain("${RELAY_KEY} still holds a placeholder");
  expect(r.stderr).not.toContain("no instance file was written");
  expect(r.stdout).toContain("gw mock: -antigravity-login would print the OAuth URL"); // the login ran, on b's file
  expect(r.stdout).toContain(`saved antigravity-me.json in ${join(sb.dir, "auths/b")}; the running gw does not run b yet — it will use them once it takes this config (gw reload)`);
  expect(readFileSync(join(sb.dir, "instances/b.yaml"), "utf8")).toContain(`port: ${port}`);
  expect(existsSync(join(sb.dir, "instances/relay.yaml"))).toBe(false);
  expect(readFileSync(join(sb.dir, "instances/a.yaml"), "utf8")).toBe(before);
  await servesAAloneThenDown(sb);
}, 60_000);

test("gw login of an instance the running gw runs but that is not ready: the credential is saved, and gw says the instance reads it once it is", async () => {
  // b's command serves nothing (it exits at once), but its login saves a credential.
  const dir = tempDir("gw-login-notready-");
  const script = join(dir, "b.sh");
  writeFileSync(script, `#!/bin/sh\nfor a in "$@"; do case "$a" in -*-login) echo '{"type":"antigravity"}' > "$AUTHS/antigravity-me.json"; exit 0;; esac; done\necho "b: no upstream here" >&2\nexit 1\n`);
  chmodSync(script, 0o755);
  const sb = await sandbox([{ name: "a" }, { name: "b", command: [script, "-config", "{config}"] }]);
  cleanups.push(sb);
  const env = { ...sb.env, AUTHS: join(sb.dir, "auths/b") };
  expect((await gw({ ...sb, env }, ["up", "-d", "-c", sb.file])).code).toBe(0);
  const r = await gw({ ...sb, env }, ["login", "b", "antigravity", "--no-browser", "-c", sb.file]);
  expect(r.code).toBe(0);
  const state = JSON.parse((await gw(sb, ["status", "--json", "-c", sb.file])).stdout).instances.find((i: { name: string }) => i.name === "b").state;
  expect(state).not.toBe("ready");
  expect(r.stdout).toMatch(new RegExp(`^saved antigravity-me\\.json in ${join(sb.dir, "auths/b").replaceAll("/", "\\/")}; the running gw's instance 'b' is (starting|backoff|crashloop|failed), not ready — it reads them once it is \\(gw logs b says why not\\)$`, "m"));
  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
}, 60_000);

test("gw check after gw init: the relay's two errors, and the logins official still needs — not when an error is outside the instances' tables", async () => {
  const sb = await initialised();
  const check = await gw(sb, ["check", "--json", "-c", sb.file]);
  expect(check.code).toBe(1);
  const json = JSON.parse(check.stdout) as { counts: unknown; logins: { path: string; hint: string }[] };
  expect(json.counts).toEqual({ file: { errors: 2, warnings: 0 }, folder: { errors: 0 }, machine: { logins_missing: 2 } });
  expect(json.logins.map((p) => [p.path, p.hint])).toEqual([
    ["instances.official.providers[0]", "log in: gw login official antigravity"],
    ["instances.official.providers[1]", "log in: gw login official codex"],
  ]);
  // A route naming an instance that is none: an error in [routing], where a login cannot help.
  writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace('"g3f" = [ { instance = "official"', '"g3f" = [ { instance = "nope"'));
  const routing = JSON.parse((await gw(sb, ["check", "--json", "-c", sb.file])).stdout) as { counts: { file: unknown; machine: unknown }; logins: unknown[] };
  expect([routing.counts.file, routing.counts.machine, routing.logins]).toEqual([{ errors: 3, warnings: 0 }, { logins_missing: 0 }, []]);
});
