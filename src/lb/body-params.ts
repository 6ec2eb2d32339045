// A route's body params, per kind of call (pure). Each API names the answer's token cap, the
// thinking budget and the reasoning effort differently: the table below says where each call
// carries them, and one policy applies a route's params through it. A param with no field in a
// call's API is not applied there: gw adds no field the API does not know (`gw check` says which
// params some APIs cannot take: config/routing.ts). Token counting and calls outside the table
// get no body params (rewrite.ts).

import { levelBudget, levelWithin } from "../catalog/effort-levels.ts";
import type { RouteParams } from "../config/types.ts";
import { asObject, isObject } from "../json/object.ts";
import { isGeminiGeneration } from "./paths.ts";

type Body = Record<string, unknown>;
/** A field's path from the top of the body. */
type Path = readonly string[];

interface CallFields {
  /** The answer's token cap, every spelling the API takes: each one present is clamped; `max_tokens_default` sets the first when none is. */
  readonly cap: readonly Path[];
  /** The thinking budget in tokens, every spelling the API takes: each one present is clamped, and kept below the cap. */
  readonly budget?: readonly Path[];
  /**
   * Where `reasoning_effort` goes, and the fields it supersedes (removed when present); a level
   * there, or at another spelling of it (`levels`), is a budget to CLIProxyAPI, so
   * `thinking_budget_max` clamps it too.
   */
  readonly effort?: { readonly path: Path; readonly replaces?: readonly Path[]; readonly levels?: readonly Path[] };
}

/** The calls whose bodies route params touch. */
export type ParamCall = "messages" | "chat" | "completions" | "responses" | "gemini";

const THINKING_CONFIG = ["generationConfig", "thinkingConfig"] as const;
/** Gemini's budget and level, each as camel case and as the snake case Google's Python SDK writes (its API takes either). */
const GEMINI_BUDGETS: readonly Path[] = [[...THINKING_CONFIG, "thinkingBudget"], [...THINKING_CONFIG, "thinking_budget"]];
const [GEMINI_LEVEL, GEMINI_SNAKE_LEVEL] = [[...THINKING_CONFIG, "thinkingLevel"], [...THINKING_CONFIG, "thinking_level"]] as const;

/**
 * Where each call carries what the params touch (what CLIProxyAPI reads of it: internal/thinking).
 * Chat's `thinking` budget is the one some clients send in Anthropic's OpenAI-compatible form. The
 * Responses API has no budget and a legacy completion no effort. Anthropic's Messages API has no
 * effort field: CLIProxyAPI reads a Claude body's `thinking` only (a top-level `reasoning_effort`
 * is dropped by its translators and refused by an Anthropic upstream), so the old tool's top-level
 * field did nothing there — `thinking_level`, the model suffix, is the control every API has.
 * Gemini's effort is its `thinkingLevel` (same level names; CLIProxyAPI reads it before a budget),
 * which replaces the client's budget, as CLIProxyAPI does when it applies a level.
 */
const FIELDS: Readonly<Record<ParamCall, CallFields>> = {
  messages: { cap: [["max_tokens"]], budget: [["thinking", "budget_tokens"]] },
  chat: { cap: [["max_tokens"], ["max_completion_tokens"]], budget: [["thinking", "budget_tokens"]], effort: { path: ["reasoning_effort"] } },
  completions: { cap: [["max_tokens"]] },
  responses: { cap: [["max_output_tokens"]], effort: { path: ["reasoning", "effort"] } },
  gemini: {
    cap: [["generationConfig", "maxOutputTokens"]],
    budget: GEMINI_BUDGETS,
    effort: { path: GEMINI_LEVEL, replaces: [...GEMINI_BUDGETS, GEMINI_SNAKE_LEVEL], levels: [GEMINI_LEVEL, GEMINI_SNAKE_LEVEL] },
  },
};

/** The top-level fields the params may change, whatever the call, in the order added ones are written. */
export const PARAM_FIELDS: ReadonlySet<string> = new Set(
  Object.values(FIELDS).flatMap((f) => [...(f.effort ? [f.effort.path] : []), ...f.cap, ...(f.budget ?? [])].map((p) => p[0]!)),
);

/** Model calls by the end of their path, under any API root (`/backend-api/codex/responses`). */
const CALL = /\/(messages|chat\/completions|completions|responses)$/;
const CALL_NAMES: Readonly<Record<string, ParamCall>> = { messages: "messages", "chat/completions": "chat", completions: "completions", responses: "responses" };

/** The kind of call a path (and, for Gemini, its method) makes, if its body takes route params. */
export function paramCallOf(path: string, geminiAction: string | undefined): ParamCall | undefined {
  if (geminiAction !== undefined) return isGeminiGeneration(geminiAction) ? "gemini" : undefined;
  const m = CALL.exec(path);
  return m ? CALL_NAMES[m[1]!] : undefined;
}

/** Whether `p` has any param applyBodyParams applies. */
export function hasBodyParams(p: RouteParams): boolean {
  return p.reasoningEffort !== undefined || p.maxTokensDefault !== undefined || p.maxTokensMax !== undefined || p.thinkingBudgetMax !== undefined;
}

/**
 * Apply a route's body params to `body` (a copy of the client's top level: nested objects are
 * copied where they change, never changed in place) for a `call`. Returns the names of the params
 * that changed it, in the record's order. After the caps, a budget at or above the cap goes one
 * below it (the API rejects budget_tokens >= max_tokens): counted as `thinking_budget_max` when
 * that is set, else as the cap param that made the rule run. An effort level the client sent goes
 * down to the highest whose budget is within `thinking_budget_max` (clampLevel).
 */
export function applyBodyParams(body: Body, p: RouteParams, call: ParamCall): string[] {
  const f = FIELDS[call];
  const applied: string[] = [];
  if (p.reasoningEffort !== undefined && f.effort && setEffort(body, f.effort, p.reasoningEffort)) applied.push("reasoning_effort");
  if (p.maxTokensDefault !== undefined && f.cap.every((c) => valueAt(body, c) == null) && putAt(body, f.cap[0]!, p.maxTokensDefault)) {
    applied.push("max_tokens_default");
  }
  const max = p.maxTokensMax;
  if (max !== undefined) {
    let clamped = false;
    for (const c of f.cap) {
      const v = valueAt(body, c);
      if (typeof v === "number" && v > max) {
        putAt(body, c, max);
        clamped = true;
      }
    }
    if (clamped) applied.push("max_tokens_max");
  }
  const budgetParam = p.thinkingBudgetMax !== undefined ? "thinking_budget_max" : max !== undefined ? "max_tokens_max" : p.maxTokensDefault !== undefined ? "max_tokens_default" : undefined;
  if (budgetParam && some(f.budget, (at) => clampBudget(body, at, f.cap, p.thinkingBudgetMax)) && !applied.includes(budgetParam)) applied.push(budgetParam);
  // The client's level, as its budget is: a route's own reasoning_effort is the route's choice.
  const budgetMax = p.thinkingBudgetMax;
  if (budgetMax !== undefined && p.reasoningEffort === undefined && f.effort && some(f.effort.levels ?? [f.effort.path], (at) => clampLevel(body, at, budgetMax)) && !applied.includes("thinking_budget_max")) {
    applied.push("thinking_budget_max");
  }
  return applied;
}

// --- internal ---

/** Whether `change` changed anything at any of `paths` (each one is tried). */
function some(paths: readonly Path[] | undefined, change: (at: Path) => boolean): boolean {
  let changed = false;
  for (const at of paths ?? []) changed = change(at) || changed;
  return changed;
}

/** Set the effort (and remove what it supersedes); whether the body changed. */
function setEffort(body: Body, effort: NonNullable<CallFields["effort"]>, value: string): boolean {
  let changed = valueAt(body, effort.path) !== value && putAt(body, effort.path, value);
  for (const r of effort.replaces ?? []) if (valueAt(body, r) !== undefined) changed = putAt(body, r, undefined) || changed;
  return changed;
}

/** Clamp a numeric budget to `max`, then below the smallest numeric cap; whether it changed. */
function clampBudget(body: Body, at: Path, caps: readonly Path[], max: number | undefined): boolean {
  const budget = valueAt(body, at);
  if (typeof budget !== "number") return false;
  let b = max !== undefined && budget > max ? max : budget;
  for (const c of caps) {
    const cap = valueAt(body, c);
    if (typeof cap === "number" && b >= cap) b = Math.max(0, cap - 1);
  }
  if (b === budget) return false;
  putAt(body, at, b);
  return true;
}

/**
 * Lower the effort level at `at` to the highest whose budget is within `max` (the lowest,
 * `minimal`, when none is: a level cannot ask for less thinking short of none); whether it
 * changed. `none`, `auto` and names CLIProxyAPI does not know are left; the client's case is kept.
 */
function clampLevel(body: Body, at: Path, max: number): boolean {
  const level = valueAt(body, at);
  if (typeof level !== "string") return false;
  const budget = levelBudget(level);
  if (budget === undefined || budget <= max) return false;
  const fit = levelWithin(max);
  return putAt(body, at, level === level.toUpperCase() ? fit.toUpperCase() : fit);
}

/** The value at `path`, or undefined where the path leaves the objects. */
function valueAt(body: Body, path: Path): unknown {
  let v: unknown = body;
  for (const key of path) {
    const o = asObject(v);
    if (!o || !Object.hasOwn(o, key)) return undefined;
    v = o[key];
  }
  return v;
}

/**
 * Set the value at `path` (remove it when `value` is undefined), copying every object on the way
 * and making those missing (or null). False, and nothing changed, when the path passes through a
 * value that is no object: what the client meant there is not gw's to guess.
 */
function putAt(body: Body, path: Path, value: unknown): boolean {
  const [key, ...rest] = path as [string, ...string[]];
  if (rest.length === 0) {
    if (value === undefined) delete body[key];
    else body[key] = value;
    return true;
  }
  const current = body[key];
  if (current != null && !isObject(current)) return false;
  const child: Body = { ...current };
  if (!putAt(child, rest, value)) return false;
  body[key] = child;
  return true;
}
