// Bun's fetch honours HTTP_PROXY / HTTPS_PROXY for every host, loopback included, and only
// NO_PROXY turns that off (a per-request `proxy: ""` does not). A user with a proxy exported
// would otherwise get a gateway that cannot reach its own instances (a company proxy asked for
// 127.0.0.1 reaches its own machine, not ours). Bun reads NO_PROXY from process.env at each
// fetch, so adding loopback there before gw's first fetch of an instance is enough: the
// supervisor does before its readiness probes, the LB at start and on reload. Only loopback: an
// instance given by `url` on another machine (a relay) is reached the way the user's proxy
// settings say, as curl and CLIProxyAPI would — behind a company proxy it is the only way out.
// The supervisor hands instances the environment as it was (CLIProxyAPI uses its YAML proxy-url).

import { isLoopback } from "../config/loopback.ts";
import type { Config } from "../config/types.ts";

/** What every NO_PROXY reader takes for this machine. */
const LOOPBACK_NAMES = ["127.0.0.1", "localhost", "::1"];

/**
 * The NO_PROXY lists `current` (comma or space separated, as curl and the agents read them) as one
 * comma-separated list with loopback and `hosts` added: each name once, theirs first, nothing dropped.
 */
export function noProxyWith(current: readonly (string | undefined)[], hosts: readonly string[]): string {
  const list: string[] = [];
  const have = new Set<string>();
  for (const h of [...current.flatMap((v) => (v ?? "").split(/[\s,]+/)), ...LOOPBACK_NAMES, ...hosts]) {
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
  const value = noProxyWith([env.NO_PROXY, env.no_proxy], hosts);
  env.NO_PROXY = value;
  env.no_proxy = value;
}

/**
 * The proxy Bun's fetch goes through for `url`, as its user should see it (no user or password),
 * with the variable that set it; undefined when none applies. For an error's words only: a relay
 * named "unreachable" when it is the user's proxy that refused is a wrong lead, and so is a proxy
 * named when Bun went direct. NO_PROXY is matched as Bun matches it: "*"; a name, itself or as a
 * dot-bounded ending ("example.com" covers relay.example.com, not myexample.com); an IP address
 * exactly or in an IPv4 CIDR block; host:port entries on that port only.
 */
export function proxyFor(url: URL, env: Record<string, string | undefined> = process.env): string | undefined {
  // Bun takes no HTTP_PROXY for an https URL (measured, 1.4.5): only HTTPS_PROXY
  const names = url.protocol === "https:" ? ["HTTPS_PROXY", "https_proxy"] : ["HTTP_PROXY", "http_proxy"];
  const name = names.find((n) => env[n]);
  if (!name || bypassed(url, env.NO_PROXY || env.no_proxy || "")) return undefined;
  return `${withoutUser(env[name]!)} ($${name})`;
}

function bypassed(url: URL, noProxy: string): boolean {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const ip = isIP(host);
  for (const raw of noProxy.split(",")) {
    const entry = raw.trim().toLowerCase();
    if (entry === "*") return true;
    // name:port ([v6]:port), else a bare name (a bare IPv6 address has colons of its own)
    const m = /^(\[[^\]]*\]|[^:]+):(\d+)$/.exec(entry);
    if (m && m[2] !== port) continue;
    const name = (m ? m[1]! : entry).replace(/^\[(.*)\]$/, "$1").replace(/^\*?\.?/, "");
    if (!name) continue;
    if (ip ? host === name || inBlock(host, name) : host === name || host.endsWith(`.${name}`)) return true;
  }
  return false;
}

/** Whether the IPv4 address `host` is in the block `cidr` ("10.0.0.0/8"); false for anything else. */
function inBlock(host: string, cidr: string): boolean {
  const [base, bits] = cidr.split("/");
  const n = Number(bits);
  const a = ipv4(host);
  const b = ipv4(base!);
  if (a === undefined || b === undefined || !(n >= 0 && n <= 32)) return false;
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
}

function ipv4(s: string): number | undefined {
  const parts = s.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) < 256)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

const isIP = (host: string): boolean => host.includes(":") || ipv4(host) !== undefined;

/** The proxy URL without its user and password, with a scheme or without one (`user:pass@host:3128`, which Bun takes too). */
const withoutUser = (proxy: string): string => proxy.replace(/^([a-z][a-z\d+.-]*:\/\/)?[^/]*@/i, "$1");
