// Bun's fetch honours HTTP_PROXY / HTTPS_PROXY for every host, loopback included, and only
// NO_PROXY turns that off (a per-request `proxy: ""` does not). A user with a proxy exported
// would otherwise get a gateway that cannot reach its own instances. Bun reads NO_PROXY from
// process.env at each fetch, so adding the instances' hosts there at LB start is enough; the
// supervisor hands instances the environment as it was (CLIProxyAPI uses its YAML proxy-url).

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

/** Hosts of the config's instances, as fetch sees them (IPv6 without brackets). */
function instanceHosts(config: Config): string[] {
  const out: string[] = [];
  for (const i of config.instances) {
    try {
      out.push(new URL(i.baseUrl).hostname.replace(/^\[(.*)\]$/, "$1"));
    } catch {
      // the loader validated the URL; nothing to add for one it did not
    }
  }
  return out;
}

/** Make this process's fetch bypass any proxy for loopback and the instances of `config`. */
export function bypassProxyForInstances(config: Config, env: Record<string, string | undefined> = process.env): void {
  const hosts = instanceHosts(config);
  const value = withNoProxy([env.NO_PROXY, env.no_proxy].filter(Boolean).join(","), hosts);
  env.NO_PROXY = value;
  env.no_proxy = value;
}
