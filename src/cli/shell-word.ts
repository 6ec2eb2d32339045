/** A word as one shell word: as it is when it is safe, else in single quotes. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** fish's single quotes, where \\ and \' are escapes (a POSIX '\'' would end the word there). */
export const fishQuote = (s: string) => `'${s.replace(/[\\']/g, "\\$&")}'`;

/** A word as one fish word: as it is when it is safe (no % or ~, which fish expands at a word's start), else in fish's quotes. */
export function fishWord(s: string): string {
  return /^[\w@+=:,./-]+$/.test(s) ? s : fishQuote(s);
}
