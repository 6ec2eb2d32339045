// What the router reads from a request body (model-router.md "Factors"): the texts it looks at and
// the coarse classes it derives from them. Pure functions over the parsed body; the rules for what
// counts as text, and every keyword list, are the old LB's, so the same body gets the same class.
// The old LB read Anthropic and OpenAI chat bodies only; gw reads a Responses body (Codex) and a
// Gemini body (Gemini CLI) as the same conversation, so `auto` routes them by what they ask too.

type Json = Record<string, unknown>;

/** Longest last_user_text kept. */
const LAST_USER_TEXT_MAX = 2000;

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null;
const list = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);

/** Text of one content value: a string, or the strings, `text` and `input_text` of its blocks. */
function contentText(content: unknown, limit = Infinity): string {
  if (typeof content === "string") return content;
  let text = "";
  for (const block of list(content)) {
    if (typeof block === "string") text += block;
    else if (isObj(block)) {
      if (typeof block.text === "string") text += block.text;
      if (typeof block.input_text === "string") text += block.input_text;
    }
    if (text.length >= limit) break;
  }
  return text;
}

/** Characters of a content value's text (without building the string). */
function contentChars(content: unknown): number {
  if (typeof content === "string") return content.length;
  let n = 0;
  for (const block of list(content)) {
    if (typeof block === "string") n += block.length;
    else if (isObj(block)) {
      if (typeof block.text === "string") n += block.text.length;
      if (typeof block.input_text === "string") n += block.input_text.length;
    }
  }
  return n;
}

/**
 * The conversation as Anthropic / chat turns ({role, content}): `messages` as they are; a
 * Responses `input` (a string is one user turn; a tool call's output is a user turn without text,
 * as a tool_result is in Anthropic's shape); Gemini `contents` (`model` is the assistant, `parts`
 * the content blocks).
 */
function turns(body: Json | undefined): readonly unknown[] {
  if (Array.isArray(body?.messages)) return body.messages;
  const input = body?.input;
  if (typeof input === "string") return [{ role: "user", content: input }];
  if (Array.isArray(input)) return input.map(responsesTurn);
  return list(body?.contents).map((c) => (isObj(c) ? { role: c.role === "model" ? "assistant" : (c.role ?? "user"), content: c.parts } : c));
}

function responsesTurn(item: unknown): unknown {
  if (!isObj(item) || typeof item.role === "string") return item;
  return { role: typeof item.type === "string" && item.type.endsWith("_output") ? "user" : "assistant", content: [] };
}

/** OpenAI's `developer` role is its newer name for `system`. */
const isSystemRole = (role: unknown) => role === "system" || role === "developer";

/** The system prompt outside the turns: Anthropic `system`, Responses `instructions`, Gemini `systemInstruction`. */
function systemText(body: Json | undefined): string {
  const system = body?.system;
  if (typeof system === "string") return system;
  if (Array.isArray(system)) return contentText(system);
  if (typeof body?.instructions === "string") return body.instructions;
  const gemini = body?.systemInstruction ?? body?.system_instruction;
  return typeof gemini === "string" ? gemini : isObj(gemini) ? contentText(gemini.parts) : "";
}

/** System prompt plus the text of every turn. */
export function promptChars(body: Json | undefined): number {
  let n = systemText(body).length;
  for (const m of turns(body)) if (isObj(m)) n += contentChars(m.content);
  return n;
}

/** A non-blank system prompt, a non-empty system list, or a system-role message. */
export function hasSystemPrompt(body: Json | undefined): boolean {
  if (Array.isArray(body?.system) && body.system.length > 0) return true;
  if (systemText(body).trim()) return true;
  return turns(body).some((m) => isObj(m) && isSystemRole(m.role));
}

/** Text of the last user message, at most 2,000 characters ("" when it has none, e.g. only tool results). */
export function lastUserText(body: Json | undefined): string {
  const messages = turns(body);
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (!isObj(m) || m.role !== "user") continue;
    const c = m.content;
    if (typeof c !== "string" && !Array.isArray(c)) return "";
    return contentText(c, LAST_USER_TEXT_MAX).slice(0, LAST_USER_TEXT_MAX);
  }
  return "";
}

/**
 * The task a user text asks for: the first category whose keywords occur in it (as substrings,
 * any case; English and Chinese), else `quick` for a bare greeting or thanks, else `unknown`.
 */
const TASK_KEYWORDS: readonly (readonly [string, RegExp])[] = [
  ["architecture", /architect|system\s*design|scalability|technical\s*design|架构|系统设计|可扩展/i],
  ["code-review", /review|audit|refactor|rewrite|debug|root\s*cause|排查|根因|代码审查|重构/i],
  ["visual-coding", /frontend|ui|css|tailwind|responsive|animation|visual|前端|界面|样式|动画|视觉/i],
  ["coding", /implement|write|fix|add|create|modify|code|bug|patch|script|函数|代码|修复|实现/i],
  ["explore", /find|search|where|explain|what|how|lookup|research|trace|inspect|查找|搜索|解释|什么|如何/i],
  ["ops", /deploy|restart|build|test|run|release|ci\/?cd|运维|部署|发布|重启|构建/i],
];
const QUICK = /^(hi|hello|thanks|ok|hey|你好|谢谢|收到)$/;

export function taskCategory(text: string): string {
  if (!text.trim()) return "unknown";
  for (const [name, re] of TASK_KEYWORDS) if (re.test(text)) return name;
  return QUICK.test(text.trim().toLowerCase()) ? "quick" : "unknown";
}

/**
 * Tool names — `function.name`, `name`, `type` and Gemini's declarations of every tool, trimmed and lower-cased — one
 * per line, so that each kind's pattern runs once over all of them (`m`: ^ and $ per name).
 */
function toolNames(body: Json | undefined): string {
  const names: string[] = [];
  const add = (n: unknown) => {
    if (typeof n === "string" && n.trim()) names.push(n.trim().toLowerCase().replace(LINE_BREAK, " "));
  };
  for (const t of list(body?.tools)) {
    if (!isObj(t)) continue;
    add(isObj(t.function) ? t.function.name : undefined);
    add(t.name);
    add(t.type);
    for (const d of list(t.functionDeclarations ?? t.function_declarations)) if (isObj(d)) add(d.name); // Gemini
  }
  return names.join("\n");
}
const LINE_BREAK = /[\n\r\u2028\u2029]/g;

const TOOL_KINDS = {
  coding: /^(edit|write|notebookedit|apply_patch)$|update|create|insert|replace|code/m,
  read: /^(read|glob|grep|find)$|^search|list|query|fetch/m,
  explore: /^(task|websearch|webfetch)$|browse|crawl|research/m,
  ops: /^(bash|shell|terminal|exec_command|write_stdin)$|git|deploy|pm2/m,
} as const;

/** What the tools let the model do: coding, read (only without coding), explore, ops; several → multi; none → none. */
export function toolProfile(body: Json | undefined): string {
  const names = toolNames(body);
  if (!names) return "none";
  const coding = TOOL_KINDS.coding.test(names);
  const kinds = [
    coding && "coding",
    !coding && TOOL_KINDS.read.test(names) && "read",
    TOOL_KINDS.explore.test(names) && "explore",
    TOOL_KINDS.ops.test(names) && "ops",
  ].filter(Boolean) as string[];
  return kinds.length > 1 ? "multi" : (kinds[0] ?? "none");
}

const CODE_MARKER = /```|import\s+|require\s*\(|from\s+\S+\s+import|class\s+\w+|function\s+\w+|def\s+\w+/;
const CODE_WINDOW = 5;

/** A code marker (fence, import, require(, class X, function f, def f) in the text of the last 5 messages. */
export function hasCodeContext(body: Json | undefined): boolean {
  const messages = turns(body);
  for (let i = Math.max(0, messages.length - CODE_WINDOW); i < messages.length; i++) {
    const m = messages[i];
    if (!isObj(m)) continue;
    const text = contentText(m.content);
    if (text && CODE_MARKER.test(text)) return true;
  }
  return false;
}

const PLAN_MODE = /plan[ _]mode|enterplanmode/i;
const REVIEW = /review|audit/i;
const LONG_SYSTEM = 5000;
const SHORT_SYSTEM = 500;

/** Tags of the system prompt and of system-role messages: plan_mode, review, long, short. */
export function systemTags(body: Json | undefined): string[] {
  let text = systemText(body);
  for (const m of turns(body)) if (isObj(m) && isSystemRole(m.role)) text += contentText(m.content);
  if (!text) return [];
  // Case-insensitive searches instead of lower-casing the text first: the same answer (no other
  // character lower-cases to these letters) for a quarter of the cost on a 26 KB system prompt.
  const tags: string[] = [];
  if (PLAN_MODE.test(text)) tags.push("plan_mode");
  if (REVIEW.test(text)) tags.push("review");
  if (text.length > LONG_SYSTEM) tags.push("long");
  if (text.length <= SHORT_SYSTEM) tags.push("short");
  return tags;
}
