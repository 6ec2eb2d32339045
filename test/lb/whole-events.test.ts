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
