// gw's Prometheus metrics, fed from the same RequestRecord the request log writes, so `gw usage`
// and /metrics can never disagree about what happened. Live gauges (instances, cooldowns) are
// rebuilt from LiveState at each scrape.
//
// Per-request cost: one Map lookup per label value (no key joined, no list built) and a few adds.

import { Counter, Gauge, Histogram, Registry } from "./prometheus.ts";
import type { RequestRecord } from "./record.ts";

export { PROMETHEUS_CONTENT_TYPE } from "./prometheus.ts";

/** What only the running process knows; the supervisor and the LB state store supply it. */
export interface LiveState {
  readonly instances: readonly LiveInstance[];
  readonly cooling: readonly LiveCooling[];
  /** The state backend; absent where nothing reports one. */
  readonly state?: LiveStateBackend;
  /** gw's files that cannot be written now, one line each (`cannot write …: no space left on the device`). */
  readonly writes?: readonly string[];
}

/** A subset of state/types.ts StateHealth. */
export interface LiveStateBackend {
  readonly backend: string;
  readonly up: boolean;
  readonly where: string;
  readonly problem?: string;
  readonly downSince?: number;
  readonly downForMs?: number;
}

/** A subset of supervisor/status.ts InstanceRow, so its rows can be passed as they are. */
export interface LiveInstance {
  readonly name: string;
  /** starting | ready | unready | backoff | crashloop | failed | stopping | stopped | external | down (external, its last probe failed) */
  readonly state: string;
  readonly restarts: number;
  readonly uptimeMs: number | null;
}

/** A subset of state/types.ts CoolingEntry. */
export interface LiveCooling {
  readonly route: string;
  readonly target: string;
  /** Epoch ms the cooldown ends. */
  readonly until: number;
  readonly kind: string;
  readonly reason: string;
  readonly halfOpen?: boolean;
}

export const NO_LIVE_STATE: LiveState = { instances: [], cooling: [] };

/**
 * Whether a cooldown keeps anything out now — what gw_cooldowns_active and the status page's
 * "N targets cooling" count. A half-open one (over, its trial not taken yet) keeps nothing out;
 * counted, a thinking-signature one, whose trial only a signed request takes, would hold an alert
 * on the gauge for as long as none comes. The status page and `gw status` show it as half-open.
 */
export const isCooling = (c: LiveCooling): boolean => !c.halfOpen;

// LLM requests run from milliseconds (errors, cache hits) to many minutes (long thinking streams).
const TTFB_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];
export const DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200];

/** The label gw uses where a request had no route or target. */
export const NONE = "-";

export type GwMetrics = ReturnType<typeof createGwMetrics>;

export function createGwMetrics(now: () => number = Date.now) {
  const reg = new Registry();
  const requests = reg.add(new Counter("gw_requests_total", "Requests answered, by route, final target, client dialect and status class.", ["route", "target", "dialect", "status_class"]));
  const attempts = reg.add(new Counter("gw_attempts_total", "Upstream attempts, by route, target and outcome class (ok, auth, signature, transient, context, client, other).", ["route", "target", "outcome"]));
  const failovers = reg.add(new Counter("gw_failovers_total", "Attempts after the first one of a request (each is a failover to another target).", ["route"]));
  const cooldowns = reg.add(new Counter("gw_cooldowns_total", "Cooldowns set on targets, by kind.", ["route", "target", "kind"]));
  const broken = reg.add(new Counter("gw_streams_broken_total", "Streams that broke after bytes reached the client.", ["route"]));
  const ttfb = reg.add(new Histogram("gw_request_ttfb_seconds", "Time from request arrival to the first body byte sent to the client.", ["route"], TTFB_BUCKETS));
  const duration = reg.add(new Histogram("gw_request_duration_seconds", "Time from request arrival until the response ended.", ["route"], DURATION_BUCKETS));
  const local = reg.add(new Counter("gw_local_answers_total", "Requests gw answered itself without an upstream: connectivity probes (HEAD / and /api/hello), /healthz and /v1/models.", ["path"]));
  const refused = reg.add(new Counter("gw_refused_total", "Requests gw refused before any upstream, by status: 401 client key, 403 path, host or web page, 400/413/415 body, 503 body memory full.", ["status"]));
  const tokens = reg.add(new Counter("gw_tokens_total", "Tokens reported by upstream usage, by route and kind (input, output, cache_read, cache_write).", ["route", "kind"]));
  const openStreams = reg.add(new Gauge("gw_open_streams", "Event streams currently being relayed to clients.", []));
  const cooling = reg.add(new Gauge("gw_cooldowns_active", "Targets cooling down now (1); a half-open one (cooldown over, its trial request not yet taken) keeps nothing out and is not counted.", ["route", "target", "kind"]));
  const up = reg.add(new Gauge("gw_instance_up", "Instance is ready to serve (1) or not (0).", ["instance_name"]));
  const state = reg.add(new Gauge("gw_instance_state", "The instance's state (1 for the current one): the supervisor's, or for an instance given by url external, or down while its probes fail.", ["instance_name", "state"]));
  const restarts = reg.add(new Counter("gw_instance_restarts_total", "Restarts of the instance since gw started.", ["instance_name"]));
  const uptime = reg.add(new Gauge("gw_instance_uptime_seconds", "Seconds since the instance's current process started.", ["instance_name"]));
  const probes = reg.add(new Counter("gw_probes_total", "Health probes of instances whose targets' cooldowns ended, by result (up, down).", ["instance_name", "result"]));
  const start = reg.add(new Gauge("gw_start_time_seconds", "Unix time gw started.", []));
  const stateUp = reg.add(new Gauge("gw_state_backend_up", "The state backend (local file, Redis) answers (1) or gw serves from memory alone meanwhile (0).", ["backend"]));
  const unwritable = reg.add(new Gauge("gw_unwritable_files", "gw's files (request log, gw.log) that cannot be written now, a full disk say; gw serves on meanwhile.", []));
  start.set([], Math.floor(now() / 1000));
  let streams = 0;
  // gw_instance_restarts_total by instance name, for the life of gw. The supervisor counts per
  // instance object, and a reload that replaces one, or drops it and adds it back, starts that
  // count at 0 again: a counter may never go down, so each scrape adds what it grew by since the
  // last one (all of it, when it went down or the instance was gone meanwhile: a new count).
  const restartsSeen = new Map<string, { last: number; total: number }>();
  function restartsTotal(live: readonly LiveInstance[]): void {
    const gone = new Set(restartsSeen.keys());
    for (const i of live) {
      gone.delete(i.name);
      const seen = restartsSeen.get(i.name) ?? { last: 0, total: 0 };
      seen.total += i.restarts >= seen.last ? i.restarts - seen.last : i.restarts;
      seen.last = i.restarts;
      restartsSeen.set(i.name, seen);
      restarts.set([i.name], seen.total);
    }
    for (const name of gone) restartsSeen.get(name)!.last = 0;
  }

  return {
    requests,
    attempts,
    failovers,
    cooldowns,
    tokens,
    local,
    ttfb,
    duration,
    /** Count one finished request: call once, with the record the request log gets. */
    observe(r: RequestRecord): void {
      const route = r.routing.route ?? NONE;
      const list = r.routing.attempts;
      const target = list.length ? list[list.length - 1]!.target : NONE;
      requests.add(1, route, target, r.request.dialect, statusClass(r.response.status));
      for (const a of list) attempts.add(1, a.route ?? route, a.target, a.class);
      if (list.length > 1) failovers.add(list.length - 1, route);
      for (const c of r.cooldowns) cooldowns.add(1, c.route, c.target, c.kind);
      if (r.response.broken) broken.add(1, route);
      if (r.response.ttfb_ms !== undefined) ttfb.observeAt(r.response.ttfb_ms / 1000, route);
      duration.observeAt(r.response.ms / 1000, route);
      const u = r.usage;
      if (u) {
        if (u.input) tokens.add(u.input, route, "input");
        if (u.output) tokens.add(u.output, route, "output");
        if (u.cache_read) tokens.add(u.cache_read, route, "cache_read");
        if (u.cache_write) tokens.add(u.cache_write, route, "cache_write");
      }
    },
    streamOpened(): void {
      streams++;
    },
    streamClosed(): void {
      if (streams > 0) streams--;
    },
    openStreams: () => streams,
    /** A request refused before the request path proper (it has no record): its status. */
    refused(status: number): void {
      refused.add(1, String(status));
    },
    /** One probe of an instance (lb/probe.ts) and its verdict. */
    probed(instance: string, up: boolean): void {
      probes.add(1, instance, up ? "up" : "down");
    },
    /** The exposition text; live gauges are rebuilt from `live` on every scrape; label values pass `mask`. */
    render(live: LiveState = NO_LIVE_STATE, mask?: (s: string) => string): string {
      openStreams.set([], streams);
      cooling.reset();
      for (const c of live.cooling.filter(isCooling)) cooling.add(1, c.route, c.target, c.kind);
      for (const m of [up, state, restarts, uptime, stateUp]) m.reset();
      if (live.state) stateUp.set([live.state.backend], live.state.up ? 1 : 0);
      unwritable.set([], live.writes?.length ?? 0);
      restartsTotal(live.instances);
      for (const i of live.instances) {
        up.set([i.name], isUp(i) ? 1 : 0);
        state.set([i.name, i.state], 1);
        if (i.uptimeMs !== null) uptime.set([i.name], Math.floor(i.uptimeMs / 1000));
      }
      return reg.render(mask);
    },
  };
}

/** Answering requests: ready, or external (an external one whose last probe failed is "down"). */
export function isUp(i: LiveInstance): boolean {
  return i.state === "ready" || i.state === "external";
}

const STATUS_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/** 200 → "2xx"; 0 or odd values → "other". */
export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? STATUS_CLASSES[Math.floor(status / 100) - 1]! : "other";
}
