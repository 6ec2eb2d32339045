// One attempt: send the rewritten request to one instance and report what happened, without
// judging it (failover.ts decides). The response body is not read here: it stays a stream so
// bytes reach the client as they arrive, compressed exactly as the upstream sent them.

import type { InstanceConfig, Target } from "../config/types.ts";
import { batchFetchThread } from "./fetch-thread.ts";
import { proxyFor } from "./noproxy.ts";
import type { PickReason } from "./route.ts";
import type { UpstreamRequest } from "./rewrite.ts";

export type FailReason =
  /** No connection, refused, reset before headers. */
  | "connect"
  /** No response headers within the first-byte timeout. */
  | "timeout"
  /** An answer came but broke, or carried nothing, before any of it reached the client. */
  | "broken"
  /** The client went away; nothing more to do for it. */
  | "aborted";

export interface AttemptInfo {
  readonly instance: InstanceConfig;
  /** Undefined when an unknown model passes through to the default instance. */
  readonly target: Target | undefined;
  /** Why the target was picked (route.ts); undefined for the default instance. */
  readonly pick?: PickReason;
  /** 1-based. */
  readonly n: number;
}

export type Outcome =
  | {
      readonly kind: "response";
      readonly attempt: AttemptInfo;
      readonly status: number;
      readonly headers: Headers;
      /** The body as a stream (made when first asked for: a body read whole never needs one). */
      readonly body: ReadableStream<Uint8Array> | null;
      /**
       * The whole body, read natively (for answers known to be short): `complete` is false when it
       * broke, or the attempt was stopped (its deadline, the client leaving) while it was read.
       */
      whole(): Promise<{ bytes: Uint8Array<ArrayBuffer>; complete: boolean }>;
    }
  | { readonly kind: "failed"; readonly attempt: AttemptInfo; readonly reason: FailReason; readonly message: string };

/** How an attempt is stopped early, and why it was (the caller owns the deadline: lb/due.ts). */
export interface AttemptControl {
  /** Aborts the upstream request, its body included. */
  readonly abort: AbortController;
  readonly timeoutMs: number;
  /** The first-byte deadline passed. */
  timedOut(): boolean;
  /**
   * A held stream's opening began a tool call (first-event.ts startsToolCall): the model is at
   * work on its input, so the deadline becomes `ms` of silence from now, as inside an answer.
   */
  toolCallBegan(ms: number): void;
  /** The silence allowed once a tool call began (toolCallBegan's `ms`); undefined before. */
  readonly toolWaitMs: number | undefined;
  /** The client went away. */
  clientGone(): boolean;
}

export async function forward(attempt: AttemptInfo, method: string, up: UpstreamRequest, ctl: AttemptControl): Promise<Outcome> {
  const url = attempt.instance.baseUrl + up.pathAndQuery;
  const init: BunFetchRequestInit = {
    method,
    headers: up.headers,
    body: up.body,
    signal: ctl.abort.signal,
    redirect: "manual",
    // Pass compressed bytes through untouched; decoding would leave a lying Content-Encoding.
    decompress: false,
  };
  const sent = performance.now();
  try {
    const res = await fetch(url, init);
    batchFetchThread();
    return new UpstreamResponse(attempt, res);
  } catch (e) {
    if (!ctl.abort.signal.aborted && staleConnection(e, performance.now() - sent)) {
      try {
        return new UpstreamResponse(attempt, await fetch(url, { ...init, keepalive: false }));
      } catch (again) {
        e = again;
      }
    }
    const unreadable = unreadableAnswer(e);
    const reason: FailReason = ctl.clientGone() ? "aborted" : ctl.timedOut() ? "timeout" : unreadable ? "broken" : "connect";
    const why = reason === "timeout" ? `no response within ${ctl.timeoutMs} ms` : (unreadable ?? networkError(e, url));
    return { kind: "failed", attempt, reason, message: `${attempt.instance.name}: ${why}` };
  }
}

/**
 * A network error's message as gw's users should read it: Bun appends advice for whoever wrote
 * the fetch call ("For more information, pass `verbose: true` …"), which only misleads a client
 * or an operator reading gw's error. A connection to `url` that went through the user's proxy
 * names it: Bun says ECONNREFUSED for a dead proxy as for a dead relay.
 */
export function networkError(e: unknown, url?: string): string {
  const m = (e instanceof Error ? e.message : String(e)).replace(BUN_VERBOSE_HINT, "");
  const proxy = url === undefined ? undefined : proxyFor(new URL(url));
  return proxy ? `${m} (through the proxy ${proxy}: is it up, or should NO_PROXY list this host?)` : m;
}

// --- internal ---

/**
 * An answer Bun's fetch would not read: the upstream was reached and answered, badly — no
 * "upstream unreachable". Bun refuses headers past its size limit (a 20 MB one), and calls more
 * than about 250 headers, or a status line or header that is no HTTP, a malformed response.
 */
function unreadableAnswer(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === "ResponseHeadersTooLarge") return "answered with headers too large to read (Bun's fetch refuses them): a bad answer, not a connection failure";
  if (code === "Malformed_HTTP_Response") return "answered with a malformed HTTP response (a status line or header that is no HTTP, or more headers than Bun's fetch reads): a bad answer, not a connection failure";
  return undefined;
}

/**
 * A reset that came back at once, before any answer: the instance (or a proxy before it) closed
 * its idle keep-alive connection just as gw sent on it — the request never reached a handler, so
 * it is sent again, once, on a new connection, instead of failing the user's request and cooling
 * a healthy target. A reset after longer than a round trip may follow a request the instance was
 * working on: that one fails over as before (a refused connection, the instance gone, is not a reset).
 */
function staleConnection(e: unknown, afterMs: number): boolean {
  return (e as { code?: unknown } | null)?.code === "ECONNRESET" && afterMs < STALE_RESET_MS;
}

const STALE_RESET_MS = 1_000;

const BUN_VERBOSE_HINT = /\s*For more information, pass `verbose: true` in the second argument to fetch\(\)\.?/;

/** A response outcome (a class, not closures over `res`: it lives as long as its attempt). */
class UpstreamResponse {
  readonly kind = "response";
  readonly status: number;
  readonly headers: Headers;

  constructor(
    readonly attempt: AttemptInfo,
    private readonly res: Response,
  ) {
    this.status = res.status;
    this.headers = res.headers;
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this.res.body;
  }

  whole(): Promise<{ bytes: Uint8Array<ArrayBuffer>; complete: boolean }> {
    return this.res.bytes().then(completeBody, brokenBody);
  }
}

// Module functions, not an async method: no frame of ours per answer read.
const completeBody = (bytes: Uint8Array<ArrayBuffer>) => ({ bytes, complete: true });
const brokenBody = () => ({ bytes: new Uint8Array(0), complete: false });
