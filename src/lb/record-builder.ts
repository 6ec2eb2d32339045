// The request-log record of one request, filled in as the pipeline goes (attempts, cooldowns,
// sticky action) and completed once the response has ended. The request summary is built only
// then, after the last byte went out, so the client never waits for the bookkeeping.

import type { Route } from "../config/types.ts";
import type { Observability } from "../observe/http.ts";
import { type Masker, maskedHead, maskSecret } from "../observe/mask.ts";
import {
  type AttemptRecord,
  type CooldownRecord,
  ERROR_PREVIEW_CHARS,
  type RequestRecord,
  type RoutingRecord,
  type BodyFacts,
  type UsageRecord,
  agentOf,
  bodyFacts,
  requestUsage,
  summarizeRequest,
  usageRecord,
} from "../observe/record.ts";
import { rememberLast } from "../observe/remember-last.ts";
import type { RequestLog } from "../observe/requestlog.ts";
import type { Usage } from "../observe/tokens.ts";
import type { CooldownSet } from "../state/index.ts";
import { clientAddress } from "./client-address.ts";
import type { Intake, RoutedIntake } from "./intake.ts";
import type { FallbackFacts, RequestFacts } from "./request-state.ts";
import { isGeminiGeneration } from "./paths.ts";
import { routerRecord } from "./router/record.ts";

/** Where finished records go: the day files and the metrics / status feed. */
interface RecordSinks {
  readonly log: RequestLog;
  readonly observe: Observability;
}

interface ResponseFacts {
  readonly status: number;
  readonly bytes: number;
  /** performance.now() when the first body byte went to the client. */
  readonly firstByteAt?: number;
  /** performance.now() at the answer's end. */
  readonly endAt: number;
  /** Error body text (decoded) or gw's own error message. */
  readonly error?: string;
  readonly broken?: boolean;
  /** The client stopped reading before the answer's end (the upstream request was cancelled). */
  readonly clientLeft?: boolean;
  readonly usage?: Usage;
  /** The answer ended before its final usage report: the output count is a lower bound (deliver.ts outputCut). */
  readonly outputCut?: boolean;
}

let seq = 0;
const BOOT = Date.now().toString(36);

export class RecordBuilder {
  readonly id = `${BOOT}-${(++seq).toString(36)}`;
  readonly attempts: AttemptRecord[] = [];
  readonly cooldowns: CooldownRecord[] = [];
  sticky: RoutingRecord["sticky"] = "none";
  /** The route a rejected signature went on to (fellBackTo): it serves the request from then on. */
  private fallback: Route | undefined;
  /** How the fallback went: `failed` (fallbackFailed) and `untried` (fallbackSkipped) deliver the first route's 400. */
  private fallbackOutcome: FallbackFacts["outcome"] = "served";
  /**
   * `startedAt` on the monotonic clock: durations are measured on it, since a wall-clock step
   * (NTP, a resumed VM) would log a day-long or a negative one. The few ms since `startedAt` (the
   * router's work) still count.
   */
  private readonly t0: number;
  private readonly body: BodyFacts;
  /** The billed tokens of the last attempt so far (attempt). */
  private lastBilled: UsageRecord | undefined;
  /** The route params that changed the last attempt's request: the record's `routing.params`. */
  private lastParams: readonly string[] = NONE;

  /**
   * The request as the record tells it: the intake without its body, which the builder would
   * otherwise keep for as long as the answer streams (test/lb/in-flight-memory.test.ts).
   */
  private readonly intake: RequestLine;

  constructor(
    readonly startedAt: number,
    intake: RoutedIntake,
    /** The parsed body: what the summary tells of it is read now, and the body itself not kept. */
    json: Intake["json"],
    private readonly facts: RequestFacts,
    private readonly masker: Masker,
    private readonly clientKey: string | undefined,
    /** The request's headers: User-Agent and forwarding headers are read only when the record completes. */
    private readonly headers: Headers = new Headers(),
    /** The socket's peer address (server.requestIP, asked while the connection is surely open). */
    private readonly peer?: string,
  ) {
    this.body = bodyFacts(json);
    const { method, path, search, dialect, model, geminiPath, countTokens, raw } = intake;
    this.intake = { method, path, search, dialect, model, geminiPath, countTokens, bytes: typeof raw === "string" ? Buffer.byteLength(raw) : (raw?.byteLength ?? 0) };
    this.t0 = performance.now() - Math.max(0, Date.now() - startedAt);
  }

  /**
   * Note an attempt, with the prompt's tokens its upstream billed if it was dropped at its
   * stream's opening (judge.ts billed). Whether it was dropped is known only once another attempt
   * follows (failover.ts): then they are its own. Those of the last one are the answer's, which
   * finish is handed (deliver.ts), so they stay off its entry and are counted once. `params`: the
   * route params that changed the request it sent (rewrite.ts), which the record lists for the last.
   */
  attempt(a: Omit<AttemptRecord, "usage">, cd: CooldownSet | undefined, billed?: UsageRecord, params: readonly string[] = NONE): void {
    const before = this.attempts[this.attempts.length - 1];
    if (before && this.lastBilled) before.usage = this.lastBilled;
    this.lastBilled = billed;
    this.lastParams = params;
    if (a.error !== undefined) a.error = maskedHead(this.masker, a.error, ERROR_PREVIEW_CHARS);
    this.attempts.push(a);
    this.cooled(cd);
  }

  /** The route the request went on to after a rejected signature, if it did. */
  get signatureFallback(): Route | undefined {
    return this.fallback;
  }

  /**
   * The request goes on on `route` (signature-fallback.ts), which the record names as the route
   * that served: the attempts made so far, on the first route, name theirs. Done here, once, so
   * a request that never falls back pays nothing for it.
   */
  fellBackTo(route: Route): void {
    const first = this.facts.route?.name;
    if (first !== undefined) for (const a of this.attempts) a.route ??= first;
    this.fallback = route;
  }

  /**
   * The fallback failed too and the first route's answer is delivered (signature-fallback.ts
   * fallbackAnswers): the record names that route as the one that served — the log's, the
   * metrics' and the status page's — and the fallback's attempts name theirs.
   */
  fallbackFailed(): void {
    const first = this.facts.route?.name;
    const fallback = this.fallback?.name;
    if (first === undefined || fallback === undefined) return;
    this.fallbackOutcome = "failed";
    for (const a of this.attempts) {
      if (a.route === undefined) a.route = fallback;
      else if (a.route === first) delete a.route;
    }
  }

  /**
   * No route of the signature's family could answer (fallback-choice.ts): the first route's 400
   * is delivered at once, recorded as when the fallback to `route` (the family's first) fails —
   * the first route served — with no attempt naming `route`.
   */
  fallbackSkipped(route: Route): void {
    this.fallback = route;
    this.fallbackOutcome = "untried";
  }

  /** The signature fallback, if the request had one, for `x-gw-route`. */
  get fallbackFacts(): FallbackFacts | undefined {
    const route = this.fallback;
    return route && { route, outcome: this.fallbackOutcome };
  }

  /** The route whose answer the client gets. */
  get served(): Route | undefined {
    return this.fallbackOutcome !== "served" ? this.facts.route : (this.fallback ?? this.facts.route);
  }

  /** The final attempt, recorded as a success, turned out to be the error `c` (late-error.ts). */
  judgedLate(c: { status: number; class: string; reason: string }, cd: CooldownSet | undefined): void {
    const last = this.attempts[this.attempts.length - 1];
    if (last) {
      last.status = c.status;
      last.class = c.class;
      last.error = maskedHead(this.masker, c.reason, ERROR_PREVIEW_CHARS);
    }
    this.cooled(cd);
  }

  private cooled(cd: CooldownSet | undefined): void {
    if (cd) this.cooldowns.push({ route: cd.route, target: cd.target, kind: cd.kind, ms: cd.ms, reason: this.masker.text(cd.reason) });
  }

  /** Complete the record and hand it to the log and the metrics. */
  finish(r: ResponseFacts, sinks: RecordSinks): RequestRecord {
    const { intake, facts, masker } = this;
    const route = this.served;
    const record: RequestRecord = {
      ts: isoTime(this.startedAt),
      id: this.id,
      request: summarizeRequest({
        method: intake.method,
        url: intake.path + intake.search,
        dialect: intake.dialect,
        model: intake.model,
        body: this.body,
        bytes: intake.bytes,
        sessionKey: facts.session,
        signed: facts.sig.signed,
        stream: intake.geminiPath ? intake.geminiPath.action === "streamGenerateContent" : undefined,
        masker,
      }),
      routing: {
        upgraded: facts.upgrade?.upgraded ?? false,
        upgrade_reasons: facts.upgrade?.reasons ?? NONE,
        sticky: this.sticky,
        attempts: this.attempts,
        // The last attempt's: what its request was sent with (none for count_tokens, a call
        // without the param's field, or a value already within the limit).
        params: this.lastParams,
      },
      response: { status: r.status, bytes: r.bytes, ms: Math.round(r.endAt - this.t0) },
      cooldowns: this.cooldowns,
    };
    if (route) record.routing.route = route.name;
    if (facts.requested) record.routing.requested = facts.requested.name;
    if (this.fallback) record.routing.signature_fallback = this.fallback.name;
    if (facts.router) record.routing.router = routerRecord(facts.router, masker);
    if (r.firstByteAt !== undefined) record.response.ttfb_ms = Math.round(r.firstByteAt - this.t0);
    if (r.error) record.response.error = maskedHead(masker, r.error, ERROR_PREVIEW_CHARS);
    if (r.broken) record.response.broken = true;
    if (r.clientLeft) record.response.client_left = true;
    const usage = requestUsage(usageRecord(r.usage), this.attempts);
    if (usage && r.outputCut) usage.output_partial = true;
    if (usage) record.usage = usage;
    else if (r.status >= 200 && r.status < 300 && generates(intake)) record.response.no_usage = true;
    if (this.clientKey) record.client = maskedKey(this.clientKey);
    const agent = agentOfLast(this.headers.get("user-agent"));
    if (agent) record.agent = masker.text(agent);
    const ip = clientAddress(this.peer, this.headers);
    if (ip) record.client_ip = ip;
    // An unrouted request's attempts send the client's model as named: shown as request.model is.
    const model = record.request.model;
    if (model !== intake.model) for (const a of this.attempts) if (a.model === intake.model) a.model = model!;
    sinks.log.write(record);
    sinks.observe.record(record);
    return record;
  }
}

// A client sends the same key and User-Agent request after request, and under load many requests
// arrive within one millisecond: each string is worked out once for its run of repeats.
const isoTime = rememberLast((ms: number) => new Date(ms).toISOString());
const maskedKey = rememberLast(maskSecret);
const agentOfLast = rememberLast(agentOf);

/** Calls a model answers with tokens it reports (count_tokens and the model lists have none). */
const GENERATION_CALLS = /^\/v1\/(?:messages|chat\/completions|completions|responses(?:\/compact)?)$/;

/** Is the request a generation call, whose answer should report its tokens? */
function generates(intake: RequestLine): boolean {
  if (intake.method !== "POST" || intake.countTokens) return false;
  return intake.geminiPath ? isGeminiGeneration(intake.geminiPath.action) : GENERATION_CALLS.test(intake.path);
}

type RequestLine = Pick<RoutedIntake, "method" | "path" | "search" | "dialect" | "model" | "geminiPath" | "countTokens"> & { readonly bytes: number };

/** A record's lists are only read: one empty list serves every record without entries. */
const NONE: readonly string[] = Object.freeze([]);
