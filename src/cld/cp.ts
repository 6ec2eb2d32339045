// cp mode: choose the routes for main / fast / opus (FILTER, or scenario menu + auto-upgrade
// switch), remember them, make sure the gateway answers, prepare Claude Code's config dir, build
// claude's environment and say in one line what was launched.
import { join } from "node:path";
import { DEFAULT_CONTEXT_WINDOW, formatTokens } from "../catalog/tokens.ts";
import { CliError } from "../cli/errors.ts";
import type { CldArgs } from "./args.ts";
import { prepareHome } from "./claude/home.ts";
import { cpEnv } from "./env.ts";
import { type Env, readLast, writeLast } from "./memory.ts";
import { configDirFor, type Plan } from "./modes.ts";
import { pick } from "./picker.ts";
import { askGateway, type GatewayAnswer, gatewayAnswers } from "./probe.ts";
import { autoRouteFor, CUSTOM, describeRoles, matchRoute, ROLE_NAMES, rememberedRoles, type Roles, rolesForMatch, usableScenarios, withAuto } from "./scenarios.ts";
import { type CldSource, loadCldSource } from "./source.ts";
import { say } from "./say.ts";
import { confirm } from "./tty.ts";

const MEMORY = ["main", "fast", "opus", "scenario", "auto_upgrade"] as const;
type Last = Partial<Record<(typeof MEMORY)[number], string>>;

interface Choice {
  readonly roles: Roles;
  readonly scenario?: string;
  readonly autoUpgrade?: "On" | "Off";
  /** FILTER launches: where fast and opus came from. */
  readonly from?: { readonly fast: string; readonly opus: string };
}

/** null = the user declined to start without a gateway. `again`: launch as last time when memory allows. */
export async function planCp(args: CldArgs, env: Env, cache: string, again = false): Promise<Plan | null> {
  const src = await loadCldSource(args.config, env, { ask: true, cacheDir: cache });
  say(src.line); // which config, before anything is sent anywhere
  // Probe while the user picks; a "down" is checked once more, because the numbered picker's
  // blocking terminal reads stall the event loop and can let the early probe time out.
  const asked = askGateway(src.gateway.baseUrl, src.gateway.apiKey);
  const dir = join(cache, "cp");
  const last: Last = readLast(dir, MEMORY);
  const remembered = again && !args.filter ? rememberedRoles(last) : undefined;
  const choice = remembered ? { roles: remembered, scenario: last.scenario } : ((args.filter ? await byFilter(src, args.filter, last) : undefined) ?? (await byMenu(src, last, env.PATH)));
  writeLast(dir, { ...choice.roles, scenario: choice.scenario, auto_upgrade: choice.autoUpgrade });
  const answer = await asked;
  const reachable = answer.up || (await gatewayAnswers(src.gateway.baseUrl));
  if (!reachable && !(await startAnyway(src, args.config))) return null;
  const configDir = configDirFor(cache, "cp");
  // The key older cld versions sent as ANTHROPIC_API_KEY may have been refused at Claude Code's prompt.
  await prepareHome(configDir, env, { unrejectKeys: [src.gateway.apiKey] });
  const window = await mainWindow(src, answer, choice.roles.main);
  say(launchLine(choice, window, src.gateway.baseUrl));
  const launch = { baseUrl: src.gateway.baseUrl, key: src.gateway.apiKey, roles: choice.roles, contextWindow: window, configDir };
  return { env: cpEnv(env, launch), title: `cld cp ${choice.roles.main}` };
}

/** The FILTER's route as main; undefined (the menus follow, as the old launcher did) when none matches. */
async function byFilter(src: CldSource, filter: string, last: Last): Promise<Choice | undefined> {
  const match = matchRoute(src.routes, filter);
  if (!match) {
    say(`no route matches "${filter}" (routes: ${src.routes.join(", ")}); choose from the menus`);
    return undefined;
  }
  const scenarios = menuScenarios(src);
  // The catalogue's prices are needed only when no scenario can give the fast role.
  const cheapest = src.config && Object.keys(scenarios).length === 0 ? await cheapestIn(src.config) : undefined;
  return rolesForMatch(match, last, { routes: src.routes, scenarios, cheapest });
}

async function cheapestIn(config: NonNullable<CldSource["config"]>): Promise<string | undefined> {
  const { cheapestRoute } = await import("../catalog/routes.ts");
  return cheapestRoute(config.routes.values(), config.pricing);
}

/** The scenarios cld can launch (all their routes exist), plus Auto when the gateway routes `auto`. */
function menuScenarios(src: CldSource) {
  return withAuto(usableScenarios(src.scenarios, src.routes), src.auto);
}

async function byMenu(src: CldSource, last: Last, path: string | undefined): Promise<Choice> {
  const scenarios = menuScenarios(src);
  const choices = [
    ...Object.entries(scenarios).map(([key, r]) => ({ key, detail: describeRoles(r) })),
    { key: CUSTOM, detail: "pick main, fast and opus yourself" },
  ];
  const picked = await pick({ title: "Scenario", choices, last: last.scenario, path });
  if (!picked) throw new CliError("no scenario chosen", 130);
  // Esc on the first menu = launch exactly as last time, no more questions.
  const again = picked.reused ? rememberedRoles(last) : undefined;
  if (again) return { roles: again, scenario: picked.key, autoUpgrade: last.auto_upgrade === "On" ? "On" : "Off" };
  const roles = scenarios[picked.key] ?? (await customRoles(src.routes, last, path));
  return withAutoUpgrade(roles, picked.key, src.routes, last, path);
}

async function customRoles(routes: readonly string[], last: Last, path: string | undefined): Promise<Roles> {
  const roles: Record<string, string> = {};
  for (const role of ROLE_NAMES) {
    const picked = await pick({ title: `${role} route`, choices: routes.map((key) => ({ key })), last: last[role], path });
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

/**
 * The window Claude Code is told: the main route's as the running gw lists it, else computed from
 * the config (catalog/routes.ts, loaded only then: the catalogue costs a few hundred ms), else the
 * safe default.
 */
async function mainWindow(src: CldSource, gw: GatewayAnswer, main: string): Promise<number> {
  const listed = gw.windows?.get(main);
  if (listed !== undefined) return listed;
  const { modelWindow } = await import("../catalog/routes.ts");
  return (src.config && modelWindow(src.config, main)?.tokens) || DEFAULT_CONTEXT_WINDOW;
}

/** `opus4.6 (200k context) · fast g3f (scenario Performance) · opus opus4.6 (main) · http://…` */
export function launchLine(c: Choice, window: number, baseUrl: string): string {
  const from = (role: "fast" | "opus") => (c.from ? ` (${c.from[role]})` : "");
  const scenario = c.scenario && c.scenario !== CUSTOM ? ` · scenario ${c.scenario}` : "";
  return `${c.roles.main} (${formatTokens(window)} context) · fast ${c.roles.fast}${from("fast")} · opus ${c.roles.opus}${from("opus")}${scenario} · ${baseUrl}`;
}

/** The gateway did not answer: say how to start it (with the config cld read), and let the user decide. */
function startAnyway(src: CldSource, given: string | undefined): boolean {
  const file = given ?? src.file;
  say(`the gateway at ${src.gateway.baseUrl} is not answering; start it with: gw up -d${file ? ` -c ${shellWord(file)}` : ""}`);
  const answer = confirm("Start Claude Code anyway?", false);
  if (answer === null) say("no terminal to ask, so not starting claude");
  return answer === true;
}

const shellWord = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);
