// `gw deploy` end to end against a real sshd on loopback (test/helpers/sshd.ts): a temp dir is
// the remote home, the binary is a real release build for this machine. The host has no sftp
// subsystem (scp of OpenSSH ≥ 9 fails there; deploy's files travel through ssh itself), so every
// deploy here proves that too. Dry run; first deploy with the systemd unit; a second deploy that
// upgrades under streams without dropping one, auth dirs now among its files; a
// config the host rejects (nothing changes); a directory the ssh user cannot write (refused before
// anything travels); a gw that cannot come up, or whose new instance crash-loops (rolled back).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { sha256File } from "../../src/fs/sha256.ts";
import { join } from "node:path";
import { buildRelease } from "../../src/release/release.ts";
import { archiveName, hostTarget } from "../../src/release/targets.ts";
import { buildInfo } from "../../src/version.ts";
import { freePorts } from "../helpers/ports.ts";
import { type Sshd, startSshd } from "../helpers/sshd.ts";
import { streamLoad } from "../helpers/stream-load.ts";
import { alive, killAll, MAIN, processesIn, until } from "../helpers/supervisor.ts";
import { tempDir } from "../helpers/tmp.ts";

// The unit deploy writes is checked by systemd itself: without it that check would go unseen.
const ANALYZE = Bun.which("systemd-analyze");
if (!ANALYZE) throw new Error("systemd-analyze is needed by this test (apt-get install -y systemd; .ci/deps installs it)");

const CLIENT_KEY = "sk-deploy-test-client";
let sshd: Sshd;
let releaseDir: string;
let builtBinary: string;
let local: string;
let mainPort: number;
let instPort: number;

beforeAll(async () => {
  sshd = await startSshd({ sftp: false });
  releaseDir = tempDir("gw-release-");
  builtBinary = (await buildRelease({ targets: [hostTarget()!], dir: releaseDir }))[0]!.file;
  local = tempDir("gw-deploy-local-");
  [mainPort, instPort] = (await freePorts(2)) as [number, number];
  writeConfig();
  writeFileSync(join(local, ".env"), `CLIENT_KEY=${CLIENT_KEY}\n`);
}, 180_000);

afterAll(async () => {
  if (!sshd) return;
  await sshd.ssh(`cd ${remote()} 2>/dev/null && ./gw down -c ${remote("providers.toml")}`).catch(() => {});
  await sshd.stop();
  await killAll({ dir: sshd.dir });
});

const remote = (...p: string[]) => join(sshd.home, "gw", ...p);

/** The local config: one mock instance run by the deployed binary itself; routes `m` (+ extra). */
function writeConfig(extraGlobal = "", extraRoutes = "") {
  writeFileSync(
    join(local, "providers.toml"),
    `[global]
host = "127.0.0.1"
main_port = ${mainPort}
shutdown_grace_ms = 10000
api_keys = ["\${CLIENT_KEY}"]
${extraGlobal}

[instances.a]
port = ${instPort}
command = ["./gw", "mock", "-config", "{config}", "--events", "10", "--interval", "100"]
providers = [{ type = "antigravity" }]

[routing]
"m" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }]
${extraRoutes}
`,
  );
}

/** `gw deploy ARGS`; `onStderr` sees its stderr as it comes (with --json, the steps). */
async function deploy(args: string[], env: Record<string, string> = {}, onStderr: (text: string) => void = () => {}, config = join(local, "providers.toml")) {
  const proc = Bun.spawn([process.execPath, MAIN, "deploy", sshd.alias, "-c", config, ...args], {
    cwd: local,
    env: { ...process.env, GW_SSH_CONFIG: sshd.sshConfig, GW_RELEASE_DIR: releaseDir, NO_COLOR: "1", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const readStderr = async () => {
    let text = "";
    for await (const chunk of proc.stderr.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      onStderr(text);
    }
    return text;
  };
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), readStderr(), proc.exited]);
  return { stdout, stderr, code, all: stdout + stderr };
}

async function remoteStatus(): Promise<{ pid: number; instances: { name: string; pid: number; state: string }[] }> {
  const r = await sshd.ssh(`${remote("gw")} status --json -c ${remote("providers.toml")}`);
  return JSON.parse(r.stdout);
}

const ask = (model = "m", port = mainPort) =>
  fetch(`http://127.0.0.1:${port}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": CLIENT_KEY },
    body: JSON.stringify({ model, max_tokens: 16, messages: [{ role: "user", content: "hi" }] }),
  });

describe("gw deploy", () => {
  test("--dry-run looks at the host and prints every step, changing nothing", async () => {
    const r = await deploy(["--dry-run", "--service"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`→ ${hostTarget()}`);
    for (const step of ["would prepare", "would copy gw-", "would check the upload there", "would install into", "would write the systemd", "would start gw (gw up -d)", "would wait for /healthz"]) {
      expect(r.stdout).toContain(step);
    }
    expect(r.stdout).toContain("./gw check -c");
    // the checksum the host will verify, as the real run has it (not an empty placeholder)
    const archive = join(releaseDir, archiveName(buildInfo().version, hostTarget()!));
    expect(r.stdout).toContain(`if [ "$got" != '${await sha256File(archive)}' ]`);
    expect(await Bun.file(remote("gw")).exists()).toBe(false);
  }, 60_000);

  test("first deploy, to a host where scp fails: binary, config and .env (0600) copied through ssh; gw started and healthy; the systemd unit written", async () => {
    // what the old copy step ran: refused by this host (no sftp subsystem)
    const scp = Bun.spawnSync(["scp", "-q", "-F", sshd.sshConfig, join(local, ".env"), `${sshd.alias}:`], { stderr: "pipe" });
    expect(scp.exitCode).not.toBe(0);
    const r = await deploy(["--service"]);
    expect(r.all).not.toContain("failed");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`✓ gw started on gw-test-host \\(pid \\d+, http://127\\.0\\.0\\.1:${mainPort}\\): a ready`));
    expect(r.stdout).toMatch(/→ copy gw-[\d.]+-[\w-]+\.tar\.gz, providers\.toml, \.env to gw-test-host/); // no auth dirs here yet
    expect(statSync(remote("gw")).mode & 0o777).toBe(0o755);
    expect(await Bun.file(remote("providers.toml")).text()).toBe(await Bun.file(join(local, "providers.toml")).text());
    expect(statSync(remote(".env")).mode & 0o777).toBe(0o600);
    const v = JSON.parse((await sshd.ssh(`${remote("gw")} --version --json`)).stdout);
    expect(v).toMatchObject({ target: hostTarget() });
    const res = await ask();
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Mock answer");

    const unitFile = sshd.systemUnits ? join(sshd.systemUnits, "gw.service") : join(sshd.home, ".config/systemd/user/gw.service");
    const unit = await Bun.file(unitFile).text();
    expect(unit).toContain(`ExecStart=${remote("gw")} up -c ${remote("providers.toml")}`);
    expect(unit).toContain("Type=notify");
    expect(r.stdout).toContain("systemd is not running on gw-test-host");
    const verify = Bun.spawnSync([ANALYZE, "verify", unitFile], { stderr: "pipe" });
    expect(verify.stderr.toString()).toBe("");
    expect(verify.exitCode).toBe(0);
  }, 120_000);

  test("second deploy upgrades the running gw: streams through it finish, the instance is kept, the new config serves", async () => {
    const before = await remoteStatus();
    writeConfig("", `"m2" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }]`);
    mkdirSync(join(local, "auths/a"), { recursive: true, mode: 0o755 });
    writeFileSync(join(local, "auths/a/antigravity-me.json"), '{"token":"local"}\n', { mode: 0o644 });
    // the dry run says what the real run then does: only the config travels. It touches nothing
    // running, so it goes before the load, which only the upgrade must stand (under the load's
    // busy connectors a dry run took 5 s instead of 1).
    const plan = await deploy(["--dry-run"]);
    expect(plan.stdout).toContain("already has this gw binary: only the config travels");
    expect(plan.stdout).toContain("would copy providers.toml, .env, auths.tar.gz to");
    const load = streamLoad(`http://127.0.0.1:${mainPort}`, 10, 0, { "x-api-key": CLIENT_KEY });
    await until(() => load.figures.open >= 5, 30_000, () => `streams open: ${load.figures.open}`);
    // --json: the steps on stderr, one result document on stdout. The fresh connections (a refused
    // one fails the test) start when the new files go into place — the running gw hot-reloads its
    // config from there on, then is upgraded; before it nothing touches it, and their busy loop
    // only slowed the probe, copy and check (a step took 2-5 times as long beside it).
    let connecting = false;
    const r = await deploy(["--json"], {}, (stderr) => {
      if (connecting || !stderr.includes("→ install into")) return;
      connecting = true;
      load.connect(2);
    });
    expect(connecting).toBe(true);
    await until(async () => !(await alive(before.pid)), 30_000, () => "old gw still running");
    await load.stop();
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("already has this gw binary: only the config travels");
    expect(r.stderr).toContain("→ copy providers.toml, .env, auths.tar.gz");
    expect(r.stderr).toContain("→ upgrade the running gw");
    expect(r.stderr).toContain("✓ gw upgraded");
    const after = await remoteStatus();
    expect(JSON.parse(r.stdout)).toEqual({
      ok: true, host: sshd.alias, target: hostTarget()!, version: buildInfo().version, action: "upgraded", dry_run: false,
      pid: after.pid, url: `http://127.0.0.1:${mainPort}`, instances: [{ name: "a", state: "ready" }],
    });
    expect(after.pid).not.toBe(before.pid);
    expect(after.instances[0]?.pid).toBe(before.instances[0]!.pid);
    expect(await Bun.file(remote("auths/a/antigravity-me.json")).text()).toBe('{"token":"local"}\n');
    // Sent as they were here (0755, 0644) and kept private there: the host's gw makes its auth dirs so when it writes its instance files.
    expect([statSync(remote("auths/a")).mode & 0o777, statSync(remote("auths/a/antigravity-me.json")).mode & 0o777]).toEqual([0o700, 0o600]);
    expect((await ask("m2")).status).toBe(200);
    const f = load.figures;
    console.log(`deploy upgrade under load: ${f.streamsOk} streams complete, ${f.ok} plain; failed ${f.failed.length}, cut ${f.cut.length}, refused ${f.refused.length}`);
    expect([f.failed, f.cut, f.refused]).toEqual([[], [], []]);
    expect(f.streamsOk).toBeGreaterThan(0);
    expect(f.ok).toBeGreaterThan(0); // the fresh connections did run
  }, 120_000);

  test("a config the host rejects (gw check there): nothing on the host changes", async () => {
    const before = await Bun.file(remote("providers.toml")).text();
    const pid = (await remoteStatus()).pid;
    writeConfig(`admin_key = "\${ONLY_HERE}"`);
    const r = await deploy(["--json"], { ONLY_HERE: "set-on-this-machine-only" });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: false, host: sshd.alias, hint: "fix the config (gw check lists every problem) and deploy again" });
    expect(out.problem).toContain("the new gw does not pass on gw-test-host; nothing there was changed");
    expect(out.problem).toContain("ONLY_HERE");
    expect(await Bun.file(remote("providers.toml")).text()).toBe(before);
    expect((await remoteStatus()).pid).toBe(pid);
  }, 120_000);

  test("a directory the ssh user cannot write: refused with the fix, before anything travels (dry run too)", async () => {
    writeConfig();
    const pid = (await remoteStatus()).pid;
    // Root may write anywhere, so: a DIR below a regular file (the probe sees it), and one in /proc (mkdir fails there).
    const file = join(sshd.home, "a-file");
    writeFileSync(file, "x");
    for (const args of [["--dir", `${file}/gw`], ["--dir", `${file}/gw`, "--dry-run"]]) {
      const r = await deploy(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot write ${file}/gw (${file}: not a directory`);
      expect(r.stderr).toContain("nothing was changed");
      expect(r.stderr).toContain("--dir DIR");
      expect(r.stdout).not.toContain("copy");
    }
    const proc = await deploy(["--dir", "/proc/gw-deploy-test"]);
    expect(proc.code).toBe(1);
    // Root passes the probe's write test for /proc, and mkdir fails there at the prepare step; anyone else is refused by the probe.
    const root = process.getuid?.() === 0;
    expect(proc.stderr).toContain(root ? "cannot prepare /proc/gw-deploy-test/.gw/deploy/next: mkdir" : "cannot write /proc/gw-deploy-test (/proc: not a directory");
    expect(proc.stderr).not.toContain("scp");
    expect((await remoteStatus()).pid).toBe(pid);
  }, 60_000);

  test("a compiled gw that packed itself and then failed leaves nothing in the temp dir (the packed gw is ~150 MB)", async () => {
    const tmp = tempDir("gw-deploy-tmpdir-");
    const dir = join(sshd.home, "prepare-fails");
    mkdirSync(dir);
    writeFileSync(join(dir, ".gw"), ""); // the probe passes (DIR is writable); mkdir DIR/.gw/deploy/next fails
    const proc = Bun.spawn([builtBinary, "deploy", sshd.alias, "-c", join(local, "providers.toml"), "--dir", dir], {
      cwd: local,
      // no archive in the release dir: this gw packs itself for its own kind of host
      env: { ...process.env, GW_SSH_CONFIG: sshd.sshConfig, GW_RELEASE_DIR: tempDir("gw-release-empty-"), TMPDIR: tmp, NO_COLOR: "1" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect(stdout).toContain("(this gw)");
    expect(stderr).toContain(`cannot prepare ${dir}/.gw/deploy/next`);
    expect(code).toBe(1);
    expect(readdirSync(tmp)).toEqual([]);
  }, 60_000);

  test("a new instance that crash-loops: rolled back as soon as it is known, saying why; the old gw serves on", async () => {
    const before = await Bun.file(remote("providers.toml")).text();
    const instances = (await remoteStatus()).instances;
    writeConfig("", `"m2" = [{ instance = "b", provider = "antigravity", model = "gemini-3-pro" }]

[instances.b]
port = ${(await freePorts(1))[0]}
command = ["/bin/sh", "-c", "echo broken-on-purpose >&2; exit 3"]
providers = [{ type = "antigravity" }]`);
    try {
      const r = await deploy([]);
      expect(r.code).toBe(1);
      expect(r.all).toContain("gw on gw-test-host is degraded: instance 'b' exited (code 3)");
      expect(r.all).toContain("crash loop");
      expect(r.all).toContain("logs/b.log ends: broken-on-purpose");
      expect(r.all).toContain("rolled back to the previous binary and config");
      expect(r.all).not.toContain("not healthy within"); // the crash loop ended the wait, not the 60 s timeout
      expect(await Bun.file(remote("providers.toml")).text()).toBe(before);
      // handed back to a gw of the previous config, which kept instance a running throughout
      expect((await remoteStatus()).instances.map((i) => [i.name, i.pid, i.state])).toEqual(instances.map((i) => [i.name, i.pid, "ready"]));
      expect((await ask()).status).toBe(200);
    } finally {
      writeConfig();
    }
  }, 120_000);

  test("a first deploy whose instance crash-loops: the gw it started is stopped before its files go; nothing runs there, nothing is left", async () => {
    const [main, good, bad] = await freePorts(3);
    const crashing = join(tempDir("gw-deploy-crash-"), "providers.toml");
    // One instance serves (gw up -d starts), the other crash-loops (the health wait sees it).
    writeFileSync(crashing, `[global]\nhost = "127.0.0.1"\nmain_port = ${main}\n\n[instances.a]\nport = ${good}\ncommand = ["./gw", "mock", "-config", "{config}"]\nproviders = [{ type = "antigravity" }]\n\n[instances.b]\nport = ${bad}\ncommand = ["/bin/sh", "-c", "echo broken-on-purpose >&2; exit 3"]\nproviders = [{ type = "antigravity" }]\n\n[routing]\n"m" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }, { instance = "b", provider = "antigravity", model = "gemini-3-pro" }]\n`);
    const fresh = join(sshd.home, "fresh");
    const r = await deploy(["--dir", "fresh"], {}, () => {}, crashing);
    expect(r.code).toBe(1);
    expect(r.all).toContain("instance 'b' exited (code 3)");
    expect(r.all).toContain("stopping the gw this deploy started");
    expect(r.all).not.toContain("gw down failed");
    expect(r.all).toContain("rolled back to the previous binary and config");
    expect(r.all).toContain(`${fresh}/logs/gw.log`);
    let left: number[] = [];
    await until(async () => (left = await processesIn(fresh)).length === 0, 20_000, () => `still running in ${fresh}: ${left.join(", ")}`);
    for (const f of ["gw", "providers.toml"]) expect(await Bun.file(join(fresh, f)).exists()).toBe(false);
  }, 120_000);

  test("a first deploy whose gw cannot start: deploy says why in gw's own words, not \"the lines above say why\"", async () => {
    const squatter = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("squatter") });
    try {
      const [inst] = await freePorts(1);
      const taken = join(tempDir("gw-deploy-taken-"), "providers.toml");
      writeFileSync(taken, `[global]\nhost = "127.0.0.1"\nmain_port = ${squatter.port}\n\n[instances.a]\nport = ${inst}\ncommand = ["./gw", "mock", "-config", "{config}"]\nproviders = [{ type = "antigravity" }]\n\n[routing]\n"m" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }]\n`);
      const r = await deploy(["--dir", "taken"], {}, () => {}, taken);
      expect(r.code).toBe(1);
      expect(r.all).toContain(`gw did not start: port ${squatter.port} of the load balancer is in use by pid ${process.pid} `);
      expect(r.all).not.toContain("the lines above say");
      // no gw logs -c with the files it would read gone again: the log is where it was
      expect(r.all).toContain(`what the new gw said is in ${join(sshd.home, "taken")}/logs/gw.log there`);
    } finally {
      squatter.stop(true);
    }
  }, 120_000);

  test("a config named otherwise travels as providers.toml; the router's config_file goes with it; the host's warnings are shown", async () => {
    writeConfig(`[global.lb_model_router]\nenabled = true\nactivation_models = ["auto"]\nconfig_file = "router/rules.toml"\n`, `"m2" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }]`);
    mkdirSync(join(local, "router"), { recursive: true });
    writeFileSync(join(local, "router/rules.toml"), `[lb_model_router]\ndefault_model = "m2"\n`);
    const prod = join(local, "prod.toml");
    writeFileSync(prod, await Bun.file(join(local, "providers.toml")).text());
    try {
      const r = await deploy([], {}, () => {}, prod);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("prod.toml travels as providers.toml, the name gw reads there");
      expect(r.stdout).toMatch(/→ copy providers\.toml, \.env, auths\.tar\.gz, included\.tar\.gz to/);
      expect(await Bun.file(remote("providers.toml")).text()).toBe(await Bun.file(prod).text());
      expect(await Bun.file(remote("router/rules.toml")).text()).toBe(`[lb_model_router]\ndefault_model = "m2"\n`);
      const res = await ask("auto");
      expect([res.status, res.headers.get("x-gw-route")]).toEqual([200, "auto->m2 (default)"]);
      // what gw check said there beyond passing, shown here
      writeFileSync(join(local, "router/rules.toml"), `[lb_model_router]\ndefault_model = "m2"\nfrob = 1\n`);
      const warned = await deploy([], {}, () => {}, prod);
      expect(warned.code).toBe(0);
      expect(warned.stdout).toMatch(/gw-test-host: router\/rules\.toml:3:1 .*warning: /);
    } finally {
      rmSync(prod);
      rmSync(join(local, "router"), { recursive: true });
      writeConfig();
    }
  }, 180_000);

  test("a gw that cannot come up is rolled back to the previous binary and config; the old gw serves on", async () => {
    const before = await Bun.file(remote("providers.toml")).text();
    const pid = (await remoteStatus()).pid;
    // Valid everywhere, but its port is taken on the host: the new gw cannot serve.
    const squatter = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("squatter") });
    try {
      const old = mainPort;
      mainPort = squatter.port!;
      writeConfig();
      mainPort = old;
      const r = await deploy([]);
      expect(r.code).toBe(1);
      expect(r.all).toContain("rolled back to the previous binary and config");
      expect(r.all).toContain(`could not listen on 127.0.0.1:${squatter.port}`);
      expect(await Bun.file(remote("providers.toml")).text()).toBe(before);
      expect((await remoteStatus()).pid).toBe(pid);
      expect((await ask()).status).toBe(200);
    } finally {
      squatter.stop(true);
      writeConfig();
    }
  }, 180_000);
});

describe("the release binary deploy ships", () => {
  // Issue 17: the cheap size wins must not break the stack traces users send: whitespace and
  // syntax are minified, gw's own function names stay (a trace says "at compileGw", not "at e").
  test("keeps gw's function names", async () => {
    const binary = Buffer.from(await Bun.file(builtBinary).arrayBuffer());
    for (const name of ["compileGw", "buildRelease", "startControlServer"]) expect([name, binary.includes(`function ${name}(`)]).toEqual([name, true]);
  });
});
