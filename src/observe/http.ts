// gw's own HTTP surface on the LB port: Prometheus `/metrics`, the status page `/_gw/` and its
// data `/_gw/api/status`. The data is open to loopback clients (not those a local reverse proxy
// forwards), or to anyone presenting `[global] admin_key` (Authorization: Bearer, x-api-key, or
// ?key=); everyone else gets 403. The page itself holds no data (a fixed HTML file: it asks the API
// for everything it shows) and loads for anyone who gets past the browser checks, so its key can
// travel in the URL's fragment (`/_gw/#key=…`), which no server or proxy log ever sees.
//
// Wired in lb/server.ts: `observe.serve` comes right after the browser check in the fetch
// handler, before intake and the client-key check (the admin rule is its own; a proxied request
// pays one path test), and returns undefined for every other path, so the request goes on to the
// LB. record-builder.ts feeds it each finished request, deliver.ts the open streams, and
// supervisor/live.ts (gw up) the instance rows, the cooldowns and today's tokens (seedToday).

import { timingSafeEqual } from "node:crypto";
import type { Config } from "../config/types.ts";
import { isLoopbackHost } from "../lb/browser.ts";
import { maskDeep, maskerOf } from "./mask.ts";
import { createGwMetrics, type GwMetrics, type LiveState, type LiveStateBackend, NO_LIVE_STATE, PROMETHEUS_CONTENT_TYPE } from "./metrics.ts";
import { STATUS_PAGE } from "./page.ts";
import type { RequestRecord } from "./record.ts";
import { dayOf } from "./requestlog.ts";
import { buildStatus, createStatusFeed, type StatusFeed } from "./status-api.ts";
import { dayFiles, readRecords } from "./day-files.ts";

interface ObserveContext {
  /** `server.requestIP(req)?.address`; undefined counts as not loopback. */
  clientIp: string | undefined;
  config: Config;
  metrics: GwMetrics;
  feed: StatusFeed;
  live: () => LiveState;
  startedAt: number;
}

export type Observability = ReturnType<typeof createObservability>;

/** Metrics + status feed + live-state hook, created once per gw process. */
export function createObservability(config: () => Config, now: () => number = Date.now) {
  const metrics = createGwMetrics(now);
  const feed = createStatusFeed(() => config().pricing, now);
  const startedAt = now();
  let live: () => LiveState = () => NO_LIVE_STATE;
  let state: (() => LiveStateBackend) | undefined;
  let writes: () => readonly string[] = () => [];
  const withState = (): LiveState => {
    const health = state?.(); // first: asked with room back, a refused state file is taken up now, and live() shows what it holds
    const l = live();
    return { ...l, ...(health ? { state: health } : {}), writes: [...(l.writes ?? []), ...writes()] };
  };
  const context = (clientIp: string | undefined): ObserveContext => ({ clientIp, config: config(), metrics, feed, live: withState, startedAt });
  return {
    metrics,
    feed,
    startedAt,
    /** One finished request; the same record the request log gets. */
    record(r: RequestRecord): void {
      metrics.observe(r);
      feed.observe(r);
    },
    setLive(fn: () => LiveState): void {
      live = fn;
    },
    /** Where the gateway's state lives and whether it answers (the gateway sets it). */
    setStateHealth(fn: () => LiveStateBackend): void {
      state = fn;
    },
    /** The gateway's files that cannot be written now (the gateway sets it). */
    setWriteProblems(fn: () => readonly string[]): void {
      writes = fn;
    },
    /** Today's tokens written before this process started, so the page's "today" is the whole day. */
    async seedToday(dir: string): Promise<void> {
      const day = dayOf(startedAt);
      const before = new Date(startedAt).toISOString();
      const files = (await dayFiles(dir, day)).filter((f) => f.endsWith(`${day}.jsonl`));
      await readRecords(files, `${day}T00:00:00.000Z`, (r) => r.ts < before && feed.seedTokens(r));
    },
    /** The context of one request: pass `server.requestIP(req)?.address`. */
    context,
    /** handleObserve for the LB's fetch handler; the client address is looked up only for our paths. */
    serve(req: Request, server: { requestIP(req: Request): { address: string } | null }): Response | undefined {
      if (!isObservePath(pathOf(req.url))) return undefined;
      return handleObserve(req, context(server.requestIP(req)?.address));
    },
  };
}

/** The observability routes; undefined for any other path (the LB handles it). */
export function handleObserve(req: Request, ctx: ObserveContext): Response | undefined {
  const path = pathOf(req.url);
  if (!isObservePath(path)) return undefined;
  const page = path === "/_gw" || path === "/_gw/";
  if (!page && !allowed(req, ctx)) {
    return Response.json(
      { error: { type: "forbidden", message: `${path} is open to clients on this machine (not through a proxy), or with [global] admin_key (Authorization: Bearer, x-api-key or ?key=)` } },
      { status: 403, headers: NO_REFERRER },
    );
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    return Response.json({ error: { type: "method_not_allowed", message: `${req.method} ${path}: use GET` } }, { status: 405, headers: { allow: "GET, HEAD", ...NO_REFERRER } });
  }
  // Everything shown goes through the config's masker: labels, reasons, URLs, error texts.
  const mask = maskerOf(ctx.config).text;
  if (path === "/metrics") return new Response(ctx.metrics.render(ctx.live(), mask), { headers: { "content-type": PROMETHEUS_CONTENT_TYPE, ...NO_STORE } });
  if (path === "/_gw/api/status") {
    const body = buildStatus({ config: ctx.config, live: ctx.live(), metrics: ctx.metrics, feed: ctx.feed, startedAt: ctx.startedAt });
    return Response.json(maskDeep(body, mask), { headers: NO_STORE });
  }
  if (page) return new Response(STATUS_PAGE, { headers: { "content-type": "text/html; charset=utf-8", ...NO_STORE, ...PAGE_CSP } });
  return Response.json({ error: { type: "not_found", message: `${path}: the status page is /_gw/, its data /_gw/api/status` } }, { status: 404, headers: NO_REFERRER });
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopback(ip: string | undefined): boolean {
  if (!ip) return false;
  const v4 = ip.startsWith("::ffff:") ? ip.slice(7) : ip;
  return v4.startsWith("127.") || ip === "::1";
}

// --- internal ---

const isObservePath = (path: string) => path === "/metrics" || path === "/_gw" || path.startsWith("/_gw/");

// A page opened with ?key= would otherwise name its URL, the key with it, in the Referer of every
// request it makes (a reverse proxy logs them); the page's polls carry the key as a header instead.
const NO_REFERRER = { "referrer-policy": "no-referrer" };
const NO_STORE = { "cache-control": "no-store", ...NO_REFERRER };
// The page is self-contained: nothing may load from elsewhere, and nobody may frame it.
const PAGE_CSP = { "content-security-policy": "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'" };

function pathOf(url: string): string {
  // Cheaper than new URL() for the requests that are not ours (every proxied request passes here).
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  const q = url.indexOf("?", start);
  return q === -1 ? url.slice(start) : url.slice(start, q);
}

function allowed(req: Request, ctx: ObserveContext): boolean {
  if (isLoopback(ctx.clientIp) && !forwarded(req.headers)) return true;
  const admin = ctx.config.global.adminKey;
  if (!admin) return false;
  const auth = req.headers.get("authorization");
  const bearer = auth?.toLowerCase().startsWith("bearer ") ? auth.slice(7).trim() : undefined;
  const candidates = [bearer, req.headers.get("x-api-key") ?? undefined, ...queryKeys(req.url)];
  return candidates.some((c) => c !== undefined && sameSecret(c, admin));
}

/**
 * `?key=` as a form decodes it (`+` is a space) and as typed (`+` stays): a base64 admin key has
 * `+` in it, and a URL typed by hand or pasted from a config rarely writes it as %2B.
 */
function queryKeys(url: string): string[] {
  const q = url.indexOf("?");
  if (q === -1) return [];
  const query = url.slice(q + 1).split("#")[0]!;
  const out: string[] = [];
  for (const pair of query.split("&")) {
    if (!pair.startsWith("key=")) continue;
    const raw = pair.slice(4);
    for (const v of [raw.replace(/\+/g, " "), raw]) {
      try {
        out.push(decodeURIComponent(v));
      } catch {
        out.push(v); // a stray % is the key's own character
      }
    }
  }
  return out;
}

/**
 * A loopback peer that passes on someone else's request: a reverse proxy on this machine says so
 * in its forwarding headers, or by the public name it was reached under (listed in
 * allowed_hosts). Its clients are remote ones and need admin_key like any other.
 */
function forwarded(h: Headers): boolean {
  if (h.has("x-forwarded-for") || h.has("forwarded") || h.has("x-real-ip")) return true;
  const host = h.get("host");
  return host !== null && !isLoopbackHost(host);
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
