// Event-stream bytes handed on in whole events: the part of an event that a chunk cuts off waits
// for the chunk that completes it. An SSE client acts on an event only at its blank line, so no
// client sees the wait; what it buys is that gw judges — and masks — every event whole. CLIProxyAPI
// writes each event in one piece, but a relay, a proxy or TCP may cut one anywhere: an error event
// that quotes the relay's key would otherwise pass its first part, and the key, unmasked.

import { hasBareCr, LfLineEnds } from "./cr-line-ends.ts";

/** An event larger than this (a Responses `response.completed` carries the whole answer) passes as it comes. */
const MAX_PENDING = 1 << 20;

const NONE = new Uint8Array(0);

export class WholeEvents {
  /**
   * The part of an event that waits, in the reads it came in: a large event (a Codex handshake
   * echoes its request's tools) read in TCP-sized pieces is joined once, when it is handed on, not
   * copied again at every read (1 MiB in 1,448-byte reads: ~370 MB of copying). None while nothing
   * waits: a stream whose reads end its events makes no array.
   */
  private parts: Uint8Array[] | undefined;
  private size = 0;
  /** Made once the stream is seen to end its lines in a bare CR (cr-line-ends.ts): from then on its reads are handed on with LF line ends. */
  private lineEnds: LfLineEnds | undefined;

  /** The whole events `chunk` completes, with what waited before them (empty when it completes none). */
  push(chunk: Uint8Array): Uint8Array {
    if (this.lineEnds) chunk = this.lineEnds.apply(chunk);
    // A blank line that ends an event: "\n\n" or "\n\r\n" (CRLF streams), possibly across the joint
    // with what waits — only this chunk's bytes can end one: what waits was searched before.
    let end = 0;
    for (let i = chunk.byteLength - 1; i >= (this.size ? 0 : 1); i--) {
      if (chunk[i] !== 0x0a) continue;
      const b1 = this.at(chunk, i - 1);
      if (b1 === 0x0a || (b1 === 0x0d && this.at(chunk, i - 2) === 0x0a)) {
        end = i + 1;
        break;
      }
    }
    // Lines that end in a bare CR have no LF to end an event with: what waits and this read are taken again with LF line ends.
    if (end === 0 && !this.lineEnds && hasBareCr(chunk, this.at(chunk, -1))) {
      this.lineEnds = new LfLineEnds();
      this.keep(chunk);
      return this.push(this.take(NONE));
    }
    const waits = end ? chunk.byteLength - end : this.size + chunk.byteLength;
    if (waits === 0 || waits > MAX_PENDING) return this.take(chunk);
    if (end === 0) {
      this.keep(chunk);
      return NONE;
    }
    const out = this.take(chunk.subarray(0, end));
    this.keep(chunk.subarray(end));
    return out;
  }

  /** What waits at the end: an event the stream never completed. */
  rest(): Uint8Array | undefined {
    return this.size ? this.take(NONE) : undefined;
  }

  private keep(piece: Uint8Array): void {
    if (piece.byteLength === 0) return;
    (this.parts ??= []).push(piece);
    this.size += piece.byteLength;
  }

  /** What waits, then `last`, in one piece; nothing waits after. */
  private take(last: Uint8Array): Uint8Array {
    if (this.size === 0 || !this.parts) return last;
    const parts = last.byteLength ? [...this.parts, last] : this.parts;
    const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.size + last.byteLength);
    this.parts = undefined;
    this.size = 0;
    return out;
  }

  /** The byte at `i` of `chunk`, or, for i < 0, of what waits before it (-1: its last). */
  private at(chunk: Uint8Array, i: number): number | undefined {
    const parts = this.parts;
    if (i >= 0 || !parts) return chunk[i];
    for (let k = parts.length - 1; k >= 0; k--) {
      const p = parts[k]!;
      if (-i <= p.byteLength) return p[p.byteLength + i];
      i += p.byteLength;
    }
    return undefined;
  }
}
