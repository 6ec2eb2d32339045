// The tool call a `tool` answer makes (pure): the request's first declared tool, with arguments
// that fit its input schema's required properties — unless the conversation's last message is
// that tool's result, so that a client running the tool gets text next and its loop ends.
// Each API family declares tools and returns results in its own shape. A tool marked
// `defer_loading` (tool search: Claude Code 2.1.33x declares a DeferredToolPlaceholder first)
// is not one a model can call before it is loaded, so it is passed over.

export interface ToolCall {
  name: string;
  /** The arguments as JSON text, as every dialect streams them. */
  arguments: string;
}

export type ToolFamily = "anthropic" | "chat" | "responses" | "gemini";

type Obj = Readonly<Record<string, unknown>>;

/** The call a `tool` answer makes to `body`'s first declared tool; undefined when it declares none or the last message is its result. */
export function toolCallFor(family: ToolFamily, body: Obj): ToolCall | undefined {
  const tool = READERS[family](body);
  if (!tool) return undefined;
  return { name: tool.name, arguments: JSON.stringify(argumentsFor(tool.schema)) };
}

interface Declared {
  name: string;
  /** Its input schema (JSON Schema; Gemini's OpenAPI subset). */
  schema: unknown;
}

const READERS: Record<ToolFamily, (body: Obj) => Declared | undefined> = {
  anthropic(body) {
    const t = firstTool(body.tools);
    const last = lastOf(body.messages);
    const results = Array.isArray(last?.content) ? (last.content as Obj[]) : [];
    return t && declared(t.name, t.input_schema, results.some((b) => b?.type === "tool_result"));
  },
  chat(body) {
    const f = object(firstTool(body.tools)?.function);
    return f && declared(f.name, f.parameters, lastOf(body.messages)?.role === "tool");
  },
  responses(body) {
    const t = firstTool(body.tools);
    return t && declared(t.name, t.parameters, lastOf(body.input)?.type === "function_call_output");
  },
  gemini(body) {
    const f = first(first(body.tools)?.functionDeclarations);
    const parts = lastOf(body.contents)?.parts;
    const answered = Array.isArray(parts) && parts.some((p) => object(p)?.functionResponse !== undefined);
    return f && declared(f.name, f.parameters ?? f.parametersJsonSchema, answered);
  },
};

/** The tool, unless it has no name or the conversation ends with its result. */
function declared(name: unknown, schema: unknown, answered: boolean): Declared | undefined {
  return typeof name === "string" && name && !answered ? { name, schema } : undefined;
}

/** A value for each required property, by its declared type (an enum's first value); {} for anything else. */
export function argumentsFor(schema: unknown): Record<string, unknown> {
  const s = object(schema);
  const props = object(s?.properties) ?? {};
  const out: Record<string, unknown> = {};
  const required = Array.isArray(s?.required) ? s.required : [];
  for (const key of required) {
    if (typeof key === "string") out[key] = sampleOf(object(props[key]));
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

const object = (v: unknown): Obj | undefined => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : undefined);
const first = (v: unknown): Obj | undefined => (Array.isArray(v) ? object(v[0]) : undefined);
/** The first tool a model can call now: not deferred. */
const firstTool = (v: unknown): Obj | undefined => (Array.isArray(v) ? v.map(object).find((t) => t && t.defer_loading !== true) : undefined);
const lastOf = (v: unknown): Obj | undefined => (Array.isArray(v) ? object(v[v.length - 1]) : undefined);
