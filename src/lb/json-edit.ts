// Editing the top level of a JSON object in its own text: set, add or remove members, and leave
// every other byte exactly as the client sent it. Re-serialising a parsed body would cost more
// (a 90 KB Claude Code request: JSON.stringify ≈ 25 µs plus encoding, where finding the members
// costs ≈ 8 µs) and would change what it should not: number spellings (`1.0`, `1e2`), integers
// beyond 2^53, escapes — bytes an upstream's prompt cache may key on. Pure functions; the text
// must already have passed JSON.parse (intake.ts), so the scanner never validates.

/** One top-level member: `"key" : value`, by offsets into the text. */
export interface Member {
  /** Decoded key (escapes undone, so `"mod\u0065l"` is `model`, as JSON.parse sees it). */
  readonly key: string;
  /** Offset of the key's opening quote. */
  readonly start: number;
  readonly valueStart: number;
  /** Offset just after the value. */
  readonly valueEnd: number;
}

/** The members of the top-level object in `text`, in order (duplicates included). */
export function topLevelMembers(text: string): Member[] {
  const members: Member[] = [];
  const len = text.length;
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== OPEN_BRACE) throw new Error("not a JSON object");
  i = skipSpace(text, i + 1);
  if (text.charCodeAt(i) === CLOSE_BRACE) return members;
  while (i < len) {
    const start = i;
    const keyEnd = stringEnd(text, i);
    const rawKey = text.slice(i + 1, keyEnd - 1);
    const key = rawKey.includes("\\") ? (JSON.parse(text.slice(i, keyEnd)) as string) : rawKey;
    i = skipSpace(text, keyEnd) + 1; // past the colon
    const valueStart = skipSpace(text, i);
    const valueEnd = valueEndAt(text, valueStart);
    members.push({ key, start, valueStart, valueEnd });
    i = skipSpace(text, valueEnd);
    if (text.charCodeAt(i) !== COMMA) break; // the closing brace
    i = skipSpace(text, i + 1);
  }
  return members;
}

/**
 * Top-level edits: key → new value as JSON text, or `undefined` to remove the key. A key that
 * occurs several times (hostile, but JSON.parse accepts it) gets the edit at every occurrence,
 * so whichever one a parser keeps, it sees the edit. Keys not present are added at the front.
 * Everything else keeps its exact bytes, separators and whitespace included.
 */
export function editTopLevel(text: string, members: readonly Member[], edits: ReadonlyMap<string, string | undefined>): string {
  if (edits.size === 0) return text;
  if (edits.size === 1) {
    // The usual edit, the model alone: one splice when its key is there once.
    const [key, value] = edits.entries().next().value!;
    const at = value === undefined ? undefined : onlyMember(members, key);
    if (at) return text.slice(0, at.valueStart) + value + text.slice(at.valueEnd);
  }
  const parts: string[] = [];
  const present = new Set<string>();
  // Kept members with their text (value replaced where edited), in order.
  const kept: { index: number; text: string }[] = [];
  for (let index = 0; index < members.length; index++) {
    const m = members[index]!;
    if (!edits.has(m.key)) {
      kept.push({ index, text: text.slice(m.start, m.valueEnd) });
      continue;
    }
    present.add(m.key);
    const value = edits.get(m.key);
    if (value !== undefined) kept.push({ index, text: text.slice(m.start, m.valueStart) + value });
  }
  const added: string[] = [];
  for (const [key, value] of edits) {
    if (value !== undefined && !present.has(key)) added.push(`${JSON.stringify(key)}:${value}`);
  }
  const first = members[0];
  const last = members[members.length - 1];
  // Before the first member (or, for `{}`, up to the closing brace): the brace and its spacing.
  const headEnd = first ? first.start : text.lastIndexOf("}");
  parts.push(text.slice(0, headEnd));
  parts.push(added.join(","));
  if (added.length > 0 && kept.length > 0) parts.push(",");
  for (let k = 0; k < kept.length; k++) {
    parts.push(kept[k]!.text);
    // A kept member is followed by its own original separator, unless it is the last one kept.
    if (k < kept.length - 1) {
      const i = kept[k]!.index;
      parts.push(text.slice(members[i]!.valueEnd, members[i + 1]!.start));
    }
  }
  parts.push(last ? text.slice(last.valueEnd) : text.slice(headEnd));
  return parts.join("");
}

// --- internal ---

/** The member named `key` when it occurs exactly once. */
function onlyMember(members: readonly Member[], key: string): Member | undefined {
  let found: Member | undefined;
  for (const m of members) {
    if (m.key !== key) continue;
    if (found) return undefined;
    found = m;
  }
  return found;
}

const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;

function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return i;
    i++;
  }
}

/** Offset just after the string whose opening quote is at `i`. */
function stringEnd(text: string, i: number): number {
  let j = i;
  for (;;) {
    j = text.indexOf('"', j + 1);
    if (j < 0) throw new Error("unterminated string");
    let k = j - 1;
    while (text.charCodeAt(k) === BACKSLASH) k--;
    if ((j - 1 - k) % 2 === 0) return j + 1; // an even run of backslashes escapes nothing
  }
}

/**
 * Offset just after the value starting at `i`. Strings are skipped with indexOf (native), so the
 * loop visits only what lies outside strings: brackets, commas, numbers, literals.
 */
function valueEndAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === QUOTE) return stringEnd(text, i);
  if (c !== OPEN_BRACE && c !== OPEN_BRACKET) {
    // number, true, false, null: runs to the next separator
    let j = i;
    for (;;) {
      const d = text.charCodeAt(j);
      if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || d === 32 || d === 10 || d === 13 || d === 9 || Number.isNaN(d)) return j;
      j++;
    }
  }
  let depth = 0;
  let j = i;
  for (;;) {
    const d = text.charCodeAt(j);
    if (d === QUOTE) {
      j = stringEnd(text, j);
      continue;
    }
    if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
    else if (d === CLOSE_BRACE || d === CLOSE_BRACKET) {
      if (--depth === 0) return j + 1;
    } else if (Number.isNaN(d)) throw new Error("unterminated value");
    j++;
  }
}
