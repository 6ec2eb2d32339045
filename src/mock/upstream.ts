// Which of CLIProxyAPI's executor families serves a model — what decides the shape of a Responses
// answer. The Codex executor passes ChatGPT's Codex backend's response object through (echoing the
// whole request in every event); the Claude, Gemini (Antigravity, Vertex, AI Studio) and
// OpenAI-compatible executors answer in their upstream's own format, which CLIProxyAPI's
// translators turn into a bare Responses object (the request echoed only at the end).
// CLIProxyAPI registers each model under the provider of the credential that brought it: a
// key section of the YAML (claude-api-key → claude, …, openai-compatibility → the entry's name)
// or an OAuth credential file in auth-dir (its "type"); the executor is the provider's.

export type Upstream = "codex" | "claude" | "gemini" | "openai";

// A Map, not an object: a provider name comes from the YAML or an auth file, and "constructor" or
// "__proto__" would find what every object has.

/** Providers whose executor is not the OpenAI-compatible one (every other name is). */
const FAMILY: ReadonlyMap<string, Upstream> = new Map(Object.entries({
  codex: "codex",
  // The xAI executor posts to xAI's own /responses and passes its Responses object on.
  xai: "codex",
  claude: "claude",
  gemini: "gemini",
  "gemini-cli": "gemini",
  vertex: "gemini",
  aistudio: "gemini",
  antigravity: "gemini",
} satisfies Record<string, Upstream>));

/** The provider name of a model the mock accepts without a registry entry (no YAML section). */
export const UNREGISTERED = "mock";

/**
 * The family serving `model`, registered under `provider` (catalog.ts: a YAML section's, an
 * auth-dir credential's, or UNREGISTERED). A model the mock accepts without knowing who serves it
 * (an instance that lists no models accepts any; `-models` names carry no provider) goes by its
 * name — claude-* to Claude, gemini-* to Gemini — and anything else to Codex: its full echo is the
 * largest handshake, the one gw must cope with, and what the mock always sent.
 */
export function upstreamFor(provider: string, model: string): Upstream {
  if (provider !== UNREGISTERED) return FAMILY.get(provider) ?? "openai";
  if (model.startsWith("claude-")) return "claude";
  if (model.startsWith("gemini-")) return "gemini";
  return "codex";
}
