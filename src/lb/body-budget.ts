// How much memory the request bodies being taken in may hold together (`[global]
// lb_max_body_memory_mb`). Each request holds its share from the first byte read until its
// answer is handed back (read, parsed, rewritten, sent upstream), estimated from what it is:
// its bytes, their text, and the values JSON.parse builds from it. A request that does not fit
// is answered 503 (try again) instead of pushing gw's memory up; one request alone always fits,
// so a body within lb_max_body_mb is never refused on an idle gw. Lives as long as the gateway.

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
    let mine = 0;
    return {
      grow: (bytes) => {
        if (this.used + bytes > limit && this.used > mine) return false;
        this.used += bytes;
        mine += bytes;
        return true;
      },
      release: () => {
        this.used -= mine;
        mine = 0;
      },
    };
  }
}

/** For intake outside the server (gw route explain, benchmarks): nothing to share, nothing held. */
export const NO_BUDGET: BodyHold = { grow: () => true, release() {} };
