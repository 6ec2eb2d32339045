// Text from elsewhere (a config's value, a client's model name or key) shown on a terminal.

// Line breaks, other control characters, the bidi overrides that reorder what a terminal shows,
// and the zero-width characters that show as nothing: a key "ho\u200bst" printed plainly read
// `unknown key "host" — did you mean "host"?`.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200d\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g;

/**
 * `s` as one line of plain text: such characters are shown escaped (`\n`, `\u001b`), so a
 * crafted value can neither add lines (a fake "0 errors") nor rewrite what the terminal shows
 * (a cleared screen, hidden rows, a new window title).
 */
export function oneLine(s: string): string {
  return s.replace(UNPRINTABLE, (c) => (c === "\n" ? "\\n" : c === "\t" ? "\\t" : c === "\r" ? "\\r" : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
}
