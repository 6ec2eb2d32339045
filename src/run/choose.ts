// Which route(s) an agent gets: the cld way. A FILTER that names a route launches at once; else
// a menu (Esc: the route remembered for this agent). An agent that takes several routes brings
// its own chooser (Agent.choose); this one serves every agent that talks to one model.
import { CliError } from "../cli/errors.ts";
import type { Env } from "../config/env.ts";
import { readLast, writeLast } from "../cld/memory.ts";
import { pick } from "../cld/picker.ts";
import type { CldSource } from "../cld/source.ts";
import { typed } from "../supervisor/self.ts";
import { formatTokens, matchOffered, type OfferedRoute, routeDetail } from "./routes.ts";

export interface ChooseContext {
  /** The agent's name (menu titles) and executable (messages). */
  readonly agent: { readonly name: string; readonly command: string };
  readonly src: CldSource;
  /** Routes in the order the agent is offered them. */
  readonly routes: readonly OfferedRoute[];
  readonly filter?: string;
  /** FILTER is one of the agent's own commands (`codex review`): it names a route only by its exact name. */
  readonly filterIsCommand?: boolean;
  /** The agent's gw-managed directory, where its memory lives too. */
  readonly home: string;
  readonly env: Env;
  /** Launch as last time when memory allows (a resumed session). */
  readonly again: boolean;
  readonly say: (line: string) => void;
}

export interface Chosen {
  /** The route the agent talks to (Claude Code: its main route). */
  readonly route: OfferedRoute;
  /** Routes by role for an agent that takes several (Claude Code: main, fast, opus). */
  readonly roles?: Readonly<Record<string, string>>;
  /** The launch line: what was chosen and which gateway (the config line comes before it). */
  readonly line: string;
  /** False when the FILTER named no route: then it was the agent's own word. */
  readonly filterUsed: boolean;
  /** Writes the choice to the agent's memory: done once the agent starts, so a launch refused first leaves the last one as it was. */
  readonly remember: () => void;
}

/** One route: FILTER, else the menu; remembered in the agent's home as `last_route`. */
export async function chooseRoute(c: ChooseContext): Promise<Chosen> {
  const filtered = c.filter === undefined ? undefined : matchOffered(c.routes, c.filter, c.filterIsCommand);
  const unmatched = c.filterIsCommand ? `no route is named "${c.filter}" (${c.agent.command}'s own command)` : `no route matches "${c.filter}"`;
  if (c.filter !== undefined && !filtered) c.say(`${unmatched}, so it goes to ${c.agent.command}; choose the route`);
  const { route: last } = readLast(c.home, ["route"]);
  const remembered = c.again ? c.routes.find((r) => r.name === last) : undefined;
  const route = filtered ?? remembered ?? (await routeFromMenu(c, last));
  const remember = () => writeLast(c.home, { route: route.name });
  return { route, line: launchLine(route, c.src.gateway.baseUrl), filterUsed: c.filter === undefined || filtered !== undefined, remember };
}

/**
 * `route gpt5 (gpt-5 · 400k context) → http://127.0.0.1:8145`. Which config is the line before
 * (the config rule's own, CldSource.line), as for cld.
 */
function launchLine(r: OfferedRoute, baseUrl: string): string {
  const models = r.models.length ? `${r.models.join(", ")} · ` : "";
  return `route ${r.name} (${models}${formatTokens(r.window)} context) → ${baseUrl}`;
}

/**
 * The routes a one-line refusal names: the first ROUTES_NAMED (the agent's own family comes
 * first), then how many more. A config a script wrote has hundreds: named in full, the one line
 * ran for several screens.
 */
const ROUTES_NAMED = 12;
function routeList(routes: readonly OfferedRoute[]): string {
  const names = routes.slice(0, ROUTES_NAMED).map((r) => r.name).join(", ");
  return routes.length > ROUTES_NAMED ? `${names} and ${routes.length - ROUTES_NAMED} more` : names;
}

async function routeFromMenu(c: ChooseContext, last: string | undefined): Promise<OfferedRoute> {
  if (c.routes.length === 0) throw new CliError("the config has no routes to offer", 1, "add a [routing] entry to providers.toml");
  if (c.routes.length === 1) return c.routes[0]!; // nothing to choose
  const choices = c.routes.map((r) => ({ key: r.name, detail: routeDetail(r) }));
  const known = c.routes.some((r) => r.name === last) ? last : undefined;
  const hint = `name the route: ${typed(`gw run ${c.agent.name}`)} FILTER … (routes: ${routeList(c.routes)})`;
  const picked = await pick({ title: `${c.agent.name} route`, choices, last: known, path: c.env.PATH, hint });
  const route = picked && c.routes.find((r) => r.name === picked.key);
  if (!route) throw new CliError("no route chosen", 130);
  return route;
}
