// `gw run AGENT [FILTER] [-y] [-c FILE.toml] [agent args…]` (pure): cld's grammar, with the agent
// in the place of cld's mode. Everything gw run does not claim reaches the agent in order.
import { parseLaunchWords } from "../cld/args.ts";
import { AGENTS, findAgent } from "./agents/index.ts";

interface RunArgs {
  readonly agent?: string;
  readonly filter?: string;
  /** FILTER is one of the agent's own commands: it names a route only by its exact name. */
  readonly filterIsCommand: boolean;
  readonly config?: string;
  readonly help: boolean;
  readonly agentArgs: readonly string[];
  /**
   * The agent's arguments when FILTER names no route: then it was the agent's own word
   * (`gw run codex exec "fix it"`), and goes to it in its place.
   */
  readonly agentArgsWithFilter: readonly string[];
}

export function parseRunArgs(argv: readonly string[]): RunArgs {
  const w = parseLaunchWords(argv, {
    isFirst: (word) => findAgent(word) !== undefined,
    takesFilter: () => true,
    yolo: (first) => (first ? (findAgent(first)?.yolo ?? []) : []),
    commands: (first) => findAgent(first)?.commands ?? [],
  });
  return { agent: w.first, filter: w.filter, filterIsCommand: w.filterIsCommand, config: w.config, help: w.help, agentArgs: w.rest, agentArgsWithFilter: w.restWithFilter };
}

export function runUsage(): string {
  const width = Math.max(...AGENTS.map((a) => a.name.length));
  const agents = AGENTS.map((a) => `  ${a.name.padEnd(width)}  ${a.summary}`).join("\n");
  return `gw run — start a coding agent through the gw gateway

usage: gw run AGENT [FILTER] [-y] [-c FILE.toml] [agent args…]

${agents}

  FILTER    the first route containing FILTER (routes the agent speaks natively first); no questions
            asked. A word that names no route is the agent's: gw run codex exec "fix it" asks for the route;
            so is one of the agent's own commands (exec, e, review…) unless a route has exactly that name
  -y, --yolo          the agent's own "ask nothing" flag
  -c, --config FILE   providers.toml to read (-c only when FILE ends in .toml; a key=value is the agent's)
  -h, --help          this help (after the agent's own arguments: the agent's, as is --)

Without FILTER: a menu of routes (Esc reuses the last one); without AGENT: a menu of agents. Every other argument goes to the
agent unchanged, in order: gw run codex gpt5 exec "fix the tests". The agent's config lives in
a directory gw manages (~/.cache/cld/AGENT); your own settings stay untouched.
Config (named on stderr), as cld chooses it: -c FILE, else the gw at $GW_URL (key: $GW_API_KEY),
else $CLD_TOML, else $GW_CONFIG, else the config of the running gw, else ./providers.toml once you
confirmed it; none = the built-in routes.
`;
}
