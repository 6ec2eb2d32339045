// The gateway: Bun.serve wired to the request pipeline, plus the handle the supervisor holds —
// swap the config atomically, read counters and cooldowns, stop gracefully. It holds what must
// outlive a reload: the state store (cooldowns, sticky sessions, streaks — opened and closed by
// whoever starts the gateway), the request log and the observability hooks. Nothing about
// requests lives here.

import type { Server } from "bun";
import { consola } from "consola";
import type { Config, Problem } from "../config/types.ts";
import { createObservability, type Observability } from "../observe/http.ts";
import { createRequestLog, type RequestLog, requestLogDir } from "../observe/requestlog.ts";
import { type CoolingEntry, memoryBackend, type StateBackend, type StateHealth, stateReloadWarning } from "../state/index.ts";
import { BodyBudget } from "./body-budget.ts";
import { checkBrowser, withCors } from "./browser.ts";
import { DeadEnds, deadEndSources } from "./dead-ends.ts";
import { errorResponse } from "./dialect.ts";
import { type Listening, reloadRefusal, restartNotes } from "./exposure.ts";
import type { Health } from "./local.ts";
import { bypassProxyForInstances } from "./noproxy.ts";
import { createProber, type ProbeLog, type ProbeTiming, targetOf, watchStore } from "./probe.ts";
import { type GatewayContext, handle, refused } from "./pipeline.ts";
import { buildRuntime, type Runtime } from "./runtime.ts";
import { type GatewayStats, StatsCounter } from "./stats.ts";
import { OpenRelays } from "./stream.ts";
import { type DrainReport, type DrainThen, drainCutWhy, InstanceLoad } from "./drain.ts";
import type { Availability } from "./hold.ts";
import { RefusalLog } from "./refusal-log.ts";
import { DroppedHeadersLog } from "./header-bounds.ts";
import { type Explanation, explainBody } from "./router/explain.ts";
import type { KeepAlivePace } from "./spaced-keepalive.ts";

export type { GatewayStats } from "./stats.ts";

export interface GatewayOptions {
  /** Override `[global]` bindHost (tests use 127.0.0.1). */
  hostname?: string;
  /** Override `[global] main_port` (tests use 0 for any free port). */
  port?: number;
  /** State store to use (default: a new in-memory one). The caller closes it after stop(). */
  state?: StateBackend;
  /** Request log to use (default: `logs/requests/` beside the config). */
  requestLog?: RequestLog;
  /** Where the gateway's own events go (probes); default: consola. */
  log?: ProbeLog;
  /** Probe timeout and backoff (tests shorten them). */
  probeTiming?: ProbeTiming;
  /** The pace of gw's newlines while a spaced answer goes on on another target (tests shorten it; spaced-keepalive.ts). */
  spacedKeepAlive?: KeepAlivePace;
  /**
   * Listen with SO_REUSEPORT, so an upgrade's successor can bind the port while this gateway
   * still serves. The supervisor guards it (only a deliberate upgrade may share the port).
   */
  reusePort?: boolean;
  /** What /healthz reports (the supervisor's instance states); plain "ok" without it. */
  health?: () => Health;
  /**
   * The supervisor looks at an instance's process now (a connection to it failed) and
   * tells `availability` what it saw before this resolves (lb/hold.ts).
   */
  look?: (instance: string) => Promise<void>;
}

export interface Gateway {
  readonly url: string;
  readonly port: number;
  /** The address and port really bound (a reload never changes them). */
  readonly listening: Listening;
  config(): Config;
  /**
   * Atomic swap; requests in flight keep the snapshot they started with. Throws ReloadRefused
   * (and changes nothing) for a config that would leave a public listener without client keys;
   * returns what takes effect only after a restart, as warnings at their keys (for the log and
   * `gw reload`).
   */
  reload(next: Config): Problem[];
  /**
   * Stop accepting, let in-flight requests finish for up to `graceMs`, close the rest, flush the
   * log. Answers still running then end with an error event saying `why` (by default: the grace
   * period ended).
   */
  stop(graceMs?: number, why?: string): Promise<void>;
  stats(): GatewayStats;
}

/**
 * The running gateway: the core handle plus what the supervisor reads when present
 * (supervisor/status.ts GatewayExtras) — kept out of `Gateway` so stand-ins stay small.
 */
export interface RunningGateway extends Gateway {
  /** Targets cooling down (or half-open) now, soonest end first. */
  coolingList(now: number): CoolingEntry[];
  /** Where the state lives and whether that place answers. */
  stateHealth(): StateHealth;
  /** The files the gateway cannot write now (the request log), each as one line (fs/why.ts writeProblem). */
  writeProblems(): string[];
  /** Write the request log's queued records now: `gw usage` reads the day files, and a request just answered belongs in them. */
  flushLog(): Promise<void>;
  /** Instances whose last probe failed (lb/probe.ts): for one gw does not run, its only health. */
  instancesDown(): string[];
  /** /metrics, the /_gw/ status page and its live-state hook. */
  readonly observe: Observability;
  /**
   * After an upgrade's successor took the port (and the new connections): every response now
   * closes its connection, so clients reconnect to the successor; once nothing has been in
   * flight for a moment, stop like stop(). Keep-alive connections are not cut under a client
   * that is about to use them, and a request one brings gets a whole `graceMs` of its own.
   */
  handOff(graceMs?: number): Promise<void>;
  /** Memory held now by request bodies being taken in (bytes, estimated; body-budget.ts). */
  bodyMemory(): number;
  /**
   * Before a deliberate restart of `instance`: its targets take no new requests (other targets
   * of their routes serve them), and this resolves once nothing runs on it any more, or `graceMs`
   * has passed, or the gateway stops. The instance stays out until `undrain`. Requests still
   * running on it when `graceMs` ends are cut by gw with an error event saying what `then` follows (no
   * fault of the instance's), before this resolves.
   */
  drain(instance: string, graceMs?: number, onWait?: (streams: number) => void, then?: DrainThen): Promise<DrainReport>;
  undrain(instance: string): void;
  /**
   * The supervisor's word on an instance (lb/hold.ts): while it is away — restarting, respawning,
   * starting — a request that only it can serve waits for it to be ready (or lost) again.
   */
  availability(instance: string, a: Availability): void;
  /**
   * `gw route explain` on this gateway: the body decided with the config it serves now and its
   * live state (cooldowns, sticky sessions, streaks, draining instances), read and never written.
   */
  explain(body: string, o: { path?: string; session?: string }): Promise<Explanation | { error: string }>;
}

/**
 * Bun's own body limit is set far above gw's so that gw, not Bun, answers oversized bodies
 * (413 in the client's dialect); gw's limit is read per request and so follows reloads.
 */
const BUN_BODY_CEILING = 2 ** 40;

/** Idle limit while a request is being received; proxied requests switch it off (pipeline.ts). */
const RECEIVE_IDLE_SECONDS = 10;

/** How long answers cut at the end of the grace period get for their error event to leave. */
const CUT_FLUSH_MS = 500;

/**
 * How long after the hand-over an old gw's handOff(graceMs) may take requests: a client's pooled
 * connection may bring one more up to Bun's idle timeout later, and its stream gets a whole grace.
 */
const handOffServingMs = (graceMs: number) => RECEIVE_IDLE_SECONDS * 1000 + graceMs;
/** The longest handOff(graceMs) lasts from the hand-over: serving, then the flush of answers cut at its end. */
export const handOffLimitMs = (graceMs: number) => handOffServingMs(graceMs) + CUT_FLUSH_MS;

/** A handing-off gateway closes once nothing has been in flight for this long. */
const HANDOFF_QUIET_MS = 1000;
const HANDOFF_POLL_MS = 50;

/** `connection: close` on a response (rebuilt when its headers are immutable). */
function closingConnection(res: Response): Response {
  try {
    res.headers.set("connection", "close");
    return res;
  } catch {
    const headers = new Headers(res.headers);
    headers.set("connection", "close");
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  }
}

export function startGateway(config: Config, opts: GatewayOptions = {}): RunningGateway {
  let rt: Runtime = buildRuntime(config);
  bypassProxyForInstances(config);
  const observe = createObservability(() => rt.config);
  const state = opts.state ?? memoryBackend();
  observe.setStateHealth(() => state.health());
  observe.setWriteProblems(() => writeProblems());
  const relays = new OpenRelays();
  const load = new InstanceLoad((name) => rt.instances.get(name), opts.look);
  const probes = createProber({
    state,
    instances: () => rt.instances,
    log: opts.log ?? consola,
    onProbe: (instance, up) => observe.metrics.probed(instance, up),
    timing: opts.probeTiming,
  });
  const gw: GatewayContext = {
    stats: new StatsCounter(),
    load,
    bodies: new BodyBudget(),
    state,
    probes,
    deadEnds: deadEndSources(probes, load),
    relays,
    log: opts.requestLog ?? createRequestLog({ dir: requestLogDir(config), retentionDays: config.global.lb.logRetentionDays, say: opts.log ?? consola }),
    observe,
    health: opts.health,
    spacedKeepAlive: opts.spacedKeepAlive,
    refusals: new RefusalLog(opts.log ?? consola),
    droppedHeaders: new DroppedHeadersLog(opts.log ?? consola),
  };
  const writeProblems = () => (gw.log.problem ? [gw.log.problem] : []);
  let handingOff = false;
  let stopped = false;
  let lastRequestAt = 0;
  const serveOne = (req: Request, srv: Server<unknown>): Response | Promise<Response> => {
    // An HTTP/1.0 request may come without Host: its URL is then a bare path, which nothing can read.
    if (!req.headers.has("host")) return refused(gw, errorResponse("openai", 400, `gw: the request has no Host header; send one (Host: ${listening.host.includes(":") ? `[${listening.host}]` : listening.host}:${listening.port})`, "invalid_request"));
    // Browsers first: a refusal or a preflight answer ends here, before local answers and auth.
    const browser = checkBrowser(rt.browser, req, () => srv.requestIP(req)?.address);
    if (browser instanceof Response) return browser.ok ? browser : refused(gw, browser); // a preflight's answer is no refusal
    const res = observe.serve(req, srv) ?? handle(req, srv, rt, gw);
    if (browser === undefined) return res;
    return res instanceof Response ? withCors(res, browser) : res.then((r) => withCors(r, browser));
  };
  const server = Bun.serve({
    hostname: opts.hostname ?? config.global.bindHost,
    port: opts.port ?? config.global.mainPort,
    reusePort: opts.reusePort ?? false,
    development: false,
    idleTimeout: RECEIVE_IDLE_SECONDS,
    maxRequestBodySize: BUN_BODY_CEILING,
    fetch(req, srv) {
      if (!handingOff) return serveOne(req, srv);
      lastRequestAt = performance.now();
      return Promise.resolve(serveOne(req, srv)).then(closingConnection);
    },
    error(err) {
      return errorResponse("openai", 500, `gw internal error: ${err.message}`, "internal_error");
    },
  });
  // Once listening: a listen that fails leaves no probe behind to run (and log) after the refusal.
  watchStore(gw.probes, state, () => rt.config.routes, Date.now());
  const port = server.port ?? 0;
  const listening: Listening = { host: server.hostname ?? config.global.bindHost, port, portFixed: opts.port !== undefined };
  return {
    url: server.url.href.replace(/\/$/, ""),
    port,
    listening,
    config: () => rt.config,
    reload(next) {
      const refused = reloadRefusal(listening, next);
      if (refused) throw refused;
      // Against what was opened at start (the listener, the state), not the last reload: said
      // again on every reload while the file differs from what runs.
      const notes = restartNotes(listening, config, next);
      const moved = stateReloadWarning(config.global.state, next.global.state);
      if (moved) notes.push({ severity: "warning", file: next.file, line: 0, col: 0, path: "global.state", message: moved });
      bypassProxyForInstances(next);
      rt = buildRuntime(next);
      gw.probes.reloaded(); // a failed probe of an address the config no longer has says nothing of the new one
      gw.log.setRetentionDays(next.global.lb.logRetentionDays);
      return notes;
    },
    async handOff(graceMs = rt.config.global.shutdownGraceMs) {
      handingOff = true;
      const handedOverAt = (lastRequestAt = performance.now());
      // A client's pooled connection may bring one more request, up to Bun's idle timeout after
      // the hand-over (its answer closes the connection): that request's stream gets a whole
      // grace period, not what was left of the first — measured from the hand-over, a stream a
      // client started there 9 s later was cut. Bounded all the same, should new connections
      // still arrive here (no steering of them to the successor: not Linux).
      const latest = handedOverAt + handOffServingMs(graceMs);
      const deadline = () => Math.min(lastRequestAt + graceMs, latest);
      const busy = () => server.pendingRequests > 0 || gw.stats.snapshot().inFlight > 0 || performance.now() - lastRequestAt < HANDOFF_QUIET_MS;
      while (busy() && performance.now() < deadline()) await Bun.sleep(HANDOFF_POLL_MS);
      await this.stop(Math.max(0, deadline() - performance.now()));
    },
    async stop(graceMs = rt.config.global.shutdownGraceMs, why = GRACE_ENDED) {
      stopped = true;
      const drained = server.stop(false);
      // Answers still running when the grace period ends are told why they end (an error event
      // in their dialect, a moment to reach the client), not dropped with their connections.
      if (!(await within(drained, graceMs)) && relays.cutAll(why) > 0) {
        await within(drained, CUT_FLUSH_MS);
      }
      await server.stop(true);
      gw.probes.stop();
      // Streams cut just now end (and are recorded) on the next turns; then nothing may be lost.
      await Bun.sleep(0);
      await gw.log.close();
    },
    stats: () => gw.stats.snapshot(),
    // Only this config's targets: a gw sharing Redis with another config (a route renamed there)
    // would otherwise count and export cooldowns of routes it does not have.
    coolingList: (now) => gw.state.coolingList(now).filter((c) => targetOf(rt.config.routes, c)),
    stateHealth: () => state.health(),
    writeProblems,
    flushLog: () => gw.log.flush(),
    instancesDown: () => gw.probes.down(),
    observe,
    bodyMemory: () => gw.bodies.inUse(),
    drain: (instance, graceMs = rt.config.global.shutdownGraceMs, onWait, then = "restart") =>
      load.drain(instance, graceMs, onWait, () => stopped, () => relays.cutInstance(instance, drainCutWhy(instance, then))),
    undrain: (instance) => load.undrain(instance),
    availability: (instance, a) => {
      load.hold.set(instance, a);
      // Fresher than any failed probe: every pick (dead-ends.ts) and the status page read it.
      if (a === "ready") gw.probes.up(instance);
    },
    explain: (body, o) => explainBody(rt.config, body, { ...o, state, draining: load.resting, deadEnds: new DeadEnds(deadEndSources({ isDown: gw.probes.isDown }, load)), source: { pid: process.pid, store: state.health() } }),
  };
}

/** Why an answer still running when the grace period of a stop ended was cut. */
const GRACE_ENDED = "gw stopped: the shutdown grace period ended before this answer did";

/** Whether `p` settles within `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((r) => (timer = setTimeout(r, ms, false)));
  try {
    return await Promise.race([p.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
