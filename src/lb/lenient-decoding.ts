// Content-Encoding undone as far as the data goes: what a lenient client's decoder shows of a
// body no strict decoder takes — gzip cut before its trailer (Node's fetch, so the Anthropic SDK
// under Claude Code, shows it), gzip with other bytes after it (Bun's fetch shows it), any coding
// cut inside its data. gw reads an upstream error body so when encoding.ts cannot: what it read
// is what it masks, and all a client can get of it (error-body.ts).

import type { Transform } from "node:stream";
import * as zlib from "node:zlib";

/** What came out, and whether the decoder stopped at maxBytes with more to give. */
export interface AsFarAsItGoes {
  readonly bytes: Uint8Array;
  readonly cut: boolean;
}

/**
 * Undo `codings` (encoding.ts codingsOf) as far as the data goes, keeping at most `maxBytes` of
 * each step. Never throws: bad data ends the output where it begins (nothing, for a coding gw
 * does not know or data that is not in it at all). Off the event loop, as zlib's streams are.
 */
export async function decodeAsFarAsItGoes(bytes: Uint8Array, codings: readonly string[], maxBytes: number): Promise<AsFarAsItGoes> {
  let buf = bytes;
  let cut = false;
  for (const c of codings) {
    const decoder = Object.hasOwn(LENIENT, c) ? LENIENT[c]!(buf) : undefined;
    if (!decoder) return { bytes: new Uint8Array(0), cut };
    const out = await drain(decoder.z, buf.subarray(decoder.from), maxBytes);
    buf = out.bytes;
    cut ||= out.cut;
  }
  return { bytes: buf, cut };
}

// --- internal ---

/** A decoder for a body, and where in it its data begins; undefined when it cannot begin. */
type Lenient = (buf: Uint8Array) => { z: Transform; from: number } | undefined;

// Flushed at the input's end rather than finished: data cut short gives what it holds, no error.
const SYNC = { finishFlush: zlib.constants.Z_SYNC_FLUSH, chunkSize: 64 * 1024 };

/**
 * gzip as its deflate data (RFC 1952): the header skipped by hand, the rest inflated raw, which
 * stops at the data's end — the trailer, and whatever follows it, unread (a gunzip stream takes
 * bytes after a member for the next one's header, and fails with nothing out).
 */
const gunzip: Lenient = (buf) => {
  const from = gzipDataStart(buf);
  return from === undefined ? undefined : { z: zlib.createInflateRaw(SYNC), from };
};

/** Zlib-wrapped or raw, as the first two bytes say (RFC 1950's header), as encoding.ts reads deflate. */
const inflate: Lenient = (buf) => {
  const wrapped = buf.byteLength >= 2 && (buf[0]! & 0x0f) === 8 && ((buf[0]! << 8) | buf[1]!) % 31 === 0;
  return { z: wrapped ? zlib.createInflate(SYNC) : zlib.createInflateRaw(SYNC), from: 0 };
};

const LENIENT: Readonly<Record<string, Lenient>> = {
  gzip: gunzip,
  "x-gzip": gunzip,
  deflate: inflate,
  br: () => ({ z: zlib.createBrotliDecompress({ finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH, chunkSize: SYNC.chunkSize }), from: 0 }),
  // zlib's zstd decoder takes a frame cut short as far as it goes, and ignores what follows the last.
  zstd: () => ({ z: zlib.createZstdDecompress({ chunkSize: SYNC.chunkSize }), from: 0 }),
};

const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;
const FHCRC = 2;

/** Where a gzip member's deflate data begins, past its header and the optional fields it names. */
function gzipDataStart(b: Uint8Array): number | undefined {
  if (b.byteLength < 10 || b[0] !== 0x1f || b[1] !== 0x8b || b[2] !== 8) return undefined;
  const flags = b[3]!;
  let at = 10;
  if (flags & FEXTRA) at += 2 + ((b[at] ?? 0) | ((b[at + 1] ?? 0) << 8));
  // A name and a comment each end at a zero byte: none found, no data follows.
  for (const field of [FNAME, FCOMMENT]) if (flags & field) at = at < b.byteLength ? b.indexOf(0, at) + 1 : 0;
  if (at === 0) return undefined;
  if (flags & FHCRC) at += 2;
  return at <= b.byteLength ? at : undefined;
}

/** The decoder's output for `input`, up to `maxBytes`; what came before an error, if one comes. */
function drain(z: Transform, input: Uint8Array, maxBytes: number): Promise<AsFarAsItGoes> {
  return new Promise((resolve) => {
    const chunks: Uint8Array[] = [];
    let size = 0;
    let settled = false;
    const settle = (cut: boolean) => {
      if (settled) return;
      settled = true;
      z.destroy();
      resolve({ bytes: Buffer.concat(chunks, size), cut });
    };
    z.on("data", (chunk: Buffer) => {
      if (settled) return;
      if (size + chunk.byteLength <= maxBytes) {
        chunks.push(chunk);
        size += chunk.byteLength;
        return;
      }
      chunks.push(chunk.subarray(0, maxBytes - size));
      size = maxBytes;
      settle(true);
    });
    z.on("error", () => settle(false));
    z.on("end", () => settle(false));
    z.end(input);
  });
}
