// A JSON answer that opened with keep-alive spaces (CLIProxyAPI's nonstream-keepalive-interval):
// its 200 and the spaces went out at once (json-opening.ts), so that a reverse proxy's read
// timeout sees bytes while the model works. JSON allows any spaces before its value: until
// something else has gone out, the client cannot tell this answer from another. So when the value
// turns out to be an error object — or the body breaks, or ends, with spaces only — the request
// fails over as before any byte (failover.ts AttemptRun.goOn: the same decision, cooldowns,
// sticky, route params and deadlines; the client's leaving aborts the attempt), and the next
// answer's body follows the spaces: its status and headers dropped, its body decoded (the
// client's body is identity: judge.ts decodedStream decoded this one). That body may open with
// spaces and fail in turn: the same again. While the next target works, gw writes newlines of
// its own (spaced-keepalive.ts); a rejected thinking signature gets its fallback route, as before
// any byte (signature-fallback.ts). When every target failed, the last error's JSON follows the
// spaces, masked, under the 200 that went out.

import type { Route } from "../config/types.ts";
import type { Outcome as Classified } from "./classify.ts";
import { failureOutcome } from "./classify.ts";
import type { AttemptDeps } from "./attempt.ts";
import type { ClientLink } from "./due.ts";
import type { InstanceLoad } from "./drain.ts";
import { codingsOf, decodingStream } from "./encoding.ts";
import { type AttemptRun, discard, type Tried } from "./failover.ts";
import { fallBack, fallbackAnswers, signatureFallback } from "./signature-fallback.ts";
import { networkError } from "./forward.ts";
import { ErrorOpening, isJsonSpace, readOn } from "./json-opening.ts";
import { classifyError, type LateFacts, lateVerdict } from "./late-error.ts";
import { KEEP_ALIVE_PACE, type KeepAlivePace, NewlineKeeper, paceOf, SpaceGaps } from "./spaced-keepalive.ts";
import type { StreamSource } from "./stream.ts";
import { answerError, endsInsideValue } from "./whole-errors.ts";

interface SpacedFacts extends LateFacts {
  /** What the attempts were made with: the signature fallback's are made with it too. */
  readonly deps: AttemptDeps;
  readonly load?: InstanceLoad;
  readonly client: ClientLink;
  readonly spacedKeepAlive?: KeepAlivePace;
  /** The answer deliver.ts gives for an attempt that is no answer (gw's error or the upstream's, masked): its body follows the spaces. */
  errorAnswer(t: Tried): Response;
}

/** How an answer whose every attempt failed after the spaces ended: what followed them. */
interface SpacedError {
  readonly status: number;
  readonly text: string;
}

/** Largest value read whole to judge it; a larger one is relayed (whole-errors.ts masks it, late-error.ts judges it). */
const VALUE_MAX = 1 << 20;

/** The body of a `spaced` attempt (failover.ts Tried), as relay() reads it: an underlying source. */
export class SpacedAnswer implements UnderlyingDefaultSource<Uint8Array> {
  /** The attempt whose body is being delivered: the first, or the one failed over to. */
  current: Tried;
  /** Set when every target failed: the error that followed the spaces (already judged). */
  failed: SpacedError | undefined;
  /** Chunks of the current body read but not yet handed on, then its reader. */
  private queue: Uint8Array[] = [];
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  private readerDone = false;
  /** Only spaces have gone out so far. */
  private spaces = true;
  private cancelled = false;
  private goingOn: Promise<Tried> | undefined;
  /** When the spaces came: the pace gw keeps while another target works. */
  private readonly gaps = new SpaceGaps();
  /** gw's own newlines while a failover is on its way. */
  private keeper: NewlineKeeper | undefined;

  constructor(
    first: Tried,
    /** The attempts the current one belongs to: the signature fallback's, once it has its go. */
    private run: AttemptRun,
    /** The request's facts; `route` the signature fallback's, once it has its go. */
    private f: SpacedFacts,
  ) {
    this.current = first;
    this.follow(first);
  }

  /** The route that serves the answer now (the signature fallback's, after its go). */
  get route(): Route | undefined {
    return this.f.route;
  }

  /**
   * Only keep-alive spaces have reached the client: an error JSON can still follow them, as when
   * every target failed — the client's SDK then reads an error, not a body cut short.
   */
  get spacesOnly(): boolean {
    return this.spaces;
  }

  /** The instance the answer comes from now: the current attempt's, after a failover another than the first's. */
  get instance(): string {
    return this.current.outcome.attempt.instance.name;
  }

  /** The body for relay(). */
  source(): StreamSource {
    return { head: [], reader: new ReadableStream(this, { highWaterMark: 0 }).getReader() };
  }

  async pull(ctrl: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    for (;;) {
      if (!this.spaces) {
        // The answer has begun: its bytes as they come (a break errors the body: relay() tells it).
        const chunk = await this.read();
        if (chunk) ctrl.enqueue(chunk);
        else ctrl.close();
        return;
      }
      const verdict = await this.spacesThen(ctrl);
      if (verdict === undefined) return;
      // A body that ended because the client left (relay() cancelled it, or the attempt it follows
      // was aborted) is no verdict on the target.
      if (this.cancelled) return;
      if (this.f.client.gone) return ctrl.error(new Error("client went away"));
      if (!(await this.failOver(ctrl, verdict))) return;
    }
  }

  /** The client left (or gw is stopping): the body read, and an attempt on its way, stop. */
  cancel(reason: unknown): void {
    this.cancelled = true;
    this.keeper?.stop();
    this.reader?.cancel(reason).catch(() => {});
    this.f.client.leave();
  }

  /** While a failover is on its way: when it has settled (its attempts recorded), for the record to be completed after it. */
  settled(): Promise<unknown> | undefined {
    return this.goingOn;
  }

  /**
   * Hand on the next chunk while only spaces went out: spaces go at once; a value is held until it
   * shows whether it is an error object. Returns the failed attempt when it is one, or the body
   * broke or ended before any value; undefined once something was handed on.
   */
  private async spacesThen(ctrl: ReadableStreamDefaultController<Uint8Array>): Promise<Tried | undefined> {
    const first = await this.readOrBreak();
    if (first === undefined) return this.noAnswer("answered 200 with keep-alive spaces only");
    if (!(first instanceof Uint8Array)) return this.noAnswer(`answer broke after keep-alive spaces: ${first.broke}`);
    const at = first.findIndex((b) => !isJsonSpace(b));
    if (at === -1) {
      this.gaps.seen(performance.now());
      ctrl.enqueue(first);
      return undefined;
    }
    if (at > 0) ctrl.enqueue(first.subarray(0, at));
    // A value: its opening decides, an error object is read whole (it is short) and judged.
    const held = [first.subarray(at)];
    const opening = new ErrorOpening();
    let error = opening.push(held[0]!);
    while (error === undefined) {
      const r = await this.readOrBreak();
      if (r === undefined) break;
      if (!(r instanceof Uint8Array)) return this.noAnswer(`answer broke after keep-alive spaces: ${r.broke}`);
      held.push(r);
      error = opening.push(r);
    }
    if (error === false) return this.handOn(ctrl, held);
    const whole = await readOn({ head: [...held, ...this.queue.splice(0)], reader: this.reader!, done: this.readerDone }, VALUE_MAX);
    if ("source" in whole) return this.handOn(ctrl, [...whole.source.head]);
    this.readerDone = true;
    if (!whole.complete) return this.noAnswer("answer broke after keep-alive spaces");
    if (endsInsideValue(whole.bytes)) return this.noAnswer("answer ended inside its JSON after keep-alive spaces");
    const text = answerError(whole.bytes);
    if (text === undefined) return this.handOn(ctrl, [whole.bytes]);
    const c = classifyError(text, "error object after keep-alive spaces in a 200 answer", this.f);
    return { outcome: this.current.outcome, classified: c, errorText: utf8.decode(whole.bytes) };
  }

  /**
   * The current attempt failed after spaces: judged as it would have been before any byte, and the
   * loop goes on. False when the body is over (gone to the final error, or the client left).
   */
  private async failOver(ctrl: ReadableStreamDefaultController<Uint8Array>, failed: Tried): Promise<boolean> {
    const { f } = this;
    const was = this.current.outcome.attempt;
    lateVerdict(failed.classified!, was, f, false);
    discard(this.current);
    f.load?.leave(was.instance.name);
    // Until the next target's answer is in, gw keeps the client's connection alive itself.
    this.keeper = new NewlineKeeper(ctrl, paceOf(this.gaps.widest, f.spacedKeepAlive ?? KEEP_ALIVE_PACE));
    this.gaps.failedOver();
    this.keeper.start();
    this.goingOn = this.goOn(failed);
    let next: Tried;
    try {
      next = await this.goingOn;
    } finally {
      this.keeper.stop();
      this.goingOn = undefined;
    }
    this.current = next;
    const now = next.outcome.attempt;
    f.load?.enter(now.instance.name);
    if (this.cancelled || !next.classified) {
      // The client left: nothing to deliver, no verdict.
      if (next !== failed) discard(next);
      if (!this.cancelled) ctrl.error(new Error("client went away"));
      return false;
    }
    if (isAnswer(next)) {
      this.follow(next);
      return true;
    }
    const res = f.errorAnswer(next);
    this.failed = { status: res.status, text: await res.text() };
    f.stats.failedLate(now.instance.name, true, false);
    if (this.cancelled) return false;
    ctrl.enqueue(encoder.encode(this.failed.text));
    ctrl.close();
    return false;
  }

  /**
   * The attempts go on after `failed`; a rejected thinking signature that ends them gets its one
   * more go on its family's route, as before any byte (pipeline.ts).
   */
  private async goOn(failed: Tried): Promise<Tried> {
    const { deps } = this.f;
    // Judged only now, after the attempt was noted as an answer: what it met counts from here (dead-ends.ts).
    deps.deadEnds.note(failed);
    const next = await this.run.goOn(failed);
    const route = this.cancelled ? undefined : signatureFallback(next, deps);
    if (!route) return next;
    const second = await fallBack(deps, route, this.run.attempts, true);
    if (!fallbackAnswers(second, deps.record)) return next;
    this.run = second;
    this.f = { ...this.f, route };
    return second.final;
  }

  /** Deliver `t`'s body from here on (decoded), judged as the first one was when it opens with spaces. */
  private follow(t: Tried): void {
    this.spaces = t.spaced === true;
    this.readerDone = false;
    if (t.held) {
      this.queue = [...t.held.head];
      this.reader = t.held.reader;
      this.readerDone = t.held.done === true;
      return;
    }
    const o = t.outcome;
    const coded = o.kind === "response" ? codingsOf(o.headers.get("content-encoding")) : [];
    const raw = t.body ? (t.plain ?? t.body) : o.kind === "response" ? o.body : null;
    if (!raw) {
      this.queue = [];
      this.readerDone = true;
      return;
    }
    // A sized body is decoded already, unless it was too large to (judge.ts judgeWhole).
    const plain = raw instanceof Uint8Array && (t.plain || coded.length === 0) ? raw : undefined;
    if (plain) {
      this.queue = [plain];
      this.readerDone = true;
      return;
    }
    const stream = raw instanceof Uint8Array ? new Response(raw as Uint8Array<ArrayBuffer>).body! : raw;
    this.queue = [];
    // judge.ts judged the codings undoable (followsSpaces).
    this.reader = (decodingStream(stream, coded) ?? stream).getReader();
  }

  private handOn(ctrl: ReadableStreamDefaultController<Uint8Array>, chunks: Uint8Array[]): undefined {
    this.spaces = false;
    for (const c of chunks) if (c.byteLength > 0) ctrl.enqueue(c);
    return undefined;
  }

  /** The current attempt's body broke or ended before any value: no answer, as an empty 200 is (judge.ts). */
  private noAnswer(what: string): Tried {
    const attempt = this.current.outcome.attempt;
    const message = `${attempt.instance.name}: ${what}`;
    const c: Classified = failureOutcome("connection", message, this.f.cooldowns, this.f.mask);
    return { outcome: { kind: "failed", attempt, reason: "broken", message }, classified: c };
  }

  /** The current body's next chunk, undefined at its end; throws when it breaks. */
  private async read(): Promise<Uint8Array | undefined> {
    const queued = this.queue.shift();
    if (queued) return queued;
    if (this.readerDone || !this.reader) return undefined;
    return (await this.reader.read()).value;
  }

  /** The next chunk, undefined at the end, or why the read failed. */
  private async readOrBreak(): Promise<Uint8Array | undefined | { broke: string }> {
    try {
      return await this.read();
    } catch (e) {
      return { broke: networkError(e) };
    }
  }
}

/** A 2xx the client can have: no error (status, object or failure). */
function isAnswer(t: Tried): boolean {
  return t.classified?.class === "ok" && t.outcome.kind === "response" && t.errorText === undefined;
}

const utf8 = new TextDecoder();
const encoder = new TextEncoder();
