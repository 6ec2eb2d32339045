// The opening of an event stream, held back until its first content event. CLIProxyAPI answers 200
// with the first upstream chunk and reports a later failure as an error event inside the stream
// — when the upstream sends its handshake (message_start, response.created …) and then refuses
// (overloaded, quota), the client would get a 200 that carries nothing but an error. Until content
// has been sent the request can still go elsewhere, so the handshake waits here: an error event
// makes the attempt a failure like an error status (classify.ts), content lets the held bytes go.

import { asObject, isObject } from "../json/object.ts";
import { type BodyHold, NO_BUDGET } from "./body-budget.ts";
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
  /** The stream broke (or was stopped: the caller's deadline, its client leaving) with nothing sent. */
  | { readonly kind: "broke"; readonly message: string };

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
        // Once a call began, each event after it (a keep-alive too) is a sign of life, as inside an answer.
        toolCall ||= toolCallBegan !== undefined && startsToolCall(ev);
        if (toolCall) toolCallBegan!();
        continue;
      }
      if (verdict === "content") return DELIVER;
      if (verdict === "end") return EMPTY;
      return { kind: "error", status: verdict.status, text: ev.data };
    }
    return held + events.pending > maxBytes || !memory.grow(chunk.byteLength) ? DELIVER : undefined;
  });
  if ("broke" in r) return { kind: "broke", message: `stream broke before its first content: ${r.broke}` };
  return r.verdict === "ended" ? { kind: "empty", source: r.source } : { ...r.verdict, source: r.source };
}

/** An opening without its source (holdHead adds it). */
type Verdict = { readonly kind: "deliver" | "empty" } | { readonly kind: "error"; readonly status: number; readonly text: string };
const DELIVER: Verdict = { kind: "deliver" };
const EMPTY: Verdict = { kind: "empty" };

interface SseEvent {
  /** The `event:` field ("" when absent). */
  readonly name: string;
  /** The `data:` lines joined by "\n" ("" when absent: a comment or keep-alive). */
  readonly data: string;
  /** Characters the event took in the stream, its blank line included. */
  readonly size: number;
  /**
   * `data` as a JSON object (null: not one), once judgeEvent or startsToolCall has parsed it
   * (dataObject): an opening both read — an OpenAI chunk naming a tool call — is parsed once.
   */
  parsed?: Record<string, unknown> | null;
}

/**
 * Splits SSE bytes into events as they arrive (UTF-8 across chunk borders, CRLF or LF). An event
 * read in many chunks (a Codex handshake echoes its request's tools: hundreds of KB) is kept in
 * its pieces and each chunk searched alone, so its reads cost its length once, not once per read.
 */
export class EventSplitter {
  private readonly decoder = new TextDecoder();
  /** The event not complete yet, its line ends made "\n", in the pieces it came in. */
  private parts: string[] = [];
  private size = 0;
  /** The last read ended with a \r: half a \r\n, maybe — taken alone for a line end, the \n after it would end the event early (`event: error\r` | `\ndata: …` lost the error its data). */
  private cr = false;

  push(chunk: Uint8Array): SseEvent[] {
    const read = (this.cr ? "\r" : "") + this.decoder.decode(chunk, { stream: true });
    this.cr = read.endsWith("\r");
    const text = (this.cr ? read.slice(0, -1) : read).replace(/\r\n?/g, "\n");
    const out: SseEvent[] = [];
    let start = 0;
    // A blank line across the joint: the held part ends with "\n", this read starts with one.
    if (this.size > 0 && text.charCodeAt(0) === 10 && this.parts[this.parts.length - 1]!.endsWith("\n")) {
      out.push(parseEvent(this.take("").slice(0, -1)));
      start = 1;
    }
    for (let end = text.indexOf("\n\n", start); end !== -1; end = text.indexOf("\n\n", start)) {
      out.push(parseEvent(this.take(text.slice(start, end))));
      start = end + 2;
    }
    if (start < text.length) {
      this.parts.push(text.slice(start));
      this.size += text.length - start;
    }
    return out;
  }

  /** Characters of an event not complete yet. */
  get pending(): number {
    return this.size + (this.cr ? 1 : 0);
  }

  /** The held part of an event, then `last`: the event whole. */
  private take(last: string): string {
    if (this.size === 0) return last;
    const block = this.parts.join("") + last;
    this.parts = [];
    this.size = 0;
    return block;
  }
}

/**
 * What one event of a stream's opening means, in any dialect CLIProxyAPI streams: `error` (an
 * `error` event, a payload with a top-level `error`, Responses' `response.failed`), `end` (OpenAI's
 * `data: [DONE]`; CLIProxyAPI sends it alone when its upstream sent nothing), `opening`
 * (keep-alives and handshakes that carry no output: Anthropic message_start / content_block_start /
 * ping and a tool_use block's empty first input_json_delta, Responses created / in_progress /
 * *.added (a reasoning item's summary part too), an OpenAI chunk with only the role or a tool
 * call's name), else content.
 */
export function judgeEvent(ev: SseEvent): "opening" | "content" | "end" | { readonly status: number } {
  if (ev.name === "error" || ev.name === "response.failed") return { status: errorStatus(dataObject(ev)) };
  if (OPENING_NAMES.has(ev.name)) return "opening";
  // Parsed only when it may be one: a first text or thinking delta can be long.
  if (ev.name === "content_block_delta" && ev.data.includes("input_json_delta") && isEmptyInputDelta(dataObject(ev))) return "opening";
  if (ev.name) return "content"; // a named event (Anthropic, Responses) needs no parsing
  if (!ev.data) return "opening"; // comment, keep-alive
  if (ev.data === "[DONE]") return "end"; // OpenAI's end of stream: content, if any, came before it
  const o = dataObject(ev);
  if (!o) return "content";
  const type = typeof o.type === "string" ? o.type : "";
  if (type === "error" || type === "response.failed" || (o.error !== undefined && o.error !== null && !o.candidates && !o.choices)) {
    return { status: errorStatus(o) };
  }
  if (OPENING_NAMES.has(type) || isEmptyInputDelta(o)) return "opening";
  if (o.object === "chat.completion.chunk" && isRoleOnly(o)) return "opening";
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

/**
 * Whether whole events (WholeEvents' output, so an event cut across reads arrives in one piece)
 * end with one judgeEvent calls the end — OpenAI's `data: [DONE]`: nothing after it belongs to the
 * answer, and a client reading to the end (not every SDK stops at [DONE]) must not wait on a relay
 * that keeps the connection open. Only bytes ending in `]` and a blank line are decoded, so content
 * costs a few byte reads.
 */
export function endsAnswer(events: Uint8Array): boolean {
  let i = events.byteLength - 1;
  let newlines = 0;
  for (; i >= 0 && (events[i] === 0x0a || events[i] === 0x0d); i--) newlines += events[i] === 0x0a ? 1 : 0;
  if (newlines < 2 || events[i] !== 0x5d) return false; // not "]" + blank line
  let start = i; // back to the blank line before the last event ("\n\n" or "\n\r\n"), or the start
  while (start > 0 && !(events[start - 1] === 0x0a && (events[start - 2] === 0x0a || (events[start - 2] === 0x0d && events[start - 3] === 0x0a)))) start--;
  return judgeEvent(parseEvent(latin1.decode(events.subarray(start, i + 1)).replace(/\r\n?/g, "\n"))) === "end";
}

const latin1 = new TextDecoder("latin1");

/**
 * Whether a line of an event stream (`event: …` or `data: …`) says the answer is whole, in any
 * dialect — generously, so no complete answer from a real relay goes without one: Anthropic
 * message_stop or a message_delta with its stop_reason, OpenAI's [DONE] or a chunk whose choice
 * has its finish_reason (relays that send no [DONE]), Responses completed or incomplete (by name:
 * the data of a response.completed, the whole answer, may be too long a line to be read), a Gemini
 * candidate with its finishReason or a prompt it blocked (promptFeedback.blockReason, no candidate).
 * Relays that send no `event:` lines may put the type anywhere (Python's models put it last). A
 * line too long to be read whole (tokens.ts drops its middle: a Gemini image is followed by its
 * finishReason) that sets such a field counts as an end. A stream that closes before one was cut
 * (stream.ts). Content costs a scan or two; only data that sets such a field is parsed.
 */
export function endsTheAnswer(line: string): boolean {
  if (line.startsWith("event:")) return END_EVENT.test(line);
  if (!line.startsWith("data:")) return false;
  if (END_DATA.test(line) || END_TYPE.test(line)) return true;
  if (!setsStop(line)) return false;
  const o = parseObject(line.slice(line.charCodeAt(5) === 32 ? 6 : 5));
  if (!o) return true; // too long a line, read in part
  if (isSet((o.promptFeedback as Record<string, unknown> | undefined)?.blockReason)) return true;
  if (o.type === "message_delta") return isSet((o.delta as Record<string, unknown> | undefined)?.stop_reason);
  const choices = (o.choices ?? o.candidates) as Record<string, unknown>[] | undefined;
  return Array.isArray(choices) && choices.some((c) => isSet(c?.finish_reason) || isSet(c?.finishReason));
}

const END_EVENT = /^event: ?(?:message_stop|response\.completed|response\.incomplete)$/;
const END_DATA = /^data: ?\[DONE\]$/;
/** An end named by the data alone, anywhere in it (a quote inside a JSON string is escaped: text cannot look so). */
const END_TYPE = /"type": ?"(?:message_stop|response\.completed|response\.incomplete)"/;

/**
 * Whether a data line may set a stop_reason, finish_reason, finishReason or blockReason: such a
 * key set to a string (JSON escapes every quote inside a string: text cannot look so). A scan,
 * not a regex: it runs on every line of every stream, and every chat chunk says
 * `"finish_reason":null`.
 */
function setsStop(line: string): boolean {
  for (let i = line.indexOf('eason"'); i !== -1; i = line.indexOf('eason"', i + 6)) {
    let j = i + 6;
    while (line.charCodeAt(j) === 32) j++;
    if (line.charCodeAt(j++) !== 58) continue; // ":"
    while (line.charCodeAt(j) === 32) j++;
    // A string, under a stop key: a tool's `"reason":"…"` argument at the end of a line too long to parse is none.
    if (line.charCodeAt(j) === 34 && STOP_KEY.test(line.slice(Math.max(0, i - 9), i))) return true;
  }
  return false;
}

/** Before `eason"`: the stop keys, and no other (`"reason"`, `"change_reason"`). */
const STOP_KEY = /"(?:stop_r|finish_r|finishR|blockR)$/;

const isSet = (v: unknown) => typeof v === "string" && v !== "";

/**
 * The HTTP status an in-stream error stands for: a numeric code (Google's shape), else its code or
 * type by the names each API gives its statuses; an unnamed error counts as a server error. The
 * code is asked first: where both are named, the type is the coarser one — CLIProxyAPI's
 * response.failed for Codex clients types every 4xx invalid_request_error (a revoked credential:
 * code invalid_api_key), as its common body does a 404 (code model_not_found).
 */
export function errorStatus(o: Record<string, unknown> | undefined): number {
  const inner = innerError(o);
  for (const v of [inner?.code, inner?.status]) {
    if (typeof v === "number" && v >= 400 && v < 600) return v;
  }
  for (const v of [inner?.code, inner?.type, inner?.status, o?.code]) {
    const s = typeof v === "string" ? ERROR_STATUS[v.toLowerCase()] : undefined;
    if (s) return s;
  }
  return 500;
}

/** The error inside a body or event: its `error` (Anthropic, OpenAI, Google), a Responses event's `response.error`, else the object itself. */
export function innerError(o: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  return (o?.error ?? (o?.response as Record<string, unknown> | undefined)?.error ?? o) as Record<string, unknown> | undefined;
}

/**
 * The error a whole JSON answer is: an object whose `error` is an object, with no content beside it
 * (`{"error":null,"choices":…}` is an answer). One test for a sized answer (judge.ts) and one
 * without a length found out after its 200 went out (whole-errors.ts), so both judge alike.
 */
export function errorAnswerObject(text: string): Record<string, unknown> | undefined {
  const o = parseObject(text.trimStart());
  if (!o || !isObject(o.error)) return undefined;
  return o.choices || o.candidates || o.content ? undefined : o;
}

/** The JSON object an event's data holds, or undefined (not JSON, or not an object). */
export function parseObject(text: string): Record<string, unknown> | undefined {
  if (!text.startsWith("{")) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return asObject(v);
  } catch {
    return undefined;
  }
}

// --- internal ---

const OPENING_NAMES = new Set([
  "message_start",
  "content_block_start",
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

/** Error names of the Anthropic, OpenAI, Responses and Google APIs (and CLIProxyAPI's codes). */
const ERROR_STATUS: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  invalid_argument: 400,
  authentication_error: 401,
  invalid_api_key: 401,
  unauthenticated: 401,
  billing_error: 402,
  permission_error: 403,
  permission_denied: 403,
  insufficient_quota: 403,
  not_found_error: 404,
  model_not_found: 404,
  not_found: 404,
  request_timeout: 408,
  request_too_large: 413,
  rate_limit_error: 429,
  rate_limit_exceeded: 429,
  model_cooldown: 429,
  resource_exhausted: 429,
  api_error: 500,
  server_error: 500,
  internal_server_error: 500,
  internal: 500,
  unavailable: 503,
  server_is_overloaded: 503,
  timeout_error: 504,
  deadline_exceeded: 504,
  overloaded_error: 529,
};

function parseEvent(block: string): SseEvent {
  let name = "";
  let data: string | undefined;
  for (const line of block.split("\n")) {
    if (line.startsWith("data:")) {
      const v = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
      data = data === undefined ? v : `${data}\n${v}`;
    } else if (line.startsWith("event:")) {
      name = line.slice(line.charCodeAt(6) === 32 ? 7 : 6);
    }
  }
  return { name, data: data ?? "", size: block.length + 2, parsed: undefined };
}

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
 * An OpenAI chunk that only opens the assistant message: no text, tool call input or finish yet.
 * Relays add empty fields of their own to it (OpenRouter `reasoning: null, reasoning_details: []`,
 * DeepSeek `reasoning_content: ""`): any field but the role counts as empty when null, "" or [].
 * A tool call's first chunk names it with `arguments: ""` before the model writes any: like
 * Anthropic's tool_use block start, an opening — an overload while the model writes the input
 * must still fail over.
 */
function isRoleOnly(o: Record<string, unknown>): boolean {
  const choices = o.choices;
  if (!Array.isArray(choices) || choices.length === 0 || o.usage) return false;
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
