// `cld` / `gw cld`: parse, pick, build the environment, hand the terminal to claude.
import { writeSync } from "node:fs";
import { CLD_USAGE, parseCldArgs } from "./args.ts";
import { claudeVersion, latestSession, printsCldHint } from "./claude/resume.ts";
import { findClaude, handOver, spawnAndForward } from "./launch.ts";
import { cldCacheDir, type Env } from "./memory.ts";
import { modeOfSession, pickMode, planAg, planOfficial, rememberMode } from "./modes.ts";
import { say } from "./say.ts";
import { setTitle } from "./title.ts";

export async function runCld(argv: readonly string[], env: Env): Promise<number> {
  const args = parseCldArgs(argv);
  if (args.help) {
    writeSync(1, CLD_USAGE);
    return 0;
  }
  const claude = findClaude(env); // before any question: no point choosing models for nothing
  const cache = cldCacheDir(env);
  // `cld --resume ID` (Claude Code's exit hint): the mode the session ran in, its last launch.
  const resumed = args.mode ? undefined : modeOfSession(cache, args.claudeArgs);
  const mode = args.mode ?? resumed ?? (await pickMode(cache, env));
  rememberMode(cache, mode);
  // Only cp reads providers.toml: ag and official do not load the config code at all.
  const plan = mode === "cp" ? await (await import("./cp.ts")).planCp(args, env, cache, resumed !== undefined) : mode === "ag" ? await planAg(env, cache) : planOfficial(env);
  if (!plan) return 1;
  setTitle(plan.title, env);
  const configDir = plan.env.CLAUDE_CONFIG_DIR;
  if (configDir && interactive(args.claudeArgs) && !printsCldHint(claudeVersion(claude))) {
    // This Claude Code's exit hint says `claude --resume ID`, which leaves the gateway: stay
    // the parent and follow it with the way back in.
    const started = Date.now();
    const code = await spawnAndForward(claude, args.claudeArgs, plan.env);
    const id = latestSession(configDir, started);
    if (id) say(`resume it through ${mode === "cp" ? "the gateway" : "Antigravity"} with: cld --resume ${id}`);
    return code;
  }
  return handOver(claude, args.claudeArgs, plan.env);
}

/** Print mode ends without a resume hint. */
const interactive = (claudeArgs: readonly string[]) => !claudeArgs.some((a) => a === "-p" || a === "--print");
