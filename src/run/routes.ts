// Which routes an agent is offered, in which order, and what it is told about each (pure).
// Every route can reach every agent: CLIProxyAPI translates between the dialects. A route whose
// targets all serve a family the agent speaks natively comes first; the rest follow, marked, in
// file order. A route's family is its targets' (familyOfTarget: the upstream model, else the
// provider type), so a Codex user sees the GPT routes first and a Gemini CLI user the Gemini ones.
import type { Config } from "../config/types.ts";
import { familyOfTarget, type ModelFamily } from "../catalog/families.ts";
import { DEFAULT_CONTEXT_WINDOW, formatTokens } from "../catalog/tokens.ts";
import { matchRoute } from "../cld/scenarios.ts";

export interface OfferedRoute {
  readonly name: string;
  /** Every target serves a family the agent speaks natively. */
  readonly native: boolean;
  /** Context window in tokens (windowsOf). */
  readonly window: number;
  /** The upstream models of its targets, in order, without repeats. */
  readonly models: readonly string[];
}


/** The routes to offer, native ones first (each group in file order), with their windows (windowsOf). */
export function offeredRoutes(config: Config | null, names: readonly string[], wanted: readonly ModelFamily[] | "any", windows: ReadonlyMap<string, number>): OfferedRoute[] {
  const all = names.map((name) => describe(config, name, wanted, windows.get(name) ?? DEFAULT_CONTEXT_WINDOW));
  return [...all.filter((r) => r.native), ...all.filter((r) => !r.native)];
}

/**
 * The routes' context windows: as the running gw lists them (/v1/models, computed there from the
 * config and the catalogue), else computed here — catalog/routes.ts, loaded only then, since the
 * catalogue costs a few hundred ms — else the safe default.
 */
export async function windowsOf(names: readonly string[], config: Config | null, listed: ReadonlyMap<string, number> | undefined): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const missing = names.filter((n) => {
    const w = listed?.get(n);
    if (w !== undefined) out.set(n, w);
    return w === undefined;
  });
  if (missing.length > 0) {
    const { modelWindow } = config ? await import("../catalog/routes.ts") : { modelWindow: () => undefined };
    for (const n of missing) out.set(n, (config && modelWindow(config, n)) || DEFAULT_CONTEXT_WINDOW);
  }
  return out;
}

/**
 * cld's FILTER rule (matchRoute) over the routes in offered order: native ones win a shared filter.
 * `exactly`: only a route of that very name (a word that is also the agent's own command).
 */
export function matchOffered(routes: readonly OfferedRoute[], filter: string, exactly = false): OfferedRoute | undefined {
  const name = exactly ? filter : matchRoute(routes.map((r) => r.name), filter);
  return routes.find((r) => r.name === name);
}

export { formatTokens };

/** The menu line beside a route's name. */
export function routeDetail(r: OfferedRoute): string {
  const models = r.models.length ? r.models.join(", ") : "—";
  return `${models} · ${formatTokens(r.window)}${r.native ? "" : " · translated by CLIProxyAPI"}`;
}

// --- internal ---

function describe(config: Config | null, name: string, wanted: readonly ModelFamily[] | "any", window: number): OfferedRoute {
  const targets = config?.routes.get(name)?.targets ?? [];
  const native = wanted === "any" || (targets.length > 0 && targets.every((t) => wanted.includes(familyOfTarget(t) as ModelFamily)));
  return { name, native, window, models: [...new Set(targets.map((t) => t.model))] };
}
