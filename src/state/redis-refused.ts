// Writes a Redis that answers refuses: a full one (maxmemory with noeviction: "OOM command not
// allowed"), an ACL user without a command gw needs (NOPERM for the streak script). The link is
// up — PING, PUBLISH and DEL still pass — so nothing else notices. Sending every refused change
// again with each batch (every 25 ms) made a pile that grew with each new session: millions of
// refused SETs, gw at full CPU, requests slowed. Here the refused changes wait apart, bounded as
// any pending change is, and go again with backoff; the cause is said once in Redis's own words
// with the fix, health shows it, and the end is said once.

import { PendingChanges } from "./changes.ts";
import { refusalOf } from "./redis-refusal.ts";
import { type DownMark, downMark, type StateChange, type StateLog } from "./types.ts";

export interface WriteRetryTiming {
  /** The first retry of refused writes comes this long after the refusal; each refused retry doubles it. */
  readonly writeRetryMinMs: number;
  readonly writeRetryMaxMs: number;
}

export const WRITE_RETRY_TIMING: WriteRetryTiming = { writeRetryMinMs: 1000, writeRetryMaxMs: 30_000 };

/** Is `err` Redis's answer to a command (an error reply), not a lost connection? */
export function isRedisAnswer(err: unknown): boolean {
  return (err as { code?: string } | undefined)?.code === "ERR_REDIS_SERVER_ERROR";
}

export class RefusedWrites {
  /** Changes Redis refused to keep, newest per entry; taken by the retry. */
  readonly changes: PendingChanges;
  #down: (DownMark & { problem: string }) | undefined;
  /** Causes said since the last time writes went through (a new one is said too). */
  readonly #said = new Set<string>();
  #delay: number;
  #timer: Timer | undefined;

  constructor(
    private readonly o: { where: string; log: StateLog; max: number; timing: WriteRetryTiming; retry: () => void },
  ) {
    this.changes = new PendingChanges(o.max);
    this.#delay = o.timing.writeRetryMinMs;
  }

  /** Redis refused these changes with `error` (its words): kept for the retry, said once per cause. */
  refused(changes: readonly StateChange[], error: string): void {
    for (const c of changes) this.changes.add(c);
    const why = refusalOf(error) ?? `refused a write (${error.trim().slice(0, 100)})`;
    this.#down = { ...(this.#down ?? downMark(Date.now())), problem: why };
    if (!this.#said.has(why)) {
      this.#said.add(why);
      this.o.log.warn(`state: Redis at ${this.o.where} ${why}; the other gw still hear each change, and what Redis refused is written again when it takes it`);
    }
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.o.retry();
    }, this.#delay);
    this.#delay = Math.min(this.o.timing.writeRetryMaxMs, this.#delay * 2);
  }

  /** A retry (or any batch while refused) went through with nothing refused: the end, said once. */
  wentThrough(): void {
    if (!this.#down || this.changes.size > 0 || this.#timer) return;
    this.o.log.info(`state: Redis at ${this.o.where} takes gw's writes again; what it refused is written`);
    this.#down = undefined;
    this.#said.clear();
    this.#delay = this.o.timing.writeRetryMinMs;
  }

  /** Why writes are refused, since when; undefined while they go through. */
  down(): (DownMark & { problem: string }) | undefined {
    return this.#down;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
