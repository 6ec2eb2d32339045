import { describe, expect, test } from "bun:test";
import { ErrorOpening, holdJsonOpening } from "../../src/lb/json-opening.ts";

const enc = new TextEncoder();

/** What ErrorOpening says of `text` fed in pieces of `size` bytes. */
function opening(text: string, size: number): boolean | undefined {
  const o = new ErrorOpening();
  const bytes = enc.encode(text);
  for (let i = 0; i < bytes.byteLength; i += size) {
    const said = o.push(bytes.subarray(i, i + size));
    if (said !== undefined) return said;
  }
  return undefined;
}

describe("ErrorOpening", () => {
  const cases: [string, boolean | undefined][] = [
    ['{"error":{"message":"x"}}', true],
    ['\n\r\n\t { "error" : {', true],
    ['[{"error":{"code":401}}]', true],
    ['[\r\n {"error":{', true],
    ['{"id":"c1","error":{}}', false],
    ['{"error":null,"choices":[]}', false],
    ['{"error":"a string"}', false],
    ['{"err":{}}', false],
    ['{"e rror":{}}', false],
    ['[[{"error":{}}]]', false],
    ['[{"candidates":[]},{"error":{}}]', false],
    ["data: {}", false],
    ["\n\n\n", undefined],
    ['{"erro', undefined],
  ];
  for (const [text, said] of cases) {
    test(`${JSON.stringify(text)} → ${said}, in pieces of any size`, () => {
      for (const size of [1, 2, 3, 100]) expect([size, opening(text, size)]).toEqual([size, said]);
    });
  }
});

describe("holdJsonOpening", () => {
  const stream = (...parts: string[]) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        for (const p of parts) c.enqueue(enc.encode(p));
        c.close();
      },
    });

  test("spaces are held with what decides, chunks as they came", async () => {
    const o = await holdJsonOpening(stream("\n", " ", '{"id"', ':"c1"}'));
    expect(o.kind).toBe("deliver");
    if (o.kind === "deliver") expect(o.source.head.map((c) => new TextDecoder().decode(c))).toEqual(["\n", " ", '{"id"']);
  });

  test("an error opening, or an end before any value, is to be read whole", async () => {
    expect((await holdJsonOpening(stream("\n", '{"error":', '{"code":429}}'))).kind).toBe("whole");
    expect((await holdJsonOpening(stream("\n\n"))).kind).toBe("whole");
  });

  test("more spaces than the bound: delivered as they are", async () => {
    expect((await holdJsonOpening(stream(" ".repeat(40), " ".repeat(40), "{"), 64)).kind).toBe("deliver");
  });
});
