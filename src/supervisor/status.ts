// What `gw status` reports, built from the live supervisor and gateway. Plain data: it crosses
// the control socket as JSON and format.ts turns it into the table.
import type { Config } from "../config/types.ts";
import type { Gateway, RunningGateway } from "../lb/server.ts";
import type { Observability } from "../observe/http.ts";
import { maskDeep, maskerOf } from "../observe/mask.ts";
import { isCooling } from "../observe/metrics.ts";
import { type CoolingEntry, keepsOut, type StateHealth } from "../state/index.ts";
import type { InstanceSet } from "./instances.ts";
import { type ExitInfo, monoNow } from "./spawn.ts";

export type Phase = "starting" | "serving" | "stopping";

export interface InstanceRow {
  readonly name: string;
  /** False for an instance given by `url` (gw does not run it). */
  readonly managed: boolean;
  readonly pid: number | null;
  readonly port: number;
  readonly state: string;
  readonly uptimeMs: number | null;
  readonly restarts: number;
  /**
   * `agoMs`: how long ago, measured by the supervising gw on its monotonic clock — what `gw status`
   * shows, right across a wall-clock step; `at`: the wall-clock time that makes (epoch ms, for
   * scripts). Optional for the reader: a gw from before it sends `at` alone (format.ts).
   */
  readonly lastExit: { readonly code: number | null; readonly signal: string | null; readonly at: number; readonly agoMs?: number } | null;
  readonly requests: number;
  readonly errors: number;
  /**
   * Targets on this instance whose cooldown keeps requests out now: "route → model (kind, 42 s
   * left)" — what `gw status` counts, as gw_cooldowns_active and the status page do (isCooling).
   * A gw from before `halfOpen` lists half-open targets here too.
   */
  readonly cooling: readonly string[];
  /** Targets whose cooldown is over, waiting for a trial request: "route → model (kind: the next request is its trial)". */
  readonly halfOpen?: readonly string[];
  readonly problem: string;
}

export interface StatusReport {
  readonly pid: number;
  readonly uptimeMs: number;
  readonly phase: Phase;
  readonly file: string;
  readonly demo: boolean;
  readonly lb: { url: string; inFlight: number; openStreams: number; requests: number; errors: number } | null;
  /** False while the gateway does not expose its cooldowns (the column stays empty). */
  readonly coolingKnown: boolean;
  /** Where cooldowns and sticky sessions live, and whether that place answers; null before the LB serves. */
  readonly state: StateHealth | null;
  /** gw's files that cannot be written now (gw.log, the request log), one line each; absent from a gw before it. */
  readonly writes?: readonly string[];
  readonly instances: readonly InstanceRow[];
}

export interface StatusSources {
  readonly config: Config;
  /** The instances gw runs; none under `gw lb`, which serves instances run elsewhere (their probes say how they are). */
  readonly set?: InstanceSet;
  readonly gateway: Gateway | null;
  readonly phase: Phase;
  /** gw's start on the monotonic clock (spawn.ts monoNow). */
  readonly startedAt: number;
  /** The supervisor's own files that cannot be written now (gw.log), one line each. */
  readonly writes?: () => readonly string[];
  readonly demo: boolean;
}

/**
 * What the supervisor reads from the gateway beyond the core handle, when the LB offers it:
 * its state store's cooldowns and the observability hooks (/metrics, /_gw/ page).
 */
export type GatewayExtras = Gateway & {
  coolingList?: (now: number) => CoolingEntry[];
  stateHealth?: () => StateHealth;
  writeProblems?: () => string[];
  flushLog?: RunningGateway["flushLog"];
  instancesDown?: () => string[];
  observe?: Observability;
  explain?: RunningGateway["explain"];
};

/** The gateway's cooldowns, or null while it does not expose them. */
export function coolingOf(gateway: Gateway | null, now: number): CoolingEntry[] | null {
  const g = gateway as GatewayExtras | null;
  return typeof g?.coolingList === "function" ? g.coolingList(now) : null;
}

/**
 * `now`: the wall clock (cooldowns are wall-clock times, shared and persisted); `mono`: the
 * monotonic one, for every duration. The report carries durations, not this process's stamps:
 * the reader (`gw status`, the status page) is another process with a clock of its own.
 */
export function buildStatus(src: StatusSources, now = Date.now(), mono = monoNow()): StatusReport {
  // First: asked with room back, a state file refused before is taken up now (fs/rewrite.ts), and
  // the cooldowns below include what it holds.
  const state = (src.gateway as GatewayExtras | null)?.stateHealth?.() ?? null;
  const stats = src.gateway?.stats();
  const cooling = coolingOf(src.gateway, now);
  const instanceOfTarget = new Map<string, { instance: string; model: string }>();
  for (const route of src.config.routes.values()) {
    for (const t of route.targets) instanceOfTarget.set(`${route.name}\0${t.id}`, t);
  }
  const coolingByInstance = new Map<string, { cooling: string[]; halfOpen: string[] }>();
  for (const c of cooling ?? []) {
    const t = instanceOfTarget.get(`${c.route}\0${c.target}`);
    if (!t) continue;
    const lists = coolingByInstance.get(t.instance) ?? { cooling: [], halfOpen: [] };
    (isCooling(c) ? lists.cooling : lists.halfOpen).push(`${c.route} → ${t.model} (${coolingNote(c, now)})`);
    coolingByInstance.set(t.instance, lists);
  }
  // gw does not run an external instance: its probes are all that says whether it answers.
  const down = new Set((src.gateway as GatewayExtras | null)?.instancesDown?.() ?? []);
  const instances = src.config.instances.map((inst): InstanceRow => {
    const s = src.set?.get(inst.name);
    const counts = stats?.byInstance[inst.name];
    return {
      name: inst.name,
      managed: inst.managed,
      pid: s?.child?.pid ?? null,
      // Where its process listens: until a reload's relaunch moves it, the port it was started on.
      port: s?.child ? s.inst.port : inst.port,
      state: inst.managed && src.set ? (s?.state ?? "stopped") : down.has(inst.name) ? "down" : "external",
      uptimeMs: s?.child ? Math.round(mono - s.child.startedAt) : null,
      restarts: s?.restarts ?? 0,
      lastExit: s?.lastExit ? exitRow(s.lastExit, now, mono) : null,
      requests: counts?.requests ?? 0,
      errors: counts?.errors ?? 0,
      cooling: coolingByInstance.get(inst.name)?.cooling ?? [],
      halfOpen: coolingByInstance.get(inst.name)?.halfOpen ?? [],
      problem: s?.problem ?? "",
    };
  });
  // What `gw status` and the status page show passes the config's masker, every field of it.
  return maskDeep<StatusReport>({
    pid: process.pid,
    uptimeMs: Math.round(mono - src.startedAt),
    phase: src.phase,
    file: src.config.file,
    demo: src.demo,
    lb: src.gateway && stats ? { url: src.gateway.url, inFlight: stats.inFlight, openStreams: stats.openStreams, requests: stats.requests, errors: stats.errors } : null,
    coolingKnown: cooling !== null,
    state,
    writes: [...(src.writes?.() ?? []), ...((src.gateway as GatewayExtras | null)?.writeProblems?.() ?? [])],
    instances,
  }, maskerOf(src.config).text);
}

function exitRow(e: ExitInfo, now: number, mono: number): NonNullable<InstanceRow["lastExit"]> {
  const agoMs = Math.round(mono - e.at); // whole ms, as the wall clock's: the JSON stays integers
  return { code: e.code, signal: e.signal, at: now - agoMs, agoMs };
}

/**
 * A cooldown's kind and what it does now, as `gw status` says it. Running, it keeps requests out
 * (a signature one signed requests only); over (half-open), it keeps nothing out: the next request
 * it kept out is its trial.
 */
function coolingNote(c: CoolingEntry, now: number): string {
  const signedOnly = !keepsOut(c, false);
  if (c.halfOpen) return `${c.kind}: the next ${signedOnly ? "signed " : ""}request is its trial`;
  return `${c.kind}, ${Math.ceil((c.until - now) / 1000)} s left${signedOnly ? ": keeps out signed requests only" : ""}`;
}
