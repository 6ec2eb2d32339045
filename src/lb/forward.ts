// One attempt: send the rewritten request to one instance and report what happened, without
// judging it (failover.ts decides). The response body is not read here: it stays a stream so
// bytes reach the client as they arrive, compressed exactly as the upstream sent them.

import type { InstanceConfig, Target } from "../config/types.ts";
import type { UpstreamRequest } from "./rewrite.ts";

export type FailReason =
  /** No connection, refused, reset before headers. */
  | "connect"
  /** No response headers within the first-byte timeout. */
  | "timeout"
  /** The client went away; nothing more to do for it. */
  | "aborted";

export interface AttemptInfo {
  readonly instance: InstanceConfig;
  /** Undefined when an unknown model passes through to the default instance. */
  readonly target: Target | undefined;
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
       * broke or took longer than `timeoutMs` (0 = no limit), which also closes the connection.
       */
      whole(timeoutMs: number): Promise<{ bytes: Uint8Array<ArrayBuffer>; complete: boolean }>;
    }
  | { readonly kind: "failed"; readonly attempt: AttemptInfo; readonly reason: FailReason; readonly message: string };

export async function forward(
  attempt: AttemptInfo,
  method: string,
  up: UpstreamRequest,
  clientSignal: AbortSignal,
  firstByteTimeoutMs: number,
): Promise<Outcome> {
  // One controller for both ways an attempt ends early: the client leaving (before or after
  // headers — it also cancels the body) and the first-byte deadline. Linking by hand costs
  // ~1 µs where AbortSignal.any costs ~10 µs on every request.
  const abort = new AbortController();
  let timedOut = false;
  if (clientSignal.aborted) abort.abort();
  else clientSignal.addEventListener("abort", () => abort.abort(), { once: true });
  const timer =
    firstByteTimeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          abort.abort();
        }, firstByteTimeoutMs)
      : undefined;
  try {
    const res = await fetch(attempt.instance.baseUrl + up.pathAndQuery, {
      method,
      headers: up.headers,
      body: up.body,
      signal: abort.signal,
      redirect: "manual",
      // Pass compressed bytes through untouched; decoding would leave a lying Content-Encoding.
      decompress: false,
    });
    return {
      kind: "response",
      attempt,
      status: res.status,
      headers: res.headers,
      get body() {
        return res.body;
      },
      async whole(timeoutMs) {
        const t = timeoutMs > 0 ? setTimeout(() => abort.abort(), timeoutMs) : undefined;
        try {
          return { bytes: await res.bytes(), complete: true };
        } catch {
          return { bytes: new Uint8Array(0), complete: false };
        } finally {
          clearTimeout(t);
        }
      },
    };
  } catch (e) {
    const reason: FailReason = clientSignal.aborted ? "aborted" : timedOut ? "timeout" : "connect";
    const why = reason === "timeout" ? `no response within ${firstByteTimeoutMs} ms` : (e as Error).message;
    return { kind: "failed", attempt, reason, message: `${attempt.instance.name}: ${why}` };
  } finally {
    clearTimeout(timer);
  }
}
