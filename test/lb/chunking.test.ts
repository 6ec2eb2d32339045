// Every answer the same whatever its chunking: TCP, relays and CLIProxyAPI cut an answer anywhere
// (inside a UTF-8 character, between \r and \n, inside `data:`, inside a secret), and gw reads
// answers as they stream (the held opening, whole events, usage, masking, the end of an answer).
// Each answer of the table below goes through a real gw from an upstream that writes it in the
// pieces of each chunking, each piece a read of its own at gw (pieces-upstream.ts); the client's
// bytes and the request log's record must be those of the answer sent in one piece, no known
// secret may reach the client, and an error before content must fail over (the client never sees it).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { maskSecret } from "../../src/observe/mask.ts";
import { type Answer, type ChunkingGateway, chunkingGateway, type Dialect, differences, encoded, type Ev, JSON_TYPE, plainText, SECRET, SSE, sse } from "../helpers/chunking.ts";
import { seededRandom } from "../helpers/policy.ts";

/** Text in an answer: multi-byte characters, and escapes in its JSON (`\"`, `\\`) that a cut may separate. */
const TEXT = 'héllo 🌍 世界, "ça" va? \\ ✓';

// --- the answers ---

const OPENING: Record<Dialect, Ev[]> = {
  anthropic: [
    ["message_start", { type: "message_start", message: { id: "msg_1", type: "message", role: "assistant", model: "claude", content: [], usage: { input_tokens: 12, output_tokens: 1, cache_read_input_tokens: 3 } } }],
    ["content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }],
    ["ping", { type: "ping" }],
  ],
  openai: [[undefined, { id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] }]],
  responses: [
    ["response.created", { type: "response.created", response: { id: "resp_1", status: "in_progress" } }],
    ["response.output_item.added", { type: "response.output_item.added", item: { type: "message", role: "assistant" } }],
  ],
  gemini: [],
};
const CONTENT: Record<Dialect, Ev[]> = {
  anthropic: [["content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: TEXT } }]],
  openai: [[undefined, { id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: TEXT }, finish_reason: null }] }]],
  responses: [["response.output_text.delta", { type: "response.output_text.delta", delta: TEXT }]],
  gemini: [[undefined, { candidates: [{ content: { parts: [{ text: TEXT }], role: "model" } }], usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 3 } }]],
};
const END: Record<Dialect, Ev[]> = {
  anthropic: [
    ["content_block_stop", { type: "content_block_stop", index: 0 }],
    ["message_delta", { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 9 } }],
    ["message_stop", { type: "message_stop" }],
  ],
  openai: [
    [undefined, { id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: "stop" }], usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 } }],
    [undefined, "[DONE]"],
  ],
  responses: [["response.completed", { type: "response.completed", response: { id: "resp_1", status: "completed", usage: { input_tokens: 12, output_tokens: 9, input_tokens_details: { cached_tokens: 2 } } } }]],
  gemini: [[undefined, { candidates: [{ content: { parts: [{ text: " more" }], role: "model" }, finishReason: "STOP" }], usageMetadata: { promptTokenCount: 12, candidatesTokenCount: 9, totalTokenCount: 21 } }]],
};
/** An error event before any content (a refusal: overloaded, quota). */
const REFUSAL: Record<Dialect, Ev> = {
  anthropic: ["error", { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }],
  openai: [undefined, { error: { message: "Rate limit reached", type: "rate_limit_error", code: "rate_limit_exceeded" } }],
  responses: ["response.failed", { type: "response.failed", response: { id: "resp_1", status: "failed", error: { code: "rate_limit_exceeded", message: "slow down" } } }],
  gemini: [undefined, { error: { code: 429, message: "Resource has been exhausted", status: "RESOURCE_EXHAUSTED" } }],
};
const LEAK = `upstream rejected the key ${SECRET}`;
/** An error event after content that quotes a key. */
const LATE: Record<Dialect, Ev> = {
  anthropic: ["error", { type: "error", error: { type: "api_error", message: LEAK } }],
  openai: [undefined, { error: { message: LEAK, type: "server_error", code: "internal_server_error" } }],
  responses: ["error", { type: "error", code: "server_error", message: LEAK }],
  gemini: [undefined, { error: { code: 500, message: LEAK, status: "INTERNAL" } }],
};

const DIALECTS: readonly Dialect[] = ["anthropic", "openai", "responses", "gemini"];

const normal = (d: Dialect, eol = "\n", keepAlive = ": keep-alive\n\n") => sse([...OPENING[d], ...CONTENT[d], ...END[d]], eol, keepAlive);

/**
 * A relay's own lines quoting its key: a comment in the opening, an `id:` and an unknown field on
 * the last event; and content whose text has a token's shape (the model's, which passes as it is).
 */
const SHAPED = "sk-ant-api03-" + "Zx".repeat(20);
const withFields = (d: Dialect): string => {
  const text = normal(d, "\n", `: relayed with ${SECRET}\n\n`).replace(JSON.stringify(TEXT).slice(1, -1), `${JSON.stringify(TEXT).slice(1, -1)} ${SHAPED}`);
  const last = text.lastIndexOf("\n\n", text.length - 3) + 2;
  return `${text.slice(0, last)}id: ${SECRET}\nx-debug: ${SECRET}\n${text.slice(last)}`;
};

const chatJson = JSON.stringify({ id: "c2", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content: TEXT }, finish_reason: "stop" }], usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 } });
const messageJson = JSON.stringify({ id: "msg_2", type: "message", role: "assistant", content: [{ type: "text", text: TEXT }], usage: { input_tokens: 20, output_tokens: 5 } });
const errorJson = JSON.stringify({ error: { message: `Incorrect API key provided: ${SECRET}`, type: "invalid_request_error", code: "invalid_api_key" } });
const geminiArray = `[${JSON.stringify({ candidates: [{ content: { parts: [{ text: TEXT }], role: "model" } }] })},\r\n${JSON.stringify({ candidates: [{ content: { parts: [{ text: "!" }], role: "model" }, finishReason: "STOP" }], usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 4 } })}]`;
const ndjson = `${JSON.stringify({ model: "m", message: { role: "assistant", content: TEXT }, done: false })}\n${JSON.stringify({ error: { message: LEAK } })}\n`;

const ANSWERS: readonly Answer[] = [
  ...DIALECTS.flatMap((d): Answer[] => [
    { name: `${d} stream`, dialect: d, stream: true, contentType: SSE, text: normal(d) },
    { name: `${d} stream, CRLF and blank-line keep-alives`, dialect: d, stream: true, contentType: SSE, text: normal(d, "\r\n", "\r\n\r\n") },
    { name: `${d} error event before content`, dialect: d, stream: true, contentType: SSE, text: sse([...OPENING[d], REFUSAL[d]]), errorFirst: true },
    { name: `${d} error event after content, quoting a key`, dialect: d, stream: true, contentType: SSE, text: sse([...OPENING[d], ...CONTENT[d], LATE[d]]), byteByByte: true },
    { name: `${d} error event after content, CRLF`, dialect: d, stream: true, contentType: SSE, text: sse([...OPENING[d], ...CONTENT[d], LATE[d]], "\r\n", ": keep-alive\r\n\r\n") },
    { name: `${d} stream with a comment, an id: and a field of the relay's quoting a key`, dialect: d, stream: true, contentType: SSE, text: withFields(d) },
    { name: `${d} error event before content, CRLF`, dialect: d, stream: true, contentType: SSE, text: sse([...OPENING[d], [undefined, ""], REFUSAL[d]], "\r\n", ": keep-alive\r\n\r\n"), errorFirst: true },
    // Lines that end in a bare CR (the SSE spec allows it) reach the client with LF line ends, whatever the chunking.
    { name: `${d} stream, bare CR line ends`, dialect: d, stream: true, contentType: SSE, text: normal(d, "\r", ": keep-alive\r\r") },
    { name: `${d} error event after content quoting a key, bare CR line ends`, dialect: d, stream: true, contentType: SSE, text: sse([...OPENING[d], ...CONTENT[d], LATE[d]], "\r", ": keep-alive\r\r") },
    { name: `${d} error event before content, bare CR line ends`, dialect: d, stream: true, contentType: SSE, text: sse([...OPENING[d], REFUSAL[d]], "\r", ": keep-alive\r\r"), errorFirst: true },
  ]),
  { name: "sized JSON", dialect: "openai", stream: false, contentType: JSON_TYPE, text: chatJson, sized: true },
  { name: "chunked JSON", dialect: "anthropic", stream: false, contentType: JSON_TYPE, text: messageJson },
  { name: "chunked JSON after keep-alive newlines", dialect: "anthropic", stream: false, contentType: JSON_TYPE, text: `\n\n\n${messageJson}` },
  { name: "chunked JSON error quoting a key", dialect: "openai", stream: false, contentType: JSON_TYPE, text: errorJson, errorFirst: true, everySplit: true },
  // Only spaces reached the client before the error, however the reads were cut: it still fails over.
  { name: "chunked JSON error after keep-alive newlines", dialect: "openai", stream: false, contentType: JSON_TYPE, text: `\n\n${errorJson}`, errorFirst: true, everySplit: true },
  { name: "Gemini JSON array", dialect: "gemini", stream: false, contentType: JSON_TYPE, text: geminiArray },
  { name: "Gemini JSON array with an error after content, quoting a key", dialect: "gemini", stream: false, contentType: JSON_TYPE, text: `[${JSON.stringify({ candidates: [{ content: { parts: [{ text: TEXT }], role: "model" } }] })},\r\n${JSON.stringify({ error: { code: 500, message: LEAK, status: "INTERNAL" } })}]`, byteByByte: true },
  { name: "sized JSON error in a 200, quoting a key", dialect: "openai", stream: false, contentType: JSON_TYPE, text: errorJson, sized: true, errorFirst: true },
  { name: "429 chunked error body quoting a key", dialect: "anthropic", stream: true, contentType: JSON_TYPE, status: 429, text: JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: LEAK } }), errorFirst: true },
  { name: "openai stream without spaces after data:, ending inside its last event", dialect: "openai", stream: true, contentType: SSE, text: sse([...OPENING.openai, ...CONTENT.openai, LATE.openai]).replaceAll("data: ", "data:").slice(0, -1) },
  { name: "NDJSON with an error quoting a key", dialect: "openai", stream: false, contentType: "application/x-ndjson", text: ndjson },
  { name: "gzip stream", dialect: "anthropic", stream: true, contentType: SSE, text: normal("anthropic"), coding: "gzip", byteByByte: true },
  { name: "zstd stream, error after content", dialect: "openai", stream: true, contentType: SSE, text: sse([...OPENING.openai, ...CONTENT.openai, LATE.openai]), coding: "zstd" },
  { name: "deflate chunked JSON", dialect: "anthropic", stream: false, contentType: JSON_TYPE, text: messageJson, coding: "deflate" },
  { name: "br sized JSON", dialect: "openai", stream: false, contentType: JSON_TYPE, text: chatJson, coding: "br", sized: true },
  { name: "gzip error event before content", dialect: "anthropic", stream: true, contentType: SSE, text: sse([...OPENING.anthropic, REFUSAL.anthropic]), coding: "gzip", errorFirst: true },
  { name: "anthropic error event before content quoting a key, on the only target", dialect: "anthropic", stream: true, contentType: SSE, text: sse([...OPENING.anthropic, LATE.anthropic]), alone: true },
  { name: "openai error event before content quoting a key, CRLF, on the only target", dialect: "openai", stream: true, contentType: SSE, text: sse([...OPENING.openai, LATE.openai], "\r\n", ": keep-alive\r\n\r\n"), alone: true },
  { name: "chunked JSON error quoting a key, on the only target", dialect: "openai", stream: false, contentType: JSON_TYPE, text: errorJson, alone: true },
  { name: "gzip 429 chunked error body quoting a key, on the only target", dialect: "anthropic", stream: true, contentType: JSON_TYPE, status: 429, text: JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: LEAK } }), coding: "gzip", alone: true },
  { name: "gzip chunked JSON error quoting a key", dialect: "openai", stream: false, contentType: JSON_TYPE, text: errorJson, coding: "gzip", errorFirst: true },
];

// --- chunkings ---

/**
 * Where a 2-way split is worth trying in plain bytes: inside the secret, between \r and \n, inside
 * a UTF-8 character, inside `data:`, anywhere in the first content event or a refusal's error
 * event (and at their edges), a JSON body's opening.
 */
function interestingSplits(bytes: Uint8Array, text: string, errorFirst: boolean): number[] {
  const at = new Set<number>();
  const spans = (needle: string, inner: boolean) => {
    const b = Buffer.from(bytes);
    for (let i = b.indexOf(needle); i !== -1; i = b.indexOf(needle, i + 1)) {
      const len = Buffer.byteLength(needle);
      for (let k = inner ? 1 : 0; k <= (inner ? len - 1 : len); k++) at.add(i + k);
    }
  };
  spans(SECRET, false);
  // A JSON body's opening: its keep-alive and its first value's first bytes (`{"error":{`).
  const opening = bytes.findIndex((b) => b !== 0x0a && b !== 0x20 && b !== 0x0d);
  if (!text.includes("data:")) for (let i = 0; i <= opening + 16; i++) at.add(i);
  spans("\r\n", true);
  spans("data:", false);
  for (let i = 0; i < bytes.byteLength; i++) {
    if ((bytes[i]! & 0xc0) === 0x80) at.add(i); // inside a character
    if (bytes[i] === 0x5c) at.add(i).add(i + 1); // before and after a backslash
  }
  // The first content event, whole: where the held opening ends.
  const first = [JSON.stringify(TEXT).slice(1, -1)].map((t) => Buffer.from(bytes).indexOf(t)).find((i) => i >= 0);
  if (first !== undefined && text.includes("data:")) {
    const b = Buffer.from(bytes);
    const start = Math.max(b.lastIndexOf("\n\n", first), b.lastIndexOf("\n\r\n", first), 0);
    const end = Math.min(b.byteLength, b.indexOf("\n", b.indexOf("\n", first) + 1) + 1 || b.byteLength);
    for (let i = start; i <= end; i++) at.add(i);
  }
  // A refusal's error event (the last one), whole: what the held opening judges.
  if (errorFirst && text.includes("data:")) {
    const b = Buffer.from(bytes);
    const start = Math.max(b.lastIndexOf("\n\n", b.byteLength - 3), b.lastIndexOf("\n\r\n", b.byteLength - 5));
    for (let i = start; i <= b.byteLength; i++) at.add(i);
  }
  return [...at].filter((i) => i > 0 && i < bytes.byteLength).sort((x, y) => x - y);
}

const RANDOM_CHUNKINGS = 12;

/** The chunkings of an answer, as cut offsets (none: one piece). */
function chunkings(a: Answer, bytes: Uint8Array, seed: number): number[][] {
  const out: number[][] = [[]];
  // Compressed bytes have no spans to aim at: every other cut (each cuts the decoder's output elsewhere).
  const every = (stride: number) => Array.from({ length: bytes.byteLength - 1 }, (_, i) => i + 1).filter((i) => i % stride === 0);
  const splits = a.everySplit ? every(1) : a.coding ? every(2) : interestingSplits(bytes, a.text, a.errorFirst === true || a.alone === true);
  for (const s of splits) out.push([s]);
  const rand = seededRandom(seed);
  for (let k = 0; k < RANDOM_CHUNKINGS; k++) {
    const n = 2 + Math.floor(rand() * 8);
    const cuts = new Set<number>();
    while (cuts.size < Math.min(n, bytes.byteLength - 1)) cuts.add(1 + Math.floor(rand() * (bytes.byteLength - 1)));
    out.push([...cuts].sort((x, y) => x - y));
  }
  if (a.byteByByte) out.push(Array.from({ length: bytes.byteLength - 1 }, (_, i) => i + 1));
  return out;
}

// --- the gateway ---

let gw: ChunkingGateway;
// The second target answers as the first would have without its refusal, in one piece.
beforeAll(() => void (gw = chunkingGateway((a) => (a.stream ? normal(a.dialect) : a.dialect === "gemini" ? geminiArray : chatJson))));
afterAll(() => gw.stop());

describe("every answer is the same whatever its chunking", () => {
  ANSWERS.forEach((a, n) => {
    test(a.name, async () => {
      const bytes = encoded(a);
      const ways = chunkings(a, bytes, 1000 + n);
      const base = await gw.deliver(a, bytes, []);
      const text = plainText(base);
      expect(text).not.toContain(SECRET);
      // A stream that closes inside an event was cut short (a break); every other one of the table
      // ends its answer (or fails), whichever read its end came in.
      const cutShort = a.contentType === SSE && !/(?:\n\r?\n|\r\r)$/.test(a.text);
      expect([a.name, (base.record.error ?? "").includes("before the answer's end")]).toEqual([a.name, cutShort]);
      // Whatever carried usage is counted in the log.
      expect([a.name, base.record.usage !== undefined]).toEqual([a.name, text.includes('"usage')]);
      // A refusal on the only target reaches the client, its key masked.
      if (a.alone) expect(text).toContain(maskSecret(SECRET));
      if (a.errorFirst) {
        expect(base.record.attempts).toEqual([expect.stringMatching(/^a\/m-a:/), "b/m-b:200:ok"]);
        // Keep-alive spaces that went out before the error stay, the second target's answer after them.
        expect(text).toBe(/^\s*/.exec(a.text)![0] + (a.stream ? normal(a.dialect) : chatJson));
      }
      expect(await differences(gw, a, bytes, ways.slice(1), base)).toEqual([]);
    });
  });
});

describe("a relay's own lines", () => {
  for (const d of DIALECTS)
    test(`${d}: comments, id: and other fields are masked; the answer's data passes as it came`, async () => {
      const a: Answer = { name: d, dialect: d, stream: true, contentType: SSE, text: withFields(d) };
      const text = plainText(await gw.deliver(a, encoded(a), []));
      expect(text).toBe(a.text.replaceAll(SECRET, maskSecret(SECRET)));
      expect(text).toContain(SHAPED);
    });
});
