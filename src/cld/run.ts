// `cld` / `gw cld`: parse, pick the mode, then launch. cp is gw run's claude agent (Claude Code
// through the gateway); ag and official need no config and hand the terminal to claude directly.
import { writeSync } from "node:fs";
import { handOverToClaude } from "../run/agents/claude/hand-over.ts";
import { cldUsage, parseCldArgs } from "./args.ts";
import { findClaude } from "./launch.ts";
import { cldCacheDir, type Env } from "./memory.ts";
import { modeOfSession, pickMode, planAg, planOfficial, rememberMode } from "./modes.ts";
import { setTitle } from "./title.ts";
import { typed } from "../supervisor/self.ts";

export async function runCld(argv: readonly string[], env: Env): Promise<number> {
  const args = parseCldArgs(argv);
  if (args.help) {
    writeSync(1, cldUsage(typed("cld"), typed("gw")));
    return 0;
  }
  const claude = findClaude(env); // before any question: no point choosing models for nothing
  const cache = cldCacheDir(env);
  // `cld --resume ID` (Claude Code's exit hint): the mode the session ran in, its last launch.
  const resumed = args.mode ? undefined : modeOfSession(cache, args.claudeArgs, env);
  const mode = args.mode ?? resumed ?? (await pickMode(cache, env));
  rememberMode(cache, mode);
  if (mode === "cp") {
    // Only cp reads providers.toml: ag and official do not load the config code at all.
    const [{ launchAgent }, { claude: agent }] = await Promise.all([import("../run/launch.ts"), import("../run/agents/claude/index.ts")]);
    const request = { filter: args.filter, config: args.config, agentArgs: args.claudeArgs, agentArgsWithFilter: args.claudeArgs };
    return launchAgent(agent, { ...request, again: resumed !== undefined, speaker: "cld" }, env);
  }
  const plan = mode === "ag" ? await planAg(env, cache, claude) : planOfficial(env, claude);
  setTitle(plan.title, env);
  return handOverToClaude(claude, args.claudeArgs, plan.env, plan.via);
}
