// The last steps of the pipeline: turn the final attempt into the client's response (stream →
// observe). Bodies pass through as they arrive (answer-chunks.ts reads usage on the side, counts
// bytes, notes the first byte and masks what errors quote), and when the response has ended the
// record is completed and the request's end is written to the state store — after the client
// has its last byte.

import type { CooldownsMs, Route } from "../config/types.ts";
import type { Observability } from "../observe/http.ts";
import type { PieceMask } from "../observe/mask-pieces.ts";
import { failedAnswer } from "../observe/record.ts";
import type { RequestLog } from "../observe/requestlog.ts";
import type { Usage } from "../observe/tokens.ts";
import type { StateStore } from "../state/index.ts";
import type { BodyBudget } from "./body-budget.ts";
import { type Dialect, errorReply, errorResponse, type Reply } from "./dialect.ts";
import type { AttemptDeps } from "./attempt.ts";
import { type ClientLink, unschedule } from "./due.ts";
import { type AttemptRun, discard, type Tried } from "./failover.ts";
import type { Outcome } from "./forward.ts";
import { SpacedAnswer } from "./spaced-answer.ts";
import { EventLife } from "./sse-life.ts";
import type { KeepAlivePace } from "./spaced-keepalive.ts";
import { endsAnswer } from "./answer-end.ts";
import { downstreamHeaders, type HeaderMap } from "./headers.ts";
import type { DroppedHeadersLog } from "./header-bounds.ts";
import { type Break, judgeBreak, judgeLateError } from "./late-error.ts";
import type { Health } from "./local.ts";
import { NO_INSTANCE, type OwnError } from "./own-error.ts";
import { hasAnswerEnd, isResponsesCall } from "./paths.ts";
import type { DeadEndSources } from "./dead-ends.ts";
import type { Prober } from "./probe.ts";
import type { RecordBuilder } from "./record-builder.ts";
import type { RefusalLog } from "./refusal-log.ts";
import { recordEnd, type RequestFacts } from "./request-state.ts";
import type { InstanceLoad } from "./drain.ts";
import type { StatsCounter } from "./stats.ts";
import { scrubbedError } from "./error-body.ts";
import { maskWholeLines } from "./error-events.ts";
import { AnswerChunks, type Answer, parseAnswer } from "./answer-chunks.ts";
import { type BreakEnd, errorEventEnd, isEventStream, isJson, type OpenRelays, relay, type RelayEnd, type StreamSource } from "./stream.ts";

/** What lives as long as the gateway (across reloads). */
export interface GatewayContext {
  readonly stats: StatsCounter;
  /** What runs on each instance (a restart's drain waits for it), and which instances are draining. */
  readonly load?: InstanceLoad;
  /** Memory of the request bodies being taken in (lb_max_body_memory_mb). */
  readonly bodies: BodyBudget;
  readonly state: StateStore;
  /** Probes instances before their cooled targets take a trial request. */
  readonly probes: Prober;
  /** What every request's dead ends read (dead-ends.ts): made once from `probes` and `load`. */
  readonly deadEnds: DeadEndSources;
  readonly log: RequestLog;
  readonly observe: Observability;
  /** Answers being relayed now (a stopping gateway ends those its grace period did not see finish). */
  readonly relays?: OpenRelays;
  /** The supervisor's view of its instances for /healthz (absent under `gw lb`). */
  readonly health?: () => Health;
  /** Client-key refusals in gw's log, by address (rate-limited). */
  readonly refusals?: RefusalLog;
  /** The pace of gw's newlines while a spaced answer goes on on another target; default KEEP_ALIVE_PACE (spaced-keepalive.ts). */
  readonly spacedKeepAlive?: KeepAlivePace;
  /** What gw.log says of upstream headers too large for clients, left out of answers (header-bounds.ts). */
  readonly droppedHeaders?: DroppedHeadersLog;
}

interface Delivery {
  readonly gw: GatewayContext;
  readonly dialect: Dialect;
  readonly facts: RequestFacts;
  readonly record: RecordBuilder;
  /** Route that served the request (after upgrade or signature fallback). */
  readonly route: Route | undefined;
  readonly explain: Record<string, string>;
  readonly idleMs: number;
  /** The runtime's masker (Runtime.masker.text): upstream errors reach the client through it. */
  readonly mask: (s: string) => string;
  /** The runtime's masker for an error too large to hold whole (Runtime.masker.pieces). */
  readonly maskPieces: () => PieceMask;
  /** The request's client, whose slow-path moment (due.ts) is cancelled once the response has ended. */
  readonly client: ClientLink;
  /** gw's own error to answer instead of the final attempt's (own-error.ts). */
  readonly own?: OwnError;
  /** The cooldowns of the running config, for an error found after the headers went out (late-error.ts). */
  readonly cooldowns: CooldownsMs;
  /** The path forwarded: whether its stream's answer has an end to wait for (paths.ts). */
  readonly path: string;
  /** The attempts that gave `final`: they go on when it fails after keep-alive spaces (spaced-answer.ts). */
  readonly run?: AttemptRun;
  /** What the attempts were made with: a signature fallback after keep-alive spaces makes more (spaced-answer.ts). */
  readonly deps?: AttemptDeps;
}

export function deliver(final: Tried | undefined, d: Delivery): Response {
  const o = final?.outcome;
  if (d.own || !o) {
    // gw's own words replace the attempt's answer (own-error.ts): let its connection go.
    if (final) discard(final);
    const own = d.own ?? NO_INSTANCE;
    return finishNow(d, final, errorReply(d.dialect, own.status, own.message, own.code, { ...d.explain, ...own.headers }), own.message);
  }
  if (o.kind === "failed") {
    // An attempt dropped at its stream's opening leaves what its prompt was billed (judge.ts billed):
    // its answer never came, so no output count either.
    const dropped = { usage: final.usage, outputCut: final.usage !== undefined };
    if (o.reason === "aborted") return finishNow(d, final, { status: 499, body: null, headers: d.explain }, undefined, { ...dropped, clientLeft: true });
    return finishNow(d, final, failedReply(o, d, d.explain), o.message, dropped);
  }
  const headers = downstreamHeaders(o.headers, d.explain, d.mask, d.gw.droppedHeaders && ((names) => d.gw.droppedHeaders?.dropped(o.attempt.instance.name, names, d.mask)));
  if (final.body) {
    // A 2xx that carried only an error object (judge.ts errorAnswer) goes out with its error's status.
    const failed = o.status >= 400 ? o.status : final.errorText !== undefined ? final.classified?.status : undefined;
    if (failed) return finishNow(d, final, { status: failed, body: scrubError(final, failed, headers, d), headers }, final.errorText);
    // A compressed one is read as judge.ts decoded it to judge it: its usage counts as a plain one's.
    const answer = isJson(o.headers) ? parseAnswer(final.plain ?? final.body) : {};
    return finishNow(d, final, { status: o.status, body: final.body, headers }, final.errorText, answer);
  }
  // A JSON answer that opened with keep-alive spaces may still fail over (spaced-answer.ts).
  const spaced = final.spaced && d.run && d.deps ? new SpacedAnswer(final, d.run, { ...d.gw, ...d, deps: d.deps, errorAnswer: (t) => errorAfterSpaces(t, d) }) : undefined;
  // Nothing else goes on from the attempts: what made them — the request's body among it — is let
  // go, not kept by this answer's closures for as long as it streams (test/lb/in-flight-memory.test.ts).
  if (!spaced) d = { ...d, run: undefined, deps: undefined };
  // A stream whose opening ended in an error event (first-event.ts) is an error like a status:
  // what it quotes is masked as an error body is.
  const source = spaced ? spaced.source() : final.held && final.errorText !== undefined ? scrubOpening(final.held, d.mask) : (final.held ?? o.body);
  if (!source) return finishNow(d, final, { status: o.status, body: null, headers });

  const sse = isEventStream(o.headers);
  // A reverse proxy in front (nginx buffers answers by default) would hold a stream's events
  // back until its buffers fill or the model is done; this header tells nginx not to.
  if (sse) headers["x-accel-buffering"] = "no";
  const chunks = new AnswerChunks(sse, o.headers, d.dialect, d.mask, d.maskPieces);
  const { watcher, errors } = chunks;
  d.gw.load?.enter(o.attempt.instance.name);
  if (sse) {
    d.gw.stats.streamOpened();
    d.gw.observe.metrics.streamOpened();
  } else d.gw.stats.end(failedAnswer(o.status, false)); // plain bodies leave the in-flight count at their headers
  const ended = (end: RelayEnd) => {
    // The attempt whose body the client got: after keep-alive spaces, maybe not the first.
    const delivered = spaced?.current ?? final;
    const at = delivered.outcome.attempt;
    // And maybe on the signature fallback's route.
    const served = spaced ? { ...d, route: spaced.route } : d;
    // An upstream error event after content ended the answer as surely as a break: the record,
    // the streak and the metrics say so (the event itself reached the client, masked).
    const upstreamError = watcher?.streamError?.();
    // A body without a length that was an error object (whole-errors.ts): the error gw would have
    // answered with, had it come with a length; after content, a break as an error event is.
    // One that followed keep-alive spaces was judged there.
    const found = spaced?.failed ? undefined : errors?.error();
    const late = found && !found.afterContent ? judgeLateError(found.text, at, { ...d.gw, ...served }) : undefined;
    const broken = end.broken || upstreamError !== undefined || found?.afterContent === true;
    // Broken by the upstream (an error in it, a reset, silence), not by gw stopping or the client
    // leaving: its target failed, though the request cannot fail over. A plain body's request was
    // counted at its headers, as a success.
    const broke = spaced?.failed ? undefined : breakOf(end, upstreamError, found);
    if (broke) judgeBreak(broke, at, { ...d.gw, ...served }, !sse);
    d.gw.load?.leave(at.instance.name);
    if (sse) {
      d.gw.stats.streamClosed();
      d.gw.observe.metrics.streamClosed();
      d.gw.stats.end(failedAnswer(o.status, broken));
    }
    const error = spaced?.failed?.text ?? final.errorText ?? upstreamError ?? found?.text ?? end.why;
    const outputCut = sse && (end.clientLeft || broken) && (upstreamError !== undefined || watcher?.answerEnded?.() === false);
    finish(served, delivered, { status: spaced?.failed?.status ?? late?.status ?? o.status, bytes: chunks.bytes, firstByteAt: chunks.firstByteAt, broken, byGw: end.byGw, clientLeft: end.clientLeft, error, usage: watcher?.usage(), responseId: watcher?.responseId(), outputCut });
  };
  // A client that left during a failover after keep-alive spaces: the record waits for its attempt.
  const onEnd = spaced
    ? (end: RelayEnd) => {
        const settling = spaced.settled();
        if (settling) void settling.then(() => ended(end), () => ended(end));
        else ended(end);
      }
    : ended;
  // A stream that closes before its answer's end was cut short: a break, though its close was
  // clean; so is a JSON body that closes inside its value (whole-errors.ts tracks it as it passes).
  const answered = sse ? (hasAnswerEnd(d.path) ? watcher?.answerEnded : undefined) : errors && (() => !errors.unfinished());
  // A break or gw's cut ends a stream with an error event; a JSON answer with only keep-alive
  // spaces out so far with gw's error JSON (as spaced-answer.ts ends one whose every target failed).
  const breakEnd: BreakEnd | undefined = sse
    ? errorEventEnd(isResponsesCall(d.path) ? "responses" : d.dialect)
    : spaced && ((status, why, code) => (spaced.spacesOnly ? errorReply(d.dialect, status, why, code).body : undefined));
  // Inside a stream, gw's idle clock counts events: keep-alives pass on but are no sign of life (sse-life.ts).
  const life = sse ? new EventLife() : undefined;
  const lively = life && ((chunk: Uint8Array) => life.push(chunk));
  const body = relay(source, { breakEnd, onEnd, open: d.gw.relays, openFor: spaced ? () => spaced.instance : o.attempt.instance.name, idleMs: sse ? d.idleMs : 0, lively, onChunk: (raw) => chunks.push(raw), trailer: () => chunks.trailer(), last: sse ? endsAnswer : undefined, answered });
  return new Response(body, { status: o.status, headers });
}

// --- internal ---

/** The error a client gets for an attempt that failed without a usable answer. */
const FAILED = {
  timeout: [504, "upstream_timeout", "upstream timeout"],
  connect: [502, "upstream_unreachable", "upstream unreachable"],
  broken: [502, "upstream_stream_broken", "upstream answer broken"],
} as const;

/** How the upstream broke an answer after its content began (late-error.ts), or undefined when it did not. */
function breakOf(end: RelayEnd, upstreamError: string | undefined, found: { text: string; afterContent: boolean } | undefined): Break | undefined {
  if (upstreamError !== undefined) return { error: upstreamError, where: "error event after content in a 200 stream" };
  if (found?.afterContent) return { error: found.text, where: "error object after content in a 200 answer" };
  return end.broken && !end.byGw ? { end } : undefined;
}

/** gw's error for an attempt that failed without a usable answer. */
function failedReply(o: Outcome & { kind: "failed" }, d: Delivery, headers?: Record<string, string>): Reply {
  const [status, code, what] = FAILED[o.reason === "aborted" ? "broken" : o.reason];
  return errorReply(d.dialect, status, d.mask(`${what}: ${o.message}`), code, headers);
}

/**
 * The answer to a final attempt that is no answer, as plain JSON: after keep-alive spaces
 * (spaced-answer.ts) only its body can still reach the client, masked as deliver masks it.
 */
function errorAfterSpaces(t: Tried, d: Delivery): Response {
  const o = t.outcome;
  if (o.kind === "failed") {
    const r = failedReply(o, d);
    return new Response(r.body, r);
  }
  const status = o.status >= 400 ? o.status : (t.classified?.status ?? 502);
  const text = t.errorText ?? "";
  if (text.trim() === "") return errorResponse(d.dialect, status, `upstream answered ${status} with no error body`, "upstream_stream_broken");
  return new Response(scrubbedError(text, t.errorRead, status, d.dialect, d.mask) ?? text, { status });
}

/**
 * An upstream error body as the client gets it. Upstreams quote keys in errors (a relay naming the
 * provider key it rejected, an instance echoing its own): secrets the masker knows, and token
 * shapes, are masked (the header values were, by downstreamHeaders). When nothing needed masking
 * in a body read strictly whole, the exact bytes go out, compressed as they came; any other goes
 * out as text, without Content-Encoding (the decoded text is what was masked): masked, or gw's
 * own JSON error quoting what could be read of it (error-body.ts).
 */
function scrubError(t: Tried, status: number, headers: HeaderMap, d: Delivery): Uint8Array<ArrayBuffer> | string {
  const scrubbed = scrubbedError(t.errorText, t.errorRead, status, d.dialect, d.mask);
  if (scrubbed === undefined) return t.body!;
  delete headers["content-encoding"];
  if (t.errorRead === "cut") headers["content-type"] = "application/json";
  return scrubbed;
}

/** The held opening of a stream that ended in an error event, masked. */
function scrubOpening(held: StreamSource, mask: (s: string) => string): StreamSource {
  const bytes = Buffer.concat(held.head);
  const masked = maskWholeLines(bytes, mask);
  return masked === bytes ? held : { ...held, head: [masked] };
}

interface End {
  status: number;
  bytes: number;
  firstByteAt?: number;
  broken?: boolean;
  /** gw ended the answer itself (stopping): not a failure of the target's. */
  byGw?: boolean;
  clientLeft?: boolean;
  error?: string;
  usage?: Usage;
  responseId?: string;
  /**
   * The answer ended before its final usage report: its client left or it broke before its
   * dialect's end (message_delta's stop, response.completed, a finish reason), so the output
   * count is the last one reported — a lower bound (record.ts output_partial).
   */
  outputCut?: boolean;
}

/**
 * A response whose body gw already holds (or has none): the request ends now. Its size is its
 * body's, counted here: a Response made of a string or bytes has no Content-Length until Bun
 * sends it.
 */
function finishNow(d: Delivery, final: Tried | undefined, r: Reply, error?: string, answer: Answer = {}): Response {
  d.gw.stats.end(failedAnswer(r.status, false));
  const bytes = r.body === null ? 0 : typeof r.body === "string" ? Buffer.byteLength(r.body) : r.body.byteLength;
  finish(d, final, { status: r.status, bytes, firstByteAt: performance.now(), error, usage: answer.usage, responseId: answer.id, clientLeft: answer.clientLeft, outputCut: answer.outputCut });
  return new Response(r.body, { status: r.status, headers: r.headers });
}

function finish(d: Delivery, final: Tried | undefined, e: End): void {
  unschedule(d.client);
  const now = Date.now();
  if (final?.classified) {
    const target = final.outcome.attempt.target;
    recordEnd(d.gw.state, d.facts, { ok: e.status < 400 && (!e.broken || e.byGw === true), now, route: d.route, targetId: target?.id, responseId: e.responseId });
  }
  d.record.finish({ status: e.status, bytes: e.bytes, firstByteAt: e.firstByteAt, endAt: performance.now(), error: e.error, broken: e.broken, clientLeft: e.clientLeft, usage: e.usage, outputCut: e.outputCut }, d.gw);
}
