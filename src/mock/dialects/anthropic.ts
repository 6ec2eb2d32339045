// Anthropic Messages: POST /v1/messages (streamed like api.anthropic.com, which CLIProxyAPI's
// Claude executor passes through: message_start, content_block_start, ping, deltas,
// content_block_stop, message_delta, message_stop; a signed thinking block first when the request
// enables thinking or `think` asks; for `tool` a tool_use block whose input comes as
// input_json_delta pieces, stop_reason tool_use) and /v1/messages/count_tokens.

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

const toolUseId = (a: Answer) => mockId("toolu_", a);

/**
 * A tool call's input as the API streams it: an empty partial_json first, then the JSON in two
 * pieces (a client must join them before parsing).
 */
function inputDeltas(json: string, index: number): string[] {
  const half = Math.ceil(json.length / 2);
  return ["", json.slice(0, half), json.slice(half)]
    .filter((piece, i) => i === 0 || piece)
    .map((partial_json) => sse("content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json } }));
}

export const anthropic: Dialect = {
  errorBody: claudeErrorBody,
  emptyStream: "",
  json(a) {
    const thinking = a.thinking ? [{ type: "thinking", thinking: a.thinking.text, signature: a.thinking.signature }] : [];
    const answer = a.tool ? { type: "tool_use", id: toolUseId(a), name: a.tool.name, input: JSON.parse(a.tool.arguments) } : { type: "text", text: a.text };
    return JSON.stringify(message(a, [...thinking, answer], a.tool ? "tool_use" : "end_turn", a.outputTokens));
  },
  stream(a, error?: ErrorText) {
    const index = a.thinking ? 1 : 0;
    const blockStart = (i: number, block: object) => sse("content_block_start", { type: "content_block_start", index: i, content_block: block });
    const answerStart = a.tool ? blockStart(index, { type: "tool_use", id: toolUseId(a), name: a.tool.name, input: {} }) : blockStart(index, { type: "text", text: "" });
    const frames = [
      sse("message_start", { type: "message_start", message: message(a, [], null, 1) }),
      a.thinking ? blockStart(0, { type: "thinking", thinking: "", signature: "" }) : answerStart,
      sse("ping", { type: "ping" }),
      ...(a.thinking ? [...thinkingFrames(a.thinking), answerStart] : []),
      ...(a.tool ? inputDeltas(a.tool.arguments, index) : textDeltas(a.pieces, index)),
      sse("content_block_stop", { type: "content_block_stop", index }),
      sse("message_delta", {
        type: "message_delta",
        delta: { stop_reason: a.tool ? "tool_use" : "end_turn", stop_sequence: null },
        usage: { output_tokens: a.outputTokens },
      }),
      sse("message_stop", { type: "message_stop" }),
    ];
    return {
      frames,
      // A tool-first stream's empty input delta is handshake too: its content starts with the input.
      firstContent: a.tool && !a.thinking ? 4 : 3,
      errorFrame: error && `event: error\ndata: ${claudeErrorBody(error)}\n\n`,
    };
  },
};

export const countTokens = (a: Answer): string => JSON.stringify({ input_tokens: a.inputTokens });
