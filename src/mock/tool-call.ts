// The tool call a `tool` answer makes (pure): the request's first declared tool (or the one the
// knob names), with arguments that fit its input schema's required properties — unless the
// conversation's last message is a tool's result, so that a client running the tool gets text
// next and its loop ends.
// Each API family declares tools and returns results in its own shape. A tool marked
// `defer_loading` (tool search: Claude Code 2.1.33x declares a DeferredToolPlaceholder first)
// is not one a model can call before it is loaded, so it is passed over.

import { asObject, objectsIn } from "../json/object.ts";

export interface ToolCall {
  name: string;
  /** The arguments as JSON text, as every dialect streams them. */
  arguments: string;
}

export type ToolFamily = "anthropic" | "chat" | "responses" | "gemini";

type Obj = Readonly<Record<string, unknown>>;

/**
 * The call a `tool` answer makes to `body`'s first declared tool, or to the one named `name`;
 * undefined when there is no such tool or the last message is a tool's result.
 */
export function toolCallFor(family: ToolFamily, body: Obj, name = ""): ToolCall | undefined {
  const { tools, answered } = READERS[family](body);
  const tool = name ? tools.find((t) => t.name === name) : tools[0];
  if (!tool || answered || typeof tool.name !== "string" || !tool.name) return undefined;
  return { name: tool.name, arguments: JSON.stringify(argumentsFor(tool.schema)) };
}

interface Declared {
  /** As the request wrote it (a tool without a name cannot be called). */
  name: unknown;
  /** Its input schema (JSON Schema; Gemini's OpenAPI subset). */
  schema: unknown;
}

/** The tools a model can call now, in the request's order, and whether the last message is a tool's result. */
type Reader = (body: Obj) => { tools: Declared[]; answered: boolean };

const READERS: Record<ToolFamily, Reader> = {
  anthropic(body) {
    const last = lastOf(body.messages);
    const results = Array.isArray(last?.content) ? (last.content as Obj[]) : [];
    return { tools: callable(body.tools).map((t) => ({ name: t.name, schema: t.input_schema })), answered: results.some((b) => b?.type === "tool_result") };
  },
  chat(body) {
    const functions = callable(body.tools).map((t) => asObject(t.function) ?? {});
    return { tools: functions.map((f) => ({ name: f.name, schema: f.parameters })), answered: lastOf(body.messages)?.role === "tool" };
  },
  responses(body) {
    return { tools: callable(body.tools).map((t) => ({ name: t.name, schema: t.parameters })), answered: lastOf(body.input)?.type === "function_call_output" };
  },
  gemini(body) {
    const parts = lastOf(body.contents)?.parts;
    const answered = Array.isArray(parts) && parts.some((p) => asObject(p)?.functionResponse !== undefined);
    // Any of the tools entries may hold functionDeclarations (others: googleSearch …).
    const functions = objectsIn(body.tools).flatMap((t) => objectsIn(t.functionDeclarations));
    return { tools: functions.map((f) => ({ name: f.name, schema: f.parameters ?? f.parametersJsonSchema })), answered };
  },
};

/** A value for each required property, by its declared type (an enum's first value); {} for anything else. */
export function argumentsFor(schema: unknown): Record<string, unknown> {
  const s = asObject(schema);
  const props = asObject(s?.properties) ?? {};
  const out: Record<string, unknown> = {};
  const required = Array.isArray(s?.required) ? s.required : [];
  for (const key of required) {
    if (typeof key === "string") out[key] = sampleOf(asObject(props[key]));
  }
  return out;
}

function sampleOf(p: Obj | undefined): unknown {
  if (Array.isArray(p?.enum) && p.enum.length) return p.enum[0];
  const type = String(p?.type ?? "").toLowerCase(); // Gemini's schema types are upper case
  if (type === "string") return "gw-mock";
  if (type === "integer" || type === "number") return 1;
  if (type === "boolean") return true;
  if (type === "array") return [];
  return {};
}

/** The tools a model can call now: not deferred. */
const callable = (v: unknown): Obj[] => objectsIn(v).filter((t) => t.defer_loading !== true);
const lastOf = (v: unknown): Obj | undefined => (Array.isArray(v) ? asObject(v[v.length - 1]) : undefined);
