// How long a reload of a big providers.toml (40 instances, 500 routes: bench/reload-config.ts)
// holds up requests in flight, and what loading that file costs by itself.
//   bun bench/reload.ts [--reloads 12] [--routes 500] [--instances 40] [--up] [--gw DIR]... [--cpu-prof DIR] [--no-write]
// For each gw checkout (--gw, repeatable; default this one):
//   load    loadConfig on the file in a fresh process, 8 times in a row (median of 5 processes):
//           the first call is what a gw that has not reloaded yet pays, the later ones a warmed-up
//           reload
//   stall   `gw lb` on the file, a client sending small requests one after another to the raw
//           upstream through it, and --reloads edits of the file (one weight changed, saved by
//           rename as editors do; the file watcher reloads). A request's stall is its latency
//           minus the median latency of the requests no reload overlapped; each reload's stall
//           is the largest of the requests it overlapped. First reload and the later ones apart.
//           --up: `gw up` instead, its started instances (half of them) run as `gw mock`.
// Writes bench/notes/reload.md (--up: reload-up.md) unless --no-write.

import { renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { BIG_CONFIG_ENV, bigConfig } from "./reload-config.ts";
import { benchArgs, count, flag, repeated, text } from "./args.ts";
import { freePort } from "../src/supervisor/ports.ts";
import { Children, median, startUpstream } from "./lb-harness.ts";

const args = benchArgs("bun bench/reload.ts [--reloads N] [--routes N] [--instances N] [--up] [--gw DIR]... [--cpu-prof DIR] [--no-write]", {
  reloads: count(12),
  routes: count(500),
  instances: count(40),
  up: flag,
  gw: repeated,
  "cpu-prof": text,
  "no-write": flag,
});
const { reloads: RELOADS, routes: ROUTES, instances: INSTANCES, up: UP } = args;
const LOADS = 8;
/** --cpu-prof DIR: gw lb writes a CPU profile of its whole run there (at its exit). */
const profDir = args["cpu-prof"] === undefined ? undefined : resolve(args["cpu-prof"]);
const roots = args.gw.length ? args.gw.map((dir) => resolve(dir)) : [resolve(import.meta.dir, "..")];

interface Run {
  root: string;
  /** loadConfig ms, in call order, in a fresh process. */
  loads: number[];
  /** ms per reload, in order. */
  stalls: number[];
  /** From the file's rename to gw's "config reloaded" line, ms (the watcher's 150 ms quiet period included). */
  reloadMs: number[];
  baselineMs: number;
  requests: number;
}

/**
 * loadConfig of `root` on `file`, LOADS times in a row in a fresh process; each call's median over
 * PROCESSES processes (a cold first call moves by 2× with the machine's load).
 */
async function timeLoads(root: string, file: string): Promise<number[]> {
  const runs: number[][] = [];
  for (let p = 0; p < PROCESSES; p++) runs.push(await timeLoadsOnce(root, file));
  return runs[0]!.map((_, i) => median(runs.map((r) => r[i]!)));
}
const PROCESSES = 5;

async function timeLoadsOnce(root: string, file: string): Promise<number[]> {
  const script = `
    const { loadConfig } = await import(${JSON.stringify(join(root, "src/config/index.ts"))});
    const out = [];
    for (let i = 0; i < ${LOADS}; i++) {
      const t0 = performance.now();
      const r = await loadConfig(${JSON.stringify(file)});
      out.push(performance.now() - t0);
      if (!r.config) throw new Error("the bench config does not load: " + JSON.stringify(r.problems[0]));
    }
    console.log(JSON.stringify(out));`;
  const p = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit", env: { ...process.env, ...BIG_CONFIG_ENV } });
  const text = await new Response(p.stdout).text();
  if ((await p.exited) !== 0) throw new Error(`timing loadConfig of ${root} failed`);
  return JSON.parse(text) as number[];
}

/** Lines gw prints, and a way to wait for the n-th line matching a pattern. */
function follow(proc: Bun.Subprocess<"ignore", "pipe", "pipe">) {
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  const read = async (stream: ReadableStream<Uint8Array>) => {
    let buf = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      buf += decoder.decode(chunk, { stream: true });
      const parts = buf.split("\n");
      buf = parts.pop()!;
      lines.push(...parts);
      for (const w of waiters.splice(0)) w();
    }
  };
  void read(proc.stdout);
  void read(proc.stderr);
  return {
    lines,
    async waitFor(re: RegExp, count: number, timeoutMs = 30_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hits = lines.filter((l) => re.test(l));
        if (hits.length >= count) return hits[count - 1]!;
        if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`gw printed no ${re} (#${count}):\n${lines.slice(-20).join("\n")}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
  };
}

async function runOne(root: string): Promise<Run> {
  const children = new Children();
  const dir = children.tempDir("gw-bench-reload-");
  try {
    const upPort = await startUpstream(children);
    const file = join(dir, "providers.toml");
    // Both versions made up front: the client shares this process, and must not wait on it.
    let up: { cliproxy: string; mainPort: number; ports: number[] } | undefined;
    if (UP) {
      const cliproxy = join(dir, "cliproxy.sh");
      writeFileSync(cliproxy, `#!/bin/sh\nexec "${process.execPath}" "${join(root, "src/main.ts")}" mock "$@"\n`, { mode: 0o755 });
      const ports: number[] = [];
      for (let i = 0; i < INSTANCES; i++) ports.push(i % 2 ? await freePort() : 0);
      up = { cliproxy, mainPort: await freePort(), ports };
    }
    const versions = [1, 2].map((weight) => bigConfig(upPort, { instances: INSTANCES, routes: ROUTES, weight, up }));
    const write = (weight: number) => {
      writeFileSync(`${file}.new`, versions[weight - 1]!);
      renameSync(`${file}.new`, file);
    };
    write(1);
    const loads = await timeLoads(root, file);
    console.log(`${root}: loadConfig ${loads.map((t) => t.toFixed(0)).join(", ")} ms`);

    const prof = profDir ? ["--cpu-prof", `--cpu-prof-dir=${profDir}`] : [];
    const command = UP ? ["up", "-c", file] : ["lb", "-c", file, "--port", "0"];
    const proc = Bun.spawn([process.execPath, ...prof, join(root, "src/main.ts"), ...command], {
      cwd: dir,
      stdout: "pipe",
      stderr: "pipe",
      // The fetch limit gw sets (lb/concurrency.ts), so it does not re-execute itself; its registry
      // of running gateways in the temporary folder, not the user's.
      env: { ...process.env, ...BIG_CONFIG_ENV, NODE_ENV: "production", BUN_CONFIG_MAX_HTTP_REQUESTS: "16384", XDG_CACHE_HOME: join(dir, "cache") },
    });
    children.add(proc);
    const out = follow(proc);
    const url = /(http:\/\/[\d.]+:\d+)/.exec(await out.waitFor(UP ? /serving on http/ : /listening on http/, 1, 120_000))![1]!;

    // The client: one request after another, each one's start and end.
    const spans: [number, number][] = [];
    let sending = true;
    const body = JSON.stringify({ model: "bench", max_tokens: 16, messages: [{ role: "user", content: "hi" }] });
    const headers = { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": BIG_CONFIG_ENV.GW_BENCH_CLIENT_KEY! };
    const client = (async () => {
      while (sending) {
        const t0 = performance.now();
        const res = await fetch(`${url}/v1/messages`, { method: "POST", headers, body });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`gw answered ${res.status}`);
        spans.push([t0, performance.now()]);
      }
    })();
    await Bun.sleep(1500); // past the first requests' warm-up

    const windows: [number, number][] = [];
    for (let i = 1; i <= RELOADS; i++) {
      const t0 = performance.now();
      write(1 + (i % 2));
      await out.waitFor(/config reloaded/, i);
      windows.push([t0, performance.now()]);
      await Bun.sleep(400);
    }
    sending = false;
    await client;

    const overlaps = (s: [number, number], w: [number, number]) => s[0] < w[1] && s[1] > w[0];
    const quiet = spans.filter((s) => !windows.some((w) => overlaps(s, w))).map(([a, b]) => b - a);
    const baselineMs = median(quiet);
    const stalls = windows.map((w) => Math.max(0, ...spans.filter((s) => overlaps(s, w)).map(([a, b]) => b - a - baselineMs)));
    const reloadMs = windows.map(([a, b]) => b - a);
    console.log(`${root}: ${spans.length} requests, baseline ${baselineMs.toFixed(2)} ms; stall per reload ${stalls.map((t) => t.toFixed(0)).join(", ")} ms`);
    return { root, loads, stalls, reloadMs, baselineMs, requests: spans.length };
  } finally {
    await children.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (x: number) => x.toFixed(x < 10 ? 1 : 0);

function table(runs: Run[]): string[] {
  const rows = [
    "| gw | loadConfig first / later (median) ms | stall at first reload ms | stall at later reloads: median / max ms | rename → 'config reloaded' median ms | requests (baseline latency ms) |",
    "|---|---|---|---|---|---|",
  ];
  for (const r of runs) {
    const later = r.stalls.slice(1);
    rows.push(`| \`${r.root}\` | ${fmt(r.loads[0]!)} / ${fmt(median(r.loads.slice(1)))} | ${fmt(r.stalls[0]!)} | ${fmt(median(later))} / ${fmt(Math.max(...later))} | ${fmt(median(r.reloadMs))} | ${r.requests} (${r.baselineMs.toFixed(2)}) |`);
  }
  return rows;
}

const runs: Run[] = [];
for (const root of roots) runs.push(await runOne(root));
const summary = table(runs);
console.log(summary.join("\n"));
if (!args["no-write"]) {
  const notes = [
    `# Reloading a big providers.toml (bench/reload.ts, ${UP ? "gw up with gw mock instances" : "gw lb"})`,
    "",
    `Run: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, \`bun bench/reload.ts ${process.argv.slice(2).join(" ")}\`, Bun ${Bun.version}, ${os.cpus().length} cores (shared with other work), load average ${os.loadavg()[0]!.toFixed(1)} at the end; ${INSTANCES} instances, ${ROUTES} routes, ${RELOADS} reloads.`,
    "",
    ...summary,
    "",
    "Raw figures (ms):",
    "",
    ...runs.flatMap((r) => [`- \`${r.root}\``, `  - loadConfig: ${r.loads.map(fmt).join(", ")}`, `  - stall per reload: ${r.stalls.map(fmt).join(", ")}`, `  - rename → reloaded: ${r.reloadMs.map(fmt).join(", ")}`]),
    "",
  ];
  const name = UP ? "reload-up.md" : "reload.md";
  writeFileSync(join(import.meta.dir, "notes", name), notes.join("\n"));
  console.log(`wrote bench/notes/${name}`);
}
