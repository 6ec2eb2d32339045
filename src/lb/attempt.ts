// One route's attempt loop for one request: choose (route.ts, with cooldowns, sticky and
// signature lock), rewrite + forward, then classify the outcome, write it to the state store and
// the request record. The loop itself (failover.ts) only sees choices and Tried values.

import type { CooldownsMs, LbConfig, Route } from "../config/types.ts";
import { failedAttempt } from "../observe/record.ts";
import type { StateStore } from "../state/index.ts";
import { recordAttempt } from "../state/index.ts";
import { classifyOutcome, decodeErrorBody, failureOutcome, type Outcome as Classified, shouldRetry } from "./classify.ts";
import type { Attempt, AttemptLoop, Choice, Tried } from "./failover.ts";
import { AttemptDeadline, type ClientLink, schedule, unschedule } from "./due.ts";
import { type AttemptControl, forward, type Outcome } from "./forward.ts";
import type { RoutedIntake } from "./intake.ts";
import type { DeadEnds } from "./dead-ends.ts";
import type { Prober } from "./probe.ts";
import type { RecordBuilder } from "./record-builder.ts";
import { pickContext, type RequestFacts, stickyKeyOn } from "./request-state.ts";
import { providerOf } from "./quirks.ts";
import { rewriteFor, upstreamModel } from "./rewrite.ts";
import { explainPick, stickyAction } from "./route.ts";
import type { Runtime } from "./runtime.ts";
import type { InstanceLoad } from "./drain.ts";
import type { StatsCounter } from "./stats.ts";
import type { BodyHold } from "./body-budget.ts";
import { errorAnswerObject, errorStatus, HOLD_MAX_BYTES, holdOpening } from "./first-event.ts";
import { isEventStream, isJson, readWhole } from "./stream.ts";
import { ErrorOpening, holdJsonOpening, isJsonSpace, readOn } from "./json-opening.ts";
import { answerError } from "./whole-errors.ts";
import { codingsOf, decodingStream, isKnownCoding, plainOrAsSent } from "./encoding.ts";

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

  constructor(
    private readonly d: AttemptDeps,
    private readonly route: Route | undefined,
  ) {
    this.lb = d.rt.config.global.lb;
    this.sticky = route && stickyKeyOn(d.facts, route);
  }

  retry(t: Tried, attempts: number): boolean {
    return t.classified !== undefined && shouldRetry(t.classified, attempts, this.lb, this.d.req.method, 0);
  }

  async attempt(info: Attempt): Promise<Tried> {
    const { d, route, lb, sticky } = this;
    const started = performance.now(); // for its duration: a wall-clock step must not lengthen or shorten it
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
      tried = await judge(sent.outcome, { signed: d.facts.sig.signed, cooldowns: lb.cooldownsMs, ctl, mask: d.rt.masker.text, post: d.req.method === "POST", afterSpaces: info.afterSpaces === true, memory: d.memory, idleMs: lb.idleTimeoutMs });
    } finally {
      unschedule(ctl);
      if (sent?.outcome.kind === "response") d.load?.leave(sent.to.instance.name);
    }
    d.deadEnds.note(tried);
    const c = tried.classified;
    const outcome = c?.class ?? "aborted";
    d.stats.attempt(info.instance.name, failedAttempt(outcome));
    const now = Date.now();
    const cd = c && route && info.target ? recordAttempt(d.state, c, { route: route.name, target: info.target.id, stickyKey: sticky, now, trial: info.trial, signed: d.facts.sig.signed }) : undefined;
    if (cd) d.probes.cooling(cd.route, cd.target, info.instance.name, now + cd.ms);
    // An answer is fresher word than a failed probe (every pick reads it: dead-ends.ts).
    else if (c?.class === "ok") d.probes.up(info.instance.name);
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
    if (ctl.abort.signal.aborted) return { to, outcome: notBack(to, ctl), heldMs: held.ms };
    const up = rewriteFor(d.intake, d.req.headers, to.instance, to.target);
    d.load?.enter(to.instance.name);
    const outcome = await forward(to, d.req.method, up, ctl);
    if (outcome.kind === "failed") d.load?.leave(to.instance.name);
    return { to, outcome, heldMs: held.ms };
  }

  choose(tried: ReadonlySet<string>): Choice | undefined | Promise<Choice | undefined> {
    const { d, route, lb } = this;
    if (!route) {
      const instance = d.rt.defaultInstance;
      return tried.size === 0 && instance ? { instance, target: undefined } : undefined;
    }
    const ctx = pickContext(d.facts, route, { tried, now: Date.now(), state: d.state, draining: d.load?.resting, deadEnds: d.deadEnds });
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

/** One send of an attempt: where it went (the instance as configured then), what came back, how long it waited for the instance. */
interface Sent {
  readonly to: Attempt;
  readonly outcome: Outcome;
  readonly heldMs: number;
}

/** The connection failed before any answer (not the deadline, not the client leaving). */
const unanswered = (o: Outcome) => o.kind === "failed" && o.reason === "connect";

/** Error bodies are short; one that is not is cut here (its head is enough to classify). */
const ERROR_BODY_MAX_BYTES = 1 << 20;
/** Largest sized answer taken whole instead of relayed (see judge). */
const WHOLE_BODY_MAX = 1 << 20;

interface JudgeFacts {
  /** The request carries signed thinking (a 400 "signature" is then its own class). */
  readonly signed: boolean;
  readonly cooldowns: CooldownsMs;
  /** The attempt's control: whether its deadline passed or its client left while it was read. */
  readonly ctl: AttemptControl;
  /** Masks secrets in reasons (an upstream may echo a key in its error text). */
  readonly mask: (s: string) => string;
  /** A POST (a model call: its 200 always has a body). */
  readonly post: boolean;
  /** Its body is to follow an earlier attempt's keep-alive spaces (failover.ts Attempt.afterSpaces). */
  readonly afterSpaces: boolean;
  /** The request's share of the body budget (AttemptDeps.memory). */
  readonly memory?: BodyHold;
  /** lb_idle_timeout_ms: the silence a held opening may keep once a tool call began in it. */
  readonly idleMs: number;
}

/**
 * What an outcome means. Error bodies (status ≥ 400) are read here — they are small, and the
 * class depends on their text — and kept as bytes to deliver unchanged if this attempt is final.
 * A sized answer that is not an event stream was complete when its headers left the upstream, so
 * it is read whole too: one native read instead of a per-chunk relay, and a body that breaks
 * before its end is still a failure gw can fail over from (no byte has reached the client). An
 * event stream is read up to its first content event (first-event.ts): an error event before it
 * is judged like an error status; a JSON answer without a length up to its first value
 * (json-opening.ts): an error object first is read whole and judged as a sized one. Both are
 * decoded first (decodedStream). All of it within the attempt's first-byte deadline. Other
 * answers without a length stream as they come.
 */
async function judge(o: Outcome, f: JudgeFacts): Promise<Tried> {
  const { cooldowns, mask } = f;
  if (o.kind === "failed") {
    if (o.reason === "aborted") return { outcome: o, classified: undefined };
    return { outcome: o, classified: failureOutcome(o.reason === "timeout" ? "timeout" : "connection", o.message, cooldowns, mask) };
  }
  if (o.status < 400) {
    if (f.afterSpaces && !followsSpaces(o.headers)) return cannotFollowSpaces(o, f);
    const ok = classifyOutcome({ status: o.status }, cooldowns);
    const length = Number(o.headers.get("content-length") ?? Number.NaN);
    if (length <= WHOLE_BODY_MAX && !isEventStream(o.headers)) {
      const { bytes, complete } = await o.whole();
      return judgeWhole(o, bytes, complete, ok, f);
    }
    const body = o.body;
    const sse = isEventStream(o.headers);
    if (!body || !(sse || isJson(o.headers))) return { outcome: o, classified: ok };
    const plain = decodedStream(o, body);
    if (!plain) return { outcome: o, classified: ok };
    return sse ? judgeStream(plain.outcome, plain.body, ok, f) : judgeUnsized(plain.outcome, plain.body, ok, f);
  }
  const bytes = o.body ? (await readWhole(o.body, ERROR_BODY_MAX_BYTES)).bytes : new Uint8Array(0);
  const bodyText = decodeErrorBody(bytes, o.headers.get("content-encoding"));
  const classified: Classified = classifyOutcome({ status: o.status, headers: o.headers, bodyText, signed: f.signed, mask }, cooldowns);
  return { outcome: o, classified, body: bytes, errorText: bodyText };
}

/** A whole 2xx answer (sized, or read on from a held opening): broken, empty, an error object, or the answer. */
function judgeWhole(o: Answered, bytes: Uint8Array<ArrayBuffer>, complete: boolean, ok: Classified, f: JudgeFacts): Tried {
  if (!complete) return stopped(o, f) ?? brokenAttempt(o, "answer broke before its end", f);
  // Keep-alive newlines with nothing after them (CLIProxyAPI's, its upstream gone) are no answer either.
  if (o.status === 200 && f.post && isBlank(bytes)) return brokenAttempt(o, "answered 200 with an empty body", f);
  // Read decoded once: judged here, its usage read when it is delivered (deliver.ts).
  const plain = plainOrAsSent(bytes, o.headers.get("content-encoding"), WHOLE_BODY_MAX);
  return errorAnswer(o, bytes, plain, f) ?? { outcome: o, classified: ok, body: bytes, ...(plain === bytes ? {} : { plain }) };
}

/** Nothing but JSON spaces (or nothing). */
function isBlank(bytes: Uint8Array): boolean {
  for (const b of bytes) if (!isJsonSpace(b)) return false;
  return true;
}

/**
 * A 2xx JSON answer without a length: held until its first value (json-opening.ts). One that opens
 * as an error object, or ends before a value, is read whole and judged as a sized answer is.
 */
async function judgeUnsized(o: Answered, body: ReadableStream<Uint8Array>, ok: Classified, f: JudgeFacts): Promise<Tried> {
  const opening = await holdJsonOpening(body);
  if (opening.kind === "broke") return stopped(o, f, " (no JSON value yet)") ?? brokenAttempt(o, opening.message, f);
  if (opening.kind === "deliver") return { outcome: o, classified: ok, held: opening.source };
  if (opening.kind === "spaced") return { outcome: o, classified: ok, held: opening.source, spaced: true };
  const whole = await readOn(opening.source, WHOLE_BODY_MAX);
  // Larger than any error (an answer with an "error" warning first): relayed, whole-errors.ts masking it.
  if ("source" in whole) return { outcome: o, classified: ok, held: whole.source };
  return judgeWhole(o, whole.bytes, whole.complete, ok, f);
}

/** A 2xx event stream: held until its first content event, or judged by the error event before it. */
async function judgeStream(o: Outcome & { kind: "response" }, body: ReadableStream<Uint8Array>, ok: Classified, f: JudgeFacts): Promise<Tried> {
  const opening = await holdOpening(body, HOLD_MAX_BYTES, f.memory, () => f.ctl.toolCallBegan(f.idleMs));
  switch (opening.kind) {
    case "deliver":
      return { outcome: o, classified: ok, held: opening.source };
    case "empty":
      // Ended with no content event (nothing, a handshake, [DONE] alone): an empty answer is no answer.
      opening.source.reader.cancel().catch(() => {});
      return brokenAttempt(o, "stream ended before any content", f);
    case "error": {
      const c = classifyOutcome({ status: opening.status, bodyText: opening.text, signed: f.signed, mask: f.mask }, f.cooldowns);
      const classified = { ...c, reason: `error event in a ${o.status} stream: ${c.reason}` };
      return { outcome: o, classified, held: opening.source, errorText: `error event in a ${o.status} stream: ${opening.text}` };
    }
    case "broke":
      return stopped(o, f, " (no content event yet)") ?? brokenAttempt(o, opening.message, f);
  }
}

/**
 * An event stream, or a JSON answer without a length, as gw must read it (its opening, usage,
 * error objects or events): a relay behind a compressing proxy (Caddy's `encode`, nginx
 * `gzip_types`) sends it compressed, and its events would never be found — the opening held until
 * the first-byte deadline, a healthy target failed over and cooled — nor an error quoting a key
 * masked (whole-errors.ts would scan compressed bytes). It is decoded as it arrives and goes to
 * the client plain. Undefined for a coding gw cannot undo: that body is passed on as it came, unheld.
 */
function decodedStream(o: Answered, body: ReadableStream<Uint8Array>): { outcome: Answered; body: ReadableStream<Uint8Array> } | undefined {
  const codings = codingsOf(o.headers.get("content-encoding"));
  if (codings.length === 0) return { outcome: o, body };
  const decoded = decodingStream(body, codings);
  if (!decoded) return undefined;
  const headers = new Headers(o.headers);
  headers.delete("content-encoding");
  headers.delete("content-length");
  return { outcome: { kind: "response", attempt: o.attempt, status: o.status, headers, body: decoded, whole: () => o.whole() }, body: decoded };
}

type Answered = Outcome & { kind: "response" };

/**
 * A 2xx JSON answer that is nothing but an error object (`{"error":{…}}`: OpenRouter when the
 * provider behind it fails, relays that keep 200 for everything; Gemini's array stream that
 * opens with one, `[{"error":{…}}]`; Anthropic's `{"type":"error","error":{…}}`) is judged as the status its
 * error stands for, as an error event opening a stream is: the request may fail over, and the
 * client, when it is final, gets that status rather than a 200 its SDK reads as an empty answer.
 */
function errorAnswer(o: Answered, bytes: Uint8Array<ArrayBuffer>, plain: Uint8Array, f: JudgeFacts): Tried | undefined {
  // Asked of every sized answer: the opening's few bytes first, the body parsed only when they are an error's.
  if (new ErrorOpening().push(plain) !== true) return undefined;
  const text = answerError(plain);
  if (text === undefined) return undefined;
  const c = classifyOutcome({ status: errorStatus(errorAnswerObject(text)), bodyText: text, signed: f.signed, mask: f.mask }, f.cooldowns);
  return { outcome: o, classified: { ...c, reason: `error object in a ${o.status} answer: ${c.reason}` }, body: bytes, errorText: text };
}

/** Whether a 2xx's body can follow keep-alive spaces already sent: no event stream, no coding gw cannot undo (spaced-answer.ts decodes the rest). */
function followsSpaces(headers: Headers): boolean {
  return !isEventStream(headers) && codingsOf(headers.get("content-encoding")).every(isKnownCoding);
}

/**
 * A 2xx whose body cannot follow the keep-alive spaces the client already has: it is no answer to
 * this request, and the next target may have one. Not the target's fault (a fresh request may
 * take it as it is): no cooldown.
 */
function cannotFollowSpaces(o: Answered, f: JudgeFacts): Tried {
  o.body?.cancel().catch(() => {});
  const what = isEventStream(o.headers) ? "an event stream" : `Content-Encoding ${o.headers.get("content-encoding")}`;
  const message = `${o.attempt.instance.name}: answered ${o.status} with ${what}, where a JSON body had begun with keep-alive spaces`;
  const broke: Outcome = { kind: "failed", attempt: o.attempt, reason: "broken", message };
  return { outcome: broke, classified: { class: "transient", status: o.status, cooldownMs: 0, reason: f.mask(message) } };
}

/** The attempt's deadline passed, or its client left, while it waited for its instance to be back. */
function notBack(a: Attempt, ctl: AttemptControl): Outcome {
  if (ctl.clientGone()) return { kind: "failed", attempt: a, reason: "aborted", message: "client went away" };
  return { kind: "failed", attempt: a, reason: "timeout", message: `${a.instance.name}: not back from its restart within ${ctl.timeoutMs} ms` };
}

/** The attempt was stopped while its answer was read: the client left (no verdict), or its deadline passed. */
function stopped(o: Outcome, f: JudgeFacts, what = ""): Tried | undefined {
  if (f.ctl.clientGone()) return clientLeft(o);
  if (!f.ctl.timedOut()) return undefined;
  const late = f.ctl.toolWaitMs === undefined ? `no answer within ${f.ctl.timeoutMs} ms` : `a tool call began, then nothing more within ${f.ctl.toolWaitMs} ms`;
  const failed: Outcome = { kind: "failed", attempt: o.attempt, reason: "timeout", message: `${o.attempt.instance.name}: ${late}${what}` };
  return { outcome: failed, classified: failureOutcome("timeout", failed.message, f.cooldowns, f.mask) };
}

/** The client went away while the answer was read: no verdict on the target. */
function clientLeft(o: Outcome): Tried {
  return { outcome: { kind: "failed", attempt: o.attempt, reason: "aborted", message: "client went away" }, classified: undefined };
}

/** A response whose body broke before anything was delivered: a connection failure, retryable. */
function brokenAttempt(o: Outcome, what: string, f: JudgeFacts): Tried {
  const broke: Outcome = { kind: "failed", attempt: o.attempt, reason: "broken", message: `${o.attempt.instance.name}: ${what}` };
  return { outcome: broke, classified: failureOutcome("connection", broke.message, f.cooldowns, f.mask) };
}
