// Helpers for LB tests: a Config from TOML through the real loader, a gateway on a free port,
// and tiny recording upstreams for behaviours the mock does not model (hangs, resets, aborts).

import { parseConfig, formatProblem } from "../../src/config/index.ts";
import type { Config } from "../../src/config/types.ts";
import { type GatewayOptions, type RunningGateway, startGateway } from "../../src/lb/server.ts";
import { join } from "node:path";
import { tempDir } from "./tmp.ts";

/**
 * Parse TOML with the real loader; any error fails the test with the loader's own words. The
 * default file lives in a fresh temp dir (removed after the run): a gateway writes its request
 * log beside the config.
 */
export function configFrom(toml: string, file = join(tempDir("gw-lb-"), "providers.toml")): Config {
  const { config, problems } = parseConfig(toml, file, {});
  if (!config) throw new Error(`config has errors:\n${problems.map((p) => formatProblem(p)).join("\n")}`);
  return config;
}

/** `[instances.NAME]` blocks for upstreams gw does not start (`url` + `api_key`). */
export function externalInstances(upstreams: Record<string, string>, provider = "anthropic"): string {
  return Object.entries(upstreams)
    .map(([name, url]) => `[instances.${name}]\nurl = "${url}"\napi_key = "key-${name}"\nproviders = [{ type = "${provider}", api_keys = ["sk-${name}"] }]\n`)
    .join("\n");
}

/**
 * A gateway on a free loopback port. Its log (cooling targets, probes) is dropped unless the test
 * reads it: the targets tests make fail would otherwise fill the suite's output with warnings.
 */
export function startTestGateway(config: Config, opts: Omit<GatewayOptions, "hostname" | "port"> = {}): RunningGateway {
  return startGateway(config, { log: QUIET, ...opts, hostname: "127.0.0.1", port: 0 });
}

const QUIET = { info() {}, warn() {} };

export interface Seen {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

export interface TestUpstream {
  readonly url: string;
  readonly seen: Seen[];
  /** Requests whose client (gw) went away before the handler finished. */
  readonly aborted: string[];
  stop(): Promise<void>;
}

/** A recording upstream; `reply` answers each request (default: a small JSON echo of the model). */
export function testUpstream(reply?: (req: Request, seen: Seen) => Response | Promise<Response>): TestUpstream {
  const seen: Seen[] = [];
  const aborted: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const s: Seen = { method: req.method, path: url.pathname + url.search, headers: req.headers, body: await req.text() };
      seen.push(s);
      req.signal.addEventListener("abort", () => aborted.push(s.path));
      if (reply) return reply(req, s);
      const model = s.body ? (JSON.parse(s.body) as { model?: string }).model : undefined;
      return Response.json({ ok: true, model });
    },
  });
  return {
    url: server.url.href.replace(/\/$/, ""),
    seen,
    aborted,
    stop: () => server.stop(true),
  };
}

/** Poll until `check` holds (no fixed sleeps: the machine may be loaded). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** A loopback URL where nothing listens (a port just released), for connection failures. */
export function deadUrl(): string {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const url = s.url.href.replace(/\/$/, "");
  s.stop(true);
  return url;
}
