// The models an OAuth credential in auth-dir registers, by its "type". CLIProxyAPI registers a
// credential's built-in list (internal/registry/models/models.json): those are served and listed
// in /v1/models, and `gw login` looks there for the new account. The mock serves every name of a
// list's family (a pattern, so tests may name any gpt-* for Codex) and lists a few real ids of
// each (the registry at a7e3596, 2026-08) — enough for a listing that changes with the credentials.

import type { MockModel } from "./config.ts";

interface OAuthModels {
  /** The names served. */
  serves: RegExp;
  /** Some of the ids listed, in the registry's order. */
  lists: readonly string[];
  /** The registry's owned_by for them. */
  ownedBy: string;
}

// A Map, not an object: a type comes from an auth file, and "constructor" or "__proto__" would
// find what every object has.
const OAUTH: ReadonlyMap<string, OAuthModels> = new Map(Object.entries({
  codex: { serves: /^(gpt-|codex)/, lists: ["gpt-5.4", "gpt-5.4-mini", "gpt-5.5", "codex-auto-review"], ownedBy: "openai" },
  claude: { serves: /^claude-/, lists: ["claude-haiku-4-5-20251001", "claude-sonnet-4-6", "claude-opus-4-7"], ownedBy: "anthropic" },
  antigravity: { serves: /^(gemini-|claude-|gpt-oss)/, lists: ["claude-opus-4-6-thinking", "claude-sonnet-4-6", "gemini-3-flash", "gpt-oss-120b-medium"], ownedBy: "antigravity" },
  aistudio: { serves: /^gemini-/, lists: ["gemini-2.5-pro", "gemini-2.5-flash", "gemini-3-flash-preview"], ownedBy: "google" },
  vertex: { serves: /^gemini-/, lists: ["gemini-2.5-pro", "gemini-3-pro", "gemini-3-flash"], ownedBy: "google" },
  kimi: { serves: /^kimi-/, lists: ["kimi-k2.5", "kimi-k3"], ownedBy: "moonshot" },
  xai: { serves: /^grok-/, lists: ["grok-4.6", "grok-4.5", "grok-3-mini"], ownedBy: "xai" },
} satisfies Record<string, OAuthModels>));

/** The first OAuth credential type (of `authTypes`, in auth-dir order) whose built-in model list holds `model`. */
export function credentialFor(model: string, authTypes: readonly string[]): string | undefined {
  return authTypes.find((t) => OAUTH.get(t)?.serves.test(model));
}

/** The models the credentials of `authTypes` list, each once (the first type to list an id keeps it). */
export function oauthListed(authTypes: readonly string[]): MockModel[] {
  const seen = new Set<string>();
  const out: MockModel[] = [];
  for (const type of authTypes) {
    const o = OAUTH.get(type);
    for (const id of o?.lists ?? []) {
      if (seen.has(id)) continue;
      seen.add(id);
      out.push({ id, provider: type, ownedBy: o!.ownedBy });
    }
  }
  return out;
}
