// Which strings a file holds, read as a stream: a release binary is ~110 MB and the release check
// looks into six at once, so none is held whole. The scan over chunks is kept apart from the file
// so tests can cut the chunks where they like (a string split across two is still found).

/** The subset of `wanted` that occurs somewhere in `chunks`. */
export async function findStrings(chunks: AsyncIterable<Uint8Array>, wanted: readonly string[]): Promise<Set<string>> {
  const needles = wanted.map((text) => ({ text, bytes: Buffer.from(text) }));
  const found = new Set<string>();
  // A string that starts in one chunk and ends in the next lies in the seam: the previous chunk's
  // last `keep` bytes followed by this chunk's first `keep`.
  const keep = Math.max(0, ...needles.map((n) => n.bytes.length - 1));
  let tail: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const seam = Buffer.concat([tail, buf.subarray(0, keep)]);
    for (const n of needles) if (!found.has(n.text) && (buf.includes(n.bytes) || seam.includes(n.bytes))) found.add(n.text);
    if (found.size === needles.length) break;
    tail = lastBytes(tail, buf, keep);
  }
  return found;
}

/** The last `n` bytes of `prev` then `next`, copied: a stream may reuse a chunk's memory. */
function lastBytes(prev: Buffer, next: Buffer, n: number): Buffer {
  if (n === 0) return Buffer.alloc(0);
  if (next.length >= n) return Buffer.from(next.subarray(next.length - n));
  const both = Buffer.concat([prev, next]);
  return both.subarray(Math.max(0, both.length - n));
}

/** The subset of `wanted` that `file` does not hold. */
export async function missingStrings(file: string, wanted: readonly string[]): Promise<string[]> {
  const found = await findStrings(Bun.file(file).stream(), wanted);
  return wanted.filter((w) => !found.has(w));
}
