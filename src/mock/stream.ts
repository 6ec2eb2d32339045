// Plays a dialect's SSE frames with the timing faults of a request: interval between events,
// a pause after the first content event, a cut connection, or an error event inside the 200
// stream; `: keep-alive` comments on a fixed ticker from the first event on, as CLIProxyAPI's
// ForwardStream sends them (a ticker, not reset by data, so they also fall between events).
// Without timing faults the frames go out as one chunk.
// Also the body of a non-streamed answer under CLIProxyAPI's nonstream keep-alive.

import type { Fault } from "./faults.ts";

/** Headers CLIProxyAPI sets on every stream (its setSSEHeaders). */
export const SSE_HEADERS = Object.freeze({
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "access-control-allow-origin": "*",
});

const KEEPALIVE = ": keep-alive\n\n";
// How long a cut waits for the events before it to be read. Nothing tells the mock that its peer
// has read them, and a reset discards what the peer has not read yet: 25 ms was overtaken beside
// two CPU hogs (gw then saw a cut before any content and, rightly, failed over).
const CUT_SETTLE_MS = 250;

export interface StreamPlan {
  frames: readonly string[];
  /** Index of the first content frame (the frames before it are the opening): `gap` pauses after it, `after=N` counts from it. */
  firstContent: number;
  /** The in-stream error frame for `after=N`. */
  errorFrame?: string;
}

type Writer = ReadableStreamDirectController;

/**
 * Response body for a stream; `done` runs once when it ends, however it ends. Bun's "direct"
 * streams write straight to the socket: no chunk queue, and a flush per event when timed.
 */
export function playStream(plan: StreamPlan, f: Readonly<Fault>, done: () => void): ReadableStream<Uint8Array> {
  const timed = f.intervalMs > 0 || f.gapMs > 0 || f.cut >= 0 || (f.after >= 0 && f.status > 0);
  if (!timed) {
    const text = plan.frames.join("");
    return timedBody(async (c) => void c.write(text), done);
  }
  return timedBody(async (c, clock) => {
    for (let i = 0; i < plan.frames.length && !clock.cancelled; i++) {
      if (i > 0 && f.intervalMs > 0) await clock.sleep(f.intervalMs);
      if (clock.cancelled) return;
      if (i === f.cut) {
        // A rejected pull makes Bun reset the connection without the terminating chunk. The
        // reset would overtake events still in flight (clients drop them), so let them land first.
        await clock.sleep(CUT_SETTLE_MS);
        throw new MockCut();
      }
      if (i === plan.firstContent + f.after && f.status > 0 && plan.errorFrame) return void c.write(plan.errorFrame);
      await send(c, plan.frames[i]!);
      // CLIProxyAPI peeks at the first chunk before its headers, then starts the ticker.
      if (i === 0 && f.keepaliveMs > 0) clock.every(f.keepaliveMs, () => void send(c, KEEPALIVE));
      if (i === plan.firstContent && f.gapMs > 0) await clock.sleep(f.gapMs);
    }
  }, done);
}

/**
 * A non-streamed body under CLIProxyAPI's nonstream keep-alive: the 200 is already out, a "\n"
 * goes every `intervalMs` until `waitMs` has passed, then the body (an error keeps the 200).
 */
export function newlinesThenBody(waitMs: number, intervalMs: number, body: string, done: () => void): ReadableStream<Uint8Array> {
  return timedBody(async (c, clock) => {
    for (let left = waitMs; left > 0 && !clock.cancelled; left -= intervalMs) {
      await send(c, "\n");
      await clock.sleep(Math.min(intervalMs, left));
    }
    if (!clock.cancelled) c.write(body);
  }, done);
}

async function send(c: Writer, text: string): Promise<void> {
  c.write(text);
  await c.flush();
}

/** Timers that a client going away cuts short. */
class Clock {
  cancelled = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ticker: ReturnType<typeof setInterval> | undefined;
  private wake: (() => void) | undefined;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  /** Runs `tick` every `ms` until the body ends. Writes are whole frames, so a tick never splits one. */
  every(ms: number, tick: () => void): void {
    this.ticker = setInterval(tick, ms);
  }

  stop(): void {
    clearInterval(this.ticker);
  }

  cancel(): void {
    this.cancelled = true;
    this.stop();
    clearTimeout(this.timer);
    this.wake?.();
  }
}

/** Runs `play` as a direct stream body, closes it unless cancelled, and calls `done` exactly once. */
function timedBody(play: (c: Writer, clock: Clock) => Promise<void>, done: () => void): ReadableStream<Uint8Array> {
  const clock = new Clock();
  let ended = false;
  const end = () => {
    if (!ended) (ended = true), done();
  };
  const source: Bun.DirectUnderlyingSource = {
    type: "direct",
    async pull(c) {
      try {
        await play(c, clock);
        if (!clock.cancelled) c.close();
      } finally {
        clock.stop();
        end();
      }
    },
    cancel() {
      clock.cancel();
      end();
    },
  };
  // tsconfig's DOM lib hides Bun's `type: "direct"` constructor overload, hence the cast.
  return new ReadableStream(source as unknown as UnderlyingDefaultSource<Uint8Array>);
}

class MockCut extends Error {
  constructor() {
    super("gw mock: connection cut (fault cut=N)");
  }
}
