// The thinking signatures `gw mock` makes, and whether a request carries one another instance made.
//
// A provider verifies only the signatures it issued: Anthropic rejects a thinking block signed
// elsewhere ("Invalid `signature` in `thinking` block"), and CLIProxyAPI's signature cache (on by
// default) resolves only the ones it relayed itself. The `sig=foreign` knob plays that strict
// verifier: a mock signature names the instance and model that made it.

type Json = Record<string, unknown>;

/**
 * CLIProxyAPI (signature cache on, its default) prefixes signatures it relays with the model
 * group — `claude#…`, `gpt#…` — and passes Gemini's through raw; gw's signature routing keys on it.
 */
export function signatureFor(instance: string, model: string): string {
  const group = model.includes("gpt") ? "gpt" : model.includes("claude") ? "claude" : model.includes("gemini") ? "gemini" : model;
  const sig = Buffer.from(`${MARK}${instance}:${model}`).toString("base64");
  return group === "gemini" ? sig : `${group}#${sig}`;
}

/**
 * Does `body` carry a signature `instance` did not make — an Anthropic thinking block's
 * `signature`, a Gemini part's `thoughtSignature`, a Responses reasoning item's
 * `encrypted_content` — from any instance, or not from a mock at all?
 */
export function carriesForeignSignature(body: unknown, instance: string): boolean {
  return signaturesIn(body, 0).some((s) => !madeBy(s, instance));
}

// --- internal ---

const MARK = "gw-mock-signature:";
const SIGNATURE_KEYS = new Set(["signature", "thoughtSignature", "encrypted_content"]);
/** Deep enough for any dialect's message → content → part; a body nested deeper is no conversation. */
const MAX_DEPTH = 8;

function signaturesIn(v: unknown, depth: number): string[] {
  if (depth > MAX_DEPTH || !v || typeof v !== "object") return [];
  if (Array.isArray(v)) return v.flatMap((x) => signaturesIn(x, depth + 1));
  const out: string[] = [];
  for (const [k, x] of Object.entries(v as Json)) {
    if (SIGNATURE_KEYS.has(k) && typeof x === "string" && x) out.push(x);
    else out.push(...signaturesIn(x, depth + 1));
  }
  return out;
}

function madeBy(signature: string, instance: string): boolean {
  const raw = signature.slice(signature.indexOf("#") + 1); // `claude#…`; Gemini's have no prefix
  return Buffer.from(raw, "base64").toString().startsWith(`${MARK}${instance}:`);
}
