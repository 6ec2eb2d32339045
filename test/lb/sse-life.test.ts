// What gw's idle clock counts inside a stream (src/lb/sse-life.ts): any part of an event, never a
// comment line, however the bytes are cut into chunks.
import { describe, expect, test } from "bun:test";
import { EventLife } from "../../src/lb/sse-life.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
/** What EventLife says of each chunk of `chunks`, in order. */
const lives = (...chunks: string[]) => {
  const life = new EventLife();
  return chunks.map((c) => life.push(bytes(c)));
};

describe("EventLife", () => {
  test("keep-alive comments are no sign of life; an event is", () => {
    expect(lives(": keep-alive\n\n", ": keep-alive\n\n", 'event: ping\ndata: {"type":"ping"}\n\n', ": keep-alive\n\n")).toEqual([false, false, true, false]);
  });

  test("an event after a comment in the same chunk is", () => {
    expect(lives(": keep-alive\n\ndata: {}\n\n")).toEqual([true]);
  });

  test("a comment cut anywhere stays a comment; an event cut anywhere is an event in each piece", () => {
    expect(lives(": keep", "-alive\n", "\n")).toEqual([false, false, false]);
    expect(lives("da", 'ta: {"a":', "1}\n", "\n")).toEqual([true, true, true, false]);
    // A chunk that ends a data line and begins a comment: the comment's rest is no event.
    expect(lives("data: x\n\n:", " keep-alive\n\n")).toEqual([true, false]);
    expect(lives("data: x\n\nda", "ta: y\n\n")).toEqual([true, true]);
  });

  test("CRLF and bare CR line ends", () => {
    expect(lives(": keep-alive\r\n\r\n", "data: x\r\n\r\n", ": keep-alive\r", "\n\r\n")).toEqual([false, true, false, false]);
    expect(lives(": keep-alive\r\r", "data: x\r\r", ": keep-alive\r\r")).toEqual([false, true, false]);
  });
});
