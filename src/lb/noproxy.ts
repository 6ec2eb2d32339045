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
