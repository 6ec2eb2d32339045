// The deterministic answer every dialect renders: which instance and which model answered, split
// into as many content deltas as the request's `events` knob asks for.

import type { ToolCall } from "./tool-call.ts";
import { signatureFor } from "./signatures.ts";
import type { Upstream } from "./upstream.ts";

export interface Answer {
  /** Per-request counter, for ids that differ between requests but repeat across runs. */
  seq: number;
  instance: string;
  model: string;
  /** Unix seconds. */
  created: number;
  pieces: readonly string[];
  text: string;
  inputTokens: number;
  outputTokens: number;
  /** Present when the request asked for thinking or the `think` knob did: a signed block before the answer. */
  thinking?: { text: string; signature: string };
  /** Present for the `tool` knob: the answer is this call, not the text. */
  tool?: ToolCall;
  /** The request's parsed body, for answers that echo it (the Responses object). */
  request?: Readonly<Record<string, unknown>>;
  /** The executor family that served it: the shape of a Responses answer (upstream.ts). */
  upstream: Upstream;
}

const piecesCache = new Map<string, readonly string[]>();

/** `events` deltas whose concatenation is the sentence, padded with " ok" tokens when longer. */
export function answerPieces(instance: string, model: string, events: number): readonly string[] {
  const key = `${instance}\0${model}\0${events}`;
  let pieces = piecesCache.get(key);
  if (pieces) return pieces;
  const words = `Mock answer from instance ${instance}, model ${model}.`.split(" ").map((w, i) => (i ? ` ${w}` : w));
  const n = Math.max(1, events);
  if (n >= words.length) {
    pieces = [...words, ...Array.from({ length: n - words.length }, () => " ok")];
  } else {
    const per = Math.ceil(words.length / n);
    pieces = Array.from({ length: n }, (_, i) => words.slice(i * per, (i + 1) * per).join("")).filter(Boolean);
  }
  if (piecesCache.size > 1000) piecesCache.clear();
  piecesCache.set(key, pieces);
  return pieces;
}

let counter = 0;

export function makeAnswer(
  instance: string,
  model: string,
  events: number,
  requestBytes: number,
  thinking = false,
  request?: Readonly<Record<string, unknown>>,
  upstream: Upstream = "codex",
  tool?: ToolCall,
): Answer {
  const pieces = answerPieces(instance, model, events);
  const thought = thinking ? { text: `Thinking as ${model} on ${instance}.`, signature: signatureFor(instance, model) } : undefined;
  return {
    seq: ++counter,
    instance,
    model,
    created: Math.floor(Date.now() / 1000),
    pieces,
    text: pieces.join(""),
    inputTokens: promptTokens(requestBytes),
    outputTokens: (tool ? 1 : pieces.length) + (thought ? 1 : 0),
    thinking: thought,
    tool,
    request,
    upstream,
  };
}

/** The prompt's tokens: a rough 4 bytes per token keeps usage (and a window=N refusal) deterministic for a given body. */
export const promptTokens = (requestBytes: number) => Math.max(1, Math.ceil(requestBytes / 4));

/** A stable-looking id: prefix + zero-padded base-36 counter. */
export function mockId(prefix: string, a: Answer): string {
  return `${prefix}mock${a.seq.toString(36).padStart(12, "0")}`;
}
