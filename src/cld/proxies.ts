// What an agent a launcher starts (cld's modes, gw run's agents) keeps of the user's proxies
// (pure). Behind a company proxy it is the only way out of their network: Anthropic's service,
// WebFetch, MCP servers over HTTP, a team's gw elsewhere. But a proxy asked for 127.0.0.1 reaches
// its own machine, not ours, so loopback traffic (the gateway, Antigravity's proxy) must go
// direct: through NO_PROXY for an agent that honours it, by blanking the proxies for one that
// does not (then only loopback is reachable, as before).
import type { Env } from "../config/env.ts";
import { isLoopback } from "../config/loopback.ts";
import { noProxyWith } from "../lb/noproxy.ts";

export const PROXY_VARS = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] as const;

interface ProxyRule {
  /** Variables to empty (empty = unset for the agents). */
  readonly blank: readonly string[];
  /** Variables to set. */
  readonly set: Readonly<Record<string, string>>;
}

const KEEP: ProxyRule = { blank: [], set: {} };

/**
 * The rule for an agent whose API is at `apiUrl` (undefined: a gateway on this machine at an
 * address not given). Elsewhere (Anthropic, a remote gw): the proxies stay as they are. On this
 * machine: they stay, with loopback and the API's host added to NO_PROXY and no_proxy, when the
 * agent honours NO_PROXY (asked only then: it may start the agent); else they are blanked.
 */
export function proxyRule(user: Env, apiUrl: string | undefined, honoursNoProxy: () => boolean): ProxyRule {
  const host = apiUrl === undefined ? undefined : URL.parse(apiUrl)?.hostname.replace(/^\[(.*)\]$/, "$1");
  const local = apiUrl === undefined || (host !== undefined && isLoopback(host));
  if (!local || !PROXY_VARS.some((k) => user[k])) return KEEP;
  if (!honoursNoProxy()) return { blank: PROXY_VARS, set: {} };
  const value = noProxyWith([user.NO_PROXY, user.no_proxy], host ? [host] : []);
  return { blank: [], set: { NO_PROXY: value, no_proxy: value } };
}
