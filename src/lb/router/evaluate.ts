// The router's rule book applied to one request's factors (model-router.md "Order of evaluation"):
// categories by priority (first matching one whose target is a route wins), else rules by priority
// (first match wins), else default_model. Pure; the trace says what was looked at and why.

import { numberOf } from "../../config/router.ts";
import type { CompareOp, RouterCategory, RouterCondition, RouterConfig, RouterRule, SignalTest } from "../../config/types.ts";
import { Factors } from "./factors.ts";

/** The category, rule or default that chose the route. */
export interface Hit {
  readonly kind: "category" | "rule" | "default";
  readonly name: string;
  readonly priority: number;
  readonly target: string;
  /** Category: the signal that matched. */
  readonly signal?: string;
}

export interface CategoryTrace {
  readonly category: string;
  readonly priority: number;
  readonly target: string;
  readonly matched: boolean;
  readonly signal?: string;
  /** Matched, but its target is no route: passed over. */
  readonly skipped?: "target_model_not_found";
}

export interface ConditionTrace {
  readonly field: string;
  readonly op: string;
  readonly expected: unknown;
  readonly actual: unknown;
  readonly matched: boolean;
  readonly reason?: "missing_field_name" | "non_numeric_compare" | "regex_pattern_not_string" | "invalid_regex" | "unsupported_op";
}

export interface RuleTrace {
  readonly rule: string;
  readonly priority: number;
  readonly target: string;
  readonly matched: boolean;
  readonly match?: "all" | "any";
  readonly skipped?: "target_model_not_found";
  readonly conditions?: readonly ConditionTrace[];
}

export interface Evaluation {
  /** The old LB's names: category_hit_<name>, rule_hit_<name>, default_model, default_model_not_found, no_rule. */
  readonly decision: string;
  /** Route chosen by the rule book; undefined when nothing chose one. */
  readonly suggested?: string;
  readonly hit?: Hit;
  /** Categories looked at, in order (those after the winner were not reached). */
  readonly categories: readonly CategoryTrace[];
  /** Rules looked at, in order (only when no category won). */
  readonly rules: readonly RuleTrace[];
}

export function evaluate(router: RouterConfig, f: Factors, isRoute: (name: string) => boolean): Evaluation {
  const categories: CategoryTrace[] = [];
  for (const c of router.categories) {
    const signal = firstSignal(c, f);
    if (signal === undefined) {
      categories.push({ category: c.name, priority: c.priority, target: c.target, matched: false });
      continue;
    }
    if (!isRoute(c.target)) {
      categories.push({ category: c.name, priority: c.priority, target: c.target, matched: true, signal, skipped: "target_model_not_found" });
      continue;
    }
    categories.push({ category: c.name, priority: c.priority, target: c.target, matched: true, signal });
    const hit: Hit = { kind: "category", name: c.name, priority: c.priority, target: c.target, signal };
    return { decision: `category_hit_${c.name}`, suggested: c.target, hit, categories, rules: [] };
  }
  const rules: RuleTrace[] = [];
  for (const rule of router.rules) {
    if (!isRoute(rule.target)) {
      rules.push({ rule: rule.name, priority: rule.priority, target: rule.target, matched: false, skipped: "target_model_not_found" });
      continue;
    }
    const conditions = rule.when.map((c) => checkCondition(c, f));
    const matched = conditions.length === 0 || (rule.match === "any" ? conditions.some((c) => c.matched) : conditions.every((c) => c.matched));
    rules.push({ rule: rule.name, priority: rule.priority, target: rule.target, matched, match: rule.match, conditions });
    if (matched) return { decision: `rule_hit_${rule.name}`, suggested: rule.target, hit: ruleHit(rule), categories, rules };
  }
  const d = router.defaultModel;
  if (d === undefined) return { decision: "no_rule", categories, rules };
  if (!isRoute(d)) return { decision: "default_model_not_found", categories, rules };
  return { decision: "default_model", suggested: d, hit: { kind: "default", name: "default_model", priority: -Infinity, target: d }, categories, rules };
}

function ruleHit(r: RouterRule): Hit {
  return { kind: "rule", name: r.name, priority: r.priority, target: r.target };
}

// --- signals (category side) ---

function firstSignal(c: RouterCategory, f: Factors): string | undefined {
  for (const s of c.signals) if (signalMatches(s.test, f)) return s.text;
  return undefined;
}

function signalMatches(t: SignalTest, f: Factors): boolean {
  switch (t.kind) {
    case "keyword": {
      const text = f.get("last_user_text") as string;
      return text !== "" && t.re !== null && t.re.test(text);
    }
    case "equals":
      return String(f.get(t.factor) ?? "").toLowerCase() === t.value;
    case "code":
      return f.get("has_code_context") === t.value;
    case "tag":
      return (f.get("system_prompt_type") as string[]).includes(t.value);
    case "compare":
      return compare(f.get(t.factor) as number, t.op, t.n);
    case "never":
      return false;
  }
}

function compare(a: number, op: CompareOp | string, b: number): boolean {
  switch (op) {
    case "<=":
      return a <= b;
    case ">=":
      return a >= b;
    case "<":
      return a < b;
    case ">":
      return a > b;
    case "==":
      return a === b;
    case "!=":
      return a !== b;
    default:
      return false;
  }
}

// --- conditions (rule side) ---

/**
 * The old LB's loose scalar: strings are trimmed; "true"/"false" (any case) are booleans; a
 * decimal spelling is a number. Equality compares these.
 */
function scalar(v: unknown): unknown {
  if (typeof v !== "string") return v;
  const t = v.trim();
  const lower = t.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  return numberOf(t) ?? t;
}

const same = (a: unknown, b: unknown) => scalar(a) === scalar(b);

export function checkCondition(c: RouterCondition, f: Factors): ConditionTrace {
  const field = c.field ?? "";
  const base = { field, op: c.op, expected: c.value };
  if (!field) return { ...base, actual: null, matched: false, reason: "missing_field_name" };
  const has = Factors.known(field);
  const actual = has ? f.get(field) : undefined;
  const result = (matched: boolean, reason?: ConditionTrace["reason"]): ConditionTrace =>
    reason ? { ...base, actual, matched, reason } : { ...base, actual, matched };
  const expected = c.value;
  switch (c.op) {
    case "exists":
      return result(has && actual != null);
    case "not_exists":
      return result(!has || actual == null);
    case "==":
      return result(has && same(actual, expected));
    case "!=":
      return result(!has || !same(actual, expected));
    case ">":
    case ">=":
    case "<":
    case "<=": {
      const a = numberOf(actual);
      const b = numberOf(expected);
      return a === null || b === null ? result(false, "non_numeric_compare") : result(compare(a, c.op, b));
    }
    case "in":
    case "not_in": {
      const found = (Array.isArray(expected) ? expected : [expected]).some((v) => same(actual, v));
      return result(c.op === "in" ? found : !found);
    }
    case "contains":
    case "not_contains": {
      const found = Array.isArray(actual) ? actual.some((v) => same(v, expected)) : typeof actual === "string" && actual.includes(String(expected ?? ""));
      return result(c.op === "contains" ? found : !found);
    }
    case "regex":
      if (typeof expected !== "string") return result(false, "regex_pattern_not_string");
      if (!c.re) return result(false, "invalid_regex");
      return result(c.re.test(String(actual ?? "")));
    default:
      return result(false, "unsupported_op");
  }
}
