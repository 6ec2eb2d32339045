// The router's factors and rule conditions as the old LB computed them: what counts as text,
// the classifiers' keyword lists (substring matches, so "build" has "ui" in it), and each op's
// treatment of missing fields, loose scalars and non-numbers.
import { describe, expect, test } from "bun:test";
import type { RouterCondition } from "../../../src/config/types.ts";
import { hasCodeContext, hasSystemPrompt, lastUserText, promptChars, systemTags, taskCategory, toolProfile } from "../../../src/lb/router/classify.ts";
import { checkCondition } from "../../../src/lb/router/evaluate.ts";
import { Factors } from "../../../src/lb/router/factors.ts";

const CLAUDE_CODE_TOOLS = ["Task", "Bash", "Glob", "Grep", "Read", "Edit", "MultiEdit", "Write", "NotebookEdit", "WebFetch", "TodoWrite", "WebSearch"];
const tools = (...names: string[]) => ({ tools: names.map((name) => ({ name })) });

describe("task_category", () => {
  const CASES: [string, string][] = [
    ["Sketch the architecture of the queue", "architecture"],
    ["我们需要一个系统设计", "architecture"],
    ["please review this diff", "code-review"],
    ["Find the root cause", "code-review"],
    ["make the button responsive", "visual-coding"],
    ["build it", "visual-coding"], // "ui" in "build": the old classifier matches substrings
    ["add a flag", "coding"],
    ["修复这个问题", "coding"],
    ["where is the config read?", "explore"],
    ["deploy to staging", "ops"],
    ["set up ci/cd", "ops"],
    ["  Thanks ", "quick"],
    ["ok", "quick"],
    ["ok then", "unknown"],
    ["", "unknown"],
    ["   ", "unknown"],
  ];
  for (const [text, category] of CASES) test(`${JSON.stringify(text)} → ${category}`, () => expect(taskCategory(text)).toBe(category));
});

describe("the same conversation in every dialect gets the same factors", () => {
  // A plan-mode system prompt, an earlier turn with code, a tool call and its output, then the ask.
  const SYSTEM = "You are in plan mode.";
  const ASK = "Now implement the parser";
  const CODE = "```\nlet x = 1\n```";
  const DIALECTS: Record<string, Record<string, unknown>> = {
    anthropic: {
      system: SYSTEM,
      messages: [
        { role: "user", content: CODE },
        { role: "assistant", content: [{ type: "tool_use", id: "t", name: "Edit", input: {} }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: "done" }, { type: "text", text: ASK }] },
      ],
      tools: [{ name: "Edit" }],
    },
    "openai chat": {
      messages: [
        { role: "system", content: [{ type: "text", text: SYSTEM }] },
        { role: "user", content: CODE },
        { role: "assistant", content: null, tool_calls: [{ id: "t", type: "function", function: { name: "edit", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "t", content: "done" },
        { role: "user", content: ASK },
      ],
      tools: [{ type: "function", function: { name: "edit" } }],
    },
    responses: {
      instructions: SYSTEM,
      input: [
        { role: "user", content: [{ type: "input_text", text: CODE }] },
        { type: "function_call", call_id: "t", name: "edit", arguments: "{}" },
        { type: "function_call_output", call_id: "t", output: "done" },
        { type: "message", role: "user", content: [{ type: "input_text", text: ASK }] },
      ],
      tools: [{ type: "function", name: "edit" }],
    },
    gemini: {
      systemInstruction: { parts: [{ text: SYSTEM }] },
      contents: [
        { role: "user", parts: [{ text: CODE }] },
        { role: "model", parts: [{ functionCall: { name: "edit", args: {} } }] },
        { role: "user", parts: [{ functionResponse: { name: "edit", response: {} } }] },
        { role: "user", parts: [{ text: ASK }] },
      ],
      tools: [{ functionDeclarations: [{ name: "edit" }] }],
    },
  };
  for (const [dialect, b] of Object.entries(DIALECTS)) {
    test(dialect, () => {
      expect(lastUserText(b)).toBe(ASK);
      expect(taskCategory(lastUserText(b))).toBe("coding");
      expect(promptChars(b)).toBe(SYSTEM.length + CODE.length + ASK.length + (dialect === "openai chat" ? "done".length : 0)); // a chat tool message's content is text
      expect(systemTags(b)).toEqual(["plan_mode", "short"]);
      expect(hasSystemPrompt(b)).toBe(true);
      expect(hasCodeContext(b)).toBe(true);
      expect(toolProfile(b)).toBe("coding");
    });
  }
  test("a Responses input that is one string is the user's turn", () => {
    expect(lastUserText({ input: "fix the flaky test" })).toBe("fix the flaky test");
  });
  test("OpenAI's developer role is a system prompt", () => {
    const b = { messages: [{ role: "developer", content: "Review every change." }, { role: "user", content: "go" }] };
    expect(hasSystemPrompt(b)).toBe(true);
    expect(systemTags(b)).toEqual(["review", "short"]);
  });
});

describe("tool_profile", () => {
  test("Claude Code's tool set edits, explores and runs commands: multi", () => expect(toolProfile(tools(...CLAUDE_CODE_TOOLS))).toBe("multi"));
  test("read counts only without coding", () => {
    expect(toolProfile(tools("Read", "Glob", "Grep"))).toBe("read");
    expect(toolProfile(tools("Read", "Edit"))).toBe("coding");
  });
  test("OpenAI function names and tool types count", () => {
    expect(toolProfile({ tools: [{ type: "function", function: { name: "exec_command" } }] })).toBe("ops");
    expect(toolProfile({ tools: [{ type: "websearch" }] })).toBe("explore");
  });
  test("none without tools", () => expect(toolProfile({})).toBe("none"));
});

describe("texts", () => {
  const conv = {
    system: [{ type: "text", text: "You are helpful." }, "Stay in plan mode."],
    messages: [
      { role: "user", content: "first" },
      { role: "assistant", content: [{ type: "text", text: "sure" }, { type: "tool_use", id: "t", name: "Read", input: {} }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: "import os" }, { type: "text", text: "what now?" }] },
    ],
  };
  test("last_user_text joins the text blocks of the last user message, at most 2,000 characters", () => {
    expect(lastUserText(conv)).toBe("what now?");
    expect(lastUserText({ messages: [{ role: "user", content: "x".repeat(3000) }] })).toHaveLength(2000);
    expect(lastUserText({ messages: [{ role: "user", content: [{ type: "tool_result", content: "out" }] }] })).toBe("");
  });
  test("prompt_chars: system texts and every message's text blocks (tool use and results not counted)", () => {
    expect(promptChars(conv)).toBe("You are helpful.".length + "Stay in plan mode.".length + "first".length + "sure".length + "what now?".length);
  });
  test("has_code_context looks at text, not tool results", () => {
    expect(hasCodeContext(conv)).toBe(false);
    expect(hasCodeContext({ messages: [{ role: "user", content: "def main():" }] })).toBe(true);
    // Only the last five messages count.
    const old = [{ role: "user", content: "```js" }, ...Array.from({ length: 5 }, () => ({ role: "user", content: "plain" }))];
    expect(hasCodeContext({ messages: old })).toBe(false);
  });
  test("system tags and has_system_prompt", () => {
    expect(systemTags(conv)).toEqual(["plan_mode", "short"]);
    expect(systemTags({ system: "Review carefully. ".repeat(300) })).toEqual(["review", "long"]);
    expect(systemTags({})).toEqual([]);
    expect(hasSystemPrompt({ system: "  " })).toBe(false);
    expect(hasSystemPrompt({ messages: [{ role: "system", content: "be brief" }] })).toBe(true);
  });
});

describe("conditions", () => {
  const f = new Factors({ messages: [{ role: "user", content: "Implement it" }], tools: [{ name: "Edit" }] }, "auto", false, { failure: 0, success: 3 });
  const check = (field: string | undefined, op: string, value: unknown) => {
    const c: RouterCondition = { field, op, value, ...(op === "regex" && typeof value === "string" ? { re: new RegExp(value) } : {}) };
    return checkCondition(c, f);
  };
  const CASES: [string | undefined, string, unknown, boolean, string?][] = [
    ["messages_count", "==", "1", true],
    ["messages_count", ">", "0.5", true],
    ["task_category", ">", 1, false, "non_numeric_compare"],
    ["has_code_context", "==", "False", true],
    ["tool_profile", "in", ["read", "coding"], true],
    ["tool_profile", "not_in", "coding", false],
    ["system_prompt_type", "contains", "review", false],
    ["last_user_text", "contains", "Implement", true],
    ["last_user_text", "regex", "^impl", false], // regex conditions are case-sensitive, as in the old LB
    ["last_user_text", "regex", 3, false, "regex_pattern_not_string"],
    ["nope", "!=", 1, true], // a missing field counts as different
    ["nope", "==", 1, false],
    ["nope", "not_exists", undefined, true],
    ["success_streak", ">=", 3, true],
    [undefined, "==", 1, false, "missing_field_name"],
    ["tools_count", "like", 1, false, "unsupported_op"],
  ];
  for (const [field, op, value, matched, reason] of CASES) {
    test(`${field} ${op} ${JSON.stringify(value)} → ${matched}${reason ? ` (${reason})` : ""}`, () => {
      const t = check(field, op, value);
      expect(t.matched).toBe(matched);
      expect(t.reason).toBe(reason as never);
    });
  }
  test("a regex that did not compile never matches", () => {
    expect(checkCondition({ field: "last_user_text", op: "regex", value: "[", re: null }, f)).toMatchObject({ matched: false, reason: "invalid_regex" });
  });
  test("factors are computed on first use only", () => {
    let asked = 0;
    const body = {
      get messages() {
        asked++;
        return [];
      },
    };
    const lazy = new Factors(body, "auto", false, { failure: 1, success: 0 });
    expect(lazy.get("failure_streak")).toBe(1);
    expect(asked).toBe(0);
    expect(lazy.get("messages_count")).toBe(0);
    const reads = asked;
    expect(reads).toBeGreaterThan(0);
    expect(lazy.get("conversation_depth")).toBe(0); // an alias: the same value, not read again
    expect(asked).toBe(reads);
  });
});
