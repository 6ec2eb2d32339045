// Reads raw TOML values the lenient old way (booleans as yes/no/on/off/1/0, integers as digit
// strings, dashed keys, ${VAR}) and records every problem with its place in the file.
import { oneLine } from "../cli/one-line.ts";
import { isObject } from "../json/object.ts";
import { parse, TomlError } from "smol-toml";
import { type Env, isPlaceholder, substitute } from "./env.ts";
import { BREAKING } from "./header-text.ts";
import { formatPath, indexPositions, type PathSeg, type PositionIndex } from "./positions.ts";
import { didYouMean, nearMiss } from "./suggest.ts";
import { syntaxProblem } from "./syntax.ts";
import type { Problem, Severity } from "./types.ts";

export type Raw = Record<string, unknown>;
export interface Field {
  /** Key as written in the file (for positions and messages). */
  readonly raw: string;
  readonly value: unknown;
  readonly path: readonly PathSeg[];
}

const VAR_NAME = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/;
const VAR_NAMES = new RegExp(VAR_NAME.source, "g");
const setHint = (name: string) => `set ${name} in the environment or in .env beside the config`;
// The old generator's spellings, all of them: it also took y / n, and "" as false (what a
// `"${VAR}"` set to nothing gives), so files relying on them keep their meaning.
const TRUE = new Set(["true", "1", "yes", "y", "on"]);
const FALSE = new Set(["false", "0", "no", "n", "off", ""]);

/**
 * An empty object for values keyed by names from the config (scenarios, prices, the upgrade map,
 * headers): no prototype, so `constructor`, `toString` or `__proto__` are ordinary keys and a
 * lookup with a client's model name never finds an inherited function.
 */
export const keyedByName = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;

/** A TOML table: an object that is not a date (smol-toml gives dates as TomlDate objects). */
export const isTable = (v: unknown): v is Raw => isObject(v) && !(v instanceof Date);

/** TOML text → its document, or the one syntax problem, saying what to write (syntax.ts). */
export function parseToml(text: string, file: string): { doc: Raw } | { problem: Problem } {
  try {
    return { doc: parse(text) as Raw };
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    const p = syntaxProblem(err, text, file);
    return { problem: { ...p, message: oneLine(p.message), ...(p.hint === undefined ? {} : { hint: oneLine(p.hint) }) } };
  }
}

/** The instance whose table `path` is in (`[instances.NAME]`), when it is in one. */
function instanceOf(path: readonly PathSeg[]): string | undefined {
  return path[0] === "instances" && typeof path[1] === "string" ? path[1] : undefined;
}

/** Where a key written in the wrong table belongs: what it is, and how to move it. */
export type KeyElsewhere = (name: string) => { readonly what: string; readonly fix: string } | undefined;

export class Reader {
  /** Known keys the file has under a misspelled name ("global.main_port"): "missing" is not news then. */
  readonly misspelled = new Set<string>();
  /**
   * Where each key of the file is, indexed on the first problem: a file without problems (every
   * reload of a good one) never pays the scan, which is half of loading a big file.
   */
  private positions: PositionIndex | undefined;
  constructor(
    readonly file: string,
    /** The file's TOML text, for the positions of problems. */
    private readonly text: string,
    private readonly env: Env,
    /** Shared with the readers of included files, so every problem lands in one list. */
    readonly problems: Problem[] = [],
    /**
     * The values `${VAR}`s put into the file's text (shared alike): what a problem quoting a
     * value must not show in full (masked-problems.ts) — two variables swapped put a key where a
     * URL belongs, and its problem would print it.
     */
    readonly expanded: Set<string> = new Set(),
  ) {}

  /** A variable of the environment the file is read with (.env beside it, then the process). */
  envValue(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v === "" ? undefined : v;
  }

  /** A reader for another file (an include), reporting into the same problem list. */
  forFile(file: string, text: string): Reader {
    return new Reader(file, text, this.env, this.problems, this.expanded);
  }

  report(severity: Severity, path: readonly PathSeg[], message: string, hint?: string): void {
    const { line, col } = (this.positions ??= indexPositions(this.text)).find(path);
    const instance = instanceOf(path);
    this.problems.push({ severity, file: this.file, line, col, path: oneLine(formatPath(path)), message: oneLine(message), hint: hint === undefined ? undefined : oneLine(hint), ...(instance === undefined ? {} : { instance }) });
  }
  error(path: readonly PathSeg[], message: string, hint?: string): void {
    this.report("error", path, message, hint);
  }
  warn(path: readonly PathSeg[], message: string, hint?: string): void {
    this.report("warning", path, message, hint);
  }

  /**
   * The fields of a table under their normalized (underscored) names. Unknown keys are warned
   * with a suggestion: a typo like `wieght` must never pass silently. `elsewhere` names the table
   * a key belongs to when it is another table's (a [global] key written below [instances.a]):
   * that beats a typo's guess, which would point at a different key.
   */
  fields(path: readonly PathSeg[], table: Raw, known: readonly string[], elsewhere?: KeyElsewhere): Map<string, Field> {
    const out = new Map<string, Field>();
    for (const [raw, value] of Object.entries(table)) {
      const name = raw.includes("-") ? raw.replaceAll("-", "_") : raw;
      const fieldPath = [...path, raw];
      if (!known.includes(name)) {
        // A typo of a known key is an error (its value would be silently ignored); a key gw does
        // not know at all stays a warning: later versions of the old format add keys. Another
        // table's key is a warning too: the old tool ignored it as well, and its files must load.
        const misplaced = elsewhere?.(name);
        const typo = misplaced ? undefined : nearMiss(name, known);
        if (misplaced) {
          this.warn(fieldPath, `"${raw}" is ${misplaced.what}, not read here`, misplaced.fix);
        } else if (typo) {
          this.error(fieldPath, `unknown key "${raw}" — did you mean "${typo}"?`, `rename it to ${typo}; as written, its value is ignored`);
          this.misspelled.add(formatPath([...path, typo]));
        } else {
          const guess = didYouMean(name, known);
          this.warn(fieldPath, `unknown key "${raw}"`, guess ? `did you mean "${guess}"?` : `known keys: ${known.join(", ")}`);
        }
        continue;
      }
      if (out.has(name)) {
        this.error(fieldPath, `"${raw}" repeats "${out.get(name)!.raw}"`, "keep one spelling");
        continue;
      }
      out.set(name, { raw, value, path: fieldPath });
    }
    return out;
  }

  str(f: Field | undefined, opts: { secret?: boolean } = {}): string | undefined {
    if (!f) return undefined;
    if (typeof f.value === "number" || typeof f.value === "boolean") return String(f.value);
    if (typeof f.value !== "string") {
      this.error(f.path, `expected a string, got ${describe(f.value)}`);
      return undefined;
    }
    return this.expand(f.path, f.value, opts.secret ?? false);
  }

  /** `${VAR}` substitution with the warning (or, for secrets, the error) the old tool lacked. */
  expand(path: readonly PathSeg[], value: string, secret: boolean): string {
    const { value: out, missing, empty } = substitute(value, this.env);
    for (const name of this.setVarsIn(value)) this.expanded.add(this.env[name]!);
    // A key an instance lacks: the instance can go instead (gw init's example relay, for one who has no relay).
    const inst = instanceOf(path);
    const orDrop = inst === undefined ? "" : ` — or, without one, remove [instances.${inst}] and the targets that name it`;
    for (const name of missing) {
      const hint = setHint(name);
      if (secret) this.error(path, `\${${name}} is not set, so this API key would be sent literally`, hint + orDrop);
      else this.warn(path, `\${${name}} is not set; the text is kept as written`, hint);
    }
    for (const name of empty) {
      const hint = `give ${name} a value in .env beside the config (or in the environment)`;
      if (secret) this.error(path, `\${${name}} is empty, so this API key would be sent empty`, hint + orDrop);
      else this.warn(path, `\${${name}} is empty`, hint);
    }
    if (secret && missing.length === 0 && isPlaceholder(out)) {
      const from = VAR_NAME.exec(value)?.[1];
      this.error(path, from ? `\${${from}} still holds a placeholder (an example value, not a real key)` : "this API key is a placeholder", (from ? `put the real key in .env: ${from}=…` : "put the real key here, or better in .env as ${NAME}") + orDrop);
    }
    // A line break would end the header the key goes out in (fetch refuses it on every request)
    // and the YAML line gen writes it on.
    if (secret && BREAKING.test(out)) {
      const from = VAR_NAME.exec(value)?.[1];
      const where = from ? `\${${from}}` : "this value";
      this.error(path, `${where} holds a line break or NUL byte, so this secret would break the header and the YAML line it goes into`, from ? `write ${from} on one line in .env: a \\n inside double quotes is a line break` : "remove it: a \\n, \\r or \\u0000 escape in a TOML string is one");
    }
    return out;
  }

  /**
   * The fix for a value its key cannot take because a `${VAR}` in it is not set (expand kept it
   * as written), else undefined: the value's own fix (a scheme before `${VAR}`) would keep the
   * variable unset and the text literal.
   */
  unsetHint(expanded: string): string | undefined {
    const name = VAR_NAME.exec(expanded)?.[1];
    return name !== undefined && this.env[name] === undefined ? setHint(name) : undefined;
  }

  /**
   * The fix for a value its key cannot take: a `${VAR}` not set is to be set (unsetHint); a value
   * set `${VAR}`s gave is fixed where they are set — `direct` (the value rewritten into the file)
   * would paste the variable's value there, a key when two variables were swapped.
   */
  fixHint(f: Field, expanded: string, what: string, direct: () => string): string {
    const unset = this.unsetHint(expanded);
    if (unset !== undefined) return unset;
    const names = typeof f.value === "string" ? this.setVarsIn(f.value) : [];
    if (names.length === 0) return direct();
    return `the value comes from ${names.map((n) => `\${${n}}`).join(" and ")}: put ${what} in ${names.join(" or ")} in .env (or the environment), or name the variable that holds one`;
  }

  /** The variables `written` names that are set, each once. */
  private setVarsIn(written: string): string[] {
    if (!written.includes("${")) return [];
    const names = [...written.matchAll(VAR_NAMES)].map((m) => m[1]!).filter((n) => this.env[n] !== undefined);
    return [...new Set(names)];
  }

  int(f: Field | undefined, range: { min?: number; max?: number } = {}): number | undefined {
    if (!f) return undefined;
    let v = f.value;
    if (typeof v === "string" && /^\s*-?\d+\s*$/.test(this.expand(f.path, v, false))) v = Number(this.expand(f.path, v, false));
    if (typeof v === "bigint") v = Number(v);
    if (typeof v !== "number" || !Number.isInteger(v)) {
      this.error(f.path, `expected an integer, got ${describe(f.value)}`);
      return undefined;
    }
    return this.inRange(f, v, range);
  }

  /**
   * An integer key of the old format, read as the old generator read it, so that a file it took
   * keeps loading with the same meaning: a fraction is cut off, true/false count 1/0, and a value
   * outside [min, max] is moved to the bound (`outside: "clamp"`, the generator's max(0, …)) or
   * skipped (`"skip"`, what the old LB did with a params value that is not a positive number).
   * Each such value is warned with what gw uses and what to write. Text that is no number stays an
   * error where the old generator failed on it too (int("abc")).
   */
  oldInt(f: Field | undefined, { min, max, outside = "clamp" }: { min: number; max?: number; outside?: "clamp" | "skip" }): number | undefined {
    if (!f) return undefined;
    let v = f.value;
    const why: string[] = [];
    if (typeof v === "string") {
      const s = this.expand(f.path, v, false).trim();
      // The old LB's Number(x) for params; the generator's int(x) (whole numbers only) elsewhere.
      if (outside === "skip" ? s !== "" && Number.isFinite(Number(s)) : /^[+-]?\d+$/.test(s)) v = Number(s);
    }
    if (typeof v === "bigint") v = Number(v);
    if (typeof v === "boolean") {
      why.push("is not a number");
      v = Number(v);
    }
    if (typeof v !== "number" || !Number.isFinite(v)) {
      if (outside === "skip" && (typeof v === "number" || typeof v === "string")) {
        this.warn(f.path, `${f.raw} = ${asWritten(f.value)} is not a number, so it is ignored (as the old LB did)`, `remove ${f.raw}, or give it a whole number of at least ${min}`);
      } else this.error(f.path, `expected an integer, got ${describe(f.value)}`);
      return undefined;
    }
    let n = v;
    if (!Number.isInteger(n)) {
      why.push("is not a whole number");
      n = Math.trunc(n);
    }
    if (n < min && outside === "skip") {
      this.warn(f.path, `${f.raw} = ${asWritten(f.value)} is not a positive number, so it is ignored (as the old LB did)`, `remove ${f.raw}, or give it a whole number of at least ${min}`);
      return undefined;
    }
    if (n < min) why.push(`is below ${min}`);
    if (max !== undefined && n > max) why.push(`is above gw's limit ${max}`);
    const used = Math.min(Math.max(n, min), max ?? Infinity);
    if (why.length) this.warn(f.path, `${f.raw} = ${asWritten(f.value)} ${why.join(" and ")}; using ${used}${why.some((w) => !w.startsWith("is above")) ? (outside === "skip" ? ", as the old LB did" : ", as the old generator did") : ""}`, `write ${f.raw} = ${used}`);
    return used;
  }

  num(f: Field | undefined, range: { min?: number; max?: number } = {}): number | undefined {
    if (!f) return undefined;
    let v = f.value;
    const s = typeof v === "string" ? this.expand(f.path, v, false) : undefined; // "${W}": every string of the old format is expanded first
    if (s !== undefined && s.trim() !== "" && Number.isFinite(Number(s))) v = Number(s);
    if (typeof v !== "number" || !Number.isFinite(v)) {
      this.error(f.path, `expected a number, got ${describe(f.value)}`);
      return undefined;
    }
    return this.inRange(f, v, range);
  }

  private inRange(f: Field, v: number, { min, max }: { min?: number; max?: number }): number | undefined {
    if ((min !== undefined && v < min) || (max !== undefined && v > max)) {
      const want = max === undefined ? `at least ${min}` : min === undefined ? `at most ${max}` : `between ${min} and ${max}`;
      this.error(f.path, `${v} is out of range`, `use a value ${want}`);
      return undefined;
    }
    return v;
  }

  bool(f: Field | undefined): boolean | undefined {
    if (!f) return undefined;
    const v = f.value;
    if (typeof v === "boolean") return v;
    if (typeof v === "number") return v !== 0; // as the old generator: any number but 0 is true
    const s = typeof v === "string" ? this.expand(f.path, v, false).trim().toLowerCase() : undefined;
    if (s !== undefined && TRUE.has(s)) return true;
    if (s !== undefined && FALSE.has(s)) return false;
    this.error(f.path, `expected a boolean, got ${describe(v)}`, "use true/false (or yes/no, on/off, 1/0)");
    return undefined;
  }

  strList(f: Field | undefined, opts: { secret?: boolean } = {}): string[] | undefined {
    if (!f) return undefined;
    if (typeof f.value === "string") return [this.expand(f.path, f.value, opts.secret ?? false)];
    if (!Array.isArray(f.value)) {
      this.error(f.path, `expected a list of strings, got ${describe(f.value)}`);
      return undefined;
    }
    const out: string[] = [];
    f.value.forEach((item, i) => {
      const s = this.str({ raw: f.raw, value: item, path: [...f.path, i] }, opts);
      if (s !== undefined) out.push(s);
    });
    return out;
  }

  table(f: Field | undefined): Raw | undefined {
    if (!f) return undefined;
    if (isTable(f.value)) return f.value;
    this.error(f.path, `expected a table, got ${describe(f.value)}`);
    return undefined;
  }
}

/** A scalar as it would be written in the file (for "key = value" in messages). */
function asWritten(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : String(v);
}

export function describe(v: unknown): string {
  if (Array.isArray(v)) return "a list";
  if (v === null || v === undefined) return "nothing";
  if (v instanceof Date) return "a date";
  if (typeof v === "object") return "a table";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}
