import { describe, expect, test } from "bun:test";
import { WholeEvents } from "../../src/lb/whole-events.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const feed = (w: WholeEvents, ...chunks: string[]) => chunks.map((c) => dec.decode(w.push(enc.encode(c))));

describe("WholeEvents", () => {
  test("a chunk of whole events passes as it is (the same bytes, no copy)", () => {
    const w = new WholeEvents();
    const c = enc.encode("data: a\n\ndata: b\n\n");
    expect(w.push(c)).toBe(c);
    expect(w.rest()).toBeUndefined();
  });
  test("the part of an event a chunk cuts off waits for the chunk that completes it", () => {
    expect(feed(new WholeEvents(), "data: a\n\ndata: {\"err", "or\":1}\n", "\n", "data: c\n\n")).toEqual(["data: a\n\n", "", 'data: {"error":1}\n\n', "data: c\n\n"]);
  });
  test("CRLF streams, and a blank line cut across two chunks", () => {
    expect(feed(new WholeEvents(), "data: a\r\n", "\r\ndata: b\r\n\r", "\n")).toEqual(["", "data: a\r\n\r\n", "data: b\r\n\r\n"]);
  });
  test("read a byte at a time, LF or CRLF, each event is handed on whole at its blank line", () => {
    for (const text of ["data: a\n\nevent: b\ndata: {}\n\n", "data: a\r\n\r\nevent: b\r\ndata: {}\r\n\r\n"]) {
      const out = feed(new WholeEvents(), ...text).filter(Boolean);
      expect(out).toEqual(text.split(/(?<=\r?\n\r?\n)/));
    }
  });
  // The SSE spec's third line end: such a stream is handed on with LF line ends, its events whole as in any other.
  test("lines that end in a bare CR: each event handed on whole with LF line ends, however the reads cut it", () => {
    const text = "event: a\rdata: {}\r\r: keep-alive\r\rdata: b\rdata: c\r\r";
    const events = ["event: a\ndata: {}\n\n", ": keep-alive\n\n", "data: b\ndata: c\n\n"];
    expect(feed(new WholeEvents(), text)).toEqual([events.join("")]);
    expect(feed(new WholeEvents(), ...text).filter(Boolean)).toEqual(events);
    for (let cut = 1; cut < text.length; cut++) {
      const w = new WholeEvents();
      expect(feed(w, text.slice(0, cut), text.slice(cut)).join("")).toBe(events.join(""));
      expect(w.rest()).toBeUndefined();
    }
  });
  test("once a stream ended a line in a bare CR, a CRLF in it stays one line end, also cut between two reads", () => {
    const w = new WholeEvents();
    expect(feed(w, "data: a\r\rdata: b\r", "\n\r\n", "data: c\r\n\r\n")).toEqual(["data: a\n\n", "data: b\n\n", "data: c\n\n"]);
  });
  test("what the stream never completed is left for its end", () => {
    const w = new WholeEvents();
    feed(w, "data: a\n\ndata: half");
    expect(dec.decode(w.rest())).toBe("data: half");
    expect(w.rest()).toBeUndefined();
  });
  test("an event past 1 MiB is not held back any longer", () => {
    const w = new WholeEvents();
    const big = "x".repeat(700_000);
    expect(feed(w, `data: ${big}`)).toEqual([""]);
    expect(feed(w, big)[0]!.length).toBe(1_400_006);
  });
});

// A Codex handshake echoes its request (hundreds of KB) and TCP hands it over in reads of a segment
// or so: each read must not copy again all that waits before it. Counted, not timed.
describe("WholeEvents' cost", () => {
  /** Bytes Buffer.concat copies while `run` runs. */
  const copied = (run: () => void): number => {
    const concat = Buffer.concat;
    let n = 0;
    Buffer.concat = function (list: readonly Uint8Array[], total?: number) {
      n += total ?? list.reduce((s, b) => s + b.byteLength, 0);
      return concat(list, total);
    } as typeof concat;
    try {
      run();
    } finally {
      Buffer.concat = concat;
    }
    return n;
  };
  for (const size of [1_000_000, 4_000_000]) {
    test(`an event of ${size / 1e6} MB in reads of 1,448 bytes is copied once, not once per read`, () => {
      const bytes = enc.encode(`event: response.created\ndata: {"instructions":"${"x".repeat(size)}"}\n\n`);
      let out = 0;
      const n = copied(() => {
        const w = new WholeEvents();
        for (let i = 0; i < bytes.length; i += 1448) out += w.push(bytes.subarray(i, i + 1448)).byteLength;
      });
      expect(out).toBe(bytes.length);
      expect(n).toBeLessThanOrEqual(bytes.length);
    });
  }
});
