// A JSON body that comes without a length (chunked: a relay behind a compressing proxy, CLIProxyAPI's
// non-streamed keep-alive, Gemini's JSON-array stream) handed on as it arrives — except an error
// object in it, which waits until it is whole and goes out masked. A sized error body is masked
// whole (deliver.ts scrubError) and an SSE error event too (WholeEvents); here a relay's
// `{"error":{"message":"Incorrect API key provided: sk-…"}}` would otherwise pass, its key with it,
// in whatever pieces it came.
//
// What is an error object: the body itself, each of several top-level values (NDJSON's
// `{…}\n{"error":{…}}`), or an element of a top-level array (Gemini's `[{…},\r\n{"error":{…}}]`),
// whose first key is "error" — the shape gw's sized path judges too (judge.ts errorAnswer).
// Content is never masked (a model may write a key-shaped example): only error objects are. An
// ordinary value is recognised by its first bytes and passes as the same chunks; the rest of it is
// scanned only for its end (its strings natively), for a value may follow it.

import type { PieceMask } from "../observe/mask-pieces.ts";
import { errorAnswerObject } from "./error-objects.ts";

/** An error object larger than this goes out in pieces of about this size, masked as it would be whole (mask.ts pieces). */
const MAX_HELD = 1 << 20;

const enum Mode {
  /** Before the body's first value: spaces pass. */
  Start,
  /** Inside the top-level value, watching for error objects. */
  Scan,
  /** The body is no JSON object or array: the rest passes as it comes. */
  Pass,
}

/** Where a held value is in telling whether it opens `{"error":`. */
const enum Opening {
  /** Spaces after `{`, then the key's first quote. */
  BeforeKey = 0,
  /** 1…5: `error`'s letters matched so far; 6: its closing quote is next. */
  AfterKey = 7,
  /** The key was "error": hold to the value's end, mask it. */
  Error = 8,
}

const KEY = new TextEncoder().encode('"error"');
const utf8 = new TextDecoder();
const encoder = new TextEncoder();

export class WholeErrors {
  private mode = Mode.Start;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** The depth an error object may open at: 0 (the body, or each of several: NDJSON), 1 (a top-level array's element). */
  private valueDepth = 0;
  /** The value being held (from its `{`), undefined when nothing is. */
  private held: Uint8Array[] | undefined;
  private heldSize = 0;
  private opening: number = Opening.BeforeKey;
  /** Objects met at valueDepth so far (the held one included). */
  private values = 0;
  private found: FoundError | undefined;
  /** An error object too large to hold, going out in pieces. */
  private passing: { readonly mask: PieceMask; readonly decoder: TextDecoder } | undefined;

  constructor(
    private readonly mask: (s: string) => string,
    private readonly pieces?: () => PieceMask,
  ) {}

  /** What of `chunk` the client gets now (empty while an error object is incomplete). */
  push(chunk: Uint8Array): Uint8Array {
    if (this.mode === Mode.Pass) return chunk;
    const out: Uint8Array[] = [];
    let from = 0; // chunk[from…i) is not yet handed on or held
    for (let i = 0; i < chunk.byteLength; i++) {
      const b = chunk[i]!;
      if (this.mode === Mode.Start) {
        if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
        if (b === 0x7b /* { */) {
          this.mode = Mode.Scan;
        } else if (b === 0x5b /* [ */) {
          this.mode = Mode.Scan;
          this.valueDepth = 1;
          this.depth = 1;
          continue;
        } else {
          this.mode = Mode.Pass;
          return this.joined(out, chunk.subarray(from));
        }
      }
      if (this.held && this.opening !== Opening.Error) {
        const decided = this.judgeOpening(b);
        if (decided === false) {
          // An ordinary value: what was held goes out as it came.
          out.push(...this.held, chunk.subarray(from, i));
          from = i;
          this.held = undefined;
        }
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (this.held && this.opening !== Opening.Error) {
          // Byte by byte while a held value's opening is judged.
          if (b === 0x5c /* \ */) this.escaped = true;
          else if (b === 0x22 /* " */) this.inString = false;
        } else {
          // Inside a string (most of an answer is its text): on to its closing quote natively. Its
          // escapes (`\n` most) cost nothing: only a quote asks how many backslashes precede it.
          const end = stringEnd(chunk, i);
          if (end === -1) {
            this.escaped = backslashesBefore(chunk, chunk.byteLength, i) % 2 === 1;
            i = chunk.byteLength;
          } else {
            this.inString = false;
            i = end;
          }
        }
        continue;
      }
      if (b === 0x22) this.inString = true;
      else if (b === 0x7b || b === 0x5b) {
        if (b === 0x7b && this.depth === this.valueDepth && !this.held) {
          // A value that may be an error object: held from its `{` until it is known.
          out.push(chunk.subarray(from, i));
          from = i;
          this.held = [];
          this.heldSize = 0;
          this.opening = Opening.BeforeKey;
          this.values++;
        }
        this.depth++;
      } else if (b === 0x7d || b === 0x5d) {
        this.depth--;
        if (this.held && this.depth === this.valueDepth) {
          // The held value is whole: out, masked if it was an error object.
          this.held.push(chunk.subarray(from, i + 1));
          this.heldSize += i + 1 - from;
          from = i + 1;
          out.push(this.release());
        }
      }
    }
    const rest = chunk.subarray(from);
    if (!this.held) return this.joined(out, rest);
    this.held.push(rest);
    this.heldSize += rest.byteLength;
    if (this.heldSize > MAX_HELD) {
      out.push(this.release(false, true));
      this.held = [];
      this.heldSize = 0;
    }
    return this.joined(out, new Uint8Array(0));
  }

  /** What is held at the end (an error object, or a value, the body never completed): masked. */
  rest(): Uint8Array | undefined {
    if (!this.held) return undefined;
    const r = this.release(true);
    return r.byteLength ? r : undefined;
  }

  /** The first error object the body carried (its text as the upstream wrote it), once it went out; `{"error":null,…}` is none (error-objects.ts errorAnswerObject). */
  error(): FoundError | undefined {
    return this.found;
  }

  /**
   * The bytes so far end inside a JSON value: an object or array still open, or a string. At the
   * body's end, an answer cut short — its upstream closed cleanly in the middle of it (a relay
   * that lost its own upstream). Read off the state the scan keeps anyway: no second pass. A
   * body that is no object or array (passed unscanned), or only spaces, is not judged here.
   */
  unfinished(): boolean {
    return this.mode === Mode.Scan && (this.depth > 0 || this.inString);
  }

  /**
   * One more byte of a held value's opening: false once it is not `{ "error" :`, true once it is,
   * undefined while it may still be.
   */
  private judgeOpening(b: number): boolean | undefined {
    const k = this.opening;
    const space = b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
    if (k === Opening.BeforeKey && space) return undefined;
    if (k === Opening.AfterKey) {
      if (space) return undefined;
      if (b !== 0x3a /* : */) return false;
      this.opening = Opening.Error;
      return true;
    }
    if (b !== KEY[k]) return false;
    this.opening = k + 1;
    return undefined;
  }

  /**
   * The held value as the client gets it: masked when it is an error object (or may be one, at the
   * end); with `more`, a piece of one too large to hold, the rest of it still to come.
   */
  private release(atEnd = false, more = false): Uint8Array {
    const bytes = this.held!.length === 1 ? this.held![0]! : Buffer.concat(this.held!, this.heldSize);
    const error = this.opening === Opening.Error || atEnd;
    this.held = undefined;
    if (!error) return bytes;
    // One past MAX_HELD goes as pieces would, whatever the reads that brought it: one read, or a
    // last read that took it past, would judge it whole where others do not.
    if (this.passing || ((more || bytes.byteLength > MAX_HELD) && this.pieces)) return this.passPiece(bytes, more);
    const text = utf8.decode(bytes);
    if (this.opening === Opening.Error && errorAnswerObject(text)) this.found ??= { text, afterContent: this.values > 1 };
    const masked = this.mask(text);
    return masked === text ? bytes : encoder.encode(masked);
  }

  /**
   * A piece of an error object too large to hold, masked as the whole will be. After content its
   * first piece names the error (the answer broke); alone, its status cannot be told from a piece
   * (Google and OpenAI put the code after the message), so it is not judged.
   */
  private passPiece(bytes: Uint8Array, more: boolean): Uint8Array {
    const p = (this.passing ??= { mask: this.pieces!(), decoder: new TextDecoder() });
    const text = p.decoder.decode(bytes, { stream: more });
    if (this.opening === Opening.Error && this.values > 1) this.found ??= { text, afterContent: true };
    let out = p.mask.push(text);
    if (!more) {
      out += p.mask.end();
      this.passing = undefined;
    }
    return encoder.encode(out);
  }

  private joined(out: Uint8Array[], last: Uint8Array): Uint8Array {
    if (out.length === 0) return last;
    out.push(last);
    const parts = out.filter((p) => p.byteLength > 0);
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}

/** An error object in a body whose 200 had gone out: the whole body, or an element of a top-level array. */
interface FoundError {
  readonly text: string;
  /** Other values came before it (a Gemini array's content, then the error): the answer broke. */
  readonly afterContent: boolean;
}

/**
 * The text of the error object a whole body opens with (itself, or its top-level array's first
 * element), as judge.ts errorAnswer judges it; undefined when it opens with none.
 */
function firstError(bytes: Uint8Array): string | undefined {
  const found = scanned(bytes);
  return found && !found.afterContent ? found.text : undefined;
}

/** Whether a whole JSON body ends inside its value (WholeErrors.unfinished): a body held whole is judged as one relayed is. */
export function endsInsideValue(bytes: Uint8Array): boolean {
  const scan = new WholeErrors((s) => s);
  scan.push(bytes);
  return scan.unfinished();
}

/** The first error object a whole body carries, found as the relay's scan finds it. */
function scanned(bytes: Uint8Array): FoundError | undefined {
  const scan = new WholeErrors((s) => s);
  scan.push(bytes);
  return scan.error();
}

/**
 * The error object a whole answer is: firstError's, or Anthropic's `{"type":"error","error":{…}}`
 * (CLIProxyAPI's on /v1/messages, also after its keep-alive) — a shape only a whole body can be,
 * so the scan above never holds for it.
 */
export function answerError(bytes: Uint8Array): string | undefined {
  const found = firstError(bytes);
  if (found !== undefined) return found;
  const text = utf8.decode(bytes);
  return errorAnswerObject(text)?.type === "error" ? text : undefined;
}

const ERROR_KEY = Buffer.from('"error"');

/**
 * The text of an error object that follows a whole answer's content (a later NDJSON value, an
 * element of Gemini's array after content) — what the scan above finds in a body relayed as it
 * comes, found in one held whole; undefined when there is none.
 */
export function errorAfterContent(bytes: Uint8Array): string | undefined {
  // Most answers name no "error" at all: one native search (no copy of the bytes) spares them the scan.
  if (Buffer.prototype.indexOf.call(bytes, ERROR_KEY) === -1) return undefined;
  const found = scanned(bytes);
  return found?.afterContent ? found.text : undefined;
}

/** Where the string `bytes[from…]` is inside ends (its closing quote), -1 past these bytes; `from` is no escaped byte. */
function stringEnd(bytes: Uint8Array, from: number): number {
  for (let q = bytes.indexOf(0x22, from); q !== -1; q = bytes.indexOf(0x22, q + 1)) {
    if (backslashesBefore(bytes, q, from) % 2 === 0) return q;
  }
  return -1;
}

/** How many backslashes run back from `at` (not before `from`): an odd run escapes the byte at `at`. */
function backslashesBefore(bytes: Uint8Array, at: number, from: number): number {
  let n = 0;
  while (at - n > from && bytes[at - n - 1] === 0x5c) n++;
  return n;
}
