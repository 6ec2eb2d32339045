// OpenAI Chat Completions and Responses against the mock through the openai SDK.

import { afterAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { startMock } from "../helpers/mock.ts";

const mock = startMock({ name: "beta", apiKeys: ["k-beta"], models: ["gpt-5", "gemini-3-flash"] });
afterAll(() => mock.stop());
const client = new OpenAI({ apiKey: "k-beta", baseURL: `${mock.url}/v1`, maxRetries: 0 });
const messages = [{ role: "user" as const, content: "hi" }];

async function rawStream(path: string, body: object): Promise<{ res: Response; text: string }> {
  const res = await fetch(`${mock.url}${path}`, {
    method: "POST",
    headers: { authorization: "Bearer k-beta", "content-type": "application/json" },
    body: JSON.stringify({ ...body, stream: true }),
  });
  return { res, text: await res.text() };
}

describe("POST /v1/chat/completions", () => {
  test("non-streamed answer with usage", async () => {
    const r = await client.chat.completions.create({ model: "gpt-5", messages });
    expect(r.object).toBe("chat.completion");
    expect(r.model).toBe("gpt-5");
    expect(r.choices[0]!.finish_reason).toBe("stop");
    expect(r.choices[0]!.message.content).toBe("Mock answer from instance beta, model gpt-5. ok ok ok ok ok");
    expect(r.usage!.completion_tokens).toBe(12);
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + 12);
  });

  test("streamed: role chunk, content chunks, finish chunk, usage chunk", async () => {
    const stream = await client.chat.completions.create({ model: "gpt-5", messages, stream: true });
    let text = "";
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("Mock answer from instance beta, model gpt-5. ok ok ok ok ok");
    expect(finish).toBe("stop");
    expect(usage?.completion_tokens).toBe(12);
  });

  test("raw stream: data-only frames ending in data: [DONE]", async () => {
    const { res, text } = await rawStream("/v1/chat/completions", { model: "gpt-5", messages });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const frames = text.split("\n\n").filter(Boolean);
    expect(frames.at(-1)).toBe("data: [DONE]");
    for (const f of frames.slice(0, -1)) expect(JSON.parse(f.replace(/^data: /, "")).object).toBe("chat.completion.chunk");
    const usageChunk = JSON.parse(frames.at(-2)!.slice(6));
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage.completion_tokens).toBe(12);
  });

  test("unknown model: 400 with CLIProxyAPI's model_not_found body", async () => {
    const err = await client.chat.completions.create({ model: "gpt-9", messages }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.error).toEqual({ message: "unknown provider for model gpt-9", type: "invalid_request_error", code: "model_not_found", param: "model" });
  });

  test("a thinking suffix is not part of the registered name", async () => {
    const r = await client.chat.completions.create({ model: "gpt-5(high)", messages });
    expect(r.choices[0]!.message.content).toContain("model gpt-5(high)");
  });
});

describe("POST /v1/responses", () => {
  test("non-streamed response with output_text and usage", async () => {
    const r = await client.responses.create({ model: "gpt-5", input: "hi" });
    expect(r.object).toBe("response");
    expect(r.status).toBe("completed");
    expect(r.output_text).toBe("Mock answer from instance beta, model gpt-5. ok ok ok ok ok");
    expect(r.usage!.output_tokens).toBe(12);
  });

  test("streamed: response.created … response.completed, sequence numbers in order", async () => {
    const stream = await client.responses.create({ model: "gpt-5", input: "hi", stream: true });
    const types: string[] = [];
    const seqs: number[] = [];
    let text = "";
    let completed: OpenAI.Responses.Response | undefined;
    for await (const ev of stream) {
      types.push(ev.type);
      seqs.push(ev.sequence_number);
      if (ev.type === "response.output_text.delta") text += ev.delta;
      if (ev.type === "response.completed") completed = ev.response;
    }
    expect(types[0]).toBe("response.created");
    expect(types[1]).toBe("response.in_progress");
    expect(types.at(-1)).toBe("response.completed");
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(text).toBe("Mock answer from instance beta, model gpt-5. ok ok ok ok ok");
    expect(completed!.status).toBe("completed");
    expect(completed!.usage!.output_tokens).toBe(12);
  });

  test("the response object echoes the request, as the Codex backend's does: in created, in_progress, completed and the JSON", async () => {
    const tools = [{ type: "function" as const, name: "read_file", description: "Reads a file.", strict: false, parameters: { type: "object", properties: { path: { type: "string" } } } }];
    const req = { model: "gpt-5", input: "hi", instructions: "You are Codex.", tools, reasoning: { effort: "high" as const }, prompt_cache_key: "s-1", temperature: 0.2 };
    // temperature is one of the fields CLIProxyAPI takes out before the backend: its default comes back.
    const expected = {
      instructions: "You are Codex.",
      tools,
      reasoning: { context: "all_turns", effort: "high", mode: "standard", summary: null },
      prompt_cache_key: "s-1",
      store: false,
      parallel_tool_calls: true,
      previous_response_id: null,
      temperature: 1,
    };
    const echoed = (r: OpenAI.Responses.Response) => Object.fromEntries(Object.keys(expected).map((k) => [k, (r as unknown as Record<string, unknown>)[k]]));
    const seen: Record<string, OpenAI.Responses.Response> = {};
    for await (const ev of await client.responses.create({ ...req, stream: true })) {
      if (ev.type === "response.created" || ev.type === "response.in_progress" || ev.type === "response.completed") seen[ev.type] = ev.response;
    }
    expect(Object.keys(seen)).toEqual(["response.created", "response.in_progress", "response.completed"]);
    for (const r of Object.values(seen)) expect(echoed(r)).toEqual(expected);
    expect(echoed(await client.responses.create(req))).toEqual(expected);
    // Nothing to echo: CLIProxyAPI sends instructions "" (normalizeCodexInstructions), no tools.
    const bare = await client.responses.create({ model: "gpt-5", input: "hi" });
    expect([bare.instructions, bare.tools, bare.tool_choice]).toEqual(["", [], "auto"]);
  });

  test("POST /v1/responses/compact answers the upstream's compaction object and refuses stream: true before looking at the model (Compact)", async () => {
    const post = (body: object) =>
      fetch(`${mock.url}/v1/responses/compact`, { method: "POST", headers: { authorization: "Bearer k-beta" }, body: JSON.stringify(body) });
    const ok = await post({ model: "gpt-5", input: "hi", stream: false });
    expect(ok.headers.get("content-type")).toBe("application/json");
    // Not a response object (codex_executor_compact_test.go): gw must not take its id for a Responses id.
    const compaction = await ok.json();
    expect(Object.keys(compaction)).toEqual(["id", "object", "created_at", "output", "usage"]);
    expect(compaction.object).toBe("response.compaction");
    expect(compaction.output.map((i: { type: string; role?: string }) => i.role ?? i.type)).toEqual(["user", "compaction"]);
    expect(compaction.usage.output_tokens).toBe(12);
    // gemini-3-flash is served by the Gemini executor, which does not compact.
    const gemini = await post({ model: "gemini-3-flash", input: "hi" });
    expect([gemini.status, await gemini.json()]).toEqual([501, { error: { message: "/responses/compact not supported", type: "server_error", code: "internal_server_error" } }]);
    const streamed = await post({ model: "nope", input: "hi", stream: true });
    expect(streamed.status).toBe(400);
    expect(await streamed.json()).toEqual({ error: { message: "Streaming not supported for compact responses", type: "invalid_request_error" } });
  });

  test("the Codex CLI's direct base path /backend-api/codex serves the same, behind the same key", async () => {
    // server_routes.go: the codexDirect group (chatgpt_base_url compatible).
    const codex = new OpenAI({ apiKey: "k-beta", baseURL: `${mock.url}/backend-api/codex`, maxRetries: 0 });
    expect((await codex.responses.create({ model: "gpt-5", input: "hi" })).output_text).toStartWith("Mock answer from instance beta, model gpt-5.");
    const compact = await fetch(`${mock.url}/backend-api/codex/responses/compact`, { method: "POST", headers: { authorization: "Bearer k-beta" }, body: '{"model":"gpt-5","input":"hi"}' });
    expect(compact.status).toBe(200);
    const denied = await fetch(`${mock.url}/backend-api/codex/responses`, { method: "POST", body: '{"model":"gpt-5","input":"hi"}' });
    expect([denied.status, await denied.text()]).toEqual([401, '{"error":"Missing API key"}']);
  });

  test("raw stream: every frame is event: + data: with matching type; a finished stream ends with one more newline", async () => {
    const { text } = await rawStream("/v1/responses", { model: "gpt-5", input: "hi" });
    // CLIProxyAPI's forwardResponsesStream: WriteDone writes "\n" after the last frame.
    expect(text).toEndWith("}\n\n\n");
    const frames = text.split("\n\n").filter((f) => f.trim());
    for (const f of frames) {
      const m = /^event: (\S+)\ndata: (.*)$/.exec(f);
      expect(m).not.toBeNull();
      expect(JSON.parse(m![2]!).type).toBe(m![1]);
    }
  });
});
