// The output items of a Responses answer besides its message: a reasoning item (`think`) and a
// function_call item (`tool`), each as its events and as the finished item that response.completed
// and the JSON list. Two writers, with their differences:
// - the Codex backend, which CLIProxyAPI passes on (the events codex_openai_response.go and
//   codex_claude_response.go read): the reasoning item carries its encrypted_content from the start
//   and has no status;
// - CLIProxyAPI's translators (claude_openai-responses_response.go; the Gemini and OpenAI ones
//   write the same events): the reasoning item is `rs_<response id>_<n>`, opens with
//   status in_progress and an empty encrypted_content (Claude's signature comes last, as a
//   signature_delta), and gets it in output_item.done; a function call is `fc_<call id>`.
// Neither numbers its events here (the caller does) and both name items by the caller's ids.

import type { ToolCall } from "../tool-call.ts";

type Event = [string, object];

export interface Thinking {
  text: string;
  signature: string;
}

/** The reasoning item's events at `outputIndex`: added, one summary part with one delta, done. */
export function reasoningEvents(id: string, outputIndex: number, t: Thinking, translated: boolean): Event[] {
  const at = { item_id: id, output_index: outputIndex, summary_index: 0 };
  const added = translated
    ? { id, type: "reasoning", status: "in_progress", encrypted_content: "", summary: [] }
    : { id, type: "reasoning", encrypted_content: t.signature, summary: [] };
  return [
    ["response.output_item.added", { output_index: outputIndex, item: added }],
    ["response.reasoning_summary_part.added", { ...at, part: { type: "summary_text", text: "" } }],
    ["response.reasoning_summary_text.delta", { ...at, delta: t.text }],
    ["response.reasoning_summary_text.done", { ...at, text: t.text }],
    ["response.reasoning_summary_part.done", { ...at, part: { type: "summary_text", text: t.text } }],
    ["response.output_item.done", { output_index: outputIndex, item: reasoningItem(id, t) }],
  ];
}

/** The finished reasoning item. */
export function reasoningItem(id: string, t: Thinking) {
  return { id, type: "reasoning", encrypted_content: t.signature, summary: [{ type: "summary_text", text: t.text }] };
}

/** The function_call item's events at `outputIndex`: added, the arguments in two deltas, done. */
export function functionCallEvents(id: string, callId: string, outputIndex: number, tool: ToolCall): Event[] {
  const at = { item_id: id, output_index: outputIndex };
  const half = Math.ceil(tool.arguments.length / 2);
  const deltas = [tool.arguments.slice(0, half), tool.arguments.slice(half)].filter(Boolean);
  return [
    ["response.output_item.added", { output_index: outputIndex, item: functionCallItem(id, callId, tool, "in_progress") }],
    ...deltas.map((delta): Event => ["response.function_call_arguments.delta", { ...at, delta }]),
    ["response.function_call_arguments.done", { ...at, arguments: tool.arguments }],
    ["response.output_item.done", { output_index: outputIndex, item: functionCallItem(id, callId, tool, "completed") }],
  ];
}

/** The function_call item; in progress, its arguments are still "". */
export function functionCallItem(id: string, callId: string, tool: ToolCall, status: "in_progress" | "completed") {
  return { id, type: "function_call", status, arguments: status === "completed" ? tool.arguments : "", call_id: callId, name: tool.name };
}

/** Index of a stream's first content event: its first delta (what comes before is the handshake: created, added …). */
export function firstDelta(events: readonly Event[]): number {
  return events.findIndex(([type]) => type.endsWith(".delta"));
}
