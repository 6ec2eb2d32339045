// `gw run AGENT`: the cld experience for every coding agent. Pick a route the cld way (FILTER,
// menu, memory per agent), make sure the gateway answers, let the agent module write its config
// in its gw-managed home, say what was chosen, hand the terminal over.
import { mkdirSync, writeSync } from "node:fs";
import { join } from "node:path";
import { CliError } from "../cli/errors.ts";
import { childEnv, PROXY_VARS } from "../cld/env.ts";
import { findCommand, handOver } from "../cld/launch.ts";
import { cldCacheDir, type Env, readLast, writeLast } from "../cld/memory.ts";
import { pick } from "../cld/picker.ts";
import { gatewayAnswers } from "../cld/probe.ts";
import { say as sayAs } from "../cld/say.ts";
import { type CldSource, loadCldSource } from "../cld/source.ts";
import { setTitle } from "../cld/title.ts";
import { confirm, hasTerminal } from "../cld/tty.ts";
import { displayPath } from "../cli/display-path.ts";
import { AGENTS, agentNames, findAgent } from "./agents/index.ts";
import type { Agent } from "./agents/types.ts";
import { parseRunArgs, runUsage } from "./args.ts";
import { formatTokens, matchOffered, type OfferedRoute, offeredRoutes, routeDetail } from "./routes.ts";

export async function runAgent(argv: readonly string[], env: Env): Promise<number> {
  const args = parseRunArgs(argv);
  if (args.help) {
    writeSync(1, runUsage());
    return 0;
  }
  const agent = args.agent === undefined ? await agentFromMenu(env) : findAgent(args.agent);
  if (!agent) throw new CliError(`name the agent to run: gw run ${agentNames().join("|")} …`, 1, "gw run --help");
  const say = (line: string) => sayAs(line, `gw run ${agent.name}`);
  const command = findCommand(agent.command, agent.command, agent.install, env); // before any question
  const home = join(cldCacheDir(env), agent.name);
  mkdirSync(home, { recursive: true, mode: 0o700 });

  const src = await loadCldSource(args.config, env);
  if (src.warning) say(src.warning);
  const up = gatewayAnswers(src.gateway.baseUrl);
  const routes = offeredRoutes(src.config, src.routes, agent.families);
  const filtered = args.filter === undefined ? undefined : matchOffered(routes, args.filter);
  if (args.filter !== undefined && !filtered) say(`no route matches "${args.filter}", so it goes to ${agent.command}; choose the route`);
  const route = filtered ?? (await routeFromMenu(agent, routes, home, env.PATH));
  const agentArgs = filtered || args.filter === undefined ? args.agentArgs : args.agentArgsWithFilter;
  writeLast(home, { route: route.name });
  const reachable = (await up) || (await gatewayAnswers(src.gateway.baseUrl));
  if (!reachable && !startAnyway(src, agent, say)) return 1;

  const prepared = await agent.prepare({ gateway: src.gateway, route, routes, home, env, command });
  say(launchLine(route, src));
  setTitle(`gw run ${agent.name} ${route.name}`, env);
  const childArgs = [...(prepared.args ?? []), ...agentArgs];
  return handOver(command, childArgs, childEnv(env, [...PROXY_VARS, ...agent.blank], prepared.env));
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

/** The route menu (native routes first); Esc takes the remembered route. */
async function routeFromMenu(agent: Agent, routes: readonly OfferedRoute[], home: string, path: string | undefined): Promise<OfferedRoute> {
  if (routes.length === 0) throw new CliError("the config has no routes to offer", 1, "add a [routing] entry to providers.toml");
  const { route: last } = readLast(home, ["route"]);
  const choices = routes.map((r) => ({ key: r.name, detail: routeDetail(r) }));
  const picked = await pick({ title: `${agent.name} route`, choices, last: routes.some((r) => r.name === last) ? last : undefined, path });
  const route = picked && routes.find((r) => r.name === picked.key);
  if (!route) throw new CliError("no route chosen", 130);
  return route;
}

/** `route gpt5 (gpt-5 · 400k context) · config ~/gw/providers.toml → http://127.0.0.1:8145` */
export function launchLine(route: OfferedRoute, src: Pick<CldSource, "file" | "gateway">): string {
  const models = route.models.length ? `${route.models.join(", ")} · ` : "";
  const config = src.file ? `config ${displayPath(src.file)}` : "built-in routes";
  return `route ${route.name} (${models}${formatTokens(route.window)} context) · ${config} → ${src.gateway.baseUrl}`;
}

/** The gateway did not answer: say how to start it, and let the user decide. */
function startAnyway(src: CldSource, agent: Agent, say: (l: string) => void): boolean {
  say(`the gateway at ${src.gateway.baseUrl} is not answering; start it with: gw up -d${src.file ? ` -c ${displayPath(src.file)}` : ""}`);
  const answer = confirm(`Start ${agent.command} anyway?`, false);
  if (answer === null) say(`no terminal to ask, so not starting ${agent.command}`);
  return answer === true;
}
