import { expect, test } from "bun:test";
import { rememberLast } from "../../src/observe/remember-last.ts";

test("rememberLast: the function's answer for every argument, worked out again only when the argument changes", () => {
  const calls: unknown[] = [];
  const f = rememberLast((x: string | undefined) => (calls.push(x), x === undefined ? "none" : x.toUpperCase()));
  // undefined first: the memo starts empty, not as if undefined had been seen
  expect([undefined, undefined, "a", "a", "b", "a", undefined].map(f)).toEqual(["none", "none", "A", "A", "B", "A", "none"]);
  expect(calls).toEqual([undefined, "a", "b", "a", undefined]);
});

test("rememberLast: a repeated millisecond gives the same ISO time as a new Date would", () => {
  const iso = rememberLast((ms: number) => new Date(ms).toISOString());
  for (const ms of [0, 0, 1_764_547_200_000, 1_764_547_200_000, 1_764_547_200_001, 253_402_300_799_999]) expect(iso(ms)).toBe(new Date(ms).toISOString());
});
