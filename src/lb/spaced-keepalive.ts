// gw's own keep-alive newlines while a spaced answer (spaced-answer.ts) goes on on another target.
// The client has a 200 and the first target's newlines; the next target may be no keep-alive
// CLIProxyAPI (an external relay, or keep-alive switched off) and send nothing for as long as its
// model works — and a proxy's or client's idle read timeout in front of gw would cut the answer
// the first target's newlines kept open. So, until the next target's first byte, gw writes one
// newline (JSON allows any spaces before a value) at the pace the first target kept, or at
// KEEP_ALIVE_PACE.defaultMs when that is not known. Scheduled on the shared timer (due.ts), not per request.

import { schedule, unschedule } from "./due.ts";

/** The pace of gw's newlines. Tests shorten it (GatewayOptions.spacedKeepAlive). */
export interface KeepAlivePace {
  /** The pace when the first target's is not known (one newline seen, or all in one read), and the slowest one used. */
  readonly defaultMs: number;
  /** The fastest: a target that wrote its newlines in a burst sets no faster pace than this. */
  readonly minMs: number;
}

/**
 * 15 s: well under the idle read timeouts commonly in front of an HTTP server (nginx's
 * proxy_read_timeout and AWS ALB's 60 s, Cloudflare's 100 s), a tick's lateness included; and a
 * slower pace than the first target kept is never needed, since the client lived with that one.
 * 1 s: idle timeouts count seconds, and a target that sent its newlines in a burst must not make
 * gw send one every tick.
 */
export const KEEP_ALIVE_PACE: KeepAlivePace = { defaultMs: 15_000, minMs: 1_000 };

/** The pace to keep: the widest gap between the newlines seen (it kept the client), within the pace's bounds. */
export function paceOf(widestGapMs: number | undefined, pace: KeepAlivePace): number {
  const ms = widestGapMs === undefined ? pace.defaultMs : Math.min(pace.defaultMs, Math.max(pace.minMs, widestGapMs));
  // Never 0: a moment due again at once would run again within the same tick (due.ts), for ever.
  return Math.max(1, ms);
}

/** When the spaces of an answer were seen: the widest gap between two reads of spaces only. */
export class SpaceGaps {
  private last: number | undefined;
  widest: number | undefined;

  /** A read of spaces only went to the client now (performance.now()). */
  seen(now: number): void {
    if (this.last !== undefined) this.widest = Math.max(this.widest ?? 0, now - this.last);
    this.last = now;
  }

  /** The body failed over: gw's own newlines fill the time until the next body's, which is no gap of a target's. */
  failedOver(): void {
    this.last = undefined;
  }
}

/** Writes a newline every `everyMs` from start() until stop(): a due.ts moment of its own. */
export class NewlineKeeper {
  at = 0;
  private on = false;

  constructor(
    private readonly ctrl: ReadableStreamDefaultController<Uint8Array>,
    private readonly everyMs: number,
  ) {}

  start(): void {
    this.on = true;
    this.at = performance.now() + this.everyMs;
    schedule(this);
  }

  stop(): void {
    this.on = false;
    unschedule(this);
  }

  run(): void {
    if (!this.on) return;
    try {
      // A fresh chunk each time: the relay may hand a chunk's buffer on.
      this.ctrl.enqueue(new Uint8Array([0x0a]));
    } catch {
      // The body ended (the client left, gw stopped): nothing more to keep alive.
      this.on = false;
      return;
    }
    this.at = performance.now() + this.everyMs;
    schedule(this);
  }
}
