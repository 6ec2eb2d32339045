// The attempt loop: choose a target, forward, and let one decision — classify.ts's shouldRetry,
// wrapped by the caller as `retry` — say whether the outcome is delivered or the next untried
// target gets a go. Retrying is only possible until the first byte reaches the client, which in
// this loop means: until an outcome is delivered — or, for a JSON answer whose first bytes were
// keep-alive spaces, until anything else is (AttemptRun.goOn, spaced-answer.ts).

import type { Outcome as Classified } from "./classify.ts";
import type { ErrorRead } from "./error-body.ts";
import type { AttemptInfo, Outcome } from "./forward.ts";
import type { StreamSource } from "./stream.ts";
import type { Usage } from "../observe/tokens.ts";

/** One attempt as the loop sees it: what forward saw, and what it means. */
export interface Tried {
  readonly outcome: Outcome;
  /** Undefined when the client went away: nothing to judge, nothing to retry. */
  readonly classified: Classified | undefined;
  /** The whole body, when already read (error bodies, sized answers); delivered as these exact bytes. */
  readonly body?: Uint8Array<ArrayBuffer>;
  /** The same body decoded (Content-Encoding undone), for the log's error preview. */
  readonly errorText?: string;
  /** How that error body was read, when not strictly whole (error-body.ts): never delivered as its bytes. */
  readonly errorRead?: ErrorRead;
  /** A compressed answer's body decoded, as judging read it (within 1 MiB): its usage is read from it. */
  readonly plain?: Uint8Array;
  /** An event stream whose opening was read ahead (first-event.ts); delivered from here. */
  readonly held?: StreamSource;
  /** A JSON answer that opened with keep-alive spaces (json-opening.ts): delivered by spaced-answer.ts. */
  readonly spaced?: boolean;
  /** The prompt's usage, as reported by a stream's opening where the attempt was dropped (judge.ts billed). */
  readonly usage?: Usage;
}

/** Let go of an attempt that will not be delivered (the connection is released, not leaked). */
export function discard(t: Tried): void {
  if (t.held) t.held.reader.cancel().catch(() => {});
  else if (t.outcome.kind === "response") t.outcome.body?.cancel().catch(() => {});
}

export type Choice = Omit<AttemptInfo, "n"> & {
  /** A half-open target's one trial request. */
  readonly trial?: boolean;
};
export type Attempt = Choice & {
  readonly n: number;
  /**
   * The client already has a 200 and keep-alive spaces of an earlier attempt (spaced-answer.ts):
   * only a body that can follow them will do, not an event stream.
   */
  readonly afterSpaces?: boolean;
};

export interface AttemptLoop {
  /**
   * The next attempt's target and instance, or undefined when nothing untried is left. A promise
   * only while a half-open target's trial is claimed across replicas (state claimTrial).
   */
  choose(tried: ReadonlySet<string>): Choice | undefined | Promise<Choice | undefined>;
  attempt(info: Attempt): Promise<Tried>;
  /** The retry decision for an attempt; `attempts` = attempts made so far, this one included. */
  retry(t: Tried, attempts: number): boolean;
}

/** Identity of a choice within one request, for the `tried` set. */
function choiceKey(c: Choice): string {
  return c.target ? c.target.id : `default:${c.instance.name}`;
}

/** `afterSpaces`: the client already has a 200 and keep-alive spaces (spaced-answer.ts). */
export function runAttempts(loop: AttemptLoop, attemptsBefore = 0, afterSpaces = false): Promise<AttemptRun> {
  return new AttemptRun(loop, attemptsBefore).run(afterSpaces);
}

/** One route's attempts for one request: where the loop stopped, and how it may go on. */
export class AttemptRun {
  readonly tried = new Set<string>();
  /** Every attempt in order (the last one is `final`). */
  readonly trace: Tried[] = [];

  constructor(
    private readonly loop: AttemptLoop,
    private readonly attemptsBefore: number,
  ) {}

  /** Attempts the request made so far: this run's and those before it (an earlier route's). */
  get attempts(): number {
    return this.attemptsBefore + this.trace.length;
  }

  /** What to deliver: the last attempt (a response, or the failure that ended the loop). */
  get final(): Tried | undefined {
    return this.trace[this.trace.length - 1];
  }

  /**
   * Go on after the delivered attempt turned out to be `failed` while only keep-alive spaces had
   * reached the client (spaced-answer.ts): the same decision, the same untried targets, as if it
   * had failed before any byte. Returns the attempt to deliver now (`failed` when none is left).
   */
  async goOn(failed: Tried): Promise<Tried> {
    this.trace[this.trace.length - 1] = failed;
    if (this.loop.retry(failed, this.trace.length)) await this.run(true);
    return this.trace[this.trace.length - 1]!;
  }

  /** Attempts on untried targets until one is to be delivered or none is left. One async frame per request: what a request holds while it waits is what the collector marks. */
  async run(afterSpaces: boolean): Promise<this> {
    const { loop, tried, trace } = this;
    let choice = await loop.choose(tried);
    while (choice) {
      tried.add(choiceKey(choice));
      const n = this.attemptsBefore + trace.length + 1;
      const t = await loop.attempt(afterSpaces ? { ...choice, n, afterSpaces } : { ...choice, n });
      trace.push(t);
      if (!loop.retry(t, trace.length)) break;
      // Only let the outcome go once another target will really be tried; otherwise it is delivered.
      choice = await loop.choose(tried);
      if (choice) discard(t);
    }
    return this;
  }
}
