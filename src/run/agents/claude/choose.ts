// Claude Code takes three routes — main (the conversation), fast (titles, summaries, subagents)
// and opus (its strongest tier) — chosen as cld has always chosen them: FILTER (main; fast and
// opus remembered or from a scenario), else the scenario menu and the auto-upgrade switch,
// remembered in its home (last_main, last_fast, last_opus, last_scenario, last_auto_upgrade).
import { cheapestRoute, DEFAULT_CONTEXT_WINDOW, formatTokens } from "../../../catalog/routes.ts";
import { CliError } from "../../../cli/errors.ts";
import { readLast, writeLast } from "../../../cld/memory.ts";
import { pick } from "../../../cld/picker.ts";
import { autoRouteFor, CUSTOM, describeRoles, matchRoute, ROLE_NAMES, rememberedRoles, type Roles, rolesForMatch, usableScenarios, withAuto } from "../../../cld/scenarios.ts";
import type { CldSource } from "../../../cld/source.ts";
import type { ChooseContext, Chosen } from "../../choose.ts";
import type { OfferedRoute } from "../../routes.ts";

const MEMORY = ["main", "fast", "opus", "scenario", "auto_upgrade"] as const;
type Last = Partial<Record<(typeof MEMORY)[number], string>>;

interface Choice {
  readonly roles: Roles;
  readonly scenario?: string;
  readonly autoUpgrade?: "On" | "Off";
  /** FILTER launches: where fast and opus came from. */
  readonly from?: { readonly fast: string; readonly opus: string };
}

export async function chooseRoles(c: ChooseContext): Promise<Chosen> {
  const { src, home } = c;
  const last: Last = readLast(home, MEMORY);
  const remembered = c.again && !c.filter ? rememberedRoles(last, src.routes) : undefined;
  const choice = remembered ? { roles: remembered, scenario: last.scenario } : ((c.filter ? byFilter(c, c.filter, last) : undefined) ?? (await byMenu(src, last, c.env.PATH)));
  // A FILTER launch is no scenario's: the one before must not be offered as its name (Esc on the
  // menu named Performance and launched the filter's route).
  const remember = () => writeLast(home, { ...choice.roles, scenario: choice.scenario ?? "", auto_upgrade: choice.autoUpgrade });
  const route = offered(c.routes, choice.roles.main);
  // The FILTER word after cp is cld's even when it matched nothing (the menus then chose): never
  // claude's. One typed without a mode is claude's unless it named a route.
  const filterUsed = !c.filterIsCommand || choice.roles.main === c.filter;
  return { route, roles: { ...choice.roles }, line: launchLine(choice, route.window, src.gateway.baseUrl), filterUsed, remember };
}

/** The FILTER's route as main; undefined (the menus follow, as the old launcher did) when none matches. */
function byFilter(c: ChooseContext, filter: string, last: Last): Choice | undefined {
  const { src } = c;
  if (c.filterIsCommand) {
    // `cld opus` (the mode left out): Claude Code got "opus" as its first prompt.
    if (!src.routes.includes(filter)) return undefined;
    c.say(`"${filter}" is a route: launching as cld cp ${filter} (to give Claude Code that word as its prompt: cld -- ${filter})`);
    return rolesFor(src, filter, last);
  }
  const match = matchRoute(src.routes, filter);
  if (!match) {
    c.say(`no route matches "${filter}" (routes: ${src.routes.join(", ")}); choose from the menus`);
    return undefined;
  }
  return rolesFor(src, match, last);
}

/** cld's roles for a main route: fast and opus remembered in `last`, else its scenario's, else the cheapest route (fast) and main. */
function rolesFor(src: CldSource, main: string, last: Last) {
  const { config } = src;
  const cheapest = config ? () => cheapestRoute(config.routes.values(), config.pricing) : undefined;
  return rolesForMatch(main, last, { routes: src.routes, scenarios: menuScenarios(src), cheapest });
}

/** The route cld gives Claude Code's fast tier (titles, summaries) beside `main`, by the same rule, with nothing remembered. */
export const fastRoute = (src: CldSource, main: string): string => rolesFor(src, main, {}).roles.fast;

/** The scenarios cld can launch (all their routes exist), plus Auto when the gateway routes `auto`. */
function menuScenarios(src: CldSource) {
  return withAuto(usableScenarios(src.scenarios, src.routes), src.auto);
}

async function byMenu(src: CldSource, last: Last, path: string | undefined): Promise<Choice> {
  // One route (no `auto` beside it): every role is that route, so there is nothing to ask.
  const [only, ...more] = src.routes;
  if (only !== undefined && more.length === 0) return { roles: { main: only, fast: only, opus: only } };
  const scenarios = menuScenarios(src);
  const choices = [
    ...Object.entries(scenarios).map(([key, r]) => ({ key, detail: describeRoles(r) })),
    { key: CUSTOM, detail: "pick main, fast and opus yourself" },
  ];
  // Esc on the first menu = launch exactly as last time, no more questions — while its routes exist.
  const again = rememberedRoles(last, src.routes);
  // Esc is named as what it launches: the last scenario, or the last launch's routes when it had none.
  const lastLabel = again && (last.scenario || describeRoles(again));
  const picked = await pick({ title: "Scenario", choices, last: lastLabel, path });
  if (!picked) throw new CliError("no scenario chosen", 130);
  if (picked.reused && again) return { roles: again, ...(last.scenario ? { scenario: last.scenario } : {}), autoUpgrade: last.auto_upgrade === "On" ? "On" : "Off" };
  const roles = scenarios[picked.key] ?? (await customRoles(src.routes, last, path));
  return withAutoUpgrade(roles, picked.key, src.routes, last, path);
}

async function customRoles(routes: readonly string[], last: Last, path: string | undefined): Promise<Roles> {
  const roles: Record<string, string> = {};
  for (const role of ROLE_NAMES) {
    const kept = last[role];
    const picked = await pick({ title: `${role} route`, choices: routes.map((key) => ({ key })), last: kept && routes.includes(kept) ? kept : undefined, path });
    if (!picked) throw new CliError(`no ${role} route chosen`, 130);
    roles[role] = picked.key;
  }
  return { main: roles.main!, fast: roles.fast!, opus: roles.opus! };
}

/** "Auto Upgrade On" swaps main for its `.auto` twin, which the LB upgrades under load. */
async function withAutoUpgrade(roles: Roles, scenario: string, routes: readonly string[], last: Last, path: string | undefined): Promise<Choice> {
  const auto = autoRouteFor(roles.main, routes);
  if (!auto) return { roles, scenario };
  const picked = await pick({
    title: "Auto Upgrade",
    choices: [
      { key: "On", detail: `main = ${auto}: the gateway upgrades long or failing sessions` },
      { key: "Off", detail: `main = ${roles.main}` },
    ],
    last: last.auto_upgrade === "On" ? "On" : "Off",
    path,
  });
  const on = picked?.key === "On";
  return { roles: on ? { ...roles, main: auto } : roles, scenario, autoUpgrade: on ? "On" : "Off" };
}

/** The main route as offered (its window from catalog/routes.ts); a name the config lacks gets the default window. */
function offered(routes: readonly OfferedRoute[], name: string): OfferedRoute {
  return routes.find((r) => r.name === name) ?? { name, native: true, window: DEFAULT_CONTEXT_WINDOW, models: [] };
}

/** `opus4.6 (200k context) · fast g3f (scenario Performance) · opus opus4.6 (main) · http://…` */
function launchLine(c: Choice, window: number, baseUrl: string): string {
  const from = (role: "fast" | "opus") => (c.from ? ` (${c.from[role]})` : "");
  const scenario = c.scenario && c.scenario !== CUSTOM ? ` · scenario ${c.scenario}` : "";
  return `${c.roles.main} (${formatTokens(window)} context) · fast ${c.roles.fast}${from("fast")} · opus ${c.roles.opus}${from("opus")}${scenario} · ${baseUrl}`;
}
