// A body that arrives in the pieces a test names: what upstream readers are fed.
const enc = new TextEncoder();

/** A finished stream of these text parts, one chunk each. */
export function textStream(...parts: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of parts) c.enqueue(enc.encode(p));
      c.close();
    },
  });
}
