// Which routes play which role (pure). A role set is what cld turns into Claude Code's
// model variables: main → ANTHROPIC_MODEL, fast → haiku + subagents, opus → opus.
import { DEFAULT_SCENARIOS } from "../config/default-scenarios.ts";
import type { Scenario } from "../config/types.ts";

export type Roles = Scenario;
export const ROLE_NAMES = ["main", "fast", "opus"] as const;

/** The menu entry that asks for each role instead of using a preset. */
export const CUSTOM = "Custom";
/** The preset that lets the gateway's `auto` router choose (shown only when the config routes it). */
const AUTO = "Auto";

/** Used when no providers.toml is found or it has errors: the old launcher's list. */
export const BUILTIN_ROUTES: readonly string[] = ["opus4.6", "g3p", "g3f", "g3p.auto", "g3f.auto"];
export { DEFAULT_SCENARIOS };

/** First route whose name contains the filter, ignoring case (route order = file order). */
export function matchRoute(routes: readonly string[], filter: string): string | undefined {
  const f = filter.toLowerCase();
  return routes.find((r) => r === filter) ?? routes.find((r) => r.toLowerCase().includes(f));
}

/** Scenarios naming routes that do not exist (the routes, per scenario): cld cannot launch them. */
export function scenariosLeftOut(scenarios: Readonly<Record<string, Scenario>>, routes: readonly string[]): { name: string; missing: string[] }[] {
  return Object.entries(scenarios).flatMap(([name, s]) => {
    const missing = [...new Set([s.main, s.fast, s.opus])].filter((r) => !routes.includes(r));
    return missing.length ? [{ name, missing }] : [];
  });
}

/** Scenarios whose three routes all exist, in menu order. */
export function usableScenarios(scenarios: Readonly<Record<string, Scenario>>, routes: readonly string[]): Record<string, Scenario> {
  const skip = new Set(scenariosLeftOut(scenarios, routes).map((s) => s.name));
  return Object.fromEntries(Object.entries(scenarios).filter(([name]) => !skip.has(name)));
}

/** Roles for a FILTER launch, and where fast and opus came from (said in the launch line). */
interface MatchedRoles {
  readonly roles: Roles;
  readonly from: { readonly fast: string; readonly opus: string };
}

interface RoleDefaults {
  readonly routes: readonly string[];
  /** Usable scenarios, in menu order. */
  readonly scenarios: Readonly<Record<string, Scenario>>;
  /**
   * The cheapest route by price, when any price is known: asked only when neither memory nor a
   * scenario names fast, since pricing the routes evaluates the price catalogue (~20 ms).
   */
  readonly cheapest?: () => string | undefined;
}

/**
 * FILTER fast start: the match is main. fast and opus are the remembered ones (while their routes
 * exist); else those of the scenario whose main is the match, else of the first scenario; with no
 * scenario, fast is the cheapest route and opus the match. Background work never lands on an
 * expensive main route just because the user named only that.
 */
export function rolesForMatch(match: string, last: Partial<Roles>, d: RoleDefaults): MatchedRoles {
  const entries = Object.entries(d.scenarios);
  const [name, s] = entries.find(([, x]) => x.main === match) ?? entries[0] ?? [];
  const role = (k: "fast" | "opus", fallback: () => [string, string]): [string, string] => {
    const kept = last[k];
    if (kept && d.routes.includes(kept)) return [kept, "remembered"];
    return s ? [s[k], `scenario ${name}`] : fallback();
  };
  const [fast, fastFrom] = role("fast", () => {
    const cheapest = d.cheapest?.();
    return cheapest ? [cheapest, "cheapest route"] : [match, "main"];
  });
  const [opus, opusFrom] = role("opus", () => [match, "main"]);
  return { roles: { main: match, fast, opus }, from: { fast: fastFrom, opus: opusFrom } };
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

/**
 * Complete roles from memory, or undefined when any is missing or is no route of this config:
 * the memory may come from another config (the demo's, a colleague's), and a launch on a route the
 * gateway lacks answers every prompt with an error.
 */
export function rememberedRoles(last: Partial<Roles>, routes: readonly string[]): Roles | undefined {
  const { main, fast, opus } = last;
  if (!main || !fast || !opus) return undefined;
  return [main, fast, opus].every((r) => routes.includes(r)) ? { main, fast, opus } : undefined;
}
