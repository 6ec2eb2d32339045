// gw on a really full disk (a small tmpfs in a user + mount namespace, test/helpers/full-disk.ts):
// it keeps proxying, says once in one line what it cannot write and where, shows it in status,
// the page and /metrics, writes nothing half, and writes again by itself once room is freed.
import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type FullDisk, fullDisksForFile } from "../helpers/full-disk.ts";
import { freePort } from "../helpers/ports.ts";
import { listRunning, registryDir } from "../../src/supervisor/registry.ts";
import { chatThrough, followStream, killAll, MAIN, type Sandbox, sandbox, until } from "../helpers/supervisor.ts";

const boxes: Sandbox[] = [];
afterAll(async () => {
  for (const sb of boxes) await killAll(sb);
});
const fullDisk = fullDisksForFile(); // closed after the gws in them are stopped

const NO_SPACE = "no space left on the device";

/** A sandbox whose config dir (providers.toml, instances/, logs/, .gw/) is a 4 MB tmpfs; its wrapper and caches stay outside. */
async function fullBox() {
  const sb = await sandbox([{ name: "a" }]);
  boxes.push(sb);
  const dir = join(sb.dir, "cfg");
  const disk = await fullDisk(dir, join(sb.dir, "ctl"), "4m", sb.env);
  const file = join(dir, "providers.toml");
  // [instances.a] last: a line appended on the full disk (room is left in the file's last page) lands in it.
  const toml = readFileSync(sb.file, "utf8");
  const routing = toml.indexOf("\n[routing]");
  writeFileSync(disk.view(file), toml.slice(0, toml.indexOf("\n[instances.a]")) + toml.slice(routing) + toml.slice(toml.indexOf("\n[instances.a]"), routing));
  const gw = (...args: string[]) => disk.run([process.execPath, MAIN, ...args, "-c", file]);
  const read = (p: string) => {
    try {
      return readFileSync(disk.view(join(dir, p)), "utf8");
    } catch {
      return ""; // not written yet
    }
  };
  const gwLog = () => read("logs/gw.log");
  const times = (text: string) => gwLog().split(text).length - 1;
  return { sb, dir, file, disk, gw, read, gwLog, times };
}

/** Answered in full: a plain request and a streamed one. */
async function bothAnswered(sb: Sandbox): Promise<void> {
  const plain = await chatThrough(sb, "m", false);
  expect(plain.status).toBe(200);
  expect(((await plain.json()) as { object: string }).object).toBe("chat.completion");
  const streamed = await chatThrough(sb, "m", true);
  expect(streamed.status).toBe(200);
  expect(await followStream(streamed).done).toContain("data: [DONE]");
}

describe("gw up while the disk fills", () => {
  test("serves on; request log and state file said once with path and cause; status, page, /metrics show it; all written again once freed", async () => {
    const { sb, dir, disk, gw, read, gwLog, times } = await fullBox();
    expect((await gw("up", "-d")).code).toBe(0);
    await bothAnswered(sb);
    const day = join(dir, "logs", "requests", `${new Date().toISOString().slice(0, 10)}.jsonl`);
    await until(() => read(`logs/requests/${day.split("/").pop()}`).split("\n").length > 2, 10_000, () => "the first records");

    disk.fill();
    for (let i = 0; i < 3; i++) await bothAnswered(sb);
    const requestLogLine = `request log: cannot write ${day}: ${NO_SPACE}; requests are still served`;
    await until(() => times(requestLogLine) === 1, 10_000, () => `gw.log to say ${requestLogLine}:\n${gwLog()}`);
    // A cooldown is a state change: its write finds no room either.
    expect((await chatThrough(sb, "m", false, "429=1")).status).toBe(429);
    const stateLine = `state file: cannot write ${join(dir, ".gw", "state.db")}: ${NO_SPACE}; state is kept in memory`;
    await until(() => times(stateLine) === 1, 10_000, () => `gw.log to say ${stateLine}:\n${gwLog()}`);
    for (let i = 0; i < 3; i++) await bothAnswered(sb); // more failed writes: nothing more is said

    const status = await gw("status");
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`files   cannot write ${day}: ${NO_SPACE} — serving on`);
    expect(status.stdout).toContain(`files   cannot write ${join(dir, "logs", "a.log")}: ${NO_SPACE} — serving on`); // the instance writes it itself: gw looks at the room
    expect(status.stdout).toMatch(new RegExp(`state   local .* DOWN \\d+s: cannot write .*state\\.db: ${NO_SPACE}`));
    const page = (await (await fetch(`http://127.0.0.1:${sb.mainPort}/_gw/api/status`)).json()) as { writes: string[] };
    expect(page.writes).toContain(`cannot write ${day}: ${NO_SPACE}`);
    expect(page.writes).toContain(`cannot write ${join(dir, "logs", "a.log")}: ${NO_SPACE}`);
    const metrics = await (await fetch(`http://127.0.0.1:${sb.mainPort}/metrics`)).text();
    expect(metrics).toMatch(/\ngw_unwritable_files [23]\n/); // and gw.log, when its last page had no room left for a line
    expect(metrics).toContain('gw_state_backend_up{backend="local"} 0');
    expect(times(requestLogLine)).toBe(1);
    expect(times(stateLine)).toBe(1);

    disk.free();
    await bothAnswered(sb);
    // Asked once there is room, gw tries what was refused at once: the answer is true (no wait for a retry).
    const after = await gw("status");
    expect(after.stdout).not.toContain("files   ");
    expect(after.stdout).not.toContain("DOWN");
    // The request log's trouble ended when a batch landed, or when asked first (requestlog.test.ts).
    expect(gwLog()).toMatch(new RegExp(`request log ${day} (is|can be) written again`));
    expect(gwLog()).toContain("state.db is written again");
    expect(await (await fetch(`http://127.0.0.1:${sb.mainPort}/metrics`)).text()).toContain("\ngw_unwritable_files 0\n");
    expect(times(requestLogLine)).toBe(1);
    expect((await gw("down")).code).toBe(0);
  }, 90_000);
});

describe("gw.log itself on a full disk", () => {
  test("status says it cannot be written; the first line it takes again says how many were lost and why", async () => {
    const { sb, dir, disk, gw, gwLog } = await fullBox();
    expect((await gw("up", "-d")).code).toBe(0);
    const log = join(dir, "logs", "gw.log");
    // Its last page full to the byte: the next line needs a page the full disk does not have.
    const size = Buffer.byteLength(gwLog());
    appendFileSync(disk.view(log), `${"-".repeat(4096 - (size % 4096) - 1)}\n`);
    disk.fill();
    await bothAnswered(sb); // the request log's warning is a line gw.log cannot take
    await until(async () => (await gw("status")).stdout.includes(`files   cannot write ${log}: ${NO_SPACE}`), 10_000, () => "gw status to list gw.log");
    disk.free();
    expect((await gw("reload")).code).toBe(0);
    expect(gwLog()).toMatch(new RegExp(`WARN +\\d+ line\\(s\\) could not be written to this log \\(${NO_SPACE}\\)\n.*config reloaded`));
    await bothAnswered(sb); // and the request log's next batch lands — its trouble over then, or when asked before it
    expect((await gw("status")).stdout).not.toContain("files   ");
    expect(gwLog()).toMatch(/request log \S+ (is|can be) written again/);
    expect((await gw("down")).code).toBe(0);
  }, 90_000);
});

/** Files a writer left behind under `dir` (as the test sees it): temp files of the atomic writer. */
const temps = (disk: FullDisk, dir: string) => readdirSync(disk.view(dir), { recursive: true }).map(String).filter((n) => n.includes(".tmp-"));

describe("config writes on a full disk", () => {
  test("gw reload, gw gen and gw login: one line naming the file and the cause, exit 1, old files intact, no temp file, running config kept", async () => {
    const { sb, dir, file, disk, gw, read, gwLog } = await fullBox();
    expect((await gw("up", "-d")).code).toBe(0);
    const yaml = read("instances/a.yaml");
    const keys = read(".gw/keys.json");
    disk.fill();
    appendFileSync(disk.view(file), "request_log = true\n"); // a's YAML changes (the line fits the page the file has)
    const reload = await gw("reload");
    expect(reload.code).toBe(1);
    expect(reload.stderr).toMatch(new RegExp(`cannot write \\S*instances/a\\.yaml: ${NO_SPACE}`));
    expect(reload.stderr).toContain("free some space on that disk");
    const gen = await gw("gen");
    expect(gen.code).toBe(1);
    // gen hands the config to the running gw, which says why it did not take it.
    expect(gen.stderr).toMatch(new RegExp(`^gw: .*cannot write \\S*instances/a\\.yaml: ${NO_SPACE}  \\(free some space on that disk, then run it again\\)\n$`));
    // gw login runs CLIProxyAPI on the instance's file: it must be the config's, which cannot be written.
    const login = await disk.run([process.execPath, MAIN, "login", "a", "antigravity", "--no-browser", "-c", file]);
    expect(login.code).toBe(1);
    expect(login.stderr).toMatch(new RegExp(`^gw: .*cannot write \\S*instances/a\\.yaml: ${NO_SPACE}  \\(free some space on that disk, then run it again\\)\n$`));
    // A new instance needs a key first: keys.json is the file that cannot be written.
    appendFileSync(disk.view(file), `\n[instances.b]\nport = ${await freePort()}\nproviders = [{ type = "antigravity" }]\n`);
    const reloadB = await gw("reload");
    expect(reloadB.code).toBe(1);
    expect(reloadB.stderr).toMatch(new RegExp(`cannot write \\S*\\.gw/keys\\.json: ${NO_SPACE}`));
    const genB = await gw("gen");
    expect(genB.code).toBe(1);
    expect(genB.stderr).toBe(`gw: cannot write .gw/keys.json: ${NO_SPACE}\n  free some space on that disk, then run it again\n`); // gen's own write, before any handing over

    expect(read("instances/a.yaml")).toBe(yaml);
    expect(read(".gw/keys.json")).toBe(keys);
    expect(temps(disk, dir)).toEqual([]);
    const status = await gw("status");
    expect(status.stdout).toMatch(/\na +\d+ +\d+ +ready/);
    expect(status.stdout).not.toMatch(/\nb /);
    await bothAnswered(sb);

    disk.free();
    const reloaded = await gw("reload");
    expect(reloaded.code).toBe(0);
    expect(read("instances/a.yaml")).toContain("request-log: true");
    expect(gwLog()).not.toContain("    at ");
    expect((await gw("down")).code).toBe(0);
  }, 90_000);
});

describe("gw up started on a full disk", () => {
  test("with nothing written yet: one line on what cannot be written, exit 1, nothing half", async () => {
    const { dir, disk, gw } = await fullBox();
    disk.fill();
    const detached = await gw("up", "-d");
    expect(detached.code).toBe(1);
    expect(detached.stderr).toBe(`gw: gw up -d failed (exit code 1), and could not say why: cannot write logs/gw.log: ${NO_SPACE}\n  free some space on that disk, then run it again\n`);
    const foreground = await gw("up");
    expect(foreground.code).toBe(1);
    expect(foreground.stderr).toBe(`gw: cannot write .gw/keys.json: ${NO_SPACE}\n  free some space on that disk, then run it again\n`);
    expect(temps(disk, dir)).toEqual([]);
  }, 60_000);

  test("with its files from an earlier run: it serves, keeps the state file, and takes it up once there is room, and the pid file", async () => {
    const { sb, dir, file, disk, gw, gwLog } = await fullBox();
    expect((await gw("up", "-d")).code).toBe(0);
    expect((await chatThrough(sb, "m", false, "429=600")).status).toBe(429); // a cooldown the state file keeps
    expect((await gw("down")).code).toBe(0);
    disk.fill();
    const up = await gw("up", "-d");
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(new RegExp(`cannot write \\S*\\.gw/gw\\.pid: ${NO_SPACE}; gw serves without it`));
    expect(up.stdout).toContain(`state file: cannot write ${join(dir, ".gw", "state.db")}: ${NO_SPACE}; state is kept in memory`);
    expect((await listRunning(sb.env)).map((e) => e.config)).toEqual([file]); // the registry (HOME's disk has room): cld finds it
    await bothAnswered(sb); // SQLite cannot even open the file: serving goes on from memory
    const full = (await gw("status")).stdout;
    expect(full).toMatch(new RegExp(`state .* DOWN \\d+s: cannot write \\S*state\\.db: ${NO_SPACE}`));
    expect(full).toMatch(new RegExp(`files   cannot write \\S*\\.gw/gw\\.pid: ${NO_SPACE} — serving on`));
    disk.free();
    // Asked once there is room: the state file is taken up and the pid file written before the answer.
    const status = await gw("status");
    expect(status.stdout).not.toContain("DOWN");
    expect(status.stdout).not.toContain("files   ");
    expect(gwLog()).toContain("state.db is written again");
    expect(gwLog()).toContain("gw.pid written: this gw is recorded again");
    expect(readdirSync(disk.view(join(dir, ".gw"))).filter((n) => n.includes(".broken-"))).toEqual([]); // not moved aside as if broken
    expect(status.stdout).toMatch(/a: cooling m → gemini-3-flash \(\w+, \d+ s left\)/); // the earlier run's cooldown, read once there was room
    // The pid file too: it is what refuses a second gw up before that one writes anything here
    // (instance files the running instances would reload); the port check comes after.
    expect(existsSync(disk.view(join(dir, ".gw", "gw.pid")))).toBe(true);
    const second = await gw("up", "-d");
    expect(second.code).not.toBe(0);
    expect(second.stderr).toContain("gw is already running");
    expect((await gw("down")).code).toBe(0);
  }, 90_000);

  test("with a state file that is broken: kept while there is no room, moved aside once there is, and written afresh", async () => {
    const { sb, dir, disk, gw, gwLog, times } = await fullBox();
    expect((await gw("up", "-d")).code).toBe(0);
    expect((await gw("down")).code).toBe(0);
    const state = join(dir, ".gw", "state.db");
    writeFileSync(disk.view(state), "not a state file\n".repeat(512)); // no SQLite file, room or not
    disk.fill();
    const up = await gw("up", "-d");
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`state file: cannot write ${state}: ${NO_SPACE}; state is kept in memory`); // the disk is to blame first
    await bothAnswered(sb);
    disk.free();
    // With room the file is judged as at any start — it is the file, not the disk — when asked.
    expect((await gw("status")).stdout).not.toContain("DOWN");
    expect(gwLog()).toContain("is not a usable state file");
    expect(gwLog()).toContain("state.db is written again");
    expect(readdirSync(disk.view(join(dir, ".gw"))).filter((n) => n.startsWith("state.db.broken-"))).toHaveLength(1);
    expect(times("state file: cannot write")).toBe(1); // the retries while the disk was full said nothing more
    expect((await chatThrough(sb, "m", false, "429=600")).status).toBe(429);
    expect((await gw("status")).stdout).not.toContain("DOWN");
    expect((await gw("down")).code).toBe(0);
  }, 90_000);
});

describe("the registry of running gws on a full disk", () => {
  test("HOME's disk full, the config dir's not: gw up serves, says once what it cannot write, shows it in status; cld finds it once there is room", async () => {
    const sb = await sandbox([{ name: "a" }]);
    boxes.push(sb);
    const cache = sb.env.XDG_CACHE_HOME!;
    const disk = await fullDisk(cache, join(sb.dir, "ctl"), "1m", sb.env);
      const gw = (...args: string[]) => disk.run([process.execPath, MAIN, ...args, "-c", sb.file]);
    const gwLog = () => readFileSync(join(sb.dir, "logs", "gw.log"), "utf8");
    const viewed = { XDG_CACHE_HOME: disk.view(cache) }; // the registry as the test sees it
    disk.fill();

    const up = await gw("up", "-d");
    expect(up.code).toBe(0);
    const entry = join(registryDir(sb.env), `${(await gw("status", "--json").then((r) => JSON.parse(r.stdout) as { pid: number })).pid}.json`);
    const line = `cannot write ${entry}: ${NO_SPACE}; cld does not find this gw until it is written`;
    expect(gwLog().split(line).length - 1).toBe(1);
    expect(gwLog()).not.toContain("    at ");
    await bothAnswered(sb);
    expect((await gw("status")).stdout).toContain(`files   cannot write ${entry}: ${NO_SPACE} — serving on`);
    expect(await listRunning(viewed)).toEqual([]);

    disk.free();
    expect((await gw("status")).stdout).not.toContain("cannot write"); // asked: the entry is written before the answer
    expect(gwLog()).toContain(`${entry} written: cld finds this gw again`);
    expect((await listRunning(viewed)).map((e) => e.config)).toEqual([sb.file]);
    expect(gwLog().split(line).length - 1).toBe(1);
    expect((await gw("down")).code).toBe(0);
    expect(await listRunning(viewed)).toEqual([]);
  }, 60_000);
});
