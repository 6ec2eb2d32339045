// Browsers: gw serves programs (SDKs, Claude Code, curl), which send neither `Origin` nor
// `Sec-Fetch-*` and name gw by the address they connect to. A web page is different: any page
// the user opens can make the browser send requests to 127.0.0.1, and a DNS-rebinding page can
// even read the answers under its own name. Without this step the user's accounts would serve
// whoever runs such a page. So, for every request, before anything else (local answers, auth,
// /metrics, the status page):
//
// - Host must be a name this gw serves: a loopback name, `[global] host`, or one of
//   `[global] allowed_hosts`. Any other name from a loopback peer is DNS rebinding (or an alias
//   the user has to list). Peers that come over the network may use any name: gw listens there
//   only with api_keys, which a page cannot know.
// - A request carrying `Origin` passes only if the origin is the page gw itself serves (same
//   origin: the status page) or listed in `[global] cors_origins`; the listed ones get CORS
//   headers on the answer, nobody else does.
// - Without `Origin`, a browser's cross-site request (`Sec-Fetch-Site: cross-site | same-site`,
//   e.g. an <img>, a no-cors fetch, an <iframe>) is refused unless it is a top-level navigation
//   (a link to the status page); a navigation to a model call is refused later, as any request
//   with a method its path does not take (own-error.ts wrongMethod).
// - OPTIONS is answered here and never forwarded: a preflight from a listed origin gets its
//   allowance, everything else none.
//
// Pure apart from reading the request; the peer address is looked up only for unknown names.

import type { Config } from "../config/types.ts";
import { dialectOf, errorResponse } from "./dialect.ts";

export interface BrowserPolicy {
  /** Names (lower case, without port) that Host may carry. */
  readonly hosts: ReadonlySet<string>;
  /** `[global] cors_origins`, as browsers serialize origins. */
  readonly origins: ReadonlySet<string>;
}

export function browserPolicy(config: Config): BrowserPolicy {
  const g = config.global;
  const hosts = new Set(["localhost", "127.0.0.1", "[::1]"]);
  for (const h of [...g.allowedHosts, g.host, g.bindHost]) {
    const name = (h.includes(":") && !h.startsWith("[") ? `[${h}]` : h).toLowerCase(); // a bare IPv6 address as Host writes it
    if (WILDCARD.has(name)) continue;
    hosts.add(name);
    if (isDomainName(name)) hosts.add(`${name}.`); // fully qualified (`http://gw.example.com.:8145/`): DNS resolves both alike
  }
  return { hosts, origins: new Set(g.corsOrigins) };
}

/**
 * The verdict on one request: a Response to answer with now (a refusal or a preflight
 * answer), an origin whose answer must carry CORS headers, or undefined to carry on as usual.
 */
export function checkBrowser(p: BrowserPolicy, req: Request, peer: () => string | undefined): Response | string | undefined {
  const headers = req.headers;
  const host = headers.get("host");
  if (host !== null && !p.hosts.has(hostName(host)) && !isLoopbackName(hostName(host)) && isLoopbackPeer(peer())) {
    return refuse(req, `gw does not serve the name "${hostName(host).slice(0, 100)}" (a web page using DNS rebinding?); if it is yours, add it to [global] allowed_hosts`, "forbidden_host");
  }
  const origin = headers.get("origin");
  let cors: string | undefined;
  if (origin !== null) {
    if (p.origins.has(origin)) cors = origin;
    else if (host === null || !isSameOrigin(origin, host)) {
      return refuse(req, `browser pages from ${origin.slice(0, 100)} may not use gw; to allow one, add it to [global] cors_origins`, "forbidden_origin");
    }
  } else {
    const site = headers.get("sec-fetch-site");
    // A top-level navigation only: an <iframe>, <object> or <embed> navigates too, and whether
    // it loaded told a page which routes exist and whether a guessed client key was right.
    if ((site === "cross-site" || site === "same-site") && (headers.get("sec-fetch-mode") !== "navigate" || headers.get("sec-fetch-dest") !== "document")) {
      return refuse(req, "cross-site browser requests may not use gw; to allow a page, add its origin to [global] cors_origins", "forbidden_origin");
    }
  }
  if (req.method === "OPTIONS") return cors ? preflight(cors, headers) : new Response(null, { status: 204, headers: { allow: ALLOW } });
  return cors;
}

/** The answer for a listed origin, with the CORS headers a browser needs to hand it to the page. */
export function withCors(res: Response, origin: string): Response {
  res.headers.set("access-control-allow-origin", origin);
  res.headers.set("access-control-expose-headers", "*");
  res.headers.append("vary", "Origin");
  return res;
}

// --- internal ---

const WILDCARD = new Set(["", "0.0.0.0", "[::]", "[::0]"]);
const ALLOW = "GET, HEAD, POST, OPTIONS";
/** How long a browser may reuse a preflight answer (seconds). */
const PREFLIGHT_MAX_AGE = "600";

/** `Host` without its port, lower-cased; `[::1]:8145` → `[::1]`. */
function hostName(host: string): string {
  const end = host.startsWith("[") ? host.indexOf("]") + 1 : host.indexOf(":");
  return (end > 0 ? host.slice(0, end) : host).toLowerCase();
}

/** The Host header names this machine's loopback (`localhost:8145`, `127.0.0.1`, `[::1]:8145`). */
export function isLoopbackHost(host: string): boolean {
  const name = hostName(host);
  return isLoopbackName(name) || name === "[::1]";
}

/**
 * 127.0.0.0/8, `localhost` and `*.localhost` (browsers resolve those to loopback themselves), also
 * written fully qualified (`localhost.`: the launchers take it for loopback, config/global.ts).
 */
function isLoopbackName(name: string): boolean {
  const n = name.endsWith(".localhost.") || name === "localhost." ? name.slice(0, -1) : name;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(n) || n === "localhost" || n.endsWith(".localhost") || n === "[::ffff:127.0.0.1]";
}

/** A name DNS resolves (its last label is not a number), not an address. */
function isDomainName(name: string): boolean {
  return !name.startsWith("[") && !name.endsWith(".") && /[a-z]/.test(name.slice(name.lastIndexOf(".") + 1));
}

function isLoopbackPeer(ip: string | undefined): boolean {
  if (ip === undefined) return true; // unknown: assume the worst
  const v4 = ip.startsWith("::ffff:") ? ip.slice(7) : ip;
  return v4.startsWith("127.") || ip === "::1";
}

/** The page gw serves itself (the status page), over http or behind a TLS proxy. */
function isSameOrigin(origin: string, host: string): boolean {
  const rest = origin.startsWith("http://") ? origin.slice(7) : origin.startsWith("https://") ? origin.slice(8) : undefined;
  return rest !== undefined && rest.toLowerCase() === host.toLowerCase();
}

function preflight(origin: string, h: Headers): Response {
  const out: Record<string, string> = {
    "access-control-allow-origin": origin,
    "access-control-allow-methods": ALLOW,
    "access-control-max-age": PREFLIGHT_MAX_AGE,
    vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
  };
  const asked = h.get("access-control-request-headers");
  if (asked) out["access-control-allow-headers"] = asked;
  return new Response(null, { status: 204, headers: out });
}

function refuse(req: Request, message: string, code: "forbidden_host" | "forbidden_origin"): Response {
  const url = req.url;
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const path = start === -1 ? "/" : url.slice(start).split("?")[0]!;
  return errorResponse(dialectOf(path, req.headers), 403, message, code);
}
