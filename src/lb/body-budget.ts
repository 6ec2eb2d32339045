// How much memory the request bodies being taken in may hold together (`[global]
// lb_max_body_memory_mb`). Each request holds its share from the first byte read until its
// answer is handed back (read, parsed, rewritten, sent upstream), estimated from what it is:
// its bytes, their text, and the values JSON.parse builds from it. A request that does not fit
// is answered 503 (try again) instead of pushing gw's memory up; one request alone always fits,
// so a body within lb_max_body_mb is never refused on an idle gw. A stream's opening held until its
// first content (first-event.ts holdOpening) is held in the same share. Lives as long as the gateway.

/** What JSON.parse builds per value (measured: ~90 bytes per `{}` in Bun 1.4), rounded up. */
export const BYTES_PER_ELEMENT = 96;

export interface BodyHold {
  /** Hold `bytes` more; false (and nothing held) when that would overrun the budget. */
  grow(bytes: number): boolean;
  /** Give everything back; idempotent. */
  release(): void;
}

export class BodyBudget {
  private used = 0;

  /** The memory held now by requests being taken in. */
  inUse(): number {
    return this.used;
  }

  /** A hold for one request, against `limit` (read from the config in force for that request). */
  hold(limit: number): BodyHold {
    return new Hold(this, limit);
  }

  /** Move `bytes` into (or, negative, out of) use; Hold's only way in. */
  take(bytes: number): void {
    this.used += bytes;
  }
}

/** One request's share (a class, not closures: it lives as long as the request). */
class Hold implements BodyHold {
  private mine = 0;
  constructor(
    private readonly budget: BodyBudget,
    private readonly limit: number,
  ) {}
  grow(bytes: number): boolean {
    const used = this.budget.inUse();
    if (used + bytes > this.limit && used > this.mine) return false;
    this.budget.take(bytes);
    this.mine += bytes;
    return true;
  }
  release(): void {
    this.budget.take(-this.mine);
    this.mine = 0;
  }
}

/** For intake outside the server (gw route explain, benchmarks): nothing to share, nothing held. */
export const NO_BUDGET: BodyHold = { grow: () => true, release() {} };
