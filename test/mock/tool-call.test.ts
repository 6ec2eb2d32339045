// The `tool` knob's call: the request's first declared tool in each family's shape, arguments from
// its schema's required properties, and none once the conversation ends with that tool's result.
import { describe, expect, test } from "bun:test";
import { argumentsFor, toolCallFor } from "../../src/mock/tool-call.ts";

const SCHEMA = { type: "object", properties: { command: { type: "string" }, n: { type: "integer" }, mode: { type: "string", enum: ["a", "b"] }, opt: { type: "string" } }, required: ["command", "n", "mode"] };
const ARGS = JSON.stringify({ command: "gw-mock", n: 1, mode: "a" });

describe("toolCallFor", () => {
  test("each family's first declared tool", () => {
    const call = { name: "Bash", arguments: ARGS };
    expect(toolCallFor("anthropic", { tools: [{ name: "Bash", input_schema: SCHEMA }, { name: "Read" }], messages: [{ role: "user", content: "hi" }] })).toEqual(call);
    expect(toolCallFor("chat", { tools: [{ type: "function", function: { name: "Bash", parameters: SCHEMA } }], messages: [] })).toEqual(call);
    expect(toolCallFor("responses", { tools: [{ type: "function", name: "Bash", parameters: SCHEMA }], input: "hi" })).toEqual(call);
    expect(toolCallFor("gemini", { tools: [{ functionDeclarations: [{ name: "Bash", parametersJsonSchema: SCHEMA }] }], contents: [] })).toEqual(call);
    // A deferred tool cannot be called before tool search loads it (Claude Code's placeholder comes first).
    const deferred = { name: "DeferredToolPlaceholder", input_schema: { type: "object", properties: {} }, defer_loading: true };
    expect(toolCallFor("anthropic", { tools: [deferred, { name: "Bash", input_schema: SCHEMA }], messages: [] })).toEqual(call);
    expect(toolCallFor("anthropic", { tools: [deferred], messages: [] })).toBeUndefined();
  });

  test("a named tool (the knob's tool=NAME): that one in every family, Gemini's from any tools entry; none when not declared", () => {
    const other = { type: "object", properties: { x: { type: "string" } }, required: ["x"] };
    const call = { name: "Read", arguments: ARGS };
    const anthropic = { tools: [{ name: "Bash", input_schema: other }, { name: "Read", input_schema: SCHEMA }], messages: [] };
    expect(toolCallFor("anthropic", anthropic, "Read")).toEqual(call);
    expect(toolCallFor("anthropic", anthropic, "Write")).toBeUndefined();
    const chat = { tools: [{ type: "function", function: { name: "Bash", parameters: other } }, { type: "function", function: { name: "Read", parameters: SCHEMA } }], messages: [] };
    expect(toolCallFor("chat", chat, "Read")).toEqual(call);
    const responses = { tools: [{ type: "function", name: "Bash", parameters: other }, { type: "web_search" }, { type: "function", name: "Read", parameters: SCHEMA }], input: "hi" };
    expect(toolCallFor("responses", responses, "Read")).toEqual(call);
    const gemini = { tools: [{ googleSearch: {} }, { functionDeclarations: [{ name: "Bash", parameters: other }, { name: "Read", parametersJsonSchema: SCHEMA }] }], contents: [] };
    expect(toolCallFor("gemini", gemini, "Read")).toEqual(call);
    expect(toolCallFor("gemini", gemini)).toEqual({ name: "Bash", arguments: JSON.stringify({ x: "gw-mock" }) });
    // A deferred tool is not callable by name either; nor is anything once a result is last.
    expect(toolCallFor("anthropic", { tools: [{ name: "Read", input_schema: SCHEMA, defer_loading: true }], messages: [] }, "Read")).toBeUndefined();
    const answered = { ...gemini, contents: [{ role: "user", parts: [{ functionResponse: { name: "Read", response: {} } }] }] };
    expect(toolCallFor("gemini", answered, "Read")).toBeUndefined();
  });

  test("no tool declared, or its result last: no call (text)", () => {
    expect(toolCallFor("anthropic", { messages: [{ role: "user", content: "hi" }] })).toBeUndefined();
    expect(toolCallFor("chat", { tools: [], messages: [] })).toBeUndefined();
    const tools = [{ name: "Bash", input_schema: SCHEMA }];
    const result = { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "ok" }] };
    expect(toolCallFor("anthropic", { tools, messages: [result] })).toBeUndefined();
    expect(toolCallFor("chat", { tools: [{ type: "function", function: { name: "x" } }], messages: [{ role: "tool", content: "ok" }] })).toBeUndefined();
    expect(toolCallFor("responses", { tools: [{ type: "function", name: "x" }], input: [{ type: "function_call_output", call_id: "c", output: "ok" }] })).toBeUndefined();
    const gemini = { tools: [{ functionDeclarations: [{ name: "x" }] }], contents: [{ role: "user", parts: [{ functionResponse: { name: "x", response: {} } }] }] };
    expect(toolCallFor("gemini", gemini)).toBeUndefined();
  });

  test("arguments: one value per required property by its type (Gemini's upper-case types too); {} without a schema", () => {
    expect(argumentsFor({ type: "OBJECT", properties: { b: { type: "BOOLEAN" }, l: { type: "ARRAY" }, o: { type: "OBJECT" }, x: { type: "NUMBER" } }, required: ["b", "l", "o", "x"] })).toEqual({ b: true, l: [], o: {}, x: 1 });
    expect(argumentsFor(undefined)).toEqual({});
    expect(argumentsFor({ type: "object", required: ["missing"] })).toEqual({ missing: {} });
  });
});
