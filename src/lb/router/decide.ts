// The `auto` router's decision for one request — the one function the pipeline and
// `gw route explain` both call. The rule book (evaluate.ts) suggests a route; then two session
// rules keep a conversation in one place:
//
// - Session hold (gw): a session keeps the route the router gave it unless a hit with a higher
//   priority number comes (equal keeps; default_model ranks below every category and rule). Turn
//   by turn a conversation's last user text flickers between "explore", "coding" and "unknown";
//   switching models on each flicker would throw away the prompt cache and the model's context.
//   Remembered per (session, requested model) in the state store's sticky map, with its TTL.
// - Signature lock (the old LB's): a request carrying signed thinking whose session already has a
//   sticky target on some route goes back to that route, whatever was decided, so a signature
//   never crosses providers.
//
// Then one rule of gw's keeps the request from a route that cannot answer it:
//
// - Unanswered fallback: a route none of whose targets can answer now (all cooling, their
//   instances down) would only cost the client a failure, so the request goes to default_model
//   instead when that one can. The session keeps its choice and goes back to it once it answers.
//   Never for a signature lock: a signature must not cross providers.
//
// In shadow mode all of it is decided (and remembered) but the model is not changed.

import type { Config, RouterConfig } from "../../config/types.ts";
import type { StateStore } from "../../state/index.ts";
import { familyOfTarget } from "../../catalog/families.ts";
import { familyOfPrefix, type SignatureFacts, stickyKey, streakKey } from "../session.ts";
import { type Evaluation, evaluate, type Hit } from "./evaluate.ts";
import { Factors } from "./factors.ts";

type Json = Record<string, unknown>;

interface RouterInput {
  readonly config: Config;
  readonly router: RouterConfig;
  readonly body: Json | undefined;
  /** The model the client sent (an activation model). */
  readonly model: string;
  readonly session: string | undefined;
  readonly sig: SignatureFacts;
  readonly state: Pick<StateStore, "sticky" | "streak">;
  readonly now: number;
  /** Whether a route has a target that can take this request now (route.ts routeAnswers); without it every route can. */
  readonly answers?: (route: string) => boolean;
}

/** The session's remembered choice (what the hold keeps). */
export interface Held {
  readonly route: string;
  /** Priority of the hit that chose it (null: default_model, below everything). */
  readonly priority: number | null;
  /** The decision that chose it, e.g. `category_hit_coding`. */
  readonly decision: string;
}

export interface RouterOutcome {
  readonly requested: string;
  /** What set the route: the rule book's decision, `session_hold`, `signature_lock`, `unanswered_fallback`, or `disabled`. */
  readonly decision: string;
  /** Undefined when the router is disabled. */
  readonly evaluation?: Evaluation;
  /** The route the router settled on (also in shadow mode); undefined when nothing chose one. */
  readonly route?: string;
  /** The model the request goes on with: `route` when applied, else the requested model. */
  readonly resolved: string;
  readonly applied: boolean;
  readonly shadow: boolean;
  /** Set when the session hold decided. */
  readonly held?: Held;
  /** The route chosen first, when none of its targets could answer and default_model took the request (unanswered_fallback). */
  readonly unanswered?: string;
  readonly factors?: Factors;
  readonly logFactors: boolean;
  /** Write this to the state store (the caller does): the session's new or refreshed choice. */
  readonly remember?: { readonly key: string; readonly value: string };
}

/** Does the router take requests for `model`? (An empty activation list takes every model, as the old LB did.) */
export function activates(router: RouterConfig | undefined, model: string | undefined): router is RouterConfig {
  return router !== undefined && model !== undefined && (router.activationModels.size === 0 || router.activationModels.has(model));
}

export function decideModel(i: RouterInput): RouterOutcome {
  const { router, model, session, state, now } = i;
  if (!router.enabled) return { requested: model, decision: "disabled", resolved: model, applied: false, shadow: false, logFactors: false };
  const routes = i.config.routes;
  const isRoute = (name: string) => routes.has(name);
  const sk = streakKey(session, model);
  const streaks = { failure: state.streak(sk, now), success: state.streak(successStreakKey(sk), now) };
  const factors = new Factors(i.body, model, i.sig.signed, streaks);
  const evaluation = evaluate(router, factors, isRoute);

  let route = evaluation.suggested;
  let decision = evaluation.decision;
  let held: Held | undefined;
  let remember: RouterOutcome["remember"];
  if (session !== undefined) {
    const key = memoryKey(session, model);
    const before = readHeld(state.sticky(key, now), isRoute);
    const fresh = evaluation.hit;
    if (fresh && (!before || rank(fresh.priority) > rank(before.priority))) {
      remember = { key, value: JSON.stringify(heldOf(fresh, evaluation.decision)) };
    } else if (before) {
      remember = { key, value: JSON.stringify(before) }; // refreshes the sliding TTL
      if (before.route !== route) [route, decision, held] = [before.route, "session_hold", before];
    }
    const locked = i.sig.signed ? signatureLock(i, session, route) : undefined;
    if (locked !== undefined && locked !== route) [route, decision, held] = [locked, "signature_lock", undefined];
  }
  let unanswered: string | undefined;
  const fallback = router.defaultModel;
  if (route !== undefined && fallback !== undefined && route !== fallback && decision !== "signature_lock" && isRoute(fallback) && i.answers && !i.answers(route) && i.answers(fallback)) {
    [unanswered, route, decision, held] = [route, fallback, "unanswered_fallback", undefined];
  }
  const shadow = router.shadowOnly;
  const applied = !shadow && route !== undefined && route !== model;
  return {
    requested: model,
    decision,
    evaluation,
    ...(route !== undefined ? { route } : {}),
    resolved: applied ? route! : model,
    applied,
    shadow,
    ...(held ? { held } : {}),
    ...(unanswered !== undefined ? { unanswered } : {}),
    factors,
    logFactors: router.logFactors,
    ...(remember ? { remember } : {}),
  };
}

/**
 * The route a signed request of `session` must go back to: the chosen one when the session has a
 * sticky target there; else a route where it has one — preferring one whose sticky target serves
 * the signature's model family, then file order. Undefined when the session has none.
 */
function signatureLock(i: RouterInput, session: string, chosen: string | undefined): string | undefined {
  const targetOn = (route: string) => i.state.sticky(stickyKey(session, route), i.now);
  if (chosen !== undefined && targetOn(chosen) !== undefined) return chosen;
  const family = i.sig.prefix === undefined ? undefined : familyOfPrefix(i.sig.prefix);
  let first: string | undefined;
  for (const r of i.config.routes.values()) {
    const id = targetOn(r.name);
    if (id === undefined) continue;
    const target = r.targets.find((t) => t.id === id);
    if (family !== undefined && target && familyOfTarget(target) === family) return r.name;
    first ??= r.name;
  }
  return first;
}

/** Where the session hold lives in the sticky map: apart from every `session::route` key. */
function memoryKey(session: string, model: string): string {
  return `router:${session}::${model}`;
}

/** Success streaks of router requests: a streak counter under its own key (state/apply.ts). */
export function successStreakKey(streak: string): string {
  return `ok:${streak}`;
}

const rank = (p: number | null) => p ?? -Infinity;

function heldOf(hit: Hit, decision: string): Held {
  return { route: hit.target, priority: Number.isFinite(hit.priority) ? hit.priority : null, decision };
}

/** A remembered choice, if it is readable and still names a route (a reload may have removed it). */
function readHeld(raw: string | undefined, isRoute: (name: string) => boolean): Held | undefined {
  if (raw === undefined) return undefined;
  try {
    const h = JSON.parse(raw) as Held;
    return typeof h?.route === "string" && isRoute(h.route) && typeof h.decision === "string" ? h : undefined;
  } catch {
    return undefined;
  }
}

/** Why the router chose: `category coding`, `rule high_complexity`, `default`, `session hold: …`, `signature lock`, `default: X cannot answer now`. */
function routerReason(o: RouterOutcome): string {
  if (o.decision === "signature_lock") return "signature lock";
  if (o.unanswered !== undefined) return `default: ${o.unanswered} cannot answer now`;
  if (o.held) return `session hold: ${decisionReason(o.held.decision)}`;
  return decisionReason(o.decision);
}

function decisionReason(decision: string): string {
  if (decision.startsWith("category_hit_")) return `category ${decision.slice(13)}`;
  if (decision.startsWith("rule_hit_")) return `rule ${decision.slice(9)}`;
  if (decision === "default_model") return "default";
  if (decision === "disabled") return "router disabled";
  return decision.replaceAll("_", " ");
}

/**
 * `x-gw-route`'s router part: `auto->sonnet4.6 (category coding)` when applied; in shadow mode
 * `auto (shadow: sonnet4.6, category coding)`; otherwise `auto (no rule)` and the like.
 */
export function describeRouter(o: RouterOutcome): string {
  if (o.applied) return `${o.requested}->${o.resolved} (${routerReason(o)})`;
  if (o.shadow && o.route !== undefined) return `${o.requested} (shadow: ${o.route}, ${routerReason(o)})`;
  return `${o.requested} (${routerReason(o)})`;
}
