// Reads the data in a JavaScript config file (PM2's ecosystem.config.js) without running it: a
// cloned folder's JS must never execute. The value after `module.exports =` (or `export default`,
// or each `module.exports.KEY =`) is read as a literal — objects, arrays, strings, numbers,
// booleans, null — and every other expression (a call, a variable, `__dirname + "/x"`, a template
// with `${…}`) becomes an `Unread` holding its source text, so the caller can say what it could not tell.

export class Unread {
  constructor(readonly source: string) {}

  /**
   * The source to show: one line of at most EXCERPT_CHARS, every string's contents left out
   * (`"…"`) — a file's strings may hold keys, and what was not read needs only its shape shown.
   */
  excerpt(): string {
    let out = "";
    for (let i = 0; i < this.source.length && out.length <= EXCERPT_CHARS; ) {
      const c = this.source[i]!;
      if (c === '"' || c === "'" || c === "`") {
        out += `${c}…${c}`;
        i = stringEnd(this.source, i);
      } else {
        out += /\s/.test(c) ? (out.endsWith(" ") ? "" : " ") : c;
        i++;
      }
    }
    return out.length > EXCERPT_CHARS ? `${out.slice(0, EXCERPT_CHARS)}…` : out;
  }
}

const EXCERPT_CHARS = 80;

export type JsValue = string | number | boolean | null | undefined | Unread | JsValue[] | { [key: string]: JsValue };

/**
 * The exported value, or undefined when the file exports nothing this reader can find. Each
 * `module.exports =` (or `export default`) and each `module.exports.KEY =` (PM2's documentation
 * writes `module.exports.apps = [...]` too) is taken in the file's order, as running it would:
 * a later whole export replaces the value, a KEY is set on it.
 */
export function readExports(text: string): JsValue | undefined {
  const code = stripComments(text, "keep");
  const bare = stripComments(text, "blank"); // what is written inside a string is no export
  const lookup = variablesOf(code, bare);
  let out: JsValue | undefined;
  for (const m of bare.matchAll(EXPORTS)) {
    const value = new LiteralReader(code, m.index + m[0].length, lookup).statement();
    const key = m[1];
    if (key === undefined) out = value;
    else if (key !== "__proto__") out = { ...(isPlainObject(out) ? out : {}), [key]: value };
  }
  return out;
}

/** The value a whole file is (a JSON file PM2 evaluates as an expression: comments, unquoted keys). */
export function readLiteral(text: string): JsValue {
  const code = stripComments(text, "keep");
  return new LiteralReader(code, 0, variablesOf(code, stripComments(text, "blank"))).statement();
}

/** A variable's value by its name, read as deep as `depth` allows. */
type Lookup = (name: string, depth: number) => JsValue;

/**
 * Variables the file gives a value to, as `const apps = [...]; module.exports = { apps }` (or
 * `module.exports = config`) needs: declared once (`const|let|var NAME = literal`), never assigned
 * again and never reached into (`apps.push(…)`, `config.apps[0] = …` would change what running it
 * gives) — anything else is Unread with its name. Each name is read once; a cycle is Unread.
 */
function variablesOf(code: string, bare: string): Lookup {
  const known = new Map<string, JsValue>();
  const lookup: Lookup = (name, depth) => {
    if (known.has(name)) return known.get(name);
    known.set(name, new Unread(name)); // while it is read: a cycle ends here
    const n = name.replace(/\$/g, "\\$");
    const declared = [...bare.matchAll(new RegExp(`\\b(?:const|let|var)\\s+${n}\\s*=(?!=)`, "g"))];
    const assigned = bare.match(new RegExp(`(?<![\\w$.])${n}\\s*(?:[-+*/%&|^]|\\*\\*|<<|>>>?|&&|\\|\\||\\?\\?)?=(?![=>])`, "g"))?.length ?? 0;
    const reached = new RegExp(`(?<![\\w$.])${n}\\s*(?:\\.|\\[|\\?\\.)`).test(bare);
    const d = declared[0];
    if (d && declared.length === 1 && assigned === 1 && !reached && depth < MAX_DEPTH) known.set(name, new LiteralReader(code, d.index + d[0].length, lookup, depth + 1).statement());
    return known.get(name);
  };
  return lookup;
}

/** `module.exports =`, `module.exports.KEY =` (KEY captured) or `export default` — never `==`. */
const EXPORTS = /\bmodule\.exports\s*(?:\.\s*([A-Za-z_$][\w$]*)\s*)?=(?!=)|\bexport\s+default\b/g;

const isPlainObject = (v: JsValue | undefined): v is { [key: string]: JsValue } => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Unread);

/** Comments become spaces (same offsets); strings are kept, or their contents blanked too. */
function stripComments(text: string, strings: "keep" | "blank"): string {
  let out = "";
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === '"' || c === "'" || c === "`") {
      const end = stringEnd(text, i);
      out += strings === "keep" ? text.slice(i, end) : c + " ".repeat(end - i - 1);
      i = end;
    } else if (text.startsWith("//", i)) {
      const end = text.indexOf("\n", i);
      const stop = end < 0 ? text.length : end;
      out += " ".repeat(stop - i);
      i = stop;
    } else if (text.startsWith("/*", i)) {
      const end = text.indexOf("*/", i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Index just past the string literal starting at `i`. */
function stringEnd(text: string, i: number): number {
  const q = text[i]!;
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === "\\") j++;
    else if (text[j] === q) return j + 1;
  }
  return text.length;
}

const IDENT = /^[A-Za-z_$][\w$]*/;
const NUMBER = /^-?(0x[0-9a-f]+|\d+(\.\d+)?(e[+-]?\d+)?)/i;
const KEYWORDS: Record<string, JsValue> = { true: true, false: false, null: null, undefined: undefined };
const NOT_LITERAL = Symbol("not a literal");
const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", v: "\v", "0": "\0" };
/** Objects and arrays nested deeper are left unread: an ecosystem file needs 4, and the reader recurses. */
const MAX_DEPTH = 64;

class LiteralReader {
  constructor(
    private readonly s: string,
    private i: number,
    private readonly lookup: Lookup,
    /** How deep in variables this read is (`a = b`, `b = [...]`): counts towards MAX_DEPTH like nesting. */
    private depth = 0,
  ) {}

  private space(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i]!)) this.i++;
  }

  /** A value: a literal, or an Unread with the expression's source. */
  value(): JsValue {
    return this.read(false);
  }

  /** An assignment's value, which may also end at a line that starts the next statement (no `;` written). */
  statement(): JsValue {
    return this.read(true);
  }

  private read(statement: boolean): JsValue {
    this.space();
    const start = this.i;
    const v = this.literal();
    const end = this.i;
    this.space();
    if (v !== NOT_LITERAL && (this.atEnd() || (statement && this.s.slice(end, this.i).includes("\n") && this.startsStatement()))) return v;
    this.i = start; // not a literal, or one followed by more (`"a" + b`, `{…}.x`): an expression
    return this.unread();
  }

  /** A word (not `in`/`instanceof`) after a line break cannot go on with the value: JS ends the statement before it. */
  private startsStatement(): boolean {
    const word = IDENT.exec(this.s.slice(this.i, this.i + 16))?.[0];
    return word !== undefined && word !== "in" && word !== "instanceof";
  }

  private literal(): JsValue | typeof NOT_LITERAL {
    const c = this.s[this.i];
    if ((c === "{" || c === "[") && this.depth >= MAX_DEPTH) return NOT_LITERAL;
    if (c === "{") return this.nested(() => this.object());
    if (c === "[") return this.nested(() => this.array());
    if (c === '"' || c === "'") return this.string();
    if (c === "`") return this.s.slice(this.i, stringEnd(this.s, this.i)).includes("${") ? NOT_LITERAL : this.string();
    const rest = this.s.slice(this.i);
    const num = NUMBER.exec(rest)?.[0];
    if (num !== undefined) {
      this.i += num.length;
      return Number(num);
    }
    const word = IDENT.exec(rest)?.[0];
    if (word === undefined) return NOT_LITERAL;
    this.i += word.length;
    return Object.hasOwn(KEYWORDS, word) ? KEYWORDS[word] : this.lookup(word, this.depth); // not `in`: `constructor` is no keyword
  }

  private nested<T>(read: () => T): T {
    this.depth++;
    try {
      return read();
    } finally {
      this.depth--;
    }
  }

  /** Is the value over: `,`, a closing bracket, `;` or the end? */
  private atEnd(): boolean {
    const c = this.s[this.i];
    return c === undefined || c === "," || c === "}" || c === "]" || c === ";" || c === ")";
  }

  /** Skip an expression this reader does not evaluate, up to the next `,` or closer at its depth. */
  private unread(): Unread {
    const start = this.i;
    let depth = 0;
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (c === '"' || c === "'" || c === "`") {
        this.i = stringEnd(this.s, this.i);
        continue;
      }
      if (c === "(" || c === "[" || c === "{") depth++;
      else if (c === ")" || c === "]" || c === "}") {
        if (depth === 0) break;
        depth--;
      } else if ((c === "," || c === ";") && depth === 0) break;
      this.i++;
    }
    return new Unread(this.s.slice(start, this.i).trim());
  }

  private string(): string {
    const end = stringEnd(this.s, this.i);
    const body = this.s.slice(this.i + 1, end - 1);
    this.i = end;
    return body.replace(/\\(u\{[0-9a-f]+\}|u[0-9a-f]{4}|x[0-9a-f]{2}|\r?\n|.)/gi, (_, e: string) => {
      if (/^u\{/i.test(e)) return String.fromCodePoint(parseInt(e.slice(2, -1), 16));
      if (/^[ux]/i.test(e) && e.length > 1) return String.fromCharCode(parseInt(e.slice(1), 16));
      if (e.startsWith("\n") || e.startsWith("\r")) return "";
      return ESCAPES[e] ?? e;
    });
  }

  private array(): JsValue[] {
    const out: JsValue[] = [];
    this.i++;
    for (;;) {
      this.space();
      if (this.i >= this.s.length) return out;
      if (this.s[this.i] === "]") {
        this.i++;
        return out;
      }
      if (this.s[this.i] === ",") {
        this.i++;
        continue;
      }
      const before = this.i;
      out.push(this.value());
      if (this.i === before) this.i++; // never stall on a character nothing reads
    }
  }

  private object(): Record<string, JsValue> {
    const out: Record<string, JsValue> = {};
    this.i++;
    for (;;) {
      this.space();
      if (this.i >= this.s.length) return out;
      const c = this.s[this.i]!;
      if (c === "}") {
        this.i++;
        return out;
      }
      if (c === ",") {
        this.i++;
        continue;
      }
      const before = this.i;
      const key = c === '"' || c === "'" ? this.string() : (IDENT.exec(this.s.slice(this.i))?.[0] ?? NUMBER.exec(this.s.slice(this.i))?.[0]);
      if (key === undefined) {
        this.unread(); // a computed key, a spread, a method: not data
        if (this.i === before) this.i++;
        continue;
      }
      if (c !== '"' && c !== "'") this.i += key.length;
      this.space();
      if (this.s[this.i] !== ":") {
        const shorthand = c !== '"' && c !== "'" && (this.s[this.i] === "," || this.s[this.i] === "}");
        if (shorthand && key !== "__proto__") out[key] = this.lookup(key, this.depth); // `{ apps }`: the variable's value
        else this.unread(); // a method: not data
        continue;
      }
      this.i++;
      if (key !== "__proto__") out[key] = this.value();
      else this.value();
    }
  }
}
