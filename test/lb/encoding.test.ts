// Request bodies in zstd: a body cut short is refused like a cut gzip body, however the frames
// were made (one-shot or streamed, with a checksum, several frames, skippable frames).
import { describe, expect, test } from "bun:test";
import * as zlib from "node:zlib";
import { decode, decodingStream } from "../../src/lb/encoding.ts";
import { wholeZstdFrames } from "../../src/lb/zstd-frames.ts";

/** A JSON body of ~300 KB that compresses into several blocks (a block holds at most 128 KiB). */
function body(): Uint8Array {
  const words = Array.from({ length: 40_000 }, (_, i) => `w${(i * 7919) % 10007}`);
  return new TextEncoder().encode(JSON.stringify({ model: "m", messages: [{ role: "user", content: words.join(" ") }] }));
}

async function streamed(data: Uint8Array, params: Record<number, number> = {}): Promise<Uint8Array> {
  const z = zlib.createZstdCompress({ params });
  const chunks: Buffer[] = [];
  z.on("data", (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve) => z.on("end", resolve));
  for (let i = 0; i < data.length; i += 50_000) z.write(data.subarray(i, i + 50_000));
  z.end();
  await done;
  return Buffer.concat(chunks);
}

const MAX = 64 * 1024 * 1024;
const plain = body();

describe("zstd request bodies", async () => {
  const skippable = Buffer.concat([Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3])]);
  const half = plain.length >> 1;
  const cases: [string, Uint8Array, Uint8Array][] = [
    ["one-shot", zlib.zstdCompressSync(plain), plain],
    ["one-shot with a checksum", zlib.zstdCompressSync(plain, { params: { [zlib.constants.ZSTD_c_checksumFlag]: 1 } }), plain],
    ["streamed (no content size)", await streamed(plain), plain],
    ["streamed with a checksum", await streamed(plain, { [zlib.constants.ZSTD_c_checksumFlag]: 1 }), plain],
    ["two frames", Buffer.concat([zlib.zstdCompressSync(plain.subarray(0, half)), zlib.zstdCompressSync(plain.subarray(half))]), plain],
    ["a skippable frame before the data", Buffer.concat([skippable, zlib.zstdCompressSync(plain)]), plain],
    ["an empty payload", zlib.zstdCompressSync(new Uint8Array(0)), new Uint8Array(0)],
  ];

  for (const [name, z, want] of cases) {
    test(`${name}: decoded whole; every cut inside a frame refused`, async () => {
      expect(wholeZstdFrames(z)).toBe(true);
      expect(Buffer.from(await decode(z, ["zstd"], MAX)).equals(Buffer.from(want))).toBe(true);
      // Cuts at every byte near the ends and between, and inside each block header.
      const cuts = new Set<number>();
      for (let i = 0; i < Math.min(z.length, 40); i++) cuts.add(i).add(z.length - 1 - i);
      for (let i = 0; i < z.length; i += 97) cuts.add(i);
      let cutShort = 0;
      let acceptedByZlib = 0;
      for (const cut of cuts) {
        const short = z.subarray(0, cut);
        // A cut between two frames leaves whole frames, as a cut between gzip members does: only
        // what the body would have said is lost. Bun.zstdDecompressSync (which cannot bound its
        // output, so gw does not decode with it) is the judge of what is whole.
        const whole = cut > 0 && takes(Bun.zstdDecompressSync, short); // zstd data is one or more frames (RFC 8878 §3.1)
        expect({ cut, whole: wholeZstdFrames(short) }).toEqual({ cut, whole });
        if (whole) continue;
        cutShort++;
        if (cut > 0 && takes(zlib.zstdDecompressSync, short)) acceptedByZlib++;
        await expect(decode(short, ["zstd"], MAX)).rejects.toThrow();
      }
      expect(cutShort).toBeGreaterThan(cuts.size - 4);
      // Why the check exists: zlib's own decoder takes most of these cuts for whole bodies.
      if (want.length > 0) expect(acceptedByZlib).toBeGreaterThan(cutShort / 2);
    });
  }

  test("trailing bytes after the last frame, a reserved block type, garbage: refused", async () => {
    const z = zlib.zstdCompressSync(plain);
    for (const bad of [Buffer.concat([z, Buffer.from([0])]), Buffer.from("not zstd at all"), new Uint8Array(0)]) {
      expect(wholeZstdFrames(bad)).toBe(false);
      await expect(decode(bad, ["zstd"], MAX)).rejects.toThrow();
    }
    // A single-segment frame whose first block header says "reserved" (type 3).
    const reserved = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x01, 0x07, 0x00, 0x00]);
    expect(wholeZstdFrames(reserved)).toBe(false);
  });
});

/** Does this decoder take the bytes without an error? */
function takes(decoder: (b: Uint8Array) => unknown, b: Uint8Array): boolean {
  try {
    decoder(b);
    return true;
  } catch {
    return false;
  }
}

test("a deflate body as it arrives, zlib-wrapped or raw, cut after one byte or not: decoded, or the stream errors (never hangs)", async () => {
  const text = async (parts: Uint8Array[]) => {
    const src = new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(p);
        c.close();
      },
    });
    return new Response(decodingStream(src, ["deflate"])).text().catch((e: Error) => `error: ${e.message}`);
  };
  const wrapped = zlib.deflateSync("hello world");
  const raw = zlib.deflateRawSync("hello raw");
  expect(await text([wrapped.subarray(0, 1), wrapped.subarray(1)])).toBe("hello world");
  expect(await text([raw.subarray(0, 1), raw.subarray(1)])).toBe("hello raw");
  expect(await text([])).toBe("");
  expect(await text([wrapped.subarray(0, 1)])).toStartWith("error: ");
  expect(await text([wrapped.subarray(0, wrapped.length - 3)])).toStartWith("error: ");
  expect(await text([new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])])).toStartWith("error: ");
});
