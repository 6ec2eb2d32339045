// Content-Encoding, undone: upstream error bodies (to classify and mask them) and compressed
// request bodies (to route and rewrite them). One table of codings for both, each decode bounded
// by the most bytes it may produce, so a small bomb cannot become a large buffer.

import type { Transform } from "node:stream";
import * as zlib from "node:zlib";

/** The codings of a Content-Encoding header in the order to undo them (the last applied first); identity dropped. */
export function codingsOf(header: string | null | undefined): string[] {
  if (!header) return [];
  return header
    .toLowerCase()
    .split(",")
    .map((s) => s.trim())
    .filter((c) => c && c !== "identity")
    .reverse();
}

/** Whether gw can undo this coding. */
export function isKnownCoding(coding: string): boolean {
  return Object.hasOwn(SYNC, coding);
}

/** Undo `codings` (from codingsOf) in the calling thread: for short bodies. Throws on bad data, an unknown coding, or more than `maxBytes`. */
export function decodeSync(bytes: Uint8Array, codings: readonly string[], maxBytes: number): Uint8Array {
  let buf = bytes;
  for (const c of codings) buf = pick(SYNC, c)(buf, { maxOutputLength: maxBytes });
  return buf;
}

/**
 * Undo `codings` off the event loop (zlib's thread pool), chunk by chunk: for request bodies of
 * any size. `room(n)` is asked before each decoded chunk is kept; when it says no, decoding stops
 * and this throws NoRoom. So what a decode holds is counted while it grows, not after: many small
 * bombs decoding at once cannot together hold more than `room` allows. Throws as decodeSync.
 */
export async function decode(bytes: Uint8Array, codings: readonly string[], maxBytes: number, room: (bytes: number) => boolean = () => true): Promise<Uint8Array> {
  let buf = bytes;
  for (const c of codings) buf = await pick(STREAMS, c)(buf, maxBytes, room);
  return buf;
}

/** A decode stopped because `room` refused its next chunk. */
export class NoRoom extends Error {}

/** Whether a decode failed by exceeding its `maxBytes` (rather than by bad data). */
export function isTooLarge(e: unknown): boolean {
  return (e as { code?: string } | null)?.code === TOO_LARGE;
}

// --- internal ---

/** zlib's code for output beyond maxOutputLength; the stream decoders say the same. */
const TOO_LARGE = "ERR_BUFFER_TOO_LARGE";

type Opts = { maxOutputLength: number };
type SyncDecoder = (buf: Uint8Array, opts: Opts) => Uint8Array;
type StreamDecoder = (buf: Uint8Array, maxBytes: number, room: (bytes: number) => boolean) => Promise<Uint8Array>;

// Servers disagree on zlib-wrapped vs raw deflate; accept both.
const inflateSync: SyncDecoder = (buf, opts) => {
  try {
    return zlib.inflateSync(buf, opts);
  } catch (e) {
    if (isTooLarge(e)) throw e;
    return zlib.inflateRawSync(buf, opts);
  }
};
const SYNC: Readonly<Record<string, SyncDecoder>> = {
  gzip: zlib.gunzipSync,
  "x-gzip": zlib.gunzipSync,
  br: zlib.brotliDecompressSync,
  deflate: inflateSync,
  zstd: zlib.zstdDecompressSync,
};

/** Bigger than zlib's 16 KiB default: fewer hand-offs between the pool and the loop per body. */
const CHUNK = 64 * 1024;

/** One coding undone by a zlib stream, its output counted chunk by chunk (see decode). */
function streamed(make: (opts: { chunkSize: number }) => Transform): StreamDecoder {
  return (buf, maxBytes, room) =>
    new Promise((resolve, reject) => {
      const z = make({ chunkSize: CHUNK });
      const chunks: Buffer[] = [];
      let size = 0;
      const stop = (e: Error) => {
        z.destroy();
        reject(e);
      };
      z.on("data", (chunk: Buffer) => {
        size += chunk.byteLength;
        if (size > maxBytes) return stop(Object.assign(new RangeError(`decoded body exceeds ${maxBytes} bytes`), { code: TOO_LARGE }));
        if (!room(chunk.byteLength)) return stop(new NoRoom("no room for the decoded body"));
        chunks.push(chunk);
      });
      z.on("error", reject);
      z.on("end", () => resolve(Buffer.concat(chunks, size)));
      z.end(buf);
    });
}

const inflateStream = streamed(zlib.createInflate);
const inflateRawStream = streamed(zlib.createInflateRaw);
const gunzipStream = streamed(zlib.createGunzip);
const STREAMS: Readonly<Record<string, StreamDecoder>> = {
  gzip: gunzipStream,
  "x-gzip": gunzipStream,
  br: streamed(zlib.createBrotliDecompress),
  deflate: async (buf, maxBytes, room) => {
    try {
      return await inflateStream(buf, maxBytes, room);
    } catch (e) {
      if (isTooLarge(e) || e instanceof NoRoom) throw e;
      return inflateRawStream(buf, maxBytes, room);
    }
  },
  zstd: streamed(zlib.createZstdDecompress),
};

function pick<T>(table: Readonly<Record<string, T>>, coding: string): T {
  if (!Object.hasOwn(table, coding)) throw new Error(`unknown content coding ${coding}`);
  return table[coding]!;
}
