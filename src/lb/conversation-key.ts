// A conversation told by its own content, for clients that name no session: Gemini CLI sends
// none (no header, nothing in the body), nor do the chat APIs' SDKs unless asked. Without one,
// each turn was a fresh weighted pick, so a conversation hopped between accounts and every hop
// threw its prompt cache away (the provider's cache is per account). Pure.

type Json = Record<string, unknown>;

/**
 * A conversation: a hash of its opening — its system prompt and the turns up to its first user
 * turn, which every later turn repeats unchanged — and how many turns this request holds.
 */
export interface Conversation {
  readonly opening: string;
  readonly turns: number;
}

/**
 * How far back (in turns) the request before this one of the same conversation may be: a turn
 * adds the reply and what answers it — two turns in Anthropic's and Gemini's shape, one per
 * parallel tool result in chat's, reasoning, calls and outputs as separate items in Responses'.
 */
export const CONTINUATION_SPAN = 16;

/**
 * The conversation the body is, when it already holds a reply (an assistant or model turn, a
 * Responses output item): a one-shot request is left to the weighted pick, and writes nothing.
 */
export function conversationOf(body: Json | undefined): Conversation | undefined {
  const turns = body?.contents ?? body?.messages ?? body?.input;
  if (!Array.isArray(turns) || turns.length < 2 || !turns.some(isReply)) return undefined;
  const first = turns.findIndex((t) => roleOf(t) === "user");
  if (first < 0) return undefined;
  const system = body!.systemInstruction ?? body!.system_instruction ?? body!.system ?? body!.instructions ?? null;
  return { opening: Bun.hash(JSON.stringify([system, turns.slice(0, first + 1)])).toString(36), turns: turns.length };
}

/**
 * The session key of the conversation at `turns` turns. A request's target is remembered under
 * its own length, and found by the next request under an earlier one (request-state.ts): the key
 * chains each turn to the one before. Requests that only share an opening — a batch of few-shot
 * prompts, the same body sent many times — never continue one another, so they keep spreading.
 */
export function conversationKey(c: Conversation, turns = c.turns): string {
  return `conv:${c.opening}:${turns}`;
}

// --- internal ---

/** A turn the model wrote: Anthropic's and chat's `assistant`, Gemini's `model`, a Responses output item. */
function isReply(t: unknown): boolean {
  const role = roleOf(t);
  if (role === "assistant" || role === "model") return true;
  const type = (t as Json | null)?.type;
  return type === "function_call" || type === "reasoning" || type === "custom_tool_call";
}

function roleOf(t: unknown): unknown {
  return t && typeof t === "object" ? (t as Json).role : undefined;
}
