// Gemini: POST /v1beta/models/{model}:generateContent and :streamGenerateContent (CLIProxyAPI
// frames the stream as `data:` SSE both with alt=sse and without alt), and :countTokens.
// Errors use CLIProxyAPI's common builder, not Google's {"error":{"code","status"}} shape.

import type { Answer } from "../answer.ts";
import { baseErrorBody, type ErrorText } from "../errors.ts";
import { type Dialect, sseData } from "./types.ts";

const usage = (a: Answer) => ({
  promptTokenCount: a.inputTokens,
  candidatesTokenCount: a.outputTokens,
  totalTokenCount: a.inputTokens + a.outputTokens,
});

function chunk(a: Answer, text: string, last: boolean) {
  const candidate: Record<string, unknown> = { content: { role: "model", parts: [{ text }] }, index: 0 };
  if (last) candidate.finishReason = "STOP";
  return {
    candidates: [candidate],
    ...(last ? { usageMetadata: usage(a) } : {}),
    modelVersion: a.model,
    responseId: `mock${a.seq.toString(36)}`,
  };
}

export const gemini: Dialect = {
  errorBody: baseErrorBody,
  emptyStream: "",
  json: (a) => JSON.stringify(chunk(a, a.text, true)),
  stream(a, error?: ErrorText) {
    const n = a.pieces.length;
    const frames = a.pieces.map((text, i) => sseData(chunk(a, text, i === n - 1)));
    return { frames, firstContent: 0, errorFrame: error && `event: error\ndata: ${baseErrorBody(error)}\n\n` };
  },
};

export const geminiCountTokens = (a: Answer): string => JSON.stringify({ totalTokens: a.inputTokens });
