// The embedded demo from an empty directory, gw login with gw mock as the binary, the systemd unit.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { freePort } from "../helpers/ports.ts";
import { ANOTHER_GW_EXIT, systemdUnit } from "../../src/supervisor/service.ts";
import type { StatusReport } from "../../src/supervisor/status.ts";
import { readRequestLog } from "../helpers/resilience.ts";
import { controlProbe } from "../../src/supervisor/control.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";
import { gw, killAll, MAIN, processesIn, type Sandbox, sandbox } from "../helpers/supervisor.ts";
import { tempDir } from "../helpers/tmp.ts";

const sandboxes: Pick<Sandbox, "dir">[] = [];
afterAll(async () => {
  for (const sb of sandboxes) await killAll(sb);
});

describe("embedded demo", () => {
  test("gw up with no config runs two mock instances and routes, and says how to use it", async () => {
    const dir = tempDir("gw-demo-");
    const sb = { dir, env: { ...process.env, XDG_CACHE_HOME: join(dir, "cache"), GW_CONFIG: undefined, GW_CLIPROXY: undefined } };
    sandboxes.push(sb);
    const port = await freePort();
    const r = await gw(sb, ["up", "-d", "--port", String(port)]);
    expect(r.code).toBe(0);
    const url = `http://127.0.0.1:${port}`;
    expect(r.stdout).toMatch(/^alpha: ready in/m);
    expect(r.stdout).toContain("This is the built-in demo");
    expect(r.stdout).toContain(`  curl -s ${url}/v1/messages`);
    expect(r.stdout).toContain(`  bun ${MAIN} cld cp -c ${join(dir, "cache/gw/demo/demo.toml")} opus`); // from a checkout: how to type gw
    expect(r.stdout).toContain(`  bun ${MAIN} init   # writes providers.toml and .env here`);
    expect(r.stdout).toContain(`gw is running in the background (pid`);

    const claude = await new Anthropic({ baseURL: url, apiKey: "unused", maxRetries: 0 }).messages.create({
      model: "opus4.6",
      max_tokens: 64,
      messages: [{ role: "user", content: "hi" }],
    });
    expect(claude.content[0]?.type).toBe("text");
    const gemini = await new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0 }).chat.completions.create({
      model: "g3f",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(gemini.choices[0]?.message.content).toContain("alpha");

    const status = JSON.parse((await gw(sb, ["status", "--json"])).stdout) as StatusReport;
    expect(status.demo).toBe(true);
    expect(status.instances.map((i) => [i.name, i.state])).toEqual([["alpha", "ready"], ["beta", "ready"]]);
    expect(readdirSync(dir)).toEqual(["cache"]); // nothing lands in the working directory

    // What a first hour tries next reads the running demo's config, and says so.
    const demoToml = join(dir, "cache/gw/demo/demo.toml");
    const body = join(tempDir("gw-demo-body-"), "body.json");
    writeFileSync(body, JSON.stringify({ model: "opus4.6", max_tokens: 64, messages: [{ role: "user", content: "hi" }] }));
    const explain = await gw(sb, ["route", "explain", body, "--json"]);
    expect(explain.stderr).toBe(`gw: no providers.toml here; reading the running demo's cache/gw/demo/demo.toml\n`);
    expect(JSON.parse(explain.stdout)).toMatchObject({ file: demoToml, route: "opus4.6", target: { reason: "weighted" } }); // either instance
    // The request log lands on a timer (250 ms); gw usage has the running gw write it first. The
    // same request here, in-process, is answered within milliseconds of the answers above.
    const demoDir = join(dir, "cache/gw/demo");
    expect(await controlProbe(gwPaths(demoDir), "/flush-log", { method: "POST" })).toEqual({ flushed: true });
    expect(readRequestLog(demoDir).map((r) => r.request.model)).toEqual(["opus4.6", "g3f"]);
    const usage = await gw(sb, ["usage", "--json"]);
    expect([usage.code, JSON.parse(usage.stdout).total.requests]).toEqual([0, 2]);
    expect(usage.stderr).toBe(explain.stderr);

    expect((await gw(sb, ["down"])).code).toBe(0);
    const after = await gw(sb, ["usage"]);
    expect([after.code, after.stderr]).toEqual([1, `gw: no providers.toml here and $GW_CONFIG is not set\n  pass -c FILE, or write one here: bun ${MAIN} init\n`]);
    expect(await processesIn(dir)).toEqual([]);
  }, 60_000);

  test("an edited providers.toml.example and no providers.toml: check, up and init say to rename it (the example as shipped, a checkout's, is no such case)", async () => {
    const dir = tempDir("gw-example-");
    const sb = { dir, env: { ...process.env, XDG_CACHE_HOME: join(dir, "cache"), GW_CONFIG: undefined, GW_CLIPROXY: undefined } };
    sandboxes.push(sb);
    const shipped = readFileSync(join(import.meta.dir, "../../providers.toml.example"), "utf8");
    writeFileSync(join(dir, "providers.toml.example"), shipped);
    writeFileSync(join(dir, ".env.example"), "RELAY_KEY=\n");
    expect((await gw(sb, ["check"])).stderr).toStartWith("gw: no providers.toml here and $GW_CONFIG is not set\n");
    writeFileSync(join(dir, "providers.toml.example"), shipped.replace("main_port = 8145", "main_port = 8146"));
    const said = `gw: no providers.toml in ${dir}; providers.toml.example has edits, but gw reads providers.toml\n  rename it: mv providers.toml.example providers.toml && mv .env.example .env\n`;
    for (const args of [["check"], ["up", "-d"], ["init"]]) {
      const r = await gw(sb, args);
      expect([args[0], r.code, r.stderr]).toEqual([args[0], 1, said]);
    }
    expect(readdirSync(dir).filter((f) => f.startsWith("providers.toml") || f.startsWith(".env"))).toEqual(expect.arrayContaining([".env.example", "providers.toml.example"]));
    expect(readdirSync(dir).filter((f) => f === "providers.toml" || f === ".env")).toEqual([]); // init wrote no fresh example beside it
    expect(await processesIn(dir)).toEqual([]); // no demo started in its place
  });

  test("--port 0: the demo serves on a free port and says which", async () => {
    const dir = tempDir("gw-demo-port0-");
    const sb = { dir, env: { ...process.env, XDG_CACHE_HOME: join(dir, "cache"), GW_CONFIG: undefined, GW_CLIPROXY: undefined } };
    sandboxes.push(sb);
    const r = await gw(sb, ["up", "-d", "--port", "0"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const url = /running in the background \(pid \d+\) on (http:\/\/127\.0\.0\.1:(\d+))/.exec(r.stdout);
    expect(Number(url?.[2])).toBeGreaterThan(0);
    expect(r.stdout).toContain(`  curl -s ${url![1]}/v1/messages`);
    expect((await fetch(`${url![1]}/healthz`)).status).toBe(200);
    expect((await gw(sb, ["down"])).code).toBe(0);
  }, 60_000);

  test("a demo started in another folder is named when a real config wants its port, with how to stop it", async () => {
    const sb = await sandbox([{ name: "a" }]);
    sandboxes.push(sb);
    const elsewhere = { dir: tempDir("gw-demo-"), env: sb.env }; // same user cache: the same demo
    sandboxes.push(elsewhere);
    const demo = await gw(elsewhere, ["up", "-d", "--port", String(sb.mainPort)]);
    expect(demo.code).toBe(0);
    const demoToml = join(sb.env.XDG_CACHE_HOME!, "gw/demo/demo.toml");
    const pid = Number(/running in the background \(pid (\d+)\)/.exec(demo.stdout)![1]);

    const r = await gw(sb, ["up", "-c", sb.file]);
    expect(r.code).toBe(ANOTHER_GW_EXIT); // another gw in the way: a service does not retry it
    expect(r.stderr).toBe(
      `gw: port ${sb.mainPort} of the load balancer is in use by the gw demo (pid ${pid}, config ${demoToml})\n` +
        `  stop it with: gw down -c ${demoToml} — or run this one elsewhere: change [global] main_port (or gw up --port N)\n`,
    );
    // The command it names does stop the demo; then this config starts.
    expect((await gw(sb, ["down", "-c", demoToml])).code).toBe(0);
    expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
    expect(await processesIn(sb.dir)).toEqual([]);
  }, 60_000);
});

describe("a real config on gw mock", () => {
  test('cliproxy = "/path/to/gw" (the natural guess) runs gw mock for each instance', async () => {
    const sb = await sandbox();
    sandboxes.push(sb);
    // gw as users have it: an executable named gw (here a wrapper around this checkout).
    mkdirSync(join(sb.dir, "bin"));
    const gwBin = join(sb.dir, "bin", "gw");
    writeFileSync(gwBin, `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" "$@"\n`, { mode: 0o755 });
    writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace(/^cliproxy = .*$/m, `cliproxy = "${gwBin}"`));
    const version = await gw(sb, ["cliproxy", "version", "-c", sb.file]);
    expect(version.stdout).toBe("gw mock (the stand-in; this path is gw itself) — bin/gw (from [global] cliproxy)\n");
    const up = await gw(sb, ["up", "-d", "-c", sb.file]);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain("2/2 instances ready");
    const answer = await new OpenAI({ baseURL: `http://127.0.0.1:${sb.mainPort}/v1`, apiKey: "unused", maxRetries: 0 }).chat.completions.create({
      model: "m",
      messages: [{ role: "user", content: "hi" }],
    });
    expect(answer.choices[0]?.message.content).toContain("Mock answer");
    expect(readFileSync(join(sb.dir, "logs/a.log"), "utf8")).toContain(`${gwBin} mock -config ${join(sb.dir, "instances/a.yaml")}`);
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
  }, 60_000);
});

describe("gw login", () => {
  test("runs the instance's binary with its YAML and -PROVIDER-login, then says what happened", async () => {
    const sb = await sandbox([{ name: "a" }]);
    sandboxes.push(sb);
    writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace('providers = [{ type = "antigravity" }]', 'providers = [{ type = "antigravity" }, { type = "codex" }]'));
    // Nothing saved is a failure: exit 1, with the command to try again.
    const plain = await gw(sb, ["login", "a", "antigravity", "--no-browser", "-c", sb.file]);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toContain(`gw mock: -antigravity-login would print the OAuth URL (no browser) and save the credential to the auth-dir of ${join(sb.dir, "instances/a.yaml")}`);
    expect(plain.stderr).toBe(
      `gw: no new credential in ${join(sb.dir, "auths/a")} — the login saved nothing; nothing for instance 'a' to pick up\n` +
        "  the login above did not finish (or saved elsewhere); try again with: gw login a antigravity\n",
    );

    // A binary whose login saves a credential file of the provider's type, as the real one does
    // (`-codex-login` → {"type":"codex"} in codex-me.json); SAVE_AS names another content.
    const saver = join(sb.dir, "saver.sh");
    writeFileSync(
      saver,
      [
        "#!/bin/sh",
        `"${process.execPath}" "${MAIN}" mock "$@" || exit $?`,
        'for a in "$@"; do case "$a" in -*-login) p=${a#-}; p=${p%-login};; esac; done',
        '[ -n "$p" ] || exit 0',
        `if [ -n "$SAVE_AS" ]; then echo "$SAVE_AS"; else echo "{\\"type\\":\\"$p\\"}"; fi > "${join(sb.dir, "auths/a")}/$p-me.json"`,
        "",
      ].join("\n"),
    );
    chmodSync(saver, 0o755);
    const withSaver = { ...sb, env: { ...sb.env, GW_CLIPROXY: saver } };
    const saved = await gw(withSaver, ["login", "a", "codex", "-c", sb.file]);
    expect(saved.stdout).toContain("-codex-login would open a browser");
    expect(saved.stdout).toContain(`saved codex-me.json in ${join(sb.dir, "auths/a")}; gw is not running a now — it will use them at the next gw up`);

    // With gw running the instance, the login checks whether it picked the credential up: the
    // instance watches its auth dir, so the new account's models show without a restart.
    expect((await gw(withSaver, ["up", "-d", "-c", sb.file])).code).toBe(0);
    const live = await gw(withSaver, ["login", "a", "antigravity", "-c", sb.file]);
    expect(live.stdout).toContain(
      `saved antigravity-me.json in ${join(sb.dir, "auths/a")}; the running instance 'a' picked them up (new models: claude-opus-4-6-thinking, claude-sonnet-4-6, gemini-3-flash, gpt-oss-120b-medium)`,
    );
    // A file the instance cannot use shows nothing new, and gw says what to do.
    const unusable = await gw({ ...withSaver, env: { ...withSaver.env, SAVE_AS: "{}" } }, ["login", "a", "codex", "-c", sb.file]);
    expect(unusable.stdout).toContain(`saved codex-me.json in ${join(sb.dir, "auths/a")}; the running instance 'a' shows no new models yet — if the account does not appear, run: gw restart a`);
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);

    // A provider the instance does not have: refused before anything runs.
    const notHere = await gw(withSaver, ["login", "a", "claude", "-c", sb.file]);
    expect(notHere.code).toBe(1);
    expect(notHere.stdout).toBe("");
    expect(notHere.stderr).toBe("gw: instance 'a' has no claude provider, so a claude login would go unused\n  log in to what it has: gw login a antigravity · gw login a codex · gw login a codex-device\n");
    const noLogin = await gw(sb, ["login", "a", "openai", "-c", sb.file]);
    expect(noLogin.code).toBe(1);
    expect(noLogin.stderr).toContain("gw: openai takes API keys, not a login\n  log in to what it has: gw login a antigravity");
    const noInstance = await gw(sb, ["login", "zz", "codex", "-c", sb.file]);
    expect(noInstance.stderr).toContain(`gw: no instance 'zz' in ${sb.file}`);
  }, 60_000);
});

describe("gw service install", () => {
  test("prints a unit that runs gw up for this config", async () => {
    const sb = await sandbox([{ name: "a" }]);
    const r = await gw(sb, ["service", "install", "-c", sb.file]);
    expect(r.code).toBe(0);
    // From the source tree: bun without the bunfig.toml and .env of the folder it runs in (sys/source-run.ts).
    expect(r.stdout).toContain(`ExecStart=${process.execPath} --no-env-file --config=/dev/null ${MAIN} up -c ${sb.file}`);
    expect(r.stdout).toContain(`WorkingDirectory=${sb.dir}`);
    expect(r.stdout).toContain("KillMode=mixed");
    // grace 15 s (the sandbox's shutdown_grace_ms) + 10 s kill wait + margin
    expect(r.stdout).toContain("TimeoutStopSec=40");
    expect(r.stderr).toContain("gw service install --write puts this in");
  });

  test("root gets a system unit, others a user unit", () => {
    const sys = systemdUnit("/srv/gw/providers.toml", "/srv/gw", 30_000, { platform: "linux", root: true, uid: 1000, home: "/root", user: "root", self: ["/usr/local/bin/gw"], env: { PATH: "/usr/bin:/bin" } });
    expect(sys.path).toBe("/etc/systemd/system/gw.service");
    expect(sys.text).toContain("WantedBy=multi-user.target");
    const user = systemdUnit("/home/u/gw/providers.toml", "/home/u/gw", 30_000, { platform: "linux", root: false, uid: 1000, home: "/home/u", user: "u", self: ["/home/u/.local/bin/gw"], env: { PATH: "/usr/bin:/bin" } });
    expect(user.path).toBe("/home/u/.config/systemd/user/gw.service");
    expect(user.text).toContain("WantedBy=default.target");
    expect(user.enable).toContain("systemctl --user daemon-reload && systemctl --user enable --now gw");
  });
});
