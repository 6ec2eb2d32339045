// An event stream's error events as the client gets them: masked, whatever their size or cuts. An
// error event after content is an upstream error like a status, and what it quotes (a relay's key,
// the user's, echoed with the request into a huge error) is masked as an error body is. WholeEvents
// hands events on whole up to 1 MiB: those are masked whole; a larger one passes in pieces, and
// once its start shows it is an error, every piece is masked as the whole would be (mask.ts
// pieces), what a secret across the next cut may still need waiting for it.

import type { PieceMask } from "../observe/mask-pieces.ts";

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

export class ErrorEvents {
  /** An error event passing in pieces (and what follows it in the same chunks), masked as one text. */
  private run: { readonly mask: PieceMask; readonly decoder: TextDecoder } | undefined;

  constructor(
    private readonly mask: (s: string) => string,
    private readonly pieces: () => PieceMask,
  ) {}

  /**
   * What the client gets of `chunk` (WholeEvents' output): `completed` — an error event ended in
   * it; `open` — it ends inside an error event (one too large to wait whole).
   */
  pass(chunk: Uint8Array, completed: boolean, open: boolean): Uint8Array {
    if (!this.run && !open) return completed ? maskWholeLines(chunk, this.mask) : chunk;
    const run = (this.run ??= { mask: this.pieces(), decoder: new TextDecoder() });
    let text = run.mask.push(run.decoder.decode(chunk, { stream: true }));
    if (!open) text += this.endRun();
    return encoder.encode(text);
  }

  /** After the upstream's last byte: the event it never completed (`rest`), masked — it may be an error's start. */
  end(rest: Uint8Array | undefined): string {
    if (!this.run) return rest ? this.mask(utf8.decode(rest)) : "";
    return (rest ? this.run.mask.push(this.run.decoder.decode(rest, { stream: true })) : "") + this.endRun();
  }

  private endRun(): string {
    const run = this.run!;
    this.run = undefined;
    return run.mask.push(run.decoder.decode()) + run.mask.end();
  }
}

/**
 * Stream bytes with the secrets in their whole lines masked (a character cut at the end stays
 * bytes for the next chunk to complete); the same bytes when nothing needed masking.
 */
export function maskWholeLines(bytes: Uint8Array, mask: (s: string) => string): Uint8Array {
  const lines = bytes.lastIndexOf(0x0a) + 1;
  const text = utf8.decode(bytes.subarray(0, lines));
  const masked = mask(text);
  if (masked === text) return bytes;
  return lines < bytes.length ? Buffer.concat([encoder.encode(masked), bytes.subarray(lines)]) : encoder.encode(masked);
}

/**
 * Stream bytes with the secrets in their whole lines masked, but for data lines: comments, `id:`,
 * `retry:` and unknown fields carry nothing of the answer, and a relay may fill them with anything
 * (its key in a debug comment). Data lines are the model's text, which passes as it came: a
 * token-shaped string in it is the answer's, not a leak.
 */
export function maskFieldLines(bytes: Uint8Array, mask: (s: string) => string): Uint8Array {
  return maskWholeLines(bytes, (text) => text.replace(FIELD_LINE, (line) => mask(line)));
}

const FIELD_LINE = /^(?!data:)[^\r\n]+/gm;
