// Event streams whose lines end in a bare CR. The SSE spec allows CRLF, LF or CR; gw's readers of
// a relayed stream (whole events, usage, the answer's end, masking) look for LF, so such a stream
// is relayed with its line ends made LF: the same events to every SSE client. Streams in LF or
// CRLF never come here (whole-events.ts asks only of a read that ended no event).

/**
 * Whether `bytes`, after the byte `before` (undefined: none), hold a CR that ends a line alone. A CR
 * at their very end may be half a CRLF: it does not count.
 */
export function hasBareCr(bytes: Uint8Array, before: number | undefined): boolean {
  if (before === CR && bytes[0] !== LF) return true;
  const last = bytes.byteLength - 1;
  for (let i = bytes.indexOf(CR); i !== -1 && i < last; i = bytes.indexOf(CR, i + 1)) if (bytes[i + 1] !== LF) return true;
  return false;
}

/** A stream's line ends made LF (CR and CRLF alike), read by read: a CRLF cut between two reads stays one line end. */
export class LfLineEnds {
  /** The last read ended with a CR: an LF opening the next one is its other half. */
  private afterCr = false;

  apply(chunk: Uint8Array): Uint8Array {
    const out = new Uint8Array(chunk.byteLength);
    let n = 0;
    let i = this.afterCr && chunk[0] === LF ? 1 : 0;
    for (; i < chunk.byteLength; i++) {
      const b = chunk[i]!;
      if (b !== CR) out[n++] = b;
      else {
        out[n++] = LF;
        if (chunk[i + 1] === LF) i++;
      }
    }
    if (chunk.byteLength > 0) this.afterCr = chunk[chunk.byteLength - 1] === CR;
    return n === out.byteLength ? out : out.subarray(0, n);
  }
}

const CR = 0x0d;
const LF = 0x0a;
