// What a secret looks like in a text gw logs or relays, known to gw or not: the token shapes
// masked by their look, the credentials a URL carries (userinfo, `key=` parameters) and how
// short a secret is shown as `***`. Shared by the masker (mask.ts), its passes over JSON-escaped
// text (mask-escaped.ts) and the config's secrets (config-secrets.ts).

export const MIN_PARTIAL = 16; // shorter secrets would be half revealed by first 6 … last 4

/**
 * Shapes of credentials worth masking even when unknown: `Bearer <tok>`, OpenAI/Anthropic `sk-…`,
 * Google API keys `AIza…`, Google OAuth access tokens `ya29.…`, refresh tokens `1//…`, JWTs —
 * in any letter case, since error texts reach the log lower-cased (lb/classify.ts errorText).
 */
export const TOKEN_SHAPES =
  /(\bBearer\s+)([A-Za-z0-9._~+/=-]{8,})|\bsk-[A-Za-z0-9_-]{16,}|\bAIza[0-9A-Za-z_-]{30,}|\bya29\.[0-9A-Za-z_-]{16,}|\b1\/\/[0-9A-Za-z_-]{20,}|\beyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}/gi;

export const KEY_PARAM = /([?&](?:key|api_key|apikey|access_token|auth_token)=)([^&#\s]*)/gi;

/** Credentials inside a URL: `scheme://user:password@host` (or a token as the user). */
export const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@"'<>]+)@/gi;

/** A URL part percent-decoded, or as written when it is not valid percent-encoding. */
export function decodeSafe(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}
