import { describe, expect, test } from "bun:test";
import { ErrorOpening, holdJsonOpening, readOn } from "../../src/lb/json-opening.ts";
import { textStream } from "../helpers/streams.ts";

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
    // Anthropic's shape (CLIProxyAPI's errors on /v1/messages).
    ['{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}', true],
    ['\n{ "type" : "error" ,', true],
    ['{"type":"error_log","text":"x"}', false],
    ['{"type":"message","content":[]}', false],
    ['{"type":"err', undefined],
  ];
  for (const [text, said] of cases) {
    test(`${JSON.stringify(text)} → ${said}, in pieces of any size`, () => {
      for (const size of [1, 2, 3, 100]) expect([size, opening(text, size)]).toEqual([size, said]);
    });
  }
});

describe("holdJsonOpening", () => {
  const stream = textStream;

  test("keep-alive spaces before any value go at once (a proxy's read timeout must see bytes); within an opening they are held", async () => {
    const alive = await holdJsonOpening(stream("\n", '{"error":', "{}}"));
    expect(alive.kind).toBe("spaced");
    if (alive.kind === "spaced") expect(alive.source.head.map((c) => new TextDecoder().decode(c))).toEqual(["\n"]);
    // …also when the error comes in the same read: what follows the spaces is judged as it is delivered (spaced-answer.ts).
    expect((await holdJsonOpening(stream('\n\n{"error":{}}'))).kind).toBe("spaced");
    const held = await holdJsonOpening(stream("[", "\r\n", '{"id"', ':"c1"}]'));
    expect(held.kind).toBe("deliver");
    if (held.kind === "deliver") expect(held.source.head.map((c) => new TextDecoder().decode(c))).toEqual(["[", "\r\n", '{"id"']);
  });

  test("an error opening, or an end before any value, is to be read whole", async () => {
    expect((await holdJsonOpening(stream('{"error":', '{"code":429}}'))).kind).toBe("whole");
    expect((await holdJsonOpening(stream("[", '\r\n{"error":{"code":429}}]'))).kind).toBe("whole");
    expect((await holdJsonOpening(stream())).kind).toBe("whole");
  });

  test("more spaces than the bound: delivered as they are", async () => {
    expect((await holdJsonOpening(stream("[", " ".repeat(40), " ".repeat(40), "{"), 64)).kind).toBe("deliver");
  });
});

describe("readOn", () => {
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  /** A source as holdJsonOpening leaves it: `head` already read, `rest` still in the reader. */
  const source = (head: string[], ...rest: string[]) => ({ head: head.map((h) => enc.encode(h)), reader: textStream(...rest).getReader() });

  test("the head and every later read, joined whole, to the end", async () => {
    const r = await readOn(source(['{"error":', '{"message":'], '"slow', ' down"}', "}"), 1000);
    expect("bytes" in r && [text(r.bytes), r.complete]).toEqual(['{"error":{"message":"slow down"}}', true]);
  });

  test("a body of exactly the bound is read whole; one byte more is left in the source, for delivery", async () => {
    const at = await readOn(source(["12345"], "67890"), 10);
    expect("bytes" in at && [text(at.bytes), at.complete]).toEqual(["1234567890", true]);
    const over = await readOn(source(["12345"], "67890", "x"), 10);
    expect("source" in over && over.source.head.map(text)).toEqual(["12345", "67890", "x"]);
  });
});
