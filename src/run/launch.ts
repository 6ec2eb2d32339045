// Launch one agent through the gateway: the config cld reads, the gateway check while the user
// chooses, the agent's own config in its gw-managed home, one line saying what was chosen and
// which config, the terminal title, the hand-over. The same steps for every agent; what differs
// is in the agent's module.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { displayPath } from "../cli/display-path.ts";
import type { Env } from "../config/env.ts";
import { childEnv, PROXY_VARS } from "../cld/env.ts";
import { findCommand, handOver } from "../cld/launch.ts";
import { cldCacheDir } from "../cld/memory.ts";
import { gatewayAnswers } from "../cld/probe.ts";
import { say as sayAs } from "../cld/say.ts";
import { type CldSource, loadCldSource } from "../cld/source.ts";
import { setTitle } from "../cld/title.ts";
import { confirm } from "../cld/tty.ts";
import type { Agent } from "./agents/types.ts";
import { chooseRoute } from "./choose.ts";
import { offeredRoutes } from "./routes.ts";

export interface LaunchRequest {
  readonly filter?: string;
  readonly config?: string;
  /** The agent's arguments, and the same with the FILTER word in its place (used when it names no route). */
  readonly agentArgs: readonly string[];
  readonly agentArgsWithFilter: readonly string[];
  /** Launch as last time when memory allows (a resumed session). */
  readonly again?: boolean;
  /** Who speaks in status lines (`gw run codex`, `cld`). */
  readonly speaker?: string;
}

/** The agent's exit code; 1 when the user declined to start without a gateway. */
export async function launchAgent(agent: Agent, req: LaunchRequest, env: Env): Promise<number> {
  const say = (line: string) => sayAs(line, req.speaker ?? `gw run ${agent.name}`);
  const command = findCommand(agent.command, agent.label ?? agent.command, agent.install, env); // before any question
  const home = join(cldCacheDir(env), agent.home ?? agent.name);
  mkdirSync(home, { recursive: true, mode: 0o700 });

  const src = await loadCldSource(req.config, env);
  if (src.warning) say(src.warning);
  // Probe while the user picks; a "down" is checked once more, because the numbered picker's
  // blocking terminal reads stall the event loop and can let the early probe time out.
  const up = gatewayAnswers(src.gateway.baseUrl);
  const routes = offeredRoutes(src.config, src.routes, agent.families);
  const ctx = { agent, src, routes, filter: req.filter, home, env, again: req.again ?? false, say };
  const chosen = await (agent.choose ?? chooseRoute)(ctx);
  const reachable = (await up) || (await gatewayAnswers(src.gateway.baseUrl));
  if (!reachable && !startAnyway(src, req.config, agent, say)) return 1;

  const prepared = await agent.prepare({ gateway: src.gateway, route: chosen.route, roles: chosen.roles, routes, home, env, command });
  say(`${chosen.summary} · ${src.file ? `config ${displayPath(src.file)}` : "built-in routes"} → ${src.gateway.baseUrl}`);
  setTitle(`${agent.title ?? `gw run ${agent.name}`} ${chosen.route.name}`, env);
  const args = [...(prepared.args ?? []), ...(chosen.filterUsed ? req.agentArgs : req.agentArgsWithFilter)];
  const childEnvironment = childEnv(env, [...PROXY_VARS, ...agent.blank], prepared.env);
  return agent.handOver ? agent.handOver(command, args, childEnvironment, home) : handOver(command, args, childEnvironment);
}

/** The gateway did not answer: say how to start it (with the config read), and let the user decide. */
function startAnyway(src: CldSource, given: string | undefined, agent: Agent, say: (l: string) => void): boolean {
  const file = given ?? src.file;
  say(`the gateway at ${src.gateway.baseUrl} is not answering; start it with: gw up -d${file ? ` -c ${shellWord(displayPath(file))}` : ""}`);
  const answer = confirm(`Start ${agent.label ?? agent.command} anyway?`, false);
  if (answer === null) say(`no terminal to ask, so not starting ${agent.command}`);
  return answer === true;
}

const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);
