// The later old format's `auto` router (model-router.md's example, filled out): three routes on
// two instances, categories, rules with `when` conditions, a default model and two activation
// models. Shared by the unit, end-to-end and explain tests, so all three judge the same file.

/** `[global.lb_model_router]` and its tables; `shadow` turns on shadow_only. */
export function routerTable(o: { shadow?: boolean; enabled?: boolean } = {}): string {
  return `
[global.lb_model_router]
enabled = ${o.enabled ?? true}
shadow_only = ${o.shadow ?? false}
activation_models = ["auto", "auto-canary"]
default_model = "M2.5"
log_factors = true

[[global.lb_model_router.categories]]
name = "architecture"
priority = 500
target_model = "opus4.6"
signals = ["task_category:architecture", "system_prompt_type:plan_mode"]

[[global.lb_model_router.categories]]
name = "coding"
priority = 300
target_model = "sonnet4.6"
signals = ["task_category:coding", "has_code_context:true", "tool_profile:coding"]

[[global.lb_model_router.categories]]
name = "quick"
priority = 100
target_model = "M2.5"
signals = ["task_category:quick", "keyword:^(yes|no|continue)\\\\b"]

[[global.lb_model_router.rules]]
name = "high_complexity"
priority = 400
target_model = "opus4.6"
match = "any"
[[global.lb_model_router.rules.when]]
field = "messages_count"
op = ">="
value = 50
[[global.lb_model_router.rules.when]]
field = "prompt_chars"
op = ">="
value = "200000"

[[global.lb_model_router.rules]]
name = "canary"
priority = 450
target_model = "sonnet4.6"
[[global.lb_model_router.rules.when]]
field = "requested_model"
op = "=="
value = "auto-canary"

[[global.lb_model_router.rules]]
name = "struggling"
priority = 350
target_model = "opus4.6"
[[global.lb_model_router.rules.when]]
field = "failure_streak"
op = ">="
value = 2
`;
}

/** The routes the router names, each on one instance. */
export const ROUTER_ROUTES = `
"M2.5" = [{ instance = "cheap", provider = "anthropic", model = "minimax-m2.5" }]
"sonnet4.6" = [{ instance = "strong", provider = "anthropic", model = "claude-sonnet-4-6" }]
"opus4.6" = [{ instance = "strong", provider = "anthropic", model = "claude-opus-4-6" }]
`;

type Msg = { role: "user" | "assistant"; content: unknown };

/** An Anthropic body for `model` whose last user turn says `text`, after `history` turns. */
export function body(model: string, text: string, o: { history?: number; tools?: string[]; system?: string } = {}): Record<string, unknown> {
  const messages: Msg[] = [];
  for (let i = 0; i < (o.history ?? 0); i++) messages.push({ role: i % 2 === 0 ? "user" : "assistant", content: `turn ${i}` });
  if (messages.length % 2 === 1) messages.push({ role: "assistant", content: "ok." });
  messages.push({ role: "user", content: [{ type: "text", text }] });
  const b: Record<string, unknown> = { model, max_tokens: 1024, messages };
  if (o.tools) b.tools = o.tools.map((name) => ({ name, description: name, input_schema: { type: "object", properties: {} } }));
  if (o.system) b.system = o.system;
  return b;
}

/**
 * The documented decisions: [what, body, decision, route]. Texts are chosen against the old
 * classifier, which matches keywords as substrings ("ui" in "build" is visual-coding).
 */
export const DECISIONS: readonly (readonly [string, Record<string, unknown>, string, string])[] = [
  ["a coding ask", body("auto", "Implement a tokenizer for the config language"), "category_hit_coding", "sonnet4.6"],
  ["code in the conversation", body("auto", "Look at this:\n```\nlet x = 1\n```"), "category_hit_coding", "sonnet4.6"],
  ["an editing tool set", body("auto", "go on", { tools: ["Edit", "Read"] }), "category_hit_coding", "sonnet4.6"],
  ["architecture first (priority 500)", body("auto", "Propose a system design for sharding, then implement it"), "category_hit_architecture", "opus4.6"],
  ["plan mode in the system prompt", body("auto", "go on", { system: "You are in plan mode. Think first." }), "category_hit_architecture", "opus4.6"],
  ["a greeting", body("auto", "hi"), "category_hit_quick", "M2.5"],
  ["a keyword signal", body("auto", "continue please"), "category_hit_quick", "M2.5"],
  ["a long conversation, no category", body("auto", "go on", { history: 60 }), "rule_hit_high_complexity", "opus4.6"],
  ["nothing matches: the default model", body("auto", "tell me a joke"), "default_model", "M2.5"],
  ["the canary activates too", body("auto-canary", "Implement the parser"), "category_hit_coding", "sonnet4.6"],
  ["the canary's own rule, where no category matched", body("auto-canary", "tell me a joke"), "rule_hit_canary", "sonnet4.6"],
];
