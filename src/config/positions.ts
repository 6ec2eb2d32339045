// smol-toml gives no positions for the values of a valid document, yet `gw check` must point at
// the line of a bad weight inside an inline table inside an array. This scanner walks the TOML
// text once, structurally (tables, dotted keys, inline tables, arrays), and records where every
// key and array element starts. Values are skipped, never interpreted: smol-toml did that.

export type PathSeg = string | number;
interface Pos {
  readonly line: number;
  readonly col: number;
}

const keyOf = (path: readonly PathSeg[]) => path.join("\u0000");

export class PositionIndex {
  private readonly map = new Map<string, Pos>();
  set(path: readonly PathSeg[], pos: Pos): void {
    const k = keyOf(path);
    if (!this.map.has(k)) this.map.set(k, pos);
  }
  /** Position of the path, else of its nearest ancestor that has one, else 1:1. */
  find(path: readonly PathSeg[]): Pos {
    for (let n = path.length; n > 0; n--) {
      const p = this.map.get(keyOf(path.slice(0, n)));
      if (p) return p;
    }
    return { line: 1, col: 1 };
  }
  has(path: readonly PathSeg[]): boolean {
    return this.map.has(keyOf(path));
  }
}

const BARE = /[A-Za-z0-9_-]/;
/** smol-toml refuses documents nested deeper than 1000 (tables in tables, lists in lists). */
const MAX_DEPTH = 1000;

/** Index every key of `text`; on text smol-toml rejected it does its best and never throws. */
export function indexPositions(text: string): PositionIndex {
  const idx = new PositionIndex();
  let i = 0;
  let line = 1;
  let lineStart = 0;
  // [[array]] headers seen so far, keyed by their resolved path (with the indexes of enclosing
  // arrays: `[[rules.when]]` after the second `[[rules]]` belongs to rules[1]).
  const arrayCounts = new Map<string, number>();
  const pos = (): Pos => ({ line, col: i - lineStart + 1 });
  const nl = () => {
    line++;
    lineStart = i + 1;
  };

  const skipSpace = (newlines: boolean) => {
    while (i < text.length) {
      const c = text[i]!;
      if (c === " " || c === "\t" || c === "\r") i++;
      else if (c === "\n" && newlines) {
        nl();
        i++;
      } else if (c === "#") while (i < text.length && text[i] !== "\n") i++;
      else break;
    }
  };

  const readString = (): string => {
    const q = text[i]!;
    const triple = text.startsWith(q.repeat(3), i);
    const end = triple ? q.repeat(3) : q;
    i += end.length;
    let out = "";
    while (i < text.length && !text.startsWith(end, i)) {
      const c = text[i]!;
      if (c === "\n") nl();
      if (c === "\\" && q === '"') {
        if (text[i + 1] === "\n") {
          i++; // a line-ending backslash in a multi-line string: the newline is counted below
          continue;
        }
        const e = unescape(text, i);
        out += e.char;
        i += e.length;
        continue;
      }
      out += c;
      i++;
    }
    i += end.length;
    return out;
  };

  const readKey = (): { segs: string[]; at: Pos }[] => {
    const parts: { segs: string[]; at: Pos }[] = [];
    for (;;) {
      skipSpace(false);
      const at = pos();
      let seg = "";
      if (text[i] === '"' || text[i] === "'") seg = readString();
      else while (i < text.length && BARE.test(text[i]!)) seg += text[i++];
      parts.push({ segs: [seg], at });
      skipSpace(false);
      if (text[i] !== ".") return parts;
      i++;
    }
  };

  const skipValue = (base: PathSeg[]): void => {
    skipSpace(true);
    const c = text[i];
    // Deeper than smol-toml parses (it refuses the file), keys are not placed: the nesting is
    // skipped flat, so a crafted file cannot exhaust the stack while its syntax error is placed.
    if ((c === "{" || c === "[") && base.length > MAX_DEPTH) return skipNested();
    if (c === "{") return inlineTable(base);
    if (c === "[") return array(base);
    if (c === '"' || c === "'") {
      readString();
      return;
    }
    while (i < text.length && !/[,\]}\n#]/.test(text[i]!)) i++;
  };

  /** Past the bracketed value at i and everything nested in it, without recursion. */
  const skipNested = (): void => {
    let open = 0;
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"' || c === "'") {
        readString();
        continue;
      }
      if (c === "\n") nl();
      else if (c === "{" || c === "[") open++;
      else if (c === "}" || c === "]") open--;
      i++;
      if (open <= 0) return;
    }
  };

  const keyValue = (base: PathSeg[]): void => {
    const parts = readKey();
    const path = [...base];
    for (const p of parts) {
      path.push(...p.segs);
      idx.set(path, p.at);
    }
    skipSpace(false);
    if (text[i] === "=") i++;
    skipValue(path);
  };

  /** `{ k = v, … }` and `[ v, … ]` alike: items between the brackets, commas and newlines skipped. */
  function sequence(close: string, item: (n: number) => void): void {
    i++; // the opening bracket
    for (let n = 0; ; ) {
      skipSpace(true);
      if (i >= text.length) return;
      if (text[i] === close) {
        i++;
        return;
      }
      if (text[i] === ",") {
        i++;
        continue;
      }
      const before = i;
      item(n++);
      if (i === before) i++; // never loop on a character the scanner does not understand
    }
  }

  function inlineTable(base: PathSeg[]): void {
    sequence("}", () => keyValue(base));
  }

  function array(base: PathSeg[]): void {
    sequence("]", (n) => {
      idx.set([...base, n], pos());
      skipValue([...base, n]);
    });
  }

  /** A header's path with the current index after every enclosing array of tables. */
  const resolveHeader = (segs: string[]): PathSeg[] => {
    const out: PathSeg[] = [];
    segs.forEach((seg, n) => {
      out.push(seg);
      const count = n < segs.length - 1 ? arrayCounts.get(keyOf(out)) : undefined;
      if (count !== undefined) out.push(count - 1);
    });
    return out;
  };

  let table: PathSeg[] = [];
  while (i < text.length) {
    skipSpace(true);
    if (i >= text.length) break;
    if (text[i] === "[") {
      const isArray = text[i + 1] === "[";
      const at = pos();
      i += isArray ? 2 : 1;
      const segs = resolveHeader(readKey().flatMap((p) => p.segs));
      while (i < text.length && text[i] !== "\n") i++;
      // [a.b.c] also places a and a.b, unless they have a place already (their own header)
      for (let n = 1; n < segs.length; n++) idx.set(segs.slice(0, n), at);
      if (isArray) {
        const k = keyOf(segs);
        const n = arrayCounts.get(k) ?? 0;
        arrayCounts.set(k, n + 1);
        idx.set(segs, at);
        table = [...segs, n];
      } else table = segs;
      idx.set(table, at);
      continue;
    }
    const before = i;
    keyValue(table);
    if (i === before) i++;
  }
  return idx;
}

const ESCAPES: Readonly<Record<string, string>> = { b: "\b", t: "\t", n: "\n", f: "\f", r: "\r", e: "\x1b", '"': '"', "\\": "\\" };

/** The TOML escape at text[i] (a backslash): its character and how many source characters it took. */
function unescape(text: string, i: number): { char: string; length: number } {
  const c = text[i + 1] ?? "";
  const hex = c === "u" ? 4 : c === "U" ? 8 : 0;
  if (hex) {
    const code = Number.parseInt(text.slice(i + 2, i + 2 + hex), 16);
    return { char: Number.isNaN(code) ? "" : String.fromCodePoint(code), length: 2 + hex };
  }
  return { char: ESCAPES[c] ?? c, length: 2 };
}

/** `routing."opus4.6"[1].weight` — bare keys plain, others quoted, indexes in brackets. */
export function formatPath(path: readonly PathSeg[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else {
      const s = /^[A-Za-z0-9_-]+$/.test(seg) ? seg : JSON.stringify(seg);
      out += out ? `.${s}` : s;
    }
  }
  return out;
}
