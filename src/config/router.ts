// [global.lb_model_router]: the `auto` router's categories and rules (model-router.md), with its
// optional `config_file` merged over it, compiled once (regexes, signal tests) and checked against
// the routes. What the old LB silently skipped — a target that is no route, an unknown op, a regex
// that does not compile — it still skips at run time, but `gw check` now says so, with the place.
import { resolve } from "node:path";
import { formatPath, type PathSeg } from "./positions.ts";
import { describe, type Field, isTable, parseToml, type Raw, type Reader } from "./reader.ts";
import {
  COMPARE_OPS,
  CONDITION_OPS,
  FACTORS,
  NUMERIC_OPS,
  SIGNAL_TYPES,
  SYSTEM_TAGS,
  TASK_CATEGORIES,
  TOOL_PROFILES,
} from "./router-vocabulary.ts";
import { didYouMean } from "./suggest.ts";
import type { CompareOp, RouterCategory, RouterCondition, RouterConfig, RouterRule, RouterSignal, SignalTest } from "./types.ts";

export const ROUTER_KEYS = ["enabled", "shadow_only", "activation_models", "default_model", "log_factors", "config_file", "categories", "rules"];
export const CATEGORY_KEYS = ["name", "priority", "target_model", "signals"];
export const RULE_KEYS = ["name", "priority", "target_model", "match", "when"];
export const CONDITION_KEYS = ["field", "op", "value"];

/** The file's text; null when it does not exist; why (said of the file) when it cannot be read. */
export type ReadInclude = (absolutePath: string) => string | null | { readonly why: string };

interface RouterRead {
  readonly router?: RouterConfig;
  /** Absolute paths of the files read besides the main one. */
  readonly includes: readonly string[];
}

interface Context {
  readonly routes: ReadonlySet<string>;
  /** Directory of providers.toml: `config_file` is relative to it. */
  readonly dir: string;
  readonly readInclude: ReadInclude;
}

/** A field and the reader of the file it came from (problems are reported against that file). */
interface Placed {
  readonly f: Field;
  readonly r: Reader;
}

export function readRouter(r: Reader, field: Field | undefined, ctx: Context): RouterRead {
  const table = r.table(field);
  if (!field || !table) return { includes: [] };
  const fields = new Map<string, Placed>();
  for (const [k, f] of r.fields(field.path, table, ROUTER_KEYS)) fields.set(k, { f, r });
  const includes: string[] = [];
  const cf = fields.get("config_file");
  const include = cf ? readIncludeFile(cf, ctx, includes) : undefined;
  if (include) {
    // The old generator's deep merge: the file's keys win. Every known key is a scalar or a list
    // (lists replace), so merging key by key is the whole of it.
    for (const [k, f] of include.r.fields(include.path, include.table, ROUTER_KEYS)) {
      if (k === "config_file") include.r.warn(f.path, "config_file inside a config_file is not followed", "put every router setting in this one file");
      else fields.set(k, { f, r: include.r });
    }
  }
  const get = (k: string) => fields.get(k);
  const bool = (k: string, dflt: boolean) => {
    const p = get(k);
    return (p && p.r.bool(p.f)) ?? dflt;
  };
  const router: RouterConfig = {
    enabled: bool("enabled", false),
    shadowOnly: bool("shadow_only", false),
    activationModels: readActivation(get("activation_models")),
    defaultModel: readDefault(get("default_model"), ctx.routes),
    logFactors: bool("log_factors", true),
    categories: byPriority(readList(get("categories"), (item, path, i, rr) => readCategory(rr, item, path, i, ctx.routes))),
    rules: byPriority(readList(get("rules"), (item, path, i, rr) => readRule(rr, item, path, i, ctx.routes))),
  };
  return { router, includes };
}

/**
 * `config_file`, relative to providers.toml; its [lb_model_router] or [global.lb_model_router] table
 * (or the whole file). Its path goes on `includes` even when it is missing or broken, so a reload
 * watches for it: creating or fixing it later takes effect like an edit.
 */
function readIncludeFile({ f, r }: Placed, ctx: Context, includes: string[]): { r: Reader; table: Raw; path: PathSeg[] } | undefined {
  const name = r.str(f)?.trim();
  if (!name) return undefined;
  const abs = resolve(ctx.dir, name);
  includes.push(abs);
  const text = ctx.readInclude(abs);
  if (typeof text !== "string") {
    r.warn(f.path, `config_file "${name}" ${text?.why ?? "does not exist"} (${abs}); its rules are not used`, text ? "make it a regular file this user can read, or remove config_file" : "create it, or remove config_file");
    return undefined;
  }
  const parsed = parseToml(text, abs);
  if ("problem" in parsed) {
    r.problems.push(parsed.problem);
    return undefined;
  }
  const doc = parsed.doc;
  const ir = r.forFile(abs, text);
  if (isTable(doc.lb_model_router)) return { r: ir, table: doc.lb_model_router, path: ["lb_model_router"] };
  const g = doc.global;
  if (isTable(g) && isTable(g.lb_model_router)) return { r: ir, table: g.lb_model_router, path: ["global", "lb_model_router"] };
  return { r: ir, table: doc, path: [] };
}

function readActivation(p: Placed | undefined): ReadonlySet<string> {
  if (!p) return new Set(["auto"]);
  const models = new Set((p.r.strList(p.f) ?? []).map((m) => m.trim()).filter(Boolean));
  if (models.size === 0) {
    p.r.warn(p.f.path, "activation_models is empty, so the router decides every request (as the old LB did)", 'list the models clients send for routing, e.g. ["auto"]');
  }
  return models;
}

function readDefault(p: Placed | undefined, routes: ReadonlySet<string>): string | undefined {
  const name = p ? p.r.str(p.f)?.trim() : undefined;
  if (!name) return undefined;
  if (!routes.has(name)) p!.r.warn(p!.f.path, `default_model "${name}" is not a route; requests nothing matched keep their model`, routeHint(name, routes));
  return name;
}

type ItemReader<T> = (item: Raw, path: PathSeg[], index: number, r: Reader) => T | undefined;

/**
 * An array of tables (`[[…categories]]`); items that are not tables are skipped with a warning —
 * or, given `notTable`, stand for what it makes of them (a rule's condition that is no table must
 * not vanish: with none left, the rule would match every request).
 */
function readList<T>(p: Placed | undefined, read: ItemReader<T>, notTable?: (path: PathSeg[], r: Reader) => T): T[] {
  if (!p) return [];
  if (!Array.isArray(p.f.value)) {
    // The header of such tables: the path without its list positions (rules[0].when → rules.when).
    const header = p.f.path.filter((s) => typeof s === "string").join(".");
    p.r.error(p.f.path, `expected a list of tables, got ${describe(p.f.value)}`, `write [[${header}]] tables`);
    return [];
  }
  const out: T[] = [];
  p.f.value.forEach((item, i) => {
    const path = [...p.f.path, i];
    if (!isTable(item)) {
      if (notTable) return void out.push(notTable(path, p.r));
      return p.r.warn(path, "expected a table; this entry is skipped");
    }
    const v = read(item, path, i, p.r);
    if (v !== undefined) out.push(v);
  });
  return out;
}

/** Highest priority first; equal priorities keep file order (a stable sort, like the old generator's). */
function byPriority<T extends { priority: number }>(items: T[]): T[] {
  return items.sort((a, b) => b.priority - a.priority);
}

function readCategory(r: Reader, item: Raw, path: PathSeg[], i: number, routes: ReadonlySet<string>): RouterCategory | undefined {
  const f = r.fields(path, item, CATEGORY_KEYS);
  const name = r.str(f.get("name"))?.trim() || `cat_${i + 1}`;
  const target = readTarget(r, f, path, `category "${name}"`, routes);
  const signals = (r.strList(f.get("signals")) ?? []).map((s, n) => compileSignal(r, [...(f.get("signals")?.path ?? path), n], s.trim())).filter((s) => s.text);
  if (target === undefined) return undefined;
  if (signals.length === 0) {
    r.warn(path, `category "${name}" has no signals, so it never matches`, 'add signals = ["task_category:coding", …]');
    return undefined;
  }
  return { name, priority: readPriority(r, f), target, signals };
}

function readRule(r: Reader, item: Raw, path: PathSeg[], i: number, routes: ReadonlySet<string>): RouterRule | undefined {
  const f = r.fields(path, item, RULE_KEYS);
  const name = r.str(f.get("name"))?.trim() || `rule_${i + 1}`;
  const target = readTarget(r, f, path, `rule "${name}"`, routes);
  if (target === undefined) return undefined;
  const mf = f.get("match");
  const written = (r.str(mf) ?? "all").trim().toLowerCase();
  if (mf && written !== "all" && written !== "any") r.warn(mf.path, `match = "${written}" is neither "all" nor "any"; "all" is used`, 'use match = "all" or "any"');
  const when = readList(f.get("when") ? { f: f.get("when")!, r } : undefined, (c, cpath, _n, rr) => readCondition(rr, c, cpath), notACondition);
  return { name, priority: readPriority(r, f), target, match: written === "any" ? "any" : "all", when };
}

/** target_model; undefined (the entry is dropped, as the old generator did) when absent. */
function readTarget(r: Reader, f: Map<string, Field>, path: PathSeg[], what: string, routes: ReadonlySet<string>): string | undefined {
  const tf = f.get("target_model");
  const target = r.str(tf)?.trim();
  if (!target) {
    // A misspelled target_model has its own error; "has none" would only repeat it.
    if (!r.misspelled.has(formatPath([...path, "target_model"]))) r.warn(path, `${what} has no target_model and is dropped`, 'add target_model = "<route name>"');
    return undefined;
  }
  if (!routes.has(target)) r.warn(tf!.path, `${what}: target_model "${target}" is not a route, so it is passed over`, routeHint(target, routes));
  return target;
}

/** The old generator read priorities leniently (a bad one counted as 0); so does gw, with a warning. */
function readPriority(r: Reader, f: Map<string, Field>): number {
  const pf = f.get("priority");
  if (!pf) return 0;
  const v = typeof pf.value === "string" ? Number(r.expand(pf.path, pf.value, false).trim()) : pf.value;
  if (typeof v === "number" && Number.isFinite(v)) return Math.trunc(v);
  r.warn(pf.path, "priority is not a number; 0 is used", "write an integer, e.g. priority = 300");
  return 0;
}

const NUMERIC_SIGNAL = /^(<=|>=|<|>|==|!=)(\d+(?:\.\d+)?)$/;

/** `type:value` → a test compiled once. Anything the old LB could never match is warned about. */
function compileSignal(r: Reader, path: PathSeg[], text: string): RouterSignal {
  const never = (why: string, hint?: string): RouterSignal => {
    r.warn(path, `signal "${text}" never matches: ${why}`, hint);
    return { text, test: { kind: "never" } };
  };
  if (!text) return { text, test: { kind: "never" } };
  const colon = text.indexOf(":");
  if (colon < 0) return never("it has no type", `write type:value with a type among ${SIGNAL_TYPES.join(", ")}`);
  const type = text.slice(0, colon).trim().toLowerCase();
  const value = text.slice(colon + 1).trim();
  const oneOf = (known: readonly string[], v: string, test: SignalTest) =>
    known.includes(v) ? { text, test } : never(`"${v}" is not a ${type} value`, `use one of ${known.join(", ")}`);
  switch (type) {
    case "keyword":
      try {
        return { text, test: { kind: "keyword", re: new RegExp(value, "i") } };
      } catch (e) {
        return never(`the regex does not compile (${(e as Error).message})`, "fix the pattern (JavaScript regex syntax)");
      }
    case "task_category":
    case "tool_profile": {
      const v = value.toLowerCase();
      return oneOf(type === "task_category" ? TASK_CATEGORIES : TOOL_PROFILES, v, { kind: "equals", factor: type, value: v });
    }
    case "has_code_context": {
      const v = value.toLowerCase();
      return v === "true" || v === "false" ? { text, test: { kind: "code", value: v === "true" } } : never("the value must be true or false");
    }
    case "system_prompt_type":
    case "system_tag":
      return oneOf(SYSTEM_TAGS, value, { kind: "tag", value });
    case "messages_count":
    case "prompt_chars":
    case "conversation_depth": {
      const m = NUMERIC_SIGNAL.exec(value);
      if (!m) return never(`"${value}" is not <op><number>`, `e.g. ${type}:>=50 (ops ${COMPARE_OPS.join(" ")}, no spaces)`);
      const factor = type === "prompt_chars" ? "prompt_chars" : "messages_count";
      return { text, test: { kind: "compare", factor, op: m[1] as CompareOp, n: Number(m[2]) } };
    }
    default: {
      const guess = didYouMean(type, SIGNAL_TYPES);
      return never(`unknown type "${type}"`, guess ? `did you mean "${guess}"?` : `types: ${SIGNAL_TYPES.join(", ")}`);
    }
  }
}

/** A `when` entry that is no table (`when = ["messages_count >= 50"]`): a condition that never matches, as one naming no field. */
function notACondition(path: PathSeg[], r: Reader): RouterCondition {
  r.warn(path, "this condition is not a table, so it never matches", 'write it as { field = "messages_count", op = ">=", value = 50 }');
  return { field: undefined, op: "==", value: undefined };
}

/**
 * One `when` condition. Like the old LB, a condition with no field or an unknown op stays in the
 * rule and never matches (its trace says why); gw also warns here.
 */
function readCondition(r: Reader, item: Raw, path: PathSeg[]): RouterCondition {
  const f = r.fields(path, item, CONDITION_KEYS);
  const field = r.str(f.get("field"))?.trim() || undefined;
  const op = (r.str(f.get("op")) ?? "==").trim().toLowerCase();
  const vf = f.get("value");
  const value = typeof vf?.value === "string" ? r.expand(vf.path, vf.value, false) : vf?.value;
  if (!field) r.warn(path, "condition names no field, so it never matches", `add field = "<factor>" (${FACTORS.join(", ")})`);
  else if (!(FACTORS as readonly string[]).includes(field)) {
    const guess = didYouMean(field, FACTORS);
    r.warn(f.get("field")!.path, `"${field}" is no factor: the field is always missing`, guess ? `did you mean "${guess}"?` : `factors: ${FACTORS.join(", ")}`);
  }
  const opPath = f.get("op")?.path ?? path;
  if (!(CONDITION_OPS as readonly string[]).includes(op)) {
    r.warn(opPath, `unknown op "${op}", so this condition never matches`, `ops: ${CONDITION_OPS.join(" ")}`);
    return { field, op, value };
  }
  if (NUMERIC_OPS.includes(op) && numberOf(value) === null) r.warn(vf?.path ?? path, `op "${op}" compares numbers, but the value is no number, so it never matches`);
  if (op !== "regex") return { field, op, value };
  if (typeof value !== "string") {
    r.warn(vf?.path ?? path, "a regex condition needs a string value; it never matches");
    return { field, op, value, re: null };
  }
  try {
    return { field, op, value, re: new RegExp(value) };
  } catch (e) {
    r.warn(vf!.path, `the regex does not compile (${(e as Error).message}), so it never matches`, "fix the pattern (JavaScript regex syntax)");
    return { field, op, value, re: null };
  }
}

/** A number, or a string spelling one (the old LB's loose reading); null otherwise. */
export function numberOf(v: unknown): number | null {
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v.trim());
  return null;
}

function routeHint(name: string, routes: ReadonlySet<string>): string {
  const guess = didYouMean(name, routes);
  return guess ? `did you mean "${guess}"?` : `define "${name}" under [routing], or use one of: ${[...routes].join(", ")}`;
}
