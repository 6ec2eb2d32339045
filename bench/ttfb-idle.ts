#!/usr/bin/env bun
// Added time to first byte against the pause before each request: `bun bench/ttfb-idle.ts [--no-write]`.
// bench/lb.ts sends its streamed 90 KB requests back to back; a user's requests come seconds
// apart, and a process that has idled answers on cold caches and a CPU that has clocked down. Per
// pause (0, 5, 50 and 300 ms before every request) the targets take turns as in bench/lb.ts, and
// each proxy's figure is its median less the upstream's own (direct) median, the median of three
// rounds. Needs nginx for its row. Writes bench/notes/ttfb-idle.md unless --no-write.

import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { benchArgs, flag } from "./args.ts";
import { BODIES } from "./lb-bodies.ts";
import { Children, interleavedTtfb, median, nginxBinary, startGw, startNginx, startRelay, startUpstream, wrk } from "./lb-harness.ts";

/**
 * Pause before each request (ms) → requests per target: ~3 minutes in all (every request of a
 * round follows the pause, interleavedTtfb's 20 warm-up requests included).
 */
const PAUSES: readonly (readonly [number, number])[] = [
  [0, 600],
  [5, 300],
  [50, 100],
  [300, 40],
];

const args = benchArgs("bun bench/ttfb-idle.ts [--no-write]", { "no-write": flag });
const ROUNDS = 3;
const ROOT = join(import.meta.dir, "..");
const children = new Children();
const dir = children.tempDir("gw-bench-");
try {
  const upPort = await startUpstream(children);
  const urls: Record<string, string> = { direct: `http://127.0.0.1:${upPort}` };
  if (nginxBinary()) urls.nginx = await startNginx(dir, upPort, children);
  urls.relay = `http://127.0.0.1:${await startRelay(upPort, children)}`;
  urls.gw = `http://127.0.0.1:${await startGw(ROOT, dir, upPort, children)}`;
  for (const k in urls) urls[k] += "/v1/messages";
  const proxies = Object.keys(urls).filter((k) => k !== "direct");
  for (const b of BODIES) {
    const file = join(dir, `${b.name}.json`);
    writeFileSync(file, b.text);
    for (const p of proxies) await wrk(urls[p]!, file, 16, 4); // warmed as bench/lb.ts warms them
  }
  const body = BODIES.find((b) => b.name === "large")!.text;
  const lines = [`| pause before each request | direct | ${proxies.map((p) => `${p} adds`).join(" | ")} |`, `|---|---|${proxies.map(() => "---").join("|")}|`];
  // Rounds go through every pause in turn, so a burst of load from a neighbour spoils one round
  // of each pause rather than every round of one; each figure is the median of the rounds.
  const medians = new Map(PAUSES.map(([pause]) => [pause, [] as Record<string, number>[]]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [pause, n] of PAUSES) medians.get(pause)!.push(await interleavedTtfb(urls, body, Math.ceil(n / ROUNDS), pause));
  }
  for (const [pause] of PAUSES) {
    const rounds = medians.get(pause)!;
    const m = Object.fromEntries(Object.keys(urls).map((k) => [k, median(rounds.map((x) => x[k]!))]));
    lines.push(`| ${pause} ms | ${m.direct!.toFixed(2)} ms | ${proxies.map((p) => `+${(m[p]! - m.direct!).toFixed(2)} ms`).join(" | ")} |`);
  }
  console.log(lines.join("\n"));
  if (!args["no-write"]) {
    const load = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ");
    const head = `# TTFB after a pause (bun bench/ttfb-idle.ts)\n\n${new Date().toISOString().slice(0, 16)}Z, Bun ${Bun.version}, load average ${load}\n\n`;
    writeFileSync(join(import.meta.dir, "notes", "ttfb-idle.md"), `${head}${lines.join("\n")}\n`);
  }
} finally {
  await children.stop();
  rmSync(dir, { recursive: true, force: true });
}
