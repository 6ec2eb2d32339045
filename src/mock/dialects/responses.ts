// OpenAI Responses: POST /v1/responses (and the errors of /v1/responses/compact, whose answer is
// compaction.ts's). Streams are
// `event:` + `data:` frames from response.created to response.completed, every one with its
// sequence_number (from 0 as the Codex backend numbers them, from 1 as CLIProxyAPI's translators
// do; translated-response.ts has their other details); CLIProxyAPI ends a finished stream with one more "\n" (its WriteDone).
// Errors on a streamed request go through the handler's own reduction first (responsesStreamText),
// and official Codex clients get `response.failed` where others get `error` inside a stream
// (openai_responses_handlers.go: isCodexResponsesClientRequest). The response object in
// response.created, response.in_progress, response.completed and the JSON answer is the one of
// the executor family serving the model (upstream.ts): the Codex backend's, echoing the request
// everywhere (codex-response.ts), or a translator's, echoing it at the end (translated-response.ts).

import { type Answer, mockId } from "../answer.ts";
import { baseErrorBody, type ErrorText, responsesFailedChunk, responsesStreamError, responsesStreamText } from "../errors.ts";
import { codexResponse } from "./codex-response.ts";
import { firstDelta, functionCallEvents, functionCallItem, reasoningEvents, reasoningItem } from "./response-items.ts";
import { type TranslatedFacts, translatedEvents, translatedJson } from "./translated-response.ts";
import { type Dialect, sse } from "./types.ts";

type Stage = "created" | "in_progress" | "completed" | "json";

/** The Codex backend's response object at each stage, echoing the request at every one. */
function codexObject(a: Answer, stage: Stage) {
  const done = stage === "completed" || stage === "json";
  return codexResponse(a.request ?? {}, {
    id: mockId("resp_", a),
    createdAt: a.created,
    status: done ? "completed" : "in_progress",
    model: a.model,
    output: done ? codexOutput(a) : [],
    usage: done
      ? {
          input_tokens: a.inputTokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: a.outputTokens,
          output_tokens_details: { reasoning_tokens: a.thinking ? 1 : 0 },
          total_tokens: a.inputTokens + a.outputTokens,
        }
      : null,
  });
}

/** What a translator's answer takes from the mock's (the rest is its template and the echo). */
function translatedFacts(a: Answer, upstream: TranslatedFacts["upstream"]): TranslatedFacts {
  const model = a.request?.model;
  return {
    upstream,
    id: translatedId(a),
    createdAt: a.created,
    model: typeof model === "string" && model.trim() ? model : a.model,
    text: a.text,
    inputTokens: a.inputTokens,
    outputTokens: a.outputTokens,
    thinking: a.thinking,
    tool: a.tool,
    // A translated call keeps its upstream's id: Claude's tool_use id, else a call id.
    callId: mockId(upstream === "claude" ? "toolu_" : "call_", a),
  };
}

/** The Codex backend's events as CLIProxyAPI passes them on: numbered from 0. */
function codexEvents(a: Answer): [string, object][] {
  const itemId = mockId("msg_", a);
  const index = a.thinking ? 1 : 0;
  const at = { item_id: itemId, output_index: index, content_index: 0 };
  const part = { type: "output_text", text: a.text, annotations: [] };
  const text: [string, object][] = [
    ["response.output_item.added", { output_index: index, item: item(a, "in_progress", []) }],
    ["response.content_part.added", { ...at, part: { ...part, text: "" } }],
    ...a.pieces.map((delta): [string, object] => ["response.output_text.delta", { ...at, delta }]),
    ["response.output_text.done", { ...at, text: a.text }],
    ["response.content_part.done", { ...at, part }],
    ["response.output_item.done", { output_index: index, item: item(a, "completed", [part]) }],
  ];
  const events: [string, object][] = [
    ["response.created", { response: codexObject(a, "created") }],
    ["response.in_progress", { response: codexObject(a, "in_progress") }],
    ...(a.thinking ? reasoningEvents(mockId("rs_", a), 0, a.thinking, false) : []),
    ...(a.tool ? functionCallEvents(mockId("fc_", a), mockId("call_", a), index, a.tool) : text),
    ["response.completed", { response: codexObject(a, "completed") }],
  ];
  return events.map(([type, data], i) => [type, { type, sequence_number: i, ...data }]);
}

/** The finished items: the reasoning, then the message or the call. */
function codexOutput(a: Answer): unknown[] {
  const reasoning = a.thinking ? [reasoningItem(mockId("rs_", a), a.thinking)] : [];
  const part = { type: "output_text", text: a.text, annotations: [] };
  return [...reasoning, a.tool ? functionCallItem(mockId("fc_", a), mockId("call_", a), a.tool, "completed") : item(a, "completed", [part])];
}

/**
 * A translated response keeps its upstream's id: the Claude message's (msg_…), Gemini's
 * responseId behind resp_, the chat completion's (chatcmpl-…) — as the mock's own dialects name them.
 */
function translatedId(a: Answer): string {
  if (a.upstream === "claude") return mockId("msg_", a);
  if (a.upstream === "gemini") return `resp_mock${a.seq.toString(36)}`;
  return mockId("chatcmpl-", a);
}

function item(a: Answer, status: string, content: unknown[]) {
  return { id: mockId("msg_", a), type: "message", status, role: "assistant", content };
}

/** The Responses dialect as CLIProxyAPI serves it to a Codex client (`codex`) or to any other. */
function responsesFor(codex: boolean): Dialect {
  return {
    errorBody: (e, stream) => baseErrorBody(stream ? responsesStreamText(e) : e),
    emptyStream: { status: 502, text: "upstream stream closed before first payload" },
    json: (a) => JSON.stringify(a.upstream === "codex" ? codexObject(a, "json") : translatedJson(a.request ?? {}, translatedFacts(a, a.upstream))),
    stream(a, error?: ErrorText) {
      const events = a.upstream === "codex" ? codexEvents(a) : translatedEvents(a.request ?? {}, translatedFacts(a, a.upstream), a.pieces);
      const frames = events.map(([type, data]) => sse(type, data));
      frames[frames.length - 1] += "\n";
      // CLIProxyAPI writes a blank line before its own error event.
      const errorFrame =
        error && (codex ? `\nevent: response.failed\ndata: ${responsesFailedChunk(error)}\n\n` : `\nevent: error\ndata: ${responsesStreamError(error)}\n\n`);
      return { frames, firstContent: firstDelta(events), errorFrame };
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
