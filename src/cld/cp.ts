// cp mode: choose the routes for main / fast / opus (FILTER, or scenario menu + auto-upgrade
// switch), remember them, make sure the gateway answers, build claude's environment.
import { join } from "node:path";
import { CliError } from "../cli/errors.ts";
import type { CldArgs } from "./args.ts";
import { cpEnv } from "./env.ts";
import { type Env, readLast, writeLast } from "./memory.ts";
import { configDirFor, type Plan } from "./modes.ts";
import { pick } from "./picker.ts";
import { gatewayAnswers } from "./probe.ts";
import { autoRouteFor, CUSTOM, describeRoles, matchRoute, ROLE_NAMES, rememberedRoles, type Roles, rolesForMatch, withAuto } from "./scenarios.ts";
import { type CldSource, loadCldSource } from "./source.ts";
import { say } from "./say.ts";
import { confirm } from "./tty.ts";

const MEMORY = ["main", "fast", "opus", "scenario", "auto_upgrade"] as const;
type Last = Partial<Record<(typeof MEMORY)[number], string>>;

interface Choice {
  readonly roles: Roles;
  readonly scenario?: string;
  readonly autoUpgrade?: "On" | "Off";
}

/** null = the user declined to start without a gateway. */
export async function planCp(args: CldArgs, env: Env, cache: string): Promise<Plan | null> {
  const src = await loadCldSource(args.config, env);
  if (src.warning) say(src.warning);
  // Probe while the user picks; a "down" is checked once more, because the numbered picker's
  // blocking terminal reads stall the event loop and can let the early probe time out.
  const up = gatewayAnswers(src.gateway.baseUrl);
  const dir = join(cache, "cp");
  const last: Last = readLast(dir, MEMORY);
  const choice = (args.filter ? byFilter(src, args.filter, last) : undefined) ?? (await byMenu(src, last, env.PATH));
  writeLast(dir, { ...choice.roles, scenario: choice.scenario, auto_upgrade: choice.autoUpgrade });
  const reachable = (await up) || (await gatewayAnswers(src.gateway.baseUrl));
  if (!reachable && !(await startAnyway(src.gateway.baseUrl))) return null;
  return { env: cpEnv(env, src.gateway, choice.roles, configDirFor(cache, "cp")), title: `cld cp ${choice.roles.main}` };
}

/** The FILTER's route as main; undefined (the menus follow, as the old launcher did) when none matches. */
function byFilter(src: CldSource, filter: string, last: Last): Choice | undefined {
  const match = matchRoute(src.routes, filter);
  if (match) return { roles: rolesForMatch(match, last) };
  say(`no route matches "${filter}" (routes: ${src.routes.join(", ")}); choose from the menus`);
  return undefined;
}

async function byMenu(src: CldSource, last: Last, path: string | undefined): Promise<Choice> {
  const scenarios = withAuto(src.scenarios, src.auto);
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

/** The gateway did not answer: say how to start it, and let the user decide. */
function startAnyway(baseUrl: string): boolean {
  say(`the gateway at ${baseUrl} is not answering; start it with: gw up -d`);
  const answer = confirm("Start Claude Code anyway?", false);
  if (answer === null) say("no terminal to ask, so not starting claude");
  return answer === true;
}
