// Which routes play which role (pure). A role set is what cld turns into Claude Code's
// model variables: main → ANTHROPIC_MODEL, fast → haiku + subagents, opus → opus.
import { DEFAULT_SCENARIOS } from "../config/extras.ts";
import type { Scenario } from "../config/types.ts";

export type Roles = Scenario;
export const ROLE_NAMES = ["main", "fast", "opus"] as const;

/** The menu entry that asks for each role instead of using a preset. */
export const CUSTOM = "Custom";
/** The preset that lets the gateway's `auto` router choose (shown only when the config routes it). */
export const AUTO = "Auto";

/** Used when no providers.toml is found or it has errors: the old launcher's list. */
export const BUILTIN_ROUTES: readonly string[] = ["opus4.6", "g3p", "g3f", "g3p.auto", "g3f.auto"];
export { DEFAULT_SCENARIOS };

/** First route whose name contains the filter, ignoring case (route order = file order). */
export function matchRoute(routes: readonly string[], filter: string): string | undefined {
  const f = filter.toLowerCase();
  return routes.find((r) => r === filter) ?? routes.find((r) => r.toLowerCase().includes(f));
}

/** FILTER fast start: the match is main; the other roles are remembered, or the match too. */
export function rolesForMatch(match: string, last: Partial<Roles>): Roles {
  return { main: match, fast: last.fast || match, opus: last.opus || match };
}

/** The upgrade-capable twin of a main route (`g3f` → `g3f.auto`) when the route list has one. */
export function autoRouteFor(main: string, routes: readonly string[]): string | undefined {
  if (main.endsWith(".auto")) return undefined;
  const auto = `${main}.auto`;
  return routes.includes(auto) ? auto : undefined;
}

/**
 * The scenarios plus Auto — main and fast = the router's model, opus = the first scenario's (an
 * explicit "opus" stays a real route) — when the gateway routes `auto`; a user's own "Auto" wins.
 */
export function withAuto(scenarios: Readonly<Record<string, Roles>>, auto: string | undefined): Readonly<Record<string, Roles>> {
  if (auto === undefined || AUTO in scenarios) return scenarios;
  const opus = Object.values(scenarios)[0]?.opus ?? auto;
  return { ...scenarios, [AUTO]: { main: auto, fast: auto, opus } };
}

export function describeRoles(r: Roles): string {
  return `main=${r.main}  fast=${r.fast}  opus=${r.opus}`;
}

/** Complete roles from memory, or undefined when any is missing. */
export function rememberedRoles(last: Partial<Roles>): Roles | undefined {
  return last.main && last.fast && last.opus ? { main: last.main, fast: last.fast, opus: last.opus } : undefined;
}
