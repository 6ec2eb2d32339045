// What ties one request to the LB's memory: the facts read once after intake (session, thinking
// signature, conversation size, the auto-upgrade decision), whether its outcome is the LB's to learn
// from at all (isSideRequest), and what it writes: an attempt's verdict on its target (cooldown,
// sticky target: recordVerdict, for attempt.ts and late-error.ts) and, when the request ends, its
// failure streak and the stickiness of an OpenAI Responses id (recordEnd).

import type { Config, Route } from "../config/types.ts";
import type { AttemptEffect, StateStore } from "../state/index.ts";
import { recordAttempt, recordRequestEnd } from "../state/index.ts";
import type { Outcome as Classified } from "./classify.ts";
import type { Intake } from "./intake.ts";
import { NOTHING_TRIED, type PickContext, routeAnswers } from "./route.ts";
import { modelIdsOf, modelMeant } from "./model-ids.ts";
import { activates, decideModel, describeRouter, type RouterOutcome, successStreakKey } from "./router/decide.ts";
import { findSignature, responseSessionKey, type SignatureFacts, sessionKey, stickyKey, streakKey } from "./session.ts";
import { CONTINUATION_SPAN, type Conversation, conversationKey, conversationOf } from "./conversation-key.ts";
import { countMessagesAndTools, decideUpgrade, describeUpgrade, estimateInputTokens, type UpgradeDecision } from "./upgrade.ts";

export interface RequestFacts {
  /** Session key (session.ts), when the request names one. */
  readonly session: string | undefined;
  /**
   * The conversation the body is (conversation-key.ts) when it names no session: for sticky routing
   * only (its prompt cache) — streaks and the router's holds stay the named session's, since two
   * conversations may open alike.
   */
  readonly conversation?: Conversation;
  readonly sig: SignatureFacts;
  /** The `auto` router's decision, for requests naming an activation model. */
  readonly router?: RouterOutcome;
  /**
   * The route the client named — or, for an activation model, the route the router resolved it
   * to; undefined for unknown models (they go to the default instance).
   */
  readonly requested: Route | undefined;
  /** The route that serves the request after auto-upgrade. */
  readonly route: Route | undefined;
  readonly upgrade: UpgradeDecision | undefined;
  /** Failure-streak key (session or anon, requested model); undefined when unrouted. */
  readonly streakKey: string | undefined;
  /** A side request (isSideRequest): it reads the LB's memory as its session would, and writes none of it. */
  readonly side: boolean;
}

/**
 * Whether a request is a side request: one that asks about a generation instead of making one
 * (a token count: Claude Code's /context sends ~25 at once). Its outcome is no word on how the
 * session's generations fare — some CLIProxyAPI Antigravity builds answer every count 501 and
 * generate fine — so it feeds no routing state: it neither grows nor resets the failure streak
 * (auto-upgrade, the router's factors), sets or ends no cooldown (nor takes a half-open target's
 * verdict), and moves no sticky target or router hold. It still fails over, and is routed by that
 * state as its session's next generation would be: counted by the model that would answer it.
 */
export function isSideRequest(intake: Pick<Intake, "countTokens">): boolean {
  return intake.countTokens;
}

/** What the router's fallback asks of the gateway, besides cooldowns: instances away, and those known down (pipeline.ts). */
type Liveness = Pick<PickContext, "draining" | "deadEnds">;

/**
 * Facts of a request, read once from its headers and parsed body: the model meant (a route, a
 * router model, or one of their Claude aliases), the router (for activation models only — every
 * other request pays one set lookup), then auto-upgrade on the resolved route.
 */
export function requestFacts(headers: Headers, intake: Intake, config: Config, state: StateStore, now: number, live: Liveness = {}): RequestFacts {
  const session = sessionKey(headers, intake.json);
  const side = isSideRequest(intake);
  const sig = findSignature(intake.json);
  const meant = modelMeant(modelIdsOf(config), intake.model); // `claude-gw-g3f` means g3f (lb/model-ids.ts)
  const routerConfig = config.global.lb.router;
  const router = activates(routerConfig, meant)
    ? decideModel({ config, router: routerConfig, body: intake.json, model: meant!, session, sig, state, now, answers: (name) => routeNamedAnswers(config, name, { tried: NOTHING_TRIED, now, state, signed: sig.signed, ...live }) })
    : undefined;
  if (router?.remember && !side) state.setSticky(router.remember.key, router.remember.value, now);
  const model = router ? router.resolved : meant;
  const requested = model === undefined ? undefined : config.routes.get(model);
  // Streaks count per (session, model the client sent), as the old LB kept them.
  const source = router ? router.requested : requested?.name;
  const sk = source === undefined ? undefined : streakKey(session, source);
  if (!requested || sk === undefined) return { session, sig, router, requested, route: undefined, upgrade: undefined, streakKey: sk, side };
  const { messages, tools } = countMessagesAndTools(intake.json);
  const inputTokens = config.global.lb.autoUpgrade.inputTokensThreshold > 0 ? estimateInputTokens(intake.raw) : 0;
  const upgrade = decideUpgrade(config, requested.name, { messages, tools, streak: state.streak(sk, now), signed: sig.signed, inputTokens });
  const route = config.routes.get(upgrade.route) ?? requested;
  // Hashed only where a conversation can be sticky (conversationOn): its opening may be a long system prompt.
  const conversation = session === undefined && route.targets.length > 1 ? conversationOf(intake.json) : undefined;
  return { session, conversation, sig, router, requested, route, upgrade, streakKey: sk, side };
}

function routeNamedAnswers(config: Config, name: string, ctx: PickContext): boolean {
  const r = config.routes.get(name);
  return r !== undefined && routeAnswers(r, ctx);
}

/** A signature fallback: where it went, and whether its answer is the one delivered (`failed`, `untried`: the 400 it followed is). */
export interface FallbackFacts {
  readonly route: Route;
  /** `untried`: no route of the family could answer (fallback-choice.ts); `route` is the family's first. */
  readonly outcome: "served" | "failed" | "untried";
}

/**
 * `x-gw-route`: the router's decision, the route, how it was upgraded, and a signature fallback
 * when one happened — e.g. `auto->g3f.auto (category quick)->opus4.6 (messages 85>=80)`.
 */
export function routeHeader(facts: RequestFacts, fallback: FallbackFacts | undefined): string {
  const routed = facts.router ? describeRouter(facts.router) : undefined;
  if (!facts.requested || !facts.upgrade) return routed ?? "-";
  const upgraded = describeUpgrade(facts.requested.name, facts.upgrade);
  const base = routed === undefined ? upgraded : facts.upgrade.upgraded ? `${routed}${upgraded.slice(facts.requested.name.length)}` : routed;
  if (!fallback) return base;
  const to = fallback.route.name;
  if (fallback.outcome === "served") return `${base} => ${to} (signature fallback)`;
  return fallback.outcome === "failed" ? `${base} (its signature fallback to ${to} failed)` : `${base} (its signature fallback to ${to} not tried: no route of its family can answer now)`;
}

/** Sticky key the request's target is remembered under on a route, when it has a session or is a conversation already; none for a side request. */
export function stickyKeyOn(facts: RequestFacts, route: Route): string | undefined {
  return facts.side ? undefined : ownStickyKey(facts, route);
}

/** The key of the request's own session or conversation on `route` (stickyKeyOn, whether or not it writes). */
function ownStickyKey(facts: RequestFacts, route: Route): string | undefined {
  if (facts.session !== undefined) return stickyKey(facts.session, route.name);
  const c = conversationOn(facts, route);
  return c && stickyKey(conversationKey(c), route.name);
}

/**
 * The request's conversation where it may be sticky as one: on a route of one target there is no
 * other account to hop to, so its turns read and write nothing (a state write per turn saved).
 */
function conversationOn(facts: RequestFacts, route: Route): Conversation | undefined {
  return route.targets.length > 1 ? facts.conversation : undefined;
}

/** What route.ts picks this request's target on `route` by: one builder, so `gw explain` shows the pick an attempt makes. */
export function pickContext(facts: RequestFacts, route: Route, at: Omit<PickContext, "sessionKey" | "signed">): PickContext {
  return { ...at, sessionKey: stickyKeyReadOn(facts, route, at), signed: facts.sig.signed };
}

/**
 * Where the request finds its sticky target: its session's key; for a conversation, the key of
 * the latest shorter request of it that left one, else none. Never one of the same length, its
 * own included: that is a sibling (a few-shot batch's next prompt), not the turn before.
 */
function stickyKeyReadOn(facts: RequestFacts, route: Route, at: Pick<PickContext, "state" | "now">): string | undefined {
  const c = conversationOn(facts, route);
  if (facts.session !== undefined || !c) return ownStickyKey(facts, route);
  for (const key of shorterKeys(c, route)) if (at.state?.sticky(key, at.now) !== undefined) return key;
  return undefined;
}

/** The sticky keys the conversation's shorter requests may have left on `route`, latest first. */
function* shorterKeys(c: Conversation, route: Route): Generator<string> {
  for (let turns = c.turns - 1; turns >= Math.max(1, c.turns - CONTINUATION_SPAN); turns--) yield stickyKey(conversationKey(c, turns), route.name);
}

/**
 * An attempt's verdict on its target (state/apply.ts recordAttempt): its cooldown set or ended,
 * the session's sticky target. A side request's gives none; a half-open target's trial it took is
 * let go, as one whose client left is (attempt.ts): the next request may try the target.
 */
export function recordVerdict(
  state: StateStore,
  facts: RequestFacts,
  c: Classified,
  a: { route: Route; target: string; now: number; trial?: boolean; sentAt?: number },
): AttemptEffect | undefined {
  if (facts.side) {
    if (a.trial) state.endTrial(a.route.name, a.target);
    return undefined;
  }
  return recordAttempt(state, c, { route: a.route.name, target: a.target, stickyKey: stickyKeyOn(facts, a.route), now: a.now, trial: a.trial, signed: facts.sig.signed, sentAt: a.sentAt });
}

/**
 * Once the response has ended: the streak of (session, requested model) resets on success and
 * grows otherwise; an OpenAI Responses id delivered by `targetId` becomes sticky to it, so the
 * follow-up naming it as `previous_response_id` lands where the response lives — when that id is
 * how the follow-up will be found: the request named no other session (sessionKey reads
 * `previous_response_id` last). Codex sends `prompt_cache_key` with every turn; one sticky entry
 * per response it gets would be read never, yet push real sessions out of the bounded map (and
 * fill the state file between its prunes) — on a shared gw, Claude Code sessions idle for an hour
 * or two lost their target to a colleague's Codex tool calls.
 */
export function recordEnd(
  state: StateStore,
  facts: RequestFacts,
  end: { ok: boolean; now: number; route?: Route; targetId?: string; responseId?: string },
): void {
  if (facts.side) return; // isSideRequest
  if (facts.streakKey) recordRequestEnd(state, facts.streakKey, end.ok, end.now);
  // The router's success_streak factor: successes in a row are counted as the streak of the
  // opposite outcome under a key of their own (reset by a failure, grown by a success).
  if (facts.router && facts.streakKey) recordRequestEnd(state, successStreakKey(facts.streakKey), !end.ok, end.now);
  // A conversation's turn that succeeded left its own entry (attempt.ts): the one of the turn
  // before is read never again, and a conversation keeps one entry, not one per turn, in the
  // bounded map real sessions share.
  const c = end.ok && end.route ? conversationOn(facts, end.route) : undefined;
  if (c) for (const key of shorterKeys(c, end.route!)) if (state.sticky(key, end.now) !== undefined) state.clearSticky(key);
  const foundByResponse = facts.session === undefined || facts.session.startsWith(responseSessionKey(""));
  if (end.ok && end.responseId && end.route && end.targetId && foundByResponse) {
    state.setSticky(stickyKey(responseSessionKey(end.responseId), end.route.name), end.targetId, end.now);
  }
}
