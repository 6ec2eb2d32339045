// `gw run AGENT`: the cld experience for every coding agent — its words parsed, the agent found
// (or asked for), then launched (launch.ts).
import { writeSync } from "node:fs";
import { CliError } from "../cli/errors.ts";
import { didYouMean } from "../config/suggest.ts";
import { cldCacheDir, type Env, readLast, writeLast } from "../cld/memory.ts";
import { pick } from "../cld/picker.ts";
import { hasTerminal } from "../cld/tty.ts";
import { typed } from "../supervisor/self.ts";
import { AGENTS, agentNames, findAgent } from "./agents/index.ts";
import type { Agent } from "./agents/types.ts";
import { parseRunArgs, runUsage } from "./args.ts";
import { launchAgent } from "./launch.ts";

export async function runAgent(argv: readonly string[], env: Env): Promise<number> {
  const args = parseRunArgs(argv);
  if (args.help) {
    writeSync(1, runUsage());
    return 0;
  }
  // A first word that names no agent is a misspelt one (`gw run codx`), not a prompt for the one
  // the menu would give: said before any menu.
  const word = argv[0];
  if (args.agent === undefined && word !== undefined && !word.startsWith("-")) {
    const guess = didYouMean(word, agentNames());
    throw new CliError(`"${word}" is no agent gw runs${guess ? ` — did you mean "${guess}"?` : ""}`, 1, `${typed(`gw run ${agentNames().join("|")}`)} … (${typed("gw run --help")})`);
  }
  const agent = args.agent === undefined ? await agentFromMenu(env) : findAgent(args.agent);
  if (!agent) throw new CliError(`name the agent to run: ${typed(`gw run ${agentNames().join("|")}`)} …`, 1, typed("gw run --help"));
  return launchAgent(agent, args, env);
}

/** `gw run` alone: which agent (Esc: the last one); none without a terminal to ask on. */
async function agentFromMenu(env: Env): Promise<Agent | undefined> {
  if (!hasTerminal()) return undefined;
  const cache = cldCacheDir(env);
  const { agent: last } = readLast(cache, ["agent"]);
  const picked = await pick({ title: "Agent", choices: AGENTS.map((a) => ({ key: a.name, detail: a.summary })), last, path: env.PATH });
  const agent = picked ? findAgent(picked.key) : undefined;
  if (agent) writeLast(cache, { agent: agent.name });
  return agent;
}

