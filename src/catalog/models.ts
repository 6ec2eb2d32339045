// What gw knows about an upstream model without asking anyone: its context window and its price,
// from @pydantic/genai-prices (a catalogue Pydantic keeps current for Anthropic, Google, OpenAI,
// xAI, Moonshot, MiniMax and more, bundled offline). gw adds only the mapping from the names
// CLIProxyAPI and relays use (`claude-opus-4-6-thinking`, `gemini-3-pro-high`, `anthropic/
// claude-opus-4.6`, `gpt-5(high)`) to the catalogue's ids. A user's own values (route params,
// [pricing]) always win over what is found here.

import type { calcPrice as CalcPrice } from "@pydantic/genai-prices";
// The package does not export its package.json; read it by path (bundled into the binary).
import pkg from "../../node_modules/@pydantic/genai-prices/package.json" with { type: "json" };

/** USD per million tokens, below any long-context tier. */
export interface TokenPrices {
  readonly input?: number;
  readonly output?: number;
  readonly cacheRead?: number;
  readonly cacheWrite?: number;
  /** Cache writes kept for an hour (Anthropic's 1h TTL); cacheWrite's price when absent. */
  readonly cacheWrite1h?: number;
}

export interface CatalogPrice extends TokenPrices {
  /**
   * Long-context prices, lowest threshold first: a request whose prompt (cached tokens included)
   * is over `above` tokens pays `price` for every token of the kinds it names (Gemini 2.5/3 Pro
   * and Claude Sonnet 4/4.5 over 200k).
   */
  readonly tiers?: readonly PriceTier[];
}

export interface PriceTier {
  readonly above: number;
  readonly price: TokenPrices;
}

export interface CatalogModel {
  /** The catalogue's id the name resolved to, e.g. `claude-opus-4-6`. */
  readonly id: string;
  /** The catalogue's provider id (`anthropic`, `google`, `openai`, …). */
  readonly provider: string;
  readonly name?: string;
  readonly contextWindow?: number;
  /** Its price now. */
  readonly price: CatalogPrice;
  /** The catalogue prices it by when (from a date, within hours of the day): priceAt asks for each time. */
  readonly timed: boolean;
}

/** Which catalogue answered, for `gw usage` and the status page. */
export const CATALOG_SOURCE = `${pkg.name} ${pkg.version}`;

/** The catalogue entry for an upstream model name, or undefined when no spelling of it is known. */
export function lookupModel(name: string): CatalogModel | undefined {
  const key = name.trim().toLowerCase();
  const hit = cache.get(key);
  if (hit !== undefined) return hit ?? undefined;
  let found: CatalogModel | undefined;
  for (const candidate of spellings(key)) {
    found = resolve(candidate);
    if (found) break;
  }
  cache.set(key, found ?? null);
  return found;
}

/**
 * The catalogue's price of `name` for a request made at `at` (ms): the catalogue changes some
 * prices from a date on (Claude Opus 4.6 from 2026-03-13) and some by the hour of the day
 * (DeepSeek's off-peak hours), and a request is priced as it was when it was made — not as at
 * the moment gw first looked the model up. Those prices start on the hour or half-hour, so one
 * lookup serves a model's half-hour.
 */
export function priceAt(name: string, at: number): CatalogPrice | undefined {
  const m = lookupModel(name);
  return m && modelPriceAt(m, at);
}

/** priceAt for a model already looked up (gw usage asks for every record). */
export function modelPriceAt(m: CatalogModel, at: number): CatalogPrice {
  if (!m.timed) return m.price;
  let byHalfHour = timedCache.get(m);
  if (!byHalfHour) timedCache.set(m, (byHalfHour = new Map()));
  const slot = Math.floor(at / HALF_HOUR_MS);
  let price = byHalfHour.get(slot);
  if (price === undefined) {
    const r = priced(m.id, { providerId: m.provider, timestamp: new Date(at) });
    price = r ? catalogPrice(r.model_price) : m.price;
    if (byHalfHour.size >= TIMED_CACHE_MAX) byHalfHour.clear();
    byHalfHour.set(slot, price);
  }
  return price;
}

/**
 * Spellings to try, most specific first: as given; without a provider prefix (`anthropic/…`)
 * and CLIProxyAPI's thinking suffix `(8192)` / `(high)`; version dots as dashes (`4.6` → `4-6`);
 * without the variant words OAuth providers append (`-thinking`, `-high`, `-low`); and the
 * `-preview` name Google gives models before they are final.
 */
export function spellings(name: string): string[] {
  const out: string[] = [];
  const add = (s: string) => {
    if (s && !out.includes(s)) out.push(s);
  };
  add(name);
  let base = withoutThinkingSuffix(name);
  base = base.slice(base.lastIndexOf("/") + 1);
  add(base);
  const dashed = base.replace(/(\d)\.(\d)/g, "$1-$2");
  add(dashed);
  for (const s of [base, dashed]) {
    const plain = s.replace(VARIANT, "");
    add(plain);
    if (!plain.endsWith("-preview")) add(`${plain}-preview`);
  }
  return out;
}

/** `name` without CLIProxyAPI's thinking suffix (`claude-haiku-4-5(high)`, `gemini-2.5-pro(8192)`): the model itself. */
export function withoutThinkingSuffix(name: string): string {
  return name.replace(/\([^)]*\)$/, "");
}

// --- internal ---

/**
 * The catalogue, loaded at the first lookup: evaluating it takes ~20 ms, which `gw up` paid before
 * it served though no lookup is made then; the first request that names a model pays it instead.
 */
let catalogue: typeof CalcPrice | undefined;
const calcPrice: typeof CalcPrice = (...args) => (catalogue ??= (require("@pydantic/genai-prices") as { calcPrice: typeof CalcPrice }).calcPrice)(...args);

const VARIANT = /(-(thinking|high|low|medium|minimal|xhigh|max|latest))+$/;
const cache = new Map<string, CatalogModel | null>();
const NO_USAGE = { input_tokens: 0, output_tokens: 0 };
const HALF_HOUR_MS = 30 * 60_000;
/** Timed prices kept per model: two years of half-hours (gw usage over a year of logs). */
const TIMED_CACHE_MAX = 35_040;
const timedCache = new WeakMap<CatalogModel, Map<number, CatalogPrice>>();

/** The catalogue's answer for `id`, or undefined when it has none. */
function priced(id: string, options?: Parameters<typeof calcPrice>[2]): ReturnType<typeof calcPrice> | undefined {
  try {
    return calcPrice(NO_USAGE, id, options) ?? undefined;
  } catch {
    return undefined;
  }
}

function resolve(id: string): CatalogModel | undefined {
  const r = priced(id);
  if (!r) return undefined;
  return {
    id: r.model.id,
    provider: r.provider.id,
    ...(r.model.name ? { name: r.model.name } : {}),
    ...(r.model.context_window ? { contextWindow: r.model.context_window } : {}),
    price: catalogPrice(r.model_price),
    // A list of prices, each under its condition (a start date, hours of the day), is a timed one.
    timed: Array.isArray((r.model as { prices?: unknown }).prices),
  };
}

/** The catalogue's keys for the kinds of token gw counts. */
const PRICE_KEYS = { input: "input_mtok", output: "output_mtok", cacheRead: "cache_read_mtok", cacheWrite: "cache_write_mtok", cacheWrite1h: "cache_write_1h_mtok" } as const;

type Tiered = { base: number; tiers: readonly { start: number; price: number }[] };

function catalogPrice(p: Record<string, unknown>): CatalogPrice {
  const flat: Record<string, number> = {};
  const tiers = new Map<number, Record<string, number>>();
  for (const [kind, key] of Object.entries(PRICE_KEYS)) {
    const v = p[key];
    if (typeof v === "number") flat[kind] = v;
    else if (isTiered(v)) {
      flat[kind] = v.base;
      for (const t of v.tiers) {
        if (!tiers.has(t.start)) tiers.set(t.start, {});
        tiers.get(t.start)![kind] = t.price;
      }
    }
  }
  if (!tiers.size) return flat;
  return { ...flat, tiers: [...tiers].sort(([a], [b]) => a - b).map(([above, price]) => ({ above, price })) };
}

function isTiered(v: unknown): v is Tiered {
  const t = v as Tiered | undefined;
  return typeof t?.base === "number" && Array.isArray(t.tiers) && t.tiers.every((x) => typeof x?.start === "number" && typeof x.price === "number");
}
