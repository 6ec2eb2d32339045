// Editing the top level of a JSON object in its own text: set, add or remove members, and leave
// every other byte exactly as the client sent it. Re-serialising a parsed body would cost more
// (a 90 KB Claude Code request: JSON.stringify ≈ 25 µs plus encoding, where finding the members
// costs ≈ 8 µs) and would change what it should not: number spellings (`1.0`, `1e2`), integers
// beyond 2^53, escapes — bytes an upstream's prompt cache may key on. Pure functions; the text
// must already have passed JSON.parse (intake.ts): the members come from intake's measuring pass.

import { jsonShape, type Member } from "./json-shape.ts";

export type { Member } from "./json-shape.ts";

/**
 * The members of the top-level object in `text`, in order (duplicates included). Intake finds
 * them in the pass that measures the body (json-shape.ts); this is for text that did not pass there.
 */
export function topLevelMembers(text: string): Member[] {
  const members: Member[] = [];
  jsonShape(text, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, members);
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
