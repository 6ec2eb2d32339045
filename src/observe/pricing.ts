// What a request's tokens cost. Prices (USD per million tokens) come from the model catalogue
// (src/catalog/models.ts), found by each request's upstream model, and `[pricing]` overrides them
// field by field — its upstream model's entry (the model without its thinking suffix, then with
// it), then its route's. A token kind with no price makes the request "unpriced" (usage.ts), never
// a guess.

import { CATALOG_SOURCE, type CatalogModel, type CatalogPrice, lookupModel, modelPriceAt, type TokenPrices, withoutThinkingSuffix } from "../catalog/models.ts";
import type { Price } from "../config/types.ts";

export type Pricing = Readonly<Record<string, Price>>;

/**
 * The price of a request's tokens: the catalogue's for its upstream model, overridden field by
 * field by `[pricing]` — the upstream model's entry, then the route's (the most specific wins). The
 * thinking suffix gw or a target adds (`claude-haiku-4-5(high)`, `(8192)`) does not change the
 * price: the entry of the model without it applies, and one written with the suffix, if any, over
 * it. A field `[pricing]` sets is flat: the catalogue's long-context tiers for it no longer apply, and
 * its `cache_write` prices the hour-long cache writes too.
 * Undefined when nothing prices any kind of token. Memoised per pricing table (reloads get a new one).
 * `when`: the request's time (its record's ISO `ts`; now when absent) — the catalogue prices some
 * models by date and hour (catalog/models.ts priceAt), and a request pays what it cost then.
 */
export function priceFor(pricing: Pricing, route: string | undefined, model: string | undefined, when?: string): CatalogPrice | undefined {
  // Found again by route, then model: the status feed asks for every request, and a joined key
  // would be a new string each time.
  let memo = priceMemo.get(pricing);
  if (!memo) priceMemo.set(pricing, (memo = new Map()));
  let byModel = memo.get(route ?? "");
  if (!byModel) memo.set(route ?? "", (byModel = new Map()));
  const key = model ?? "";
  let known = byModel.get(key);
  if (known === undefined && !byModel.has(key)) {
    const found = model !== undefined ? lookupModel(model) : undefined;
    known = found?.timed ? new Timed(found) : overlaid(pricing, route, model, found?.price);
    byModel.set(key, known);
  }
  if (!(known instanceof Timed)) return known;
  return overlaid(pricing, route, model, modelPriceAt(known.model, when === undefined ? Date.now() : Date.parse(when)));
}

/** The catalogue's `base` price overridden field by field by `[pricing]`: the upstream model's entry (without its thinking suffix, then with it), then the route's. */
function overlaid(pricing: Pricing, route: string | undefined, model: string | undefined, base: CatalogPrice | undefined): CatalogPrice | undefined {
  const bare = model !== undefined ? withoutThinkingSuffix(model) : undefined;
  const layers = [bare, model !== bare ? model : undefined, route].map((k) => (k !== undefined ? pricing[k] : undefined));
  if (!layers.some(Boolean)) return base;
  let price = base;
  for (const layer of layers) {
    if (!layer) continue;
    const set: (keyof TokenPrices)[] = PRICE_FIELDS.filter((k) => layer[k] !== undefined);
    if (set.includes("cacheWrite")) set.push("cacheWrite1h");
    const tiers = price?.tiers?.map((t) => ({ above: t.above, price: without(t.price, set) })).filter((t) => Object.keys(t.price).length);
    price = { ...without(price ?? {}, set), tiers };
    for (const k of PRICE_FIELDS) if (layer[k] !== undefined) (price as Record<string, number>)[k] = layer[k]!;
    if (!tiers?.length) delete (price as { tiers?: unknown }).tiers;
  }
  return price;
}

/** The prices a request with `prompt` input tokens (cached ones included) pays: over a tier's threshold, its prices. */
export function atPromptSize(price: CatalogPrice | undefined, prompt: number): TokenPrices | undefined {
  if (!price?.tiers) return price;
  let p: TokenPrices = price;
  for (const t of price.tiers) if (prompt > t.above) p = { ...p, ...t.price };
  return p;
}

/**
 * What, besides its route, its model and the kinds of token it used, decides a request's price:
 * the catalogue's price at its time (a timed model's half-hour, as modelPriceAt finds it) and the
 * long-context tiers its `prompt` passes. `[pricing]` sets flat prices only, never a tier or a
 * time: requests of one route and model, with tokens of the same kinds and the same class, cost
 * alike under every pricing table — the status feed sums them and prices the sum when asked.
 */
export function priceClass(model: string | undefined, when: string, prompt: number): string {
  const found = model !== undefined ? lookupModel(model) : undefined;
  if (!found) return "";
  const at = Date.parse(when);
  const price = found.timed ? modelPriceAt(found, at) : found.price;
  let tiers = 0;
  for (const t of price.tiers ?? []) if (prompt > t.above) tiers++;
  return found.timed ? `${Math.floor(at / HALF_HOUR_MS)}/${tiers}` : String(tiers);
}

/** Where costs come from, said by `gw usage` and the status page. */
export const PRICE_SOURCE = `[pricing] in providers.toml, else ${CATALOG_SOURCE}`;

/** The catalogue's timed prices start on the hour or half-hour (catalog/models.ts modelPriceAt). */
const HALF_HOUR_MS = 30 * 60_000;
const PRICE_FIELDS = ["input", "output", "cacheRead", "cacheWrite"] as const satisfies readonly (keyof Price)[];
/** A model whose catalogue price depends on when: its price is found for each request's time. */
class Timed {
  constructor(readonly model: CatalogModel) {}
}
/** Pricing table → route → model → price (or Timed). */
const priceMemo = new WeakMap<Pricing, Map<string, Map<string, CatalogPrice | undefined | Timed>>>();

function without(p: TokenPrices, keys: readonly string[]): TokenPrices {
  return Object.fromEntries(Object.entries(p).filter(([k]) => !keys.includes(k)));
}
