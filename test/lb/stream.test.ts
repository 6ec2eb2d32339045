// Streaming with hand-made upstreams (exact byte timing, a raw socket that drops mid-chunk):
// bytes pass as they arrive, disconnects reach the upstream, a broken stream ends with an error
// event. The same behaviours through SDKs and gw mock: faults.test.ts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Gateway } from "../../src/lb/server.ts";
import { endsAnswer } from "../../src/lb/answer-end.ts";
import { errorEventEnd, relay, type RelayEnd } from "../../src/lb/stream.ts";
import { WholeEvents } from "../../src/lb/whole-events.ts";
import { configFrom, externalInstances, startTestGateway, testUpstream, type TestUpstream, waitFor } from "../helpers/lb.ts";

const enc = new TextEncoder();
const SSE = { "content-type": "text/event-stream" };
let up: TestUpstream, gw: Gateway;
/** Speaks just enough HTTP to start a chunked event stream, then drops the connection. */
let dropper: Bun.TCPSocketListener<undefined>;
/** Releases the second event of the "gated" stream. */
let releaseGate: () => void = () => {};
const cancelled: string[] = [];

beforeAll(() => {
  up = testUpstream((req, seen) => {
    const model = JSON.parse(seen.body || "{}").model as string;
    if (model === "hang") return new Promise<Response>(() => {}); // never answers
    const body = new ReadableStream<Uint8Array>({
      async start(c) {
        c.enqueue(enc.encode("event: one\ndata: {}\n\n"));
        if (model === "gated") {
          await new Promise<void>((r) => (releaseGate = r));
          c.enqueue(enc.encode("event: two\ndata: {}\n\n"));
          c.close();
        }
      },
      async pull(c) {
        if (model !== "endless") return;
        await Bun.sleep(20);
        c.enqueue(enc.encode("data: tick\n\n"));
      },
      cancel() {
        cancelled.push(model);
      },
    });
    return new Response(body, { headers: SSE });
  });
  dropper = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket) {
        const event = "event: one\ndata: {}\n\n";
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n`);
        socket.write(`${event.length.toString(16)}\r\n${event}\r\n`);
        setTimeout(() => socket.end(), 20); // no terminating chunk: the stream is cut
      },
    },
  });
  gw = startTestGateway(configFrom(`
[global]
main_port = 8145
${externalInstances({ a: up.url, cut: `http://127.0.0.1:${dropper.port}` })}
[routing]
"s" = [{ instance = "a", provider = "anthropic", model = "gated" }]
"broken" = [{ instance = "cut", provider = "anthropic", model = "broken" }]
`));
});
afterAll(async () => {
  await gw.stop(0);
  await up.stop();
  dropper.stop(true);
});

const start = (model: string, signal?: AbortSignal) =>
  fetch(`${gw.url}/v1/messages`, { method: "POST", body: JSON.stringify({ model, stream: true }), signal });

async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, text: string): Promise<string> {
  let got = "";
  const dec = new TextDecoder();
  while (!got.includes(text)) {
    const { done, value } = await reader.read();
    if (done) break;
    got += dec.decode(value, { stream: true });
  }
  return got;
}

describe("streaming", () => {
  test("each event reaches the client before the next one exists (no buffering)", async () => {
    const res = await start("s"); // routed: model "s" → upstream "gated"
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.getReader();
    expect(await readUntil(reader, "event: one")).toContain("event: one");
    expect(gw.stats().openStreams).toBe(1);
    releaseGate();
    const rest = await readUntil(reader, "event: two");
    expect(rest).toContain("event: two");
    await readUntil(reader, "\u0000"); // to the end
    await waitFor(() => gw.stats().openStreams === 0, 5000, "stream to close");
  });

  test("a stream that breaks after bytes ends with an error event in the client's dialect", async () => {
    const text = await (await start("broken")).text();
    expect(text).toContain("event: one");
    expect(text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"upstream stream broke/);
  });

  test("client disconnect before headers aborts the upstream request", async () => {
    const ctrl = new AbortController();
    const pending = start("hang", ctrl.signal).catch(() => "aborted");
    await waitFor(() => up.seen.some((s) => s.body.includes('"hang"')), 5000, "upstream to receive the request");
    ctrl.abort();
    expect(await pending).toBe("aborted");
    await waitFor(() => up.aborted.length > 0, 5000, "upstream to see the abort");
  });

  test("client disconnect mid-stream cancels the upstream stream", async () => {
    const ctrl = new AbortController();
    const res = await start("endless", ctrl.signal);
    const reader = res.body!.getReader();
    await readUntil(reader, "tick");
    ctrl.abort();
    await waitFor(() => cancelled.includes("endless"), 5000, "upstream stream to be cancelled");
    await waitFor(() => gw.stats().openStreams === 0 && gw.stats().inFlight === 0, 5000, "gw to forget the stream");
  });
});

// deliver.ts's event-stream end: WholeEvents hands on whole events, endsAnswer reads them.
describe("the end of a stream: OpenAI's data: [DONE], Anthropic's message_stop, Responses' completed", () => {
  /** Relays `parts` (one read each) as deliver.ts does, from an upstream that never closes. */
  const relayed = async (parts: string[]) => {
    const events = new WholeEvents();
    let end: RelayEnd | undefined;
    const upstream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(enc.encode(p)); // …and never closes
      },
    });
    // A missed end is cut by the idle timeout: the answer then ends broken, with an error event.
    const body = relay(upstream, { breakEnd: errorEventEnd("openai"), idleMs: 1000, onChunk: (c) => events.push(c), last: endsAnswer, onEnd: (e) => (end = e) });
    const text = await new Response(body).text();
    return { text, broken: end?.broken };
  };
  const content = 'data: {"choices":[{"delta":{"content":"x"}}]}\n\n';

  test("ends the answer, whole, wherever the reads cut the end event (LF and CRLF), or byte by byte", async () => {
    for (const done of ["data: [DONE]\n\n", "data:[DONE]\r\n\r\n"]) {
      for (let cut = 0; cut <= done.length; cut++) {
        const parts = [content, done.slice(0, cut), done.slice(cut)].filter(Boolean);
        expect(await relayed(parts)).toEqual({ text: content + done, broken: false });
      }
      expect(await relayed([content, ...done])).toEqual({ text: content + done, broken: false });
      expect(await relayed([content + done])).toEqual({ text: content + done, broken: false });
    }
  });

  test("content, a [DONE] without its blank line, one inside an event's text or a named event is no end", () => {
    const ends = (...parts: string[]) => {
      const w = new WholeEvents();
      return parts.map((p) => endsAnswer(w.push(enc.encode(p))));
    };
    expect(ends(content)).toEqual([false]);
    expect(ends("data: [DONE]\n")).toEqual([false]);
    expect(ends("data: [1,2]\n\n", 'data: {"t":"data: [DONE]"}\n\n')).toEqual([false, false]);
    expect(ends('data: {"t":"\n\ndata: [DONE]\n\n"}\n\n')).toEqual([false]);
    expect(ends("event: x\ndata: [DONE]\n\n")).toEqual([false]);
    expect(ends("data: [DO", "NE]\n", "\n")).toEqual([false, false, true]);
  });

  test("Anthropic's message_stop and a Responses stream's response.completed or incomplete end it too, by event name or by the data's type, wherever the reads cut them", async () => {
    const anthropic = 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}\n\n';
    const responses = 'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"x"}\n\n';
    const cases = [
      [anthropic, 'event: message_stop\ndata: {"type":"message_stop"}\n\n'],
      [anthropic, 'data: {"type":"message_stop"}\r\n\r\n'],
      [responses, 'event: response.completed\ndata: {"type":"response.completed","response":{"id":"r","status":"completed","output":[]}}\n\n'],
      [responses, 'data: {"response":{"id":"r","status":"incomplete"},"type":"response.incomplete"}\n\n'],
    ];
    for (const [content, last] of cases) {
      for (let cut = 0; cut <= last!.length; cut += 7) {
        const parts = [content!, last!.slice(0, cut), last!.slice(cut)].filter(Boolean);
        expect(await relayed(parts)).toEqual({ text: content! + last!, broken: false });
      }
    }
  });

  test("the events before the last, and content that quotes a last event's name, are no end", () => {
    const ends = (...parts: string[]) => {
      const w = new WholeEvents();
      return parts.map((p) => endsAnswer(w.push(enc.encode(p))));
    };
    expect(ends('event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"}}\n\n')).toEqual([false]);
    expect(ends('event: content_block_delta\ndata: {"type":"content_block_delta","delta":{"type":"text_delta","text":"\\"type\\":\\"message_stop\\""}}\n\n')).toEqual([false]);
    expect(ends('event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"response.completed"}\n\n')).toEqual([false]);
    expect(ends('data: {"choices":[{"delta":{},"finish_reason":"stop"}]}\n\n')).toEqual([false]); // usage and [DONE] may follow
    expect(ends('data: {"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"STOP"}]}\n\n')).toEqual([false]);
  });
});
