// A text as a JSON decoder reads it. Upstream errors are JSON, and JSON may write any character
// escaped — `\/` for `/` (PHP's and some Java encoders' default; Google refresh tokens start `1//`),
// `\u0026` for `&` (Go's default for `&<>`), `\u0073` for `s` — so a key can pass the masker's
// patterns as written and be whole again in the client's decoder. The masker matches on this view
// and replaces what it finds in the text as written (mask.ts).
//
// Only JSON's escapes are decoded, wherever they are (the masker does not know which parts of a
// text are strings): `\"` `\\` `\/` `\b` `\f` `\n` `\r` `\t` `\uXXXX`. Anything else after a
// backslash (`\x`, a lone `\`, `\u` without four hex digits) stays as written.

export interface JsonView {
  /** The text with its JSON escapes decoded; everything else as written. */
  readonly text: string;
  /** Where each character of `text` starts in the text as written; one entry more: the written length. */
  readonly at: Int32Array;
  /**
   * Where in `text` an escape begins that the written text's end cuts short (`…\u00`, `…\`): the
   * view up to here stays as it is whatever follows; `text.length` when nothing is cut.
   */
  readonly settled: number;
}

/** Characters looked at by jsonView since the process started: the cost of viewing, for a test to bound. */
export const viewed = { chars: 0 };

/** `raw` as a JSON decoder reads it (and where each character of the view was written). */
export function jsonView(raw: string): JsonView {
  viewed.chars += raw.length;
  // One pass writing UTF-16 units (an array of small strings costs ten times more on a text of escapes).
  const at = new Int32Array(raw.length + 1);
  const units = new Uint16Array(raw.length);
  let n = 0;
  let settled = -1;
  for (let i = 0; i < raw.length; ) {
    at[n] = i;
    const c = raw.charCodeAt(i);
    if (c === BACKSLASH) {
      const simple = SIMPLE[raw.charCodeAt(i + 1)];
      if (simple !== undefined) {
        units[n++] = simple;
        i += 2;
        continue;
      }
      if (raw.charCodeAt(i + 1) === U && isHex(raw, i + 2) && isHex(raw, i + 3) && isHex(raw, i + 4) && isHex(raw, i + 5)) {
        units[n++] = Number.parseInt(raw.slice(i + 2, i + 6), 16);
        i += 6;
        continue;
      }
      // Not an escape: the backslash stays, what follows is read on its own.
      if (settled === -1 && cutShort(raw, i)) settled = n;
    }
    units[n++] = c;
    i++;
  }
  at[n] = raw.length;
  let text = "";
  for (let k = 0; k < n; k += CHUNK) text += String.fromCharCode.apply(null, units.subarray(k, Math.min(n, k + CHUNK)) as unknown as number[]);
  return { text, at: at.subarray(0, n + 1), settled: settled === -1 ? n : settled };
}

// --- internal ---

const BACKSLASH = 92;
const U = 117;
/** Units per String.fromCharCode call: well inside the engine's limit on arguments. */
const CHUNK = 8192;

/** The characters JSON escapes with one letter, by that letter's code: `\"` `\\` `\/` `\b` `\f` `\n` `\r` `\t`. */
const SIMPLE: readonly (number | undefined)[] = (() => {
  const out: (number | undefined)[] = [];
  for (const [letter, unit] of Object.entries({ '"': 34, "\\": 92, "/": 47, b: 8, f: 12, n: 10, r: 13, t: 9 })) out[letter.charCodeAt(0)] = unit;
  return out;
})();

/** Whether the backslash at raw[i], no escape as written, may become one when more text follows. */
function cutShort(raw: string, i: number): boolean {
  if (i + 1 === raw.length) return true;
  if (raw.charCodeAt(i + 1) !== U || i + 6 <= raw.length) return false;
  for (let k = i + 2; k < raw.length; k++) if (!isHex(raw, k)) return false;
  return true;
}

function isHex(raw: string, k: number): boolean {
  const c = raw.charCodeAt(k);
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
