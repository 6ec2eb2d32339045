// What bench/lb.ts prints and writes to bench/notes/lb.md: issue 16's summary table (gw against
// nginx and the bare Bun relay, each goal met or not) and the full figures of the run.

import { execSync } from "node:child_process";
import os from "node:os";
import { TTFB_SAMPLES, type WrkResult } from "./lb-harness.ts";

export type Target = "direct" | "gw" | "nginx" | "relay";

export interface Cell {
  readonly body: "small" | "large";
  readonly c: number;
}

export interface RunFigures {
  rounds: number;
  duration: number;
  cells: readonly Cell[];
  bodies: readonly { name: string; bytes: number }[];
  targets: readonly Target[];
  /** `body/c/target` → the median of the rounds. */
  results: Record<string, WrkResult>;
  /** Median time to first byte of the streamed 90 KB request, ms. */
  ttfb: Partial<Record<Target, number>>;
  rss: { before: number; during: number; opened: number };
  /** 1-minute load average before and after the measurements. */
  load: readonly number[];
}

/** Issue 16's table: gw against nginx and the bare relay, with its goals. */
export function summary(r: RunFigures): string {
  const get = (body: string, c: number, t: Target) => r.results[`${body}/${c}/${t}`];
  const added = (body: string, c: number, t: Target) => {
    const x = get(body, c, t);
    const d = get(body, c, "direct");
    return x && d ? x.p50 - d.p50 : undefined;
  };
  const rpsVsNginx = (c: number, t: Target) => {
    const x = get("small", c, t);
    const n = get("small", c, "nginx");
    return x && n ? x.rps / n.rps : undefined;
  };
  const addedTtfb = (t: Target) => (r.ttfb[t] !== undefined && r.ttfb.direct !== undefined ? r.ttfb[t]! - r.ttfb.direct : undefined);
  const cpu = (body: string, c: number, t: Target) => get(body, c, t)?.cpuUsPerReq;
  const cols: Target[] = (["nginx", "relay", "gw"] as const).filter((t) => r.targets.includes(t));
  const ms = (x: number | undefined) => (x === undefined ? "–" : `${x >= 0 ? "+" : ""}${x.toFixed(2)} ms`);
  const ratio = (x: number | undefined) => (x === undefined ? "–" : x.toFixed(2));
  const us = (x: number | undefined) => (x === undefined ? "–" : `${x.toFixed(0)} µs`);
  const goal = (x: number | undefined, ok: (v: number) => boolean, text: string) => `${text} ${x === undefined ? "?" : ok(x) ? "✓" : "✗"}`;
  const gwCpuRatio = (cpu("small", 64, "gw") ?? NaN) / (cpu("small", 64, "relay") ?? NaN);
  const rows: [string, (t: Target) => string, string][] = [
    ["added p50, small body, c=1", (t) => ms(added("small", 1, t)), goal(added("small", 1, "gw"), (v) => v <= 0.3, "≤ 0.3")],
    ["rps vs nginx, small body, c=16 / c=64", (t) => `${ratio(rpsVsNginx(16, t))} / ${ratio(rpsVsNginx(64, t))}`, goal(rpsVsNginx(64, "gw"), (v) => v >= 0.8, "≥ 0.8")],
    ["added p50, 90 KB body, c=1", (t) => ms(added("large", 1, t)), goal(added("large", 1, "gw"), (v) => v <= 1, "≤ 1")],
    ["added time to first byte, 90 KB streamed Claude Code body", (t) => ms(addedTtfb(t)), goal(addedTtfb("gw"), (v) => v <= 0.5, "≤ 0.5")],
    ["CPU per request, small body, c=64", (t) => us(cpu("small", 64, t)), goal(Number.isNaN(gwCpuRatio) ? undefined : gwCpuRatio, (v) => v <= 1.25, `gw/relay ${gwCpuRatio.toFixed(2)} ≤ 1.25`)],
    ["CPU per request, 90 KB body, c=16", (t) => us(cpu("large", 16, t)), ""],
  ];
  const lines = [`| | ${cols.join(" | ")} | goal (gw) |`, `|---|${cols.map(() => "---|").join("")}---|`];
  for (const [label, cell, g] of rows) lines.push(`| ${label} | ${cols.map(cell).join(" | ")} | ${g} |`);
  return lines.join("\n");
}

export function renderNotes(r: RunFigures): string {
  const sh = (cmd: string) => {
    try {
      return execSync(cmd, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
    } catch {
      return "?";
    }
  };
  const f2 = (x: number) => x.toFixed(2);
  const out: string[] = [];
  out.push("# LB benchmark (bench/lb.ts)", "");
  out.push(`Run: ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, \`bun bench/lb.ts --rounds ${r.rounds} --duration ${r.duration}\` (wrk -t1; every figure the median of ${r.rounds} rounds in which the targets take turns).`);
  out.push(`Machine: ${os.cpus()[0]?.model ?? "?"}, ${os.cpus().length} cores shared with other work, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}; load average (1 min) ${r.load.map((x) => x.toFixed(1)).join(" → ")}.`);
  out.push(`Software: Bun ${Bun.version}, ${sh("nginx -v 2>&1")}, ${sh("wrk --version 2>&1 | head -1")}.`);
  out.push(`Bodies: ${r.bodies.map((b) => `${b.name} = ${b.bytes} bytes`).join(", ")} (large: Claude Code's shape — 25 tools, a long system prompt, stream true — answered as SSE).`, "");
  out.push("## Summary (issue 16)", "", summary(r), "");
  out.push("## All figures", "", "| body | c | target | rps | p50 ms | p99 ms | errors | added p50 | CPU µs/req |", "|---|---|---|---|---|---|---|---|---|");
  for (const cell of r.cells) {
    const direct = r.results[`${cell.body}/${cell.c}/direct`];
    for (const t of r.targets) {
      const x = r.results[`${cell.body}/${cell.c}/${t}`];
      if (!x) continue;
      const added = t === "direct" || !direct ? "" : f2(x.p50 - direct.p50);
      out.push(`| ${cell.body} | ${cell.c} | ${t} | ${x.rps.toFixed(0)} | ${f2(x.p50)} | ${f2(x.p99)} | ${x.errors} | ${added} | ${x.cpuUsPerReq === undefined ? "" : x.cpuUsPerReq.toFixed(0)} |`);
    }
  }
  out.push("");
  out.push(`Streamed 90 KB request, time to first byte (median of ${TTFB_SAMPLES} interleaved requests per round): ${Object.entries(r.ttfb).map(([t, v]) => `${t} ${f2(v!)} ms`).join(", ")}.`, "");
  out.push(`RSS of gw: ${r.rss.before} MB after the load runs, ${r.rss.during} MB with ${r.rss.opened} open streams (VmRSS).`, "");
  return `${out.join("\n")}\n`;
}
