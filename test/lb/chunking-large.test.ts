// Large openings and huge events the same whatever their chunking (chunking.test.ts's property, its
// rig in helpers/chunking.ts). A Responses stream opens with response.created and
// response.in_progress, each echoing the whole response object — for Codex CLI its instructions
// (11–20 KB, CLIProxyAPI's codex_client_models.json) and its tools (one response.created from
// ChatGPT's Codex backend passed 256 KiB: WaLiAPI#66): an error after them (a 429, Codex's
// server_is_overloaded) must still fail over. Openings that end around gw's hold bound, and events
// over 1 MiB (a response.completed with the whole answer, a Gemini image) that carry usage or the
// answer's end, must give the client and the log the same whether they come in one read or many.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { maskSecret } from "../../src/observe/mask.ts";
import { HOLD_MAX_BYTES } from "../../src/lb/first-event.ts";
import { type Answer, type ChunkingGateway, chunkingGateway, differences, encoded, type Ev, plainText, SECRET, SSE, sse } from "../helpers/chunking.ts";
import { seededRandom } from "../helpers/policy.ts";

// --- the answers ---

/** Deterministic text of `n` characters with what JSON escapes (newlines, quotes, backslashes) and multi-byte characters. */
function prose(n: number, seed: number): string {
  const words = ["the", "patch", "must", "apply", "cleanly;", '"quoted"', "C:\\path", "naïve", "→", "tests\n", "- item\n", "`code`"];
  const rand = seededRandom(seed);
  let s = "";
  while (s.length < n) s += `${words[Math.floor(rand() * words.length)]} `;
  return s.slice(0, n);
}

/** Codex-like tools: function tools with long descriptions and JSON schemas, about `bytes` of JSON in all. */
function tools(bytes: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0, size = 0; size < bytes; i++) {
    const t = { type: "function", name: `mcp__server__tool_${i}`, description: prose(1500, i), strict: false, parameters: { type: "object", properties: { path: { type: "string", description: prose(300, i + 1) }, limit: { type: "integer" } }, required: ["path"], additionalProperties: false } };
    out.push(t);
    size += JSON.stringify(t).length;
  }
  return out;
}

/** What response.created / in_progress echo of a Codex request: the response object, instructions and tools included. */
const echo = (status: string, toolBytes: number) => ({
  id: "resp_1",
  object: "response",
  created_at: 1764600000,
  status,
  background: false,
  error: null,
  instructions: prose(20_000, 7),
  max_output_tokens: null,
  model: "gpt-5.5",
  output: [],
  parallel_tool_calls: false,
  reasoning: { effort: "medium", summary: "auto" },
  store: false,
  tool_choice: "auto",
  tools: tools(toolBytes),
  usage: null,
});
const created = (toolBytes: number): Ev => ["response.created", { type: "response.created", sequence_number: 0, response: echo("in_progress", toolBytes) }];
const inProgress = (toolBytes: number): Ev => ["response.in_progress", { type: "response.in_progress", sequence_number: 1, response: echo("in_progress", toolBytes) }];

const TEXT = 'héllo 🌍 世界, "ça" va? \\ ✓';
const DELTA: Ev = ["response.output_text.delta", { type: "response.output_text.delta", delta: TEXT }];
const COMPLETED: Ev = ["response.completed", { type: "response.completed", response: { id: "resp_1", status: "completed", usage: { input_tokens: 12, output_tokens: 9, input_tokens_details: { cached_tokens: 2 } } } }];
/** Codex's answer when ChatGPT's backend is out of capacity: an error event after the handshake, in a 200 (CLIProxyAPI stream-bootstrap-buffering). */
const OVERLOADED: Ev = ["error", { type: "error", error: { type: "service_unavailable_error", code: "server_is_overloaded", message: "Our servers are currently overloaded. Please try again later.", param: null }, sequence_number: 2 }];
const RATE_LIMITED: Ev = ["response.failed", { type: "response.failed", response: { id: "resp_1", status: "failed", error: { code: "rate_limit_exceeded", message: "slow down" } } }];
/** A refusal quoting a key: where it is delivered the client must get it masked. */
const QUOTING: Ev = ["error", { type: "error", error: { type: "service_unavailable_error", code: "server_is_overloaded", message: `upstream rejected the key ${SECRET}` } }];

/** What the second target answers: a small Responses stream. */
const FALLBACK = sse([["response.created", { type: "response.created", response: { id: "resp_2" } }], DELTA, COMPLETED]);

/**
 * A stream whose `last` event (a refusal) ends `offset` characters from the hold bound: an opening
 * event padded to fit, counted as the held opening counts (its text, line ends as one character).
 */
function aroundBound(last: Ev, offset: number, eol = "\n"): string {
  const pad = (n: number): Ev => ["response.in_progress", { type: "response.in_progress", response: { id: "resp_1", instructions: "x".repeat(n) } }];
  const counted = (text: string) => text.replaceAll("\r\n", "\n").length;
  const without = counted(sse([pad(0), last], eol));
  return sse([pad(HOLD_MAX_BYTES + offset - without), last], eol);
}

/**
 * An answer with a huge event: `huge` characters of text or image inside it — just past the 1 MiB
 * an event is handed on whole or a line read whole (WholeEvents), and within the 2 MiB hold, as
 * 1.6 MB was: the cost is the bytes, each answer delivered 7 times.
 */
const HUGE = 1024 * 1024 + 50_000;
const image = prose(HUGE, 3).replace(/[^A-Za-z]/g, "Q");

interface LargeAnswer extends Answer {
  /** Where a test cuts besides its random chunkings: offsets around the bound, in the huge event. */
  readonly at?: readonly number[];
}

const stream = (name: string, dialect: Answer["dialect"], text: string, more: Partial<LargeAnswer> = {}): LargeAnswer => ({ name, dialect, stream: true, contentType: SSE, text, ...more });

/** Every offset from a to b. */
const span = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const bound = HOLD_MAX_BYTES;

const ANSWERS: readonly LargeAnswer[] = [
  // Two echoes of ~250 KiB each: a Codex opening (instructions and tools).
  stream("Codex opening of two 250 KiB echoes, then content", "responses", sse([created(230_000), inProgress(230_000), DELTA, COMPLETED])),
  stream("Codex opening of two 250 KiB echoes, then server_is_overloaded", "responses", sse([created(230_000), inProgress(230_000), OVERLOADED]), { errorFirst: true }),
  stream("Codex opening of two 250 KiB echoes, then a 429 response.failed, CRLF", "responses", sse([created(230_000), inProgress(230_000), RATE_LIMITED], "\r\n", ": keep-alive\r\n\r\n"), { errorFirst: true }),
  stream("Codex opening of two 250 KiB echoes, gzip, then server_is_overloaded", "responses", sse([created(230_000), inProgress(230_000), OVERLOADED]), { errorFirst: true, coding: "gzip" }),
  // An echo over 1 MiB (many MCP tools): more than an event gw hands on whole, or a line it reads whole.
  stream("Codex opening of one 1.2 MB echo, then content", "responses", sse([created(1_200_000), DELTA, COMPLETED])),
  stream("Codex opening of one 1.2 MB echo, then server_is_overloaded", "responses", sse([created(1_200_000), OVERLOADED]), { errorFirst: true }),
  // Around the hold bound: a refusal that ends within it fails over; one that ends past it is delivered (masked).
  stream("a refusal ending 1 character within the hold bound", "responses", aroundBound(QUOTING, -1), { errorFirst: true, at: span(-12, 0).map((d) => bound - 1 + d) }),
  stream("a refusal ending at the hold bound", "responses", aroundBound(QUOTING, 0), { errorFirst: true, at: span(-12, 0).map((d) => bound + d) }),
  stream("a refusal ending 1 character past the hold bound", "responses", aroundBound(QUOTING, 1), { alone: true, at: span(-12, 0).map((d) => bound + 1 + d) }),
  stream("a refusal ending at the hold bound, CRLF", "responses", aroundBound(QUOTING, 0, "\r\n"), { errorFirst: true }),
  stream("a refusal ending 1 character past the hold bound, CRLF", "responses", aroundBound(QUOTING, 1, "\r\n"), { alone: true }),
  // Events over 1 MiB that carry usage or the answer's end.
  stream("response.completed of 1.1 MB (the whole answer) with usage at its end", "responses", sse([created(2_000), DELTA, ["response.completed", { type: "response.completed", response: { id: "resp_1", status: "completed", output: [{ type: "message", content: [{ type: "output_text", text: prose(HUGE, 5) }] }], usage: { input_tokens: 12, output_tokens: 9 } } }]])),
  stream("Gemini chunk with a 1.1 MB image, its finishReason and usage after it", "gemini", sse([[undefined, { candidates: [{ content: { parts: [{ text: TEXT }], role: "model" } }] }], [undefined, { candidates: [{ content: { parts: [{ inlineData: { mimeType: "image/png", data: image } }], role: "model" }, finishReason: "STOP" }], usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 1290, totalTokenCount: 1302 } }]])),
  stream("OpenAI chunk with a 1.1 MB delta first, then usage and [DONE]", "openai", sse([[undefined, { id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { role: "assistant", content: prose(HUGE, 9) }, finish_reason: null }] }], [undefined, { id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 } }], [undefined, "[DONE]"]])),
  stream("Anthropic content_block_delta of 1.1 MB, then message_delta and message_stop", "anthropic", sse([["message_start", { type: "message_start", message: { id: "msg_1", type: "message", role: "assistant", content: [], usage: { input_tokens: 12, output_tokens: 1 } } }], ["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: prose(HUGE, 11) } }], ["message_delta", { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 9 } }], ["message_stop", { type: "message_stop" }]])),
  // A Gemini function call whose 1.1 MB arguments end with a "reason" field, no finishReason, then
  // the stream closes: cut short (a break), however the line was read (its middle dropped, it is no JSON).
  stream("Gemini function call of 1.1 MB ending with a reason argument, closed before its finishReason", "gemini", sse([[undefined, { candidates: [{ content: { parts: [{ functionCall: { name: "write_file", args: { edits: Array.from({ length: 40_000 }, (_, i) => ({ line: i, text: "x".repeat(i % 7) })), reason: "update" } } }], role: "model" } }] }]])),
];

// --- chunkings ---

const RANDOM_CHUNKINGS = 5;

/** Cut offsets: a 2-way split at each of `at`, random 2–9 pieces, and reads of 16 KiB (TCP's size). */
function chunkings(a: LargeAnswer, bytes: Uint8Array, seed: number): number[][] {
  const out: number[][] = (a.at ?? []).filter((i) => i > 0 && i < bytes.byteLength).map((i) => [i]);
  const rand = seededRandom(seed);
  for (let k = 0; k < RANDOM_CHUNKINGS; k++) {
    const n = 2 + Math.floor(rand() * 8);
    const cuts = new Set<number>();
    while (cuts.size < n) cuts.add(1 + Math.floor(rand() * (bytes.byteLength - 1)));
    out.push([...cuts].sort((x, y) => x - y));
  }
  const reads = Math.ceil(bytes.byteLength / 16_384);
  out.push(Array.from({ length: reads - 1 }, (_, i) => (i + 1) * 16_384));
  return out;
}

// --- the gateway ---

let gw: ChunkingGateway;
beforeAll(() => void (gw = chunkingGateway(() => FALLBACK)));
afterAll(() => gw.stop());

describe("large openings and huge events are the same whatever their chunking", () => {
  ANSWERS.forEach((a, n) => {
    test(a.name, async () => {
      const bytes = encoded(a);
      const base = await gw.deliver(a, bytes, []);
      const text = plainText(base);
      expect(text).not.toContain(SECRET);
      // A stream that closes inside an answer (no end event) was cut short.
      const cutShort = a.name.includes("closed before");
      expect([a.name, (base.record.error ?? "").includes("before the answer's end")]).toEqual([a.name, cutShort]);
      if (!a.errorFirst && !a.alone) expect([a.name, base.record.usage !== undefined]).toEqual([a.name, a.text.includes('"usage') && !cutShort]);
      if (a.errorFirst) {
        expect([a.name, base.record.attempts]).toEqual([a.name, [expect.stringMatching(/^a\/m-a:/), "b/m-b:200:ok"]]);
        expect(text).toBe(FALLBACK);
      }
      // Past the bound a refusal is delivered as it came: its 200 kept, its key masked.
      if (a.alone) expect(text).toContain(maskSecret(SECRET));
      expect(await differences(gw, a, bytes, chunkings(a, bytes, 2000 + n), base)).toEqual([]);
    });
  });
});
