// `gw usage`: tokens and estimated cost from the request log's day files. The files are streamed
// chunk by chunk (a year of logs never sits in memory) and each line is parsed once.
// Prices (USD per million tokens) come from the model catalogue (src/catalog/models.ts), found by
// each request's upstream model, and `[pricing]` overrides them field by field — its upstream
// model's entry, then its route's. A token kind with no price makes the request "unpriced",
// never a guess.

import { constants as C } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { CATALOG_SOURCE, type CatalogPrice, lookupModel, type TokenPrices } from "../catalog/models.ts";
import type { Price } from "../config/types.ts";
import { fromOldLbRecord } from "./old-record.ts";
import type { RequestRecord, UsageRecord } from "./record.ts";
import { dayOf } from "./requestlog.ts";

/**
 * model: the upstream model that answered (modelOf), whichever instance served it.
 * agent: the client program's name (codex_exec, GeminiCLI-tui, claude-cli, …; its version left
 * out). decision / category / rule: how the `auto` router spread its requests ("-" for the others).
 */
export const GROUPS = ["day", "route", "target", "model", "client", "agent", "decision", "category", "rule"] as const;
export type GroupBy = (typeof GROUPS)[number];

export interface UsageSums {
  requests: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  /** USD for the tokens whose price is known. */
  costUsd: number;
  /** Requests with tokens of a kind that has no price (their cost is not in costUsd). */
  unpriced: number;
}

export interface UsageRow extends UsageSums {
  key: string;
}

export interface UsageReport {
  by: GroupBy;
  /** First UTC instant counted (ISO). */
  since: string;
  rows: UsageRow[];
  total: UsageSums;
  files: number;
  records: number;
  /** Lines that were not a JSON record (a torn last line, hand edits). */
  badLines: number;
  /** Upstream models (or routes, for requests without one) that lacked a price for tokens that were used. */
  unpricedModels: string[];
}

export type Pricing = Readonly<Record<string, Price>>;

/** A record as read back for usage: the `request` summary may have been skipped (parseRecord). */
export type LoggedRecord = Omit<RequestRecord, "request"> & { request?: RequestRecord["request"] };

export const emptySums = (): UsageSums => ({ requests: 0, input: 0, output: 0, cacheRead: 0, cacheWrite: 0, costUsd: 0, unpriced: 0 });

/** `7d` = today and the 6 days before (whole UTC days); `12h` = rolling hours; or a date `2026-11-01`. */
export function parseSince(text: string, now: number): number | null {
  const m = /^(\d+)([dhw])$/.exec(text.trim());
  if (m) {
    const n = Number(m[1]);
    if (m[2] === "h") return now - n * 3_600_000;
    const days = m[2] === "w" ? n * 7 : n;
    if (days < 1) return null;
    const today = Date.parse(`${dayOf(now)}T00:00:00Z`);
    return today - (days - 1) * 86_400_000;
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(text.trim())) {
    const t = Date.parse(`${text.trim()}T00:00:00Z`);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

/**
 * The price of a request's tokens: the catalogue's for its upstream model, overridden field by
 * field by `[pricing]` — the upstream model's entry, then the route's (the most specific wins). A
 * field `[pricing]` sets is flat: the catalogue's long-context tiers for it no longer apply, and
 * its `cache_write` prices the hour-long cache writes too.
 * Undefined when nothing prices any kind of token. Memoised per pricing table (reloads get a new one).
 */
export function priceFor(pricing: Pricing, route: string | undefined, model: string | undefined): CatalogPrice | undefined {
  // Found again by route, then model: the status feed asks for every request, and a joined key
  // would be a new string each time.
  let memo = priceMemo.get(pricing);
  if (!memo) priceMemo.set(pricing, (memo = new Map()));
  let byModel = memo.get(route ?? "");
  if (!byModel) memo.set(route ?? "", (byModel = new Map()));
  const key = model ?? "";
  if (byModel.has(key)) return byModel.get(key);
  let price: CatalogPrice | undefined = model !== undefined ? lookupModel(model)?.price : undefined;
  for (const layer of [model !== undefined ? pricing[model] : undefined, route !== undefined ? pricing[route] : undefined]) {
    if (!layer) continue;
    const set: (keyof TokenPrices)[] = PRICE_FIELDS.filter((k) => layer[k] !== undefined);
    if (set.includes("cacheWrite")) set.push("cacheWrite1h");
    const tiers = price?.tiers?.map((t) => ({ above: t.above, price: without(t.price, set) })).filter((t) => Object.keys(t.price).length);
    price = { ...without(price ?? {}, set), tiers };
    for (const k of PRICE_FIELDS) if (layer[k] !== undefined) (price as Record<string, number>)[k] = layer[k]!;
    if (!tiers?.length) delete (price as { tiers?: unknown }).tiers;
  }
  byModel.set(key, price);
  return price;
}

/** The prices a request with `prompt` input tokens (cached ones included) pays: over a tier's threshold, its prices. */
function atPromptSize(price: CatalogPrice | undefined, prompt: number): TokenPrices | undefined {
  if (!price?.tiers) return price;
  let p: TokenPrices = price;
  for (const t of price.tiers) if (prompt > t.above) p = { ...p, ...t.price };
  return p;
}

/** Where costs come from, said by `gw usage` and the status page. */
export const PRICE_SOURCE = `[pricing] in providers.toml, else ${CATALOG_SOURCE}`;

const PRICE_FIELDS = ["input", "output", "cacheRead", "cacheWrite"] as const satisfies readonly (keyof Price)[];
/** Pricing table → route → model → price. */
const priceMemo = new WeakMap<Pricing, Map<string, Map<string, CatalogPrice | undefined>>>();

function without(p: TokenPrices, keys: readonly string[]): TokenPrices {
  return Object.fromEntries(Object.entries(p).filter(([k]) => !keys.includes(k)));
}

/** The model a record was answered by: the last attempt's upstream model, else the one asked for. */
export function modelOf(r: LoggedRecord): string | undefined {
  const a = r.routing.attempts;
  return a.length ? a[a.length - 1]?.model : r.request?.model;
}

/** Add one request's tokens (and their cost) to `s`; returns false when some tokens had no price. */
export function addUsage(s: UsageSums, u: UsageRecord | undefined, price: CatalogPrice | undefined): boolean {
  s.requests++;
  if (!u) return true;
  const input = u.input ?? 0;
  const cacheRead = u.cache_read ?? 0;
  const cacheWrite = u.cache_write ?? 0;
  s.input += input;
  s.output += u.output ?? 0;
  s.cacheRead += cacheRead;
  s.cacheWrite += cacheWrite;
  const p = atPromptSize(price, input + cacheRead + cacheWrite);
  const hour = Math.min(u.cache_write_1h ?? 0, cacheWrite);
  // Each call made whatever the ones before found (the call first, then `&&`); a module function,
  // not a closure per call: the status feed adds every request's usage.
  let priced = addCost(s, u.input, p?.input);
  priced = addCost(s, u.output, p?.output) && priced;
  priced = addCost(s, u.cache_read, p?.cacheRead) && priced;
  priced = addCost(s, cacheWrite - hour, p?.cacheWrite) && priced;
  priced = addCost(s, hour, p?.cacheWrite1h ?? p?.cacheWrite) && priced;
  if (!priced) s.unpriced++;
  return priced;
}

/** Add the cost of `n` tokens at `perMillion` to `s`; false when they have no price. */
function addCost(s: UsageSums, n: number | undefined, perMillion: number | undefined): boolean {
  if (!n) return true;
  if (perMillion === undefined) return false;
  s.costUsd += (n * perMillion) / 1e6;
  return true;
}

export function mergeSums(into: UsageSums, s: UsageSums): void {
  into.requests += s.requests;
  into.input += s.input;
  into.output += s.output;
  into.cacheRead += s.cacheRead;
  into.cacheWrite += s.cacheWrite;
  into.costUsd += s.costUsd;
  into.unpriced += s.unpriced;
}

/** Final target of a record (the attempt that produced the response), or "-". */
export function finalTarget(r: Pick<RequestRecord, "routing">): string {
  const a = r.routing.attempts;
  return (a.length ? a[a.length - 1]?.target : undefined) ?? "-";
}

function groupKey(r: LoggedRecord, by: GroupBy): string {
  if (by === "day") return dayOf(r.ts);
  if (by === "route") return r.routing.route ?? "-";
  if (by === "target") return finalTarget(r);
  if (by === "model") return modelOf(r) ?? "-";
  if (by === "client") return r.client ?? "-";
  if (by === "agent") return r.agent?.split("/")[0] ?? "-";
  return r.routing.router?.[by] ?? "-";
}

/** No request record comes near this; a longer "line" (a day file linked to a log with no newlines) is cut here. */
const MAX_LINE_CHARS = 4 << 20;

/**
 * Call `line` for every line of a file, read in chunks (`read` gets each chunk's size). Only a
 * regular file is read: a FIFO or a device planted under a day file's name in a cloned or copied
 * folder would block or never end. A line over MAX_LINE_CHARS is passed on cut there (it does not
 * parse: one bad line) and the rest of it skipped, so memory stays bounded whatever the file holds.
 */
async function forEachLine(file: string, line: (text: string) => void, read?: (bytes: number) => void): Promise<void> {
  const fh = await open(file, C.O_RDONLY | C.O_NONBLOCK | C.O_NOCTTY);
  try {
    if (!(await fh.stat()).isFile()) throw new Error(`${file} is not a regular file: remove it, it holds no requests`);
    const decoder = new TextDecoder();
    let tail = "";
    let skipping = false;
    // Bun's native stream of the descriptor checked above (a regular file: it ends).
    for await (const chunk of Bun.file(fh.fd).stream()) {
      read?.(chunk.byteLength);
      const text = tail + decoder.decode(chunk, { stream: true });
      let start = 0;
      for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
        if (nl > start && !skipping) line(text.slice(start, nl));
        skipping = false;
        start = nl + 1;
      }
      tail = text.slice(start);
      if (tail.length > MAX_LINE_CHARS) {
        if (!skipping) line(tail.slice(0, MAX_LINE_CHARS));
        skipping = true;
        tail = "";
      }
    }
    tail += decoder.decode();
    if (tail.length && !skipping) line(tail);
  } finally {
    await fh.close();
  }
}

/** Day files (`YYYY-MM-DD.jsonl`) of `dir` from `firstDay` on, oldest first; [] when there is no dir. Only regular files (or links to them) count. */
export async function dayFiles(dir: string, firstDay: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const days = names.filter((n) => /^\d{4}-\d{2}-\d{2}\.jsonl$/.test(n) && n.slice(0, 10) >= firstDay).sort().map((n) => join(dir, n));
  const regular = await Promise.all(days.map((f) => stat(f).then((st) => st.isFile(), () => false)));
  return days.filter((_, i) => regular[i]);
}

/**
 * Stream the records of `files` at or after `sinceIso` into `each`; returns [records, badLines].
 * `progress` hears the bytes read so far of all the files' bytes.
 */
export async function readRecords(files: readonly string[], sinceIso: string, each: (r: LoggedRecord) => void, progress?: Progress): Promise<[number, number]> {
  let records = 0;
  let bad = 0;
  const total = progress ? files.reduce((sum, f) => sum + Bun.file(f).size, 0) : 0; // size: a stat, no read
  let done = 0;
  const read = progress && ((bytes: number) => progress((done += bytes), total));
  for (const file of files) {
    await forEachLine(file, (text) => {
      const r = parseRecord(text);
      if (!r) return void bad++;
      if (r.ts < sinceIso) return;
      records++;
      each(r);
    }, read);
  }
  return [records, bad];
}

type Progress = (readBytes: number, totalBytes: number) => void;

/**
 * One log line → the parts of a record usage needs, or null when it is not a record. The
 * `request` summary (the bulkiest part, and unused here) is skipped when the line has the
 * request log's layout: `{"ts":"…",…,"request":{…},"routing":{…},…}`. A `,"routing":{` can
 * only be that top-level key there (the summary's nested values are strings and numbers, whose
 * quotes JSON escapes), so the rest of the line is one object; anything else is parsed whole.
 * A line of the old lb.js (same folder, same file names) is read as a record too.
 */
export function parseRecord(text: string): LoggedRecord | null {
  let r: LoggedRecord;
  try {
    const cut = text.startsWith('{"ts":"') ? text.indexOf(',"routing":{') : -1;
    if (cut > 0) {
      r = JSON.parse(`{${text.slice(cut + 1)}`);
      r.ts = text.slice(7, text.indexOf('"', 7));
    } else r = JSON.parse(text);
  } catch {
    try {
      r = JSON.parse(text); // the cut guessed wrong: judge the line as a whole
    } catch {
      return null;
    }
  }
  if (typeof r?.ts !== "string" || !r.routing || !r.response) return fromOldLbRecord(r);
  // A line that is JSON but not a record gw wrote (a hand edit, another tool's) is a bad line, and
  // token counts that are not numbers are none: one such line must not stop the report.
  if (!Array.isArray(r.routing.attempts)) return null;
  if (r.usage !== undefined) r.usage = countsOf(r.usage);
  return r;
}

const USAGE_FIELDS = ["input", "output", "cache_read", "cache_write", "cache_write_1h"] as const;

function countsOf(u: unknown): UsageRecord | undefined {
  if (typeof u !== "object" || u === null) return undefined;
  const out: UsageRecord = {};
  for (const k of USAGE_FIELDS) {
    const n = (u as Record<string, unknown>)[k];
    if (typeof n === "number" && n >= 0 && Number.isFinite(n)) out[k] = n;
  }
  return out;
}

interface UsageOptions {
  /** Request-log directories (several hosts' logs total as one). */
  dirs: readonly string[];
  pricing: Pricing;
  sinceMs: number;
  by: GroupBy;
  progress?: Progress;
}

export async function usageReport(o: UsageOptions): Promise<UsageReport> {
  const since = new Date(o.sinceMs).toISOString();
  const files = (await Promise.all(o.dirs.map((d) => dayFiles(d, since.slice(0, 10))))).flat();
  const groups = new Map<string, UsageSums>();
  const unpricedModels = new Set<string>();
  const [records, badLines] = await readRecords(files, since, (r) => {
    const key = groupKey(r, o.by);
    let s = groups.get(key);
    if (!s) groups.set(key, (s = emptySums()));
    const model = modelOf(r);
    if (!addUsage(s, r.usage, priceFor(o.pricing, r.routing.route, model))) unpricedModels.add(model ?? r.routing.route ?? "-");
  }, o.progress);
  const total = emptySums();
  const rows = [...groups].map(([key, s]) => (mergeSums(total, s), { key, ...s }));
  if (o.by === "day") rows.sort((a, b) => (a.key < b.key ? -1 : 1));
  else rows.sort((a, b) => b.costUsd - a.costUsd || tokensOf(b) - tokensOf(a) || b.requests - a.requests);
  return { by: o.by, since, rows, total, files: files.length, records, badLines, unpricedModels: [...unpricedModels].sort() };
}

export function tokensOf(s: UsageSums): number {
  return s.input + s.output + s.cacheRead + s.cacheWrite;
}
