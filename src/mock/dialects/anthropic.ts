// Anthropic Messages: POST /v1/messages (streamed like api.anthropic.com: message_start,
// content_block_start, ping, deltas, content_block_stop, message_delta, message_stop) and
// /v1/messages/count_tokens.

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

/** Delta frames carry no per-request field: build them once per answer text (pieces are cached). */
const deltaFrames = new WeakMap<readonly string[], readonly string[]>();
function deltas(pieces: readonly string[]): readonly string[] {
  let frames = deltaFrames.get(pieces);
  if (!frames) {
    frames = pieces.map((text) =>
      sse("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text } }),
    );
    deltaFrames.set(pieces, frames);
  }
  return frames;
}

export const anthropic: Dialect = {
  errorBody: claudeErrorBody,
  json: (a) => JSON.stringify(message(a, [{ type: "text", text: a.text }], "end_turn", a.outputTokens)),
  stream(a, error?: ErrorText) {
    const frames = [
      sse("message_start", { type: "message_start", message: message(a, [], null, 1) }),
      sse("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
      sse("ping", { type: "ping" }),
      ...deltas(a.pieces),
      sse("content_block_stop", { type: "content_block_stop", index: 0 }),
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
      errorFrame: error && (() => `event: error\ndata: ${claudeErrorBody(error)}\n\n`),
    };
  },
};

export const countTokens = (a: Answer): string => JSON.stringify({ input_tokens: a.inputTokens });
