// `gw up -d` and every control command through the socket, human and --json; then the same
// commands without a running gw.
import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, statSync, writeFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { maskSecret } from "../../src/observe/mask.ts";
import { controlJson } from "../../src/supervisor/control.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";
import { ANOTHER_GW_EXIT, systemdUnit, thisHost } from "../../src/supervisor/service.ts";
import type { StatusReport } from "../../src/supervisor/status.ts";
import { alive, OWN_NAME, gw, killAll, processesIn, type Sandbox, sandbox, startGw, until, withGwLog } from "../helpers/supervisor.ts";
import { freePort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tmp.ts";

let sb: Sandbox;
afterAll(async () => {
  if (sb) await killAll(sb);
});

// `--json` keys are snake_case; the control socket's StatusReport is camelCase.
const status = async () => JSON.parse((await gw(sb, ["status", "-c", sb.file, "--json"])).stdout) as StatusReport & { running: boolean };
const row = (s: StatusReport, name: string) => s.instances.find((i) => i.name === name)!;
/** The same report straight from the socket, for polls: a `gw status` per poll is a bun process (1–3 s beside two CPU hogs). */
const live = () => controlJson<StatusReport>(gwPaths(sb.dir), "/status");

describe("gw up -d and the control commands", () => {
  test("up -d returns once serving; status, restart, reload, logs, down work through the socket", async () => {
    sb = await sandbox();
    await withGwLog(sb, upAndControl);
  }, 120_000);
  async function upAndControl(): Promise<void> {
    const started = await gw(sb, ["up", "-d", "-c", sb.file, "--json"]);
    expect(started.code).toBe(0);
    const out = JSON.parse(started.stdout.trim().split("\n").at(-1)!);
    expect(out).toMatchObject({ ok: true, url: `http://127.0.0.1:${sb.mainPort}`, file: sb.file });
    expect(await alive(out.pid)).toBe(true);
    expect(statSync(join(sb.dir, ".gw", "gw.sock")).mode & 0o777).toBe(0o600);

    const human = await gw(sb, ["up", "-d", "-c", sb.file]);
    expect(human.code).toBe(ANOTHER_GW_EXIT);
    expect(human.stderr).toContain(`gw: gw is already running for ${sb.dir} (pid ${out.pid} serving http://127.0.0.1:${sb.mainPort})`);
    // Started by the service beside this hand-started gw: the status its unit does not retry, and what to do.
    const ctl = process.getuid?.() === 0 ? "systemctl" : "systemctl --user";
    const bySystemd = await gw({ ...sb, env: { ...sb.env, NOTIFY_SOCKET: join(sb.dir, "no-notify.sock") } }, ["up", "-c", sb.file]);
    expect(bySystemd.code).toBe(ANOTHER_GW_EXIT);
    expect(bySystemd.stderr).toContain(`gw: gw is already running for ${sb.dir} (pid ${out.pid} serving http://127.0.0.1:${sb.mainPort}); the service stays stopped (no retries)`);
    expect(bySystemd.stderr).toContain(`to run gw as the service instead: gw down -c ${sb.file}, then ${ctl} restart gw`);
    expect(systemdUnit(sb.file, sb.dir, 1000, thisHost()).text).toContain(`RestartPreventExitStatus=${ANOTHER_GW_EXIT}\n`);
    // launchd's KeepAlive retries any failure for ever: its agent's gw ends as a success instead.
    const byLaunchd = await gw({ ...sb, env: { ...sb.env, XPC_SERVICE_NAME: "local.gw" } }, ["up", "-c", sb.file]);
    expect(byLaunchd.code).toBe(0);
    expect(byLaunchd.stderr).toContain(`then launchctl kickstart gui/${process.getuid?.()}/local.gw`);
    expect(await alive(out.pid)).toBe(true);

    const openai = new OpenAI({ baseURL: `http://127.0.0.1:${sb.mainPort}/v1`, apiKey: "unused", maxRetries: 0 });
    await openai.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] });

    const table = await gw(sb, ["status", "-c", sb.file]);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain(`lb      http://127.0.0.1:${sb.mainPort}`);
    expect(table.stdout).toContain(`page    http://127.0.0.1:${sb.mainPort}/_gw/`);
    expect(table.stdout).toContain(`config  ${sb.file}`);
    expect(table.stdout).toMatch(/^instance\s+pid\s+port\s+state\s+uptime\s+restarts\s+last exit\s+requests\s+errors\s+cooling$/m);
    expect(table.stdout).toMatch(new RegExp(`^a\\s+\\d+\\s+${sb.ports.a}\\s+ready\\s`, "m"));
    let s = await status();
    expect(s.phase).toBe("serving");
    expect(s.instances.map((i) => [i.name, i.state])).toEqual([["a", "ready"], ["b", "ready"]]);
    expect(row(s, "a").requests + row(s, "b").requests).toBe(1);

    // kill -9 of an instance: gw restarts it within 2 s (default backoff 0.5 s) and counts it.
    const bPid = row(s, "b").pid!;
    process.kill(bPid, "SIGKILL");
    await until(async () => {
      const b = row(await live(), "b");
      return b.pid !== null && b.pid !== bPid;
    }, 2_000, () => "a new pid for b within 2 s");
    s = await status();
    expect(row(s, "b")).toMatchObject({ restarts: 1, last_exit: { code: null, signal: "SIGKILL" } });
    await until(async () => row(await live(), "b").state === "ready", 15_000, () => "b ready again after its kill -9");

    const aPid = row(s, "a").pid;
    const restartA = await gw(sb, ["restart", "a", "--json"]);
    expect(restartA.code).toBe(0);
    expect(JSON.parse(restartA.stdout).results).toMatchObject([{ name: "a", ok: true }]);
    s = await status();
    expect(row(s, "a").pid).not.toBe(aPid);
    expect(row(s, "a").restarts).toBe(1);
    expect(await alive(aPid!)).toBe(false);

    const all = await gw(sb, ["restart", "-c", sb.file]);
    expect(all.stdout).toMatch(/^a: restarted, ready in [\d.]+ s\nb: restarted, ready in [\d.]+ s\n$/);
    const unknown = await gw(sb, ["restart", "nope", "-c", sb.file]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe("gw: no managed instance 'nope'\n  valid names: a, b\n");
    const noLog = await gw(sb, ["logs", "nope", "-c", sb.file]);
    expect(noLog.code).toBe(1);
    expect(noLog.stderr).toBe("gw: no log for 'nope'\n  valid names: gw, a, b\n");

    // Reload: a new instance appears; a broken file is refused and the old config stays.
    // A stream in flight during the reload runs to its end.
    const stream = new Anthropic({ baseURL: `http://127.0.0.1:${sb.mainPort}`, apiKey: "unused", maxRetries: 0 }).messages.stream(
      { model: "m", max_tokens: 100, messages: [{ role: "user", content: "slowly" }] },
      { headers: { "x-mock-fault": "interval=100~events=20" } },
    );
    let deltas = 0;
    stream.on("text", () => deltas++);
    await until(() => deltas > 0, 10_000, () => "the stream's first delta");
    const cPort = await freePort();
    const original = readFileSync(sb.file, "utf8");
    writeFileSync(sb.file, original.replace("\n[routing]", `\n[instances.c]\nport = ${cPort}\nproviders = [{ type = "antigravity" }]\n\n[routing]`));
    const reload = await gw(sb, ["reload", "-c", sb.file, "--json"]);
    // c's start is in `restarted` when gw reload heard it (the file watcher may have applied the edit first).
    const answer = JSON.parse(reload.stdout);
    expect(answer).toMatchObject({ ok: true, problems: [], not_running: [] });
    for (const r of answer.restarted) expect(r).toMatchObject({ name: "c", ok: true, added: true });
    expect((await stream.finalMessage()).stop_reason).toBe("end_turn");
    expect(deltas).toBe(20);
    await until(async () => row(await live(), "c")?.state === "ready", 15_000, () => "c, added by the reload, ready");
    appendFileSync(sb.file, "\n[instances.broken\n");
    const bad = await gw(sb, ["reload", "-c", sb.file]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("config not reloaded; gw keeps running the previous one");
    expect(bad.stderr).toContain("providers.toml:");
    expect((await status()).instances.map((i) => i.name)).toEqual(["a", "b", "c"]);
    // Restoring the file is a change too: the watcher reloads and instance c goes away.
    const cPid = row(await status(), "c").pid!;
    writeFileSync(sb.file, original);
    await until(async () => (await live()).instances.length === 2, 15_000, () => "c gone from status after the file was restored");
    await until(async () => !(await alive(cPid)), 15_000, () => `c's process ${cPid} gone`);

    const logsA = await gw(sb, ["logs", "a", "-n", "3", "-c", sb.file]);
    expect(logsA.code).toBe(0);
    expect(logsA.stdout).toContain("--- gw: starting a");
    const logsJson = await gw(sb, ["logs", "-n", "2", "--json", "-c", sb.file]);
    const names = new Set(logsJson.stdout.trim().split("\n").map((l) => JSON.parse(l).name));
    expect([...names].sort()).toEqual(["a", "b", "gw"]);

    const follow = startGw(sb, ["logs", "gw", "-f", "-n", "1", "-c", sb.file]);
    try {
      await follow.waitFor(/\n/); // its first line printed: it has read gw.log to the end
      await gw(sb, ["restart", "b", "-c", sb.file]);
      await follow.waitFor("b: ready in", 15_000);
    } finally {
      follow.proc.kill("SIGKILL");
    }

    const pids = (await status()).instances.map((i) => i.pid!);
    const down = await gw(sb, ["down", "--json", "-c", sb.file]);
    expect(JSON.parse(down.stdout)).toEqual({ stopped: true, pid: out.pid });
    for (const pid of [out.pid, ...pids]) expect(await alive(pid)).toBe(false);
    expect(await processesIn(sb.dir)).toEqual([]);

    // After gw down the logs are still there to read, straight from the files.
    const after = await gw(sb, ["logs", "gw", "-n", "1", "-c", sb.file]);
    expect(after.code).toBe(0);
    expect(after.stderr).toBe(`gw is not running for ${sb.dir}; showing its log files in ${join(sb.dir, "logs")}\n`);
    expect(after.stdout).toMatch(/ INFO  stopped\n$/);
    // Followed, the files are watched until Ctrl-C, and said so once (-n 0 read them twice, and said it twice).
    const following = startGw(sb, ["logs", "-f", "-n", "0", "-c", sb.file]);
    const notice = `gw is not running for ${sb.dir}; following its log files in ${join(sb.dir, "logs")} (Ctrl-C to stop)\n`;
    try {
      await following.waitFor(notice);
      appendFileSync(join(sb.dir, "logs", "a.log"), "written after gw down\n");
      await following.waitFor("written after gw down");
      expect(following.output().split(notice)).toHaveLength(2);
    } finally {
      following.proc.kill();
    }
    const every = await gw(sb, ["logs", "-n", "1", "-c", sb.file]);
    expect(every.stdout.split("\n").filter(Boolean).map((l) => l.split(" | ")[0])).toEqual(["gw", "a", "b", "c"]);
    const gone = await gw(sb, ["logs", "x", "-c", sb.file]);
    expect(gone.stderr).toBe(`gw: no log for 'x' in ${join(sb.dir, "logs")}\n  valid names: gw, a, b, c\n`);
    // Some 25 gw commands, each a bun process: 10–20 s idle, 1–4.6 s each and 22–43 s in all beside
    // two CPU hogs, and past 60 s in 2 of 12 such runs (a command in flight each time, no hang).
  }

  test("gw logs masks the keys an instance prints, running or not", async () => {
    // An instance that prints its YAML (its gw key, a provider key) before serving, as a debug
    // log that quotes a request's Authorization would.
    const leaky = await sandbox([{ name: "a" }]);
    const relayKey = "relay-secret-0123456789abcdef";
    const toml = readFileSync(leaky.file, "utf8").replace(
      'providers = [{ type = "antigravity" }]',
      `providers = [{ type = "anthropic", base_url = "https://relay.invalid", api_keys = ["\${RELAY}"] }]\ncommand = ["sh", "-c", "cat \\"$1\\"; exec \\"$0\\" -config \\"$1\\"", "${join(leaky.dir, "cliproxy.sh")}", "{config}"]`,
    );
    writeFileSync(leaky.file, toml.replace('provider = "antigravity", model = "gemini-3-flash"', 'provider = "anthropic", model = "claude-sonnet-4-5"'));
    writeFileSync(join(leaky.dir, ".env"), `RELAY=${relayKey}\n`);
    try {
      const up = await gw(leaky, ["up", "-d", "-c", leaky.file]);
      expect(up.code, up.stdout + up.stderr).toBe(0);
      const instanceKey = JSON.parse(readFileSync(join(leaky.dir, ".gw", "keys.json"), "utf8")).a as string;
      const raw = readFileSync(join(leaky.dir, "logs", "a.log"), "utf8");
      expect(raw).toContain(relayKey); // the instance did print them
      expect(raw).toContain(instanceKey);
      const shown = async () => {
        const r = await gw(leaky, ["logs", "a", "-n", "50", "-c", leaky.file]);
        expect(r.code).toBe(0);
        expect(r.stdout).toContain("api-keys:");
        return r.stdout;
      };
      const running = await shown();
      expect(running).not.toContain(relayKey);
      expect(running).not.toContain(instanceKey);
      expect(running).toContain(`api-key: ${maskSecret(relayKey)}`);
      expect((await gw(leaky, ["down", "-c", leaky.file])).code).toBe(0);
      const onDisk = await shown();
      expect(onDisk).not.toContain(relayKey);
      expect(onDisk).not.toContain(instanceKey);
      // An edit in progress breaks providers.toml: what gw wrote for it still masks the logs.
      writeFileSync(leaky.file, `${readFileSync(leaky.file, "utf8")}\noops = [\n`);
      const broken = await shown();
      expect(broken).not.toContain(relayKey);
      expect(broken).not.toContain(instanceKey);
      expect(broken).toContain(`api-key: ${maskSecret(relayKey)}`);
    } finally {
      await killAll(leaky);
    }
  }, 60_000);

  test("without a running gw each control command says so in one line", async () => {
    const idle = await sandbox();
    for (const cmd of [["status"], ["restart", "a"], ["reload"]]) {
      const r = await gw(idle, [...cmd, "-c", idle.file]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`gw: gw is not running for ${idle.dir}\n  start it with: gw up -d\n`);
    }
    // Scripts asking for JSON get JSON; gw logs reads the files, and there are none yet.
    const json = await gw(idle, ["status", "--json", "-c", idle.file]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ running: false, dir: idle.dir, message: `gw is not running for ${idle.dir}` });
    const logs = await gw(idle, ["logs", "-c", idle.file]);
    expect(logs.code).toBe(1);
    expect(logs.stderr).toBe(`gw: gw is not running for ${idle.dir} and has left no logs in ${join(idle.dir, "logs")}\n  start it with: gw up -d\n`);
    const down = await gw(idle, ["down", "-c", idle.file]);
    expect(down.code).toBe(0);
    expect(down.stdout).toBe(`gw is not running for ${idle.dir}\n`);
    // On a laptop that uses a team's gw: not "start it" (a local gw nobody asked for), but where that gw is.
    const team = "these commands talk to a gw on this machine; the team's gw at $GW_URL (https://gw.example.com/team) is its server's: its status page is https://gw.example.com/team/_gw/ (with its admin_key)";
    const teamEnv = { ...idle, env: { ...idle.env, GW_URL: "https://gw.example.com/team" } };
    expect((await gw(teamEnv, ["status", "-c", idle.file])).stderr).toBe(`gw: gw is not running for ${idle.dir}\n  ${team}\n`);
    expect((await gw(teamEnv, ["logs", "-c", idle.file])).stderr).toEndWith(`  ${team}\n`);

    // up -d also returns when the detached gw fails, showing why.
    const busy = Bun.serve({ port: idle.mainPort, hostname: "127.0.0.1", fetch: () => new Response("taken") });
    try {
      const failed = await gw(idle, ["up", "-d", "-c", idle.file]);
      expect(failed.code).toBe(1);
      // Said as a foreground gw says it: on stderr, its own words alone.
      expect(failed.stderr).toStartWith(`gw: port ${idle.mainPort} of the load balancer is in use by pid ${process.pid} (${OWN_NAME})`);
      expect(failed.stderr).not.toContain("gw up -d failed");
      expect(failed.stdout).not.toContain("in use");
    } finally {
      busy.stop(true);
    }
  }, 60_000);

  test("from a folder without providers.toml: status and logs show the gw running elsewhere; down and restart name it instead of 'not running'", async () => {
    const other = await sandbox();
    try {
      expect((await gw(other, ["up", "-d"])).code).toBe(0);
      // Same user (same cache, so the same registry of running gws), another folder.
      const elsewhere = { dir: tempDir("gw-elsewhere-"), env: other.env };
      const note = `gw: no providers.toml here; reading the running gw's ${other.file}\n`;

      const table = await gw(elsewhere, ["status"]);
      expect([table.code, table.stderr]).toEqual([0, note]);
      expect(table.stdout).toContain(`config  ${other.file}`);
      const logs = await gw(elsewhere, ["logs", "gw", "-n", "50"]);
      expect(logs.code).toBe(0);
      expect(logs.stdout).toContain("serving on http://127.0.0.1:");

      const pid = (JSON.parse((await gw(other, ["status", "--json"])).stdout) as StatusReport).pid;
      const named = `the gw running (pid ${pid}) serves ${other.file}`;
      // Nothing stopped: exit 1, so \`gw down && …\` does not go on as if it had.
      const down = await gw(elsewhere, ["down"]);
      expect(down.code).toBe(1);
      expect(down.stderr).toContain(named);
      expect(down.stderr).toContain(`to stop it: gw down -c ${other.file}`);
      const downJson = await gw(elsewhere, ["down", "--json"]);
      expect([downJson.code, JSON.parse(downJson.stdout)]).toEqual([1, { stopped: false, running: false, leftovers: [], others: [{ pid, config: other.file }] }]);
      const restart = await gw(elsewhere, ["restart"]);
      expect(restart.code).toBe(1);
      expect(restart.stderr).toContain(named);
      expect(await alive(pid)).toBe(true); // nothing guessed its way into stopping it
      expect((await gw(elsewhere, ["down", "-c", other.file])).code).toBe(0);
    } finally {
      await killAll(other);
    }
  }, 60_000);
});

test("two gw up -d started at once in one folder: one serves, the other is refused naming it, and status and down reach the one serving", async () => {
  const pair = await sandbox([{ name: "a" }]);
  try {
    const [one, two] = await Promise.all([gw(pair, ["up", "-d", "-c", pair.file]), gw(pair, ["up", "-d", "-c", pair.file])]);
    const [won, lost] = one.code === 0 ? [one, two] : [two, one];
    expect([won.code, lost.code]).toEqual([0, ANOTHER_GW_EXIT]);
    const pid = Number(/running in the background \(pid (\d+)\)/.exec(won.stdout)?.[1]);
    const said = lost.stdout + lost.stderr;
    expect(said).toContain(`gw is already running for ${pair.dir} (pid ${pid}`);
    expect(said).not.toContain("serving on"); // the winner's progress is not the loser's
    const seen = JSON.parse((await gw(pair, ["status", "-c", pair.file, "--json"])).stdout) as StatusReport;
    expect([seen.pid, seen.phase]).toEqual([pid, "serving"]);
    expect((await gw(pair, ["down", "-c", pair.file])).code).toBe(0);
    expect(await processesIn(pair.dir)).toEqual([]);
  } finally {
    await killAll(pair);
  }
}, 60_000);
