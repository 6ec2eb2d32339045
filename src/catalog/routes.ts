// What gw knows about a route from its targets and the catalogue (pure):
// - its context window, what a client may put in one request before the upstream refuses it: cld
//   hands it to Claude Code (so auto-compact fires in time) and /v1/models lists it; and, when a
//   target refused a prompt as too long, which of the others would too;
// - its price, for cld's choice of a cheap route for background work.

import type { Config, Price, Route, Target } from "../config/types.ts";
import { lookupModel } from "./models.ts";
import { DEFAULT_CONTEXT_WINDOW } from "./tokens.ts";

export { DEFAULT_CONTEXT_WINDOW, formatTokens } from "./tokens.ts";

/**
 * Anthropic serves its long windows only to requests carrying the `context-1m-…` beta; without
 * it every Claude model stops at 200k, whatever the catalogue lists as its largest window.
 */
const ANTHROPIC_STANDARD_WINDOW = 200_000;
const LONG_CONTEXT_BETA = /^context-1m-/;

/** The window of one target in tokens, when the config (context_window) or the catalogue knows it. */
function targetWindow(t: Target): number | undefined {
  if (t.contextWindow !== undefined) return t.contextWindow;
  const m = lookupModel(t.model);
  if (m?.contextWindow === undefined) return undefined;
  const long = t.params.anthropicBeta.some((b) => LONG_CONTEXT_BETA.test(b));
  return m.provider === "anthropic" && !long ? Math.min(m.contextWindow, ANTHROPIC_STANDARD_WINDOW) : m.contextWindow;
}

/**
 * The smallest window among the route's targets, since failover may land a request on any of
 * them; a target whose window nobody knows counts as the default (too small only compacts early,
 * too large gets requests refused).
 */
function routeWindow(route: Pick<Route, "targets">): number {
  let best: number | undefined;
  for (const t of route.targets) {
    const w = targetWindow(t) ?? DEFAULT_CONTEXT_WINDOW;
    if (best === undefined || w < best) best = w;
  }
  return best ?? DEFAULT_CONTEXT_WINDOW;
}

/**
 * The route's targets a prompt `refused` found too long would be refused by too (a target whose
 * window nobody knows counts as the default). Where the refusal said how many tokens it was asked
 * for, those believed smaller than that, and `refused`'s twins (its model and believed window:
 * the same real window) — so a target believed larger than it is rules out no other that may
 * fit. Otherwise every target believed no larger than `refused`.
 */
export function targetsTooSmall(route: Pick<Route, "targets">, refused: Target, promptTokens?: number): Set<string> {
  const believed = targetWindow(refused) ?? DEFAULT_CONTEXT_WINDOW;
  const out = new Set<string>([refused.id]);
  for (const t of route.targets) {
    const w = targetWindow(t) ?? DEFAULT_CONTEXT_WINDOW;
    const twin = t.model === refused.model && w === believed;
    if (promptTokens === undefined ? w <= believed : w < promptTokens || twin) out.add(t.id);
  }
  return out;
}

/**
 * USD per million input plus output tokens of the route's dearest target (failover may use any):
 * `[pricing]` for the route, else for the target's model, else the catalogue. Undefined when a
 * target has no known price.
 */
function routePrice(route: Route, pricing: Readonly<Record<string, Price>>): number | undefined {
  let worst: number | undefined;
  for (const t of route.targets) {
    const p = pricing[route.name] ?? pricing[t.model] ?? lookupModel(t.model)?.price;
    if (p?.input === undefined || p.output === undefined) return undefined;
    worst = Math.max(worst ?? 0, p.input + p.output);
  }
  return worst;
}

/** The route with the lowest known price (file order breaks ties), if any has one. */
export function cheapestRoute(routes: Iterable<Route>, pricing: Readonly<Record<string, Price>>): string | undefined {
  let best: { name: string; price: number } | undefined;
  for (const r of routes) {
    const price = routePrice(r, pricing);
    if (price !== undefined && (!best || price < best.price)) best = { name: r.name, price };
  }
  return best?.name;
}

/**
 * The window behind a model name a client may send: a route's, or — for a model the `auto` router
 * serves — the smallest among the routes it may pick. Undefined for a name gw does not route.
 */
export function modelWindow(config: Pick<Config, "routes" | "global">, name: string): number | undefined {
  const route = config.routes.get(name);
  if (route) return routeWindow(route);
  const router = config.global.lb.router;
  if (!router?.activationModels.has(name)) return undefined;
  const picks = [...router.categories.map((c) => c.target), ...router.rules.map((r) => r.target), ...(router.defaultModel ? [router.defaultModel] : [])];
  const targets = [...new Set(picks)].flatMap((t) => config.routes.get(t)?.targets ?? []);
  return targets.length ? routeWindow({ targets }) : DEFAULT_CONTEXT_WINDOW;
}
