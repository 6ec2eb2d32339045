// What the `auto` router costs per request, and that it costs nothing to the others.
//   bun bench/router.ts [--rounds 7] [--n 20000] [--no-write]
// In-process: the pipeline's routing step (requestFacts: session, signature, router, auto-upgrade)
// on bench/lb-bodies.ts's 90 KB Claude Code body (parsed once, as intake does), timed as CPU
// (process.cpuUsage) per call, in interleaved rounds; median of the rounds is reported.
//   plain      model "claude-bench" (a route), config without a router — the baseline
//   bystander  model "claude-bench", config with the router table (activation "auto")
//   auto       model "auto", the same config: the router decides (its session hold included)
//   record     building the router's log record with log_factors (every factor, the trace) —
//              done after the response has ended, off the client's path
// Writes bench/notes/router.md unless --no-write.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../src/config/index.ts";
import type { Config } from "../src/config/types.ts";
import { type Intake, readIntake } from "../src/lb/intake.ts";
import { requestFacts } from "../src/lb/request-state.ts";
import { routerRecord } from "../src/lb/router/record.ts";
import { createMasker } from "../src/observe/mask.ts";
import { createMemoryStore } from "../src/state/index.ts";
import { benchArgs, count, flag } from "./args.ts";
import { BODIES } from "./lb-bodies.ts";

const args = benchArgs("bun bench/router.ts [--rounds N] [--n CALLS] [--no-write]", { rounds: count(7), n: count(20_000), "no-write": flag });
const { rounds: ROUNDS, n: N } = args;

const ROUTER = `
[global.lb_model_router]
enabled = true
activation_models = ["auto", "auto-canary"]
default_model = "claude-bench"
[[global.lb_model_router.categories]]
name = "architecture"
priority = 500
target_model = "opus"
signals = ["task_category:architecture", "system_prompt_type:plan_mode", "keyword:design (doc|review)"]
[[global.lb_model_router.categories]]
name = "review"
priority = 400
target_model = "opus"
signals = ["task_category:code-review"]
[[global.lb_model_router.categories]]
name = "coding"
priority = 300
target_model = "sonnet"
signals = ["task_category:coding", "has_code_context:true", "tool_profile:coding"]
[[global.lb_model_router.categories]]
name = "visual"
priority = 250
target_model = "sonnet"
signals = ["task_category:visual-coding"]
[[global.lb_model_router.categories]]
name = "explore"
priority = 200
target_model = "claude-bench"
signals = ["task_category:explore", "tool_profile:read"]
[[global.lb_model_router.categories]]
name = "quick"
priority = 100
target_model = "claude-bench"
signals = ["task_category:quick", "keyword:^(yes|no|continue)\\\\b"]
[[global.lb_model_router.rules]]
name = "high_complexity"
priority = 400
target_model = "opus"
match = "any"
when = [{ field = "messages_count", op = ">=", value = 50 }, { field = "prompt_chars", op = ">=", value = 200000 }]
[[global.lb_model_router.rules]]
name = "struggling"
priority = 350
target_model = "opus"
when = [{ field = "failure_streak", op = ">=", value = 2 }]
[[global.lb_model_router.rules]]
name = "many_tools"
priority = 300
target_model = "sonnet"
when = [{ field = "tools_count", op = ">=", value = 40 }, { field = "has_system_prompt", op = "==", value = true }]
`;

function config(withRouter: boolean): Config {
  const toml = `[global]\nmain_port = 8145\nhost = "127.0.0.1"\n${withRouter ? ROUTER : ""}
[instances.up]\nurl = "http://127.0.0.1:9"\nproviders = [{ type = "anthropic", api_keys = ["k"] }]
[routing]
"claude-bench" = [{ instance = "up", provider = "anthropic", model = "claude-bench-up" }]
"sonnet" = [{ instance = "up", provider = "anthropic", model = "claude-sonnet" }]
"opus" = [{ instance = "up", provider = "anthropic", model = "claude-opus" }]
`;
  const { config, problems } = parseConfig(toml, "/tmp/gw-bench-router/providers.toml", {});
  if (!config) throw new Error(problems.map((p) => p.message).join("\n"));
  return config;
}

async function intakeOf(text: string): Promise<Intake> {
  const url = new URL("http://gw.local/v1/messages?beta=true");
  const i = await readIntake(new Request(url, { method: "POST", body: text, headers: { "content-type": "application/json" } }), url, { maxBodyBytes: 64 << 20, maxJsonDepth: 128, maxJsonElements: 500_000 });
  if (i instanceof Response) throw new Error(await i.text());
  return i;
}

const large = BODIES.find((b) => b.name === "large")!.text;
const plainIntake = await intakeOf(large);
const autoIntake = await intakeOf(large.replace('"model":"claude-bench"', '"model":"auto"'));
if (autoIntake.model !== "auto") throw new Error("the large body's model was not replaced");
const withRouter = config(true);
const without = config(false);
const headers = new Headers({ "x-claude-code-session-id": "0b0f5c8e-5d3a-4c4e-9d1e-3f1f2a6b7c8d" });
const masker = createMasker([]);

/** CPU µs per call of `fn`, over N calls. */
function cpuPerCall(fn: () => void): number {
  const start = process.cpuUsage();
  for (let i = 0; i < N; i++) fn();
  const d = process.cpuUsage(start);
  return (d.user + d.system) / N;
}

const state = createMemoryStore();
const sample = requestFacts(headers, autoIntake, withRouter, state, Date.now());
if (!sample.router) throw new Error("the router did not run on the auto body");
const cases: Record<"plain" | "bystander" | "auto" | "record", () => void> = {
  plain: () => void requestFacts(headers, plainIntake, without, state, Date.now()),
  bystander: () => void requestFacts(headers, plainIntake, withRouter, state, Date.now()),
  auto: () => void requestFacts(headers, autoIntake, withRouter, state, Date.now()),
  record: () => {
    // A fresh decision each time, so the record computes every factor anew (as each request does).
    const f = requestFacts(headers, autoIntake, withRouter, state, Date.now());
    routerRecord(f.router!, masker);
  },
};

// Warm up the JIT on every case before measuring.
for (const fn of Object.values(cases)) for (let i = 0; i < 2000; i++) fn();
const results: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let round = 0; round < ROUNDS; round++) for (const [name, fn] of Object.entries(cases)) results[name]!.push(cpuPerCall(fn));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)])) as Record<keyof typeof cases, number>;

const lines = [
  `body: ${large.length.toLocaleString()} bytes (Claude-Code-like, 25 tools, a ${Math.round(large.length / 1000)} KB request); ${N.toLocaleString()} calls × ${ROUNDS} rounds, median round, CPU µs per call`,
  `decision on this body: ${sample.router.decision} → ${sample.router.route ?? "-"} (every category and rule evaluated: the worst path)`,
  "",
  "| case | µs per call | vs plain |",
  "|---|---|---|",
  ...(["plain", "bystander", "auto"] as const).map((k) => `| ${k} | ${m[k].toFixed(2)} | ${k === "plain" ? "" : `${m[k] - m.plain >= 0 ? "+" : ""}${(m[k] - m.plain).toFixed(2)} µs (${(m[k] / m.plain).toFixed(2)}×)`} |`),
  `| record (after the response) | ${(m.record - m.auto).toFixed(2)} | (record with log_factors, beyond the decision) |`,
  "",
  `router cost per auto request: ${(m.auto - m.plain).toFixed(1)} µs (goal ≤ 50); added to other requests: ${(m.bystander - m.plain).toFixed(2)} µs`,
];
console.log(lines.join("\n"));
if (!args["no-write"]) {
  const head = `# auto router cost (bun bench/router.ts)\n\n${new Date().toISOString().slice(0, 16)}Z, Bun ${Bun.version}, load average ${(await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ")}\n\n`;
  writeFileSync(join(import.meta.dir, "notes", "router.md"), `${head}${lines.join("\n")}\n`);
}
