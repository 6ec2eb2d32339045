// Plays a dialect's SSE frames with the timing faults of a request: interval between events,
// a pause after the first content event (with optional `: keep-alive` comments), a cut connection,
// or an error event inside the 200 stream. Without timing faults the frames go out as one chunk.

import type { Fault } from "./faults.ts";

/** Headers CLIProxyAPI sets on every stream (its setSSEHeaders). */
export const SSE_HEADERS = Object.freeze({
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  connection: "keep-alive",
  "access-control-allow-origin": "*",
});

const KEEPALIVE = ": keep-alive\n\n";
const CUT_SETTLE_MS = 25;

export interface StreamPlan {
  frames: readonly string[];
  /** Index of the first content frame: the pause of `gap` comes after it. */
  firstContent: number;
  /** The in-stream error frame for `after=N`, given the sequence number it replaces. */
  errorFrame?: (index: number) => string;
}

/**
 * Response body for a stream; `done` runs once when it ends, however it ends. Bun's "direct"
 * streams write straight to the socket: no chunk queue, and a flush per event when timed.
 */
export function playStream(plan: StreamPlan, f: Readonly<Fault>, done: () => void): ReadableStream<Uint8Array> {
  const timed = f.intervalMs > 0 || f.gapMs > 0 || f.cut >= 0 || (f.after >= 0 && f.status > 0);
  if (!timed) {
    const text = plan.frames.join("");
    return directStream({
      type: "direct",
      pull(c) {
        c.write(text);
        c.close();
        done();
      },
      cancel: done,
    });
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;
  let cancelled = false;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, ms);
    });
  /** Wait ms, sending keep-alive comments every `keepaliveMs` if asked to. */
  async function pause(c: ReadableStreamDirectController, ms: number) {
    const step = f.keepaliveMs > 0 ? f.keepaliveMs : ms;
    for (let left = ms; left > 0 && !cancelled; left -= step) {
      await sleep(Math.min(step, left));
      if (!cancelled && f.keepaliveMs > 0 && left > step) await send(c, KEEPALIVE);
    }
  }
  async function send(c: ReadableStreamDirectController, text: string) {
    c.write(text);
    await c.flush();
  }
  let ended = false;
  const end = () => {
    if (!ended) (ended = true), done();
  };
  return directStream({
    type: "direct",
    async pull(c) {
      try {
        for (let i = 0; i < plan.frames.length && !cancelled; i++) {
          if (i > 0 && f.intervalMs > 0) await pause(c, f.intervalMs);
          if (cancelled) return;
          if (i === f.cut) {
            // A rejected pull makes Bun reset the connection without the terminating chunk. The
            // reset would overtake events still in flight (clients drop them), so let them land first.
            await sleep(CUT_SETTLE_MS);
            throw new MockCut();
          }
          if (i === f.after && f.status > 0 && plan.errorFrame) {
            c.write(plan.errorFrame(i));
            break;
          }
          await send(c, plan.frames[i]!);
          if (i === plan.firstContent && f.gapMs > 0) await pause(c, f.gapMs);
        }
        if (!cancelled) c.close();
      } finally {
        end();
      }
    },
    cancel() {
      cancelled = true;
      clearTimeout(timer);
      wake?.();
      end();
    },
  });
}

/** tsconfig's DOM lib hides Bun's `type: "direct"` constructor overload, hence the one cast. */
function directStream(source: Bun.DirectUnderlyingSource): ReadableStream<Uint8Array> {
  return new ReadableStream(source as unknown as UnderlyingDefaultSource<Uint8Array>);
}

/**
 * A non-streamed body under CLIProxyAPI's nonstream keep-alive: the 200 is already out, a "\n"
 * goes every `intervalMs` until `waitMs` has passed, then the body (an error keeps the 200).
 */
export function newlinesThenBody(waitMs: number, intervalMs: number, body: string, done: () => void): ReadableStream<Uint8Array> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;
  let cancelled = false;
  return directStream({
    type: "direct",
    async pull(c) {
      try {
        for (let left = waitMs; left > 0 && !cancelled; left -= intervalMs) {
          c.write("\n");
          await c.flush();
          await new Promise<void>((resolve) => {
            wake = resolve;
            timer = setTimeout(resolve, Math.min(intervalMs, left));
          });
        }
        if (!cancelled) {
          c.write(body);
          c.close();
        }
      } finally {
        done();
      }
    },
    cancel() {
      cancelled = true;
      clearTimeout(timer);
      wake?.();
    },
  });
}

class MockCut extends Error {
  constructor() {
    super("gw mock: connection cut (fault cut=N)");
  }
}
