// Header hygiene for both directions: hop-by-hop headers belong to one connection and never
// cross the proxy (Bun does not filter them), and the client's credentials never go upstream.

import { fitHeaders, HEADER_MAX_BYTES, headerBytes, type HeadersDropped, HEADERS_MAX_BYTES } from "./header-bounds.ts";

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
 * nor any name `drop` says. One native copy into an object and a pass over its few names cost a
 * third of `new Headers(src)` plus a `has` for each hop-by-hop name — what a Response takes. (fetch
 * is the other way round: it takes a Headers object ~1.5 µs faster than a plain one, which eats
 * the saving; so the upstream request keeps a Headers copy.) A name with several values (only
 * `set-cookie` keeps them apart) is dropped.
 */
function plainEndToEnd(src: Headers, drop: (name: string) => boolean, dropped?: HeadersDropped): HeaderMap {
  const h = src.toJSON() as Record<string, string | string[]>;
  const connection = h.connection;
  const listed = typeof connection === "string" ? connection.toLowerCase().split(",").map((s) => s.trim()) : undefined;
  // Measured in the same pass: only headers too large for clients (header-bounds.ts) cost more.
  let size = 0;
  let largest = 0;
  for (const name in h) {
    const value = h[name];
    if (HOP_BY_HOP.has(name) || drop(name) || listed?.includes(name) || typeof value !== "string") delete h[name];
    else {
      const n = headerBytes(name, value);
      size += n;
      if (n > largest) largest = n;
    }
  }
  return size > HEADERS_MAX_BYTES || largest > HEADER_MAX_BYTES ? fitHeaders(h as HeaderMap, dropped) : (h as HeaderMap);
}

/** The client's headers as the upstream should see them: hop-by-hop and client credentials removed. */
export function upstreamHeaders(clientHeaders: Headers): Headers {
  // A native copy plus deletes; `has` first, because deleting an absent name costs several times
  // more than asking.
  const h = new Headers(clientHeaders);
  for (const name of HOP_BY_HOP) if (h.has(name)) h.delete(name);
  for (const name of CLIENT_AUTH) if (h.has(name)) h.delete(name);
  const connection = clientHeaders.get("connection");
  if (connection) for (const name of connection.split(",")) h.delete(name.trim());
  return h;
}

/** Present the instance's key the way every CLIProxyAPI endpoint accepts it. */
export function setInstanceKey(h: Headers | HeaderMap, apiKey: string): void {
  if (!apiKey) return;
  if (h instanceof Headers) h.set("authorization", `Bearer ${apiKey}`);
  else h.authorization = `Bearer ${apiKey}`;
}

/**
 * Upstream response headers for the client, plus gw's explanation headers. Besides hop-by-hop
 * headers, three kinds never pass: CORS (`access-control-*`: CLIProxyAPI allows every origin;
 * whether a browser may read gw's answer is gw's decision, lb/browser.ts), `set-cookie` (gw's
 * clients are API clients; a cookie from an upstream would be a credential for nobody's good), and
 * the headers that name the upstream account (ACCOUNT_HEADERS): a team's clients share gw's
 * accounts without knowing them.
 * The values pass `mask`, on every answer and not only on errors: an upstream may echo the key it
 * was sent in any header (a relay's debug header, a provider's headers CLIProxyAPI passes through).
 * Headers too large for clients are left out (header-bounds.ts), and `dropped` told of them.
 */
export function downstreamHeaders(upstream: Headers, explain: Record<string, string>, mask: (s: string) => string, dropped?: HeadersDropped): HeaderMap {
  return Object.assign(maskValues(plainEndToEnd(upstream, notForClients, dropped), mask), explain, NEVER_A_DOCUMENT);
}

/**
 * An answer is data for an API client, never a page: were an upstream's HTML (a relay's error
 * page, an upstream that serves some), a browser sent to it would run its script on gw's own
 * origin, which may read the status data and call the APIs with the accounts. Sandboxed, it runs
 * nothing, reaches nothing and is framed nowhere; nosniff keeps a browser from guessing HTML.
 * gw's own errors carry it too (dialect.ts): framed, they rendered at gw's origin in a page's frame.
 */
export const NEVER_A_DOCUMENT = { "x-content-type-options": "nosniff", "content-security-policy": "sandbox; default-src 'none'; frame-ancestors 'none'" };

/**
 * Mask every value in place, and drop a header whose name quotes a secret (a name cannot carry the
 * masked form, and means nothing to a client). The headers are asked once, joined (~1 µs for a
 * usual answer's few); only when that finds something is each masked on its own.
 */
function maskValues(h: HeaderMap, mask: (s: string) => string): HeaderMap {
  let all = "";
  for (const name in h) all += `${name}: ${h[name]}\n`;
  if (mask(all) === all) return h;
  for (const name in h) {
    if (mask(name) !== name) {
      delete h[name];
      continue;
    }
    const value = h[name]!;
    const masked = mask(value);
    if (masked !== value) h[name] = masked.replaceAll("…", "..."); // header values are ASCII
  }
  return h;
}

/**
 * What CLIProxyAPI's passthrough-headers (which gw turns on: instances/yaml.ts) passes on from an
 * upstream that says whose account answered: Anthropic's organization, OpenAI's organization and
 * project, the ChatGPT account of a Codex login — and a subscription's usage state
 * (`anthropic-ratelimit-unified-*`), which Claude Code turns into "approaching your limit"
 * warnings: that of one account of gw's pool, not what the user can still do through gw. Request
 * ids and the API's per-key rate limits pass.
 */
const ACCOUNT_HEADERS: ReadonlySet<string> = new Set(["anthropic-organization-id", "openai-organization", "openai-project", "chatgpt-account-id"]);
const ACCOUNT_PREFIX = "anthropic-ratelimit-unified-";

const notForClients = (name: string) => name === "set-cookie" || name.startsWith("access-control-") || ACCOUNT_HEADERS.has(name) || name.startsWith(ACCOUNT_PREFIX);
