// Which family of models a name or a provider type stands for — what a signed request's thinking
// can be verified by (lb/session.ts), which routes an agent speaks natively (run/routes.ts), and
// which of an instance's provider types a target with none most likely meant (config/routing.ts).

import type { ProviderType, Target } from "../config/types.ts";

export type ModelFamily = "claude" | "gemini" | "gpt" | "grok" | "kimi";

/** The family an upstream model's name says, if any. */
export function familyOfModel(model: string): ModelFamily | undefined {
  for (const [re, fam] of MODEL_FAMILY) if (re.test(model)) return fam;
  return undefined;
}

/**
 * The family a target serves: by its upstream model name first (antigravity serves both Claude
 * and Gemini), else by the provider type.
 */
export function familyOfTarget(t: Target): ModelFamily | undefined {
  return familyOfModel(t.model) ?? (t.provider ? PROVIDER_FAMILY[t.provider] : undefined);
}

/**
 * The provider type a target naming `model` most likely means, of the instance's `types` (those
 * of its family, then Antigravity for Claude and Gemini, then the first); of all types when the
 * instance's are not known.
 */
export function likelyProvider(model: string | undefined, types: readonly string[] | undefined): string {
  const family = model === undefined ? undefined : familyOfModel(model);
  const offered = types ?? FAMILY_PROVIDER_ORDER;
  const own = family && offered.find((t) => PROVIDER_FAMILY[t as ProviderType] === family);
  const both = (family === "claude" || family === "gemini") && offered.includes("antigravity") ? "antigravity" : undefined;
  return own ?? both ?? types?.[0] ?? "claude";
}

// --- internal ---

const MODEL_FAMILY: readonly (readonly [RegExp, ModelFamily])[] = [
  [/claude/i, "claude"],
  [/gemini/i, "gemini"],
  [/(^|\/)(gpt|o\d|codex)/i, "gpt"],
  [/grok/i, "grok"],
  [/kimi/i, "kimi"],
];

const PROVIDER_FAMILY: Partial<Record<ProviderType, ModelFamily>> = {
  claude: "claude",
  anthropic: "claude",
  gemini: "gemini",
  codex: "gpt",
  xai: "grok",
  kimi: "kimi",
};

/** Of every type, the one a family's model names first (an OAuth login before an API key). */
const FAMILY_PROVIDER_ORDER: readonly ProviderType[] = ["claude", "gemini", "codex", "xai", "kimi"];
