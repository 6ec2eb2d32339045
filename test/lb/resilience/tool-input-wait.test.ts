// A tool call whose input comes late: Anthropic sends a parameter's value whole once the model has
// written it (no fine-grained tool streaming), so after a tool_use block's start and its empty
// first partial_json the stream may be silent for as long as a large Write takes. The first-event
// hold keeps such an opening back (an error in it still fails over), but the model is at work:
// the attempt waits for the input as a stream waits inside an answer (lb_idle_timeout_ms of no
// event: CLIProxyAPI's keep-alives meanwhile do not count), not only until the first-byte deadline
// — which failed over, and cooled, a healthy target mid-call.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { claude, type Rig, startRig, waitFor } from "../../helpers/resilience.ts";
import { testUpstream, type TestUpstream } from "../../helpers/lb.ts";

/** Longer than the first-byte deadline (400 ms) several times over, well inside the idle timeout. */
const WRITING_MS = 1500;
const ARGS = '{"path":"big.txt","content":"…"}';

const sse = (name: string, data: object) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

/** The events before the model has written the call's input, and those after it. */
function streamOf(path: string): [string[], string[]] {
  if (path.endsWith("/chat/completions")) {
    const named = chunk({ role: "assistant", tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "Write", arguments: "" } }] });
    return [[named], [chunk({ tool_calls: [{ index: 0, function: { arguments: ARGS } }] }), chunk({}, "tool_calls"), "data: [DONE]\n\n"]];
  }
  const message = { id: "msg_1", type: "message", role: "assistant", model: "claude-x", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 5, output_tokens: 1 } };
  const before = [
    sse("message_start", { type: "message_start", message }),
    sse("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "tool_use", id: "toolu_1", name: "Write", input: {} } }),
    sse("ping", { type: "ping" }),
    sse("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: "" } }),
  ];
  const after = [
    sse("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: ARGS } }),
    sse("content_block_stop", { type: "content_block_stop", index: 0 }),
    sse("message_delta", { type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { output_tokens: 9 } }),
    sse("message_stop", { type: "message_stop" }),
  ];
  return [before, after];
}

/** CLIProxyAPI's `: keep-alive` ticker, which runs while its upstream is silent (streaming.keepalive-seconds). */
const KEEPALIVE_MS = 100;

/**
 * A stream whose tool call's input comes WRITING_MS after the call began, with CLIProxyAPI's
 * keep-alives meanwhile (`written` is told just before the input is sent).
 */
function lateInput(req: Request, written?: () => void): Response {
  const [before, after] = streamOf(new URL(req.url).pathname);
  const bytes = new TextEncoder();
  let open = true;
  const body = new ReadableStream<Uint8Array>({
    async start(c) {
      for (const e of before) c.enqueue(bytes.encode(e));
      // The model writing the input (the scenario, not a wait for the test).
      for (let left = WRITING_MS; left > 0 && open; left -= KEEPALIVE_MS) {
        await Bun.sleep(Math.min(KEEPALIVE_MS, left));
        if (open) c.enqueue(bytes.encode(": keep-alive\n\n"));
      }
      if (!open) return;
      written?.();
      for (const e of after) c.enqueue(bytes.encode(e));
      c.close();
    },
    cancel() {
      open = false;
    },
  });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

let upstream: TestUpstream;
let rig: Rig;
beforeAll(() => {
  upstream = testUpstream((req) => lateInput(req));
  rig = startRig({
    mocks: [],
    upstreams: { up: upstream.url },
    global: "lb_first_byte_timeout_ms = 400\nlb_idle_timeout_ms = 20000\nlb_max_target_retries = 0",
    routing: `"write" = [{ instance = "up", provider = "anthropic", model = "claude-x" }]`,
  });
});
afterAll(async () => {
  await rig.stop();
  upstream.stop();
});

test("Anthropic: a tool call whose input comes after the first-byte deadline is delivered whole, not timed out", async () => {
  const ok = await claude(rig.anthropic(), "write", { stream: true });
  expect(ok.status).toBe(200);
  const call = ok.message.content[0];
  expect(call?.type).toBe("tool_use");
  expect(call?.type === "tool_use" && call.input).toEqual(JSON.parse(ARGS));
}, 30_000);

test("chat: a tool call named before its arguments waits for them the same way", async () => {
  const res = await fetch(`${rig.gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer client" },
    body: JSON.stringify({ model: "write", stream: true, messages: [{ role: "user", content: "write it" }] }),
  });
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(text).toContain('"name":"Write"');
  expect(text).toContain(JSON.stringify(ARGS).slice(1, -1));
  expect(text).toEndWith("data: [DONE]\n\n");
}, 30_000);

// Keep-alives are no sign of life here either (they counted, and moved the deadline for as long as the upstream hung).
test("a tool call that then stays silent past lb_idle_timeout_ms, but for keep-alives, still times out, saying so", async () => {
  const stalled = startRig({
    mocks: [],
    upstreams: { up: upstream.url },
    global: "lb_first_byte_timeout_ms = 300\nlb_idle_timeout_ms = 500\nlb_max_target_retries = 0",
    routing: `"write" = [{ instance = "up", provider = "anthropic", model = "claude-x" }]`,
  });
  try {
    const res = await fetch(`${stalled.gw.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "client", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "write", max_tokens: 64, stream: true, messages: [{ role: "user", content: "write it" }] }),
    });
    expect(res.status).toBe(504);
    expect(await res.text()).toContain("a tool call began, then nothing more within 500 ms");
  } finally {
    await stalled.stop();
  }
}, 30_000);

test("a half-open target's trial that waits for a tool call's input keeps other requests away past the first-byte deadline", async () => {
  // up failed once (cooling 300 ms); its trial then opens a tool call whose input comes 1.5 s later.
  let modelCalls = 0;
  /** Since when up's trial has been writing its call's input (0: it is not). */
  let writingSince = 0;
  let secondTrials = 0;
  const up = testUpstream((req) => {
    if (req.method === "GET") return Response.json({ object: "list", data: [] }); // gw's probe
    if (++modelCalls === 1) return Response.json({ type: "error", error: { type: "api_error", message: "boom" } }, { status: 500 });
    if (writingSince) secondTrials++;
    writingSince = Date.now();
    return lateInput(req, () => (writingSince = 0));
  });
  const trialRig = startRig({
    mocks: ["b"],
    upstreams: { up: up.url },
    global: "lb_first_byte_timeout_ms = 300\nlb_idle_timeout_ms = 20000\nlb_transient_cooldown_ms = 300",
    routing: `"t" = [{ instance = "up", provider = "anthropic", model = "claude-x", priority = 1 }, { instance = "b", provider = "anthropic", model = "claude-b" }]`,
  });
  const ask = () => claude(trialRig.anthropic(), "t", { stream: true });
  try {
    expect(await ask()).toMatchObject({ status: 200, target: "b/claude-b", attempts: 2 });
    let trial: ReturnType<typeof ask> | undefined;
    while (!trial) {
      let settled = false;
      const p = ask().finally(() => (settled = true));
      await waitFor(() => settled || modelCalls === 2, 10_000, "an answer or the trial at up");
      if (settled) await p;
      else trial = p;
    }
    let trialOver = false;
    void trial.finally(() => (trialOver = true)).catch(() => {});
    // Requests sent past the trial's first-byte deadline while it waits for the input: b serves
    // them all. (Once the input came, up's verdict is in and it may serve again.)
    let pastDeadline = 0;
    while (!trialOver) {
      const sent = Date.now();
      const r = await ask();
      if (writingSince && sent > writingSince + 400) {
        expect(r).toMatchObject({ status: 200, target: "b/claude-b", attempts: 1 });
        pastDeadline++;
      }
    }
    expect(secondTrials).toBe(0);
    expect(pastDeadline).toBeGreaterThan(0);
    const answered = await trial;
    expect(answered).toMatchObject({ status: 200, target: "up/claude-x" });
    expect(answered.message.content[0]?.type).toBe("tool_use");
  } finally {
    await trialRig.stop();
    up.stop();
  }
}, 30_000);
