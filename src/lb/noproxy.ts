// Bun's fetch honours HTTP_PROXY / HTTPS_PROXY for every host, loopback included, and only
// NO_PROXY turns that off (a per-request `proxy: ""` does not). A user with a proxy exported
// would otherwise get a gateway that cannot reach its own instances (a company proxy asked for
// 127.0.0.1 reaches its own machine, not ours). Bun reads NO_PROXY from process.env at each
// fetch, so adding loopback there before gw's first fetch of an instance is enough: the
// supervisor does before its readiness probes, the LB at start and on reload. Only loopback: an
// instance given by `url` on another machine (a relay) is reached the way the user's proxy
// settings say, as curl and CLIProxyAPI would — behind a company proxy it is the only way out.
// The supervisor hands instances the environment as it was (CLIProxyAPI uses its YAML proxy-url).

import { isLoopback } from "../config/global.ts";
import type { Config } from "../config/types.ts";

const LOOPBACK = ["127.0.0.1", "localhost", "::1"];

/** NO_PROXY value with loopback and `hosts` added to what `current` lists (nothing dropped). */
function withNoProxy(current: string | undefined, hosts: readonly string[]): string {
  const list: string[] = [];
  const have = new Set<string>();
  for (const raw of [...(current ?? "").split(","), ...LOOPBACK, ...hosts]) {
    const h = raw.trim();
    if (h && !have.has(h.toLowerCase())) {
      have.add(h.toLowerCase());
      list.push(h);
    }
  }
  return list.join(",");
}

/** Loopback hosts of the config's instances (`127.0.0.2`), as fetch sees them (IPv6 without brackets). */
function loopbackInstanceHosts(config: Config): string[] {
  const out: string[] = [];
  for (const i of config.instances) {
    try {
      const host = new URL(i.baseUrl).hostname.replace(/^\[(.*)\]$/, "$1");
      if (isLoopback(host)) out.push(host);
    } catch {
      // the loader validated the URL; nothing to add for one it did not
    }
  }
  return out;
}

/** Make this process's fetch bypass any proxy for loopback and the loopback instances of `config`. */
export function bypassProxyForInstances(config: Config, env: Record<string, string | undefined> = process.env): void {
  const hosts = loopbackInstanceHosts(config);
  const value = withNoProxy([env.NO_PROXY, env.no_proxy].filter(Boolean).join(","), hosts);
  env.NO_PROXY = value;
  env.no_proxy = value;
}

/**
 * The proxy Bun's fetch goes through for `url`, as its user should see it (no password), with the
 * variable that set it; undefined when none applies. For an error's words only: a relay named
 * "unreachable" when it is the user's proxy that refused is a wrong lead. NO_PROXY is matched as
 * Bun matches it: "*", or an entry the host ends with (host:port entries on that port only).
 */
export function proxyFor(url: URL, env: Record<string, string | undefined> = process.env): string | undefined {
  const names = url.protocol === "https:" ? ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] : ["HTTP_PROXY", "http_proxy"];
  const name = names.find((n) => env[n]);
  if (!name || bypassed(url, env.NO_PROXY ?? env.no_proxy ?? "")) return undefined;
  return `${withoutPassword(env[name]!)} ($${name})`;
}

function bypassed(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  for (const raw of noProxy.split(",")) {
    const entry = raw.trim().toLowerCase();
    if (entry === "*") return true;
    // name:port ([v6]:port), else a bare name (a bare IPv6 address has colons of its own)
    const m = /^(\[[^\]]*\]|[^:]+):(\d+)$/.exec(entry);
    if (m && m[2] !== port) continue;
    const name = (m ? m[1]! : entry).replace(/^\[(.*)\]$/, "$1").replace(/^\*/, "");
    if (name && (host.endsWith(name) || `.${host}` === name)) return true;
  }
  return false;
}

const withoutPassword = (proxy: string): string => proxy.replace(/\/\/[^/@]*@/, "//");
