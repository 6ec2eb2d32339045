// The gateway: Bun.serve wired to the request pipeline, plus the handle the supervisor holds —
// swap the config atomically, read counters, stop gracefully. Nothing about requests lives here.

import type { Config } from "../config/types.ts";
import { errorResponse } from "./dialect.ts";
import { handle } from "./pipeline.ts";
import { buildRuntime, type Runtime } from "./runtime.ts";
import { type GatewayStats, StatsCounter } from "./stats.ts";

export type { GatewayStats } from "./stats.ts";

export interface GatewayOptions {
  /** Override `[global]` bindHost (tests use 127.0.0.1). */
  hostname?: string;
  /** Override `[global] main_port` (tests use 0 for any free port). */
  port?: number;
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  config(): Config;
  /** Atomic swap; requests in flight keep the snapshot they started with. */
  reload(next: Config): void;
  /** Stop accepting, let in-flight requests finish for up to `graceMs`, then close the rest. */
  stop(graceMs?: number): Promise<void>;
  stats(): GatewayStats;
}

/**
 * Bun's own body limit is set far above gw's so that gw, not Bun, answers oversized bodies
 * (413 in the client's dialect); gw's limit is read per request and so follows reloads.
 */
const BUN_BODY_CEILING = 2 ** 40;

/** Idle limit while a request is being received; proxied requests switch it off (pipeline.ts). */
const RECEIVE_IDLE_SECONDS = 10;

export function startGateway(config: Config, opts: GatewayOptions = {}): Gateway {
  let rt: Runtime = buildRuntime(config);
  const stats = new StatsCounter();
  const server = Bun.serve({
    hostname: opts.hostname ?? config.global.bindHost,
    port: opts.port ?? config.global.mainPort,
    development: false,
    idleTimeout: RECEIVE_IDLE_SECONDS,
    maxRequestBodySize: BUN_BODY_CEILING,
    fetch: (req, srv) => handle(req, srv, rt, stats),
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
      rt = buildRuntime(next);
    },
    async stop(graceMs = config.global.shutdownGraceMs) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const grace = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
      await Promise.race([server.stop(false), grace]);
      clearTimeout(timer);
      await server.stop(true);
    },
    stats: () => stats.snapshot(),
  };
}
