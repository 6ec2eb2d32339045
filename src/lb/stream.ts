// Delivering an upstream response: bytes pass through as they arrive, never decoded or
// buffered. Event streams get a thin guard so a stream that breaks after bytes were sent ends
// with an error event in the client's dialect instead of a clean-looking truncated close.

import { type GwErrorCode, type StreamDialect, sseErrorEvent } from "./dialect.ts";
import { networkError } from "./forward.ts";

const encoder = new TextEncoder();

export function isEventStream(headers: Headers): boolean {
  return headers.get("content-type")?.includes("text/event-stream") ?? false;
}

/** A JSON body (any `…json` type: application/json, Gemini's array stream, NDJSON's application/x-ndjson). */
export function isJson(headers: Headers): boolean {
  return headers.get("content-type")?.includes("json") ?? false;
}

type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;

/** A body partly read already: the chunks read so far, then the rest from its reader. */
export interface StreamSource {
  readonly head: readonly Uint8Array[];
  readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  /** The reader has already reported the end. */
  readonly done?: boolean;
}

/** How a relayed body ended. */
export interface RelayEnd {
  /** It ended with gw's error event (or, for a plain body, an abort) saying `why`. */
  readonly broken: boolean;
  /** The client stopped reading before the end. */
  readonly clientLeft: boolean;
  readonly why?: string;
  /** gw itself ended it (it was stopping): no fault of the upstream's. */
  readonly byGw?: boolean;
  /** gw ended it because the upstream went silent for `idleMs`: a timeout, not a break of the connection. */
  readonly silent?: boolean;
}

/**
 * The instance a relayed body comes from: a name, or what names it now — a keep-alive-spaced
 * answer that failed over comes from another instance than its first attempt's (spaced-answer.ts).
 */
export type RelayedFrom = string | (() => string);

/**
 * The bodies being relayed now, so a gateway whose grace period is over — or a restart of one
 * instance whose drain's grace period is — can end each with its own error event (the client
 * learns why, the record says gw cut it) instead of dropping their connections.
 */
export class OpenRelays {
  private readonly cuts = new Map<(why: string) => void, RelayedFrom | undefined>();
  /** List a body relayed from `instance` (when known; asked at each cut when it may change); the function returned unlists it. */
  add(cut: (why: string) => void, instance?: RelayedFrom): () => void {
    this.cuts.set(cut, instance);
    return () => void this.cuts.delete(cut);
  }
  /** End every open body with gw's error event saying `why`; how many there were. */
  cutAll(why: string): number {
    return this.cutWhere(() => true, why);
  }
  /** End the open bodies relayed from `instance` with gw's error event saying `why`; how many there were. */
  cutInstance(instance: string, why: string): number {
    return this.cutWhere((of) => of === instance, why);
  }
  private cutWhere(pick: (instance: string | undefined) => boolean, why: string): number {
    const cuts = [...this.cuts].filter(([, of]) => pick(typeof of === "function" ? of() : of)).map(([cut]) => cut);
    for (const cut of cuts) cut(why);
    return cuts.length;
  }
}

/** How a body ends when it breaks or gw cuts it, given gw's error: the text to end it with, or undefined to abort it. */
export type BreakEnd = (status: number, why: string, code: GwErrorCode) => string | undefined;

/** An event stream's end on a break: gw's error event in the client's dialect. */
export function errorEventEnd(dialect: StreamDialect): BreakEnd {
  return (status, why, code) => sseErrorEvent(dialect, status, why, code);
}

interface RelayHooks {
  /**
   * What ends the body when it breaks or gw cuts it, given gw's error: an event stream's error
   * event in the client's dialect; gw's error JSON after keep-alive spaces (spaced-answer.ts).
   * Without it, or when it gives nothing, the body is aborted: never a clean-looking end.
   */
  readonly breakEnd?: BreakEnd;
  readonly onEnd: (end: RelayEnd) => void;
  /** Where the body is listed while it runs (a stopping gateway ends it through there). */
  readonly open?: OpenRelays;
  /** The instance the body comes from, as listed in `open` (a restart of it ends the body through there). */
  readonly openFor?: RelayedFrom;
  readonly idleMs?: number;
  /**
   * Whether an upstream chunk is a sign of life for the idle clock (`idleMs`): an event stream's
   * keep-alive comments are not (sse-life.ts). Shown every chunk, the held ones too. Without it, every chunk is.
   */
  readonly lively?: (chunk: Uint8Array) => boolean;
  /** Sees each chunk before the client does, and says what the client gets (the chunk, it masked, or — held back — nothing yet). */
  readonly onChunk?: (chunk: Uint8Array) => Uint8Array;
  /** What to send after the upstream's last byte, when the body ended cleanly (e.g. an error event the client's SDK can read, or what onChunk held back). */
  readonly trailer?: () => string | Uint8Array | undefined;
  /**
   * Whether what a chunk handed on (onChunk's output) ended the answer, whatever the upstream does
   * next: the client's body then ends cleanly at once, and the upstream's is read to its end in the
   * background (so its connection is kept) for LET_GO_MS at most.
   */
  readonly last?: (sent: Uint8Array) => boolean;
  /**
   * Whether the answer's end has passed: a body that closes cleanly before it is a break (an
   * upstream that lost its own upstream, a relay restarting) — the client's SDK would take the
   * cut answer for a whole one. Without it a clean close is a clean end.
   */
  readonly answered?: () => boolean;
}

/**
 * Pass `body` through chunk by chunk. `onEnd` runs exactly once: at the end, on a break, or when
 * the client goes away (cancel reaches the upstream reader, which closes the upstream request).
 * An upstream silent for `idleMs` while the client waits for data counts as broken (0 = never):
 * silent as `lively` judges it — CLIProxyAPI's `: keep-alive` comments pass on to the client (they
 * keep a reverse proxy's read timeout in front of gw from cutting a long pause) but do not reset
 * the clock, since it sends them exactly when its upstream is silent. `onChunk`
 * sees each chunk before the client does (usage watcher, byte count) and may hand it on masked.
 * `breakEnd` says how a break (or, with `answered`, a clean close before the answer's end) ends
 * the body: an event stream with an error event in the client's dialect, a JSON answer that has
 * sent only keep-alive spaces with gw's error JSON; any other plain body (no error possible
 * after its content) is aborted instead. A partly read body (first-event.ts) starts with the
 * chunks already read.
 */
export function relay(body: ReadableStream<Uint8Array> | StreamSource, hooks: RelayHooks): ReadableStream<Uint8Array> {
  const { breakEnd, onEnd, idleMs = 0, lively, onChunk, trailer, last, answered } = hooks;
  const source: StreamSource = body instanceof ReadableStream ? { head: [], reader: body.getReader() } : body;
  const reader = source.reader;
  let ended = false;
  const end = (e: RelayEnd) => {
    if (ended) return;
    ended = true;
    clearTimeout(idleTimer);
    unlist?.();
    onEnd(e);
  };
  // Why gw is ending the body itself (the upstream went silent, or gw is stopping): the upstream
  // read is cancelled, and the pull it wakes ends the body with this.
  let cut: Cut | undefined;
  const cutWith = (c: Cut) => {
    if (ended || cut) return;
    cut = c;
    reader.cancel(c.why).catch(() => {});
  };
  const unlist = hooks.open?.add((why) => cutWith({ status: 503, why, code: "gw_stopping", byGw: true }), hooks.openFor);
  // One timer per quiet period, not per chunk: it re-arms itself for the time that is left.
  // Monotonic: a wall-clock step forward would cut a stream in a pause, one back hold a dead one for hours.
  let lastLife = performance.now();
  let waiting = false;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const checkIdle = () => {
    const quiet = performance.now() - lastLife;
    if (waiting && quiet >= idleMs) cutWith({ ...broke(`no event for ${idleMs} ms`), silent: true });
    else idleTimer = setTimeout(checkIdle, waiting ? idleMs - quiet : idleMs);
  };
  if (idleMs > 0) idleTimer = setTimeout(checkIdle, idleMs);

  const fail = (ctrl: ReadableStreamDefaultController<Uint8Array>, c: Cut) => {
    const ending = breakEnd?.(c.status, c.why, c.code);
    try {
      if (ending === undefined) ctrl.error(new Error(c.why));
      else {
        ctrl.enqueue(encoder.encode(ending));
        ctrl.close();
      }
    } catch {}
    end(cutEnd(c));
  };
  const closeClean = (ctrl: ReadableStreamDefaultController<Uint8Array>) => {
    // Cut short: an event the upstream left unfinished is dropped, as an SSE client drops it at a
    // stream's end — sent before the error event, its half JSON is what the SDKs reported instead
    // of gw's reason.
    if (answered?.() === false) return fail(ctrl, CUT_SHORT);
    const extra = trailer?.();
    if (extra) send(ctrl, typeof extra === "string" ? encoder.encode(extra) : extra);
    ctrl.close();
    end({ broken: false, clientLeft: false });
  };
  return new ReadableStream<Uint8Array>(
    {
      start(ctrl) {
        let complete = false;
        for (const chunk of source.head) {
          lively?.(chunk);
          const out = onChunk ? onChunk(chunk) : chunk;
          send(ctrl, out);
          complete = last?.(out) ?? false;
        }
        if (source.done) closeClean(ctrl);
        else if (complete) {
          closeClean(ctrl);
          letGo(reader);
        }
      },
      async pull(ctrl) {
        // Until something reaches the client: a chunk onChunk holds back whole must not end the pull.
        for (;;) {
          let chunk: Awaited<ReturnType<typeof reader.read>>;
          waiting = true;
          try {
            chunk = await reader.read();
          } catch (e) {
            if (!ended) fail(ctrl, cut ?? broke(networkError(e)));
            return; // else: cancelled by the client meanwhile
          } finally {
            waiting = false;
          }
          if (cut) return fail(ctrl, cut);
          if (chunk.done) return closeClean(ctrl);
          if (!lively || lively(chunk.value)) lastLife = performance.now();
          const out = onChunk ? onChunk(chunk.value) : chunk.value;
          const sent = send(ctrl, out);
          if (last?.(out)) {
            closeClean(ctrl);
            return letGo(reader);
          }
          if (sent || ended) return;
        }
      },
      cancel(reason) {
        // A body gw was cutting when its connection closed ended by gw's doing, not the client's.
        end(cut ? cutEnd(cut) : { broken: false, clientLeft: true });
        return reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * An upstream body whose answer is complete: read on to its end, so the connection goes back to
 * the pool, but cancelled after LET_GO_MS — a relay that holds its stream open after the end
 * would otherwise hold it for ever.
 */
function letGo(reader: ReadableStreamDefaultReader<Uint8Array>): void {
  const timer = setTimeout(() => reader.cancel().catch(() => {}), LET_GO_MS);
  void (async () => {
    try {
      while (!(await reader.read()).done);
    } catch {}
    clearTimeout(timer);
  })();
}

const LET_GO_MS = 2_000;

/** Enqueue a chunk that has bytes (onChunk may hold a chunk's bytes back; the pending read then pulls again). */
function send(ctrl: ReadableStreamDefaultController<Uint8Array>, chunk: Uint8Array): boolean {
  if (chunk.byteLength === 0) return false;
  ctrl.enqueue(chunk);
  return true;
}

/** gw's own end of a relayed body: the error event's status, text and code, and why it came (RelayEnd). */
interface Cut {
  readonly status: number;
  readonly why: string;
  readonly code: GwErrorCode;
  readonly byGw?: boolean;
  readonly silent?: boolean;
}

const cutEnd = (c: Cut): RelayEnd => ({ broken: true, clientLeft: false, why: c.why, byGw: c.byGw, silent: c.silent });

const CUT_SHORT: Cut = { status: 502, why: "upstream closed the stream before the answer's end", code: "upstream_stream_broken" };
const broke = (what: string): Cut => ({ status: 502, why: `upstream stream broke: ${what}`, code: "upstream_stream_broken" });

/**
 * Read `body` until `decide`, shown each chunk as it comes, says what its opening is (an event
 * stream's first content event, first-event.ts; a JSON body's first value, json-opening.ts), or
 * it ends first. A read that fails (a break; the caller's deadline or its client leaving, which
 * abort the body) gives why, and what was read before (its usage: judge.ts). The reader stays open
 * in the source for delivery (or to cancel).
 */
export async function holdHead<V>(body: ReadableStream<Uint8Array>, decide: (chunk: Uint8Array) => V | undefined): Promise<{ verdict: V | "ended"; source: StreamSource } | { broke: string; head: readonly Uint8Array[] }> {
  const reader = body.getReader();
  const head: Uint8Array[] = [];
  for (;;) {
    let r: ReadResult;
    try {
      r = await reader.read();
    } catch (e) {
      return { broke: networkError(e), head };
    }
    if (r.done) return { verdict: "ended", source: { head, reader, done: true } };
    head.push(r.value);
    const verdict = decide(r.value);
    if (verdict !== undefined) return { verdict, source: { head, reader } };
  }
}

/**
 * Read a whole body that is known to be short (an error body): at most `maxBytes` (the rest is
 * cancelled). A body that breaks yields what arrived (the attempt's deadline aborts a slow one);
 * `complete` says whether the end was reached.
 */
export async function readWhole(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<{ bytes: Uint8Array<ArrayBuffer>; complete: boolean }> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let complete = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        complete = true;
        break;
      }
      chunks.push(value);
      size += value.byteLength;
      if (size >= maxBytes) {
        reader.cancel("too large").catch(() => {});
        break;
      }
    }
  } catch {
    // broken: what arrived is all there is
  }
  const bytes = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)) as Uint8Array<ArrayBuffer>;
  return { bytes, complete };
}
