// OpenAI Chat Completions: POST /v1/chat/completions. Streams are `data:` chunks, a final chunk
// with finish_reason, a usage chunk with empty choices, then `data: [DONE]`. Thinking (`think`)
// comes as reasoning_content deltas and a tool call (`tool`) as tool_calls deltas, with
// finish_reason tool_calls, as the CLIProxyAPI translator of the model's executor family
// (upstream.ts) writes them:
// - Codex (codex_openai_response.go): the thought ends in a "\n\n" delta (reasoning_summary_text.done);
//   the call's id, type and name first (output_item.added), then its arguments (function_call_arguments.delta);
// - Claude (claude_openai_response.go): the call whole in one chunk once its block ends (the
//   input_json_delta pieces are gathered, nothing is sent at the block's start), its id Claude's toolu_…;
// - Gemini (gemini_openai_response.go): the call whole, as Gemini's functionCall part is, its id NAME-<ns>-<n>.

import { type Answer, mockId } from "../answer.ts";
import { baseErrorBody, type ErrorText } from "../errors.ts";
import { type Dialect, sseData } from "./types.ts";

/** The thought counts in the completion, and again as its reasoning_tokens (the translator copies Codex's output_tokens_details). */
const usage = (a: Answer) => ({
  prompt_tokens: a.inputTokens,
  completion_tokens: a.outputTokens,
  total_tokens: a.inputTokens + a.outputTokens,
  ...(a.thinking ? { completion_tokens_details: { reasoning_tokens: 1 } } : {}),
});

/** The call's id as the translator gives it. */
function callId(a: Answer): string {
  if (a.upstream === "claude") return mockId("toolu_", a);
  if (a.upstream === "gemini") return `${a.tool?.name}-${a.created}000000000-${a.seq}`;
  return mockId("call_", a);
}

/** Whether the call is named in a chunk of its own before its arguments (Codex's; Claude's and Gemini's come whole). */
const namedFirst = (a: Answer) => a.upstream !== "claude" && a.upstream !== "gemini";

function message(a: Answer) {
  const reasoning = a.thinking ? { reasoning_content: a.thinking.text } : {};
  if (!a.tool) return { role: "assistant", content: a.text, ...reasoning };
  const call = { id: callId(a), type: "function", function: { name: a.tool.name, arguments: a.tool.arguments } };
  return { role: "assistant", content: null, ...reasoning, tool_calls: [call] };
}

/** The deltas between the opening chunk and the finish: reasoning, then the text or the tool call. */
function deltas(a: Answer): object[] {
  const thought = a.thinking ? (a.upstream === "codex" ? [a.thinking.text, "\n\n"] : [a.thinking.text]) : [];
  const thinking = thought.map((reasoning_content) => ({ role: "assistant", reasoning_content }));
  if (!a.tool) return [...thinking, ...a.pieces.map((content) => ({ content }))];
  const call = (args: string) => ({ index: 0, id: callId(a), type: "function", function: { name: a.tool!.name, arguments: args } });
  if (!namedFirst(a)) return [...thinking, { tool_calls: [call(a.tool.arguments)] }];
  const args = { index: 0, function: { arguments: a.tool.arguments } };
  return [...thinking, { role: "assistant", tool_calls: [call("")] }, { tool_calls: [args] }];
}

export const openaiChat: Dialect = {
  errorBody: baseErrorBody,
  emptyStream: "data: [DONE]\n\n",
  json: (a) =>
    JSON.stringify({
      id: mockId("chatcmpl-", a),
      object: "chat.completion",
      created: a.created,
      model: a.model,
      choices: [{ index: 0, message: message(a), finish_reason: a.tool ? "tool_calls" : "stop" }],
      usage: usage(a),
    }),
  stream(a, error?: ErrorText) {
    const head = { id: mockId("chatcmpl-", a), object: "chat.completion.chunk", created: a.created, model: a.model };
    const chunk = (delta: object, finish: string | null) =>
      sseData({ ...head, choices: [{ index: 0, delta, finish_reason: finish }] });
    const frames = [
      chunk({ role: "assistant", content: "" }, null),
      ...deltas(a).map((delta) => chunk(delta, null)),
      chunk({}, a.tool ? "tool_calls" : "stop"),
      sseData({ ...head, choices: [], usage: usage(a) }),
      "data: [DONE]\n\n",
    ];
    return { frames, firstContent: 1, errorFrame: error && `data: ${baseErrorBody(error)}\n\n` };
  },
};
