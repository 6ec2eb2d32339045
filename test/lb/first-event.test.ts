import { describe, expect, test } from "bun:test";
import { endsTheAnswer } from "../../src/lb/answer-end.ts";
import { errorStatus } from "../../src/lb/error-objects.ts";
import { holdOpening, judgeEvent, startsToolCall } from "../../src/lb/first-event.ts";
import { EventSplitter } from "../../src/lb/sse-events.ts";
import { textStream } from "../helpers/streams.ts";

const ev = (name: string, data: unknown) => ({ name, data: typeof data === "string" ? data : JSON.stringify(data), size: 0 });
const enc = new TextEncoder();

describe("judgeEvent", () => {
  test("handshakes and keep-alives are opening, in every dialect", () => {
    expect(judgeEvent(ev("message_start", { type: "message_start" }))).toBe("opening");
    expect(judgeEvent(ev("content_block_start", { type: "content_block_start" }))).toBe("opening");
    expect(judgeEvent(ev("ping", { type: "ping" }))).toBe("opening");
    expect(judgeEvent(ev("", ""))).toBe("opening"); // `: keep-alive`
    expect(judgeEvent(ev("response.created", {}))).toBe("opening");
    expect(judgeEvent(ev("", { type: "response.in_progress" }))).toBe("opening");
    // A reasoning item opens with an empty summary part before its first delta (Codex, CLIProxyAPI's translators).
    expect(judgeEvent(ev("response.reasoning_summary_part.added", { part: { type: "summary_text", text: "" } }))).toBe("opening");
    expect(judgeEvent(ev("response.reasoning_summary_text.delta", { delta: "Let me" }))).toBe("content");
    // A tool_use block's empty first input delta, named or not; its first piece of input is content.
    const input = (partial_json: string) => ({ type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json } });
    expect([judgeEvent(ev("content_block_delta", input(""))), judgeEvent(ev("", input("")))]).toEqual(["opening", "opening"]);
    expect(judgeEvent(ev("content_block_delta", input("{\"q")))).toBe("content");
    // A thinking block whose text is omitted carries its signature alone; its end is no output either.
    const blockDelta = (delta: Record<string, unknown>) => ({ type: "content_block_delta", index: 0, delta });
    expect(judgeEvent(ev("content_block_delta", blockDelta({ type: "signature_delta", signature: "EqQBCkgIARABGAIiQ" })))).toBe("opening");
    expect(judgeEvent(ev("", blockDelta({ type: "signature_delta", signature: "EqQBCkgIARABGAIiQ" })))).toBe("opening");
    expect(judgeEvent(ev("content_block_delta", blockDelta({ type: "thinking_delta", thinking: "" })))).toBe("opening");
    expect(judgeEvent(ev("content_block_stop", { type: "content_block_stop", index: 0 }))).toBe("opening");
    expect(judgeEvent(ev("content_block_delta", blockDelta({ type: "thinking_delta", thinking: "Let me" })))).toBe("content");
    expect(judgeEvent(ev("content_block_delta", blockDelta({ type: "text_delta", text: "signature_delta" })))).toBe("content");
    const role = { object: "chat.completion.chunk", choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] };
    expect(judgeEvent(ev("", role))).toBe("opening");
    // Relays' role chunks carry empty fields of their own (OpenRouter, DeepSeek).
    const openrouter = { object: "chat.completion.chunk", provider: "X", choices: [{ index: 0, delta: { role: "assistant", content: "", reasoning: null, reasoning_details: [] }, finish_reason: null, native_finish_reason: null, logprobs: null }] };
    expect(judgeEvent(ev("", openrouter))).toBe("opening");
    // Azure's first chunk has no choice yet, only its prompt filter's verdict; a usage chunk is no opening.
    const azure = { id: "", object: "", created: 0, model: "", choices: [], prompt_filter_results: [{ prompt_index: 0, content_filter_results: { hate: { filtered: false, severity: "safe" } } }] };
    expect(judgeEvent(ev("", azure))).toBe("opening");
    expect(judgeEvent(ev("", { object: "chat.completion.chunk", choices: [], usage: { prompt_tokens: 3, completion_tokens: 5 } }))).toBe("content");
    const deepseek = { object: "chat.completion.chunk", choices: [{ index: 0, delta: { role: "assistant", content: null, reasoning_content: "" }, finish_reason: null }] };
    expect(judgeEvent(ev("", deepseek))).toBe("opening");
    const thinking = { object: "chat.completion.chunk", choices: [{ index: 0, delta: { reasoning_content: "Let me" }, finish_reason: null }] };
    expect(judgeEvent(ev("", thinking))).toBe("content");
  });
  test("the first output is content", () => {
    expect(judgeEvent(ev("content_block_delta", { type: "content_block_delta" }))).toBe("content");
    expect(judgeEvent(ev("response.output_text.delta", {}))).toBe("content");
    const text = { object: "chat.completion.chunk", choices: [{ index: 0, delta: { content: "Hi" }, finish_reason: null }] };
    expect(judgeEvent(ev("", text))).toBe("content");
    const call = (args?: string) => ({ index: 0, id: "call_1", type: "function", function: { name: "Glob", ...(args === undefined ? {} : { arguments: args }) } });
    const chunk = (...calls: unknown[]) => ({ object: "chat.completion.chunk", choices: [{ index: 0, delta: { role: "assistant", tool_calls: calls }, finish_reason: null }] });
    expect(judgeEvent(ev("", chunk(call('{"pattern"'))))).toBe("content");
    expect(judgeEvent(ev("", chunk(call(""), call('{"a":1}'))))).toBe("content");
    expect(judgeEvent(ev("", chunk({ index: 0, id: "call_1" })))).toBe("content"); // no function: not a call's opening we know
    // The call named, its input not written yet: an opening, as Anthropic's tool_use block start.
    expect(judgeEvent(ev("", chunk(call(""))))).toBe("opening");
    expect(judgeEvent(ev("", chunk(call())))).toBe("opening");
    expect(judgeEvent(ev("", { candidates: [{ content: { parts: [{ text: "x" }] } }] }))).toBe("content");
    expect(judgeEvent(ev("", "[DONE]"))).toBe("end");
    expect(judgeEvent(ev("", "not json"))).toBe("content");
  });
  test("errors in each API's shape, with the status they stand for", () => {
    expect(judgeEvent(ev("error", { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }))).toEqual({ status: 529 });
    expect(judgeEvent(ev("", { error: { code: "model_cooldown", message: "cooling", reset_seconds: 60 } }))).toEqual({ status: 429 });
    expect(judgeEvent(ev("", { error: { message: "auth_unavailable: x", type: "server_error" } }))).toEqual({ status: 500 });
    expect(judgeEvent(ev("", { error: { code: 429, message: "quota", status: "RESOURCE_EXHAUSTED" } }))).toEqual({ status: 429 });
    expect(judgeEvent(ev("error", { type: "error", code: "server_is_overloaded", message: "busy", sequence_number: 2 }))).toEqual({ status: 503 });
    expect(judgeEvent(ev("response.failed", { type: "response.failed", response: { error: { code: "rate_limit_exceeded" } } }))).toEqual({ status: 429 });
    expect(judgeEvent(ev("error", "{broken"))).toEqual({ status: 500 });
  });
  test("a Responses event that merely carries `error: null` is no error", () => {
    expect(judgeEvent(ev("", { type: "response.created", response: { error: null } }))).toBe("opening");
    expect(errorStatus({ error: { type: "invalid_request_error" } })).toBe(400);
    // The code says more than a type derived from the status: Codex's response.failed, a 404.
    const failed = { type: "response.failed", sequence_number: 0, response: { status: "failed", error: { code: "invalid_api_key", message: "x", type: "invalid_request_error" } } };
    expect(errorStatus(failed)).toBe(401);
    expect(errorStatus({ error: { message: "x", type: "invalid_request_error", code: "model_not_found" } })).toBe(404);
    expect(errorStatus({ error: { message: "x", type: "invalid_request_error", code: "context_length_exceeded" } })).toBe(400);
  });
});

describe("startsToolCall", () => {
  test("an opening that names a tool call whose input is to come, in every dialect", () => {
    const block = (type: string) => ({ type: "content_block_start", index: 0, content_block: { type, id: "toolu_1", name: "Write", input: {} } });
    for (const t of ["tool_use", "server_tool_use"]) expect([startsToolCall(ev("content_block_start", block(t))), startsToolCall(ev("", block(t)))]).toEqual([true, true]);
    expect(startsToolCall(ev("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: "" } }))).toBe(true);
    const added = (type: string) => ({ type: "response.output_item.added", output_index: 0, item: { type, id: "fc_1", name: "shell", arguments: "" } });
    expect(startsToolCall(ev("response.output_item.added", added("function_call")))).toBe(true);
    expect(startsToolCall(ev("response.output_item.added", added("custom_tool_call")))).toBe(true);
    const named = { object: "chat.completion.chunk", choices: [{ index: 0, delta: { role: "assistant", tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "Write", arguments: "" } }] }, finish_reason: null }] };
    expect(startsToolCall(ev("", named))).toBe(true);
  });
  test("other openings do not (a text or thinking block, a reasoning or message item, a role chunk, a handshake echoing tools)", () => {
    const block = (content_block: object) => ({ type: "content_block_start", index: 0, content_block });
    expect(startsToolCall(ev("content_block_start", block({ type: "text", text: "" })))).toBe(false);
    expect(startsToolCall(ev("content_block_start", block({ type: "thinking", thinking: "", signature: "" })))).toBe(false);
    expect(startsToolCall(ev("response.output_item.added", { item: { type: "reasoning", summary: [] } }))).toBe(false);
    expect(startsToolCall(ev("response.output_item.added", { item: { type: "message", content: [] } }))).toBe(false);
    expect(startsToolCall(ev("response.created", { response: { tools: [{ type: "function", name: "tool_calls_use" }] } }))).toBe(false);
    expect(startsToolCall(ev("message_start", { type: "message_start", message: { content: [{ type: "tool_use" }] } }))).toBe(false);
    const role = { object: "chat.completion.chunk", choices: [{ index: 0, delta: { role: "assistant", content: "", tool_calls: [] }, finish_reason: null }] };
    expect(startsToolCall(ev("", role))).toBe(false);
  });
});

describe("endsTheAnswer", () => {
  const data = (o: unknown) => `data: ${JSON.stringify(o)}`;
  test("each dialect's end, by its event's name or by its data", () => {
    expect(endsTheAnswer("event: message_stop")).toBe(true);
    expect(endsTheAnswer("event:response.completed")).toBe(true);
    expect(endsTheAnswer(data({ type: "message_stop" }))).toBe(true);
    expect(endsTheAnswer(data({ type: "message_delta", delta: { stop_reason: "tool_use" } }))).toBe(true);
    expect(endsTheAnswer("data: [DONE]")).toBe(true);
    expect(endsTheAnswer("data:[DONE]")).toBe(true);
    expect(endsTheAnswer(data({ object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: "length" }] }))).toBe(true);
    expect(endsTheAnswer(data({ type: "response.incomplete", response: {} }))).toBe(true);
    expect(endsTheAnswer(data({ candidates: [{ content: { parts: [] }, finishReason: "MAX_TOKENS" }] }))).toBe(true);
    // Google's own spacing
    expect(endsTheAnswer('data: {"candidates": [{"content": {"parts": [{"text": "x"}],"role": "model"},"finishReason": "STOP","index": 0}]}')).toBe(true);
  });

  test("openings, content, and a stop that is only text, are no end", () => {
    expect(endsTheAnswer("event: message_delta")).toBe(false);
    expect(endsTheAnswer(data({ type: "message_start", message: { stop_reason: null } }))).toBe(false);
    expect(endsTheAnswer(data({ type: "message_delta", delta: { stop_reason: null } }))).toBe(false);
    expect(endsTheAnswer(data({ choices: [{ index: 0, delta: { content: "hi" }, finish_reason: null, stop_reason: "x" }] }))).toBe(false);
    expect(endsTheAnswer(data({ type: "content_block_delta", delta: { text: '{"finish_reason":"stop","type":"message_stop"} [DONE]' } }))).toBe(false);
    expect(endsTheAnswer(data({ type: "response.output_text.delta", delta: '"finishReason": "STOP"' }))).toBe(false);
    expect(endsTheAnswer(data({ candidates: [{ content: { parts: [{ text: "a" }] } }] }))).toBe(false);
    expect(endsTheAnswer(": keep-alive")).toBe(false);
    expect(endsTheAnswer("")).toBe(false);
  });
});

describe("EventSplitter", () => {
  test("events split on blank lines (LF or CRLF), across chunks, UTF-8 kept whole", () => {
    const s = new EventSplitter();
    const bytes = enc.encode('event: a\r\ndata: {"t":"é"}\r\n\r\n: keep-alive\n\ndata: x\ndata: y\n\n');
    const first = s.push(bytes.slice(0, 22)); // splits the é
    const rest = s.push(bytes.slice(22));
    expect([...first, ...rest].map((e) => [e.name, e.data])).toEqual([
      ["a", '{"t":"é"}'],
      ["", ""],
      ["", "x\ny"],
    ]);
  });
  test("the same events wherever a read cuts, between \\r and \\n too", () => {
    const bytes = enc.encode('event: error\r\ndata: {"type":"error"}\r\n\r\n');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const s = new EventSplitter();
      const events = [...s.push(bytes.slice(0, cut)), ...s.push(bytes.slice(cut))];
      expect([cut, events.map((e) => [e.name, e.data])]).toEqual([cut, [["error", '{"type":"error"}']]]);
    }
  });
  test("the same events and sizes wherever two reads cut a stream (LF, CRLF, CR), blank lines across the joints too", () => {
    const bytes = enc.encode('event: a\r\ndata: é\r\n\r\n\n\n: k\r\rdata: x\ndata: y\n\nevent: error\r\ndata: {}\r\n\r\n');
    const split = (cuts: number[]) => {
      const s = new EventSplitter();
      const edges = [0, ...cuts, bytes.length];
      return edges.slice(1).flatMap((e, k) => s.push(bytes.slice(edges[k], e))).map((ev) => [ev.name, ev.data, ev.size]);
    };
    const whole = split([]);
    expect(whole.map(([name, data]) => [name, data])).toEqual([["a", "é"], ["", ""], ["", ""], ["", "x\ny"], ["error", "{}"]]);
    for (let i = 0; i <= bytes.length; i++) for (let j = i; j <= bytes.length; j++) expect([i, j, split([i, j])]).toEqual([i, j, whole]);
  });
  // A Codex handshake echoes its request's tools (hundreds of KB) and comes in reads of a TCP
  // segment or so: each read must not cost the length of what came before it. Counted, not timed:
  // the characters the splitter's line-end rewrite goes over (it did the whole held event again
  // at every read: 1.4 billion here, 924 ms of CPU).
  test("an event of 2 MB in reads of 1,448 bytes is gone over once, not once per read", () => {
    const bytes = enc.encode(`event: response.created\ndata: {"response":{"instructions":"${"x".repeat(2_000_000)}"}}\n\n`);
    const replace = String.prototype.replace;
    let scanned = 0;
    String.prototype.replace = function (this: string, ...args: Parameters<typeof replace>) {
      scanned += this.length;
      return replace.apply(this, args);
    } as typeof replace;
    try {
      const s = new EventSplitter();
      let n = 0;
      for (let i = 0; i < bytes.length; i += 1448) n += s.push(bytes.subarray(i, i + 1448)).length;
      expect(n).toBe(1);
    } finally {
      String.prototype.replace = replace;
    }
    expect(scanned).toBeLessThanOrEqual(bytes.length);
  });
});

describe("holdOpening", () => {
  const stream = textStream;
  test("holds the handshake and hands over the reader at the first content", async () => {
    const o = await holdOpening(stream("event: message_start\ndata: {}\n\n", "event: content_block_delta\ndata: {}\n\n", "event: message_stop\ndata: {}\n\n"));
    expect(o.kind).toBe("deliver");
    if (o.kind !== "deliver") return;
    expect(o.source.head).toHaveLength(2);
    expect(new TextDecoder().decode((await o.source.reader.read()).value)).toContain("message_stop");
  });
  test("a stream that ends during its opening, or says it did ([DONE] before any content), is empty", async () => {
    const o = await holdOpening(stream("event: message_start\ndata: {}\n\n"));
    expect(o.kind === "empty" && o.source.done).toBe(true);
    const done = await holdOpening(stream('data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant"},"finish_reason":null}]}\n\ndata: [DONE]\n\n'));
    expect(done.kind).toBe("empty");
    const answered = await holdOpening(stream('data: {"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}\n\ndata: [DONE]\n\n'));
    expect(answered.kind).toBe("deliver");
  });
  test("says when its opening begins a tool call (the caller's deadline then waits for the input), and at each event after it, not at a keep-alive", async () => {
    let began = 0;
    const o = await holdOpening(
      stream(
        'event: message_start\ndata: {"type":"message_start"}\n\n',
        'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"Write","input":{}}}\n\n',
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":""}}\n\n',
        ": keep-alive\n\n",
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{}"}}\n\n',
      ),
      undefined,
      undefined,
      () => began++,
    );
    expect(o.kind).toBe("deliver");
    expect(began).toBe(2); // the block's start, its empty delta; not message_start before it, nor the keep-alive after
  });
  test("a stream that breaks (or is aborted) during its opening: nothing to deliver", async () => {
    let ctrl!: ReadableStreamDefaultController<Uint8Array>;
    const silent = new ReadableStream<Uint8Array>({ start: (c) => ((ctrl = c), c.enqueue(enc.encode("event: message_start\ndata: {}\n\n"))) });
    const held = holdOpening(silent);
    ctrl.error(new Error("aborted"));
    expect(await held).toMatchObject({ kind: "broke" });
  });
});
