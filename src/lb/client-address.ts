// Which machine a request came from, for the request log (pure). The socket's peer, unless that
// peer is this machine passing someone else's request on — a reverse proxy on loopback, as
// exposure and the status page judge it — whose forwarding header then names the client. A peer
// that is not loopback is the client itself: anyone could write a forwarding header.
import { isIP } from "node:net";
import { isLoopback } from "../observe/http.ts";

/**
 * The client's address: the proxy's own entry of X-Forwarded-For (the last: nginx's
 * $proxy_add_x_forwarded_for appends it to whatever the client sent), else the last `for=` of
 * Forwarded, else X-Real-IP — only when `peer` is loopback. IPv4-mapped IPv6 is written as IPv4.
 * A header that names no address (`for=unknown`, an obfuscated name, garbage) leaves the peer.
 */
export function clientAddress(peer: string | undefined, headers: Headers): string | undefined {
  const direct = plain(peer);
  if (direct === undefined || !isLoopback(direct)) return direct;
  const named = lastOf(headers.get("x-forwarded-for"), ",") ?? lastFor(headers.get("forwarded")) ?? headers.get("x-real-ip");
  return (named !== null && named !== undefined && address(named)) || direct;
}

// --- internal ---

/** `::ffff:10.0.0.7` → `10.0.0.7`; anything else as it is. */
function plain(ip: string | undefined): string | undefined {
  return ip?.startsWith("::ffff:") && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

function lastOf(value: string | null, sep: string): string | undefined {
  if (!value) return undefined;
  const last = value.slice(value.lastIndexOf(sep) + 1).trim();
  return last || undefined;
}

/** The last `for=` parameter of a Forwarded header (RFC 7239): each proxy appends its element. */
function lastFor(value: string | null): string | undefined {
  if (!value) return undefined;
  let found: string | undefined;
  for (const m of value.matchAll(/(?:^|[;,\s])for\s*=\s*("[^"]*"|[^;,\s]*)/gi)) found = m[1];
  return found;
}

/** An address out of a header's word: quotes, `[v6]`, `:port` taken off; undefined when it is none. */
function address(word: string): string | undefined {
  if (word.length > 64) return undefined;
  let w = word.trim().replace(/^"|"$/g, "");
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(w);
  if (bracketed) w = bracketed[1]!;
  else if (/^[\d.]+:\d+$/.test(w)) w = w.slice(0, w.lastIndexOf(":"));
  return isIP(w) ? plain(w) : undefined;
}
