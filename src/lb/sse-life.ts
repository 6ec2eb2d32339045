// What in an event stream's bytes is a sign of its upstream's life, for gw's idle clock
// (lb_idle_timeout_ms, stream.ts): any part of an event, not a comment line. CLIProxyAPI writes
// `: keep-alive` exactly when its own upstream is silent, on a ticker that nothing resets: counted
// as life, an upstream that hung after its first content kept the client's stream open for ever.

const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;

/** Reads a stream's chunks as they come, lines across chunk borders (LF, CRLF or bare CR ends). */
export class EventLife {
  /** The next byte starts a line. */
  private lineStart = true;
  /** The line being read is a comment (starts with ":"). */
  private comment = false;

  /** Whether `chunk` carries any of an event (a field line, or more of one), not only comment lines and blank lines. */
  push(chunk: Uint8Array): boolean {
    let i = 0;
    for (; i < chunk.byteLength; i++) {
      const b = chunk[i]!;
      if (b === LF || b === CR) this.lineStart = true;
      else if (this.lineStart) {
        this.lineStart = false;
        this.comment = b === COLON;
        if (!this.comment) break;
      } else if (!this.comment) break;
    }
    if (i === chunk.byteLength) return false;
    // Part of an event: the rest of the chunk only says where the line after it stands.
    const end = Math.max(chunk.lastIndexOf(LF), chunk.lastIndexOf(CR));
    if (end < i) this.comment = false;
    else if (end === chunk.byteLength - 1) this.lineStart = true;
    else this.comment = chunk[end + 1] === COLON;
    return true;
  }
}
