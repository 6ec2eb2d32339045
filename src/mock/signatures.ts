// The thinking signatures `gw mock` makes, and whether a request carries one another instance made.
//
// A provider verifies only the signatures it issued: Anthropic rejects a thinking block signed
// elsewhere ("Invalid `signature` in `thinking` block"), and CLIProxyAPI's signature cache (on by
// default) resolves only the ones it relayed itself. The `sig=foreign` knob plays that strict
// verifier: a mock signature names the instance and model that made it.

import { asObject, objectsIn } from "../json/object.ts";

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
  return signaturesIn(body).some((s) => !madeBy(s, instance));
}

// --- internal ---

const MARK = "gw-mock-signature:";

/**
 * The signatures where a provider reads them: an Anthropic thinking block's `signature`, a Gemini
 * part's `thoughtSignature`, a Responses reasoning item's `encrypted_content` — not any field so
 * named (a tool call's input may have one, and no provider verifies it).
 */
function signaturesIn(body: unknown): string[] {
  const b = asObject(body);
  const out: string[] = [];
  const take = (v: unknown) => typeof v === "string" && v && out.push(v);
  for (const m of objectsIn(b?.messages)) for (const c of objectsIn(m.content)) if (c.type === "thinking") take(c.signature);
  for (const c of objectsIn(b?.contents)) for (const p of objectsIn(c.parts)) take(p.thoughtSignature);
  for (const i of objectsIn(b?.input)) if (i.type === "reasoning") take(i.encrypted_content);
  return out;
}

function madeBy(signature: string, instance: string): boolean {
  const raw = signature.slice(signature.indexOf("#") + 1); // `claude#…`; Gemini's have no prefix
  return Buffer.from(raw, "base64").toString().startsWith(`${MARK}${instance}:`);
}
