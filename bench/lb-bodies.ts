// Request bodies for bench/lb.ts: a small chat turn (~1.5 KB) and a Claude-Code-like request
// (~90 KB: 25 tools, long system prompt, stream true), both for the route "claude-bench".

export interface Body {
  readonly name: "small" | "large";
  readonly text: string;
}

const sentence = "Read the file, check the tests, and explain what the function does before changing it. ";

function small(): string {
  return JSON.stringify({
    model: "claude-bench",
    max_tokens: 1024,
    stream: false,
    system: "You are a concise assistant.",
    messages: [
      { role: "user", content: sentence.repeat(8) },
      { role: "assistant", content: "Understood. ".repeat(10) },
      { role: "user", content: sentence.repeat(5) },
    ],
  });
}

function tool(i: number) {
  return {
    name: `Tool${i}`,
    description: `Tool number ${i}. ${sentence.repeat(24)}`,
    input_schema: {
      type: "object",
      properties: {
        path: { type: "string", description: "Absolute path of the file to operate on." },
        pattern: { type: "string", description: "A regular expression; ripgrep syntax." },
        limit: { type: "number", description: "How many lines to read at most." },
        options: { type: "object", properties: { recursive: { type: "boolean" }, hidden: { type: "boolean" } } },
      },
      required: ["path"],
      additionalProperties: false,
    },
  };
}

function large(): string {
  const sessionId = "0b0f5c8e-5d3a-4c4e-9d1e-3f1f2a6b7c8d";
  return JSON.stringify({
    model: "claude-bench",
    max_tokens: 32000,
    stream: true,
    thinking: { type: "adaptive" },
    output_config: { effort: "high" },
    context_management: { edits: [{ type: "clear_thinking_20251015", keep: "all" }] },
    metadata: { user_id: JSON.stringify({ device_id: "d".repeat(64), account_uuid: "", session_id: sessionId }) },
    system: [
      { type: "text", text: "You are Claude Code, Anthropic's official CLI for Claude." },
      { type: "text", text: sentence.repeat(290), cache_control: { type: "ephemeral" } },
    ],
    tools: Array.from({ length: 25 }, (_, i) => tool(i)),
    messages: [{ role: "user", content: [{ type: "text", text: "say hi" }] }],
  });
}

export const BODIES: readonly Body[] = [
  { name: "small", text: small() },
  { name: "large", text: large() },
];
