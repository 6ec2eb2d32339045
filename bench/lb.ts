#!/usr/bin/env bun
// LB benchmark, one command: `bun bench/lb.ts [--duration S] [--no-nginx] [--no-write]`.
// Starts a raw upstream (its own process), gw (`gw lb`, its own process) and nginx (if
// installed), then measures direct vs gw vs nginx with wrk, stream time-to-first-byte, and gw's
// RSS with 1,000 open streams. Writes bench/notes/lb.md. Needs: apt-get install -y nginx wrk.
// The upstream and the bun-floor proxy are in lb-servers.ts, each run in its own process.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { type Body, BODIES } from "./lb-bodies.ts";

const ROOT = join(import.meta.dir, "..");
const SERVERS = join(import.meta.dir, "lb-servers.ts");
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : dflt);

// --- orchestration ---

interface WrkResult { rps: number; p50: number; p99: number; errors: number; cpuUsPerReq?: number }
type Target = "direct" | "gw" | "nginx" | "bun-floor";
const CONCURRENCY = [1, 16, 64];

async function main() {
  const duration = Number(option("--duration", "5"));
  if (!Bun.which("wrk")) throw new Error("wrk is not installed: apt-get install -y wrk");
  const dir = mkdtempSync(join(tmpdir(), "gw-bench-"));
  const children: Bun.Subprocess[] = [];
  // SIGTERM, not SIGKILL: a killed nginx master leaves its worker running with nobody to stop it.
  const cleanup = () => children.forEach((c) => c.kill("SIGTERM"));
  process.on("exit", cleanup);
  try {
    const upstream = spawnReading([process.execPath, SERVERS, "upstream"], /PORT (\d+)/, children);
    const upPort = Number(await upstream);
    const gwPort = await startGw(dir, upPort, children);
    const floorPort = await spawnReading([process.execPath, SERVERS, "floor", `http://127.0.0.1:${upPort}`], /PORT (\d+)/, children, { BUN_CONFIG_MAX_HTTP_REQUESTS: "16384" });
    const urls: Partial<Record<Target, string>> = { direct: `http://127.0.0.1:${upPort}`, gw: `http://127.0.0.1:${gwPort}`, "bun-floor": `http://127.0.0.1:${floorPort}` };
    if (!flag("--no-nginx")) {
      if (Bun.which("nginx") ?? Bun.which("/usr/sbin/nginx")) urls.nginx = await startNginx(dir, upPort, children);
      else console.warn("nginx not installed (apt-get install -y nginx): skipping the nginx column");
    }
    const targets = Object.keys(urls) as Target[];
    // CPU per request of the proxy processes is robust against neighbours' load, unlike rps.
    const pids: Partial<Record<Target, number[]>> = {};
    for (const t of targets) if (t !== "direct") pids[t] = await pidsListening(Number(new URL(urls[t]!).port));
    const loadBefore = os.loadavg()[0]!;
    const results: Record<string, WrkResult> = {};
    for (const body of BODIES) {
      const file = join(dir, `${body.name}.json`);
      writeFileSync(file, body.text);
      for (const t of targets) await wrk(`${urls[t]}/v1/messages`, file, 4, 1); // warm pools and JIT
      for (const c of CONCURRENCY) {
        for (const t of targets) {
          const cpu0 = cpuTicks(pids[t]);
          const r = await wrk(`${urls[t]}/v1/messages`, file, c, duration);
          if (pids[t]) r.cpuUsPerReq = ((cpuTicks(pids[t]) - cpu0) * 10_000) / (r.rps * duration);
          results[`${body.name}/${c}/${t}`] = r;
          const cpu = r.cpuUsPerReq === undefined ? "" : `  cpu ${r.cpuUsPerReq.toFixed(0)} µs/req`;
          console.log(`${body.name.padEnd(6)} c=${String(c).padEnd(3)} ${t.padEnd(9)} ${r.rps.toFixed(0).padStart(7)} rps  p50 ${ms(r.p50)}  p99 ${ms(r.p99)}  errors ${r.errors}${cpu}`);
        }
      }
    }
    const stream = BODIES.find((b) => b.name === "large")!;
    const ttfb: Partial<Record<Target, number>> = {};
    for (const t of targets) ttfb[t] = await medianTtfb(`${urls[t]}/v1/messages`, stream, 300);
    console.log("stream TTFB p50 (ms):", JSON.stringify(ttfb));
    const gwPid = pids.gw![0]!;
    const rss = await rssWithOpenStreams(gwPort, gwPid, 1000);
    console.log(`gw RSS: idle-after-load ${rss.before} MB, with 1000 open streams ${rss.during} MB (${rss.opened} opened)`);
    const load = [loadBefore, os.loadavg()[0]!];
    if (!flag("--no-write")) writeNotes({ duration, targets, results, ttfb, rss, load });
  } finally {
    cleanup();
  }
}

/** gw as users run it: `gw lb` on a config whose one route rewrites the model. */
async function startGw(dir: string, upPort: number, children: Bun.Subprocess[]): Promise<number> {
  const file = join(dir, "providers.toml");
  writeFileSync(file, `[global]
host = "127.0.0.1"
main_port = 8145
api_keys = ["bench-client"]
[instances.up]
url = "http://127.0.0.1:${upPort}"
api_key = "bench-instance"
providers = [{ type = "anthropic", api_keys = ["x"] }]
[routing]
"claude-bench" = [{ instance = "up", provider = "anthropic", model = "claude-opus-4-6-thinking" }]
`);
  const url = await spawnReading([process.execPath, join(ROOT, "src/main.ts"), "lb", "-c", file, "--port", "0"], /(http:\/\/\S+:\d+)/, children, { NODE_ENV: "production" });
  return Number(new URL(url).port);
}

async function startNginx(dir: string, upPort: number, children: Bun.Subprocess[]): Promise<string> {
  const port = await freePort();
  const conf = (await Bun.file(join(import.meta.dir, "nginx.conf.template")).text())
    .replaceAll("{{DIR}}", dir).replaceAll("{{UPSTREAM_PORT}}", String(upPort)).replaceAll("{{PORT}}", String(port));
  writeFileSync(join(dir, "nginx.conf"), conf);
  const nginx = Bun.which("nginx") ?? "/usr/sbin/nginx";
  children.push(Bun.spawn([nginx, "-p", dir, "-c", join(dir, "nginx.conf")], { stdout: "ignore", stderr: "inherit" }));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (await fetch(url, { method: "POST", body: "{}" }).then(() => true, () => false)) return url;
    await Bun.sleep(50);
  }
  throw new Error("nginx did not start");
}

async function wrk(url: string, bodyFile: string, c: number, seconds: number): Promise<WrkResult> {
  const proc = Bun.spawn(["wrk", "-t1", `-c${c}`, `-d${seconds}s`, "-s", join(import.meta.dir, "post.lua"), url], {
    env: { ...process.env, BODY_FILE: bodyFile },
    stdout: "pipe",
    stderr: "inherit",
  });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const m = /WRK_JSON (\{.*\})/.exec(out);
  if (!m) throw new Error(`wrk gave no result:\n${out}`);
  const j = JSON.parse(m[1]!);
  return { rps: j.requests / (j.duration_us / 1e6), p50: j.p50 / 1000, p99: j.p99 / 1000, errors: j.errors };
}

/** Median time from sending a streamed request to its first body byte, sequentially. */
async function medianTtfb(url: string, body: Body, n: number): Promise<number> {
  const times: number[] = [];
  const headers = { "content-type": "application/json", "x-api-key": "bench-client" };
  for (let i = 0; i < n + 20; i++) {
    const t0 = performance.now();
    const res = await fetch(url, { method: "POST", headers, body: body.text });
    const reader = res.body!.getReader();
    await reader.read();
    const t = performance.now() - t0;
    while (!(await reader.read()).done) {}
    if (i >= 20) times.push(t);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

/** Open `n` streams through gw over raw sockets (no client-side fetch limit) and read gw's RSS. */
async function rssWithOpenStreams(port: number, pid: number, n: number) {
  const before = rssMb(pid);
  const body = JSON.stringify({ model: "claude-bench", stream: true, hold: "hold", max_tokens: 10, messages: [{ role: "user", content: "hi" }] });
  const req = `POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\nx-api-key: bench-client\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
  let opened = 0;
  const sockets = await Promise.all(
    Array.from({ length: n }, async () => {
      let seen = false;
      return Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: { data: (_s, d) => void (!seen && d.toString().includes("event: ping") && ((seen = true), opened++)), open: (s) => void s.write(req) },
      });
    }),
  );
  const end = Date.now() + 30_000;
  while (opened < n && Date.now() < end) await Bun.sleep(50);
  const during = rssMb(pid);
  for (const s of sockets) s.end();
  return { before, during, opened };
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024);
}

/** The processes listening on `port` (gw re-execs itself; nginx has a master and a worker). */
async function pidsListening(port: number): Promise<number[]> {
  const out = await new Response(Bun.spawn(["ss", "-ltnpH", `sport = :${port}`], { stdout: "pipe" }).stdout).text();
  const pids = [...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
  if (pids.length === 0) throw new Error(`no process listens on ${port}: ${out}`);
  return [...new Set(pids)];
}

/** utime + stime of the processes, in clock ticks (1/100 s). */
function cpuTicks(pids: number[] | undefined): number {
  let sum = 0;
  for (const pid of pids ?? []) {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    sum += Number(fields[11]) + Number(fields[12]);
  }
  return sum;
}

async function spawnReading(cmd: string[], pattern: RegExp, children: Bun.Subprocess[], env: Record<string, string> = {}): Promise<string> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "inherit", env: { ...process.env, ...env } });
  children.push(proc);
  const reader = proc.stdout.getReader();
  let out = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`${cmd.join(" ")} exited before printing ${pattern}: ${out}`);
    out += new TextDecoder().decode(value);
    const m = pattern.exec(out);
    if (m) {
      void (async () => { while (!(await reader.read()).done) {} })(); // keep draining
      return m[1]!;
    }
  }
}

async function freePort(): Promise<number> {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const p = s.port!;
  await s.stop(true);
  return p;
}

const ms = (x: number) => `${x.toFixed(2).padStart(6)} ms`;

function writeNotes(r: { duration: number; targets: Target[]; results: Record<string, WrkResult>; ttfb: Partial<Record<Target, number>>; rss: { before: number; during: number; opened: number }; load: number[] }) {
  const { renderNotes } = require("./lb-notes.ts") as typeof import("./lb-notes.ts");
  writeFileSync(join(import.meta.dir, "notes/lb.md"), renderNotes({ ...r, concurrency: CONCURRENCY, bodies: BODIES.map((b) => ({ name: b.name, bytes: b.text.length })) }));
  console.log("wrote bench/notes/lb.md");
}

// Last, so every constant above is initialized before top-level await runs.
await main();
