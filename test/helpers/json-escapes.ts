// JSON escapes as upstreams write them, and read back, for the tests of masking what they write
// escaped (test/observe/mask-escaped.test.ts, test/lb/escaped-keys.test.ts). Independent of
// src/observe/json-view.ts: what it is checked against.

/** One UTF-16 unit written `\uXXXX`. */
export const escapedUnit = (unit: string): string => `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** Every UTF-16 unit of `s` written `\uXXXX` (a surrogate pair as two). */
export const everyUnitEscaped = (s: string): string => s.split("").map(escapedUnit).join("");

const SIMPLE: Readonly<Record<string, string>> = { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/** What a JSON decoder reads in `text`, wherever its escapes are (a log line's values hold an upstream's JSON, escapes and all). */
export const jsonDecoded = (text: string): string =>
  text.replace(/\\u([0-9a-fA-F]{4})|\\(["\\/bfnrt])/g, (_m, hex: string | undefined, c: string) => (hex ? String.fromCharCode(Number.parseInt(hex, 16)) : (SIMPLE[c] ?? c)));
