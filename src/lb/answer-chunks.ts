// An answer's bytes on their way to the client (deliver.ts relays them): a stream passes in whole
// events, its usage read on the side, its error events and quoted field lines masked; a plain
// JSON body of no known length passes through a watch for an error object in it. What passed is
// counted for the record. A class, not closures: it lives as long as the answer streams.

import { parseObject } from "../json/object.ts";
import { KEEP_END, type Usage, usageFromJson, usageFromJsonEnd, usageFromSse, type UsageWatcher } from "../observe/tokens.ts";
import type { PieceMask } from "../observe/mask-pieces.ts";
import { type Dialect, sseErrorEvent } from "./dialect.ts";
import { codingsOf } from "./encoding.ts";
import { ErrorEvents, maskFieldLines } from "./error-events.ts";
import { errorStatus, innerError } from "./error-objects.ts";
import { isJson } from "./stream.ts";
import { WholeErrors } from "./whole-errors.ts";
import { WholeEvents } from "./whole-events.ts";

export class AnswerChunks {
  /** Bytes the upstream sent so far. */
  bytes = 0;
  /** When its first byte came (performance.now()). */
  firstByteAt: number | undefined;
  /** Usage (and a Responses id) read on the side, from the upstream's bytes, not the masked ones. */
  readonly watcher: UsageWatcher | undefined;
  /** A plain JSON body without a length may still be an error quoting a key (whole-errors.ts). */
  readonly errors: WholeErrors | undefined;
  private readonly events: WholeEvents | undefined;
  /** Made by a stream's first error event (error-events.ts): an ordinary answer makes none. */
  private errorEvents: ErrorEvents | undefined;

  constructor(
    readonly sse: boolean,
    headers: Headers,
    private readonly dialect: Dialect,
    private readonly mask: (s: string) => string,
    private readonly maskPieces: () => PieceMask,
  ) {
    this.watcher = sse ? usageFromSse() : jsonCollector(headers);
    this.events = sse ? new WholeEvents() : undefined;
    this.errors = !sse && isPlainJson(headers) ? new WholeErrors(mask, maskPieces) : undefined;
  }

  /** The bytes to send for the upstream's `raw` (fewer, until an event is whole). */
  push(raw: Uint8Array): Uint8Array {
    if (this.bytes === 0) this.firstByteAt = performance.now();
    this.bytes += raw.byteLength;
    const { events, watcher } = this;
    if (!events) {
      watcher?.push(raw);
      return this.errors ? this.errors.push(raw) : raw;
    }
    const chunk = events.push(raw);
    if (!watcher || chunk.byteLength === 0) return chunk;
    const errorsBefore = watcher.errorEvents?.() ?? 0;
    const fieldsBefore = watcher.fieldLines?.() ?? 0;
    watcher.push(chunk);
    // An error event after content is an upstream error like a status: what it quotes is masked (error-events.ts).
    const completed = (watcher.errorEvents?.() ?? 0) > errorsBefore;
    const open = watcher.inError?.() ?? false;
    if (completed || open) this.errorEvents ??= new ErrorEvents(this.mask, this.maskPieces);
    const out = this.errorEvents ? this.errorEvents.pass(chunk, completed, open) : chunk;
    // Masked whole already when an error ended in it or passes in it.
    const fields = !completed && !open && (watcher.fieldLines?.() ?? 0) > fieldsBefore;
    return fields ? maskFieldLines(out, this.mask) : out;
  }

  /**
   * After the upstream's last byte: of a stream, an event it never completed, as it came (masked:
   * it may be an error's start), and for Gemini its error once more in Google's shape; of a JSON
   * body, what the error watch still held.
   */
  trailer(): string | Uint8Array | undefined {
    if (!this.sse) return this.errors?.rest();
    const rest = this.events?.rest();
    const held = rest || this.errorEvents ? (this.errorEvents ??= new ErrorEvents(this.mask, this.maskPieces)).end(rest) : "";
    const text = held + (this.dialect === "gemini" ? (geminiReadableError(this.watcher?.streamError?.(), this.mask) ?? "") : "");
    return text || undefined;
  }
}

/** Usage and Responses id of a JSON answer. */
export interface Answer {
  usage?: Usage;
  /** OpenAI Responses id, for previous_response_id stickiness. */
  id?: string;
  /** The client left before any answer (499). */
  clientLeft?: boolean;
  /** The usage is a dropped opening's: no final output count came. */
  outputCut?: boolean;
}

// A TextDecoder, not Buffer.from(bytes.buffer…).toString(): asking a fetched body's bytes for their
// `.buffer` makes JSC copy them into a new ArrayBuffer (~3 µs for a 400-byte answer, against
// ~0.4 µs to decode and parse it this way).
const utf8 = new TextDecoder();

/** Usage and Responses id of a JSON answer. */
export function parseAnswer(bytes: Uint8Array): Answer {
  try {
    const o = JSON.parse(utf8.decode(bytes)) as Record<string, unknown>;
    return { usage: usageFromJson(o), id: o.object === "response" && typeof o.id === "string" ? o.id : undefined };
  } catch {
    return {};
  }
}

// --- internal ---

/**
 * Google's SDKs raise an in-stream error only when it carries a numeric `error.code`; CLIProxyAPI
 * ends a failing Gemini stream with an OpenAI-shaped error (`"code":"internal_server_error"`),
 * which they skip, so the cut-short answer would pass as complete. Such a stream gets the same
 * error once more, in Google's shape, as its last event.
 */
function geminiReadableError(data: string | undefined, mask: (s: string) => string): string | undefined {
  if (data === undefined) return undefined;
  const o = parseObject(data.trimStart());
  const inner = innerError(o);
  if (typeof inner?.code === "number") return undefined; // Google's own shape: the SDK reads it
  const message = typeof inner?.message === "string" ? inner.message : data.slice(0, 500);
  return sseErrorEvent("gemini", errorStatus(o), mask(`upstream error inside the stream: ${message}`), "upstream_stream_broken");
}

/** JSON gw can read as it is: no coding ("identity", which some servers say aloud, is none). */
function isPlainJson(headers: Headers): boolean {
  return isJson(headers) && codingsOf(headers.get("content-encoding")).length === 0;
}

/** Most a JSON body is held for its usage; bigger ones pass without it. */
const JSON_USAGE_MAX = 1 << 20;

/** Usage (and a Responses id) of a plain JSON body, from copies of its chunks. */
function jsonCollector(headers: Headers): UsageWatcher | undefined {
  if (!isPlainJson(headers)) return undefined;
  let chunks: Uint8Array[] | undefined = [];
  let size = 0;
  // Past JSON_USAGE_MAX only the body's last bytes are kept: their usage report is read (usageFromJsonEnd).
  let end: Uint8Array | undefined;
  let parsed: Answer | undefined;
  const read = () => {
    parsed ??= chunks ? parseAnswer(Buffer.concat(chunks, size)) : { usage: end && usageFromJsonEnd(utf8.decode(end)) };
    chunks = undefined;
    return parsed;
  };
  return {
    push(chunk) {
      size += chunk.byteLength;
      if (end || size > JSON_USAGE_MAX) {
        end = Buffer.concat(end ? [end, chunk] : [...(chunks ?? []), chunk]).subarray(-KEEP_END);
        chunks = undefined;
      } else chunks?.push(chunk);
    },
    usage: () => read().usage,
    responseId: () => read().id,
  };
}
