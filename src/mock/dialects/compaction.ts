// POST /v1/responses/compact (Codex's remote compaction). The Codex executor posts the request to
// the backend's /responses/compact and hands its answer back as it came (codex_executor_execute.go,
// codex_executor_compact_test.go; EnsureResponsesUsageDetails leaves a "response.compaction" alone):
// not a response object but {id, object: "response.compaction", created_at, output, usage}, the
// output being the input's user messages and one opaque compaction item. An OpenAI-compatible
// instance forwards it to its upstream's /responses/compact the same way. The Claude, Gemini,
// Vertex, AI Studio and Antigravity executors refuse it: 501 "/responses/compact not supported".

import { type Answer, mockId } from "../answer.ts";
import type { ErrorText } from "../errors.ts";
import type { Upstream } from "../upstream.ts";

type Obj = Readonly<Record<string, unknown>>;

export function compactionJson(a: Answer): string {
  const kept = userMessages(a.request?.input);
  const compaction = {
    id: mockId("cmp_", a),
    type: "compaction",
    encrypted_content: Buffer.from(`gw-mock-compaction:${a.instance}:${a.model}:${kept.length}`).toString("base64"),
  };
  return JSON.stringify({
    id: mockId("resp_", a),
    object: "response.compaction",
    created_at: a.created,
    output: [...kept, compaction],
    usage: {
      input_tokens: a.inputTokens,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: a.outputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: a.inputTokens + a.outputTokens,
    },
  });
}

const NOT_SUPPORTED: ErrorText = { status: 501, text: "/responses/compact not supported" };

export function compactRefusal(upstream: Upstream): ErrorText | undefined {
  return upstream === "claude" || upstream === "gemini" ? NOT_SUPPORTED : undefined;
}

/** The user's messages of a Responses input (a string is one), which a compaction keeps as they were. */
function userMessages(input: unknown): unknown[] {
  if (typeof input === "string") return [{ type: "message", role: "user", content: [{ type: "input_text", text: input }] }];
  if (!Array.isArray(input)) return [];
  return input.filter((i): i is Obj => !!i && typeof i === "object" && (i as Obj).role === "user");
}
