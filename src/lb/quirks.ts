// Per-provider request quirks: what one provider's API rejects or misreads in requests that every
// other provider takes, applied on each attempt to a target of that provider (rewrite.ts). Data,
// not code: a new quirk is a new entry. Only what a provider is known to refuse belongs here.

import type { InstanceConfig, ProviderType, Target } from "../config/types.ts";

interface RequestQuirk {
  /** Top-level body fields removed before the request is sent. */
  readonly dropFields?: readonly string[];
}

const QUIRKS: Readonly<Partial<Record<ProviderType, RequestQuirk>>> = {
  // MiniMax's Anthropic-compatible API rejects `metadata` (Claude Code sends its user_id there);
  // the later old LB removed it for minimax targets.
  minimax: { dropFields: ["metadata"] },
};

/** The provider type an attempt goes to: the target's, else its instance's first provider. */
export function providerOf(target: Target | undefined, instance: InstanceConfig): ProviderType | "" {
  return target?.provider || instance.providers[0]?.type || "";
}

export function quirkOf(provider: ProviderType | ""): RequestQuirk | undefined {
  return provider ? QUIRKS[provider] : undefined;
}
