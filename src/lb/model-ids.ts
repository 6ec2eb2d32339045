// The model ids a client may send: a route's name (or a model the `auto` router serves), and
// `claude-gw-<name>` for clients that keep only Claude-looking ids — Claude Code's /model picker
// drops every gateway model whose id does not contain "claude" (before 2.1.2xx: does not start
// with it). One table serves both routing and /v1/models, so what the picker offers is exactly
// what the LB routes.

import { routedModels } from "../config/routed-models.ts";
import type { Config } from "../config/types.ts";

export const CLAUDE_ALIAS_PREFIX = "claude-gw-";
const CLAUDE_LIKE = /^(claude|anthropic)/i;

interface ModelIds {
  /** Model names in listing order: routes, then the router's models. */
  readonly names: readonly string[];
  /** Alias → the name it stands for. */
  readonly aliases: ReadonlyMap<string, string>;
  /** Name → the id Claude Code keeps for it (the name itself when it already qualifies). */
  readonly claudeIds: ReadonlyMap<string, string>;
}

/** Pure; built once per config (lb/runtime.ts). A name that is itself `claude-gw-X` wins over X's alias. */
function buildModelIds(names: readonly string[]): ModelIds {
  const taken = new Set(names);
  const aliases = new Map<string, string>();
  const claudeIds = new Map<string, string>();
  for (const name of names) {
    if (CLAUDE_LIKE.test(name)) {
      claudeIds.set(name, name);
      continue;
    }
    const alias = CLAUDE_ALIAS_PREFIX + name;
    if (taken.has(alias)) continue;
    aliases.set(alias, name);
    claudeIds.set(name, alias);
  }
  return { names, aliases, claudeIds };
}

const byConfig = new WeakMap<Config, ModelIds>();

/** The names a config serves — its routes, then the router's models when it rewrites — built once per config. */
export function modelIdsOf(config: Config): ModelIds {
  let ids = byConfig.get(config);
  if (!ids) byConfig.set(config, (ids = buildModelIds([...new Set([...config.routes.keys(), ...routedModels(config.global.lb.router)])])));
  return ids;
}

/** The model a client meant: the name behind an alias, else the id as sent. */
export function modelMeant(ids: ModelIds, id: string | undefined): string | undefined {
  return id === undefined ? undefined : (ids.aliases.get(id) ?? id);
}
