// What a JSON text will cost once parsed, found before parsing it. JSON.parse turns 3 bytes
// (`{},`) into an object of ~90 bytes and 28 MB into ~900 MB, blocking the event loop while it
// does; and a value nested millions deep parses fine but overflows the stack of whatever walks
// it next (JSON.stringify in a rewrite). So gw counts first, in one pass that skips the insides
// of strings with a native search (most bytes of real bodies are text), and stops at the first
// limit crossed. Claude Code's 90 KB request holds ~700 values and nests ~10 deep.

type JsonShape =
  /** Roughly the values the text holds: arrays, objects and the separators between members. */
  | { readonly elements: number }
  | { readonly tooDeep: number }
  | { readonly tooMany: number };

/** One top-level member of a JSON object: `"key" : value`, by offsets into its text. */
export interface Member {
  /** Decoded key (escapes undone, so `"mod\u0065l"` is `model`, as JSON.parse sees it). */
  readonly key: string;
  /** Offset of the key's opening quote. */
  readonly start: number;
  readonly valueStart: number;
  /** Offset just after the value. */
  readonly valueEnd: number;
}

/**
 * The shape of `text`, or the limit it crosses (with the limit). Not a validator: JSON.parse still
 * judges syntax. Given `members`, the same pass also collects the top-level members of an object
 * (what lb/json-edit.ts rewrites in place) — meaningful once JSON.parse has accepted the text.
 */
export function jsonShape(text: string, maxDepth: number, maxElements: number, members?: Member[]): JsonShape {
  let depth = 0;
  let elements = 0;
  // Top-level members: the next string at depth 1 is a key; `open` waits for its value's end.
  let topObject = false;
  let keyNext = false;
  // The member whose value is being read: pushed once, its end written when the value ends (no
  // closure, no second object per member: this runs on every request's body).
  let open: { key: string; start: number; valueStart: number; valueEnd: number } | undefined;
  const len = text.length;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      const start = i;
      // Jump to the closing quote: the first one not escaped by an odd run of backslashes.
      for (;;) {
        i = text.indexOf('"', i + 1);
        if (i === -1) return ended(elements, members, open); // unterminated: JSON.parse will say so
        let b = i - 1;
        while (text.charCodeAt(b) === 92 /* \ */) b--;
        if ((i - b) % 2 === 1) break;
      }
      if (keyNext && depth === 1 && members) {
        keyNext = false;
        open = { key: keyText(text, start, i + 1), start, valueStart: afterColon(text, i + 1), valueEnd: -1 };
        members.push(open);
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > maxDepth) return { tooDeep: maxDepth };
      if (++elements > maxElements) return { tooMany: maxElements };
      if (depth === 1 && c === 123) topObject = keyNext = true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      if (depth === 1 && topObject && open) open = closed(open, text, i);
      depth--;
    } else if (c === 44 /* , */) {
      if (++elements > maxElements) return { tooMany: maxElements };
      if (depth === 1 && topObject && members) {
        if (open) open = closed(open, text, i);
        keyNext = true;
      }
    }
  }
  return ended(elements, members, open);
}

// --- internal ---

/** The shape at the text's end. A member still open there has no end (cut-off text): it is not listed. */
function ended(elements: number, members: Member[] | undefined, open: object | undefined): JsonShape {
  if (open) members!.pop();
  return { elements };
}

/** A member's value ends before the `,` or `}` at `at`: its end is written, and no member is open. */
function closed(m: { valueEnd: number }, text: string, at: number): undefined {
  m.valueEnd = trimmedEnd(text, at);
  return undefined;
}

/** A key as JSON.parse reads it (escapes undone); as written when its escapes are broken. */
function keyText(text: string, start: number, end: number): string {
  const raw = text.slice(start + 1, end - 1);
  if (!raw.includes("\\")) return raw;
  try {
    return JSON.parse(text.slice(start, end)) as string;
  } catch {
    return raw;
  }
}

/** Offset of the value after a key ending at `i`: past spaces, the colon, spaces. */
function afterColon(text: string, i: number): number {
  i = skipSpace(text, i);
  if (text.charCodeAt(i) === 58 /* : */) i = skipSpace(text, i + 1);
  return i;
}

/** Offset just after the last non-space character before `i`. */
function trimmedEnd(text: string, i: number): number {
  while (i > 0 && isSpace(text.charCodeAt(i - 1))) i--;
  return i;
}

function skipSpace(text: string, i: number): number {
  while (isSpace(text.charCodeAt(i))) i++;
  return i;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}
