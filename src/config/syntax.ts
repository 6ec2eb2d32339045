// A TOML syntax error as one problem that says what to do: the common slips of people who write
// TOML rarely (an unquoted string, a key set twice, an unclosed header) get the fix spelled out.
import { parse, type TomlError } from "smol-toml";
import { formatPath, indexPositions } from "./positions.ts";
import type { Problem } from "./types.ts";

export function syntaxProblem(err: TomlError, text: string, file: string): Problem {
  const reason = err.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
  const lines = text.split("\n");
  const line = lines[err.line - 1] ?? "";
  // A NUL byte is reported where it is: quoting the word around it would keep it.
  const nul = line.indexOf("\0");
  if (nul !== -1) return { severity: "error", file, line: err.line, col: nul + 1, path: "", message: "TOML syntax: this line holds a NUL byte", hint: `remove the NUL byte at line ${err.line}, column ${nul + 1}; an editor may show it as ^@` };
  const at = { severity: "error" as const, file, line: err.line, col: err.column };
  const mends = (fixed: string) => mendsLine(lines, err.line - 1, fixed);
  return { ...at, ...(explain(reason, line, err.column, lines.slice(0, err.line - 1), text, mends) ?? { path: "", message: `TOML syntax: ${reason}`, hint: "fix the syntax at this place" }) };
}

/**
 * Whether `fixed` in place of line `index` mends it: the file then parses, or fails only further
 * down. A hint that spells out a line is only given when it does: one that is still no TOML sends
 * the reader round in circles.
 */
function mendsLine(lines: string[], index: number, fixed: string): boolean {
  try {
    parse([...lines.slice(0, index), fixed, ...lines.slice(index + 1)].join("\n"));
    return true;
  } catch (e) {
    return (e as TomlError).line > index + 1;
  }
}

type Explained = { path: string; message: string; hint: string };

function explain(reason: string, line: string, col: number, before: string[], text: string, mends: (fixed: string) => boolean): Explained | null {
  // Bytes that are no UTF-8 (a file saved in another encoding) read as U+FFFD: no quoting mends them.
  if (line.includes("\uFFFD")) return { path: "", message: "TOML syntax: this line holds bytes that are no UTF-8 text", hint: "save the file as UTF-8 (the editor's encoding setting), or remove the stray bytes" };
  if (/redefine/.test(reason)) return twice(line, col, before, text);
  /** `lead` and the first of `fixes` that mends the line, trimmed; else `otherwise`. */
  const spelled = (lead: string, fixes: string[], otherwise: string) => {
    const fixed = fixes.find(mends);
    return fixed === undefined ? otherwise : `${lead}: ${fixed.trim()}`;
  };
  const header = /^(\s*)(\[+)([^\]]*)$/.exec(line);
  if (header) {
    const [, indent, open, name] = header as unknown as [string, string, string, string];
    const close = "]".repeat(open.length); // [[x stays an array of tables
    const fixes = [`${indent}${open}${name.trimEnd()}${close}`, ...closingQuotes(`${indent}${open}${name.trimEnd()}`).map((l) => l + close)];
    return { path: "", message: "TOML syntax: a table header is not closed", hint: spelled("close it", fixes, "end it with ]") };
  }
  const unterminated = /control characters|unterminated|end of/i.test(reason) && /["']/.test(line);
  // `"model = "x"` reads as the key `model = ` and a bare x: its first quote is the one left open.
  if (unterminated || oddQuotes(line)) {
    // `["a.b] = 1`: a key written as a table header; the key alone is what parses.
    const keyInBrackets = /^(\s*)\[+([^\]=]*)\]+(\s*=.*)$/.exec(line);
    const fixes = closingQuotes(line).concat(keyInBrackets ? closingQuotes(`${keyInBrackets[1]}${keyInBrackets[2]!.trimEnd()}${keyInBrackets[3]}`) : []);
    const fixed = fixes.find(mends);
    if (fixed !== undefined) return { path: "", message: "TOML syntax: a string is not closed", hint: `close it: ${fixed.trim()}` };
    if (unterminated) return { path: "", message: "TOML syntax: a string is not closed", hint: "end it with the quote it starts with, before the line ends" };
  }
  const spaced = /^(\s*)(\[+)([^\]"']*\s[^\]"']*)(\]+\s*(#.*)?)$/.exec(line);
  if (spaced) {
    const name = spaced[3]!.split(".").map((part) => (/\S\s+\S/.test(part) ? JSON.stringify(part.trim()) : part.trim()));
    const fixed = `${spaced[1]}${spaced[2]}${name.join(".")}${spaced[4]}`;
    if (mends(fixed)) return { path: "", message: "TOML syntax: a table name with a space needs quotes", hint: `write it as: ${fixed.trim()}` };
  }
  const empty = /^\s*([^=\s][^=]*?)\s*=\s*(#.*)?$/.exec(line);
  if (empty) return { path: lineKeyPath(line, before), message: `TOML syntax: ${empty[1]} has no value`, hint: "write a value after = (text in quotes), or remove the line" };
  const word = bareWordAt(line, col);
  if (word && !TOML_LITERAL.test(word.text)) {
    const quoteWord = line.slice(0, word.start) + JSON.stringify(word.text) + line.slice(word.start + word.text.length);
    // `x = hello world`: the words after it belong to the same text.
    const value = /^(\s*[^=]+?=\s*)([^[{\s#].*?)(\s+#.*)?$/.exec(line);
    const quoteValue = value ? `${value[1]}${JSON.stringify(value[2])}${value[3] ?? ""}` : quoteWord;
    const fixes = [quoteWord, quoteValue, quoteAllValues(line)];
    return { path: lineKeyPath(line, before), message: `TOML syntax: ${word.text} is not a TOML value — text needs quotes`, hint: spelled("write it as", fixes, 'put the text in double quotes: "like this"') };
  }
  return null;
}

/**
 * `line` with one quote added where a key or text would end (before a space, =, ], comma, } or
 * the line's end), then anywhere: each way to close its unclosed string, likeliest first. None
 * that opens a multi-line string, which would swallow the lines below.
 */
function closingQuotes(line: string): string[] {
  // Each is a parse of the whole file: a line longer than people type by hand gets none.
  if (line.length > MAX_MENDED_LINE) return [];
  const ends: string[] = [];
  const others: string[] = [];
  for (let at = 1; at <= line.length; at++) {
    for (const q of ['"', "'"]) {
      const fixed = line.slice(0, at) + q + line.slice(at);
      if (fixed.includes(q.repeat(3))) continue;
      (at === line.length || /[\s=\],}]/.test(line[at]!) ? ends : others).push(fixed);
    }
  }
  return [...ends, ...others];
}

/** Whether `line` (a comment aside) holds an odd number of " or of ' (a \" inside text aside). */
function oddQuotes(line: string): boolean {
  const code = line.replace(/\\./g, "").replace(/#[^"']*$/, "");
  return (code.split('"').length - 1) % 2 === 1 || (code.split("'").length - 1) % 2 === 1;
}

const MAX_MENDED_LINE = 200;

/** Every bare word after the first = quoted, but keys (a word before =): `x = [a, b]`, `{ k = v }`. */
function quoteAllValues(line: string): string {
  const eq = line.indexOf("=");
  return line.slice(0, eq + 1) + line.slice(eq + 1).replace(/(?<=^|[\s,[{=])([^\s,[\]{}="'#]+)(?!\s*=)/g, (w) => (TOML_LITERAL.test(w) ? w : JSON.stringify(w)));
}

/** The dotted path of the `key = …` that starts this line, inside the table above it. */
function lineKeyPath(line: string, before: string[]): string {
  const key = /^\s*([^=\s][^=]*?)\s*=/.exec(line)?.[1];
  return key ? formatPath([...tableAbove(before), ...splitKey(key)]) : "";
}

function tableAbove(before: string[]): string[] {
  const t = [...before].reverse().map((l) => /^\s*\[\[?\s*([^\]]+?)\s*\]/.exec(l)?.[1]).find((x) => x !== undefined);
  return t ? splitKey(t) : [];
}

/** true/false, numbers, dates and times: what TOML accepts without quotes. */
const TOML_LITERAL = /^(true|false|[+-]?(inf|nan)|[+-]?[0-9][0-9_]*(\.[0-9_]+)?([eE][+-]?[0-9]+)?|0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+|\d{4}-\d{2}-\d{2}([Tt ][0-9:.]+)?(Z|[+-]\d{2}:\d{2})?|\d{2}:\d{2}(:\d{2}(\.\d+)?)?)$/;

/** The run of characters that are neither space nor TOML punctuation around the column. */
function bareWordAt(line: string, col: number): { text: string; start: number } | null {
  const stop = /[\s,[\]{}="'#]/;
  let i = Math.min(Math.max(col - 1, 0), line.length - 1);
  if (i < line.indexOf("=") || stop.test(line[i] ?? " ")) return null;
  let start = i;
  while (start > 0 && !stop.test(line[start - 1]!)) start--;
  while (i < line.length && !stop.test(line[i]!)) i++;
  return i > start ? { text: line.slice(start, i), start } : null;
}

/** "trying to redefine …": name the key (or table) and the lines of both places. */
function twice(line: string, col: number, before: string[], text: string): Explained {
  const here = before.length + 1;
  const header = /^\s*\[\[?\s*([^\]]+?)\s*\]/.exec(line);
  const key = header ? "" : (/^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)/.exec(line.slice(col - 1))?.[1] ?? "");
  if (!header && line.slice(0, col - 1).trim() !== "") {
    // Inside an inline table: `{ type = "x", type = "y" }`
    return { path: lineKeyPath(line, before), message: `TOML syntax: "${splitKey(key).join(".")}" is set twice on line ${here}`, hint: "keep one of them" };
  }
  const path = header ? splitKey(header[1]!) : [...tableAbove(before), ...splitKey(key)];
  const idx = indexPositions(text);
  const first = idx.has(path) ? idx.find(path).line : null;
  const table = path.slice(0, -splitKey(key).length || undefined);
  const name = header ? `[${formatPath(path)}]` : `"${splitKey(key).join(".")}"${table.length ? ` in [${formatPath(table)}]` : ""}`;
  const where = first && first !== here ? `lines ${first} and ${here}` : `line ${here} and above`;
  return { path: formatPath(path), message: `TOML syntax: ${name} is set twice (${where})`, hint: header ? "merge the two tables into one" : "keep one of them" };
}

function splitKey(key: string): string[] {
  return [...key.matchAll(/"([^"]*)"|'([^']*)'|([^.\s]+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);
}
