#!/usr/bin/env bun
// Memory and event-loop cost of hostile JSON bodies (issue 12 item 5), one command:
//   bun bench/json-attack.ts [--gw DIR]... [--no-write]
// Starts the raw upstream of bench/lb-servers.ts and `gw lb` (from this checkout, or from each
// DIR in turn — e.g. a checkout of main, for a before/after comparison in one run), each in its
// own process. Then, phase by
// phase, sends bodies to gw while sampling its RSS (/proc/PID/status, every 5 ms) and the longest
// wait of a /healthz probe sent back to back (how long gw's event loop was blocked):
//   claude-code   20 × the 90 KB Claude-Code-like body of lb-bodies.ts (normal use)
//   images        one 28 MB body of base64 "images" in content blocks (big, but normal)
//   wide          one 28 MB body holding ~9 million empty objects (the review's attack)
//   wide ×3       three of them at once
//   deep          one 28 MB body nested 14 million levels deep
// Writes bench/notes/json-attack.md unless --no-write.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { benchArgs, flag, repeated } from "./args.ts";
import { BODIES } from "./lb-bodies.ts";

const args = benchArgs("bun bench/json-attack.ts [--gw DIR]... [--no-write]", { gw: repeated, "no-write": flag });
const gwRoots = args.gw.length ? args.gw : [join(import.meta.dir, "..")];
const MB = 1024 * 1024;
const SIZE = 28 * MB;

interface Phase {
  name: string;
  statuses: number[];
  peakRssMb: number;
  afterRssMb: number;
  maxStallMs: number;
  ms: number;
}

function bodies() {
  const head = '{"model":"claude-bench","max_tokens":1,"messages":[{"role":"user","content":"hi"}],"metadata":{"junk":';
  const wideN = Math.floor((SIZE - head.length - 10) / 3);
  const wide = `${head}[${"{},".repeat(wideN - 1)}{}]}}`;
  const depth = Math.floor((SIZE - head.length - 10) / 2);
  const deep = `${head}${"[".repeat(depth)}${"]".repeat(depth)}}}`;
  const image = Buffer.alloc(2 * MB, 7).toString("base64"); // ~2.7 MB of base64 per image
  const blocks = Array.from({ length: 10 }, () => ({ type: "image", source: { type: "base64", media_type: "image/png", data: image } }));
  const images = JSON.stringify({ model: "claude-bench", max_tokens: 1, messages: [{ role: "user", content: [...blocks, { type: "text", text: "what is in these?" }] }] });
  return { wide, deep, images, claude: BODIES.find((b) => b.name === "large")!.text };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

async function phase(name: string, url: string, pid: number, send: () => Promise<number[]>): Promise<Phase> {
  Bun.gc(true);
  await Bun.sleep(300); // let gw settle (its GC runs on its own schedule)
  let peak = rssMb(pid);
  let stop = false;
  const sampler = (async () => {
    while (!stop) {
      peak = Math.max(peak, rssMb(pid));
      await Bun.sleep(5);
    }
  })();
  let maxStall = 0;
  const probe = (async () => {
    while (!stop) {
      const t = performance.now();
      await fetch(`${url}/healthz`).then((r) => r.arrayBuffer()).catch(() => {});
      maxStall = Math.max(maxStall, performance.now() - t);
    }
  })();
  const t0 = performance.now();
  const statuses = await send();
  const ms = performance.now() - t0;
  await Bun.sleep(200);
  stop = true;
  await Promise.all([sampler, probe]);
  const r: Phase = { name, statuses, peakRssMb: peak, afterRssMb: rssMb(pid), maxStallMs: Math.round(maxStall), ms: Math.round(ms) };
  console.log(`${name.padEnd(12)} statuses ${statuses.join(",").padEnd(18)} peak RSS ${String(r.peakRssMb).padStart(5)} MB  after ${String(r.afterRssMb).padStart(5)} MB  longest /healthz wait ${String(r.maxStallMs).padStart(5)} ms  took ${r.ms} ms`);
  return r;
}

interface Run {
  root: string;
  idle: number;
  phases: Phase[];
}

async function runOne(gwRoot: string, b: ReturnType<typeof bodies>): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), "gw-bench-json-"));
  const children: Bun.Subprocess[] = [];
  const cleanup = () => children.forEach((c) => c.kill("SIGTERM"));
  process.on("exit", cleanup);
  try {
    const upPort = Number(await spawnReading([process.execPath, join(import.meta.dir, "lb-servers.ts"), "upstream"], /PORT (\d+)/, children));
    const file = join(dir, "providers.toml");
    writeFileSync(file, `[global]\nhost = "127.0.0.1"\nmain_port = 8145\n[instances.up]\nurl = "http://127.0.0.1:${upPort}"\napi_key = "bench-instance"\nproviders = [{ type = "anthropic", api_keys = ["x"] }]\n[routing]\n"claude-bench" = [{ instance = "up", provider = "anthropic", model = "claude-opus-4-6" }]\n`);
    const url = await spawnReading([process.execPath, join(gwRoot, "src/main.ts"), "lb", "-c", file, "--port", "0"], /(http:\/\/[\d.]+:\d+)/, children, { NODE_ENV: "production" });
    const pid = children.at(-1)!.pid;
    const post = async (body: string) => {
      const res = await fetch(`${url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" }, body });
      await res.arrayBuffer();
      return res.status;
    };
    for (let i = 0; i < 20; i++) await post(b.claude); // warm up
    const idle = rssMb(pid);
    console.log(`gw from ${gwRoot}; idle RSS after warm-up ${idle} MB; bodies: wide ${b.wide.length} B, deep ${b.deep.length} B, images ${b.images.length} B`);
    const phases = [
      await phase("claude-code", url, pid, async () => [...new Set(await Promise.all(Array.from({ length: 20 }, () => post(b.claude))))]),
      await phase("images", url, pid, async () => [await post(b.images)]),
      await phase("wide", url, pid, async () => [await post(b.wide)]),
      await phase("wide ×3", url, pid, () => Promise.all([post(b.wide), post(b.wide), post(b.wide)])),
      await phase("deep", url, pid, async () => [await post(b.deep)]),
    ];
    return { root: gwRoot, idle, phases };
  } finally {
    cleanup();
    process.off("exit", cleanup);
    await Promise.all(children.map((c) => c.exited));
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const b = bodies();
  const runs: Run[] = [];
  for (const root of gwRoots) runs.push(await runOne(root, b));
  if (!args["no-write"]) writeNotes(runs);
}

function writeNotes(runs: Run[]) {
  const lines = [
    "# Hostile JSON bodies (bench/json-attack.ts)",
    "",
    `Run: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, \`bun bench/json-attack.ts ${process.argv.slice(2).join(" ")}\`, Bun ${Bun.version}, ${os.cpus().length} cores (shared with other work), load average ${os.loadavg()[0]!.toFixed(1)} at the end.`,
    "Peak RSS: gw's VmRSS sampled every 5 ms during the phase. Longest wait: the slowest /healthz answer while the phase ran (how long gw's event loop was blocked; inflated by the machine's load).",
    "",
  ];
  for (const r of runs) {
    lines.push(`## gw from \`${r.root}\` (RSS after warm-up ${r.idle} MB)`, "", "| phase | statuses | peak RSS MB | RSS after MB | longest /healthz wait ms | took ms |", "|---|---|---|---|---|---|");
    for (const p of r.phases) lines.push(`| ${p.name} | ${p.statuses.join(", ")} | ${p.peakRssMb} | ${p.afterRssMb} | ${p.maxStallMs} | ${p.ms} |`);
    lines.push("");
  }
  writeFileSync(join(import.meta.dir, "notes", "json-attack.md"), lines.join("\n"));
}

async function spawnReading(cmd: string[], re: RegExp, children: Bun.Subprocess[], env: Record<string, string> = {}): Promise<string> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "inherit", env: { ...process.env, ...env } });
  children.push(proc);
  let out = "";
  const reader = proc.stdout.getReader();
  while (!re.test(out)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`${cmd.join(" ")} exited: ${out}`);
    out += new TextDecoder().decode(value);
  }
  void (async () => {
    for (;;) if ((await reader.read()).done) break;
  })();
  return re.exec(out)![1]!;
}

await main();
