// Error events and error bodies too large to be held whole (over WholeEvents' and WholeErrors' 1 MiB)
// through a real gw, in the pieces a test names (helpers/chunking.ts): a relay that echoes the
// request, a key with it, into a huge error. gw masks every secret it knows wherever it shows
// anything: none may reach the client whatever the size or the cuts — at the error's start, its
// middle, its end, or across any cut — and the rest of the bytes are the upstream's, the record the
// same for every chunking.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { HOLD_MAX_BYTES } from "../../src/lb/first-event.ts";
import { maskSecret } from "../../src/observe/mask.ts";
import { type Answer, type ChunkingGateway, chunkingGateway, differences, encoded, JSON_TYPE, plainText, SECRET, SSE, sse } from "../helpers/chunking.ts";
import { seededRandom } from "../helpers/policy.ts";

/** ASCII prose JSON leaves as it is (a byte a character: secrets can be written in at byte offsets). */
function filler(n: number, seed: number): string {
  const words = ["the", "request", "was", "rejected", "by", "upstream;", "instructions:", "apply", "patch", "(tools)", "C:/path", "- item,", "x=1", "ok."];
  const rand = seededRandom(seed);
  let s = "";
  while (s.length < n) s += `${words[Math.floor(rand() * words.length)]} `;
  return s.slice(0, n);
}

/** Each size's filler, made once: every test builds its answer five times over it. */
const fillers = new Map<number, string>();
const fillerOf = (size: number) => fillers.get(size) ?? (fillers.set(size, filler(size, size)), fillers.get(size)!);

const MESSAGE = "@@MESSAGE@@";
const MIB = 1024 * 1024;

interface Kind {
  readonly name: string;
  readonly dialect: Answer["dialect"];
  readonly stream: boolean;
  /** The answer, its error's message left as MESSAGE. */
  readonly text: string;
  readonly alone?: boolean;
  /** No content came before it: the answer did not break (and a piece cannot tell its status: not judged). */
  readonly late?: boolean;
}

const created = ["response.created", { type: "response.created", response: { id: "resp_1", status: "in_progress" } }] as const;
const delta = ["response.output_text.delta", { type: "response.output_text.delta", delta: "partial answer" }] as const;
const KINDS: readonly Kind[] = [
  {
    name: "a Responses error event after content",
    dialect: "responses",
    stream: true,
    text: sse([created, delta, ["error", { type: "error", error: { type: "invalid_request_error", code: "invalid_api_key", message: MESSAGE } }]]),
  },
  {
    name: "an OpenAI chunk that is an error (no event name) after content",
    dialect: "openai",
    stream: true,
    text: sse([[undefined, { id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { role: "assistant", content: "partial" }, finish_reason: null }] }], [undefined, { error: { message: MESSAGE, type: "invalid_request_error", code: "invalid_api_key" } }]]),
  },
  {
    // SSE joins an event's data lines: its first names the error, the message is on the next.
    name: "an OpenAI error chunk whose data goes on over a second data line, after content",
    dialect: "openai",
    stream: true,
    text: `${sse([[undefined, { id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { role: "assistant", content: "partial" }, finish_reason: null }] }]])}data: {"error":\ndata: {"message":"${MESSAGE}","type":"invalid_request_error","code":"invalid_api_key"}}\n\n`,
  },
  {
    name: "a Responses error event first (one target: delivered)",
    dialect: "responses",
    stream: true,
    alone: true,
    text: sse([["error", { type: "error", error: { type: "invalid_request_error", code: "invalid_api_key", message: MESSAGE } }]]),
  },
  {
    name: "a Gemini JSON array (no length) whose error element follows content",
    dialect: "gemini",
    stream: false,
    text: `[{"candidates":[{"content":{"parts":[{"text":"partial"}],"role":"model"}}]},\r\n{"error":{"code":500,"message":"${MESSAGE}","status":"INTERNAL"}}]`,
  },
  {
    name: "a JSON body (no length) that is an error object, larger than gw reads whole to judge",
    dialect: "openai",
    stream: false,
    alone: true,
    late: true,
    text: `{"error":{"message":"${MESSAGE}","type":"invalid_request_error","code":"invalid_api_key"}}`,
  },
];

/**
 * `kind` with an error message of `size` bytes: the secret at its start, middle and end, and across
 * each of `cuts` that falls in it (starting 1…length-1 bytes before the cut).
 */
function build(kind: Kind, size: number, cuts: readonly number[]): { answer: Answer; bytes: Uint8Array; across: number } {
  const at = kind.text.indexOf(MESSAGE);
  // The filler is ASCII: string offsets are byte offsets. The secrets are written into one copy
  // of it (each in place, a later one over an earlier), not by slicing the whole string per secret.
  const chars = Buffer.from(fillerOf(size), "latin1");
  const put = (i: number) => chars.write(SECRET, i, "latin1");
  put(0);
  put(Math.floor(size / 2));
  put(size - SECRET.length);
  let across = 0;
  for (const c of cuts) {
    const i = c - at - 1 - (across % (SECRET.length - 1));
    if (i > SECRET.length && i < size - 2 * SECRET.length) {
      put(i);
      across++;
    }
  }
  const text = kind.text.replace(MESSAGE, () => chars.toString("latin1"));
  const answer: Answer = { name: kind.name, dialect: kind.dialect, stream: kind.stream, contentType: kind.stream ? SSE : JSON_TYPE, text, alone: kind.alone };
  return { answer, bytes: encoded(answer), across };
}

/** Seeded cuts: 2–9 pieces, and 16 KiB reads. */
function chunkings(length: number, seed: number): number[][] {
  const rand = seededRandom(seed);
  const out: number[][] = [];
  for (let k = 0; k < 3; k++) {
    const cuts = new Set<number>();
    for (let n = 2 + Math.floor(rand() * 8); cuts.size < n; ) cuts.add(1 + Math.floor(rand() * (length - 1)));
    out.push([...cuts].sort((a, b) => a - b));
  }
  out.push(Array.from({ length: Math.ceil(length / 16_384) - 1 }, (_, i) => (i + 1) * 16_384));
  return out;
}

let gw: ChunkingGateway;
beforeAll(() => void (gw = chunkingGateway(() => "")));
afterAll(() => gw.stop());

/**
 * Just past each bound that matters, no further (the cost is in the bytes: each test delivers its
 * answer 8 times): over WholeEvents' and WholeErrors' 1 MiB but within the held opening's 2 MiB
 * (HOLD_MAX_BYTES: an error first is held whole), and over both.
 */
const SIZES = [MIB + 50_000, HOLD_MAX_BYTES + 100_000];

describe("an error too large to hold whole reaches the client masked, whatever its cuts", () => {
  for (const kind of KINDS) {
    for (const size of SIZES) {
      test(`${kind.name}, ${(size / 1e6).toFixed(2)} MB`, async () => {
        const length = build(kind, size, []).bytes.byteLength;
        for (const cuts of chunkings(length, size + kind.name.length)) {
          const { answer, bytes, across } = build(kind, size, cuts);
          const base = await gw.deliver(answer, bytes, []);
          // Start, middle, end, and one across each cut but those just by the message's ends.
          expect(answer.text.split(SECRET).length - 1).toBe(3 + across);
          expect(across).toBeGreaterThanOrEqual(cuts.length - 2);
          // The upstream's bytes, each secret masked.
          expect(plainText(base) === answer.text.replaceAll(SECRET, maskSecret(SECRET))).toBe(true);
          if (!kind.late) expect(base.record.broken).toBe(true);
          expect(await differences(gw, answer, bytes, [cuts], base)).toEqual([]);
        }
      });
    }
  }
});
