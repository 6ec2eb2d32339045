// Auto-upgrade: a request sent to a cheap route (`g3f.auto`) moves to its mapped stronger route
// (`lb_auto_upgrade_map`) when it looks too big or too troubled for the cheap one. Pure: the caller
// supplies the counts, the failure streak and the signature flag.

import type { Config } from "../config/types.ts";

interface UpgradeFacts {
  /** Messages in the conversation (`messages`, or Responses `input` items). */
  readonly messages: number;
  readonly tools: number;
  /** Failure streak of (session or "anon", requested model), from the state store. */
  readonly streak: number;
  /** The request carries signed thinking blocks. */
  readonly signed: boolean;
  /** Local estimate (estimateInputTokens); only read when the threshold is set. */
  readonly inputTokens: number;
}

export interface UpgradeDecision {
  /** Route to serve the request from: the mapped one when upgraded, else the requested one. */
  readonly route: string;
  readonly upgraded: boolean;
  /** Every threshold that was met, e.g. `messages 85>=80` (empty when not upgraded). */
  readonly reasons: readonly string[];
}

/**
 * Upgrade when auto-upgrade is enabled, the route is in the map, the mapped route exists, and any
 * holds: messages ≥ threshold, tools ≥ threshold, streak ≥ threshold, a signed thinking block
 * (when lb_auto_upgrade_signature_enabled), or estimated input tokens ≥ threshold. A threshold
 * of 0 turns its test off.
 */
export function decideUpgrade(config: Config, routeName: string, facts: UpgradeFacts): UpgradeDecision {
  const au = config.global.lb.autoUpgrade;
  const stay: UpgradeDecision = { route: routeName, upgraded: false, reasons: [] };
  const to = au.enabled ? au.map[routeName] : undefined;
  if (to === undefined || to === routeName || !config.routes.has(to)) return stay;

  const reasons: string[] = [];
  const atLeast = (name: string, value: number, threshold: number) => {
    if (threshold > 0 && value >= threshold) reasons.push(`${name} ${value}>=${threshold}`);
  };
  atLeast("messages", facts.messages, au.messagesThreshold);
  atLeast("tools", facts.tools, au.toolsThreshold);
  atLeast("streak", facts.streak, au.failureStreakThreshold);
  if (au.signatureEnabled && facts.signed) reasons.push("signed");
  atLeast("input_tokens", facts.inputTokens, au.inputTokensThreshold);
  return reasons.length ? { route: to, upgraded: true, reasons } : stay;
}

/** `x-gw-route` value: `g3f.auto->opus4.6 (messages 85>=80, signed)` or just the route. */
export function describeUpgrade(requested: string, d: UpgradeDecision): string {
  return d.upgraded ? `${requested}->${d.route} (${d.reasons.join(", ")})` : requested;
}

/**
 * Input tokens, estimated from the request body's size: UTF-8 bytes / 4. Nothing is parsed or
 * tokenized, so it costs nothing on the hot path. It over-counts JSON structure (keys, quotes,
 * tool schemas: about 10–30% for Claude Code bodies) and counts base64 images far above their
 * real cost, so set lb_auto_upgrade_input_tokens_threshold with that margin in mind.
 */
export function estimateInputTokens(body: number | Uint8Array | string | undefined): number {
  if (body === undefined) return 0;
  const bytes = typeof body === "number" ? body : typeof body === "string" ? Buffer.byteLength(body) : body.byteLength;
  return Math.ceil(bytes / BYTES_PER_TOKEN);
}

/** Message and tool counts of a parsed body, in any dialect gw routes. */
export function countMessagesAndTools(body: Record<string, unknown> | undefined): { messages: number; tools: number } {
  // Gemini: `contents`, tools as [{functionDeclarations: [...]}] — count the declarations.
  const geminiTools = Array.isArray(body?.tools)
    ? (body.tools as unknown[]).reduce<number>((n, t) => n + lengthOf((t as Record<string, unknown>)?.functionDeclarations), 0)
    : 0;
  return {
    messages: lengthOf(body?.messages) || lengthOf(body?.input) || lengthOf(body?.contents),
    tools: geminiTools || lengthOf(body?.tools),
  };
}

const lengthOf = (v: unknown) => (Array.isArray(v) ? v.length : 0);

const BYTES_PER_TOKEN = 4;
