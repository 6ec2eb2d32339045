// [cld] scenarios and [pricing]: tables only the launcher and `gw usage` read.
import { DEFAULT_SCENARIOS } from "./default-scenarios.ts";
import { controlCharProblem } from "./names.ts";
import { isTable, keyedByName, type Raw, type Reader } from "./reader.ts";
import type { CldConfig, Price, Scenario } from "./types.ts";


export const CLD_KEYS = ["scenarios"];
export const SCENARIO_KEYS = ["main", "fast", "opus"];
export const PRICE_KEYS = ["input", "output", "cache_read", "cache_write"];

export function readCld(r: Reader, raw: Raw | undefined, routes: ReadonlySet<string>): CldConfig {
  if (!raw) return { scenarios: DEFAULT_SCENARIOS };
  const f = r.fields(["cld"], raw, CLD_KEYS);
  const table = r.table(f.get("scenarios"));
  if (!table) return { scenarios: DEFAULT_SCENARIOS };
  const scenarios = keyedByName<Scenario>();
  for (const [name, value] of Object.entries(table)) {
    const path = ["cld", f.get("scenarios")!.raw, name];
    const bad = controlCharProblem("scenario name", name);
    if (bad) r.error(path, bad, "name it with printable characters only");
    if (!isTable(value)) {
      r.error(path, `scenario "${name}" must be a table`, `[cld.scenarios.${name}] main = "...", fast = "...", opus = "..."`);
      continue;
    }
    const sf = r.fields(path, value, SCENARIO_KEYS);
    const role = (k: "main" | "fast" | "opus") => {
      const v = r.str(sf.get(k));
      if (v === undefined) r.error(path, `scenario "${name}" has no ${k} route`, `add ${k} = "<route name>"`);
      else if (!routes.has(v)) r.warn(sf.get(k)!.path, `scenario "${name}" names route "${v}", which [routing] does not define`, `use one of: ${[...routes].join(", ")}`);
      return v ?? "";
    };
    scenarios[name] = { main: role("main"), fast: role("fast"), opus: role("opus") };
  }
  return { scenarios };
}

export function readPricing(r: Reader, raw: Raw | undefined): Record<string, Price> {
  const out = keyedByName<Price>();
  for (const [model, value] of Object.entries(raw ?? {})) {
    const path = ["pricing", model];
    if (!isTable(value)) {
      r.error(path, `price of "${model}" must be a table`, `"${model}" = { input = 3, output = 15 } (USD per million tokens)`);
      continue;
    }
    const f = r.fields(path, value, PRICE_KEYS);
    const usd = (k: string) => r.num(f.get(k), { min: 0 });
    out[model] = { input: usd("input"), output: usd("output"), cacheRead: usd("cache_read"), cacheWrite: usd("cache_write") };
  }
  return out;
}
