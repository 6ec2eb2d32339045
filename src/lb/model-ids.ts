// The model ids a client may send for a route: its own name, and `claude-gw-<route>` for clients
// that keep only Claude-looking ids — Claude Code's /model picker drops every gateway model whose
// id does not contain "claude" (before 2.1.2xx: does not start with it). One index serves both
// routing and /v1/models, so what the picker offers is exactly what the LB routes.

import type { Route } from "../config/types.ts";

export const CLAUDE_ALIAS_PREFIX = "claude-gw-";
const CLAUDE_LIKE = /^(claude|anthropic)/i;

export interface RouteIds {
  /** Every id that names a route: route names first, then the aliases no route name took. */
  readonly byId: ReadonlyMap<string, Route>;
  /** Route name → the id Claude Code keeps for it (the name itself when it already qualifies). */
  readonly claudeIds: ReadonlyMap<string, string>;
}

/** Pure; built once per config (lb/runtime.ts). */
export function buildRouteIds(routes: ReadonlyMap<string, Route>): RouteIds {
  const byId = new Map(routes);
  const claudeIds = new Map<string, string>();
  for (const [name, route] of routes) {
    if (CLAUDE_LIKE.test(name)) {
      claudeIds.set(name, name);
      continue;
    }
    const alias = CLAUDE_ALIAS_PREFIX + name;
    if (byId.has(alias)) continue; // a route is really called that: its name wins, no alias
    byId.set(alias, route);
    claudeIds.set(name, alias);
  }
  return { byId, claudeIds };
}
