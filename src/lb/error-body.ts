// An upstream error body (an error status's, or a 2xx that is only an error object), read to judge
// it and given to the client without the secrets it quotes. gw masks the text it read, so a client
// may only get text gw read: the exact bytes go out only when they were decoded strictly whole
// (a client's decoder then reads what gw read). A body no strict decoder takes — gzip cut before
// its trailer, or with bytes after it, which lenient decoders (Node's fetch, Bun's) still show —
// is read as far as its data goes and goes out decoded and masked; one longer than gw reads, or
// not a whole JSON value as far as it goes, is quoted, masked, in gw's own error.

import type { PieceMask } from "../observe/mask-pieces.ts";
import { type Dialect, errorReply } from "./dialect.ts";
import { codingsOf, decodedWhole, isKnownCoding } from "./encoding.ts";
import { ErrorOpening } from "./json-opening.ts";
import { decodeAsFarAsItGoes } from "./lenient-decoding.ts";
import { answerError } from "./whole-errors.ts";

/**
 * How an error body was read, when not strictly whole: "decoded" — as far as its data went (a
 * lenient decoder's reading), all of it a JSON value: it goes out as that text, masked; "cut" —
 * only its start could be read (longer than gw reads, its data bad or in a coding gw does not
 * know): gw's own error quotes that start, masked.
 */
export type ErrorRead = "decoded" | "cut";

export interface ErrorBody {
  /** What it says, to classify. Cut, its masked start (a secret the cut goes through never shows). */
  readonly text: string;
  /** What the record, gw's own errors and the client are given: `text`, or for a cut body gw's sentence quoting its start. */
  readonly errorText: string;
  readonly read?: ErrorRead;
}

/** An error status's body; not `complete` when its read stopped at the most gw reads (1 MiB), or broke. */
export async function readErrorBody(bytes: Uint8Array, complete: boolean, contentEncoding: string | null, pieces: () => PieceMask): Promise<ErrorBody> {
  if (bytes.byteLength === 0) return EMPTY;
  const whole = complete ? decodedWhole(bytes, contentEncoding, DECODED_MAX) : undefined;
  if (whole) {
    const text = utf8.decode(whole);
    return { text, errorText: text };
  }
  const codings = codingsOf(contentEncoding);
  const read = codings.length > 0 ? await decodeAsFarAsItGoes(bytes, codings, DECODED_MAX) : { bytes, cut: false };
  const text = utf8.decode(read.bytes);
  if (complete && !read.cut && isJsonValue(text)) return { text, errorText: text, read: "decoded" };
  return cutBody(text, why(contentEncoding, read.cut || bytes.byteLength >= DECODED_MAX), pieces);
}

/**
 * A whole 2xx body gw could not decode strictly within the most it reads (judge.ts judgeWhole):
 * the error object it opens with, read as far as its data goes — however it goes on, or however
 * large: an answer that opens as an error is no answer — or undefined when it opens with none.
 */
export async function codedAnswerError(bytes: Uint8Array, contentEncoding: string | null, pieces: () => PieceMask): Promise<ErrorBody | undefined> {
  const read = await decodeAsFarAsItGoes(bytes, codingsOf(contentEncoding), DECODED_MAX);
  if (new ErrorOpening().push(read.bytes) !== true) return undefined;
  const found = answerError(read.bytes);
  if (found !== undefined) return { text: found, errorText: found, read: "decoded" };
  return cutBody(utf8.decode(read.bytes), why(contentEncoding, read.cut), pieces);
}

/**
 * The body the client gets for an error read as `read` says: undefined for its exact bytes (read
 * strictly whole, nothing to mask), else text — without Content-Encoding, whatever came: masked,
 * or for a cut body gw's own error in the client's dialect (its quote was masked as it was cut;
 * the sentence, which names the upstream's coding, is masked whole).
 */
export function scrubbedError(errorText: string | undefined, read: ErrorRead | undefined, status: number, dialect: Dialect, mask: (s: string) => string): string | undefined {
  const text = errorText ?? "";
  if (read === "cut") return errorReply(dialect, status, mask(text), "upstream_error_unreadable").body;
  const masked = mask(text);
  return masked === text && read === undefined ? undefined : masked;
}

// --- internal ---

/** The most of an error body gw decodes: a bomb stops here. */
const DECODED_MAX = 1 << 20;
/** The most of a cut body's start kept to classify it (errorText in classify.ts reads no more). */
const START_CHARS = 4096;
/** The most of it the client and the record are shown. */
const QUOTE_CHARS = 1000;
/** What the piece masker is handed at a time. */
const STEP = 4096;

const EMPTY: ErrorBody = { text: "", errorText: "" };
const utf8 = new TextDecoder();

function isJsonValue(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Why a body could be read only in part. */
function why(contentEncoding: string | null, tooLong: boolean): string {
  const coding = contentEncoding ? `Content-Encoding ${contentEncoding.slice(0, 100)}, ` : "";
  if (tooLong) return `${coding}longer than ${DECODED_MAX >> 20} MiB`;
  return codingsOf(contentEncoding).every(isKnownCoding) ? `${coding}its data cut short or bad` : `${coding}a coding gw cannot decode`;
}

/**
 * A body read only in part: its start masked as it comes in pieces, and only up to where no
 * secret can straddle — what is held back past that point (maybe a secret's first characters,
 * its rest beyond the cut) is never shown.
 */
function cutBody(text: string, why: string, pieces: () => PieceMask): ErrorBody {
  const p = pieces();
  let start = "";
  for (let i = 0; start.length < START_CHARS && i < text.length; i += STEP) start += p.push(text.slice(i, i + STEP));
  start = start.slice(0, START_CHARS);
  const quote = start.replace(/\s+/g, " ").trim().slice(0, QUOTE_CHARS);
  const errorText = quote ? `upstream error, read only in part (${why}): ${quote}` : `upstream error gw could not read (${why})`;
  return { text: start, errorText, read: "cut" };
}
