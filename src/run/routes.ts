// Which routes an agent is offered, in which order, and what it is told about each (pure).
// Every route can reach every agent: CLIProxyAPI translates between the dialects. A route whose
// targets all serve a family the agent speaks natively comes first; the rest follow, marked, in
// file order. A route's family is its targets' (familyOfTarget: the upstream model, else the
// provider type), so a Codex user sees the GPT routes first and a Gemini CLI user the Gemini ones.
import type { Config, Route } from "../config/types.ts";
import { familyOfTarget, type ModelFamily } from "../lb/session.ts";
import { lookupModel } from "../catalog/models.ts";

export interface OfferedRoute {
  readonly name: string;
  /** Families its targets serve (empty when unknown: built-in routes, the `auto` router). */
  readonly families: readonly ModelFamily[];
  /** Every target serves a family the agent speaks natively. */
  readonly native: boolean;
  /** Context window in tokens: the smallest of its targets' (failover may land on any). */
  readonly window: number;
  /** The upstream models of its targets, in order, without repeats. */
  readonly models: readonly string[];
}

/** The window assumed when no target's is known: safe for nearly every model served today. */
export const DEFAULT_WINDOW = 200_000;

/** The routes to offer, native ones first (each group in file order). */
export function offeredRoutes(config: Config | null, names: readonly string[], wanted: readonly ModelFamily[] | "any"): OfferedRoute[] {
  const all = names.map((name) => describe(name, config?.routes.get(name), wanted));
  return [...all.filter((r) => r.native), ...all.filter((r) => !r.native)];
}

/** First route whose name is the filter, else contains it (ignoring case), in offered order. */
export function matchOffered(routes: readonly OfferedRoute[], filter: string): OfferedRoute | undefined {
  const f = filter.toLowerCase();
  return routes.find((r) => r.name === filter) ?? routes.find((r) => r.name.toLowerCase().includes(f));
}

/** The menu line beside a route's name. */
export function routeDetail(r: OfferedRoute): string {
  const models = r.models.length ? r.models.join(", ") : "—";
  return `${models} · ${formatTokens(r.window)}${r.native ? "" : " · translated by CLIProxyAPI"}`;
}

/** 200000 → "200k", 1048576 → "1M". */
export function formatTokens(n: number): string {
  if (n >= 1_000_000) return `${Math.round(n / 100_000) / 10}M`;
  return n >= 1000 ? `${Math.round(n / 1000)}k` : String(n);
}

// --- internal ---

function describe(name: string, route: Route | undefined, wanted: readonly ModelFamily[] | "any"): OfferedRoute {
  const targets = route?.targets ?? [];
  const families = [...new Set(targets.map(familyOfTarget).filter((f): f is ModelFamily => f !== undefined))];
  const native = wanted === "any" || (targets.length > 0 && targets.every((t) => wanted.includes(familyOfTarget(t) as ModelFamily)));
  return { name, families, native, window: windowOf(targets.map((t) => t.model)), models: [...new Set(targets.map((t) => t.model))] };
}

function windowOf(models: readonly string[]): number {
  let smallest: number | undefined;
  for (const m of models) {
    const w = lookupModel(m)?.contextWindow ?? DEFAULT_WINDOW;
    smallest = smallest === undefined ? w : Math.min(smallest, w);
  }
  return smallest ?? DEFAULT_WINDOW;
}
