// A Codex-sized Responses handshake end to end: the official openai SDK through `gw lb` (a real
// child process) to `gw mock` children, whose response.created / response.in_progress echo the
// request as ChatGPT's Codex backend does (src/mock/dialects/codex-response.ts). With ~300 KB of
// instructions and tools each opening event is ~300 KB: the answer, the echo and the logged usage
// must come through, and a refusal after that opening (a 429 in the 200 stream, before content)
// must still fail over — gw holds the opening back until content, up to HOLD_MAX_BYTES (at 64 KiB
// the refusal reached the client).
import OpenAI from "openai";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { answerPieces } from "../../../src/mock/answer.ts";
import { logRecords, type MocksBehindGw, mocksBehindGw } from "../../helpers/resilience.ts";
import { tempDir } from "../../helpers/tmp.ts";

const MODEL = "gpt-5.5";
/** The mock's answer length (its default --events). */
const EVENTS = 12;

/** Deterministic ASCII text of `n` characters with what JSON escapes (quotes, backslashes, newlines). */
function prose(n: number, seed: number): string {
  const words = ["the", "patch", "must", "apply", "cleanly;", '"quoted"', "C:\\path", "tests\n", "- item\n", "`code`"];
  let s = "";
  for (let i = seed; s.length < n; i = (i * 7 + 3) % 101) s += `${words[i % words.length]} `;
  return s.slice(0, n);
}

/** Codex CLI-like function tools (MCP servers' included), `bytes` of JSON in all. */
function codexTools(bytes: number): OpenAI.Responses.FunctionTool[] {
  const out: OpenAI.Responses.FunctionTool[] = [];
  for (let i = 0, size = 0; size < bytes; i++) {
    const t: OpenAI.Responses.FunctionTool = {
      type: "function",
      name: `mcp__server__tool_${i}`,
      description: prose(1500, i),
      strict: false,
      parameters: { type: "object", properties: { path: { type: "string", description: prose(300, i + 1) } }, required: ["path"], additionalProperties: false },
    };
    out.push(t);
    size += JSON.stringify(t).length;
  }
  return out;
}

const INSTRUCTIONS = prose(30_000, 7);
const TOOLS = codexTools(270_000);

let dir: string;
let rig: MocksBehindGw | undefined;
let client: OpenAI;

beforeAll(async () => {
  dir = tempDir("gw-handshake-");
  rig = await mocksBehindGw(dir, {
    type: "codex",
    mockArgs: (n, port) => ["--port", String(port), "--api-key", `key-${n}`, "--name", n],
    routing: `"codex" = [{ instance = "a", provider = "codex", model = "${MODEL}" }]
"codex.failover" = [{ instance = "a", provider = "codex", model = "${MODEL}~429~after=0", priority = 1 }, { instance = "b", provider = "codex", model = "${MODEL}" }]
`,
  });
  client = rig.client;
});
afterAll(() => rig?.stop());

/** Streams `route` with the big instructions and tools: who answered, the text, response.created's object. */
async function bigStream(route: string) {
  const { data, response } = await client.responses
    .create({ model: route, stream: true, input: "fix the failing test", instructions: INSTRUCTIONS, tools: TOOLS })
    .withResponse();
  let text = "";
  let created: OpenAI.Responses.Response | undefined;
  for await (const ev of data) {
    if (ev.type === "response.created") created = ev.response;
    if (ev.type === "response.output_text.delta") text += ev.delta;
  }
  return { target: response.headers.get("x-gw-target"), attempts: Number(response.headers.get("x-gw-attempts")), id: response.headers.get("x-gw-request-id"), text, created };
}

const answerOf = (instance: string) => answerPieces(instance, MODEL, EVENTS).join("");

test("~300 KB of instructions and tools: the answer streams, response.created echoes them, the log has the usage", async () => {
  const r = await bigStream("codex");
  expect(r.text).toBe(answerOf("a"));
  expect(r.created!.instructions).toBe(INSTRUCTIONS);
  expect(r.created!.tools).toEqual(TOOLS);
  // Each opening event is bigger than the request's instructions and tools: over 64 KiB many times.
  expect(JSON.stringify(r.created).length).toBeGreaterThan(300_000);
  const [rec] = await logRecords(dir, 1, (x) => x.id === r.id);
  expect(rec!.request.bytes).toBeGreaterThan(300_000);
  // The mock counts a token per 4 bytes of the body it got (gw swaps the route for the model).
  expect(rec!.usage).toEqual({ input: Math.ceil((rec!.request.bytes - "codex".length + MODEL.length) / 4), output: EVENTS });
  expect(rec!.response.status).toBe(200);
});

test("a 429 after that handshake, before any content, fails over: the SDK gets b's answer", async () => {
  const r = await bigStream("codex.failover");
  expect([r.target, r.attempts]).toEqual([`b/${MODEL}`, 2]);
  expect(r.text).toBe(answerOf("b"));
  expect(r.created!.instructions).toBe(INSTRUCTIONS);
  const [rec] = await logRecords(dir, 1, (x) => x.id === r.id);
  expect(rec!.routing.attempts.map((a) => [a.instance, a.status])).toEqual([
    ["a", 429],
    ["b", 200],
  ]);
  expect(rec!.usage?.output).toBe(EVENTS);
});
