// The Responses answer CLIProxyAPI's translators build for a model that is not Codex-served —
// from a Claude answer (claude_openai-responses_response.go), a Gemini or Antigravity one
// (gemini_openai-responses_response.go) or an OpenAI-compatible chat completion
// (openai_openai-responses_response.go). The three write a text answer's events alike: each
// template starts with type and sequence_number, numbered from 1 (their counter is incremented
// before its first use, where the Codex backend counts from 0); text parts, deltas and
// output_text.done carry `logprobs: []`; the message item is `msg_<response id>_<n>` and lists
// content before role. response.created is bare (id, object, created_at, status, background,
// error, output, model), response.in_progress barer still (no background, no error); only
// response.completed and the non-streamed JSON echo the request, and only the fields it had,
// coerced as gjson reads them (…String(), Int(), Bool(), Float(), Value()), in the translators'
// order. Every key sjson sets that the template lacks goes last, so the streamed object ends with
// output and usage after the echo; the non-streamed templates put them elsewhere. A reasoning item
// (`think`) goes first and a function_call item (`tool`) replaces the message (response-items.ts).

import { stripThinking } from "../catalog.ts";
import type { ToolCall } from "../tool-call.ts";
import type { Upstream } from "../upstream.ts";
import { goBool, goFloat, goInt, goString, goValue } from "./gjson-read.ts";
import { functionCallEvents, functionCallItem, reasoningEvents, reasoningItem, type Thinking } from "./response-items.ts";

type Obj = Readonly<Record<string, unknown>>;
type Translated = Exclude<Upstream, "codex">;

/** What the answer decides; the rest is the template and the echo. */
export interface TranslatedFacts {
  upstream: Translated;
  id: string;
  createdAt: number;
  /** The request's model as sent (RequestModelName): the name the instance registered. */
  model: string;
  /** The answer's text: one message item with one output_text part. */
  text: string;
  inputTokens: number;
  outputTokens: number;
  /** A reasoning item before the answer. */
  thinking?: Thinking;
  /** The answer is this call (function_call item `fc_<callId>`), not the text. */
  tool?: ToolCall;
  callId: string;
}

/**
 * The streamed events, each [type, data] with data's type and sequence_number first; `pieces` are
 * the text's deltas.
 */
export function translatedEvents(request: Obj, f: TranslatedFacts, pieces: readonly string[]): [string, object][] {
  const itemId = `msg_${f.id}_0`;
  const index = f.thinking ? 1 : 0;
  const at = { item_id: itemId, output_index: index, content_index: 0 };
  const text: [string, object][] = [
    ["response.output_item.added", { output_index: index, item: { id: itemId, type: "message", status: "in_progress", content: [], role: "assistant" } }],
    ["response.content_part.added", { ...at, part: textPart("") }],
    ...pieces.map((delta): [string, object] => ["response.output_text.delta", { ...at, delta, logprobs: [] }]),
    ["response.output_text.done", { ...at, text: f.text, logprobs: [] }],
    ["response.content_part.done", { ...at, part: textPart(f.text) }],
    ["response.output_item.done", { output_index: index, item: message(itemId, f.text) }],
  ];
  const events: [string, object][] = [
    ["response.created", { response: translatedCreated(f) }],
    ["response.in_progress", { response: translatedInProgress(f) }],
    ...(f.thinking ? reasoningEvents(reasoningId(f), 0, f.thinking, true) : []),
    ...(f.tool ? functionCallEvents(`fc_${f.callId}`, f.callId, index, f.tool) : text),
    ["response.completed", { response: translatedCompleted(request, f) }],
  ];
  return events.map(([type, data], i) => [type, { type, sequence_number: i + 1, ...data }]);
}

/** response.created's object. */
function translatedCreated(f: TranslatedFacts) {
  return { id: f.id, object: "response", created_at: f.createdAt, status: "in_progress", background: false, error: null, output: [], ...modelOf(f) };
}

/** response.in_progress's object: its template has no background and no error. */
function translatedInProgress(f: TranslatedFacts) {
  return { id: f.id, object: "response", created_at: f.createdAt, status: "in_progress", output: [], ...modelOf(f) };
}

/** response.completed's object: the original request's fields (pickRequestJSON), then output and usage. */
function translatedCompleted(request: Obj, f: TranslatedFacts) {
  const head = { id: f.id, object: "response", created_at: f.createdAt, status: "completed", background: false, error: null };
  return { ...head, ...echo(request), output: output(f, `msg_${f.id}_0`), usage: streamedUsage(f) };
}

/**
 * The non-streamed JSON. Claude's template holds output and usage before the echo; Gemini's and
 * OpenAI's add them after it. The OpenAI-compatible one echoes the request it sent upstream — the
 * Chat Completions translation (model, max_tokens, tools in chat form …), not the client's.
 */
export function translatedJson(request: Obj, f: TranslatedFacts) {
  const head = { id: f.id, object: "response", created_at: f.createdAt, status: "completed", background: false, error: null, incomplete_details: null };
  // Gemini's non-streamed item id drops the resp_ its response id gained; the others keep the id whole.
  const items = output(f, `msg_${f.upstream === "gemini" ? f.id.replace(/^resp_/, "") : f.id}_0`);
  if (f.upstream === "claude") return { ...head, output: items, usage: streamedUsage(f), ...echo(request) };
  if (f.upstream === "gemini") return { ...head, ...echo(request), output: items, usage: { ...bareUsage(f), output_tokens_details: { reasoning_tokens: reasoningTokens(f) } } };
  const { input_tokens, output_tokens, total_tokens } = bareUsage(f);
  // EnsureResponsesUsageDetails adds the details a chat usage lacks, after what is there.
  const usage = { input_tokens, output_tokens, total_tokens, output_tokens_details: { reasoning_tokens: reasoningTokens(f) }, input_tokens_details: { cached_tokens: 0 } };
  return { ...head, ...echo(chatRequest(request, stripThinking(f.model))), output: items, usage };
}

/**
 * Claude's and Gemini's translators set reasoning_tokens (0) before total_tokens; OpenAI's only
 * when there are some, and EnsureResponsesUsageDetails then adds it after total_tokens.
 */
function streamedUsage(f: TranslatedFacts) {
  const { input_tokens, input_tokens_details, output_tokens, total_tokens } = bareUsage(f);
  const output_tokens_details = { reasoning_tokens: reasoningTokens(f) };
  if (f.upstream === "openai") return { input_tokens, input_tokens_details, output_tokens, total_tokens, output_tokens_details };
  return { input_tokens, input_tokens_details, output_tokens, output_tokens_details, total_tokens };
}

const bareUsage = (f: TranslatedFacts) => ({
  input_tokens: f.inputTokens,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: f.outputTokens,
  total_tokens: f.inputTokens + f.outputTokens,
});

const textPart = (text: string) => ({ type: "output_text", annotations: [], logprobs: [], text });
const message = (id: string, text: string) => ({ id, type: "message", status: "completed", content: [textPart(text)], role: "assistant" });

/** The finished items: the reasoning, then the message (named `messageId`) or the call. */
function output(f: TranslatedFacts, messageId: string): unknown[] {
  const reasoning = f.thinking ? [reasoningItem(reasoningId(f), f.thinking)] : [];
  return [...reasoning, f.tool ? functionCallItem(`fc_${f.callId}`, f.callId, f.tool, "completed") : message(messageId, f.text)];
}

/** `rs_<response id>_<n>`: the thinking is the upstream's first block. */
const reasoningId = (f: TranslatedFacts) => `rs_${f.id}_0`;

/** Claude's translator estimates reasoning tokens from the thinking's length (a quarter); the others are told a count (the mock's: one). */
function reasoningTokens(f: TranslatedFacts): number {
  if (!f.thinking) return 0;
  return f.upstream === "claude" ? Math.floor(f.thinking.text.length / 4) : 1;
}

const modelOf = (f: TranslatedFacts) => (f.model ? { model: f.model } : {});

// --- internal ---

type Read = (v: unknown) => unknown;

/** The echoed fields, in the translators' order, each with the gjson accessor they read it by. */
const ECHOED: readonly [string, Read][] = [
  ["instructions", goString],
  ["max_output_tokens", goInt],
  ["max_tool_calls", goInt],
  ["model", goString],
  ["parallel_tool_calls", goBool],
  ["previous_response_id", goString],
  ["prompt_cache_key", goString],
  ["reasoning", goValue],
  ["safety_identifier", goString],
  ["service_tier", goString],
  ["store", goBool],
  ["temperature", goFloat],
  ["text", goValue],
  ["tool_choice", goValue],
  ["tools", goValue],
  ["top_logprobs", goInt],
  ["top_p", goFloat],
  ["truncation", goString],
  ["user", goValue],
  ["metadata", goValue],
];

function echo(request: Obj): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, read] of ECHOED) if (key in request && request[key] !== undefined) out[key] = read(request[key]);
  return out;
}

/**
 * The fields of the Chat Completions request CLIProxyAPI sends an OpenAI-compatible upstream
 * (ConvertOpenAIResponsesRequestToOpenAIChatCompletions) that its non-streamed answer echoes:
 * max_output_tokens comes back from max_tokens; tools, parallel_tool_calls and tool_choice only
 * with a tool it could convert; instructions, reasoning, text, temperature … not at all.
 */
function chatRequest(request: Obj, model: string): Obj {
  const out: Record<string, unknown> = { model };
  if ("max_output_tokens" in request) out.max_output_tokens = goInt(request.max_output_tokens);
  const tools = Array.isArray(request.tools) ? request.tools.flatMap(chatTool) : [];
  if (tools.length) {
    out.tools = tools;
    if ("parallel_tool_calls" in request) out.parallel_tool_calls = goBool(request.parallel_tool_calls);
    if ("tool_choice" in request) out.tool_choice = request.tool_choice;
  }
  return out;
}

/** A Responses function or custom tool in Chat Completions form (openai_openai-responses_tools.go); others are dropped. */
function chatTool(t: unknown): unknown[] {
  if (!t || typeof t !== "object") return [];
  const tool = t as Obj;
  const name = typeof tool.name === "string" ? tool.name.trim() : "";
  if (!name) return [];
  const description = typeof tool.description === "string" && tool.description ? { description: tool.description } : {};
  if (tool.type === "custom") {
    const parameters = { type: "object", properties: { input: { type: "string" } }, required: ["input"] };
    return [{ type: "function", function: { name, description: "", parameters, ...description } }];
  }
  if (tool.type !== "function") return [];
  return [{ type: "function", function: { name, description: "", parameters: tool.parameters ?? {}, ...description } }];
}
