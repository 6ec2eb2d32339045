// Delivering an upstream response: bytes pass through as they arrive, never decoded or
// buffered. Event streams get a thin guard so a stream that breaks after bytes were sent ends
// with an error event in the client's dialect instead of a clean-looking truncated close.

import { type Dialect, sseErrorEvent } from "./dialect.ts";

const encoder = new TextEncoder();

export function isEventStream(headers: Headers): boolean {
  return headers.get("content-type")?.includes("text/event-stream") ?? false;
}

/**
 * Pass `body` through chunk by chunk. `onEnd` runs exactly once: at the end, on a break, or when
 * the client goes away (cancel reaches the upstream reader, which closes the upstream request).
 */
export function guardEventStream(
  body: ReadableStream<Uint8Array>,
  dialect: Dialect,
  onEnd: (broken: boolean) => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let ended = false;
  const end = (broken: boolean) => {
    if (ended) return;
    ended = true;
    onEnd(broken);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(ctrl) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (e) {
          if (ended) return; // cancelled by the client meanwhile
          const msg = `upstream stream broke: ${(e as Error).message}`;
          try {
            ctrl.enqueue(encoder.encode(sseErrorEvent(dialect, 502, msg, "upstream_stream_broken")));
            ctrl.close();
          } catch {}
          end(true);
          return;
        }
        if (chunk.done) {
          ctrl.close();
          end(false);
        } else {
          ctrl.enqueue(chunk.value);
        }
      },
      cancel(reason) {
        end(false);
        return reader.cancel(reason).catch(() => {});
      },
    },
    { highWaterMark: 0 },
  );
}
