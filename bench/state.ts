#!/usr/bin/env bun
// What the state backends cost per request, one command:
//   bun bench/state.ts [--duration S] [--rounds N] [--no-write]
// Three `gw lb` processes on one raw upstream (bench/lb-servers.ts), the same config but for
// `state`: "memory", "local" (SQLite) and "redis://" (a redis-server started here, loopback).
// Small body, c=1 and c=64, two session patterns (bench/state.lua): one session for every
// request, and a new session per request (every request writes a sticky key). Rounds interleave
// the backends, so the machine's other load hits them alike; the medians are compared.
// Measured per request: CPU of the gw process (µs, /proc ticks), p50 latency, and Redis
// commands (INFO stats) for the redis backend. Writes bench/notes/state.md.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { RedisClient } from "bun";
import { openLocalState } from "../src/state/local.ts";
import { memoryBackend, type StateBackend } from "../src/state/index.ts";
import { openRedisState } from "../src/state/redis.ts";
import { freePort } from "../src/supervisor/ports.ts";
import { BODIES } from "./lb-bodies.ts";
import { benchArgs, count, flag, seconds } from "./args.ts";
import { gwConfig } from "./lb-harness.ts";
import { statePathCost } from "./state-path.ts";

const ROOT = join(import.meta.dir, "..");
const args = benchArgs("bun bench/state.ts [--duration S] [--rounds N] [--no-write]", { duration: seconds(3), rounds: count(3), "no-write": flag });
const BACKENDS = ["memory", "local", "redis"] as const;
type Backend = (typeof BACKENDS)[number];
const SESSIONS = ["one", "new"] as const;
const CONCURRENCY = [1, 64];

interface Run {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  cpuUs: number;
  /** Redis commands per request (redis backend only). */
  redisCmds?: number;
}

async function main() {
  const { duration, rounds } = args;
  if (!Bun.which("wrk")) throw new Error("wrk is not installed: apt-get install -y wrk");
  if (!Bun.which("redis-server")) throw new Error("redis-server is not installed: apt-get install -y redis-server");
  const dir = mkdtempSync(join(tmpdir(), "gw-bench-state-"));
  const children: Bun.Subprocess[] = [];
  const cleanup = () => children.forEach((c) => c.kill("SIGTERM"));
  process.on("exit", cleanup);
  try {
    const upPort = Number(await spawnReading([process.execPath, join(import.meta.dir, "lb-servers.ts"), "upstream"], /PORT (\d+)/, children));
    const redisPort = await freePort();
    children.push(Bun.spawn(["redis-server", "--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdout: "ignore", stderr: "inherit" }));
    const redis = new RedisClient(`redis://127.0.0.1:${redisPort}`);
    await until(() => redis.ping().then(() => true, () => false));
    // In-process first: the state calls of one request, nothing else.
    const quiet = { info() {}, warn: (m: string) => console.warn(m) };
    const open: Record<Backend, () => Promise<StateBackend>> = {
      memory: async () => memoryBackend(),
      local: async () => openLocalState({ file: join(dir, `path-${crypto.randomUUID()}.db`), log: quiet }),
      redis: () => openRedisState({ url: `redis://127.0.0.1:${redisPort}`, prefix: `bench-${crypto.randomUUID()}`, log: quiet }),
    };
    const path: Record<string, number[]> = {};
    for (const b of BACKENDS) for (const sessions of SESSIONS) await statePathCost(await open[b](), sessions, 0.5); // JIT warm-up
    for (const sessions of SESSIONS) {
      for (let round = 0; round < rounds; round++) {
        for (let k = 0; k < BACKENDS.length; k++) {
          const b = BACKENDS[(round + k) % BACKENDS.length]!;
          const us = await statePathCost(await open[b](), sessions, 1);
          (path[`${sessions}/${b}`] ??= []).push(us);
          console.log(`state path, sessions=${sessions} ${b.padEnd(6)} round ${round + 1}: ${us.toFixed(2)} µs/request`);
        }
      }
    }

    const gw: Record<Backend, { url: string; pids: number[] }> = {} as never;
    for (const b of BACKENDS) {
      const state = b === "redis" ? `redis://127.0.0.1:${redisPort}` : b;
      const port = await startGw(join(dir, b), upPort, state, children);
      gw[b] = { url: `http://127.0.0.1:${port}/v1/messages`, pids: await pidsListening(port) };
    }
    const body = join(dir, "small.json");
    writeFileSync(body, BODIES.find((x) => x.name === "small")!.text);
    for (const b of BACKENDS) await wrk(gw[b].url, body, "one", 8, 1); // warm pools and JIT

    const runs: Record<string, Run[]> = {};
    const load0 = os.loadavg()[0]!;
    for (const sessions of SESSIONS) {
      for (const c of CONCURRENCY) {
        for (let round = 0; round < rounds; round++) {
          // Rotate the order each round: no backend always runs right after another's load.
          for (let k = 0; k < BACKENDS.length; k++) {
            const b = BACKENDS[(round + k) % BACKENDS.length]!;
            const cmds0 = b === "redis" ? await redisCommands(redis) : 0;
            const cpu0 = cpuTicks(gw[b].pids);
            const r = await wrk(gw[b].url, body, sessions, c, duration);
            const cpuUs = ((cpuTicks(gw[b].pids) - cpu0) * 10_000) / r.requests;
            // Writes leave gw after the requests that caused them: count them once gw is quiet.
            const redisCmds = b === "redis" ? ((await settledCommands(redis)) - cmds0) / r.requests : undefined;
            const run: Run = { rps: r.rps, p50: r.p50, p99: r.p99, errors: r.errors, cpuUs, redisCmds };
            (runs[`${sessions}/${c}/${b}`] ??= []).push(run);
            console.log(`sessions=${sessions} c=${String(c).padEnd(2)} ${b.padEnd(6)} round ${round + 1}: ${r.rps.toFixed(0).padStart(6)} rps  p50 ${r.p50.toFixed(3)} ms  cpu ${cpuUs.toFixed(1)} µs/req${redisCmds === undefined ? "" : `  redis ${redisCmds.toFixed(3)} cmd/req`}  errors ${r.errors}`);
          }
        }
      }
    }
    const notes = renderNotes(runs, path, { duration, rounds, load: [load0, os.loadavg()[0]!] });
    console.log(`\n${notes}`);
    if (!args["no-write"]) {
      writeFileSync(join(import.meta.dir, "notes/state.md"), notes);
      console.log("wrote bench/notes/state.md");
    }
    redis.close();
  } finally {
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function startGw(dir: string, upPort: number, state: string, children: Bun.Subprocess[]): Promise<number> {
  const file = join(dir, "providers.toml");
  await Bun.write(file, gwConfig(upPort, state));
  const url = await spawnReading([process.execPath, join(ROOT, "src/main.ts"), "lb", "-c", file, "--port", "0"], /(http:\/\/\S+:\d+)/, children, {
    NODE_ENV: "production",
    BUN_CONFIG_MAX_HTTP_REQUESTS: "16384",
    GW_STATE: "",
  });
  return Number(new URL(url).port);
}

async function wrk(url: string, bodyFile: string, sessions: string, c: number, seconds: number) {
  const proc = Bun.spawn(["wrk", "-t1", `-c${c}`, `-d${seconds}s`, "-s", join(import.meta.dir, "state.lua"), url], {
    env: { ...process.env, BODY_FILE: bodyFile, SESSIONS: sessions, SESSION_PREFIX: crypto.randomUUID() },
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const m = /WRK_JSON (\{.*\})/.exec(out);
  if (!m) throw new Error(`wrk gave no result:\n${out}`);
  const j = JSON.parse(m[1]!) as { requests: number; duration_us: number; errors: number; p50: number; p99: number };
  return { requests: j.requests, rps: j.requests / (j.duration_us / 1e6), p50: j.p50 / 1000, p99: j.p99 / 1000, errors: j.errors };
}

/** Commands Redis has processed, not counting these INFO calls. */
async function redisCommands(redis: RedisClient): Promise<number> {
  const info = (await redis.send("INFO", ["stats"])) as string;
  return Number(/total_commands_processed:(\d+)/.exec(info)![1]) - infoCalls++;
}
let infoCalls = 0;

/** The command count once it stopped moving (a busy machine may hold gw's writes back a while). */
async function settledCommands(redis: RedisClient): Promise<number> {
  let last = await redisCommands(redis);
  for (let still = 0; still < 4; ) {
    await Bun.sleep(250);
    const now = await redisCommands(redis);
    still = now === last ? still + 1 : 0;
    last = now;
  }
  return last;
}

function renderNotes(runs: Record<string, Run[]>, path: Record<string, number[]>, meta: { duration: number; rounds: number; load: number[] }): string {
  const med = (k: string, f: (r: Run) => number) => median(runs[k]!.map(f));
  const lines = [
    `# State backends (bun bench/state.ts --duration ${meta.duration} --rounds ${meta.rounds})`,
    "",
    `${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), Bun ${Bun.version}, load average ${meta.load.map((x) => x.toFixed(1)).join(" → ")}.`,
    "",
    "State calls of one request, in-process (bench/state-path.ts), CPU µs per request, median of the rounds:",
    "",
    "| sessions | memory | local | redis | local − memory | redis − memory |",
    "|---|---|---|---|---|---|",
    ...SESSIONS.map((s) => {
      const [m, l, r] = BACKENDS.map((b) => median(path[`${s}/${b}`]!));
      return `| ${s} | ${m!.toFixed(2)} | ${l!.toFixed(2)} | ${r!.toFixed(2)} | ${signed(l! - m!, 2)} | ${signed(r! - m!, 2)} |`;
    }),
    "",
    "Through `gw lb` with wrk (small body), medians of the rounds; CPU is the gw process's user+system time per request:",
    "",
    "| sessions | c | state | rps | p50 ms | p99 ms | CPU µs/req | vs memory | Redis cmd/req |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const s of SESSIONS) {
    for (const c of CONCURRENCY) {
      const base = med(`${s}/${c}/memory`, (r) => r.cpuUs);
      const baseP50 = med(`${s}/${c}/memory`, (r) => r.p50);
      for (const b of BACKENDS) {
        const k = `${s}/${c}/${b}`;
        const cpu = med(k, (r) => r.cpuUs);
        const p50 = med(k, (r) => r.p50);
        const delta = b === "memory" ? "" : `${signed(cpu - base)} µs, ${signed(p50 - baseP50, 3)} ms p50`;
        const cmds = b === "redis" ? med(k, (r) => r.redisCmds!).toFixed(3) : "";
        lines.push(`| ${s} | ${c} | ${b} | ${med(k, (r) => r.rps).toFixed(0)} | ${p50.toFixed(3)} | ${med(k, (r) => r.p99).toFixed(2)} | ${cpu.toFixed(1)} | ${delta} | ${cmds} |`);
      }
    }
  }
  lines.push("", "Every round:", "", "```");
  for (const [k, us] of Object.entries(path)) lines.push(`path ${k.padEnd(12)} ${us.map((x) => x.toFixed(2)).join(" / ")} µs`);
  for (const [k, rs] of Object.entries(runs)) lines.push(`${k.padEnd(16)} cpu ${rs.map((r) => r.cpuUs.toFixed(1)).join(" / ")} µs   p50 ${rs.map((r) => r.p50.toFixed(3)).join(" / ")} ms`);
  lines.push("```", "");
  return lines.join("\n");
}

const signed = (x: number, digits = 1) => `${x >= 0 ? "+" : ""}${x.toFixed(digits)}`;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

async function spawnReading(cmd: string[], pattern: RegExp, children: Bun.Subprocess[], env: Record<string, string> = {}): Promise<string> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "inherit", env: { ...process.env, ...env } });
  children.push(proc);
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let out = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`${cmd.join(" ")} exited before printing ${pattern}: ${out}`);
    out += decoder.decode(value, { stream: true });
    const m = pattern.exec(out);
    if (m) {
      void (async () => {
        while (!(await reader.read()).done) {}
      })(); // keep draining, or the child blocks on a full pipe
      return m[1]!;
    }
  }
}

/** The process listening on `port` (gw lb may re-execute itself with a raised fetch limit). */
async function pidsListening(port: number): Promise<number[]> {
  const out = await new Response(Bun.spawn(["ss", "-ltnpH", `sport = :${port}`], { stdout: "pipe" }).stdout).text();
  const pids = [...new Set([...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])))];
  if (pids.length === 0) throw new Error(`no process listens on ${port}`);
  return pids;
}

/** utime + stime, in clock ticks (1/100 s). */
function cpuTicks(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    sum += Number(f[11]) + Number(f[12]);
  }
  return sum;
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) if (await check()) return;
  else await Bun.sleep(50);
  throw new Error("redis-server did not answer");
}

await main();
