// Sandboxes for supervisor tests: a temp dir with a providers.toml whose "CLIProxyAPI binary" is
// a wrapper that execs `gw mock`, gw runs as real child processes, and a cleanup that kills every
// process whose command line mentions the sandbox — even when a test failed halfway.
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import Anthropic from "@anthropic-ai/sdk";
import { loadConfig } from "../../src/config/index.ts";
import type { Config } from "../../src/config/types.ts";
import { withInstanceKeys, writeInstanceFiles } from "../../src/instances/index.ts";
import { afterAll } from "bun:test";
import { controlJson } from "../../src/supervisor/control.ts";
import { gwPaths } from "../../src/supervisor/paths.ts";
import { cmdline, procInfo } from "../../src/supervisor/proc.ts";
import type { Timing } from "../../src/supervisor/timing.ts";
import { readdir } from "node:fs/promises";
import { freePorts } from "./ports.ts";
import { tempDir } from "./tmp.ts";

export const MAIN = join(import.meta.dir, "../../src/main.ts");
/** How gw names this test process when it holds a port: the last part of its argv[0] (`bun`; a `bun test --parallel` worker runs as `bun.exe`). */
export const OWN_NAME = (await cmdline(process.pid))[0]?.split("/").pop();

interface InstanceSpec {
  name: string;
  /** Default: a free port. */
  port?: number;
  /** Default: the mock wrapper as [global] cliproxy. */
  command?: string[];
}

export interface Sandbox {
  dir: string;
  file: string;
  mainPort: number;
  ports: Record<string, number>;
  /** Environment for gw children: the demo's cache and gw's data dir inside the sandbox, no stray config. */
  env: Record<string, string | undefined>;
}

/** A script that exits at once: the instance that never stays up. */
export function crashingScript(dir: string, code = 3): string {
  const p = join(dir, "crash.sh");
  writeFileSync(p, `#!/bin/sh\necho "crashing on purpose in $PWD with GW_TEST_MARK=$GW_TEST_MARK and $*" >&2\nexit ${code}\n`);
  chmodSync(p, 0o755);
  return p;
}

export async function sandbox(instances: InstanceSpec[] = [{ name: "a" }, { name: "b" }], globalExtra = ""): Promise<Sandbox> {
  const dir = tempDir("gw-sv-");
  const wrapper = join(dir, "cliproxy.sh");
  writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${MAIN}" mock "$@"\n`);
  chmodSync(wrapper, 0o755);
  const free = await freePorts(1 + instances.length);
  const mainPort = free[0]!;
  const ports: Record<string, number> = {};
  let toml = `[global]\nhost = "127.0.0.1"\nmain_port = ${mainPort}\ncliproxy = "${wrapper}"\nshutdown_grace_ms = 15000\n${globalExtra}\n`;
  for (const i of instances) {
    ports[i.name] = i.port ?? free[1 + instances.indexOf(i)]!;
    toml += `\n[instances.${i.name}]\nport = ${ports[i.name]}\nproviders = [{ type = "antigravity" }]\n`;
    if (i.command) toml += `command = ${JSON.stringify(i.command)}\n`;
  }
  toml += `\n[routing]\n"m" = [${instances.map((i) => `{ instance = "${i.name}", provider = "antigravity", model = "gemini-3-flash" }`).join(", ")}]\n`;
  const file = join(dir, "providers.toml");
  writeFileSync(file, toml);
  const env = { ...process.env, XDG_CACHE_HOME: join(dir, "cache"), XDG_DATA_HOME: join(dir, "data"), GW_CLIPROXY_RELEASES: undefined, GW_CONFIG: undefined, GW_CLIPROXY: undefined, NO_COLOR: "1", GW_TEST_MARK: "inherited" };
  return { dir, file, mainPort, ports, env };
}

/**
 * The sandbox's config as `gw up` takes it (instance keys filled in, instance files written), and
 * what an InstanceSet needs besides its timing, with its log lines collected in `lines`.
 */
export async function supervised(sb: Sandbox) {
  const loaded = await loadConfig(sb.file, { env: sb.env });
  if (!loaded.config) throw new Error(JSON.stringify(loaded.problems));
  const config: Config = await withInstanceKeys(loaded.config);
  await writeInstanceFiles(config);
  const lines: string[] = [];
  const log = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) };
  return { config, lines, deps: { env: sb.env, log, logFile: (n: string) => join(sb.dir, "logs", `${n}.log`), childrenChanged: () => {} } };
}

/**
 * serve() in this process, on a sandbox's providers.toml with `timing`; after the file's tests it
 * is stopped and every process of the sandbox killed (first the gw: killed instances would
 * otherwise be restarted by it).
 */
export function inProcessServe(): (sb: Sandbox, timing: Timing) => Promise<{ running: Promise<void> }> {
  let last: { sb: Sandbox; running: Promise<void> } | undefined;
  afterAll(async () => {
    if (!last) return;
    await controlJson(gwPaths(last.sb.dir), "/down", { method: "POST" }).catch(() => {});
    await last.running.catch(() => {});
    await killAll(last.sb);
  });
  return async (sb, timing) => {
    const config = (await loadConfig(sb.file, { env: sb.env })).config!;
    const { serve } = await import("../../src/supervisor/run.ts"); // not for the many files that never serve in-process
    last = { sb, running: serve({ config, demo: false, terminal: false, env: sb.env, timing }) };
    return { running: last.running };
  };
}

/** Swap the ports of two instances in the sandbox's providers.toml (as a user editing it would). */
export function swapPorts(sb: Pick<Sandbox, "file">, pa: number, pb: number): void {
  writeFileSync(sb.file, readFileSync(sb.file, "utf8").replace(`port = ${pa}\n`, "port = PA\n").replace(`port = ${pb}\n`, `port = ${pa}\n`).replace("port = PA\n", `port = ${pb}\n`));
}

/** Run a gw command to completion. */
export async function gw(sb: Pick<Sandbox, "dir" | "env">, args: string[]) {
  const proc = Bun.spawn([process.execPath, MAIN, ...args], { cwd: sb.dir, env: sb.env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

export interface RunningGw {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything printed so far (stdout + stderr). */
  output(): string;
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
}

/** Start a long-running gw (e.g. `up` in the foreground) in its own process group. */
export function startGw(sb: Pick<Sandbox, "dir" | "env">, args: string[]): RunningGw {
  return startInGroup([process.execPath, MAIN, ...args], sb.dir, sb.env);
}

/** Any command line (e.g. `bun run gw up`) as the leader of its own process group, output captured. */
export function startInGroup(argv: string[], cwd: string, env: Record<string, string | undefined>): RunningGw {
  const proc = Bun.spawn(argv, { cwd, env, stdin: "ignore", stdout: "pipe", stderr: "pipe", detached: true });
  let out = "";
  const pump = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const c of s) out += dec.decode(c, { stream: true });
  };
  void pump(proc.stdout);
  void pump(proc.stderr);
  const output = () => out;
  return {
    proc,
    output,
    waitFor: (text, timeoutMs = 20_000) =>
      until(() => (typeof text === "string" ? out.includes(text) : text.test(out)), timeoutMs, () => `waiting for ${text} in gw output:\n${out}`),
  };
}

/** Poll `check` until it holds; fail with `describe()` after timeoutMs. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 20_000, describe: () => string = () => "condition"): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out: ${describe()}`);
    await Bun.sleep(50);
  }
}

/**
 * Run a long scenario against the gw of `sb`; when it fails, the error carries gw.log's last lines:
 * a failure seen once on a busy CI machine must say what gw was doing, not only which wait ran out.
 */
export async function withGwLog(sb: Pick<Sandbox, "dir">, scenario: () => Promise<void>, lines = 60): Promise<void> {
  try {
    await scenario();
  } catch (e) {
    let tail = "(no gw.log)";
    try {
      tail = readFileSync(gwPaths(sb.dir).gwLog, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {}
    if (e instanceof Error) e.message += `\n--- gw.log, last ${lines} lines:\n${tail}`;
    throw e;
  }
}

/** How many times the gw of `sb` has written `text` into gw.log so far (0 before there is one). */
export function timesLogged(sb: Pick<Sandbox, "dir">, text: string): number {
  try {
    return readFileSync(gwPaths(sb.dir).gwLog, "utf8").split(text).length - 1;
  } catch {
    return 0;
  }
}

/**
 * Wait until the gw of `sb` has written `text` into gw.log `times` times. Reading a file is the
 * cheap thing to poll: a `gw status` per poll is a bun child (~0.2 s of CPU) every 50 ms. The
 * test then runs gw status once to assert what the log said happened.
 */
export async function untilLogged(sb: Pick<Sandbox, "dir">, text: string, times = 1, timeoutMs = 20_000): Promise<void> {
  await until(() => timesLogged(sb, text) >= times, timeoutMs, () => `gw.log to say ${JSON.stringify(text)} ${times} time(s) (${timesLogged(sb, text)} so far)`);
}

export const alive = async (pid: number) => (await procInfo(pid)) !== null;

/** Pids of live processes whose command line mentions `dir` (gw and everything it started there). */
export async function processesIn(dir: string): Promise<number[]> {
  const pids = (await readdir("/proc")).filter((n) => /^\d+$/.test(n)).map(Number);
  const hits: number[] = [];
  for (const pid of pids) {
    if (pid === process.pid) continue;
    if ((await cmdline(pid)).some((a) => a.includes(dir)) && (await alive(pid))) hits.push(pid);
  }
  return hits;
}

/**
 * Kill every process (and its group) that belongs to the sandbox; for afterAll/finally. Until a look
 * finds none: a gw killed in one pass may have restarted an instance before it died, so each pass
 * waits for what it killed to be gone and looks again (a sandbox already clean costs one look).
 */
export async function killAll(sb: Pick<Sandbox, "dir">, ...extra: (RunningGw | undefined)[]): Promise<void> {
  for (const g of extra) if (g) tryKill(-g.proc.pid);
  await Promise.all(extra.map((g) => g?.proc.exited));
  const ownGroup = (await procInfo(process.pid))?.pgid;
  for (let pass = 0; pass < 5; pass++) {
    const found = await processesIn(sb.dir);
    if (!found.length) return;
    for (const pid of found) {
      const info = await procInfo(pid);
      if (info && info.pgid !== ownGroup) tryKill(-info.pgid);
      tryKill(pid);
    }
    // A cleanup does not fail the file: what will not die in 10 s is looked at again, then left.
    await until(async () => !(await Promise.all(found.map(alive))).some(Boolean), 10_000).catch(() => {});
  }
}

function tryKill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {}
}

/** A chat request through the sandbox's gw; `fault` rides in x-mock-fault (gw mock's knobs). */
export function chatThrough(sb: Pick<Sandbox, "mainPort">, model: string, stream: boolean, fault = ""): Promise<Response> {
  return fetch(`http://127.0.0.1:${sb.mainPort}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer unused", ...(fault ? { "x-mock-fault": fault } : {}) },
    body: JSON.stringify({ model, stream, messages: [{ role: "user", content: "hi" }] }),
  });
}

/** A stream read to its end in the background; `chunks` counts what arrived so far. */
export function followStream(res: Response) {
  const s = { text: "", chunks: 0, done: undefined as unknown as Promise<string> };
  s.done = (async () => {
    const dec = new TextDecoder();
    for await (const c of res.body!) {
      s.text += dec.decode(c, { stream: true });
      s.chunks++;
    }
    return s.text;
  })();
  return s;
}

/**
 * A streamed answer through gw on `port` (route `model`, "m" of a sandbox by default) of `events`
 * deltas from gw mock, `intervalMs` apart: `first` resolves at its first delta, `ended` says how it ended.
 */
export function slowStream(port: number, events: number, intervalMs: number, model = "m") {
  const client = new Anthropic({ baseURL: `http://127.0.0.1:${port}`, apiKey: "unused", maxRetries: 0 });
  const stream = client.messages.stream(
    { model, max_tokens: 100, messages: [{ role: "user", content: "count slowly" }] },
    { headers: { "x-mock-fault": `interval=${intervalMs}~events=${events}` } },
  );
  let deltas = 0;
  const first = new Promise<void>((resolve) => stream.on("text", () => deltas++ === 0 && resolve()));
  const ended = stream.finalMessage().then(
    (m) => (m.stop_reason === "end_turn" ? "finished" : `finished: ${m.stop_reason}`),
    (e: Error) => `cut: ${e.message}`,
  );
  return { first, ended, deltas: () => deltas };
}
