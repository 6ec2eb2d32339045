// The gateway: Bun.serve wired to the request pipeline, plus the handle the supervisor holds —
// swap the config atomically, read counters and cooldowns, stop gracefully. It owns what must
// outlive a reload: the state store (cooldowns, sticky sessions, streaks), the request log and
// the observability hooks. Nothing about requests lives here.

import { consola } from "consola";
import type { Config } from "../config/types.ts";
import { createObservability, type Observability } from "../observe/http.ts";
import { createRequestLog, type RequestLog, requestLogDir } from "../observe/requestlog.ts";
import { type CoolingEntry, createMemoryStore, type StateStore } from "../state/index.ts";
import { errorResponse } from "./dialect.ts";
import type { Health } from "./local.ts";
import { bypassProxyForInstances } from "./noproxy.ts";
import { createProber, type ProbeLog, type ProbeTiming } from "./probe.ts";
import { type GatewayContext, handle } from "./pipeline.ts";
import { buildRuntime, type Runtime } from "./runtime.ts";
import { type GatewayStats, StatsCounter } from "./stats.ts";

export type { GatewayStats } from "./stats.ts";

export interface GatewayOptions {
  /** Override `[global]` bindHost (tests use 127.0.0.1). */
  hostname?: string;
  /** Override `[global] main_port` (tests use 0 for any free port). */
  port?: number;
  /** State store to use (default: a new in-memory one). */
  state?: StateStore;
  /** Request log to use (default: `logs/requests/` beside the config). */
  requestLog?: RequestLog;
  /** Where the gateway's own events go (probes); default: consola. */
  log?: ProbeLog;
  /** Probe timeout and backoff (tests shorten them). */
  probeTiming?: ProbeTiming;
  /** What /healthz reports (the supervisor's instance states); plain "ok" without it. */
  health?: () => Health;
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  config(): Config;
  /** Atomic swap; requests in flight keep the snapshot they started with. */
  reload(next: Config): void;
  /** Stop accepting, let in-flight requests finish for up to `graceMs`, close the rest, flush the log. */
  stop(graceMs?: number): Promise<void>;
  stats(): GatewayStats;
}

/**
 * The running gateway: the core handle plus what the supervisor reads when present
 * (supervisor/status.ts GatewayExtras) — kept out of `Gateway` so stand-ins stay small.
 */
export interface RunningGateway extends Gateway {
  /** Targets cooling down (or half-open) now, soonest end first. */
  coolingList(now: number): CoolingEntry[];
  /** /metrics, the /_gw/ status page and its live-state hook. */
  readonly observe: Observability;
}

/**
 * Bun's own body limit is set far above gw's so that gw, not Bun, answers oversized bodies
 * (413 in the client's dialect); gw's limit is read per request and so follows reloads.
 */
const BUN_BODY_CEILING = 2 ** 40;

/** Idle limit while a request is being received; proxied requests switch it off (pipeline.ts). */
const RECEIVE_IDLE_SECONDS = 10;

export function startGateway(config: Config, opts: GatewayOptions = {}): RunningGateway {
  let rt: Runtime = buildRuntime(config);
  bypassProxyForInstances(config);
  const observe = createObservability(() => rt.config);
  const state = opts.state ?? createMemoryStore();
  const gw: GatewayContext = {
    stats: new StatsCounter(),
    state,
    probes: createProber({
      state,
      instances: () => rt.instances,
      log: opts.log ?? consola,
      onProbe: (instance, up) => observe.metrics.probed(instance, up),
      timing: opts.probeTiming,
    }),
    log: opts.requestLog ?? createRequestLog({ dir: requestLogDir(config), retentionDays: config.global.lb.logRetentionDays }),
    observe,
    health: opts.health,
  };
  const server = Bun.serve({
    hostname: opts.hostname ?? config.global.bindHost,
    port: opts.port ?? config.global.mainPort,
    development: false,
    idleTimeout: RECEIVE_IDLE_SECONDS,
    maxRequestBodySize: BUN_BODY_CEILING,
    fetch: (req, srv) => observe.serve(req, srv) ?? handle(req, srv, rt, gw),
    error(err) {
      return errorResponse("openai", 500, `gw internal error: ${err.message}`, "internal_error");
    },
  });
  const port = server.port ?? 0;
  return {
    url: server.url.href.replace(/\/$/, ""),
    port,
    config: () => rt.config,
    reload(next) {
      bypassProxyForInstances(next);
      rt = buildRuntime(next);
      gw.log.setRetentionDays(next.global.lb.logRetentionDays);
    },
    async stop(graceMs = rt.config.global.shutdownGraceMs) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
      await Promise.race([server.stop(false), grace]);
      clearTimeout(timer);
      await server.stop(true);
      gw.probes.stop();
      // Streams cut just now end (and are recorded) on the next turns; then nothing may be lost.
      await Bun.sleep(0);
      await gw.log.close();
    },
    stats: () => gw.stats.snapshot(),
    coolingList: (now) => gw.state.coolingList(now),
    observe,
  };
}
