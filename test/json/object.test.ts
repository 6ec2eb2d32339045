// The one "JSON object" guard (src/json/object.ts) that ten readers share since mocktidy: what
// each old copy let through and kept out, pinned here, since none of their tests names it.
import { describe, expect, test } from "bun:test";
import { parse as parseToml } from "smol-toml";
import { asObject, isObject, objectsIn } from "../../src/json/object.ts";
import { isTable } from "../../src/config/reader.ts";

describe("isObject / asObject", () => {
  test("an object, not null, not a list, not a scalar", () => {
    expect([{}, { a: 1 }].map(isObject)).toEqual([true, true]);
    expect([null, undefined, [], [{}], "x", 0, true].map(isObject)).toEqual([false, false, false, false, false, false, false]);
    const o = { a: 1 };
    expect([asObject(o), asObject([o]), asObject(null)]).toEqual([o, undefined, undefined]);
  });

  test("a TOML date is an object to it: config/reader.ts isTable keeps it out itself", () => {
    const { when } = parseToml("when = 2026-12-02T06:00:00Z") as { when: unknown };
    expect([isObject(when), isTable(when)]).toEqual([true, false]);
  });
});

describe("objectsIn", () => {
  test("the objects of a list, others passed over; [] for anything but a list", () => {
    const a = { n: 1 };
    expect(objectsIn([a, null, [a], "x", 2, a])).toEqual([a, a]);
    expect([objectsIn(undefined), objectsIn(a), objectsIn("x")]).toEqual([[], [], []]);
  });
});
