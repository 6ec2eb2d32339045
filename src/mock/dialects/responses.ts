// OpenAI Responses: POST /v1/responses (and /v1/responses/compact, never streamed). Streams are
// `event:` + `data:` frames from response.created to response.completed, every one with its
// sequence_number; CLIProxyAPI ends a finished stream with one more "\n" (its WriteDone).
// Errors on a streamed request go through the handler's own reduction first (responsesStreamText),
// and official Codex clients get `response.failed` where others get `error` inside a stream
// (openai_responses_handlers.go: isCodexResponsesClientRequest). The response object in
// response.created, response.in_progress, response.completed and the JSON answer echoes the
// request, as the Codex backend's does (codex-response.ts).

import { type Answer, mockId } from "../answer.ts";
import { baseErrorBody, type ErrorText, responsesFailedChunk, responsesStreamError, responsesStreamText } from "../errors.ts";
import { codexResponse } from "./codex-response.ts";
import { type Dialect, sse } from "./types.ts";

function response(a: Answer, done: boolean) {
  const part = { type: "output_text", text: a.text, annotations: [] };
  return codexResponse(a.request ?? {}, {
    id: mockId("resp_", a),
    createdAt: a.created,
    status: done ? "completed" : "in_progress",
    model: a.model,
    output: done ? [item(a, "completed", [part])] : [],
    usage: done
      ? {
          input_tokens: a.inputTokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: a.outputTokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: a.inputTokens + a.outputTokens,
        }
      : null,
  });
}

function item(a: Answer, status: string, content: unknown[]) {
  return { id: mockId("msg_", a), type: "message", status, role: "assistant", content };
}

/** The Responses dialect as CLIProxyAPI serves it to a Codex client (`codex`) or to any other. */
function responsesFor(codex: boolean): Dialect {
  return {
    errorBody: (e, stream) => baseErrorBody(stream ? responsesStreamText(e) : e),
    emptyStream: { status: 502, text: "upstream stream closed before first payload" },
    json: (a) => JSON.stringify(response(a, true)),
    stream(a, error?: ErrorText) {
      const itemId = mockId("msg_", a);
      const at = { item_id: itemId, output_index: 0, content_index: 0 };
      const part = { type: "output_text", text: a.text, annotations: [] };
      const events: [string, object][] = [
        ["response.created", { response: response(a, false) }],
        ["response.in_progress", { response: response(a, false) }],
        ["response.output_item.added", { output_index: 0, item: item(a, "in_progress", []) }],
        ["response.content_part.added", { ...at, part: { ...part, text: "" } }],
        ...a.pieces.map((delta): [string, object] => ["response.output_text.delta", { ...at, delta }]),
        ["response.output_text.done", { ...at, text: a.text }],
        ["response.content_part.done", { ...at, part }],
        ["response.output_item.done", { output_index: 0, item: item(a, "completed", [part]) }],
        ["response.completed", { response: response(a, true) }],
      ];
      const frames = events.map(([type, data], i) => sse(type, { type, sequence_number: i, ...data }));
      frames[frames.length - 1] += "\n";
      // CLIProxyAPI writes a blank line before its own error event.
      const errorFrame =
        error && (codex ? `\nevent: response.failed\ndata: ${responsesFailedChunk(error)}\n\n` : `\nevent: error\ndata: ${responsesStreamError(error)}\n\n`);
      return { frames, firstContent: 4, errorFrame };
    },
  };
}

export const responses = responsesFor(false);
export const responsesForCodex = responsesFor(true);

const CODEX_ORIGINATORS = ["codex desktop", "codex-tui", "codex_cli_rs"];

/** An official Codex client, by User-Agent or Originator (CLIProxyAPI's isCodexResponsesClientRequest). */
export function isCodexClient(headers: Headers): boolean {
  const ua = (headers.get("user-agent") ?? "").trim();
  if (ua.startsWith("Codex Desktop/") || ua.startsWith("codex-tui/") || ua === "codex_cli_rs" || ua.startsWith("codex_cli_rs/")) return true;
  const originator = (headers.get("originator") ?? "").trim().toLowerCase();
  return CODEX_ORIGINATORS.some((o) => originator === o || originator.startsWith(`${o}/`));
}
