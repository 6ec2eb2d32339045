// What ties one request to the LB's memory: the facts read once after intake (session, thinking
// signature, conversation size, the auto-upgrade decision) and the state written when the request
// ends (failure streak, stickiness of an OpenAI Responses id). Per-attempt writes are attempt.ts's.

import type { Config, Route } from "../config/types.ts";
import type { StateStore } from "../state/index.ts";
import { recordRequestEnd } from "../state/index.ts";
import type { Intake } from "./intake.ts";
import { findSignature, responseSessionKey, type SignatureFacts, sessionKey, stickyKey, streakKey } from "./session.ts";
import { countMessagesAndTools, decideUpgrade, describeUpgrade, estimateInputTokens, type UpgradeDecision } from "./upgrade.ts";

export interface RequestFacts {
  /** Session key (session.ts), when the request names one. */
  readonly session: string | undefined;
  readonly sig: SignatureFacts;
  /** The route the client named; undefined for unknown models (they go to the default instance). */
  readonly requested: Route | undefined;
  /** The route that serves the request after auto-upgrade. */
  readonly route: Route | undefined;
  readonly upgrade: UpgradeDecision | undefined;
  /** Failure-streak key (session or anon, requested model); undefined when unrouted. */
  readonly streakKey: string | undefined;
}

/**
 * Facts of a request, read once from its headers and parsed body. `routeById` resolves the model
 * the client named: a route name or its Claude alias (lb/model-ids.ts).
 */
export function requestFacts(headers: Headers, intake: Intake, config: Config, routeById: ReadonlyMap<string, Route>, state: StateStore, now: number): RequestFacts {
  const session = sessionKey(headers, intake.json);
  const sig = findSignature(intake.json);
  const requested = intake.model === undefined ? undefined : routeById.get(intake.model);
  if (!requested) return { session, sig, requested, route: undefined, upgrade: undefined, streakKey: undefined };
  const sk = streakKey(session, requested.name);
  const { messages, tools } = countMessagesAndTools(intake.json);
  const inputTokens = config.global.lb.autoUpgrade.inputTokensThreshold > 0 ? estimateInputTokens(intake.raw) : 0;
  const upgrade = decideUpgrade(config, requested.name, { messages, tools, streak: state.streak(sk, now), signed: sig.signed, inputTokens });
  const route = config.routes.get(upgrade.route) ?? requested;
  return { session, sig, requested, route, upgrade, streakKey: sk };
}

/** `x-gw-route`: the route, how it was upgraded, and a signature fallback when one happened. */
export function routeHeader(facts: RequestFacts, fallback: Route | undefined): string {
  if (!facts.requested || !facts.upgrade) return "-";
  const base = describeUpgrade(facts.requested.name, facts.upgrade);
  return fallback ? `${base} => ${fallback.name} (signature fallback)` : base;
}

/** Sticky key of the request on a route, when it has a session. */
export function stickyKeyOn(facts: RequestFacts, route: Route): string | undefined {
  return facts.session === undefined ? undefined : stickyKey(facts.session, route.name);
}

/**
 * Once the response has ended: the streak of (session, requested model) resets on success and
 * grows otherwise; an OpenAI Responses id delivered by `targetId` becomes sticky to it, so the
 * follow-up naming it as `previous_response_id` lands where the response lives.
 */
export function recordEnd(
  state: StateStore,
  facts: RequestFacts,
  end: { ok: boolean; now: number; route?: Route; targetId?: string; responseId?: string },
): void {
  if (facts.streakKey) recordRequestEnd(state, facts.streakKey, end.ok, end.now);
  if (end.ok && end.responseId && end.route && end.targetId) {
    state.setSticky(stickyKey(responseSessionKey(end.responseId), end.route.name), end.targetId, end.now);
  }
}
