/**
 * `gw mock`: a faithful stand-in for one CLIProxyAPI instance. Its status codes, error bodies,
 * headers and SSE framing follow CLIProxyAPI v7's handlers; faults.ts documents the fault syntax.
 *
 *     const mock = startMock({ name: "a", apiKeys: ["k"], models: ["gemini-3-flash"] });
 *     await fetch(`${mock.url}/v1/messages`, ...);  mock.stats();  await mock.stop();
 */

import { basename, dirname } from "node:path";
import { type AuthScan, scanAuthDir, typesIn } from "./auth-files.ts";
import { Catalog } from "./catalog.ts";
import { type InstanceFile, type MockModel, readInstanceFile } from "./config.ts";
import { type Fault, NO_FAULT, parseFault } from "./faults.ts";
import { makeFetch } from "./server.ts";
import { type MockStats, StatsRecorder } from "./stats.ts";
import { UNREGISTERED } from "./upstream.ts";
import { watchDir } from "./watch-dir.ts";

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
  const stats = new StatsRecorder(name);
  let yamlModels = file?.models ?? [];
  let auth = scanAuthDir(file?.authDir);
  const catalog = () => new Catalog([...yamlModels, ...extraModels(opts)], UNREGISTERED, typesIn(auth));
  const instance = { name, catalog: catalog(), defaults: defaultFault(file, opts), stats };
  const apiKeys = new Set([...(file?.apiKeys ?? []), ...(opts.apiKeys ?? [])]);
  // CLIProxyAPI watches its auth-dir too: a login (or a credential removed) changes what it serves
  // and lists without a restart, which `gw login` counts on.
  const rescan = (dir: string | undefined) => {
    auth = scanAuthDir(dir, auth);
    instance.catalog = catalog();
  };
  const authChanged = () => {
    rescan(auth.root);
    // As CLIProxyAPI's log says each credential change; one line per settled burst.
    console.error(`gw mock: auth-dir ${JSON.stringify(auth.root)} changed: ${typesIn(auth).join(", ") || "no"} credentials`);
  };
  let authWatch = watchAuthDir(auth, authChanged);
  // CLIProxyAPI watches its config and hot-reloads it; gw relies on that when a reload adds a
  // route (a model) or changes keep-alives without restarting the instance.
  const configWatch = opts.config ? watchInstanceFile(opts.config, (next) => {
    yamlModels = next.models;
    instance.defaults = defaultFault(next, opts);
    apiKeys.clear();
    for (const k of [...next.apiKeys, ...(opts.apiKeys ?? [])]) apiKeys.add(k);
    const root = auth.root;
    rescan(next.authDir);
    if (auth.root !== root) {
      authWatch?.close();
      authWatch = watchAuthDir(auth, authChanged);
    }
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
      configWatch?.close();
      authWatch?.close();
      return server.stop(true);
    },
  };
}

const extraModels = (opts: MockOptions): MockModel[] => (opts.models ?? []).map((m) => (typeof m === "string" ? { id: m, provider: UNREGISTERED } : m));

/**
 * Calls `apply` with the file's new contents whenever it changes. A file that does not read or
 * parse keeps the running settings, as CLIProxyAPI does; the reason goes to stderr (the instance's log).
 */
function watchInstanceFile(file: string, apply: (next: InstanceFile) => void): { close(): void } {
  return watchDir(dirname(file), (name) => name === basename(file), () => {
    try {
      apply(readInstanceFile(file));
    } catch (err) {
      console.error(`gw mock: config not reloaded, keeping the running one: ${(err as Error).message}`);
    }
  });
}

/**
 * Calls `changed` after the *.json files directly in the scan's directory change (CLIProxyAPI's
 * watch is not recursive either). None for a directory that is not there: CLIProxyAPI would create
 * it, but the mock writes nowhere it is not told to; gw creates an instance's.
 */
function watchAuthDir(scan: AuthScan, changed: () => void): { close(): void } | undefined {
  if (!scan.root) return undefined;
  try {
    return watchDir(scan.root, (name) => name.toLowerCase().endsWith(".json"), changed);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") console.error(`gw mock: auth-dir ${JSON.stringify(scan.root)} not watched (${code ?? (err as Error).message}): a change needs a restart`);
    return undefined;
  }
}

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
