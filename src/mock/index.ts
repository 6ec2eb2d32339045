/**
 * `gw mock`: a faithful stand-in for one CLIProxyAPI instance. Its status codes, error bodies,
 * headers and SSE framing follow CLIProxyAPI v7's handlers; faults.ts documents the fault syntax.
 *
 *     const mock = startMock({ name: "a", apiKeys: ["k"], models: ["gemini-3-flash"] });
 *     await fetch(`${mock.url}/v1/messages`, ...);  mock.stats();  await mock.stop();
 */

import { watch } from "node:fs";
import { basename, dirname } from "node:path";
import { authTypes } from "./auth-files.ts";
import { Catalog } from "./catalog.ts";
import { type InstanceFile, type MockModel, readInstanceFile } from "./config.ts";
import { type Fault, NO_FAULT, parseFault } from "./faults.ts";
import { makeFetch } from "./server.ts";
import { type MockStats, StatsRecorder } from "./stats.ts";
import { UNREGISTERED } from "./upstream.ts";

export { FaultSpecError } from "./faults.ts";
export type { MockStats, RecordedRequest } from "./stats.ts";

export interface MockOptions {
  /**
   * A CLIProxyAPI YAML to read host, port, api-keys, models and keep-alive from; the types of the
   * credential files in its auth-dir tell which executor serves a model it does not list.
   */
  config?: string;
  /** 0 (default) = a free port. Overrides the YAML's port. */
  port?: number;
  /** Default 127.0.0.1 (the YAML's host when given; "" there means all interfaces). */
  host?: string;
  /** Client keys; empty = no client auth (like CLIProxyAPI). Added to the YAML's api-keys. */
  apiKeys?: readonly string[];
  /** Shown in every answer. Default: the YAML's base name, else "mock". */
  name?: string;
  /** Models to accept (ids or {id, provider}); none = accept any model. Added to the YAML's. */
  models?: readonly (string | MockModel)[];
  /** Instance-wide default fault spec, e.g. "interval=20~events=50" or "503". */
  fault?: string;
  /** Content deltas per answer (default 12). */
  events?: number;
  /** Milliseconds between stream events (default 0). */
  intervalMs?: number;
  /**
   * `: keep-alive` interval in streams, a ticker from the first event on (default: the YAML's
   * streaming.keepalive-seconds, else off). The YAML's nonstream-keepalive-interval sets the
   * ns-keepalive fault knob likewise.
   */
  keepaliveMs?: number;
}

export interface MockServer {
  url: string;
  port: number;
  name: string;
  stats(lastN?: number): MockStats;
  reset(): void;
  stop(): Promise<void>;
}

/** Starts the mock in this process. Throws (FaultSpecError or Error) on bad options. */
export function startMock(opts: MockOptions = {}): MockServer {
  const file = opts.config ? readInstanceFile(opts.config) : undefined;
  const name = opts.name ?? file?.name ?? "mock";
  const models = [...(file?.models ?? []), ...extraModels(opts)];
  const defaults = defaultFault(file, opts);
  const stats = new StatsRecorder(name);
  const instance = { name, catalog: new Catalog(models, UNREGISTERED, authTypes(file?.authDir)), defaults, stats };
  const apiKeys = new Set([...(file?.apiKeys ?? []), ...(opts.apiKeys ?? [])]);
  // CLIProxyAPI watches its config and hot-reloads it; gw relies on that when a reload adds a
  // route (a model) or changes keep-alives without restarting the instance.
  const watcher = opts.config ? watchInstanceFile(opts.config, (next) => {
    instance.catalog = new Catalog([...next.models, ...extraModels(opts)], UNREGISTERED, authTypes(next.authDir));
    instance.defaults = defaultFault(next, opts);
    apiKeys.clear();
    for (const k of [...next.apiKeys, ...(opts.apiKeys ?? [])]) apiKeys.add(k);
  }) : undefined;
  const host = opts.host ?? (file?.host === "" ? "0.0.0.0" : file?.host) ?? "127.0.0.1";
  const server = Bun.serve({
    hostname: host,
    port: opts.port ?? file?.port ?? 0,
    // Go's http.Server has no idle timeout: slow and silent streams must survive.
    idleTimeout: 0,
    development: false,
    fetch: makeFetch({ instance, apiKeys }),
    error: (err) => Response.json({ error: { message: `gw mock: ${err.message}`, type: "server_error" } }, { status: 500 }),
  });
  const port = server.port!;
  const shownHost = host === "0.0.0.0" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    name,
    stats: (lastN) => stats.snapshot(lastN),
    reset: () => stats.reset(),
    stop: () => {
      watcher?.close();
      return server.stop(true);
    },
  };
}

const extraModels = (opts: MockOptions): MockModel[] => (opts.models ?? []).map((m) => (typeof m === "string" ? { id: m, provider: UNREGISTERED } : m));

/**
 * Calls `apply` with the file's new contents whenever it changes (gw replaces it by a rename, so
 * the directory is watched). A file that does not read or parse keeps the running settings, as
 * CLIProxyAPI does; the reason goes to stderr (the instance's log).
 */
function watchInstanceFile(file: string, apply: (next: InstanceFile) => void): { close(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const reread = () => {
    try {
      apply(readInstanceFile(file));
    } catch (err) {
      console.error(`gw mock: config not reloaded, keeping the running one: ${(err as Error).message}`);
    }
  };
  const w = watch(dirname(file), (_event, changed) => {
    if (changed !== basename(file)) return;
    clearTimeout(timer);
    timer = setTimeout(reread, RELOAD_SETTLE_MS);
  });
  w.unref();
  return {
    close() {
      clearTimeout(timer);
      w.close();
    },
  };
}

/** Changes closer together than this are read once. */
const RELOAD_SETTLE_MS = 50;

/** The instance-wide fault: built-in defaults < the YAML's settings < command-line knobs. */
function defaultFault(file: InstanceFile | undefined, opts: MockOptions): Readonly<Fault> {
  const defined = (o: Partial<Fault>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return Object.freeze({
    ...NO_FAULT,
    ...defined({
      keepaliveMs: file?.keepaliveMs,
      nonstreamKeepaliveMs: file?.nonstreamKeepaliveMs,
      passthrough: file?.passthroughHeaders || undefined,
    }),
    ...(opts.fault ? parseFault(opts.fault) : {}),
    ...defined({ events: opts.events, intervalMs: opts.intervalMs, keepaliveMs: opts.keepaliveMs }),
  });
}
