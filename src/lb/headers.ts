// Header hygiene for both directions: hop-by-hop headers belong to one connection and never
// cross the proxy (Bun does not filter them), and the client's credentials never go upstream.

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "proxy-connection",
  "proxy-authorization",
  "proxy-authenticate",
  "proxy-authentication-info",
  "host",
  // Recomputed by Bun for the body actually sent (a rewrite changes the length).
  "content-length",
]);

/** Client credentials: gw checks them itself and presents the instance's own key instead. */
const CLIENT_AUTH: ReadonlySet<string> = new Set(["authorization", "x-api-key", "x-goog-api-key"]);

/** Headers gw may never set through a route's `extra_headers`. */
export function isReservedHeader(name: string): boolean {
  return HOP_BY_HOP.has(name.toLowerCase());
}

/** Header names (lower case) → values: what fetch and Response take as they are. */
export type HeaderMap = Record<string, string>;

/**
 * `src` as a plain map without its hop-by-hop headers (those listed in `Connection` included),
 * nor any name in `drop`. One native copy into an object and a pass over its few names cost a
 * third of `new Headers(src)` plus a `has` for each hop-by-hop name. Undefined when a name has
 * several values that must stay apart (`set-cookie`): the caller then keeps a Headers object.
 */
function plainEndToEnd(src: Headers, drop?: ReadonlySet<string>): HeaderMap | undefined {
  const h = src.toJSON() as Record<string, string | string[]>;
  const connection = h.connection;
  const listed = typeof connection === "string" ? connection.toLowerCase().split(",").map((s) => s.trim()) : undefined;
  for (const name in h) {
    if (HOP_BY_HOP.has(name) || drop?.has(name) || listed?.includes(name)) delete h[name];
    else if (typeof h[name] !== "string") return undefined;
  }
  return h as HeaderMap;
}

/** The client's headers as the upstream should see them: hop-by-hop and client credentials removed. */
export function upstreamHeaders(clientHeaders: Headers): HeaderMap {
  // A request has no reason to repeat set-cookie; if one does, those values are dropped.
  return plainEndToEnd(clientHeaders, CLIENT_AUTH) ?? plainEndToEnd(withoutSetCookie(clientHeaders), CLIENT_AUTH)!;
}

/** Present the instance's key the way every CLIProxyAPI endpoint accepts it. */
export function setInstanceKey(h: HeaderMap | Headers, apiKey: string): void {
  if (!apiKey) return;
  if (h instanceof Headers) h.set("authorization", `Bearer ${apiKey}`);
  else h.authorization = `Bearer ${apiKey}`;
}

/** Upstream response headers for the client, plus gw's explanation headers. */
export function downstreamHeaders(upstream: Headers, explain: Record<string, string>): HeaderMap | Headers {
  const h = plainEndToEnd(upstream);
  if (h) return Object.assign(h, explain);
  // Several set-cookie values: they must stay separate headers, which only Headers can say.
  const out = new Headers(upstream);
  for (const name of HOP_BY_HOP) out.delete(name);
  for (const name of (upstream.get("connection") ?? "").split(",")) if (name.trim()) out.delete(name.trim());
  for (const k in explain) out.set(k, explain[k]!);
  return out;
}

function withoutSetCookie(h: Headers): Headers {
  const out = new Headers(h);
  out.delete("set-cookie");
  return out;
}
