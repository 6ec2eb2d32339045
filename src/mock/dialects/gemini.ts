// Gemini: POST /v1beta/models/{model}:generateContent and :streamGenerateContent (CLIProxyAPI
// frames the stream as `data:` SSE both with alt=sse and without alt), and :countTokens.
// Errors use CLIProxyAPI's common builder, not Google's {"error":{"code","status"}} shape.
// CLIProxyAPI passes Gemini's answers through (gemini_gemini_response.go), so thinking (`think`)
// is Gemini's own: a `thought: true` text part first, its thoughtSignature on the first part of
// the answer, thoughtsTokenCount beside candidatesTokenCount; a tool call (`tool`) is one
// functionCall part, whole in one chunk, finishReason STOP as for text.

import type { Answer } from "../answer.ts";
import { baseErrorBody, type ErrorText } from "../errors.ts";
import { type Dialect, sseData } from "./types.ts";

function usage(a: Answer) {
  const thoughts = a.thinking ? 1 : 0;
  const counts = { promptTokenCount: a.inputTokens, candidatesTokenCount: a.outputTokens - thoughts, totalTokenCount: a.inputTokens + a.outputTokens };
  return thoughts ? { ...counts, thoughtsTokenCount: thoughts } : counts;
}

function chunk(a: Answer, parts: object[], last: boolean) {
  const candidate: Record<string, unknown> = { content: { role: "model", parts }, index: 0 };
  if (last) candidate.finishReason = "STOP";
  return {
    candidates: [candidate],
    ...(last ? { usageMetadata: usage(a) } : {}),
    modelVersion: a.model,
    responseId: `mock${a.seq.toString(36)}`,
  };
}

/** The answer's parts, one per chunk when streamed: the thought, then the call or the text pieces (the signature on the first). */
function partsOf(a: Answer, pieces: readonly string[]): object[] {
  const thought = a.thinking ? [{ text: a.thinking.text, thought: true }] : [];
  const signed = a.thinking ? { thoughtSignature: a.thinking.signature } : {};
  if (a.tool) return [...thought, { functionCall: { name: a.tool.name, args: JSON.parse(a.tool.arguments) }, ...signed }];
  return [...thought, ...pieces.map((text, i) => (i === 0 ? { text, ...signed } : { text }))];
}

export const gemini: Dialect = {
  errorBody: baseErrorBody,
  emptyStream: "",
  json: (a) => {
    const parts = partsOf(a, [a.text]);
    return JSON.stringify(chunk(a, parts, true));
  },
  stream(a, error?: ErrorText) {
    const parts = partsOf(a, a.pieces);
    const frames = parts.map((part, i) => sseData(chunk(a, [part], i === parts.length - 1)));
    return { frames, firstContent: 0, errorFrame: error && `event: error\ndata: ${baseErrorBody(error)}\n\n` };
  },
};

export const geminiCountTokens = (a: Answer): string => JSON.stringify({ totalTokens: a.inputTokens });
