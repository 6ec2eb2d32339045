// One route's attempt loop for one request: choose (route.ts, with cooldowns, sticky and
// signature lock), rewrite + forward, then classify the outcome, write it to the state store and
// the request record. The loop itself (failover.ts) only sees choices and Tried values.

import type { CooldownsMs, Route } from "../config/types.ts";
import type { StateStore } from "../state/index.ts";
import { recordAttempt } from "../state/index.ts";
import { classifyOutcome, decodeErrorBody, failureOutcome, type Outcome as Classified, shouldRetry } from "./classify.ts";
import type { Attempt, AttemptLoop, Tried } from "./failover.ts";
import { forward, type Outcome } from "./forward.ts";
import type { Intake } from "./intake.ts";
import type { RecordBuilder } from "./record-builder.ts";
import { type RequestFacts, stickyKeyOn } from "./request-state.ts";
import { providerOf } from "./quirks.ts";
import { rewriteFor, upstreamModel } from "./rewrite.ts";
import { explainPick, type PickContext, stickyAction } from "./route.ts";
import type { Runtime } from "./runtime.ts";
import type { StatsCounter } from "./stats.ts";
import { isEventStream, readWhole } from "./stream.ts";

export interface AttemptDeps {
  readonly req: Request;
  readonly intake: Intake;
  readonly rt: Runtime;
  readonly state: StateStore;
  readonly stats: StatsCounter;
  readonly facts: RequestFacts;
  readonly record: RecordBuilder;
}

/** The loop for `route`, or for the default instance (once, as sent) when there is no route. */
export function attemptLoop(d: AttemptDeps, route: Route | undefined): AttemptLoop {
  const lb = d.rt.config.global.lb;
  const method = d.req.method;
  const sticky = route && stickyKeyOn(d.facts, route);
  const retry = (t: Tried, attempts: number) => t.classified !== undefined && shouldRetry(t.classified, attempts, lb, method, 0);

  const attempt = async (info: Attempt): Promise<Tried> => {
    const started = Date.now();
    const up = rewriteFor(d.intake, d.req.headers, info.instance, info.target);
    const timeout = info.target?.firstByteTimeoutMs ?? lb.firstByteTimeoutMs;
    const outcome = await forward(info, method, up, d.req.signal, timeout);
    const tried = await judge(outcome, d.facts.sig.signed, lb.cooldownsMs, timeout);
    const c = tried.classified;
    d.stats.attempt(info.instance.name, c === undefined ? false : c.status === 0 || c.status >= 500);
    const now = Date.now();
    const cd = c && route && info.target ? recordAttempt(d.state, c, { route: route.name, target: info.target.id, stickyKey: sticky, now, trial: info.trial }) : undefined;
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
        class: c?.class ?? "aborted",
        ms: now - started,
        ...(c && c.class !== "ok" ? { error: c.reason } : {}),
      },
      cd,
    );
    return tried;
  };

  if (!route) {
    const instance = d.rt.defaultInstance;
    return { attempt, retry, choose: (tried) => (tried.size === 0 && instance ? { instance, target: undefined } : undefined) };
  }
  return {
    attempt,
    retry,
    choose(tried) {
      const ctx: PickContext = { tried, now: Date.now(), state: d.state, sessionKey: sticky, signed: d.facts.sig.signed };
      const pick = explainPick(route, ctx);
      const instance = pick && d.rt.instances.get(pick.target.instance);
      if (!pick || !instance) return undefined;
      if (pick.trial) d.state.beginTrial(route.name, pick.target.id, ctx.now + (pick.target.firstByteTimeoutMs ?? lb.firstByteTimeoutMs));
      if (tried.size === 0) d.record.sticky = stickyAction(ctx, pick);
      return { instance, target: pick.target, pick: pick.reason, trial: pick.trial };
    },
  };
}

/** Error bodies are short; one that is not is cut here (its head is enough to classify). */
const ERROR_BODY_MAX_BYTES = 1 << 20;
/** Largest sized answer taken whole instead of relayed (see judge). */
const WHOLE_BODY_MAX = 1 << 20;

/**
 * What an outcome means. Error bodies (status ≥ 400) are read here — they are small, and the
 * class depends on their text — and kept as bytes to deliver unchanged if this attempt is final.
 * A sized answer that is not an event stream was complete when its headers left the upstream, so
 * it is read whole too: one native read instead of a per-chunk relay, and a body that breaks
 * before its end is still a failure gw can fail over from (no byte has reached the client).
 * Chunked answers (CLIProxyAPI's keep-alive newlines before a late body) stream as they come.
 */
async function judge(o: Outcome, signed: boolean, cooldowns: CooldownsMs, timeoutMs: number): Promise<Tried> {
  if (o.kind === "failed") {
    if (o.reason === "aborted") return { outcome: o, classified: undefined };
    return { outcome: o, classified: failureOutcome(o.reason === "timeout" ? "timeout" : "connection", o.message, cooldowns) };
  }
  if (o.status < 400) {
    const length = Number(o.headers.get("content-length") ?? Number.NaN);
    const ok = classifyOutcome({ status: o.status }, cooldowns);
    if (!o.body || !(length <= WHOLE_BODY_MAX) || isEventStream(o.headers)) return { outcome: o, classified: ok };
    const { bytes, complete } = await readWhole(o.body, WHOLE_BODY_MAX, timeoutMs);
    if (complete) return { outcome: o, classified: ok, body: bytes };
    const broke: Outcome = { kind: "failed", attempt: o.attempt, reason: "connect", message: `${o.attempt.instance.name}: answer broke before its end` };
    return { outcome: broke, classified: failureOutcome("connection", broke.message, cooldowns) };
  }
  const bytes = o.body ? (await readWhole(o.body, ERROR_BODY_MAX_BYTES, timeoutMs)).bytes : new Uint8Array(0);
  const bodyText = decodeErrorBody(bytes, o.headers.get("content-encoding"));
  const classified: Classified = classifyOutcome({ status: o.status, headers: o.headers, bodyText, signed }, cooldowns);
  return { outcome: o, classified, body: bytes, errorText: bodyText };
}
