// OpenAI Chat Completions: POST /v1/chat/completions. Streams are `data:` chunks, a final chunk
// with finish_reason, a usage chunk with empty choices, then `data: [DONE]`.

import { type Answer, mockId } from "../answer.ts";
import { baseErrorBody, type ErrorText } from "../errors.ts";
import { type Dialect, sseData } from "./types.ts";

const usage = (a: Answer) => ({
  prompt_tokens: a.inputTokens,
  completion_tokens: a.outputTokens,
  total_tokens: a.inputTokens + a.outputTokens,
});

export const openaiChat: Dialect = {
  errorBody: baseErrorBody,
  emptyStream: "data: [DONE]\n\n",
  json: (a) =>
    JSON.stringify({
      id: mockId("chatcmpl-", a),
      object: "chat.completion",
      created: a.created,
      model: a.model,
      choices: [{ index: 0, message: { role: "assistant", content: a.text }, finish_reason: "stop" }],
      usage: usage(a),
    }),
  stream(a, error?: ErrorText) {
    const head = { id: mockId("chatcmpl-", a), object: "chat.completion.chunk", created: a.created, model: a.model };
    const chunk = (delta: object, finish: string | null) =>
      sseData({ ...head, choices: [{ index: 0, delta, finish_reason: finish }] });
    const frames = [
      chunk({ role: "assistant", content: "" }, null),
      ...a.pieces.map((content) => chunk({ content }, null)),
      chunk({}, "stop"),
      sseData({ ...head, choices: [], usage: usage(a) }),
      "data: [DONE]\n\n",
    ];
    return { frames, firstContent: 1, errorFrame: error && `data: ${baseErrorBody(error)}\n\n` };
  },
};
