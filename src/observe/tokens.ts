// Token usage of a response, read from what passes through: the SSE events as they stream (no
// buffering — only lines that mention usage are parsed) or a JSON body. Every dialect is
// normalised to Anthropic's meaning: `input` excludes cached tokens, `cacheRead` counts them.

import { endsTheAnswer } from "../lb/answer-end.ts";

export interface Usage {
  /** Input tokens not served from cache. */
  input?: number;
  output?: number;
  /** Input tokens read from the provider's prompt cache. */
  cacheRead?: number;
  /** Input tokens written to the prompt cache (Anthropic's, however the client's dialect reports them). */
  cacheWrite?: number;
  /** Of cacheWrite, those written for an hour (Anthropic's 1h TTL, priced higher than the 5-minute one). */
  cacheWrite1h?: number;
}

export interface UsageWatcher {
  /** Feed one chunk of the SSE body, exactly as it passes to the client. */
  push(chunk: Uint8Array): void;
  /** Usage seen so far (last report wins per field); undefined when none came. */
  usage(): Usage | undefined;
  /** OpenAI Responses: the id of the response (for `previous_response_id` stickiness). */
  responseId(): string | undefined;
  /**
   * The data of the first error event that passed (an `error` or `response.failed` event, or a
   * payload that is an error): the upstream failed inside a stream that had already begun.
   */
  streamError?(): string | undefined;
  /** Error events (as streamError counts them) seen so far. */
  errorEvents?(): number;
  /** Whether the answer's end has passed: its dialect's last event (answer-end.ts endsTheAnswer), or an error event. */
  answerEnded?(): boolean;
  /**
   * Whether the event the last chunk left incomplete is an error event (as errorEvents counts
   * them): named so, or its data line opens as one — an error too large to pass whole is known by
   * its start.
   */
  inError?(): boolean;
  /**
   * Lines seen so far that are neither data nor a plain event name: comments (keep-alives), `id:`,
   * `retry:`, unknown fields, odd event names — what a relay may fill with anything, its key too.
   */
  fieldLines?(): number;
}

/** An incremental SSE watcher. Cost per chunk: one streaming UTF-8 decode and a substring search. */
export function usageFromSse(): UsageWatcher {
  const decoder = new TextDecoder();
  // The line not complete yet, in the reads it came in: a long line (a Codex handshake echoes its
  // request's tools, a Gemini image is megabytes) read in TCP-sized pieces is joined once, at its
  // end, and each read searched alone — not joined to all before it and searched again. None while
  // no line waits: a stream whose reads end their lines makes no array.
  let parts: string[] | undefined;
  let size = 0;
  let usage: Usage | undefined;
  let respId: string | undefined;
  let errorData: string | undefined;
  let errors = 0;
  // The event being read is named as an error: its data is the error.
  let errorEvent = false;
  // A data line of the event being read was an error: the data lines after it are the same data.
  let errorLine = false;
  // The answer's end has passed (answer-end.ts endsTheAnswer).
  let ended = false;
  // The line being read lost its middle (too long to keep whole).
  let cut = false;
  // Its first LINE_START characters, once it did.
  let head = "";
  let fields = 0;
  const line = (l: string) => {
    ended ||= endsTheAnswer(l);
    if (l.startsWith("event:")) {
      errorEvent = ERROR_EVENT.test(l);
      if (!PLAIN_EVENT.test(l)) fields++;
      return;
    }
    if (!l.startsWith("data:")) {
      if (l === "") errorEvent = errorLine = false;
      else fields++;
      return;
    }
    if (errorEvent || ERROR_DATA.test(l)) {
      errorLine = true;
      errors++;
      errorData ??= l.slice(l.charCodeAt(5) === 32 ? 6 : 5);
    }
    if (!USAGE_HINT.test(l)) return;
    // A Responses event cut for its length (its handshake echoes the request's tools) names its id at its start.
    if (cut) respId = RESPONSE_ID.exec(l.slice(0, LINE_START))?.[1] ?? respId;
    const o = cut ? usageAtEnd(l) : parseJson(l.slice(5));
    if (o === undefined) return;
    const found = extract(o);
    if (found.usage) usage = { ...usage, ...found.usage };
    if (found.id) respId = found.id;
  };
  return {
    push(chunk) {
      const text = decoder.decode(chunk, { stream: true });
      let start = 0;
      for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
        const end = text.slice(start, nl);
        const whole = parts ? parts.join("") + end : end;
        // A line too long to keep whole is its start and its end, however it was read.
        if (!cut && whole.length > MAX_LINE) {
          head = whole.slice(0, LINE_START);
          cut = true;
        }
        line((cut ? head + whole.slice(-KEEP_END) : whole).trimEnd());
        if (parts) {
          parts = undefined;
          size = 0;
        }
        cut = false;
        start = nl + 1;
      }
      if (start < text.length) {
        (parts ??= []).push(start ? text.slice(start) : text);
        size += text.length - start;
      }
      // A huge line (a content delta, a Gemini image) keeps its start, so its end — where Gemini
      // puts finishReason and usage — is still read as part of a data line (answer-end.ts
      // endsTheAnswer), and its usage from there (usageAtEnd).
      if (parts && size > MAX_LINE) {
        const kept = parts.join("");
        if (!cut) head = kept.slice(0, LINE_START);
        parts = [kept.slice(-KEEP_END)];
        size = parts[0]!.length;
        cut = true;
      }
    },
    usage: () => usage,
    responseId: () => respId,
    streamError: () => errorData,
    errorEvents: () => errors,
    answerEnded: () => ended || errors > 0,
    inError: () => errorEvent || errorLine || (parts !== undefined && ERROR_DATA.test(cut ? head : lineStart(parts))),
    fieldLines: () => fields,
  };
}

/** The first characters of a line in pieces: enough for ERROR_DATA. */
function lineStart(parts: readonly string[]): string {
  let start = "";
  for (const p of parts) if ((start += p.slice(0, 64)).length >= 64) break;
  return start;
}

/**
 * Usage of a non-streamed JSON response (text or parsed). Gemini's stream without `alt=sse` is a
 * JSON array of chunks: their reports in order, as from SSE (the last one's counts are the totals).
 */
export function usageFromJson(body: string | unknown): Usage | undefined {
  const o = typeof body === "string" ? parseJson(body) : body;
  if (o === undefined) return undefined;
  if (!Array.isArray(o)) return extract(o).usage;
  let usage: Usage | undefined;
  for (const chunk of o) {
    const found = extract(chunk).usage;
    if (found) usage = { ...usage, ...found };
  }
  return usage;
}

/** Usage of a JSON answer too big to be held whole, from its last bytes (`tail`): Gemini's image answer puts it after the image. */
export function usageFromJsonEnd(tail: string): Usage | undefined {
  const o = usageAtEnd(tail);
  return o ? extract(o).usage : undefined;
}

// --- internal ---

const USAGE_HINT = /"usage|"usageMetadata"/;
const ERROR_EVENT = /^event: ?(?:error|response\.failed)$/;
/** An event name as the APIs write them (`content_block_delta`, `response.output_text.delta`). */
const PLAIN_EVENT = /^event: ?[a-z][a-z_.]{0,63}$/;
/** A data line whose payload is an error (OpenAI and Google put it first; Anthropic names its type). */
const ERROR_DATA = /^data: ?\{\s*"(?:error"|type"\s*:\s*"(?:error|response\.failed)")/;
const MAX_LINE = 1 << 20;
/** Of a line cut for its length, the first characters kept: its event's type and, in Responses, its id. */
const LINE_START = 256;
const RESPONSE_ID = /"response": ?\{"id": ?"([^"\\]+)"/;
/** Of a line cut for its length, the last bytes kept: more than a usage report and its neighbours take. */
export const KEEP_END = 4096;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The usage report at the end of a text that lost its middle — Gemini's chunk with an image puts
 * `usageMetadata` after the image's megabytes (an OpenAI chunk its `usage`): the object after the
 * last such key, as `{ key: object }`, or nothing when it is not whole.
 */
function usageAtEnd(l: string): Json | undefined {
  for (const key of ['"usageMetadata"', '"usage"']) {
    const at = l.lastIndexOf(key);
    if (at === -1) continue;
    const open = l.indexOf("{", at + key.length);
    if (open === -1 || l.slice(at + key.length, open).trim() !== ":") continue;
    const end = objectEnd(l, open);
    const v = end === -1 ? undefined : parseJson(l.slice(open, end));
    return v && typeof v === "object" ? { [key.slice(1, -1)]: v } : undefined;
  }
  return undefined;
}

/** Offset just past the JSON object opening at `open` (strings skipped), or -1 when it does not close. */
function objectEnd(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92 /* \ */) i++;
    } else if (c === 123 || c === 91) depth++;
    else if ((c === 125 || c === 93) && --depth === 0) return i + 1;
  }
  return -1;
}

type Json = Record<string, unknown>;

function extract(o: unknown): { usage?: Usage; id?: string } {
  if (!o || typeof o !== "object") return {};
  const j = o as Json;
  // Anthropic message_start nests usage in `message`; Responses events nest it in `response`.
  const inner = (j.message ?? j.response) as Json | undefined;
  const id = j.response && typeof inner?.id === "string" ? inner.id : undefined;
  const meta = j.usageMetadata as Json | undefined;
  if (meta) return { usage: fromGemini(meta) };
  const u = (j.usage ?? inner?.usage) as Json | undefined;
  if (!u || typeof u !== "object") return id ? { id } : {};
  return { usage: fromUsage(u), id };
}

function fromUsage(u: Json): Usage {
  const chat = "prompt_tokens" in u || "completion_tokens" in u;
  const details = (chat ? u.prompt_tokens_details : u.input_tokens_details) as Json | undefined;
  if (chat || (details && typeof details === "object")) {
    // OpenAI chat and Responses: the prompt count includes the cached tokens, and CLIProxyAPI's
    // translation of a Claude answer adds the cache writes too (as `cached_creation_tokens`;
    // OpenAI-compatible relays say `cache_write_tokens` or `cache_creation_tokens`, which CLIProxyAPI
    // also reads as part of the prompt): both leave input for their own price.
    const cached = num(details?.cached_tokens) ?? 0;
    const written = num(details?.cached_creation_tokens) ?? num(details?.cache_creation_tokens) ?? num(details?.cache_write_tokens) ?? 0;
    const input = num(chat ? u.prompt_tokens : u.input_tokens);
    const output = num(chat ? u.completion_tokens : u.output_tokens);
    const reasoning = num(((chat ? u.completion_tokens_details : u.output_tokens_details) as Json | undefined)?.reasoning_tokens) ?? 0;
    return clean({
      input: sub(input, cached + written),
      output: output === undefined ? undefined : output + (reasoningOutside(u, input, output, reasoning) ? reasoning : 0),
      cacheRead: cached || undefined,
      cacheWrite: written || undefined,
    });
  }
  // Anthropic: input_tokens already excludes the cache.
  const creation = u.cache_creation as Json | undefined;
  return clean({
    input: num(u.input_tokens),
    output: num(u.output_tokens),
    cacheRead: num(u.cache_read_input_tokens),
    cacheWrite: num(u.cache_creation_input_tokens),
    cacheWrite1h: num(creation?.ephemeral_1h_input_tokens) || undefined,
  });
}

/**
 * OpenAI counts reasoning inside the completion (total = prompt + completion); CLIProxyAPI's
 * translation of a Gemini answer gives only the visible candidates as the completion and the
 * thoughts beside it, its total (Gemini's totalTokenCount) counting both — the thoughts are output
 * all the same, billed as such.
 */
function reasoningOutside(u: Json, input: number | undefined, output: number, reasoning: number): boolean {
  const total = num(u.total_tokens);
  return reasoning > 0 && total !== undefined && total >= (input ?? 0) + output + reasoning;
}

/**
 * Gemini's promptTokenCount includes the cached content (cachedContentTokenCount); the prompts of
 * its built-in tools (Google Search results, URL context pages: toolUsePromptTokenCount) are
 * counted beside it, in totalTokenCount, and billed as input all the same.
 */
function fromGemini(m: Json): Usage {
  const cached = num(m.cachedContentTokenCount) ?? 0;
  const out = num(m.candidatesTokenCount);
  const thoughts = num(m.thoughtsTokenCount);
  const prompt = num(m.promptTokenCount);
  const toolUse = num(m.toolUsePromptTokenCount);
  return clean({
    input: prompt === undefined && toolUse === undefined ? undefined : sub(prompt ?? 0, cached)! + (toolUse ?? 0),
    output: out === undefined && thoughts === undefined ? undefined : (out ?? 0) + (thoughts ?? 0),
    cacheRead: cached || undefined,
  });
}

function num(v: unknown): number | undefined {
  // A count below zero is no count (gw usage reads such a log value as absent: day-files.ts countsOf); a counter must never go down.
  return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined;
}

function sub(a: number | undefined, b: number): number | undefined {
  return a === undefined ? undefined : Math.max(0, a - b);
}

/** Drop undefined fields so a later partial report does not erase an earlier value. */
function clean(u: Usage): Usage {
  const out: Usage = {};
  for (const k of ["input", "output", "cacheRead", "cacheWrite", "cacheWrite1h"] as const) if (u[k] !== undefined) out[k] = u[k];
  return out;
}
