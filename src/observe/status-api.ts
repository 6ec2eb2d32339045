// The data behind the status page (`GET /_gw/api/status`): what the running gw knows right now.
// StatusFeed keeps the short-term memory the page charts (a ring of 5-second buckets, the last
// errors, today's tokens); buildStatus joins it with the config, the metrics and live state.

import type { Config } from "../config/types.ts";
import type { GwMetrics, LiveState } from "./metrics.ts";
import { isUp, NONE } from "./metrics.ts";
import { failedAnswer, failedAttempt, type RequestRecord } from "./record.ts";
import { dayOf } from "./requestlog.ts";
import { costText } from "./usage-format.ts";
import { addUsage, emptySums, finalTarget, type LoggedRecord, mergeSums, modelOf, PRICE_SOURCE, type Pricing, priceFor, type UsageSums } from "./usage.ts";

export const BUCKET_MS = 5_000;
export const BUCKETS = 120; // 10 minutes of history
export const RECENT_ERRORS = 50;
/** Router decisions the status page lists. */
export const RECENT_DECISIONS = 30;
/** Latency samples kept per bucket for the percentiles (enough for p95 at chart resolution). */
const SAMPLES_PER_BUCKET = 256;

interface Bucket {
  start: number;
  requests: number;
  errors: number;
  ttfbMs: number[];
}

export interface RecentError {
  ts: string;
  route: string;
  target: string;
  status: number;
  attempts: number;
  error: string;
}

export interface RecentDecision {
  ts: string;
  requested: string;
  decision: string;
  /** The route the router chose (also in shadow mode); "-" when nothing matched. */
  route: string;
  /** The route that served it (after auto-upgrade); "-" for the default instance. */
  served: string;
  applied: boolean;
  shadow: boolean;
  status: number;
}

export type StatusFeed = ReturnType<typeof createStatusFeed>;

/** `pricing` is read when a request is counted, so a reload prices the requests after it. */
export function createStatusFeed(pricing: () => Pricing, now: () => number = Date.now) {
  const ring: Bucket[] = Array.from({ length: BUCKETS }, () => ({ start: -1, requests: 0, errors: 0, ttfbMs: [] }));
  const errors: RecentError[] = [];
  const perTarget = new Map<string, { requests: number; failed: number }>();
  const perInstance = new Map<string, { requests: number; failed: number }>();
  let today = dayOf(now());
  /** Route → tokens and cost today. */
  let tokens = new Map<string, UsageSums>();
  let requests = 0;
  let failed = 0;
  const decisions: RecentDecision[] = [];
  /** Router decision → requests since start. */
  const decisionCounts = new Map<string, number>();

  const bucketAt = (t: number): Bucket => {
    const start = t - (t % BUCKET_MS);
    const b = ring[Math.floor(start / BUCKET_MS) % BUCKETS]!;
    if (b.start !== start) Object.assign(b, { start, requests: 0, errors: 0, ttfbMs: [] });
    return b;
  };
  const count = (m: Map<string, { requests: number; failed: number }>, key: string, bad: boolean) => {
    let c = m.get(key);
    if (!c) m.set(key, (c = { requests: 0, failed: 0 }));
    c.requests++;
    if (bad) c.failed++;
  };

  const addTokens = (r: LoggedRecord) => {
    if (!r.usage) return;
    const day = dayOf(r.ts);
    if (day > today) ((today = day), (tokens = new Map()));
    if (day !== today) return;
    const route = r.routing.route ?? NONE;
    let s = tokens.get(route);
    if (!s) tokens.set(route, (s = emptySums()));
    addUsage(s, r.usage, priceFor(pricing(), r.routing.route, modelOf(r)));
  };

  return {
    /** Count one finished request (the record the request log gets). */
    observe(r: RequestRecord): void {
      const bad = isError(r);
      requests++;
      if (bad) failed++;
      const b = bucketAt(now());
      b.requests++;
      if (bad) b.errors++;
      if (r.response.ttfb_ms !== undefined && b.ttfbMs.length < SAMPLES_PER_BUCKET) b.ttfbMs.push(r.response.ttfb_ms);
      for (const a of r.routing.attempts) {
        const attemptBad = failedAttempt(a.class);
        count(perTarget, `${r.routing.route ?? NONE}\0${a.target}`, attemptBad);
        count(perInstance, a.instance, attemptBad);
      }
      if (bad) {
        errors.push({ ts: r.ts, route: r.routing.route ?? NONE, target: finalTarget(r), status: r.response.status, attempts: r.routing.attempts.length, error: errorText(r) });
        if (errors.length > RECENT_ERRORS) errors.shift();
      }
      addTokens(r);
      const rr = r.routing.router;
      if (rr) {
        decisionCounts.set(rr.decision, (decisionCounts.get(rr.decision) ?? 0) + 1);
        const route = rr.applied ? rr.resolved : (rr.held?.route ?? rr.suggested ?? "-");
        decisions.push({ ts: r.ts, requested: rr.requested, decision: rr.decision, route, served: r.routing.route ?? NONE, applied: rr.applied, shadow: rr.shadow === true, status: r.response.status });
        if (decisions.length > RECENT_DECISIONS) decisions.shift();
      }
    },
    /** Add today's tokens from records written before this process started (the log's day file). */
    seedTokens: addTokens,
    snapshot() {
      const t = now();
      const last = t - (t % BUCKET_MS);
      const series = [];
      for (let i = BUCKETS - 1; i >= 0; i--) {
        const start = last - i * BUCKET_MS;
        const b = ring[Math.floor(start / BUCKET_MS) % BUCKETS]!;
        const live = b.start === start;
        const sorted = live ? [...b.ttfbMs].sort((x, y) => x - y) : [];
        series.push({ t: start, requests: live ? b.requests : 0, errors: live ? b.errors : 0, p50: pct(sorted, 0.5), p95: pct(sorted, 0.95) });
      }
      const byRoute = dayOf(t) === today ? tokens : new Map<string, UsageSums>();
      const total = emptySums();
      for (const s of byRoute.values()) mergeSums(total, s);
      return {
        requests,
        failed,
        series,
        errors: [...errors].reverse(),
        perTarget,
        perInstance,
        tokensToday: { day: dayOf(t), total: priced(total), byRoute: Object.fromEntries([...byRoute].map(([r, s]) => [r, priced(s)])), priceSource: PRICE_SOURCE },
        decisions: [...decisions].reverse(),
        decisionCounts: Object.fromEntries(decisionCounts),
      };
    },
  };
}

/** Sums with their cost as `gw usage` writes it, so the page shows the same text. */
const priced = (s: UsageSums) => ({ ...s, cost: costText(s) });

/** A request the page lists as an error (failedAnswer). */
export function isError(r: RequestRecord): boolean {
  return failedAnswer(r.response.status, r.response.broken === true);
}

export interface StatusSources {
  config: Config;
  live: LiveState;
  metrics: GwMetrics;
  feed: StatusFeed;
  startedAt: number;
  now?: number;
}

/** The JSON of `/_gw/api/status`. */
export function buildStatus(src: StatusSources) {
  const now = src.now ?? Date.now();
  const snap = src.feed.snapshot();
  const cooling = new Map(src.live.cooling.map((c) => [`${c.route}\0${c.target}`, c]));
  const live = new Map(src.live.instances.map((i) => [i.name, i]));
  return {
    now,
    startedAt: src.startedAt,
    file: src.config.file,
    totals: { requests: snap.requests, failed: snap.failed, openStreams: src.metrics.openStreams(), cooling: src.live.cooling.length },
    state: src.live.state ?? null,
    instances: src.config.instances.map((inst) => {
      const l = live.get(inst.name);
      const c = snap.perInstance.get(inst.name);
      return {
        name: inst.name,
        url: inst.baseUrl,
        managed: inst.managed,
        state: l?.state ?? (inst.managed ? "unknown" : "external"),
        up: l ? isUp(l) : null,
        uptimeMs: l?.uptimeMs ?? null,
        restarts: l?.restarts ?? 0,
        attempts: c?.requests ?? 0,
        failed: c?.failed ?? 0,
      };
    }),
    routes: [...src.config.routes.values()].map((route) => ({
      name: route.name,
      targets: route.targets.map((t) => {
        const c = cooling.get(`${route.name}\0${t.id}`);
        const n = snap.perTarget.get(`${route.name}\0${t.id}`);
        return {
          id: t.id,
          instance: t.instance,
          model: t.model,
          weight: t.weight,
          priority: t.priority,
          attempts: n?.requests ?? 0,
          failed: n?.failed ?? 0,
          cooling: c ? { kind: c.kind, reason: c.reason, until: c.until, halfOpen: c.halfOpen ?? false } : null,
        };
      }),
    })),
    series: { stepMs: BUCKET_MS, points: snap.series },
    errors: snap.errors,
    tokensToday: snap.tokensToday,
    router: routerStatus(src.config, snap.decisions, snap.decisionCounts),
  };
}

/** The `auto` router's settings and its recent decisions; null without [global.lb_model_router]. */
function routerStatus(config: Config, recent: RecentDecision[], counts: Record<string, number>) {
  const r = config.global.lb.router;
  if (!r) return null;
  return { enabled: r.enabled, shadow: r.shadowOnly, activation: [...r.activationModels], counts, recent };
}

export type StatusJson = ReturnType<typeof buildStatus>;

// --- internal ---

function pct(sorted: readonly number[], q: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function errorText(r: RequestRecord): string {
  const last = r.routing.attempts[r.routing.attempts.length - 1];
  const text = r.response.error ?? last?.error ?? "";
  // Error bodies are JSON in the client's dialect; the page wants the sentence inside.
  const match = /"message"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(text)?.[1];
  const message = (match ? match.replace(/\\(.)/g, "$1") : text).slice(0, 300);
  // A stream that broke may carry the upstream's error event: say which.
  if (r.response.broken) return message ? `stream broke after bytes were sent: ${message}` : "stream broke after bytes were sent";
  return message;
}
