// One timer for every request in flight, instead of timers, abort signals and listeners per
// request. Two things happen at a moment in a request's life: its attempt's first-byte deadline,
// and — once it has taken SLOW_AFTER_MS — the work only a slow request needs: listening for the
// client to leave (so the upstream stops working for nobody) and switching off Bun's idle timeout
// (an LLM may think for minutes). A request answered sooner, as most are on loopback, never pays
// for either: per request this costs a Set add and delete, where `req.signal` alone (Bun makes it
// on first use), its listener and a timer each cost microseconds. The moments are objects with a
// run() method, not closures: they live as long as their request, and what a request keeps while
// it waits for the upstream is what the collector marks (bench/README.md).
//
// The moments are on the monotonic clock (performance.now), not the wall clock: NTP stepping the
// clock a day forward (a resumed VM or laptop) must not time out every attempt waiting for its
// first byte and cool its target, nor a step back keep a hung upstream's client waiting for hours.

/** Granularity of everything scheduled here: a deadline fires up to this late. */
const TICK_MS = 50;
/** A request still waiting after this long gets the slow path (client-abort listener, no idle timeout). */
const SLOW_AFTER_MS = 50;

interface Due {
  /** performance.now() ms. */
  readonly at: number;
  run(): void;
}

/** Run `d.run()` at `d.at` (at most TICK_MS late), unless unscheduled before. */
export function schedule(d: Due): void {
  pending.add(d);
  if (!timer) {
    timer = setInterval(tick, TICK_MS);
    timer.unref?.();
  }
}

export function unschedule(d: Due): void {
  pending.delete(d);
}

/** Moments scheduled and not yet run: none once every request has ended (a test counts leaks with it). */
export function pendingMoments(): number {
  return pending.size;
}

/** What a slow request switches off: Bun's idle timeout for it (Server.timeout). */
interface IdleTimeouts {
  timeout(req: Request, seconds: number): void;
}

/**
 * The client of one request, as its attempts see it: they follow it (an attempt's controller is
 * aborted when the client leaves), and ask whether it is gone (error paths only: asking makes
 * Bun create the request's signal, which the fast path avoids). Scheduled, it is also the
 * request's slow-path moment (SLOW_AFTER_MS after `startedAt`); unschedule it when the response
 * has ended.
 */
export class ClientLink implements Due {
  private current: AbortController | undefined;
  private listening = false;
  private left = false;
  readonly at: number;

  constructor(
    private readonly req: Request,
    private readonly server: IdleTimeouts,
  ) {
    this.at = performance.now() + SLOW_AFTER_MS;
  }

  /** The request turned slow: no idle timeout, and from now on the client's leaving aborts the attempt in flight. */
  run(): void {
    this.server.timeout(this.req, 0);
    if (this.listening) return;
    this.listening = true;
    const signal = this.req.signal;
    if (signal.aborted) this.current?.abort();
    else signal.addEventListener("abort", () => this.current?.abort(), { once: true });
  }

  /** The attempt now in flight (its controller is aborted if the client leaves). */
  follow(ctrl: AbortController): void {
    this.current = ctrl;
    if (this.left || (this.listening && this.req.signal.aborted)) ctrl.abort();
  }

  /**
   * The client stopped reading an answer that was begun (its body was cancelled) while gw still
   * works for it (spaced-answer.ts): the attempt in flight stops, and any after it.
   */
  leave(): void {
    this.left = true;
    this.current?.abort();
  }

  get gone(): boolean {
    return this.left || this.req.signal.aborted;
  }
}

/**
 * One attempt's control (forward.ts AttemptControl): aborted at its first-byte deadline — it is
 * its own scheduled moment — or when its client leaves.
 */
export class AttemptDeadline implements Due {
  readonly abort = new AbortController();
  /** Moved later when a tool call begins (toolCallBegan): tick() reads it each time. */
  at: number;
  toolWaitMs: number | undefined;
  private expired = false;

  constructor(
    readonly timeoutMs: number,
    private readonly client: ClientLink,
    /** Told the new end (epoch ms) when a tool call moves it: a half-open target's trial holds its claim as long. */
    private readonly moved?: (until: number) => void,
  ) {
    this.at = performance.now() + timeoutMs;
    client.follow(this.abort);
  }

  run(): void {
    this.expired = true;
    this.abort.abort();
  }

  timedOut(): boolean {
    return this.expired;
  }

  toolCallBegan(ms: number): void {
    this.toolWaitMs = ms;
    this.at = Math.max(this.at, performance.now() + ms);
    this.moved?.(Date.now() + ms);
  }

  clientGone(): boolean {
    return this.client.gone;
  }
}

// --- internal ---

const pending = new Set<Due>();
let timer: ReturnType<typeof setInterval> | undefined;

function tick(): void {
  const now = performance.now();
  for (const d of pending) {
    if (now < d.at) continue;
    pending.delete(d);
    d.run();
  }
  if (pending.size === 0) {
    clearInterval(timer);
    timer = undefined;
  }
}
