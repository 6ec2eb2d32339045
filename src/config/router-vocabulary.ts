// The words of `[global.lb_model_router]` (model-router.md): factor names, their possible values,
// signal types and condition ops. The loader checks a file against them; the router computes them.

/** Every factor a rule condition may name (aliases included). */
export const FACTORS = [
  "requested_model",
  "messages_count",
  "conversation_depth",
  "tools_count",
  "prompt_chars",
  "has_thinking_signature",
  "has_system_prompt",
  "failure_streak",
  "success_streak",
  "last_user_text",
  "task_category",
  "tool_profile",
  "has_code_context",
  "system_prompt_type",
  "system_tag",
  "system_prompt_tags",
] as const;
export type FactorName = (typeof FACTORS)[number];

/** task_category values, in the order the classifier tries them (then quick, then unknown). */
export const TASK_CATEGORIES = ["architecture", "code-review", "visual-coding", "coding", "explore", "ops", "quick", "unknown"] as const;
export const TOOL_PROFILES = ["coding", "read", "explore", "ops", "multi", "none"] as const;
export const SYSTEM_TAGS = ["plan_mode", "review", "long", "short"] as const;

export const SIGNAL_TYPES = [
  "keyword",
  "task_category",
  "tool_profile",
  "has_code_context",
  "system_prompt_type",
  "system_tag",
  "messages_count",
  "prompt_chars",
  "conversation_depth",
] as const;

export const COMPARE_OPS = ["<=", ">=", "==", "!=", "<", ">"] as const;
export const CONDITION_OPS = ["==", "!=", ">", ">=", "<", "<=", "in", "not_in", "contains", "not_contains", "exists", "not_exists", "regex"] as const;
/** Ops that compare numbers: a value that is no number never matches. */
export const NUMERIC_OPS: readonly string[] = [">", ">=", "<", "<="];
