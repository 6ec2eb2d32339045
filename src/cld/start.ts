// cld once it launches: pick the mode, then hand the terminal to claude. Apart from run.ts so that
// `cld --help` loads none of it (the config reader, the agents' homes, the memory: ~15 ms).
import { claudeOneShot, handOverToClaude } from "../run/agents/claude/hand-over.ts";
import type { CldArgs } from "./args.ts";
import { findClaude } from "./launch.ts";
import { cldCacheDir, type Env } from "./memory.ts";
import { modeOfSession, pickMode, planAg, planOfficial, rememberMode } from "./modes.ts";
import { setTitle } from "./title.ts";

export async function startCld(args: CldArgs, env: Env): Promise<number> {
  const claude = findClaude(env); // before any question: no point choosing models for nothing
  const cache = cldCacheDir(env);
  // `cld --resume ID` (Claude Code's exit hint): the mode the session ran in, its last launch.
  const resumed = args.mode ? undefined : modeOfSession(cache, args.claudeArgsWithFilter, env);
  const mode = args.mode ?? resumed ?? (await pickMode(cache, env));
  const remember = () => rememberMode(cache, mode); // once claude starts: a launch refused first is not the last one
  if (mode === "cp") {
    // Only cp reads providers.toml: ag and official do not load the config code at all.
    const [{ launchAgent }, { claude: agent }] = await Promise.all([import("../run/launch.ts"), import("../run/agents/claude/index.ts")]);
    const request = { filter: args.filter, filterIsCommand: args.filterExact, config: args.config, agentArgs: args.claudeArgs, agentArgsWithFilter: args.claudeArgsWithFilter };
    return launchAgent(agent, { ...request, again: resumed !== undefined, speaker: "cld", remember }, env);
  }
  const plan = mode === "ag" ? await planAg(env, cache, claude) : planOfficial(env, claude);
  // No routes here: a first word without a mode (`cld hello`) is claude's.
  if (!claudeOneShot(args.claudeArgsWithFilter)) setTitle(plan.title, env);
  remember();
  return handOverToClaude(claude, args.claudeArgsWithFilter, plan.env, plan.via);
}
