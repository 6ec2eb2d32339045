// Token counts as people read them, and the window gw assumes for a model nobody knows. Kept apart
// from the catalogue (catalog/models.ts), which costs a few hundred ms to load: cld needs only these.

/**
 * Claude Code's own window for a model it knows nothing better about. Used when no target of a
 * route has a known window: compacting at 200k is safe for nearly every model served today,
 * while the 1M Claude Code would assume lets a 200k upstream refuse the request first.
 */
export const DEFAULT_CONTEXT_WINDOW = 200_000;

/** 200000 → "200k", 1000000 → "1M", 131072 → "131k". */
export function formatTokens(n: number): string {
  if (n >= 1_000_000 && n % 100_000 === 0) return `${n / 1_000_000}M`;
  return n >= 1000 ? `${Math.round(n / 1000)}k` : String(n);
}
