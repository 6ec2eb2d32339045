// `gw usage`: tokens and estimated cost from the request log's day files, totalled by day, route,
// model or another grouping. The records come from day-files.ts, their prices from pricing.ts; a
// request with tokens of a kind that has no price is counted "unpriced", never guessed. The status
// feed adds its requests with the same sums (status-api.ts).

import { type CatalogPrice, withoutThinkingSuffix } from "../catalog/models.ts";
import { dayFiles, type LoggedRecord, type Progress, readRecords } from "./day-files.ts";
import { atPromptSize, type Pricing, priceFor } from "./pricing.ts";
import type { RequestRecord, UsageRecord } from "./record.ts";
import { dayOf } from "./requestlog.ts";
import type { GroupBy } from "./usage-groups.ts";

export { GROUPS, type GroupBy } from "./usage-groups.ts";

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
  /** Model answers that reported no tokens (record.ts `no_usage`): their cost is not in costUsd, nor known. */
  noUsage: number;
  /** Answers cut before their final output count (record.ts `output_partial`): their output, and its cost, are lower bounds. */
  partialOutput: number;
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

export const emptySums = (): UsageSums => ({ requests: 0, input: 0, output: 0, cacheRead: 0, cacheWrite: 0, costUsd: 0, unpriced: 0, noUsage: 0, partialOutput: 0 });

/** `7d` = today and the 6 days before (whole UTC days); `12h` = rolling hours; or a date `2026-11-01`. */
export function parseSince(text: string, now: number): number | null {
  const m = /^(\d+)([dhw])$/.exec(text.trim());
  if (m) {
    const n = Number(m[1]);
    // A window reaching before 1970 (`--since 99999999d`: "all of it") starts there: no request is older.
    if (m[2] === "h") return Math.max(0, now - n * 3_600_000);
    const days = m[2] === "w" ? n * 7 : n;
    if (days < 1) return null;
    const today = Date.parse(`${dayOf(now)}T00:00:00Z`);
    return Math.max(0, today - (days - 1) * 86_400_000);
  }
  const date = text.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(date)) {
    const t = Date.parse(`${date}T00:00:00Z`);
    return Number.isNaN(t) || dayOf(t) !== date ? null : t; // 2026-02-30 is no day, not March 2
  }
  return null;
}

/** The model a record was answered by: the last attempt's upstream model, else the one asked for. */
export function modelOf(r: LoggedRecord): string | undefined {
  const a = r.routing.attempts;
  return a.length ? a[a.length - 1]?.model : r.request?.model;
}

/** modelOf without the thinking suffix (`claude-haiku-4-5(high)`): the model, however hard it was asked to think. */
function modelName(r: LoggedRecord): string | undefined {
  const m = modelOf(r);
  return m === undefined ? undefined : withoutThinkingSuffix(m);
}

/**
 * Add one request's tokens (and their cost) to `s`; returns false when some tokens had no price.
 * `noUsage`: the request was answered by a model that reported no tokens (record.ts `no_usage`).
 */
export function addUsage(s: UsageSums, u: UsageRecord | undefined, price: CatalogPrice | undefined, noUsage = false): boolean {
  s.requests++;
  if (!u) {
    if (noUsage) s.noUsage++;
    return true;
  }
  if (u.output_partial) s.partialOutput++;
  return addTokens(s, u, price, (u.input ?? 0) + (u.cache_read ?? 0) + (u.cache_write ?? 0), 1);
}

/**
 * Add the tokens of `requests` requests, summed in `u`, and their cost to `s` (not their count):
 * requests priced alike — with tokens of the same kinds, and prompts (`prompt`: one of theirs)
 * past the same long-context tiers (pricing.ts priceClass). Of one request, `u.cache_write_1h` is
 * at most its `cache_write`; of several, their sum. Returns false when some tokens had no price.
 */
export function addTokens(s: UsageSums, u: UsageRecord, price: CatalogPrice | undefined, prompt: number, requests: number): boolean {
  const cacheWrite = u.cache_write ?? 0;
  s.input += u.input ?? 0;
  s.output += u.output ?? 0;
  s.cacheRead += u.cache_read ?? 0;
  s.cacheWrite += cacheWrite;
  const p = atPromptSize(price, prompt);
  const hour = Math.min(u.cache_write_1h ?? 0, cacheWrite);
  // Each call made whatever the ones before found (the call first, then `&&`); a module function,
  // not a closure per call: the status feed adds every request's usage.
  let priced = addCost(s, u.input, p?.input);
  priced = addCost(s, u.output, p?.output) && priced;
  priced = addCost(s, u.cache_read, p?.cacheRead) && priced;
  priced = addCost(s, cacheWrite - hour, p?.cacheWrite) && priced;
  priced = addCost(s, hour, p?.cacheWrite1h ?? p?.cacheWrite) && priced;
  if (!priced) s.unpriced += requests;
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
  into.noUsage += s.noUsage;
  into.partialOutput += s.partialOutput;
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
  if (by === "model") return modelName(r) ?? "-";
  if (by === "client") return r.client ?? "-";
  if (by === "agent") return r.agent?.split("/")[0] ?? "-";
  return chosenBy(r.routing.router, by);
}

/**
 * The category or rule whose route the request took. A session held on its route (session_hold)
 * took the route of the hit that chose it then, not of what this turn's text matched: costs by
 * category are what each category's routes cost.
 */
function chosenBy(router: RequestRecord["routing"]["router"], by: "decision" | "category" | "rule"): string {
  if (by === "decision" || !router?.held) return router?.[by] ?? "-";
  const prefix = by === "category" ? "category_hit_" : "rule_hit_";
  return router.held.decision.startsWith(prefix) ? router.held.decision.slice(prefix.length) : "-";
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
    if (!addUsage(s, r.usage, priceFor(o.pricing, r.routing.route, model, r.ts), r.response.no_usage === true)) unpricedModels.add(modelName(r) ?? r.routing.route ?? "-");
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
