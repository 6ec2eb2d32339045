// The opening of an event stream, held back until its first content event. CLIProxyAPI answers 200
// with the first upstream chunk and reports a later failure as an error event inside the stream
// — when the upstream sends its handshake (message_start, response.created …) and then refuses
// (overloaded, quota), the client would get a 200 that carries nothing but an error. Until content
// has been sent the request can still go elsewhere, so the handshake waits here: an error event
// makes the attempt a failure like an error status (classify.ts), content lets the held bytes go.
// What each event of the opening means is judged here (judgeEvent, startsToolCall); the events
// come from sse-events.ts, an error's status from error-objects.ts.

import { parseObject } from "../json/object.ts";
import { type BodyHold, NO_BUDGET } from "./body-budget.ts";
import { errorStatus } from "./error-objects.ts";
import { EventSplitter, type SseEvent } from "./sse-events.ts";
import { holdHead, type StreamSource } from "./stream.ts";

/**
 * Most handshake held back (characters, about bytes); a stream that opens with more is passed on
 * as it is. A Responses stream opens with response.created and response.in_progress, each echoing
 * the whole response object: for Codex CLI its instructions (11–20 KB: CLIProxyAPI's
 * codex_client_models.json) and its tools, MCP servers' included — one response.created from
 * ChatGPT's Codex backend passed 256 KiB (WaLiAPI#66). Room for two echoes of 1 MiB: at 64 KiB a
 * Codex 429 or server_is_overloaded after its handshake reached the client instead of failing over.
 * A request holds at most this much (and the event being read, as text) until its first content,
 * counted with the request bodies (body-budget.ts): an upstream that opens many streams with
 * megabytes of handshake-like events cannot hold more than lb_max_body_memory_mb.
 */
export const HOLD_MAX_BYTES = 2 * 1024 * 1024;

type Opening =
  /** The first content event arrived (or the byte bound was reached): deliver. */
  | { readonly kind: "deliver"; readonly source: StreamSource }
  /** The stream ended — or said it had (`data: [DONE]`) — before any content: no answer. */
  | { readonly kind: "empty"; readonly source: StreamSource }
  /** An error event came before any content: what status it stands for, and its text. */
  | { readonly kind: "error"; readonly source: StreamSource; readonly status: number; readonly text: string }
  /** The stream broke (or was stopped: the caller's deadline, its client leaving) with nothing sent; what had been held. */
  | { readonly kind: "broke"; readonly message: string; readonly head: readonly Uint8Array[] };

/**
 * Read `body` until its first content event, an error event, its end or `maxBytes` — or until
 * `memory` (the request's share of the body budget) has no room for more: passed on then, as past
 * `maxBytes`. The caller bounds the time (its attempt's first-byte deadline aborts the body:
 * handshake events are no first byte), told by `toolCallBegan` when the opening shows a tool call
 * begun (startsToolCall) and at each event after it. The reader stays open in the source for
 * delivery (or for the caller to cancel).
 */
export async function holdOpening(body: ReadableStream<Uint8Array>, maxBytes = HOLD_MAX_BYTES, memory: BodyHold = NO_BUDGET, toolCallBegan?: () => void): Promise<Opening> {
  const events = new EventSplitter();
  let held = 0;
  let toolCall = false;
  const r = await holdHead(body, (chunk): Verdict | undefined => {
    for (const ev of events.push(chunk)) {
      held += ev.size;
      if (held > maxBytes) return DELIVER;
      const verdict = judgeEvent(ev);
      if (verdict === "opening") {
        // Once a call began, each event after it is a sign of life, as inside an answer; a
        // keep-alive is not (sse-life.ts): CLIProxyAPI sends it exactly when its upstream is silent.
        toolCall ||= toolCallBegan !== undefined && startsToolCall(ev);
        if (toolCall && (ev.name || ev.data)) toolCallBegan!();
        continue;
      }
      if (verdict === "content") return DELIVER;
      if (verdict === "end") return EMPTY;
      return { kind: "error", status: verdict.status, text: ev.data };
    }
    return held + events.pending > maxBytes || !memory.grow(chunk.byteLength) ? DELIVER : undefined;
  });
  if ("broke" in r) return { kind: "broke", message: `stream broke before its first content: ${r.broke}`, head: r.head };
  return r.verdict === "ended" ? { kind: "empty", source: r.source } : { ...r.verdict, source: r.source };
}

/** An opening without its source (holdHead adds it). */
type Verdict = { readonly kind: "deliver" | "empty" } | { readonly kind: "error"; readonly status: number; readonly text: string };
const DELIVER: Verdict = { kind: "deliver" };
const EMPTY: Verdict = { kind: "empty" };

/**
 * What one event of a stream's opening means, in any dialect CLIProxyAPI streams: `error` (an
 * `error` event, a payload with a top-level `error`, Responses' `response.failed`), `end` (OpenAI's
 * `data: [DONE]`; CLIProxyAPI sends it alone when its upstream sent nothing), `opening`
 * (keep-alives and handshakes that carry no output: Anthropic message_start / content_block_start /
 * content_block_stop / ping, a tool_use block's empty first input_json_delta, a thinking block's
 * signature or empty delta, Responses created / in_progress /
 * *.added (a reasoning item's summary part too), an OpenAI chunk with only the role or a tool
 * call's name), else content.
 */
export function judgeEvent(ev: SseEvent): "opening" | "content" | "end" | { readonly status: number } {
  if (ev.name === "error" || ev.name === "response.failed") return { status: errorStatus(dataObject(ev)) };
  if (OPENING_NAMES.has(ev.name)) return "opening";
  // Parsed only when it may be one: a first text or thinking delta can be long.
  if (ev.name === "content_block_delta" && MAY_BE_EMPTY.some((s) => ev.data.includes(s)) && isEmptyDelta(dataObject(ev))) return "opening";
  if (ev.name) return "content"; // a named event (Anthropic, Responses) needs no parsing
  if (!ev.data) return "opening"; // comment, keep-alive
  if (ev.data === "[DONE]") return "end"; // OpenAI's end of stream: content, if any, came before it
  const o = dataObject(ev);
  if (!o) return "content";
  const type = typeof o.type === "string" ? o.type : "";
  if (type === "error" || type === "response.failed" || (o.error !== undefined && o.error !== null && !o.candidates && !o.choices)) {
    return { status: errorStatus(o) };
  }
  if (OPENING_NAMES.has(type) || isEmptyDelta(o)) return "opening";
  // Azure's first chunk names no object (`"object":""`).
  if ((o.object === "chat.completion.chunk" || o.object === "") && isRoleOnly(o)) return "opening";
  return "content";
}

/**
 * Whether an opening event (judgeEvent's "opening") begins a tool call: the model has named it and
 * is writing its input — Anthropic's tool_use (server_tool_use …) block start and its empty first
 * input_json_delta, a Responses *_call item added, a chat tool call's first chunk. The model is at
 * work then, yet the input may be long in coming: Anthropic sends a parameter's value whole once it
 * is written (without fine-grained tool streaming), a large file's minutes after the call's name.
 * Only such events are parsed (those judgeEvent parsed already are not again): a Responses
 * handshake (response.created) can be a megabyte.
 */
export function startsToolCall(ev: SseEvent): boolean {
  if (ev.name ? !TOOL_START_NAMES.has(ev.name) : !ev.data.includes("tool")) return false;
  const o = dataObject(ev);
  if (!o) return false;
  const type = ev.name || (typeof o.type === "string" ? o.type : "");
  if (type === "content_block_start") return /tool_use$/.test(String((o.content_block as Record<string, unknown> | undefined)?.type ?? ""));
  if (type === "response.output_item.added") return String((o.item as Record<string, unknown> | undefined)?.type ?? "").endsWith("_call");
  if (type === "content_block_delta") return isEmptyInputDelta(o);
  const choices = Array.isArray(o.choices) ? (o.choices as (Record<string, unknown> | null)[]) : [];
  return choices.some((c) => {
    const calls = (c?.delta as Record<string, unknown> | undefined)?.tool_calls;
    return Array.isArray(calls) && calls.length > 0;
  });
}

const TOOL_START_NAMES = new Set(["content_block_start", "content_block_delta", "response.output_item.added"]);

// --- internal ---

const OPENING_NAMES = new Set([
  "message_start",
  "content_block_start",
  // The end of a block that carried no output: a thinking block with only its signature, a redacted one.
  "content_block_stop",
  "ping",
  "response.created",
  "response.queued",
  "response.in_progress",
  "response.output_item.added",
  "response.content_part.added",
  // A reasoning item's empty summary part, which Codex and CLIProxyAPI's translators send before
  // its first delta: content, it let a thinking-first stream's handshake go, and an error right
  // after it reached the client instead of failing over.
  "response.reasoning_summary_part.added",
]);

/** The event's data as a JSON object, parsed the first time it is asked for. */
function dataObject(ev: SseEvent): Record<string, unknown> | undefined {
  if (ev.parsed === undefined) ev.parsed = parseObject(ev.data) ?? null;
  return ev.parsed ?? undefined;
}

/**
 * Anthropic's first delta of a tool_use block: `partial_json: ""`, sent as the block opens, before
 * the model has written any of the input — an overload while it does must still fail over.
 */
function isEmptyInputDelta(o: Record<string, unknown> | undefined): boolean {
  const d = o?.delta as Record<string, unknown> | undefined;
  return o?.type === "content_block_delta" && d?.type === "input_json_delta" && d.partial_json === "";
}

/**
 * An Anthropic delta with no output in it: a tool_use block's empty first input (isEmptyInputDelta),
 * a thinking block's signature (all a thinking block whose text is omitted carries), an empty
 * thinking delta. Before any output an error after it still fails over.
 */
function isEmptyDelta(o: Record<string, unknown> | undefined): boolean {
  if (o?.type !== "content_block_delta") return false;
  const d = o.delta as Record<string, unknown> | undefined;
  return isEmptyInputDelta(o) || d?.type === "signature_delta" || (d?.type === "thinking_delta" && d.thinking === "");
}

/** What an empty delta's data holds; any other delta is content, unparsed. */
const MAY_BE_EMPTY = ["input_json_delta", "signature_delta", '"thinking":""'];

/**
 * An OpenAI chunk that only opens the assistant message: no text, tool call input or finish yet.
 * Relays add empty fields of their own to it (OpenRouter `reasoning: null, reasoning_details: []`,
 * DeepSeek `reasoning_content: ""`): any field but the role counts as empty when null, "" or [].
 * A tool call's first chunk names it with `arguments: ""` before the model writes any: like
 * Anthropic's tool_use block start, an opening — an overload while the model writes the input
 * must still fail over.
 */
function isRoleOnly(o: Record<string, unknown>): boolean {
  const choices = o.choices;
  // No choice yet opens too (Azure's first chunk: `choices: []` beside its prompt_filter_results); a usage chunk does not.
  if (!Array.isArray(choices) || o.usage) return false;
  return choices.every((c) => {
    const ch = c as Record<string, unknown>;
    if (ch.finish_reason !== null && ch.finish_reason !== undefined) return false;
    const delta = (ch.delta ?? {}) as Record<string, unknown>;
    return Object.entries(delta).every(([k, v]) => k === "role" || isEmpty(v) || (k === "tool_calls" && Array.isArray(v) && v.every(isCallNamedOnly)));
  });
}

const isEmpty = (v: unknown) => v === "" || v === null || (Array.isArray(v) && v.length === 0);

/** A chat tool call's opening chunk: its id, type and name, no arguments yet. */
function isCallNamedOnly(call: unknown): boolean {
  const fn = (call as { function?: { arguments?: unknown } } | null)?.function;
  return typeof fn === "object" && fn !== null && (fn.arguments === undefined || fn.arguments === "");
}
