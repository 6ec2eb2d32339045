// A real redis-server for shared-state tests: on a free loopback port, in its own temp dir, with
// nothing saved to disk unless asked (a restart comes back empty, like a Redis that lost its data;
// after save(), with what it held then, like a Redis restarted from an older RDB snapshot).
import { afterAll, afterEach } from "bun:test";
import { readFileSync } from "node:fs";
import { RedisClient, type Subprocess } from "bun";
import type { StateBackend } from "../../src/state/index.ts";
import { freePort } from "./ports.ts";
import { until } from "./supervisor.ts";
import { tempDir } from "./tmp.ts";

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** Running now? */
  readonly running: boolean;
  /** Start it (again) on the same port, empty; resolves once it answers PING. */
  start(): Promise<void>;
  /** SIGKILL: connections drop at once, nothing is saved. */
  kill(): Promise<void>;
  /** SAVE: the next start() comes back with what Redis holds now. */
  save(): Promise<void>;
  /** A plain client for looking at the keys (closed by stop()). */
  client(): Promise<RedisClient>;
  stop(): Promise<void>;
}

/**
 * A redis-server that is not started yet (for "absent at start"); call start().
 * `args`: more redis-server options (`--requirepass`, …); client() then needs `clientUrl`.
 * `tls`: it speaks TLS only (a managed Redis's `rediss://`), with this self-signed certificate
 * (test/helpers/tls.ts), which its clients here trust.
 */
export async function redisOnFreePort(o: { args?: readonly string[]; clientUrl?: (port: number) => string; tls?: { cert: string; key: string } } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = tempDir("gw-redis-");
  const url = `${o.tls ? "rediss" : "redis"}://127.0.0.1:${port}`;
  const listen = o.tls
    ? ["--port", "0", "--tls-port", String(port), "--tls-cert-file", o.tls.cert, "--tls-key-file", o.tls.key, "--tls-ca-cert-file", o.tls.cert, "--tls-auth-clients", "no"]
    : ["--port", String(port)];
  const clientTls = o.tls ? { tls: { ca: readFileSync(o.tls.cert, "utf8") } } : {};
  let proc: Subprocess | undefined;
  const clients: RedisClient[] = [];
  const r: TestRedis = {
    port,
    url,
    get running() {
      return proc !== undefined && proc.exitCode === null && proc.signalCode === null;
    },
    async start() {
      if (r.running) return;
      proc = Bun.spawn(["redis-server", ...listen, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning", ...(o.args ?? [])], {
        stdin: "ignore",
        stdout: "ignore",
        stderr: "ignore",
      });
      await until(() => ping(o.clientUrl?.(port) ?? url, clientTls), 10_000, () => `redis-server on port ${port} to answer`);
    },
    async kill() {
      if (!proc) return;
      proc.kill("SIGKILL");
      await proc.exited;
    },
    async save() {
      const c = await r.client();
      await c.send("SAVE", []);
    },
    async client() {
      const c = new RedisClient(o.clientUrl?.(port) ?? url, { autoReconnect: false, ...clientTls });
      await c.connect();
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients.splice(0)) c.close();
      await r.kill();
    },
  };
  return r;
}

export async function startRedis(o: Parameters<typeof redisOnFreePort>[0] = {}): Promise<TestRedis> {
  const r = await redisOnFreePort(o);
  await r.start();
  return r;
}

async function ping(url: string, tls: { tls?: { ca: string } }): Promise<boolean> {
  const c = new RedisClient(url, { autoReconnect: false, enableOfflineQueue: false, connectionTimeout: 500, ...tls });
  c.onclose = null;
  try {
    await c.connect();
    return (await c.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    c.close();
  }
}

/**
 * Lists a test file fills as it opens stores and starts servers: the stores are closed after each
 * test, the servers stopped after the file. Call once, at the file's top level.
 */
export function cleanedUp(): { readonly open: StateBackend[]; readonly servers: TestRedis[] } {
  const open: StateBackend[] = [];
  const servers: TestRedis[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    for (const r of servers) await r.stop();
  });
  return { open, servers };
}
