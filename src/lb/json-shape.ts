// What a JSON text will cost once parsed, found before parsing it. JSON.parse turns 3 bytes
// (`{},`) into an object of ~90 bytes and 28 MB into ~900 MB, blocking the event loop while it
// does; and a value nested millions deep parses fine but overflows the stack of whatever walks
// it next (JSON.stringify in a rewrite). So gw counts first, in one pass that skips the insides
// of strings with a native search (most bytes of real bodies are text), and stops at the first
// limit crossed. Claude Code's 90 KB request holds ~700 values and nests ~10 deep.

export type JsonShape =
  /** Roughly the values the text holds: arrays, objects and the separators between members. */
  | { readonly elements: number }
  | { readonly tooDeep: number }
  | { readonly tooMany: number };

/** The shape of `text`, or the limit it crosses (with the limit). Not a validator: JSON.parse still judges syntax. */
export function jsonShape(text: string, maxDepth: number, maxElements: number): JsonShape {
  let depth = 0;
  let elements = 0;
  const len = text.length;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      // Jump to the closing quote: the first one not escaped by an odd run of backslashes.
      for (;;) {
        i = text.indexOf('"', i + 1);
        if (i === -1) return { elements }; // unterminated: JSON.parse will say so
        let b = i - 1;
        while (text.charCodeAt(b) === 92 /* \ */) b--;
        if ((i - b) % 2 === 1) break;
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > maxDepth) return { tooDeep: maxDepth };
      if (++elements > maxElements) return { tooMany: maxElements };
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      depth--;
    } else if (c === 44 /* , */) {
      if (++elements > maxElements) return { tooMany: maxElements };
    }
  }
  return { elements };
}
