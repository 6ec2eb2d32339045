// The response object of a Responses answer as ChatGPT's Codex backend sends it — in
// response.created, response.in_progress and response.completed alike — with the request echoed:
// instructions, tools, reasoning, text, tool_choice … For Codex CLI that is tens to hundreds of KB
// per event, which is what gw's held opening and request log must cope with (a mock without it
// hides every size effect). CLIProxyAPI passes the object on unchanged (codex executor; its
// Responses translator only adds `model` when missing), and its non-streamed answer is the
// response.completed object, so the same echo is its JSON. What the backend echoes is the request
// as CLIProxyAPI forwarded it: `store: false` and `parallel_tool_calls: true` forced, `instructions`
// "" when absent; previous_response_id, temperature, top_p, max_output_tokens, user, truncation and
// a service_tier other than "priority" taken out, so the backend's own values come back.
// Field order and backend defaults: a capture of chatgpt.com/backend-api/codex/responses (2026-08).

import { asObject } from "../../json/object.ts";

type Obj = Readonly<Record<string, unknown>>;

/** What the answer itself decides; the rest is the request's echo and the backend's defaults. */
interface ResponseFacts {
  id: string;
  createdAt: number;
  status: "in_progress" | "completed";
  model: string;
  output: unknown[];
  usage: unknown;
}

const TOOL_USAGE = Object.freeze({
  image_gen: {
    input_tokens: 0,
    input_tokens_details: { image_tokens: 0, text_tokens: 0 },
    output_tokens: 0,
    output_tokens_details: { image_tokens: 0, text_tokens: 0 },
    total_tokens: 0,
  },
  web_search: { num_requests: 0 },
});

/** The response object for `request` (the client's parsed body; {} when it was none). */
export function codexResponse(request: Obj, f: ResponseFacts) {
  return {
    id: f.id,
    object: "response",
    created_at: f.createdAt,
    status: f.status,
    background: false,
    completed_at: f.status === "completed" ? f.createdAt : null,
    error: null,
    frequency_penalty: 0,
    incomplete_details: null,
    instructions: typeof request.instructions === "string" ? request.instructions : "",
    max_output_tokens: null,
    max_tool_calls: null,
    model: f.model,
    moderation: null,
    output: f.output,
    parallel_tool_calls: true,
    presence_penalty: 0,
    previous_response_id: null,
    prompt_cache_key: typeof request.prompt_cache_key === "string" ? request.prompt_cache_key : null,
    prompt_cache_retention: "24h",
    reasoning: { context: "all_turns", effort: "medium", mode: "standard", summary: null, ...asObject(request.reasoning) },
    safety_identifier: null,
    service_tier: request.service_tier === "priority" ? "priority" : "auto",
    store: false,
    temperature: 1,
    text: { format: { type: "text" }, verbosity: "medium", ...asObject(request.text) },
    tool_choice: request.tool_choice ?? "auto",
    tool_usage: TOOL_USAGE,
    tools: Array.isArray(request.tools) ? request.tools : [],
    top_logprobs: 0,
    top_p: 0.98,
    truncation: "disabled",
    usage: f.usage,
    user: null,
    metadata: asObject(request.metadata) ?? {},
  };
}
