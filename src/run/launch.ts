// Launch one agent through the gateway: the config cld reads, the gateway check while the user
// chooses, the agent's own config in its gw-managed home, one line saying what was chosen and
// which config, the terminal title, the hand-over. The same steps for every agent; what differs
// is in the agent's module.
import type { Env } from "../config/env.ts";
import { isLoopback } from "../config/loopback.ts";
import { type ChildEnv, childEnv } from "../cld/env.ts";
import { proxyRule } from "../cld/proxies.ts";
import { findCommand, handOver, spawnAndForward } from "../cld/launch.ts";
import { agentHome, cldCacheDir } from "../cld/memory.ts";
import { askGateway, gatewayAnswers } from "../cld/probe.ts";
import { say as sayAs } from "../cld/say.ts";
import { type CldSource, loadCldSource } from "../cld/source.ts";
import { setTitle } from "../cld/title.ts";
import { confirm } from "../cld/tty.ts";
import { shellQuote } from "../cli/shell-word.ts";
import { typed } from "../supervisor/self.ts";
import type { Agent } from "./agents/types.ts";
import { chooseRoute } from "./choose.ts";
import { offeredRoutes, windowsOf } from "./routes.ts";

interface LaunchRequest {
  readonly filter?: string;
  /** FILTER is one of the agent's own commands: it names a route only by its exact name. */
  readonly filterIsCommand?: boolean;
  readonly config?: string;
  /** The agent's arguments, and the same with the FILTER word in its place (used when it names no route). */
  readonly agentArgs: readonly string[];
  readonly agentArgsWithFilter: readonly string[];
  /** Launch as last time when memory allows (a resumed session). */
  readonly again?: boolean;
  /** Who speaks in status lines (`gw run codex`, `cld`). */
  readonly speaker?: string;
  /** What the caller remembers of this launch (cld: the mode), written with the route choice. */
  readonly remember?: () => void;
}

/** The agent's exit code; 1 when the user declined to start without a gateway. */
export async function launchAgent(agent: Agent, req: LaunchRequest, env: Env): Promise<number> {
  const speaker = req.speaker ?? `gw run ${agent.name}`;
  const say = (line: string) => sayAs(line, speaker);
  const command = findCommand(agent.command, `${agent.command} (${agent.label})`, agent.install, env); // before any question
  const cache = cldCacheDir(env);
  const home = agentHome(cache, agent.home ?? agent.name);

  // cld's rule for the config (-c, $CLD_TOML, $GW_CONFIG, the running gw, a confirmed
  // ./providers.toml), said in one line before anything is sent anywhere.
  const src = await loadCldSource(req.config, env, { ask: true, cacheDir: cache, client: { label: agent.label, command: speaker } });
  say(src.line);
  // One question to the gateway before any menu: is it up, and which windows does it serve
  // (what every agent is told; the catalogue is loaded only for routes it does not list).
  // A gw named by its address was asked already (loadCldSource): it answered, or cld stopped there.
  const answer = src.windows ? { up: true, windows: src.windows } : await askGateway(src.gateway.baseUrl, src.gateway.apiKey);
  const routes = offeredRoutes(src.config, src.routes, agent.families, await windowsOf(src.routes, src.config, answer.windows));
  const ctx = { agent, src, routes, filter: req.filter, filterIsCommand: req.filterIsCommand ?? false, home, env, again: req.again ?? false, say };
  const chosen = await (agent.choose ?? chooseRoute)(ctx);
  // A "down" is asked once more: on a busy machine one probe may miss its deadline.
  const up = answer.up || (await gatewayAnswers(src.gateway.baseUrl));
  const trouble = answer.notGw ? `something answers there, but not as gw does (${answer.notGw}): check the address (main_port, gw up --port)` : up ? undefined : "";
  if (trouble !== undefined && !startAnyway(src, req.config, agent, say, trouble)) return 1;

  const prepared = await agent.prepare({ gateway: src.gateway, route: chosen.route, roles: chosen.roles, routes, home, env, command, say });
  say(chosen.line);
  const given = [...(prepared.args ?? []), ...(chosen.filterUsed ? req.agentArgs : req.agentArgsWithFilter)];
  const args = agent.arrange ? agent.arrange(given) : given;
  if (!agent.oneShot?.(given)) setTitle(`${agent.title ?? `gw run ${agent.name}`} ${chosen.route.name}`, env);
  const childEnvironment = agentEnv(agent, env, prepared.env, src.gateway.baseUrl, command);
  // Remembered only now that the agent starts: Esc next time must not offer a launch that never
  // happened (the gateway declined, its files could not be prepared).
  chosen.remember();
  req.remember?.();
  if (agent.resumeArgs && !agent.oneShot?.(given)) return runAndHint(agent, command, args, childEnvironment, { home, route: chosen.route.name, say });
  return agent.handOver ? agent.handOver(command, args, childEnvironment) : handOver(command, args, childEnvironment);
}

/**
 * An interactive agent whose exit hint would leave the gateway (`codex resume ID`): run as our
 * child, as cld runs a Claude Code too old to name cld (agents/claude/hand-over.ts), then the
 * session it ran is named with the way back in through gw.
 */
async function runAndHint(agent: Agent, command: string, args: readonly string[], env: ChildEnv, o: { home: string; route: string; say: (l: string) => void }): Promise<number> {
  const started = Date.now();
  const code = await spawnAndForward(command, args, env);
  const resume = agent.resumeArgs?.({ home: o.home, env }, started);
  if (resume) o.say(`resume it through the gateway with: ${typed(`gw run ${agent.name}`)} ${[o.route, ...resume].map(shellQuote).join(" ")}`);
  return code;
}

/**
 * The agent's environment: the user's, the agent's stray variables blanked, its own on top, and
 * the user's proxies as cld's rule says (cld/proxies.ts: kept for a gateway elsewhere, which the
 * user's network may reach only through them — as cld's own check of it did; for one on this
 * machine, kept beside NO_PROXY by an agent that honours it, else blanked). The CA file Bun's
 * check trusted ($NODE_EXTRA_CA_CERTS, else $SSL_CERT_FILE) is handed on in the variable the agent
 * reads (Agent.caVar: $NODE_EXTRA_CA_CERTS for Node agents — Gemini CLI, Claude Code's older npm
 * builds; the native Claude Code is a Bun program and reads both — Codex's own for Codex): what
 * passed the check connects. `command`: the agent's executable, as found.
 */
export function agentEnv(agent: Pick<Agent, "blank" | "honoursNoProxy" | "command" | "caVar">, base: Env, set: Readonly<Record<string, string>>, gatewayUrl?: string, command = agent.command): ChildEnv {
  const url = gatewayUrl === undefined ? undefined : new URL(gatewayUrl);
  const caVar = agent.caVar ?? "NODE_EXTRA_CA_CERTS";
  const trusted = base.NODE_EXTRA_CA_CERTS || base.SSL_CERT_FILE;
  const certs: Record<string, string> = url?.protocol === "https:" && trusted && !base[caVar] ? { [caVar]: trusted } : {};
  const proxies = proxyRule(base, gatewayUrl, () => agent.honoursNoProxy(command));
  return childEnv(base, [...proxies.blank, ...agent.blank], { ...certs, ...proxies.set, ...set });
}

/**
 * The gateway did not answer, or something else did (`trouble` says what; empty: nothing answers
 * there): say how to start it (with the config read, as given), and let the user decide.
 */
function startAnyway(src: CldSource, given: string | undefined, agent: Agent, say: (l: string) => void, trouble: string): boolean {
  const file = given ?? src.file;
  const url = src.gateway.baseUrl;
  // A gw on another machine (a team's server) is not started from here.
  // A file that did not load (missing, broken: its line said so) starts no gw: that is the fix first.
  const start = file && src.config === null ? `fix ${shellQuote(file)} first (${typed("gw check")} -c ${shellQuote(file)}), then start it with ${typed("gw up -d")} -c ${shellQuote(file)}` : `start it with: ${typed("gw up -d")}${file ? ` -c ${shellQuote(file)}` : ""}`;
  const what = isLoopback(new URL(url).hostname) ? start : `it is not on this machine: check that gw runs there and that this machine reaches it (curl ${url}/healthz)`;
  say(trouble ? `the gateway at ${url}: ${trouble}` : `the gateway at ${url} is not answering; ${what}`);
  const answer = confirm(`Start ${agent.label} anyway?`);
  if (answer === null) say(`no terminal to ask, so not starting ${agent.command}`);
  return answer === true;
}
