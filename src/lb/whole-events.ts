// Event-stream bytes handed on in whole events: the part of an event that a chunk cuts off waits
// for the chunk that completes it. An SSE client acts on an event only at its blank line, so no
// client sees the wait; what it buys is that gw judges — and masks — every event whole. CLIProxyAPI
// writes each event in one piece, but a relay, a proxy or TCP may cut one anywhere: an error event
// that quotes the relay's key would otherwise pass its first part, and the key, unmasked.

/** An event larger than this (a Responses `response.completed` carries the whole answer) passes as it comes. */
const MAX_PENDING = 1 << 20;

export class WholeEvents {
  private pending: Uint8Array | undefined;

  /** The whole events `chunk` completes, with what waited before them (empty when it completes none). */
  push(chunk: Uint8Array): Uint8Array {
    const before = this.pending?.byteLength ?? 0;
    const bytes = before ? Buffer.concat([this.pending!, chunk]) : chunk;
    // A blank line that ends an event: "\n\n" or "\n\r\n" (CRLF streams), possibly across the joint.
    let end = 0;
    for (let i = bytes.byteLength - 1; i >= Math.max(1, before - 2); i--) {
      if (bytes[i] !== 0x0a) continue;
      if (bytes[i - 1] === 0x0a || (bytes[i - 1] === 0x0d && bytes[i - 2] === 0x0a)) {
        end = i + 1;
        break;
      }
    }
    if (end === bytes.byteLength || bytes.byteLength - end > MAX_PENDING) {
      this.pending = undefined;
      return bytes;
    }
    this.pending = bytes.subarray(end);
    return bytes.subarray(0, end);
  }

  /** What waits at the end: an event the stream never completed. */
  rest(): Uint8Array | undefined {
    const r = this.pending;
    this.pending = undefined;
    return r;
  }
}
