// One route's attempt loop for one request: choose (route.ts, with cooldowns, sticky and
// signature lock), claim a half-open target's trial, rewrite + forward, have the outcome judged
// (judge.ts), then write it to the state store and the request record. The loop itself
// (failover.ts) only sees choices and Tried values.

import { targetsTooSmall } from "../catalog/routes.ts";
import type { LbConfig, Route } from "../config/types.ts";
import { failedAttempt, usageRecord } from "../observe/record.ts";
import type { StateStore } from "../state/index.ts";
import { shouldRetry } from "./classify.ts";
import type { Attempt, AttemptLoop, Choice, Tried } from "./failover.ts";
import { AttemptDeadline, type ClientLink, schedule, unschedule } from "./due.ts";
import { type AttemptControl, forward, type Outcome } from "./forward.ts";
import type { RoutedIntake } from "./intake.ts";
import type { DeadEnds } from "./dead-ends.ts";
import type { Prober } from "./probe.ts";
import type { RecordBuilder } from "./record-builder.ts";
import { pickContext, recordVerdict, type RequestFacts, stickyKeyOn } from "./request-state.ts";
import { providerOf } from "./quirks.ts";
import { rewriteFor, upstreamModel } from "./rewrite.ts";
import { explainPick, stickyAction } from "./route.ts";
import type { Runtime } from "./runtime.ts";
import type { InstanceLoad } from "./drain.ts";
import type { StatsCounter } from "./stats.ts";
import type { BodyHold } from "./body-budget.ts";
import { judge } from "./judge.ts";
import { type AnswerRule, answerRule } from "./non-answer.ts";

export interface AttemptDeps {
  readonly req: Request;
  readonly intake: RoutedIntake;
  readonly rt: Runtime;
  readonly state: StateStore;
  readonly stats: StatsCounter;
  /** What runs on each instance, which are draining for a restart (their targets are passed over) and which are away (waited for). */
  readonly load?: InstanceLoad;
  readonly probes: Prober;
  /** Where this request cannot be answered (instances known down): each attempt notes what it met, every pick reads it. */
  readonly deadEnds: DeadEnds;
  /** The request's client: whether it left, and its attempts follow it. */
  readonly client: ClientLink;
  readonly facts: RequestFacts;
  readonly record: RecordBuilder;
  /**
   * The request's share of the body budget: a stream's held opening is counted in it too
   * (first-event.ts). Given back once the answer is handed back (pipeline.ts): the attempts after
   * it, which follow keep-alive spaces, take no event stream (cannotFollowSpaces), so hold none.
   */
  readonly memory?: BodyHold;
}

/** The loop for `route`, or for the default instance (once, as sent) when there is no route. */
export function attemptLoop(d: AttemptDeps, route: Route | undefined): AttemptLoop {
  return new RouteAttempts(d, route);
}

/** A class, not closures: it lives as long as its request (what the collector marks, bench/README.md). */
class RouteAttempts implements AttemptLoop {
  private readonly lb: LbConfig;
  private readonly sticky: string | undefined;
  /** Targets the refusals of the prompt as too long rule out (routes.ts targetsTooSmall). */
  private tooSmall: ReadonlySet<string> | undefined;
  /** Attempts that ended in such a refusal: no failure, so not counted against lb_max_target_retries. */
  private refusals = 0;
  /** What the request's answers below 400 may be (non-answer.ts). */
  private readonly answers: AnswerRule;

  constructor(
    private readonly d: AttemptDeps,
    private readonly route: Route | undefined,
  ) {
    this.lb = d.rt.config.global.lb;
    this.sticky = route && stickyKeyOn(d.facts, route);
    this.answers = answerRule(d.req.method, d.intake.path, d.intake.search);
  }

  retry(t: Tried, attempts: number): boolean {
    // Every verdict comes here, also one found only after keep-alive spaces went out (AttemptRun.goOn):
    // a refusal of the prompt as too long rules out the targets that would refuse it too (by the
    // size it names, else by the refusing one's window). So such refusals end by themselves (each
    // rules out at least its own target) and lb_max_target_retries
    // counts only the others: a route of 128k, 200k and 1M windows reaches the 1M one, and a 429
    // before or after a refusal keeps its failover. At 0 (no failover at all) none is made.
    const target = t.outcome.attempt.target;
    if (t.classified?.class === "context" && this.route && target) {
      const ruledOut = targetsTooSmall(this.route, target, t.classified.promptTokens);
      this.tooSmall = this.tooSmall ? ruledOut.union(this.tooSmall) : ruledOut;
      this.refusals++;
    }
    return t.classified !== undefined && !lastResortFailed(t) && shouldRetry(t.classified, Math.max(1, attempts - this.refusals), this.lb, this.d.req.method, 0);
  }

  async attempt(info: Attempt): Promise<Tried> {
    const { d, route, lb, sticky } = this;
    const started = performance.now(); // for its duration: a wall-clock step must not lengthen or shorten it
    const sentAt = Date.now(); // beside cooldowns' setAt (wall clock): what its success may end
    // One controller stops the attempt, its body read included: at the first-byte deadline (which
    // a stream's opening and a sized answer's body must also meet) or when the client leaves.
    const ctl = new AttemptDeadline(info.target?.firstByteTimeoutMs ?? lb.firstByteTimeoutMs, d.client, trialHold(d.state, route, info));
    schedule(ctl);
    let sent: Sent | undefined;
    let tried: Tried;
    try {
      sent = await this.send(info, ctl);
      // A connection to an instance this gw runs that failed before any answer (refused; reset,
      // when gw's pooled connection to it was open) may be a death its supervisor has not heard
      // of yet (a moment ago; an adopted instance is looked at every few hundred ms): it looks
      // now, and a dead instance is away — the request waits for its respawn and is sent once
      // more. An instance still running, or down for good, gets the failure judged as before.
      if (unanswered(sent.outcome) && (await d.load?.hold.gone(sent.to.instance))) {
        const again = await this.send(sent.to, ctl);
        sent = { ...again, heldMs: sent.heldMs + again.heldMs };
      }
      tried = await judge(sent.outcome, { signed: d.facts.sig.signed, cooldowns: lb.cooldownsMs, ctl, mask: d.rt.masker.text, maskPieces: d.rt.masker.pieces, post: d.req.method === "POST", afterSpaces: info.afterSpaces === true, memory: d.memory, idleMs: lb.idleTimeoutMs, answers: this.answers });
    } finally {
      unschedule(ctl);
      if (sent?.outcome.kind === "response") d.load?.leave(sent.to.instance.name);
    }
    d.deadEnds.note(tried);
    const c = tried.classified;
    const outcome = c?.class ?? "aborted";
    d.stats.attempt(info.instance.name, failedAttempt(outcome));
    const now = Date.now();
    const effect = c && route && info.target ? recordVerdict(d.state, d.facts, c, { route, target: info.target.id, now, trial: info.trial, sentAt }) : undefined;
    const cd = effect?.cooled;
    if (cd) d.probes.cooling(cd.route, cd.target, info.instance.name, now + cd.ms, cd);
    // An answer is fresher word than a failed probe (every pick reads it: dead-ends.ts).
    else if (c?.class === "ok") d.probes.up(info.instance.name);
    // A success that ended the target's cooling (its trial, or a request sent to it while it cooled) is said as its start was.
    if (effect?.ended && route && info.target) d.probes.coolingOver(route.name, info.target.id, info.trial === true);
    // A trial whose client left gave no verdict: the next request may try the target again.
    if (!c && info.trial && route && info.target) d.state.endTrial(route.name, info.target.id);
    // A 2xx makes the target the session's sticky one: note it when it was not already (a
    // failover away from the sticky target moves the session).
    if (c?.class === "ok" && sticky && info.pick !== "sticky" && info.pick !== "signature-lock") d.record.sticky = "set";
    d.record.attempt(
      {
        target: info.target ? info.target.id : `default:${info.instance.name}`,
        instance: info.instance.name,
        provider: providerOf(info.target, info.instance),
        model: info.target ? upstreamModel(info.target) : (d.intake.model ?? "-"),
        ...(info.pick ? { pick: info.pick } : {}),
        status: c?.status ?? 0,
        class: outcome,
        ms: Math.round(performance.now() - started),
        ...(sent.heldMs > 0 ? { held_ms: sent.heldMs } : {}),
        ...(c && c.class !== "ok" ? { error: c.reason } : {}),
      },
      cd,
      usageRecord(tried.usage),
      sent.params,
    );
    return tried;
  }

  /**
   * Wait for the instance while it is on its way back (restart, reload, respawn, start: hold.ts)
   * within the attempt's own deadline, then send to it as it is configured now. Checked before
   * awaiting: the common case, nothing away, pays no promise. An answer is counted on its
   * instance until it is judged (a drain waits for it; a relayed body is counted again by
   * deliver); a failure ran nothing there.
   */
  private async send(info: Attempt, ctl: AttemptDeadline): Promise<Sent> {
    const { d } = this;
    const held = d.load?.hold.has(info.instance.name) ? await d.load.hold.wait(info.instance, ctl.abort.signal) : { instance: info.instance, ms: 0 };
    const to: Attempt = held.instance === info.instance ? info : { ...info, instance: held.instance };
    if (ctl.abort.signal.aborted) return { to, outcome: notBack(to, ctl), heldMs: held.ms, params: [] };
    // Waited for a start that found its port another process's (hold.ts "taken"): nothing goes there.
    if (held.ms > 0 && d.deadEnds.barred?.(to.instance.name)) return { to, outcome: portHeldElsewhere(to), heldMs: held.ms, params: [] };
    const up = rewriteFor(d.intake, d.req.headers, to.instance, to.target);
    d.load?.enter(to.instance.name);
    const outcome = await forward(to, d.req.method, up, ctl);
    if (outcome.kind === "failed") d.load?.leave(to.instance.name);
    return { to, outcome, heldMs: held.ms, params: up.params };
  }

  choose(tried: ReadonlySet<string>): Choice | undefined | Promise<Choice | undefined> {
    const { d, route, lb } = this;
    if (!route) {
      const instance = d.rt.defaultInstance;
      return tried.size === 0 && instance && !d.deadEnds.barred?.(instance.name) ? { instance, target: undefined } : undefined;
    }
    const skip = this.tooSmall ? new Set([...tried, ...this.tooSmall]) : tried;
    const ctx = pickContext(d.facts, route, { tried: skip, now: Date.now(), state: d.state, draining: d.load?.resting, deadEnds: d.deadEnds });
    const pick = explainPick(route, ctx);
    const instance = pick && d.rt.instances.get(pick.target.instance);
    if (!pick || !instance) return undefined;
    const choice: Choice = { instance, target: pick.target, pick: pick.reason, trial: pick.trial };
    if (tried.size === 0) d.record.sticky = stickyAction(ctx, pick);
    if (!pick.trial) return choice;
    // A half-open target's one trial: ours unless another replica holds it or no probe of the
    // instance has answered yet (a shared store: state/redis-trial.ts), then pick again (the
    // claim marked the target busy here, so the next pick goes elsewhere).
    const claimed = d.state.claimTrial(route.name, pick.target.id, ctx.now + (pick.target.firstByteTimeoutMs ?? lb.firstByteTimeoutMs));
    if (claimed === true) return choice;
    if (claimed === false) return this.choose(tried);
    return claimed.then((ok) => (ok ? choice : this.choose(tried)));
  }
}

/**
 * A half-open target's trial is claimed for its first-byte deadline (choose); one held past it
 * while a tool call's input is awaited keeps the claim as long, or the next request would be
 * a second trial of a target whose verdict is still out.
 */
function trialHold(state: StateStore, route: Route | undefined, info: Attempt): ((until: number) => void) | undefined {
  const target = info.trial ? info.target : undefined;
  return route && target ? (until) => state.extendTrial(route.name, target.id, until) : undefined;
}

/**
 * The soonest-back target of a route whose every target was out failed too: the request ends
 * there with gw's own 503 (own-error.ts), as the README promises. The next soonest would be an
 * account that already refused (a 429, an auth error), asked again and its cooldown restarted, on
 * every request while the route is out. A refusal of the prompt as too long is no failure of the
 * target's: a larger window may still take it. A signed request goes on to its family's routes
 * (signature-fallback.ts), which may answer it.
 */
export function lastResortFailed(t: Tried): boolean {
  return t.outcome.attempt.pick === "soonest-cooldown" && t.classified?.class !== "context";
}

/** One send of an attempt: where it went (the instance as configured then), what came back, how long it waited for the instance. */
interface Sent {
  readonly to: Attempt;
  readonly outcome: Outcome;
  readonly heldMs: number;
  /** The route params that changed the request sent (none when nothing was sent). */
  readonly params: readonly string[];
}

/** The connection failed before any answer (not the deadline, not the client leaving). */
const unanswered = (o: Outcome) => o.kind === "failed" && o.reason === "connect";

/** Its instance's start found the port held by another process: as unreachable as a refused connection. */
function portHeldElsewhere(a: Attempt): Outcome {
  return { kind: "failed", attempt: a, reason: "connect", message: `${a.instance.name}: port ${a.instance.port} is held by another process, not this instance` };
}

/** The attempt's deadline passed, or its client left, while it waited for its instance to be back. */
function notBack(a: Attempt, ctl: AttemptControl): Outcome {
  if (ctl.clientGone()) return { kind: "failed", attempt: a, reason: "aborted", message: "client went away" };
  return { kind: "failed", attempt: a, reason: "timeout", message: `${a.instance.name}: not back from its restart within ${ctl.timeoutMs} ms` };
}
