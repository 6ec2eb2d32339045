// What bench/lb.ts and bench/ab.ts share: starting the processes under test (the raw upstream,
// gw, the bare Bun relay, nginx), loading them with wrk, and reading what each process spent.
// Every process runs on its own so the load generator never shares gw's event loop.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../src/supervisor/ports.ts";

export const BENCH_DIR = import.meta.dir;
const SERVERS = join(BENCH_DIR, "lb-servers.ts");
/** The route every benchmark body names, and the model gw and the relay send upstream instead. */
export const UPSTREAM_MODEL = "claude-opus-4-6-thinking";

export interface WrkResult {
  rps: number;
  /** ms */
  p50: number;
  p99: number;
  errors: number;
  /** CPU (user + system, all threads) the proxy process spent per request; absent for direct. */
  cpuUsPerReq?: number;
}

/**
 * Child processes of one run; `stop()` ends them all (SIGTERM: nginx takes its worker down, gw
 * flushes its request log) and waits until they have exited.
 */
export class Children {
  readonly list: Bun.Subprocess[] = [];
  private readonly dirs: string[] = [];
  constructor() {
    process.on("exit", () => {
      this.kill();
      for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
    });
    // Ctrl-C or a kill ends the process without "exit" (nor `finally`): the run's processes and
    // its folder in /tmp would stay.
    process.once("SIGINT", () => process.exit(130));
    process.once("SIGTERM", () => process.exit(143));
  }
  /** A folder for the run in the system's temp dir, removed when the process ends, however it ends. */
  tempDir(prefix: string): string {
    const d = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(d);
    return d;
  }
  add(p: Bun.Subprocess): void {
    this.list.push(p);
  }
  async stop(): Promise<void> {
    this.kill();
    await Promise.all(this.list.map((c) => c.exited));
  }
  private kill(): void {
    for (const c of this.list) if (c.exitCode === null && !c.signalCode) c.kill("SIGTERM");
  }
}

/** Spawn `cmd` and resolve with the first capture of `pattern` in its stdout. */
export async function spawnReading(cmd: string[], pattern: RegExp, children: Children, env: Record<string, string> = {}): Promise<string> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "inherit", env: { ...process.env, ...env } });
  children.add(proc);
  const reader = proc.stdout.getReader();
  let out = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`${cmd.join(" ")} exited before printing ${pattern}: ${out}`);
    out += new TextDecoder().decode(value);
    const m = pattern.exec(out);
    if (m) {
      void (async () => {
        while (!(await reader.read()).done) {}
      })(); // keep draining
      return m[1]!;
    }
  }
}

/** The raw upstream (lb-servers.ts); returns its port. */
export async function startUpstream(children: Children): Promise<number> {
  return Number(await spawnReading([process.execPath, SERVERS, "upstream"], /PORT (\d+)/, children));
}

/** The bare Bun relay of issue 16 (lb-servers.ts relay); returns its port. */
export async function startRelay(upPort: number, children: Children): Promise<number> {
  return Number(await spawnReading([process.execPath, SERVERS, "relay", `http://127.0.0.1:${upPort}`], /PORT (\d+)/, children, FETCH_LIMIT_ENV));
}

/** Same raised fetch limit gw runs with (src/lb/concurrency.ts), so no process re-executes itself. */
const FETCH_LIMIT_ENV = { BUN_CONFIG_MAX_HTTP_REQUESTS: "16384" };

/**
 * gw as users run it: `gw lb` from the source tree `root` on a config whose one route rewrites
 * the model. Returns its port.
 */
export async function startGw(root: string, dir: string, upPort: number, children: Children, name = "gw"): Promise<number> {
  const file = join(dir, `${name}.toml`);
  writeFileSync(file, gwConfig(upPort));
  const url = await spawnReading([process.execPath, join(root, "src/main.ts"), "lb", "-c", file, "--port", "0"], /(http:\/\/\S+:\d+)/, children, {
    NODE_ENV: "production",
    ...FETCH_LIMIT_ENV,
  });
  return Number(new URL(url).port);
}

/** The benches' gw config: one route to the upstream; `state` overrides the default backend. */
export function gwConfig(upPort: number, state?: string): string {
  return `[global]
host = "127.0.0.1"
main_port = 8145
api_keys = ["bench-client"]
${state ? `state = "${state}"\n` : ""}[instances.up]
url = "http://127.0.0.1:${upPort}"
api_key = "bench-instance"
providers = [{ type = "anthropic", api_keys = ["x"] }]
[routing]
"claude-bench" = [{ instance = "up", provider = "anthropic", model = "${UPSTREAM_MODEL}" }]
`;
}

/** nginx, one worker, as a reverse proxy to the upstream; returns its base URL. */
export async function startNginx(dir: string, upPort: number, children: Children): Promise<string> {
  const port = await freePort();
  const conf = readFileSync(join(BENCH_DIR, "nginx.conf.template"), "utf8")
    .replaceAll("{{DIR}}", dir)
    .replaceAll("{{UPSTREAM_PORT}}", String(upPort))
    .replaceAll("{{PORT}}", String(port));
  writeFileSync(join(dir, "nginx.conf"), conf);
  const nginx = nginxBinary()!;
  children.add(Bun.spawn([nginx, "-p", dir, "-c", join(dir, "nginx.conf")], { stdout: "ignore", stderr: "inherit" }));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (await fetch(url, { method: "POST", body: "{}" }).then(() => true, () => false)) return url;
    await Bun.sleep(50);
  }
  throw new Error("nginx did not start");
}

export function nginxBinary(): string | undefined {
  return Bun.which("nginx") ?? Bun.which("/usr/sbin/nginx") ?? undefined;
}

/** Load `url` with wrk (one thread, `c` connections) POSTing `bodyFile`; CPU of `pids` per request. */
export async function wrk(url: string, bodyFile: string, c: number, seconds: number, pids?: number[]): Promise<WrkResult> {
  const cpu0 = cpuTicks(pids);
  const proc = Bun.spawn(["wrk", "-t1", `-c${c}`, `-d${seconds}s`, "-s", join(BENCH_DIR, "post.lua"), url], {
    env: { ...process.env, BODY_FILE: bodyFile },
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const cpu1 = cpuTicks(pids);
  const m = /WRK_JSON (\{.*\})/.exec(out);
  if (!m) throw new Error(`wrk gave no result:\n${out}`);
  const j = JSON.parse(m[1]!);
  const r: WrkResult = { rps: j.requests / (j.duration_us / 1e6), p50: j.p50 / 1000, p99: j.p99 / 1000, errors: j.errors };
  if (pids && j.requests > 0) r.cpuUsPerReq = ((cpu1 - cpu0) * 1e6) / TICKS_PER_S / j.requests;
  return r;
}

/**
 * Requests per target and round for the time to first byte: at c=1 a request's wake-ups make
 * single figures swing by ±0.3 ms, and medians of 200 still moved by 0.2 ms between rounds;
 * 600 hold within ~0.05 ms (2026-11-30, quiet machine).
 */
export const TTFB_SAMPLES = 600;

/**
 * Time to first byte of a streamed request, for several targets at once: each round sends one
 * request to every target in turn (order rotating), so a neighbour's burst of load hits them
 * all alike. `pauseMs` idles before each request (bench/ttfb-idle.ts). Returns the median per
 * target, in ms.
 */
export async function interleavedTtfb(urls: Record<string, string>, body: string, n: number, pauseMs = 0): Promise<Record<string, number>> {
  const names = Object.keys(urls);
  const times: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  const headers = { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": "bench-client" };
  const warm = 20;
  for (let i = 0; i < n + warm; i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(i + k) % names.length]!;
      if (pauseMs > 0) await Bun.sleep(pauseMs);
      const t0 = performance.now();
      const res = await fetch(urls[name]!, { method: "POST", headers, body });
      const reader = res.body!.getReader();
      await reader.read();
      const t = performance.now() - t0;
      while (!(await reader.read()).done) {}
      if (res.status !== 200) throw new Error(`${name} answered ${res.status}`);
      if (i >= warm) times[name]!.push(t);
    }
  }
  return Object.fromEntries(names.map((k) => [k, median(times[k]!)]));
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The processes listening on `port` (nginx has a master and a worker). */
export async function pidsListening(port: number): Promise<number[]> {
  const out = await new Response(Bun.spawn(["ss", "-ltnpH", `sport = :${port}`], { stdout: "pipe" }).stdout).text();
  const pids = [...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
  if (pids.length === 0) throw new Error(`no process listens on ${port}: ${out}`);
  return [...new Set(pids)];
}

const TICKS_PER_S = 100;

/** utime + stime of the processes (every thread, alive or ended), in clock ticks. */
export function cpuTicks(pids: number[] | undefined): number {
  let sum = 0;
  for (const pid of pids ?? []) {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    sum += Number(fields[11]) + Number(fields[12]);
  }
  return sum;
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024);
}
