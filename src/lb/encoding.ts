// Content-Encoding, undone: upstream error bodies (to classify and mask them) and compressed
// request bodies (to route and rewrite them). One table of codings for both, each decode bounded
// by the most bytes it may produce, so a small bomb cannot become a large buffer. Strict: data a
// decoder here refuses is read, where it must be, by lenient-decoding.ts.

import type { Transform } from "node:stream";
import * as zlib from "node:zlib";
import { wholeZstdFrames } from "./zstd-frames.ts";

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
function decodeSync(bytes: Uint8Array, codings: readonly string[], maxBytes: number): Uint8Array {
  let buf = bytes;
  for (const c of codings) buf = pick(SYNC, c)(buf, { maxOutputLength: maxBytes });
  return buf;
}

/**
 * A whole body's bytes with its Content-Encoding undone, to read (judge, classify, mask): its own
 * bytes when it has none; undefined when gw cannot undo it strictly within `maxBytes` — bad or cut
 * data, other bytes after it, an unknown coding, more than `maxBytes` — for the caller to read as
 * far as it goes (lenient-decoding.ts) or leave unread, never to read its coded bytes as text. No
 * header, no work: every sized answer is asked.
 */
export function decodedWhole(bytes: Uint8Array, contentEncoding: string | null | undefined, maxBytes: number): Uint8Array | undefined {
  if (!contentEncoding) return bytes;
  try {
    return decodeSync(bytes, codingsOf(contentEncoding), maxBytes);
  } catch {
    return undefined;
  }
}

/**
 * Undo `codings` off the event loop (zlib's thread pool), chunk by chunk: for request bodies of
 * any size. `room(n)` is asked for the decoder's own window before it starts and for each decoded
 * chunk before it is kept; when it says no, decoding stops and this throws NoRoom. So what a
 * decode holds is counted while it grows, not after: many small bombs decoding at once cannot
 * together hold more than `room` allows. Throws as decodeSync.
 */
export async function decode(bytes: Uint8Array, codings: readonly string[], maxBytes: number, room: (bytes: number) => boolean = () => true): Promise<Uint8Array> {
  let buf = bytes;
  for (const c of codings) buf = await pick(STREAMS, c)(buf, maxBytes, room);
  return buf;
}

/**
 * `body` with `codings` (from codingsOf) undone as it arrives: each chunk's decoded bytes come out
 * at once, so an event stream stays a stream. Undefined when a coding is one gw cannot undo.
 */
export function decodingStream(body: ReadableStream<Uint8Array>, codings: readonly string[]): ReadableStream<Uint8Array> | undefined {
  if (!codings.every((c) => Object.hasOwn(WEB_FORMATS, c))) return undefined;
  return codings.reduce((s, c) => s.pipeThrough(c === "deflate" ? inflating() : (new DecompressionStream(WEB_FORMATS[c]!) as unknown as ReadableWritablePair<Uint8Array, Uint8Array>)), body);
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

/** Content codings as DecompressionStream names them (Bun's takes brotli and zstd too). */
const WEB_FORMATS: Readonly<Record<string, CompressionFormat>> = {
  gzip: "gzip",
  "x-gzip": "gzip",
  deflate: "deflate",
  br: "brotli" as CompressionFormat,
  zstd: "zstd" as CompressionFormat,
};

/**
 * Deflate as it arrives, zlib-wrapped or raw (servers disagree, as for inflateSync): the first two
 * bytes tell which (RFC 1950's header: method 8, a multiple of 31), then the web decoder for it.
 */
function inflating(): ReadableWritablePair<Uint8Array, Uint8Array> {
  let head = new Uint8Array(0);
  let writer: WritableStreamDefaultWriter<BufferSource> | undefined;
  let pumped: Promise<void> | undefined;
  return new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, out) {
      if (!writer) {
        head = Buffer.concat([head, chunk]);
        if (head.byteLength < 2) return;
        const zlibWrapped = (head[0]! & 0x0f) === 8 && ((head[0]! << 8) | head[1]!) % 31 === 0;
        const d = new DecompressionStream((zlibWrapped ? "deflate" : "deflate-raw") as CompressionFormat);
        writer = d.writable.getWriter();
        pumped = d.readable.pipeTo(new WritableStream({ write: (c) => out.enqueue(c) }));
        pumped.catch(() => {}); // its error is the writer's too, and flush awaits it
        return writer.write(head);
      }
      return writer.write(chunk as Uint8Array<ArrayBuffer>);
    },
    async flush() {
      if (!writer) {
        if (head.byteLength) throw new Error("deflate data ends inside its first two bytes");
        return;
      }
      await writer.close();
      await pumped;
    },
  });
}

/** Bigger than zlib's 16 KiB default: fewer hand-offs between the pool and the loop per body. */
const CHUNK = 64 * 1024;

/**
 * One coding undone by a zlib stream, its output counted chunk by chunk (see decode), and first
 * the memory the decoder itself takes for `buf` (`window`), where that is more than a few KiB.
 */
function streamed(make: (opts: { chunkSize: number }) => Transform, window?: (buf: Uint8Array) => number): StreamDecoder {
  return (buf, maxBytes, room) =>
    new Promise((resolve, reject) => {
      if (window && !room(window(buf))) return reject(new NoRoom("no room for the decoder"));
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
const zstdStream = streamed(zlib.createZstdDecompress);
const STREAMS: Readonly<Record<string, StreamDecoder>> = {
  gzip: gunzipStream,
  "x-gzip": gunzipStream,
  br: streamed(zlib.createBrotliDecompress, brotliWindow),
  deflate: async (buf, maxBytes, room) => {
    try {
      return await inflateStream(buf, maxBytes, room);
    } catch (e) {
      if (isTooLarge(e) || e instanceof NoRoom) throw e;
      return inflateRawStream(buf, maxBytes, room);
    }
  },
  // The decoder takes a frame cut short for a whole one: the frames are checked first (zstd-frames.ts).
  zstd: (buf, maxBytes, room) => (wholeZstdFrames(buf) ? zstdStream(buf, maxBytes, room) : Promise.reject(new Error("zstd data ends inside a frame"))),
};

/**
 * The ring buffer a brotli decoder allocates for this stream: the window its first bits declare
 * (RFC 7932 §9.1), up to 16 MiB — a 1 KB body can make each decoder take that much, so it is held
 * like decoded bytes. Large windows (an extension zlib does not enable) are counted as 16 MiB; the
 * decoder refuses them.
 */
function brotliWindow(buf: Uint8Array): number {
  const bits = (buf[0] ?? 0) | ((buf[1] ?? 0) << 8);
  let wbits: number;
  if ((bits & 1) === 0) wbits = 16;
  else if ((bits >> 1) & 7) wbits = 17 + ((bits >> 1) & 7);
  else {
    const n = (bits >> 4) & 7;
    wbits = n === 1 ? 24 : n ? 8 + n : 17;
  }
  return 1 << wbits;
}

function pick<T>(table: Readonly<Record<string, T>>, coding: string): T {
  if (!Object.hasOwn(table, coding)) throw new Error(`unknown content coding ${coding}`);
  return table[coding]!;
}
