// The opening of a JSON answer without a length (chunked: a relay behind a compressing proxy,
// OpenRouter, CLIProxyAPI's non-streamed keep-alive, Gemini's JSON-array stream), held with its
// headers until its first value shows whether it is an error object — as an event stream's opening
// is held until its first content event (first-event.ts). Once its headers went out a 200 could
// not change: an error object first is read whole here and judged as a sized one is (judge.ts
// errorAnswer), so the request may fail over and a final client gets the error's status.
// A body that opens with keep-alive spaces is not held at all (whatever follows them in the same
// read): they are sent (CLIProxyAPI's
// `nonstream_keepalive_interval`) so that whatever waits for the answer — a reverse proxy's read
// timeout, gw's own first-byte deadline — sees bytes while the model works. Held, they would time
// out the long non-streamed answers they exist for. JSON allows any spaces before its value, so
// an error after them can still fail over, its 200 kept (spaced-answer.ts).

import { HOLD_MAX_BYTES } from "./first-event.ts";
import { holdHead, type StreamSource } from "./stream.ts";

/**
 * Whether JSON bytes open as an error object, `{"error":{` (spaces allowed between the tokens) —
 * the body itself or a top-level array's first element (Gemini's `[{"error":…`) — or as
 * Anthropic's `{"type":"error"` (CLIProxyAPI's errors on /v1/messages, also after its keep-alive).
 * Fed chunk by chunk; decides within the first non-space bytes. The shape only: whether the value
 * really is an error (an object, nothing beside it) is error-objects.ts errorAnswerObject's to say.
 */
export class ErrorOpening {
  /** Bytes of PLAIN matched so far; -1 once it cannot match. */
  private at = 0;
  /** The same for TYPED. */
  private typed = 0;
  private inArray = false;

  /** true once the bytes open as an error object, false once they do not, undefined while they may. */
  push(chunk: Uint8Array): boolean | undefined {
    for (let i = 0; i < chunk.byteLength; i++) {
      const b = chunk[i]!;
      if (this.at === 0 && b === 0x5b /* [ */ && !this.inArray) {
        this.inArray = true;
        continue;
      }
      this.at = matched(PLAIN, this.at, b);
      this.typed = matched(TYPED, this.typed, b);
      if (this.at === PLAIN.bytes.length || this.typed === TYPED.bytes.length) return true;
      if (this.at < 0 && this.typed < 0) return false;
    }
    return undefined;
  }
}

export function isJsonSpace(b: number | undefined): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

type Opening =
  /** Its first value is no error object (or more than maxBytes came first): deliver. */
  | { readonly kind: "deliver"; readonly source: StreamSource }
  /** It opens with keep-alive spaces: deliver at once, the value after them still to be judged (spaced-answer.ts). */
  | { readonly kind: "spaced"; readonly source: StreamSource }
  /** It opens as an error object, or ended before any value: to be read whole (readOn) and judged. */
  | { readonly kind: "whole"; readonly source: StreamSource }
  /** It broke (or was stopped: the caller's deadline, its client leaving) before its first value. */
  | { readonly kind: "broke"; readonly message: string };

/**
 * Read `body` until its opening decides, it ends, or `maxBytes` came (spaces, mostly). The caller
 * bounds the time; the reader stays open in the source for delivery.
 */
export async function holdJsonOpening(body: ReadableStream<Uint8Array>, maxBytes = HOLD_MAX_BYTES): Promise<Opening> {
  const opening = new ErrorOpening();
  let held = 0;
  const r = await holdHead(body, (chunk) => {
    // Keep-alive first goes at once, whatever follows it in the same read: what follows is judged
    // as it is delivered (spaced-answer.ts), however the reads were cut.
    if (held === 0 && isJsonSpace(chunk[0])) return "spaced";
    held += chunk.byteLength;
    const error = opening.push(chunk);
    if (error === true) return "whole";
    return error === false || held > maxBytes ? "deliver" : undefined;
  });
  if ("broke" in r) return { kind: "broke", message: `answer broke before its first value: ${r.broke}` };
  return { kind: r.verdict === "ended" ? "whole" : r.verdict, source: r.source };
}

/**
 * The rest of a held body, read on to its end: its bytes, head included, and whether the end was
 * reached (a break or the caller's deadline stops it short). Undefined when it holds more than
 * `maxBytes`: what was read is then in the returned source, for delivery.
 */
export async function readOn(source: StreamSource, maxBytes: number): Promise<{ bytes: Uint8Array<ArrayBuffer>; complete: boolean } | { source: StreamSource }> {
  const chunks = [...source.head];
  let size = chunks.reduce((n, c) => n + c.byteLength, 0);
  let complete = source.done === true;
  try {
    while (!complete && size <= maxBytes) {
      const r = await source.reader.read();
      if (r.done) complete = true;
      else {
        chunks.push(r.value);
        size += r.value.byteLength;
      }
    }
  } catch {
    // broken: what arrived is all there is
  }
  if (size > maxBytes) return { source: { head: chunks, reader: source.reader } };
  return { bytes: (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)) as Uint8Array<ArrayBuffer>, complete };
}

// --- internal ---

/** An error opening's bytes, and where spaces may come before bytes[at]: between its tokens, not inside them. */
interface Shape {
  readonly bytes: Uint8Array;
  readonly spaceBefore: readonly number[];
}

const shape = (text: string, spaces: readonly number[]): Shape => {
  const bytes = new TextEncoder().encode(text);
  return { bytes, spaceBefore: Array.from(bytes, (_, at) => (spaces.includes(at) ? 1 : 0)) };
};
const PLAIN = shape('{"error":{', [0, 1, 8, 9]);
const TYPED = shape('{"type":"error"', [0, 1, 7, 8]);

/** Where `at` bytes of `o` matched so far stand after byte `b`: -1 once they cannot match. */
function matched(o: Shape, at: number, b: number): number {
  if (at < 0 || (o.spaceBefore[at] && isJsonSpace(b))) return at;
  return b === o.bytes[at] ? at + 1 : -1;
}
