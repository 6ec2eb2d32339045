// Text masked as it passes in pieces — an error event or error body too large to be held whole (a
// relay that echoes the request, its key or the user's with it, into its error): the client gets
// what the masker's text() makes of the whole, whatever the cuts. Each piece goes out masked up to
// a point no secret can straddle; the rest waits for the next piece.
//
// Such a point: after a character no token shape or URL userinfo can hold (a quote, `<`, `>`, `?`,
// `#`, or a space that follows no `Bearer`), where no known secret begins that the text so far
// cannot tell whole, nor one it can, nor ends. Text needs one every MAX_WAIT characters or so — JSON and prose
// have them everywhere; a run without (base64) is cut anyway, after a `/` if it has one, where no
// known secret straddles.
//
// A text that holds a backslash is masked as a JSON decoder reads it (mask-escaped.ts), and so
// looked at to be cut (viewCut): its safe points as read, its cut between escapes as written.

import { jsonView } from "./json-view.ts";

export interface PieceMask {
  /** The masked text that can go out now; the rest of `piece` waits for the next. */
  push(piece: string): string;
  /** What waits, masked: the text's end. */
  end(): string;
}

/**
 * Most text that waits for a safe point beyond the longest known secret: past it, the cut is made
 * after a `/` (base64 has one every 64 characters or so: token shapes, Bearer's aside, and URL
 * userinfo hold none), else anywhere — where no known secret straddles (those are always masked).
 * Only an unknown Bearer token, or a token shape as long as the run (no credential is), may pass in
 * two parts.
 */
const MAX_WAIT = 8192;

/**
 * A source of PieceMasks for `text` (mask.ts createMasker's), whose known secrets `known` matches
 * (its `gi` regex of literals, longest first) and are at most `longest` characters long.
 */
export function pieceMasker(text: (s: string) => string, known: RegExp | undefined, longest: number): () => PieceMask {
  // A literal that starts within `room` of the end may still grow into a longer one.
  const room = Math.max(0, longest - 1);
  return () => {
    const secrets = known && new RegExp(known.source, known.flags); // its own lastIndex
    let held = "";
    return {
      push(piece) {
        const buf = held + piece;
        const cut = buf.indexOf("\\") === -1 ? safeCut(buf, buf.length - room, secrets) : viewCut(buf, room, secrets);
        held = buf.slice(cut);
        return cut ? text(buf.slice(0, cut)) : "";
      },
      end() {
        const out = held ? text(held) : "";
        held = "";
        return out;
      },
    };
  };
}

// --- internal ---

/**
 * safeCut for a text that holds a backslash: text() matches such a text as a JSON decoder reads it
 * (mask-escaped.ts maskEscaped), so the cut is looked for there — in the part of the view that what comes
 * next cannot change (not in an escape the piece cut short) — and made where that point was
 * written: between escapes, never inside one. Its `room` is in characters as read, so what waits
 * covers a secret however it is written (up to 6 characters written for each: `\u0073`).
 */
function viewCut(buf: string, room: number, secrets: RegExp | undefined): number {
  const view = jsonView(buf);
  const read = view.settled === view.text.length ? view.text : view.text.slice(0, view.settled);
  // text() masks known secrets as written too, where an escape may read one's first character
  // (`\nice-key…`): the cut goes back before such a secret until it straddles none.
  for (let limit = read.length - room; ; ) {
    const cut = view.at[safeCut(read, limit, secrets)]!;
    const start = writtenAcross(buf, cut, secrets);
    if (start === undefined) return cut;
    limit = readAt(view.at, start);
  }
}

/** Where a known secret as written starts that `cut` falls inside or ends (safeCut's rule), if one does. */
function writtenAcross(buf: string, cut: number, secrets: RegExp | undefined): number | undefined {
  if (!secrets || cut === 0) return undefined;
  secrets.lastIndex = 0;
  for (let m = secrets.exec(buf); m && m.index < cut; m = secrets.exec(buf)) if (cut <= m.index + m[0].length) return m.index;
  return undefined;
}

/** The character of the view that holds written position `i` (`at` ascending). */
function readAt(at: Int32Array, i: number): number {
  let lo = 0;
  let hi = at.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (at[mid]! <= i) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Where `buf` can be cut (0: nowhere yet): at most `limit`, past which a known secret may still be read otherwise. */
function safeCut(buf: string, limit: number, secrets: RegExp | undefined): number {
  if (limit <= 0) return 0;
  // The known secrets found before `limit` are found so in the whole text too: a match is decided
  // by the `longest` characters from its start.
  const spans: [number, number][] = [];
  if (secrets) {
    secrets.lastIndex = 0;
    for (let m = secrets.exec(buf); m && m.index < limit; m = secrets.exec(buf)) spans.push([m.index, m.index + m[0].length]);
  }
  // Nor at a known secret's end: one shorter than 16 is masked `***`, and the separator it ended
  // with is gone — `https://ab***` and `cd@` are userinfo only together.
  let c = clear(spans, separatorCut(buf, limit), true, (s) => separatorCut(buf, s));
  if (c > 0 || limit <= MAX_WAIT) return c;
  // No safe point for too long: after a `/`, else anywhere (but in a known secret or a surrogate pair).
  c = clear(spans, slashCut(buf, limit), true, (s) => slashCut(buf, s));
  if (c > 0) return c;
  c = clear(spans, limit, false, (s) => s);
  const high = buf.charCodeAt(c - 1);
  return high >= 0xd800 && high < 0xdc00 ? c - 1 : c;
}

/**
 * `c`, or where `back` goes from the start of each known secret (`spans`: in order, apart) it would
 * cut — or end, with `ends` — until none: each secret looked at once, however many a text holds.
 */
function clear(spans: readonly [number, number][], c: number, ends: boolean, back: (start: number) => number): number {
  for (let k = spans.length - 1; k >= 0 && c > 0; k--) {
    const [s, e] = spans[k]!;
    if (s >= c) continue;
    if (c < e || (ends && c === e)) c = back(s);
    else break;
  }
  return c;
}

/**
 * The last point at or before `upTo` that follows a `/` no `/` is beside (`1//…` and `https://`
 * are the start of what text() masks); 0 when none.
 */
function slashCut(buf: string, upTo: number): number {
  for (let i = buf.lastIndexOf("/", Math.min(upTo, buf.length - 1) - 1); i > 0; i = buf.lastIndexOf("/", i - 1)) {
    if (buf.charCodeAt(i - 1) !== 47 && buf.charCodeAt(i + 1) !== 47) return i + 1;
  }
  return 0;
}

/** The last point at or before `upTo` that follows a character no token shape or URL userinfo holds; 0 when none. */
function separatorCut(buf: string, upTo: number): number {
  for (let i = upTo - 1; i >= 0; i--) {
    const ch = buf.charCodeAt(i);
    if (ch === 34 || ch === 39 || ch === 60 || ch === 62 || ch === 63 || ch === 35) return i + 1; // " ' < > ? #
    if (ch === 32 || ch === 9 || ch === 10 || ch === 13) {
      // `Bearer` and its spaces are the start of a token shape.
      let j = i;
      while (j > 0 && SPACE.test(buf[j - 1]!)) j--;
      if (buf.slice(Math.max(0, j - 6), j).toLowerCase() !== "bearer") return i + 1;
      i = j - 6;
    }
  }
  return 0;
}

/** What `Bearer` may be followed by in a token shape (secret-shapes.ts TOKEN_SHAPES' `\\s`). */
const SPACE = /\s/;
