// Answers that open with a thinking block or a tool call (`gw mock`'s `think` and `tool` knobs, in
// CLIProxyAPI's shapes) through gw: each official SDK's stream helper assembles the call and the
// thinking whole; gw's first-event hold takes their openings (content_block_start tool_use and its
// empty first input_json_delta, output_item.added reasoning / function_call,
// reasoning_summary_part.added) for handshake, so an error event before their first delta with
// something in it still fails over, unseen — and one after it stays in the stream; usage is read
// from such answers.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type Anthropic from "@anthropic-ai/sdk";
import { FunctionCallingConfigMode, Type } from "@google/genai";
import { geminiClient, logRecords, type Rig, startRig } from "../../helpers/resilience.ts";

let rig: Rig;

const SCHEMA = { type: "object", properties: { city: { type: "string" }, days: { type: "integer" } }, required: ["city", "days"] };
const ARGS = { city: "gw-mock", days: 1 };
const ASK = [{ role: "user" as const, content: "weather in Paris?" }];

/** A failing first target in the top tier, a healthy one below it. */
const pair = (first: string, second: string) =>
  `[{ instance = "a", provider = "anthropic", model = "${first}", priority = 1 }, { instance = "b", provider = "anthropic", model = "${second}" }]`;
const one = (model: string) => `[{ instance = "a", provider = "anthropic", model = "${model}" }]`;

beforeAll(() => {
  rig = startRig({
    mocks: ["a", "b"],
    global: "lb_transient_cooldown_ms = 600000\nlb_transient_heavy_cooldown_ms = 600000",
    routing: [
      `"tool" = ${one("claude-a~tool")}`,
      `"think.tool" = ${one("claude-a~think~tool")}`,
      `"chat.think.tool" = ${one("gpt-a~think~tool")}`,
      `"chat.claude.think.tool" = ${one("claude-a~think~tool")}`,
      `"translated.think.tool" = ${one("claude-a~think~tool")}`,
      `"codex.think.tool" = ${one("gpt-a~think~tool")}`,
      `"gemini.think.tool" = ${one("gemini-a~think~tool")}`,
      `"late.tool" = ${pair("claude-a~tool~529~after=1", "claude-b~tool")}`,
      // Codex-served: CLIProxyAPI's Codex translator names a chat tool call before its arguments.
      `"named.tool.chat" = ${pair("gpt-a~tool~529~after=1", "gpt-b~tool")}`,
      `"late.tool.chat" = ${pair("gpt-a~tool~529~after=2", "gpt-b~tool")}`,
      ...["anthropic", "chat", "gemini", "translated"].flatMap((d) => [
        `"failover.tool.${d}" = ${pair("claude-a~tool~529~after=0", "claude-b~tool")}`,
        `"failover.think.${d}" = ${pair("claude-a~think~529~after=0", "claude-b~think")}`,
      ]),
      `"failover.tool.codex" = ${pair("gpt-a~tool~429~after=0", "gpt-b~tool")}`,
      `"failover.think.codex" = ${pair("gpt-a~think~429~after=0", "gpt-b~think")}`,
    ].join("\n"),
  });
});
afterAll(() => rig.stop());

/** The request-log record of the last request to `route`. */
const lastRecord = async (route: string) => (await logRecords(rig.dir, 1, (r) => r.routing.requested === route)).at(-1)!;
/** The output tokens gw logged for the first `count` requests to `route`. */
const outputs = async (route: string, count: number) => (await logRecords(rig.dir, count, (r) => r.routing.requested === route)).map((r) => r.usage?.output);

const claudeTools: Anthropic.Tool[] = [{ name: "get_weather", description: "weather", input_schema: SCHEMA as Anthropic.Tool.InputSchema }];
const chatTools = [{ type: "function" as const, function: { name: "get_weather", parameters: SCHEMA } }];
const responsesTools = [{ type: "function" as const, name: "get_weather", parameters: SCHEMA, strict: false }];
const geminiTools = [
  { functionDeclarations: [{ name: "get_weather", parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING }, days: { type: Type.INTEGER } }, required: ["city", "days"] } }] },
];

describe("the SDKs' stream helpers assemble a tool call and a thinking block through gw", () => {
  test("Anthropic: thinking (signed) then tool_use, streamed and not; its result gets text back", async () => {
    const body = { model: "think.tool", max_tokens: 1024, messages: ASK, tools: claudeTools };
    const streamed = await rig.anthropic().messages.stream(body).finalMessage();
    const whole = await rig.anthropic().messages.create(body);
    for (const m of [streamed, whole]) {
      expect(m.stop_reason).toBe("tool_use");
      expect(m.content.map((b) => b.type)).toEqual(["thinking", "tool_use"]);
      const [thinking, call] = m.content as [Anthropic.ThinkingBlock, Anthropic.ToolUseBlock];
      expect(thinking.signature).toStartWith("claude#");
      expect(thinking.thinking).toContain("Thinking as claude-a");
      expect([call.name, call.input]).toEqual(["get_weather", ARGS]);
      expect(call.id).toStartWith("toolu_");
    }
    // The tool's result ends the loop: text, end_turn.
    const call = streamed.content[1] as Anthropic.ToolUseBlock;
    const next = await rig
      .anthropic()
      .messages.stream({
        ...body,
        messages: [...ASK, { role: "assistant", content: streamed.content }, { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "sunny" }] }],
      })
      .finalMessage();
    expect([next.stop_reason, next.content.map((b) => b.type)]).toEqual(["end_turn", ["thinking", "text"]]);
    expect((next.content[1] as Anthropic.TextBlock).text).toStartWith("Mock answer from instance a");
  });

  test("Anthropic: a tool-first stream (no thinking); usage read: 1 output token", async () => {
    const m = await rig.anthropic().messages.stream({ model: "tool", max_tokens: 1024, messages: ASK, tools: claudeTools }).finalMessage();
    expect(m.content as unknown[]).toEqual([{ type: "tool_use", id: expect.stringMatching(/^toolu_/), name: "get_weather", input: ARGS }]);
    expect(await outputs("tool", 1)).toEqual([1]);
  });

  test("OpenAI chat, Codex-served: reasoning_content then tool_calls, streamed and not; finish_reason tool_calls; usage read", async () => {
    const body = { model: "chat.think.tool", messages: ASK, tools: chatTools };
    const streamed = await rig.openai().chat.completions.stream(body).finalChatCompletion();
    const whole = await rig.openai().chat.completions.create(body);
    for (const c of [streamed, whole]) {
      const choice = c.choices[0]!;
      expect(choice.finish_reason).toBe("tool_calls");
      const call = choice.message.tool_calls![0]!;
      expect(call.type).toBe("function");
      if (call.type !== "function") continue;
      expect([call.function.name, JSON.parse(call.function.arguments)]).toEqual(["get_weather", ARGS]);
      expect(call.id).toStartWith("call_");
    }
    // The SDK keeps a delta's unknown fields by assignment: the streamed reasoning_content is its last delta's.
    const reasoning = (c: typeof whole) => (c.choices[0]!.message as unknown as { reasoning_content?: string }).reasoning_content;
    expect([reasoning(whole), reasoning(streamed)]).toEqual([expect.stringContaining("Thinking as gpt-a"), "\n\n"]);
    // A tool message last: text.
    const next = await rig.openai().chat.completions.create({
      ...body,
      messages: [...ASK, streamed.choices[0]!.message, { role: "tool", tool_call_id: streamed.choices[0]!.message.tool_calls![0]!.id, content: "sunny" }],
    });
    expect([next.choices[0]!.finish_reason, next.choices[0]!.message.content]).toEqual(["stop", expect.stringMatching(/^Mock answer from instance a/)]);
    expect(await outputs("chat.think.tool", 3)).toEqual([2, 2, 13]); // the call and the thought; then the text and the thought
  });

  test("OpenAI chat, Claude-served: the call comes whole in one chunk (CLIProxyAPI gathers its input), its id Claude's", async () => {
    const body = { model: "chat.claude.think.tool", messages: ASK, tools: chatTools };
    const res = await fetch(`${rig.gw.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...body, stream: true }) });
    const chunks = (await res.text()).split("\n\n").filter((e) => e.startsWith("data: {")).map((e) => JSON.parse(e.slice(6)) as { choices: { delta: Record<string, unknown> }[] });
    const calls = chunks.flatMap((c) => c.choices.flatMap((ch) => (ch.delta.tool_calls as { id: string; function: { name: string; arguments: string } }[] | undefined) ?? []));
    expect(calls).toHaveLength(1);
    expect([calls[0]!.function.name, JSON.parse(calls[0]!.function.arguments)]).toEqual(["get_weather", ARGS]);
    expect(calls[0]!.id).toStartWith("toolu_");
    const thought = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.reasoning_content).filter((r) => r !== undefined));
    expect(thought).toEqual([expect.stringContaining("Thinking as claude-a")]); // no "\n\n" closing it: that is Codex's
    const streamed = await rig.openai().chat.completions.stream(body).finalChatCompletion();
    expect(streamed.choices[0]!.message.tool_calls![0]!.id).toStartWith("toolu_");
  });

  test("Responses, Codex-served and translated: a reasoning item then a function_call, streamed and not", async () => {
    for (const model of ["codex.think.tool", "translated.think.tool"]) {
      const body = { model, input: "weather in Paris?", tools: responsesTools };
      const streamed = await rig.openai().responses.stream(body).finalResponse();
      const whole = await rig.openai().responses.create(body);
      for (const r of [streamed, whole]) {
        expect([model, r.output.map((o) => o.type)]).toEqual([model, ["reasoning", "function_call"]]);
        const [reasoning, call] = r.output as unknown as [{ summary: { text: string }[]; encrypted_content: string }, { name: string; arguments: string; call_id: string }];
        expect(reasoning.summary[0]!.text).toStartWith("Thinking as");
        expect(reasoning.encrypted_content).toMatch(/^(gpt|claude)#/);
        expect([call.name, JSON.parse(call.arguments)]).toEqual(["get_weather", ARGS]);
      }
      const call = streamed.output[1] as { call_id: string };
      const next = await rig.openai().responses.create({
        ...body,
        input: [{ role: "user", content: "weather in Paris?" }, { type: "function_call_output", call_id: call.call_id, output: "sunny" }],
      });
      expect(next.output_text).toStartWith("Mock answer from instance a");
    }
    expect(await outputs("codex.think.tool", 3)).toEqual([2, 2, 13]);
  });

  test("Gemini: a thought part then a functionCall (signed), streamed and not", async () => {
    const ai = geminiClient(rig.gw.url);
    const req = { model: "gemini.think.tool", contents: "weather in Paris?", config: { tools: geminiTools, toolConfig: { functionCallingConfig: { mode: FunctionCallingConfigMode.AUTO } } } };
    const parts: Record<string, unknown>[] = [];
    for await (const chunk of await ai.models.generateContentStream(req)) parts.push(...((chunk.candidates?.[0]?.content?.parts ?? []) as Record<string, unknown>[]));
    const whole = await ai.models.generateContent(req);
    for (const p of [parts, whole.candidates![0]!.content!.parts as Record<string, unknown>[]]) {
      expect(p.map((x) => Object.keys(x).sort())).toEqual([["text", "thought"], ["functionCall", "thoughtSignature"]]);
      expect(p[1]!.functionCall).toEqual({ name: "get_weather", args: ARGS });
    }
    expect(whole.functionCalls).toEqual([{ name: "get_weather", args: ARGS }]);
    expect((await lastRecord("gemini.think.tool")).usage?.output).toBe(2); // candidates 1 + thoughts 1
  });
});

describe("an error before the first delta of a tool-first or thinking-first stream fails over; after it, it stays", () => {
  /** Each dialect's streamed request to `route`, read whole by the test: gw's headers and the body. */
  const streamed = async (dialect: string, route: string): Promise<{ attempts: string | null; target: string | null; text: string }> => {
    const json = (path: string, body: object, headers: Record<string, string> = {}) =>
      fetch(`${rig.gw.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    const res =
      dialect === "anthropic"
        ? await json("/v1/messages", { model: route, max_tokens: 10, stream: true, messages: ASK, tools: claudeTools })
        : dialect === "chat"
          ? await json("/v1/chat/completions", { model: route, stream: true, messages: ASK, tools: chatTools })
          : dialect === "gemini"
            ? await json(`/v1beta/models/${route}:streamGenerateContent?alt=sse`, { contents: [{ role: "user", parts: [{ text: "hi" }] }], tools: geminiTools })
            : await json("/v1/responses", { model: route, stream: true, input: "hi", tools: responsesTools }, dialect === "codex" ? { "user-agent": "codex_cli_rs/0.80.0" } : {});
    const text = await res.text();
    expect(res.status).toBe(200);
    return { attempts: res.headers.get("x-gw-attempts"), target: res.headers.get("x-gw-target"), text };
  };

  for (const kind of ["tool", "think"]) {
    for (const dialect of ["anthropic", "chat", "gemini", "translated", "codex"]) {
      test(`${kind}-first, ${dialect}: the opening held, b answers`, async () => {
        const route = `failover.${kind}.${dialect}`;
        const r = await streamed(dialect, route);
        expect([r.attempts, r.target?.slice(0, 2)]).toEqual(["2", "b/"]);
        expect(r.text).not.toMatch(/(claude|gpt)-a\b/);
        expect(r.text).not.toMatch(/"error":\{|event: error|response\.failed/);
        expect((await lastRecord(route)).routing.attempts.map((x) => x.class)).toEqual(["transient", "ok"]);
      });
    }
  }

  test("chat: a tool call named with no arguments yet is held too; after its first arguments an error stays", async () => {
    const named = await streamed("chat", "named.tool.chat");
    expect([named.attempts, named.target?.slice(0, 2)]).toEqual(["2", "b/"]);
    expect(named.text).not.toMatch(/"error":\{/);
    expect(named.text.match(/"name":"get_weather"/g)).toHaveLength(1); // a's opening never reached the client
    const b0 = rig.hits("b");
    const late = await streamed("chat", "late.tool.chat");
    expect([late.attempts, rig.hits("b") - b0]).toEqual(["1", 0]);
    expect(late.text).toContain('"arguments":"{\\"city');
    expect(late.text).toMatch(/"error":\{/);
  });

  test("an error after the first piece of the tool call's input reaches the client: no retry", async () => {
    const b0 = rig.hits("b");
    const r = await streamed("anthropic", "late.tool");
    expect([r.attempts, rig.hits("b") - b0]).toEqual(["1", 0]);
    expect(r.text).toContain('"partial_json":"{\\"city');
    expect(r.text).toContain("event: error");
  });
});
