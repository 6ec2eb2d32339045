// Anthropic Messages: POST /v1/messages (streamed like api.anthropic.com: message_start,
// content_block_start, ping, deltas, content_block_stop, message_delta, message_stop; a signed
// thinking block first when the request enables thinking) and /v1/messages/count_tokens.

import { type Answer, mockId } from "../answer.ts";
import { claudeErrorBody, type ErrorText } from "../errors.ts";
import { type Dialect, sse } from "./types.ts";

function message(a: Answer, content: unknown[], stopReason: string | null, outputTokens: number) {
  return {
    id: mockId("msg_", a),
    type: "message",
    role: "assistant",
    model: a.model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: {
      input_tokens: a.inputTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: outputTokens,
    },
  };
}

/** Text deltas carry no per-request field: build them once per answer text and block index. */
const deltaFrames = [new WeakMap<readonly string[], readonly string[]>(), new WeakMap<readonly string[], readonly string[]>()];
function textDeltas(pieces: readonly string[], index: 0 | 1): readonly string[] {
  let frames = deltaFrames[index]!.get(pieces);
  if (!frames) {
    frames = pieces.map((text) => sse("content_block_delta", { type: "content_block_delta", index, delta: { type: "text_delta", text } }));
    deltaFrames[index]!.set(pieces, frames);
  }
  return frames;
}

function thinkingFrames(t: NonNullable<Answer["thinking"]>): string[] {
  const delta = (d: object) => sse("content_block_delta", { type: "content_block_delta", index: 0, delta: d });
  return [
    delta({ type: "thinking_delta", thinking: t.text }),
    delta({ type: "signature_delta", signature: t.signature }),
    sse("content_block_stop", { type: "content_block_stop", index: 0 }),
  ];
}

export const anthropic: Dialect = {
  errorBody: claudeErrorBody,
  emptyStream: "",
  json(a) {
    const text = { type: "text", text: a.text };
    const content = a.thinking ? [{ type: "thinking", thinking: a.thinking.text, signature: a.thinking.signature }, text] : [text];
    return JSON.stringify(message(a, content, "end_turn", a.outputTokens));
  },
  stream(a, error?: ErrorText) {
    const textIndex = a.thinking ? 1 : 0;
    const blockStart = (index: number, block: object) => sse("content_block_start", { type: "content_block_start", index, content_block: block });
    const frames = [
      sse("message_start", { type: "message_start", message: message(a, [], null, 1) }),
      a.thinking ? blockStart(0, { type: "thinking", thinking: "", signature: "" }) : blockStart(0, { type: "text", text: "" }),
      sse("ping", { type: "ping" }),
      ...(a.thinking ? [...thinkingFrames(a.thinking), blockStart(1, { type: "text", text: "" })] : []),
      ...textDeltas(a.pieces, textIndex),
      sse("content_block_stop", { type: "content_block_stop", index: textIndex }),
      sse("message_delta", {
        type: "message_delta",
        delta: { stop_reason: "end_turn", stop_sequence: null },
        usage: { output_tokens: a.outputTokens },
      }),
      sse("message_stop", { type: "message_stop" }),
    ];
    return {
      frames,
      firstContent: 3,
      errorFrame: error && `event: error\ndata: ${claudeErrorBody(error)}\n\n`,
    };
  },
};

export const countTokens = (a: Answer): string => JSON.stringify({ input_tokens: a.inputTokens });
