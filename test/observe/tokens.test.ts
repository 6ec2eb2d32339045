import { describe, expect, test } from "bun:test";
import { usageFromJson, usageFromSse } from "../../src/observe/tokens.ts";

const enc = new TextEncoder();

/** Feed `text` in chunks of `size` bytes (splits lines and multi-byte characters). */
function watch(text: string, size: number) {
  const w = usageFromSse();
  const bytes = enc.encode(text);
  for (let i = 0; i < bytes.length; i += size) w.push(bytes.subarray(i, i + size));
  return w;
}

/** A tool definition of about 1.2 MB (MCP servers' tools, echoed by Responses' handshake and completion). */
const TOOL = JSON.stringify({ type: "function", name: "big", description: "d".repeat(1_200_000), parameters: { type: "object" } });

/** 1.6 MB of a tool call's arguments whose middle, dropped, leaves no JSON. */
const EDITS = JSON.stringify(Array.from({ length: 60_000 }, (_, i) => ({ line: i, text: "x".repeat(i % 7) })));

const ANTHROPIC = [
  "event: message_start",
  'data: {"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":120,"cache_creation_input_tokens":30,"cache_read_input_tokens":400,"output_tokens":1}}}',
  "",
  ": keep-alive",
  "",
  "event: content_block_delta",
  'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"héllo wörld"}}',
  "",
  "event: message_delta",
  'data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":57}}',
  "",
  "event: message_stop",
  'data: {"type":"message_stop"}',
  "",
  "",
].join("\r\n");

describe("usageFromSse: an upstream error inside the stream", () => {
  const delta = 'event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"text":"the error event: {\\"error\\"}"}}\n\n';
  test.each([
    ["an Anthropic error event", 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n', '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'],
    ["CLIProxyAPI's Gemini error event", 'event: error\ndata: {"error":{"message":"Overloaded","type":"server_error"}}\n\n', '{"error":{"message":"Overloaded","type":"server_error"}}'],
    ["an OpenAI error payload", 'data: {"error":{"message":"boom","type":"server_error"}}\n\n', '{"error":{"message":"boom","type":"server_error"}}'],
    ["a Responses failure", 'event: response.failed\ndata: {"type":"response.failed","response":{"error":{"code":"server_error"}}}\n\n', '{"type":"response.failed","response":{"error":{"code":"server_error"}}}'],
  ])("%s is noted, in 5-byte chunks", (_, tail, data) => {
    expect(watch(ANTHROPIC + delta + tail, 5).streamError?.()).toBe(data);
  });

  test("content that talks about errors is no error", () => {
    expect(watch(ANTHROPIC + delta, 7).streamError?.()).toBeUndefined();
  });
});

describe("usageFromSse", () => {
  test.each([1, 3, 17, 4096])("Anthropic stream in %d-byte chunks", (size) => {
    expect(watch(ANTHROPIC, size).usage()).toEqual({ input: 120, output: 57, cacheRead: 400, cacheWrite: 30 });
  });

  test("OpenAI chat: final usage chunk; cached tokens leave input", () => {
    const s =
      'data: {"id":"c","choices":[{"delta":{"content":"hi"}}]}\n\n' +
      'data: {"id":"c","choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":20,"prompt_tokens_details":{"cached_tokens":600}}}\n\n' +
      "data: [DONE]\n\n";
    expect(watch(s, 7).usage()).toEqual({ input: 400, output: 20, cacheRead: 600 });
  });

  test("OpenAI chat with usage: null in every chunk reports nothing", () => {
    expect(watch('data: {"choices":[],"usage":null}\n\ndata: [DONE]\n\n', 5).usage()).toBeUndefined();
  });

  test("Responses: response.completed usage and the response id", () => {
    const s =
      'event: response.created\ndata: {"type":"response.created","response":{"id":"resp_abc","usage":null}}\n\n' +
      'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"x"}\n\n' +
      'event: response.completed\ndata: {"type":"response.completed","response":{"id":"resp_abc","usage":{"input_tokens":50,"input_tokens_details":{"cached_tokens":10},"output_tokens":9}}}\n\n';
    const w = watch(s, 11);
    expect(w.usage()).toEqual({ input: 40, output: 9, cacheRead: 10 });
    expect(w.responseId()).toBe("resp_abc");
  });

  test("Gemini: the last usageMetadata wins; thoughts count as output", () => {
    const s =
      'data: {"candidates":[{"content":{"parts":[{"text":"a"}]}}],"usageMetadata":{"promptTokenCount":80,"candidatesTokenCount":1}}\r\n\r\n' +
      'data: {"candidates":[{"content":{"parts":[{"text":"b"}]}}],"usageMetadata":{"promptTokenCount":80,"candidatesTokenCount":12,"thoughtsTokenCount":30,"cachedContentTokenCount":20}}\r\n\r\n';
    expect(watch(s, 9).usage()).toEqual({ input: 60, output: 42, cacheRead: 20 });
  });

  // Gemini's image models answer with the image's base64 and the usage after it, in one line of
  // megabytes: a line that long loses its middle, and its usage was lost with it.
  test("Gemini: a chunk of megabytes (an image) still reports the usage at its end; text that only names usage does not", () => {
    const image = "iVBORw0KGgo".repeat(300_000); // 3.3 MB
    const chunk = `data: {"candidates":[{"content":{"role":"model","parts":[{"inlineData":{"mimeType":"image/png","data":"${image}"}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":12,"candidatesTokenCount":1290,"promptTokensDetails":[{"modality":"TEXT","tokenCount":12}]},"modelVersion":"gemini-2.5-flash-image"}\r\n\r\n`;
    const w = watch(chunk, 65_536);
    expect(w.usage()).toEqual({ input: 12, output: 1290 });
    expect(w.answerEnded!()).toBe(true);
    const talk = `data: {"candidates":[{"content":{"parts":[{"text":"${"x".repeat(1_100_000)} \\"usage\\": {\\"prompt_tokens\\": 9}"}]}}]}\n\n`;
    expect(watch(talk, 65_536).usage()).toBeUndefined();
  });

  // A line over 1 MiB keeps only its start and end when it comes in many reads; in one read it is
  // read whole. What the watcher says must not depend on which.
  test.each([
    ["Responses whose handshake and completion echo 1.2 MB of tools", `event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"resp_big","object":"response","status":"in_progress","tools":[${TOOL}],"usage":null}}\n\nevent: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"x"}\n\nevent: response.completed\ndata: {"type":"response.completed","sequence_number":3,"response":{"id":"resp_big","object":"response","status":"completed","tools":[${TOOL}],"usage":{"input_tokens":50,"output_tokens":9}}}\n\n`],
    ["a Gemini function call of 1.6 MB ending with a reason argument, no finishReason", `data: {"candidates":[{"content":{"parts":[{"functionCall":{"name":"edit","args":{"edits":${EDITS},"reason":"update"}}}],"role":"model"}}]}\n\n`],
    ["an OpenAI delta of 1.2 MB with its finish and usage", `data: {"id":"c","choices":[{"index":0,"delta":{"content":"${"z".repeat(1_200_000)}"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":7}}\n\ndata: [DONE]\n\n`],
  ])("%s: the same read whole or in pieces", (_, text) => {
    const said = (w: ReturnType<typeof usageFromSse>) => ({ usage: w.usage(), id: w.responseId(), ended: w.answerEnded!(), errors: w.errorEvents!() });
    const whole = said(watch(text, text.length * 4));
    for (const size of [65_536, 1448]) expect([size, said(watch(text, size))]).toEqual([size, whole]);
  });

  test("no usage at all, and a malformed usage line, are harmless", () => {
    expect(watch('data: {"usage": {broken\n\ndata: {"type":"ping"}\n\n', 4).usage()).toBeUndefined();
    expect(watch("", 1).usage()).toBeUndefined();
  });
});

describe("usageFromJson", () => {
  test("Anthropic message", () => {
    expect(usageFromJson('{"id":"msg","usage":{"input_tokens":5,"output_tokens":7}}')).toEqual({ input: 5, output: 7 });
  });
  test("OpenAI chat completion", () => {
    expect(usageFromJson({ usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 } })).toEqual({ input: 9, output: 3 });
  });
  test("Responses object", () => {
    expect(usageFromJson({ id: "resp", usage: { input_tokens: 9, input_tokens_details: { cached_tokens: 0 }, output_tokens: 2 } })).toEqual({
      input: 9,
      output: 2,
    });
  });
  test("Gemini generateContent", () => {
    expect(usageFromJson({ usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 6 } })).toEqual({ input: 4, output: 6 });
  });
  test("Gemini streamGenerateContent without alt=sse: an array of chunks, the last report counting", () => {
    const chunks = [{ candidates: [], usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 1 } }, { candidates: [] }, { candidates: [], usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 6 } }];
    expect(usageFromJson(JSON.stringify(chunks))).toEqual({ input: 4, output: 6 });
    expect(usageFromJson([{ candidates: [] }])).toBeUndefined();
  });
  test("a count below zero is no count: /metrics counters never go down, the status page shows no negative cost, gw usage agrees", () => {
    expect(usageFromJson({ usage: { input_tokens: -5000, output_tokens: -100 } })).toEqual({});
    expect(usageFromJson({ usage: { input_tokens: 12, output_tokens: -1, cache_read_input_tokens: -3 } })).toEqual({ input: 12 });
    expect(usageFromJson({ usageMetadata: { promptTokenCount: -4, candidatesTokenCount: 6 } })).toEqual({ output: 6 });
  });
  test("not JSON, or no usage", () => {
    expect(usageFromJson("<html>")).toBeUndefined();
    expect(usageFromJson({ error: { message: "x" } })).toBeUndefined();
  });
});

// The usage CLIProxyAPI writes when it translates an answer into the client's dialect
// (internal/translator/*/openai/*_response.go): every token counted once, each as the kind it is billed as.
describe("usage as CLIProxyAPI translates it", () => {
  test("a Claude answer in chat completions: cache writes ride in prompt_tokens as cached_creation_tokens", () => {
    const chunk = {
      id: "chatcmpl-1",
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta: {}, finish_reason: "stop" }],
      usage: { prompt_tokens: 42_050, completion_tokens: 310, total_tokens: 42_360, prompt_tokens_details: { cached_tokens: 40_000, cached_creation_tokens: 2_000 } },
    };
    const expected = { input: 50, output: 310, cacheRead: 40_000, cacheWrite: 2_000 };
    expect(watch(`data: ${JSON.stringify(chunk)}\n\ndata: [DONE]\n\n`, 13).usage()).toEqual(expected);
    expect(usageFromJson({ object: "chat.completion", usage: chunk.usage })).toEqual(expected);
  });

  test("an OpenAI-compatible relay's cache_write_tokens / cache_creation_tokens (chat and Responses) count as cache writes", () => {
    expect(usageFromJson({ usage: { prompt_tokens: 1_000, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 600, cache_write_tokens: 300 } } })).toEqual({
      input: 100,
      output: 5,
      cacheRead: 600,
      cacheWrite: 300,
    });
    expect(usageFromJson({ usage: { prompt_tokens: 1_000, completion_tokens: 5, prompt_tokens_details: { cache_creation_tokens: 300 } } })).toEqual({ input: 700, output: 5, cacheWrite: 300 });
    expect(usageFromJson({ object: "response", usage: { input_tokens: 1_000, input_tokens_details: { cached_tokens: 0, cache_write_tokens: 300 }, output_tokens: 5 } })).toEqual({
      input: 700,
      output: 5,
      cacheWrite: 300,
    });
  });

  test("a Gemini answer in chat completions and Responses: the thoughts beside the completion are output too", () => {
    // Gemini's totalTokenCount (prompt + candidates + thoughts) says the thoughts are not inside completion_tokens.
    const chat = { prompt_tokens: 1_000, completion_tokens: 120, total_tokens: 1_620, completion_tokens_details: { reasoning_tokens: 500 }, prompt_tokens_details: { cached_tokens: 200 } };
    expect(watch(`data: ${JSON.stringify({ choices: [], usage: chat })}\n\n`, 9).usage()).toEqual({ input: 800, output: 620, cacheRead: 200 });
    const completed = {
      type: "response.completed",
      response: { id: "resp_g", usage: { input_tokens: 1_000, input_tokens_details: { cached_tokens: 200 }, output_tokens: 120, output_tokens_details: { reasoning_tokens: 500 }, total_tokens: 1_620 } },
    };
    expect(watch(`event: response.completed\ndata: ${JSON.stringify(completed)}\n\n`, 9).usage()).toEqual({ input: 800, output: 620, cacheRead: 200 });
  });

  test("OpenAI's own reasoning is inside the completion: not counted twice", () => {
    const u = { prompt_tokens: 1_000, completion_tokens: 620, total_tokens: 1_620, completion_tokens_details: { reasoning_tokens: 500 } };
    expect(usageFromJson({ usage: u })).toEqual({ input: 1_000, output: 620 });
    expect(usageFromJson({ object: "response", usage: { input_tokens: 1_000, input_tokens_details: { cached_tokens: 0 }, output_tokens: 620, output_tokens_details: { reasoning_tokens: 500 }, total_tokens: 1_620 } })).toEqual({
      input: 1_000,
      output: 620,
    });
  });

  test("Anthropic's cache_creation object: the hour-long writes are told apart (priced 2× input, not 1.25×)", () => {
    const start = {
      type: "message_start",
      message: { id: "msg_1", usage: { input_tokens: 10, cache_creation_input_tokens: 3_000, cache_read_input_tokens: 50_000, cache_creation: { ephemeral_5m_input_tokens: 1_000, ephemeral_1h_input_tokens: 2_000 }, output_tokens: 1 } },
    };
    const delta = { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 77 } };
    const s = `event: message_start\ndata: ${JSON.stringify(start)}\n\nevent: message_delta\ndata: ${JSON.stringify(delta)}\n\n`;
    expect(watch(s, 6).usage()).toEqual({ input: 10, output: 77, cacheRead: 50_000, cacheWrite: 3_000, cacheWrite1h: 2_000 });
    expect(usageFromJson({ usage: { input_tokens: 4, output_tokens: 2, cache_creation_input_tokens: 9, cache_creation: { ephemeral_5m_input_tokens: 9, ephemeral_1h_input_tokens: 0 } } })).toEqual({
      input: 4,
      output: 2,
      cacheWrite: 9,
    });
  });
});

describe("usageFromSse: a line too long to keep whole", () => {
  // The record's error is read from it: it must not depend on where the reads cut it.
  test("is its start and its end, wherever the reads cut it; an error is known by its start before its end", () => {
    const message = Array.from({ length: 300_000 }, (_, i) => `w${i % 977}`).join(" ");
    const bytes = new TextEncoder().encode(`data: {"error":{"message":"${message}","code":"invalid_api_key"}}\n\n`);
    const seen = [bytes.length, 1448, 16_384, 70_001].map((size) => {
      const w = usageFromSse();
      let open = false;
      for (let i = 0; i < bytes.length; i += size) {
        w.push(bytes.subarray(i, i + size));
        if (i + size < bytes.length - 2) open ||= w.inError!();
      }
      return [w.streamError!(), open || size === bytes.length];
    });
    const line = `{"error":{"message":"${message}","code":"invalid_api_key"}}`;
    expect(seen[0]![0]).toBe(`${line.slice(0, 250)}${line.slice(-4096)}`);
    for (const s of seen) expect(s).toEqual(seen[0]!);
  });
});

// A Codex handshake echoes its request (hundreds of KB), a Gemini image is megabytes on one line,
// and TCP hands them over in reads of a segment or so: each read must not be searched again with
// all of the line before it. Counted (characters searched for a line end), not timed.
describe("usageFromSse's cost", () => {
  for (const size of [1_000_000, 4_000_000]) {
    test(`a line of ${size / 1e6} MB in reads of 1,448 bytes is searched once, not once per read`, () => {
      const bytes = new TextEncoder().encode(`event: response.completed\ndata: {"type":"response.completed","response":{"id":"r1","instructions":"${"x".repeat(size)}","usage":{"input_tokens":12,"output_tokens":9}}}\n\n`);
      const indexOf = String.prototype.indexOf;
      let searched = 0;
      String.prototype.indexOf = function (this: string, what: string, from?: number) {
        const at = indexOf.call(this, what, from);
        if (what === "\n") searched += (at === -1 ? this.length : at + 1) - (from ?? 0);
        return at;
      } as typeof indexOf;
      const w = usageFromSse();
      try {
        for (let i = 0; i < bytes.length; i += 1448) w.push(bytes.subarray(i, i + 1448));
      } finally {
        String.prototype.indexOf = indexOf;
      }
      expect([w.usage(), w.responseId(), w.answerEnded!()]).toEqual([{ input: 12, output: 9 }, "r1", true]);
      expect(searched).toBeLessThanOrEqual(bytes.length);
    });
  }
});
