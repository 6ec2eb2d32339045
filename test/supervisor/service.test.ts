// The systemd unit for paths with spaces, $ and % (issue 12 item 15), checked by systemd itself:
// `systemd-analyze verify` rejects unknown escapes (\$), unresolvable specifiers (%z), and a
// program path it cannot find — so a wrongly escaped ExecStart program or WorkingDirectory fails.
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execWord, systemdUnit, thisHost } from "../../src/supervisor/service.ts";
import { runGw, tempDir } from "../helpers/tmp.ts";

const ANALYZE = Bun.which("systemd-analyze");
if (!ANALYZE) throw new Error("systemd-analyze is needed by this test (apt-get install -y systemd)");

/** A directory whose name carries every character systemd treats specially in a unit. */
function awkwardDir(): string {
  const dir = join(tempDir("gw-unit-"), `my gw $HOME $$x %z 50%`);
  mkdirSync(dir);
  return dir;
}

/** What systemd needs for a literal path: % doubled everywhere, $ doubled in arguments. */
const pct = (s: string) => s.split("%").join("%%");
const arg = (s: string) => pct(s).split("$").join("$$");

async function verify(unitText: string): Promise<{ code: number; stderr: string }> {
  const file = join(tempDir("gw-unit-file-"), "gw.service");
  writeFileSync(file, unitText);
  const p = Bun.spawn([ANALYZE!, "verify", file], { stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/bin:/bin", SYSTEMD_LOG_COLOR: "0" } });
  const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  return { code, stderr };
}

describe("systemd's escaping", () => {
  test("program words keep $; arguments double it; % is %%; quotes and backslashes are C-escaped in quotes", () => {
    expect(execWord("/usr/bin/gw", true)).toBe("/usr/bin/gw");
    expect(execWord("/a b/$x/50%/gw", true)).toBe('"/a b/$x/50%%/gw"');
    expect(execWord("/a b/$x/50%/p.toml", false)).toBe('"/a b/$$x/50%%/p.toml"');
    expect(execWord('say "hi"\\now', false)).toBe('"say \\"hi\\"\\\\now"');
    expect(execWord("", false)).toBe('""');
    expect(execWord(";", false)).toBe('";"');
  });

  test("a path no unit can carry is refused in one line", () => {
    expect(() => systemdUnit("/a\nb/providers.toml", "/a\nb", 1000, { platform: "linux", root: false, uid: 1000, home: "/h", user: "u", self: ["/usr/bin/gw"], env: { PATH: "/usr/bin:/bin" } })).toThrow("a systemd unit cannot carry this path");
  });
});

describe("systemd-analyze verify accepts the unit", () => {
  test("gw itself living in a directory with spaces, $ and %", async () => {
    const dir = awkwardDir();
    const gw = join(dir, "gw");
    writeFileSync(gw, "#!/bin/sh\nexit 0\n");
    chmodSync(gw, 0o755);
    const unit = systemdUnit(join(dir, "providers.toml"), dir, 30_000, { platform: "linux", root: false, uid: 1000, home: "/home/u", user: "u", self: [gw], env: { PATH: "/usr/bin:/bin" } });
    expect(unit.text).toContain(`ExecStart="${pct(dir)}/gw" up -c "${arg(dir)}/providers.toml"\n`);
    expect(unit.text).toContain(`WorkingDirectory=${pct(dir)}\n`);
    expect(await verify(unit.text)).toEqual({ code: 0, stderr: "" });
    // The check has teeth: the old escaping (\$, a bare %) is rejected by the same verify.
    const old = unit.text.replace(/^ExecStart=.*$/m, `ExecStart="${gw.replace(/\$/g, "\\$")}" up`).replace(/^WorkingDirectory=.*$/m, `WorkingDirectory=${dir}`);
    expect((await verify(old)).code).not.toBe(0);
  });

  test("gw service install for a config in such a directory", async () => {
    const dir = awkwardDir();
    writeFileSync(join(dir, "providers.toml"), `[global]\nhost = "127.0.0.1"\nmain_port = 18145\n[instances.a]\nport = 18146\nproviders = [{ type = "antigravity" }]\n`);
    const r = await runGw(["service", "install", "-c", join(dir, "providers.toml")]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(` up -c "${arg(dir)}/providers.toml"\n`);
    expect(await verify(r.stdout)).toEqual({ code: 0, stderr: "" });
  });
});

/** The unit's Environment= lines as systemd reads them: one word each, "…" unquoted with its C escapes, %% as %. */
function unitEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n").filter((l) => l.startsWith("Environment="))) {
    let word = line.slice("Environment=".length);
    if (word.startsWith('"')) word = word.slice(1, -1).replace(/\\(.)/g, "$1");
    word = word.replaceAll("%%", "%");
    env[word.slice(0, word.indexOf("="))] = word.slice(word.indexOf("=") + 1);
  }
  return env;
}

describe("the service finds instance commands as the user's shell does", () => {
  /** A config whose instance runs `my-cliproxy`, found only through the PATH the test gives. */
  function setup(): { dir: string; bin: string; file: string } {
    const dir = awkwardDir();
    const bin = join(dir, `bin dir $PATH "q" %h`);
    mkdirSync(bin);
    writeFileSync(join(bin, "my-cliproxy"), "#!/bin/sh\nexit 0\n");
    chmodSync(join(bin, "my-cliproxy"), 0o755);
    const file = join(dir, "providers.toml");
    writeFileSync(file, `[global]\nhost = "127.0.0.1"\nmain_port = 18145\napi_keys = ["\${SVC_TEST_KEY}"]\n[instances.a]\nport = 18146\ncommand = ["my-cliproxy", "-config", "{config}"]\nproviders = [{ type = "antigravity" }]\n`);
    writeFileSync(join(dir, ".env"), "SVC_TEST_KEY=sk-from-dotenv\n");
    return { dir, bin, file };
  }

  test("the unit carries the user's PATH, escaped for systemd: the command is found under it", async () => {
    const { bin, file } = setup();
    const r = await runGw(["service", "install", "-c", file], { env: { PATH: `${bin}:relative/bin::${bin}:/usr/bin:/bin` } });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("warning");
    // systemd's own default PATH (what a unit without Environment=PATH= gets) does not have it
    expect(Bun.which("my-cliproxy", { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin" })).toBeNull();
    const path = unitEnv(r.stdout).PATH!;
    expect(path).toBe(`${bin}:/usr/bin:/bin`); // absolute entries only, each once
    expect(Bun.which("my-cliproxy", { PATH: path })).toBe(join(bin, "my-cliproxy"));
    expect(await verify(r.stdout)).toEqual({ code: 0, stderr: "" });
  });

  test("what works in the shell and would not under the service is said: a ${VAR} only the shell has, a command found through a relative PATH entry", async () => {
    const { dir, bin, file } = setup();
    writeFileSync(join(dir, ".env"), "");
    const r = await runGw(["service", "install", "-c", file], { cwd: join(bin, ".."), env: { PATH: `${bin.split("/").pop()}:/usr/bin:/bin`, SVC_TEST_KEY: "sk-only-in-the-shell" } });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("SVC_TEST_KEY");
    expect(r.stderr).toContain(`under the service only: it does not read your shell's environment; put the variable in ${dir}/.env`);
    expect(r.stderr).not.toContain("sk-only-in-the-shell");
    writeFileSync(join(dir, ".env"), "SVC_TEST_KEY=sk-from-dotenv\n");
    const again = await runGw(["service", "install", "-c", file], { cwd: join(bin, ".."), env: { PATH: `${bin.split("/").pop()}:/usr/bin:/bin` } });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`gw: warning: under the service: command of instance 'a' not found: my-cliproxy`);
    expect(again.stderr).toContain(`(here it is ${join(bin, "my-cliproxy")})`);
  });
});

test("the unit carries the shell's proxies and trusted CAs (a relay behind a company proxy works under the service as in the shell), never a proxy's password", async () => {
  const dir = awkwardDir();
  const file = join(dir, "providers.toml");
  writeFileSync(file, `[global]\nhost = "127.0.0.1"\nmain_port = 18145\n[instances.a]\nport = 18146\nproviders = [{ type = "antigravity" }]\n`);
  const network = { HTTPS_PROXY: "http://proxy.corp.example:3128", HTTP_PROXY: undefined, ALL_PROXY: undefined, all_proxy: undefined, https_proxy: undefined, NO_PROXY: "corp.example,10.0.0.0/8", no_proxy: undefined, NODE_EXTRA_CA_CERTS: "/etc/corp/ca.pem", SSL_CERT_FILE: undefined, SSL_CERT_DIR: undefined };
  const r = await runGw(["service", "install", "-c", file], { env: { PATH: "/usr/bin:/bin", ...network, http_proxy: "http://me:s3cret-pw@proxy.corp.example:3128" } });
  expect(r.code).toBe(0);
  const env = unitEnv(r.stdout);
  expect(env).toMatchObject({ HTTPS_PROXY: "http://proxy.corp.example:3128", NO_PROXY: "corp.example,10.0.0.0/8", NODE_EXTRA_CA_CERTS: "/etc/corp/ca.pem" });
  expect(env.http_proxy).toBeUndefined();
  expect(r.stdout + r.stderr).not.toContain("s3cret-pw");
  expect(r.stderr).toContain("gw: warning: under the service: $http_proxy is left out of the unit, since it holds a password");
  expect(await verify(r.stdout)).toEqual({ code: 0, stderr: "" });
});

test("the lingering hint names the user even when $USER is unset (cron, env -i), where Bun's userInfo() says 'unknown'", () => {
  const me = Bun.spawnSync(["id", "-un"]).stdout.toString().trim();
  const saved = { USER: process.env.USER, LOGNAME: process.env.LOGNAME };
  delete process.env.USER;
  delete process.env.LOGNAME;
  try {
    expect(thisHost({ PATH: "/usr/bin:/bin" }).user).toBe(me);
  } finally {
    Object.assign(process.env, JSON.parse(JSON.stringify(saved)));
  }
  expect(thisHost({ PATH: "/usr/bin:/bin", USER: "someone" }).user).toBe("someone");
});

test("--write again after a change says how a running service takes it (enable --now would not restart it); unchanged, it says so", async () => {
  const dir = tempDir("gw-unit-write-");
  const file = join(dir, "providers.toml");
  writeFileSync(file, `[global]\nhost = "127.0.0.1"\nmain_port = 18145\n[instances.a]\nport = 18146\nproviders = [{ type = "antigravity" }]\n`);
  // Root writes /etc/systemd/system: there a temp dir mounted over it in a private mount namespace; anyone else, a temp HOME.
  const root = process.getuid?.() === 0;
  const units = tempDir("gw-unit-dir-");
  const write = async (path: string, config = file) => {
    const argv = [process.execPath, join(import.meta.dir, "../../src/main.ts"), "service", "install", "--write", "-c", config];
    const cmd = root ? ["unshare", "--mount", "--propagation", "private", "sh", "-c", `mount --bind "$0" /etc/systemd/system && exec "$@"`, units, ...argv] : argv;
    const p = Bun.spawn(cmd, { env: { ...process.env, HOME: units, PATH: path }, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { stdout, code, stderr };
  };
  const unitFile = join(units, root ? "gw.service" : ".config/systemd/user/gw.service");
  const shown = root ? "/etc/systemd/system/gw.service" : unitFile;
  const first = await write("/usr/bin:/bin");
  expect(first).toMatchObject({ code: 0, stdout: expect.stringContaining("enable --now gw") });
  expect(await Bun.file(unitFile).text()).toContain("Environment=PATH=/usr/bin:/bin\n");
  expect((await write("/usr/bin:/bin")).stdout).toBe(`${shown} is up to date\n`);
  const changed = await write("/opt/cliproxy/bin:/usr/bin:/bin");
  expect(changed.stdout).toContain(`updated ${shown}`);
  expect(changed.stdout).toContain("daemon-reload && systemctl");
  expect(changed.stdout).toContain("restart gw");
  expect(await Bun.file(unitFile).text()).toContain("Environment=PATH=/opt/cliproxy/bin:/usr/bin:/bin\n");

  // A second config's install would take the first's service away at its next restart: refused, the file kept.
  const other = join(tempDir("gw-unit-other-"), "providers.toml");
  writeFileSync(other, readFileSync(file, "utf8"));
  const kept = await Bun.file(unitFile).text();
  const second = await write("/usr/bin:/bin", other);
  expect(second.code).toBe(1);
  expect(second.stderr).toContain(`gw: ${shown} already holds a service that is not gw for ${other}: gw leaves it as it is`);
  expect(await Bun.file(unitFile).text()).toBe(kept);
});

test("under sudo (which replaces PATH) an instance command the service will not find is said, with the way to keep PATH", async () => {
  const dir = tempDir("gw-unit-sudo-");
  const file = join(dir, "providers.toml");
  writeFileSync(file, `[global]\nhost = "127.0.0.1"\nmain_port = 18145\n[instances.a]\nport = 18146\ncommand = ["my-cliproxy-nowhere", "-config", "{config}"]\nproviders = [{ type = "antigravity" }]\n`);
  const r = await runGw(["service", "install", "-c", file], { env: { PATH: "/usr/bin:/bin", SUDO_USER: "u" } });
  expect(r.code).toBe(0);
  expect(r.stderr).toContain("gw: warning: under the service: command of instance 'a' not found: my-cliproxy-nowhere");
  expect(r.stderr).toContain(`sudo replaced your PATH: sudo env PATH="$PATH" gw service install`);
});
