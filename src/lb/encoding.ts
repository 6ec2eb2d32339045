// Content-Encoding, undone: upstream error bodies (to classify and mask them) and compressed
// request bodies (to route and rewrite them). One table of codings for both, each decode bounded
// by the most bytes it may produce, so a small bomb cannot become a large buffer.

import { promisify } from "node:util";
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

/** Undo `codings` off the event loop (zlib's thread pool): for request bodies of any size. Throws as decodeSync. */
export async function decode(bytes: Uint8Array, codings: readonly string[], maxBytes: number): Promise<Uint8Array> {
  let buf = bytes;
  for (const c of codings) buf = await pick(ASYNC, c)(buf, { maxOutputLength: maxBytes });
  return buf;
}

/** Whether a decode failed by exceeding its `maxBytes` (rather than by bad data). */
export function isTooLarge(e: unknown): boolean {
  return (e as { code?: string } | null)?.code === "ERR_BUFFER_TOO_LARGE";
}

// --- internal ---

type Opts = { maxOutputLength: number };
type SyncDecoder = (buf: Uint8Array, opts: Opts) => Uint8Array;
type AsyncDecoder = (buf: Uint8Array, opts: Opts) => Promise<Uint8Array>;

// Servers disagree on zlib-wrapped vs raw deflate; accept both.
const inflateSync: SyncDecoder = (buf, opts) => {
  try {
    return zlib.inflateSync(buf, opts);
  } catch (e) {
    if (isTooLarge(e)) throw e;
    return zlib.inflateRawSync(buf, opts);
  }
};
const inflate = promisify(zlib.inflate) as AsyncDecoder;
const inflateRaw = promisify(zlib.inflateRaw) as AsyncDecoder;
const inflateAsync: AsyncDecoder = async (buf, opts) => {
  try {
    return await inflate(buf, opts);
  } catch (e) {
    if (isTooLarge(e)) throw e;
    return inflateRaw(buf, opts);
  }
};

const SYNC: Readonly<Record<string, SyncDecoder>> = {
  gzip: zlib.gunzipSync,
  "x-gzip": zlib.gunzipSync,
  br: zlib.brotliDecompressSync,
  deflate: inflateSync,
  zstd: zlib.zstdDecompressSync,
};

const gunzip = promisify(zlib.gunzip) as AsyncDecoder;
const ASYNC: Readonly<Record<string, AsyncDecoder>> = {
  gzip: gunzip,
  "x-gzip": gunzip,
  br: promisify(zlib.brotliDecompress) as AsyncDecoder,
  deflate: inflateAsync,
  zstd: promisify(zlib.zstdDecompress) as AsyncDecoder,
};

function pick<T>(table: Readonly<Record<string, T>>, coding: string): T {
  if (!Object.hasOwn(table, coding)) throw new Error(`unknown content coding ${coding}`);
  return table[coding]!;
}
