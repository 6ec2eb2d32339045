// A real `gw up` and the files it leaves: private under umask 000 (item 11), no writing through
// links planted in logs/ (item 12), and no secret in an instance's start line (item 10).
import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, chmodSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gwPaths } from "../../src/supervisor/paths.ts";
import { gw, killAll, MAIN, processesIn, type Sandbox, sandbox, startInGroup, until } from "../helpers/supervisor.ts";

const boxes: Sandbox[] = [];
afterAll(async () => {
  for (const sb of boxes) await killAll(sb);
});

async function box(...args: Parameters<typeof sandbox>): Promise<Sandbox> {
  const sb = await sandbox(...args);
  boxes.push(sb);
  return sb;
}

/** `gw ARGS` started from a shell with the given umask (it is inherited by the detached gw). */
async function gwUnderUmask(sb: Sandbox, umask: string, args: string[]) {
  const proc = Bun.spawn(["/bin/sh", "-c", `umask ${umask}; exec "$@"`, "sh", process.execPath, MAIN, ...args], { cwd: sb.dir, env: sb.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

const mode = (p: string) => lstatSync(p).mode & 0o777;

function victimIn(sb: Sandbox): { file: string; untouched: () => boolean } {
  const file = join(sb.dir, "victim.txt");
  writeFileSync(file, "precious\n");
  chmodSync(file, 0o644);
  return { file, untouched: () => readFileSync(file, "utf8") === "precious\n" && mode(file) === 0o644 };
}

/** gw up -d with instances a and b, where a's `link` is refused: a is not started and gw says why, b serves; then gw down. */
async function upWithALinkRefused(sb: Sandbox, link: string, what = "is a symbolic link"): Promise<void> {
  const up = await gw(sb, ["up", "-d", "-c", sb.file]);
  expect(up.code).toBe(0);
  expect(up.stdout).toContain(`instance 'a' not started: ${link} ${what}; gw does not write through it — remove it and try again`);
  const status = JSON.parse((await gw(sb, ["status", "--json", "-c", sb.file])).stdout) as { instances: { name: string; state: string }[] };
  expect(status.instances.map((i) => [i.name, i.state])).toEqual([["a", "failed"], ["b", "ready"]]);
  expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
}

describe("gw's files are private whatever the umask", () => {
  test("under umask 000: .gw, logs, instances, auths 0700; every file and the socket 0600", async () => {
    const sb = await box([{ name: "a" }]);
    const up = await gwUnderUmask(sb, "000", ["up", "-d", "-c", sb.file]);
    expect(up.code).toBe(0);
    const res = await fetch(`http://127.0.0.1:${sb.mainPort}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    const requests = join(sb.dir, "logs", "requests");
    await until(() => existsSync(requests) && readdirSync(requests).some((n) => n.endsWith(".jsonl")), 10_000, () => "a request log day file");
    const day = join(requests, readdirSync(requests).find((n) => n.endsWith(".jsonl"))!);
    const paths = gwPaths(sb.dir);
    const expected: Record<string, number> = {
      [paths.stateDir]: 0o700,
      [paths.logsDir]: 0o700,
      [requests]: 0o700,
      [join(sb.dir, "instances")]: 0o700,
      [join(sb.dir, "instances", "a")]: 0o700, // the instance's working directory
      [join(sb.dir, "auths")]: 0o700,
      [join(sb.dir, "auths", "a")]: 0o700,
      [paths.gwLog]: 0o600,
      [join(paths.logsDir, "a.log")]: 0o600,
      [day]: 0o600,
      [join(paths.stateDir, "keys.json")]: 0o600,
      [paths.pidFile]: 0o600,
      [paths.childrenFile]: 0o600,
      [paths.socket]: 0o600,
      [join(sb.dir, "instances", "a.yaml")]: 0o600,
    };
    const actual = Object.fromEntries(Object.keys(expected).map((p) => [p, mode(p)]));
    expect(actual).toEqual(expected);
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
  }, 60_000);
});

describe("links planted in logs/ are refused, never written through", () => {
  test("logs/gw.log → a file elsewhere: gw up and gw up -d stop with one line naming it", async () => {
    const sb = await box([{ name: "a" }]);
    const victim = victimIn(sb);
    mkdirSync(join(sb.dir, "logs"));
    symlinkSync(victim.file, join(sb.dir, "logs", "gw.log"));
    for (const args of [["up", "-c", sb.file], ["up", "-d", "-c", sb.file]]) {
      const r = await gw(sb, args);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`gw: ${join(sb.dir, "logs", "gw.log")} is a symbolic link; gw does not write through it — remove it and try again\n`);
      expect(victim.untouched()).toBe(true);
    }
    expect(await processesIn(sb.dir)).toEqual([]);
  }, 60_000);

  test("logs/a.log → a file elsewhere: instance a is not started and gw says why; the others serve", async () => {
    const sb = await box([{ name: "a" }, { name: "b" }]);
    const victim = victimIn(sb);
    mkdirSync(join(sb.dir, "logs"));
    symlinkSync(victim.file, join(sb.dir, "logs", "a.log"));
    await upWithALinkRefused(sb, join(sb.dir, "logs", "a.log"));
    expect(victim.untouched()).toBe(true);
    expect(lstatSync(join(sb.dir, "logs", "a.log")).isSymbolicLink()).toBe(true);
  }, 60_000);

  test("logs/a.log a hard link to a file elsewhere (a folder copied with cp -al): the other name is neither appended to nor made 0600; a starts with a log of its own", async () => {
    const sb = await box([{ name: "a" }, { name: "b" }]);
    const victim = victimIn(sb);
    const log = join(sb.dir, "logs", "a.log");
    mkdirSync(join(sb.dir, "logs"));
    linkSync(victim.file, log);
    expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
    const status = JSON.parse((await gw(sb, ["status", "--json", "-c", sb.file])).stdout) as { instances: { name: string; state: string }[] };
    expect(status.instances.map((i) => [i.name, i.state])).toEqual([["a", "ready"], ["b", "ready"]]);
    expect(victim.untouched()).toBe(true);
    expect([statSync(log).nlink, statSync(victim.file).nlink, mode(log)]).toEqual([1, 1, 0o600]);
    expect(readFileSync(log, "utf8")).not.toContain("precious");
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
  }, 60_000);
});

describe("an instance's working directory is gw's own", () => {
  test("instances/a → a directory elsewhere (CLIProxyAPI would write ./logs and read ./.env there): a is not started and gw says why; the others serve", async () => {
    const sb = await box([{ name: "a" }, { name: "b" }]);
    const elsewhere = join(sb.dir, "elsewhere");
    mkdirSync(elsewhere);
    mkdirSync(join(sb.dir, "instances"), { mode: 0o700 });
    symlinkSync(elsewhere, join(sb.dir, "instances", "a"));
    await upWithALinkRefused(sb, join(sb.dir, "instances", "a"));
    expect(readdirSync(elsewhere)).toEqual([]);
  }, 60_000);
});

describe("a .env in an instance's working directory", () => {
  // CLIProxyAPI loads ./.env of its working directory (instances/NAME) into its environment, where
  // GITSTORE_GIT_URL, PGSTORE_DSN or OBJECTSTORE_* send its logins to someone else's store. gw
  // writes none there, and cld's trust covers only providers.toml and the .env beside it.
  const fix = "CLIProxyAPI loads a .env in its working directory into its environment (GITSTORE_*, PGSTORE_* or OBJECTSTORE_* there send its logins to a remote store); gw writes none there — remove it: gw passes instances its own environment";
  const plants: [string, (env: string, sb: Sandbox) => void][] = [
    ["a regular file", (env) => writeFileSync(env, "GITSTORE_GIT_URL=https://elsewhere.example/logins.git\n")],
    ["a link (to nothing yet)", (env, sb) => symlinkSync(join(sb.dir, "elsewhere.env"), env)],
  ];
  for (const [what, plant] of plants) {
    test(`instances/a/.env ${what}: a is not started and gw says why, in gw up and gw status; b serves`, async () => {
      const sb = await box([{ name: "a" }, { name: "b" }]);
      const env = join(sb.dir, "instances", "a", ".env");
      mkdirSync(join(env, ".."), { recursive: true, mode: 0o700 });
      plant(env, sb);
      const up = await gw(sb, ["up", "-d", "-c", sb.file]);
      expect(up.code).toBe(0);
      expect(up.stdout).toContain(`instance 'a' not started: ${env}: ${fix}`);
      const status = JSON.parse((await gw(sb, ["status", "--json", "-c", sb.file])).stdout) as { instances: { name: string; state: string; problem: string }[] };
      expect(status.instances.map((i) => [i.name, i.state, i.problem])).toEqual([["a", "failed", `instance 'a' not started: ${env}: ${fix}`], ["b", "ready", ""]]);
      expect((await gw(sb, ["status", "-c", sb.file])).stdout).toContain(`${env}: CLIProxyAPI loads a .env`);
      expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
    }, 60_000);
  }
});

describe("an instance's start line in logs/NAME.log", () => {
  test("a secret passed as ${VAR} shows as its name; a key written literally is masked", async () => {
    const sb = await box([{ name: "a" }]);
    // A launcher that takes extra arguments (as a wrapper script might) and runs the mock.
    const wrapper = join(sb.dir, "with-token.sh");
    writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" mock -config "$2"\n`);
    chmodSync(wrapper, 0o755);
    const envSecret = "tok-FROM-ENV-0123456789abcdef";
    const literal = "sk-ant-api03-LITERALLY-IN-THE-FILE-0123456789";
    const toml = readFileSync(sb.file, "utf8")
      .replace('providers = [{ type = "antigravity" }]', `providers = [{ type = "antigravity" }, { type = "anthropic", api_keys = ["${literal}"] }]\ncommand = ["${wrapper}", "-config", "{config}", "--token", "\${GW_TEST_TOKEN}", "--key", "${literal}"]`);
    writeFileSync(sb.file, toml);
    const env = { ...sb.env, GW_TEST_TOKEN: envSecret };
    const up = await gw({ dir: sb.dir, env }, ["up", "-d", "-c", sb.file]);
    expect(up.code).toBe(0);
    const log = readFileSync(join(sb.dir, "logs", "a.log"), "utf8");
    const start = log.split("\n").find((l) => l.startsWith("--- gw: starting a"))!;
    expect(start).toContain(`${wrapper} -config ${join(sb.dir, "instances", "a.yaml")} --token \${GW_TEST_TOKEN} --key sk-ant…6789`);
    expect((await gw({ dir: sb.dir, env }, ["down", "-c", sb.file])).code).toBe(0);
    for (const f of readdirSync(join(sb.dir, "logs"), { recursive: true }) as string[]) {
      const p = join(sb.dir, "logs", f);
      if (!lstatSync(p).isFile()) continue;
      const text = readFileSync(p, "utf8");
      expect(text).not.toContain(envSecret);
      expect(text).not.toContain(literal);
    }
  }, 60_000);
});

describe("logs/ during a long run: removed by a clean-up, or on a full disk", () => {
  test("logs/ removed while gw runs (a clean-up): the next line makes gw.log again, private, instead of writing into the removed file", async () => {
    const sb = await box([{ name: "a" }]);
    expect((await gw(sb, ["up", "-d", "-c", sb.file])).code).toBe(0);
    const { logsDir, gwLog } = gwPaths(sb.dir);
    rmSync(logsDir, { recursive: true });
    expect((await gw(sb, ["reload", "-c", sb.file])).code).toBe(0);
    expect(readFileSync(gwLog, "utf8")).toContain("config reloaded");
    expect([mode(logsDir), mode(gwLog)]).toEqual([0o700, 0o600]);
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
    expect(readFileSync(gwLog, "utf8")).toContain("stopped");
  }, 60_000);

  test("a full disk: gw.log takes no more lines, yet a killed instance is still restarted and watched, gw down stops everything, and the log later says how many lines it lost", async () => {
    const sb = await box();
    // In a shell that ignores SIGXFSZ, so a file over the size limit set below fails with EFBIG (as a full disk fails with ENOSPC).
    const run = startInGroup(["/bin/sh", "-c", 'trap "" XFSZ; exec "$@"', "sh", process.execPath, MAIN, "up", "-c", sb.file], sb.dir, sb.env);
    await run.waitFor("serving on", 30_000);
    const pid = run.proc.pid;
    const log = gwPaths(sb.dir).gwLog;
    // A week of history in gw.log, and then not one byte more may be written to it (a soft limit: a normal user may raise it again).
    appendFileSync(log, "x".repeat(256 * 1024));
    const limit = await Bun.spawn(["prlimit", `--pid=${pid}`, `--fsize=${statSync(log).size}:`]).exited;
    expect(limit).toBe(0);
    const status = async () => JSON.parse((await gw(sb, ["status", "--json", "-c", sb.file])).stdout) as { instances: { name: string; pid: number | null; state: string }[] };
    const b = async () => (await status()).instances.find((i) => i.name === "b")!;
    const before = (await b()).pid!;
    process.kill(before, "SIGKILL");
    await until(async () => {
      const now = await b();
      return now.state === "ready" && now.pid !== null && now.pid !== before;
    }, 20_000, () => `b to be restarted; gw printed:\n${run.output()}`);
    const after = (await b()).pid!;
    const recorded = () => (JSON.parse(readFileSync(gwPaths(sb.dir).childrenFile, "utf8")) as { children: { pid: number }[] }).children.map((c) => c.pid);
    await until(() => recorded().includes(after), 10_000, () => `instances.json to record b's new pid ${after}`);
    // Room on the disk again: the next line says what was lost.
    expect(await Bun.spawn(["prlimit", `--pid=${pid}`, "--fsize=unlimited:"]).exited).toBe(0);
    expect((await gw(sb, ["reload", "-c", sb.file])).code).toBe(0);
    expect(readFileSync(log, "utf8")).toMatch(/WARN +\d+ line\(s\) could not be written to this log \(EFBIG\)/);
    expect((await gw(sb, ["down", "-c", sb.file])).code).toBe(0);
    expect(await run.proc.exited).toBe(0);
    expect(await processesIn(sb.dir)).toEqual([]);
  }, 90_000);
});
