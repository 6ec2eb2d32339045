// Where cp mode's routes, scenarios and gateway address come from: providers.toml when one is
// found and loads, else the old launcher's built-ins. Never throws: a broken config costs the
// user one warning line, not their session.
import { findConfigFile, loadConfig } from "../config/index.ts";
import type { Config, Scenario } from "../config/types.ts";
import { routedModels } from "../config/router.ts";
import type { Gateway } from "./env.ts";
import type { Env } from "./memory.ts";
import { BUILTIN_ROUTES, DEFAULT_SCENARIOS } from "./scenarios.ts";

export interface CldSource {
  readonly file: string | null;
  /** The loaded config (route targets: windows and prices); null for the built-in routes. */
  readonly config: Config | null;
  /** Route names, and the router's model (`auto`) when the config routes it. */
  readonly routes: readonly string[];
  /** The model the gateway's `auto` router takes (enabled, not in shadow mode), for the Auto scenario. */
  readonly auto?: string;
  readonly scenarios: Readonly<Record<string, Scenario>>;
  readonly gateway: Gateway;
  readonly warning?: string;
}

/** The old launcher's key; the gateway accepts anything when [global] api_keys is empty. */
export const PLACEHOLDER_KEY = "dummy-key";
const DEFAULT_PORT = 8145;
const WILDCARDS = new Set(["", "0.0.0.0", "::", "[::]"]);

/** Where a client on this machine reaches the LB (pure). */
export function gatewayOf(config: Config | null): Gateway {
  if (!config) return { baseUrl: `http://127.0.0.1:${DEFAULT_PORT}`, apiKey: PLACEHOLDER_KEY };
  const host = config.global.bindHost;
  const reachable = WILDCARDS.has(host) ? "127.0.0.1" : host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return { baseUrl: `http://${reachable}:${config.global.mainPort}`, apiKey: config.global.apiKeys[0] || PLACEHOLDER_KEY };
}

/**
 * The router's first activation model when the router rewrites (in shadow mode it decides but
 * sends `auto` on unchanged, which no instance serves).
 */
export function routerModel(config: Config | null): string | undefined {
  return routedModels(config?.global.lb.router)[0];
}

export function sourceOf(file: string | null, config: Config | null, warning?: string): CldSource {
  const auto = routerModel(config);
  const routes = config && config.routes.size > 0 ? [...config.routes.keys()] : BUILTIN_ROUTES;
  return {
    file,
    config,
    routes: auto === undefined || routes.includes(auto) ? routes : [...routes, auto],
    ...(auto === undefined ? {} : { auto }),
    scenarios: config?.cld.scenarios ?? DEFAULT_SCENARIOS,
    gateway: gatewayOf(config),
    warning,
  };
}

/** CLD_TOML (the old launcher's variable) first, then gw's usual -c, ./providers.toml, $GW_CONFIG. */
export async function loadCldSource(explicit: string | undefined, env: Env): Promise<CldSource> {
  let file: string | null = null;
  try {
    file = env.CLD_TOML || findConfigFile(explicit, env);
    if (!file) return sourceOf(null, null);
    const { config, problems } = await loadConfig(file, { env });
    if (config) return sourceOf(file, config);
    const errors = problems.filter((p) => p.severity === "error");
    const more = errors.length > 1 ? ` (+${errors.length - 1} more: gw check)` : "";
    return sourceOf(file, null, `${file}: ${errors[0]?.message}${more}; using the built-in routes and ${gatewayOf(null).baseUrl}`);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return sourceOf(file, null, `cannot read ${file ?? "providers.toml"} (${why}); using the built-in routes`);
  }
}
