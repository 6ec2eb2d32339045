// An upstream that ends its event stream cleanly in the middle of an answer (CLIProxyAPI whose own
// upstream dropped, a relay restarting, a proxy cutting): the official SDKs through gw, from a
// small upstream that closes its body cleanly where a case says. A cut answer must raise in the
// client and be logged broken; a complete one — in each form a real relay ends it — stays clean.
import Anthropic from "@anthropic-ai/sdk";
import { GoogleGenAI } from "@google/genai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { RunningGateway } from "../../src/lb/server.ts";
import { configFrom, startTestGateway, type TestUpstream, testUpstream } from "../helpers/lb.ts";
import { logRecords } from "../helpers/resilience.ts";
import { tempDir } from "../helpers/tmp.ts";

const enc = new TextEncoder();
const PLAN = "x-test-events";

/** The events the upstream answers with (then a clean end of its body), named by the request's plan header. */
const plans = new Map<string, string[]>();
let upstream: TestUpstream, gw: RunningGateway, dir: string;

beforeAll(() => {
  upstream = testUpstream((req) => {
    const events = plans.get(req.headers.get(PLAN) ?? "") ?? [];
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const e of events) c.enqueue(enc.encode(e));
        c.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  dir = tempDir("gw-truncated-");
  gw = startTestGateway(configFrom(`
[global]
main_port = 8145
[instances.up]
url = "${upstream.url}"
api_key = "sk-up-0123456789abcdef0123"
providers = [{ type = "anthropic", api_keys = ["sk-ant-0123456789abcdef0123456789"] }]
[routing]
"m" = [{ instance = "up", provider = "anthropic", model = "m" }]
`, join(dir, "providers.toml")));
});
afterAll(async () => {
  await gw.stop(0);
  await upstream.stop();
});

let planned = 0;
/** A plan for the next request; its id goes in the request's header. */
function plan(events: string[]): Record<string, string> {
  const id = String(++planned);
  plans.set(id, events);
  return { [PLAN]: id };
}

/** What the client made of the answer: its text, or the error its SDK raised. */
async function outcome(run: () => Promise<string>): Promise<{ text?: string; error?: string }> {
  try {
    return { text: await run() };
  } catch (e) {
    return { error: String((e as Error).message ?? e) };
  }
}

// Requests are made one at a time: the n-th record is the n-th request's.
let records = 0;
async function lastRecord() {
  records++;
  return (await logRecords(dir, records))[records - 1]!;
}

const TRUNCATED = "upstream closed the stream before the answer's end";

const ev = (name: string, data: object) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
const data = (o: object | string) => `data: ${typeof o === "string" ? o : JSON.stringify(o)}\n\n`;
const ask = { messages: [{ role: "user" as const, content: "hi" }] };
const anthropic = (events: string[]) => new Anthropic({ baseURL: gw.url, apiKey: "unused", maxRetries: 0, defaultHeaders: plan(events) });
const openai = (events: string[]) => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0, defaultHeaders: plan(events) });

/** A way a client reads a stream to its answer's text, and what it made of a cut answer before gw judged the end. */
interface Client {
  readonly how: string;
  readonly before: string;
  readonly text: (events: string[]) => Promise<string>;
}

/** A dialect's stream: its opening up to some content ("Hello"), an event cut short, the ways it ends whole. */
interface Case {
  readonly dialect: string;
  readonly opening: string[];
  readonly unfinished: string;
  /** What the first client made of `unfinished` before gw judged the end; now gw drops the cut event and its SDK raises gw's error. */
  readonly unfinishedBefore: string;
  readonly ends: [string, string[]][];
  readonly clients: Client[];
}

const chunk = (delta: object, finish: string | null = null) => data({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] });
const response = (status: string) => ({ id: "resp_1", object: "response", created_at: 1, status, model: "m", output: [], usage: null });
const part = (text: string, finishReason?: string) => data({ candidates: [{ content: { role: "model", parts: [{ text }] }, index: 0, ...(finishReason ? { finishReason } : {}) }], modelVersion: "m" });

const anthropicOpening = [
  ev("message_start", { type: "message_start", message: { id: "msg_1", type: "message", role: "assistant", model: "m", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 5, output_tokens: 1 } } }),
  ev("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
  ev("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hello" } }),
];
const anthropicStop = [ev("content_block_stop", { type: "content_block_stop", index: 0 }), ev("message_delta", { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 2 } })];
const responsesOpening = [
  ev("response.created", { type: "response.created", sequence_number: 0, response: response("in_progress") }),
  ev("response.output_item.added", { type: "response.output_item.added", sequence_number: 1, output_index: 0, item: { id: "msg_1", type: "message", status: "in_progress", role: "assistant", content: [] } }),
  ev("response.content_part.added", { type: "response.content_part.added", sequence_number: 2, item_id: "msg_1", output_index: 0, content_index: 0, part: { type: "output_text", text: "", annotations: [] } }),
  ev("response.output_text.delta", { type: "response.output_text.delta", sequence_number: 3, item_id: "msg_1", output_index: 0, content_index: 0, delta: "Hello" }),
];
const responsesEnd = (name: string, status: string) => [...responsesOpening, ev(name, { type: name, sequence_number: 4, response: response(status) })];
const chatOpening = [chunk({ role: "assistant", content: "" }), chunk({ content: "Hello" })];

// What each SDK made of an answer whose stream closed cleanly before its end, before gw judged
// the end (the request log said a clean success every time), is in `before`.
const CASES: Case[] = [
  {
    dialect: "Anthropic",
    opening: anthropicOpening,
    unfinished: 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","te',
    unfinishedBefore: "returned the cut text quietly (it drops an event the stream never finished)",
    ends: [
      ["message_stop", [...anthropicOpening, ...anthropicStop, ev("message_stop", { type: "message_stop" })]],
      ["a message_delta with its stop_reason, no message_stop", [...anthropicOpening, ...anthropicStop]],
    ],
    clients: [
      {
        how: "messages.create({stream: true}), its events read as Claude Code does",
        before: "returned the cut text quietly",
        text: async (events) => {
          let text = "";
          for await (const e of await anthropic(events).messages.create({ model: "m", max_tokens: 100, ...ask, stream: true })) {
            if (e.type === "content_block_delta" && e.delta.type === "text_delta") text += e.delta.text;
          }
          return text;
        },
      },
      {
        how: "messages.stream().finalMessage()",
        before: "raised 'stream ended without producing a Message with role=assistant'",
        text: async (events) => (await anthropic(events).messages.stream({ model: "m", max_tokens: 100, ...ask }).finalMessage()).content.map((b) => (b.type === "text" ? b.text : "")).join(""),
      },
    ],
  },
  {
    dialect: "OpenAI chat",
    opening: chatOpening,
    unfinished: 'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":" wor',
    unfinishedBefore: "raised 'malformed server-sent event JSON'",
    ends: [
      ["data: [DONE]", [...chatOpening, data("[DONE]")]],
      ["a finish_reason, no [DONE]", [...chatOpening, chunk({}, "stop")]],
      ["a finish_reason, then a usage chunk, no [DONE]", [...chatOpening, chunk({}, "stop"), data({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } })]],
    ],
    clients: [
      {
        how: "chat.completions.create({stream: true})",
        before: "returned the cut text quietly",
        text: async (events) => {
          let text = "";
          for await (const c of await openai(events).chat.completions.create({ model: "m", ...ask, stream: true })) text += c.choices[0]?.delta?.content ?? "";
          return text;
        },
      },
      {
        how: "chat.completions.stream().finalChatCompletion()",
        before: "raised 'missing finish_reason for choice 0'",
        text: async (events) => (await openai(events).chat.completions.stream({ model: "m", ...ask }).finalChatCompletion()).choices[0]?.message.content ?? "",
      },
    ],
  },
  {
    dialect: "OpenAI Responses",
    opening: responsesOpening,
    unfinished: 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":4,"delta":" wor',
    unfinishedBefore: "raised 'malformed server-sent event JSON'",
    ends: [
      ["response.completed", responsesEnd("response.completed", "completed")],
      ["response.incomplete", responsesEnd("response.incomplete", "incomplete")],
      // Relays that send no `event:` lines: a Python relay's models put the type last; a whole answer passes the watcher's line cap.
      ["response.completed as data alone, its type last", [...responsesOpening, data({ response: response("completed"), sequence_number: 4, type: "response.completed" })]],
      ["response.completed as data alone, over 1 MB", [...responsesOpening, data({ type: "response.completed", sequence_number: 4, response: { ...response("completed"), instructions: "x".repeat(1_100_000) } })]],
    ],
    clients: [
      {
        how: "responses.create({stream: true})",
        before: "returned the cut text quietly",
        text: async (events) => {
          let text = "";
          for await (const e of await openai(events).responses.create({ model: "m", input: "hi", stream: true })) if (e.type === "response.output_text.delta") text += e.delta;
          return text;
        },
      },
      {
        how: "responses.stream().finalResponse()",
        before: "returned the cut text quietly",
        text: async (events) => (await openai(events).responses.stream({ model: "m", input: "hi" }).finalResponse()).output_text,
      },
    ],
  },
  {
    dialect: "Gemini",
    opening: [part("Hello")],
    unfinished: 'data: {"candidates":[{"content":{"role":"model","parts":[{"text":" wor',
    unfinishedBefore: "raised 'Incomplete JSON segment at the end'",
    ends: [
      ["a candidate with its finishReason", [part("Hel"), part("lo", "STOP")]],
      ["a candidate over 1 MB (an image) with its finishReason", [part("Hello"), data({ candidates: [{ content: { role: "model", parts: [{ inlineData: { mimeType: "image/png", data: "A".repeat(1_200_000) } }] }, finishReason: "STOP", index: 0 }] })]],
    ],
    clients: [
      {
        how: "models.generateContentStream()",
        before: "returned the cut text quietly",
        text: async (events) => {
          const ai = new GoogleGenAI({ apiKey: "unused", httpOptions: { baseUrl: gw.url, apiVersion: "v1beta", headers: plan(events) } });
          let text = "";
          for await (const c of await ai.models.generateContentStream({ model: "m", contents: "hi" })) text += c.text ?? "";
          return text;
        },
      },
    ],
  },
];

describe.each(CASES)("$dialect", (c) => {
  test.each(c.clients)("$how, the stream closed after some content: raises gw's error, logged broken (before: it $before)", async (client) => {
    expect(await outcome(() => client.text(c.opening))).toEqual({ error: expect.stringContaining(TRUNCATED) });
    const r = await lastRecord();
    expect([r.response.broken, r.response.error]).toEqual([true, TRUNCATED]);
  });

  test(`closed inside an event: the unfinished event is dropped (as SSE clients drop it), gw's error goes out; logged broken (before: the SDK ${c.unfinishedBefore}; logged clean)`, async () => {
    expect(await outcome(() => c.clients[0]!.text([...c.opening, c.unfinished]))).toEqual({ error: expect.stringContaining(TRUNCATED) });
    const r = await lastRecord();
    expect([r.response.broken, r.response.error]).toEqual([true, TRUNCATED]);
  });

  test.each(c.ends)("ends with %s: the answer whole, clean", async (_, events) => {
    expect(await outcome(() => c.clients[0]!.text(events))).toEqual({ text: "Hello" });
    const r = await lastRecord();
    expect([r.response.broken, r.response.error]).toEqual([undefined, undefined]);
  });

  // The SSE spec lets a line end in a bare CR, as in CRLF or LF; the SDKs read such a stream as any other.
  test.each(c.ends)("ends with %s, every line ending in a bare CR: the answer whole, clean", async (_, events) => {
    expect(await outcome(() => c.clients[0]!.text(events.map((e) => e.replaceAll("\n", "\r"))))).toEqual({ text: "Hello" });
    const r = await lastRecord();
    expect([r.response.broken, r.response.error]).toEqual([undefined, undefined]);
  });
});

test("a stream on a path that is no model call has no end to wait for: its clean close is clean", async () => {
  const res = await fetch(`${gw.url}/v1/other`, { method: "POST", headers: plan(["data: first\n\n"]), body: JSON.stringify({ model: "m", stream: true }) });
  expect(await res.text()).toBe("data: first\n\n");
  const r = await lastRecord();
  expect([r.response.broken, r.response.error]).toEqual([undefined, undefined]);
});

test("a Gemini prompt it blocked (promptFeedback.blockReason, no candidate) is a whole answer: clean", async () => {
  const events = [data({ promptFeedback: { blockReason: "PROHIBITED_CONTENT" }, usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 }, modelVersion: "m" })];
  const ai = new GoogleGenAI({ apiKey: "unused", httpOptions: { baseUrl: gw.url, apiVersion: "v1beta", headers: plan(events) } });
  const reasons = await outcome(async () => {
    let got = "";
    for await (const c of await ai.models.generateContentStream({ model: "m", contents: "hi" })) got += c.promptFeedback?.blockReason ?? "";
    return got;
  });
  expect(reasons).toEqual({ text: "PROHIBITED_CONTENT" });
  const r = await lastRecord();
  expect([r.response.broken, r.response.error]).toEqual([undefined, undefined]);
});
