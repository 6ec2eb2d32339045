// Which of CLIProxyAPI's executor families serves a model — what decides the shape of a Responses
// answer. The Codex executor passes ChatGPT's Codex backend's response object through (echoing the
// whole request in every event); the Claude, Gemini (Antigravity, Vertex, AI Studio) and
// OpenAI-compatible executors answer in their upstream's own format, which CLIProxyAPI's
// translators turn into a bare Responses object (the request echoed only at the end).
// CLIProxyAPI registers each model under the provider of the credential that brought it: a
// key section of the YAML (claude-api-key → claude, …, openai-compatibility → the entry's name)
// or an OAuth credential file in auth-dir (its "type"); the executor is the provider's.

export type Upstream = "codex" | "claude" | "gemini" | "openai";

/** Providers whose executor is not the OpenAI-compatible one (every other name is). */
const FAMILY: Readonly<Record<string, Upstream>> = {
  codex: "codex",
  // The xAI executor posts to xAI's own /responses and passes its Responses object on.
  xai: "codex",
  claude: "claude",
  gemini: "gemini",
  "gemini-cli": "gemini",
  vertex: "gemini",
  aistudio: "gemini",
  antigravity: "gemini",
};

/**
 * The models an OAuth credential type registers (CLIProxyAPI's built-in lists), by name: which
 * credential in auth-dir serves a model the YAML does not list.
 */
const OAUTH_SERVES: Readonly<Record<string, RegExp>> = {
  codex: /^(gpt-|codex)/,
  claude: /^claude-/,
  antigravity: /^(gemini-|claude-|gpt-oss)/,
  aistudio: /^gemini-/,
  vertex: /^gemini-/,
  kimi: /^kimi-/,
  xai: /^grok-/,
};

/** The provider name of a model the mock accepts without a registry entry (no YAML section). */
export const UNREGISTERED = "mock";

/**
 * The family serving `model`, registered under `provider`. A model the mock accepts without a
 * registry entry (an instance that lists no models accepts any; `-models` names carry no
 * provider) is served as CLIProxyAPI would serve it from the credentials in auth-dir
 * (`authTypes`, in file order): the first whose built-in list holds the name. With none, the
 * name alone decides — claude-* by Claude, gemini-* by Gemini — and anything else by Codex: its
 * full echo is the largest handshake, the one gw must cope with, and what the mock always sent.
 */
export function upstreamFor(provider: string, model: string, authTypes: readonly string[] = []): Upstream {
  if (provider !== UNREGISTERED) return FAMILY[provider] ?? "openai";
  const byCredential = authTypes.find((t) => OAUTH_SERVES[t]?.test(model));
  if (byCredential) return FAMILY[byCredential] ?? "openai";
  if (model.startsWith("claude-")) return "claude";
  if (model.startsWith("gemini-")) return "gemini";
  return "codex";
}
