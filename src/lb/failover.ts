// The attempt loop: choose a target, forward, and let one decision — shouldRetry — say whether
// the outcome is delivered or the next untried target gets a go. Retrying is only possible until
// the first byte reaches the client, which in this loop means: until an outcome is delivered.

import type { AttemptInfo, Outcome } from "./forward.ts";
import { discard } from "./forward.ts";

/** Why the loop stopped retrying; recorded per attempt for the request log and x-gw-attempts. */
export interface RetryContext {
  /** Attempts made so far, including the one that produced `outcome`. */
  readonly attempts: number;
  /** How many extra attempts are allowed (`lb.maxTargetRetries`). */
  readonly maxRetries: number;
}

/**
 * The one retry decision. Issue 4: a connection failure or first-byte timeout moves on to an
 * untried target while retries are left; a delivered status (any status) is final; a client
 * that left ends everything. Classification of statuses and cooldowns plug in here.
 */
export function shouldRetry(outcome: Outcome, ctx: RetryContext): boolean {
  if (outcome.kind !== "failed" || outcome.reason === "aborted") return false;
  return ctx.attempts <= ctx.maxRetries;
}

export interface AttemptLoop {
  /** The next attempt's target and instance, or undefined when nothing untried is left. */
  choose(tried: ReadonlySet<string>): Omit<AttemptInfo, "n"> | undefined;
  attempt(info: AttemptInfo): Promise<Outcome>;
  readonly maxRetries: number;
  readonly shouldRetry?: (outcome: Outcome, ctx: RetryContext) => boolean;
}

export interface LoopResult {
  /** What to deliver: the last outcome (a response, or the failure that ended the loop). */
  readonly final: Outcome | undefined;
  /** Every outcome in order (the last one is `final`). */
  readonly trace: readonly Outcome[];
}

/** Identity of a choice within one request, for the `tried` set. */
export function choiceKey(c: Omit<AttemptInfo, "n">): string {
  return c.target ? c.target.id : `default:${c.instance.name}`;
}

export async function runAttempts(loop: AttemptLoop): Promise<LoopResult> {
  const decide = loop.shouldRetry ?? shouldRetry;
  const tried = new Set<string>();
  const trace: Outcome[] = [];
  for (;;) {
    const choice = loop.choose(tried);
    if (!choice) return { final: trace[trace.length - 1], trace };
    tried.add(choiceKey(choice));
    const outcome = await loop.attempt({ ...choice, n: trace.length + 1 });
    trace.push(outcome);
    if (!decide(outcome, { attempts: trace.length, maxRetries: loop.maxRetries })) return { final: outcome, trace };
    discard(outcome);
  }
}
