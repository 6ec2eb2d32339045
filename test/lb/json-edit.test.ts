import { describe, expect, test } from "bun:test";
import { editTopLevel, topLevelMembers } from "../../src/lb/json-edit.ts";
import { seededRandom } from "../helpers/policy.ts";

const edit = (text: string, edits: Record<string, unknown>) =>
  editTopLevel(
    text,
    topLevelMembers(text),
    new Map(Object.entries(edits).map(([k, v]) => [k, v === undefined ? undefined : JSON.stringify(v)])),
  );

describe("topLevelMembers", () => {
  test("finds each top-level member and skips nested ones, whatever the spacing", () => {
    const text = ' { "model" : "a" ,\n"tools":[{"model":"x","s":"q\\"uo}te"}], "n": -1.5e3 , "t":true,"o":{"model":{}}}  ';
    const ms = topLevelMembers(text);
    expect(ms.map((m) => m.key)).toEqual(["model", "tools", "n", "t", "o"]);
    expect(ms.map((m) => text.slice(m.valueStart, m.valueEnd))).toEqual(['"a"', '[{"model":"x","s":"q\\"uo}te"}]', "-1.5e3", "true", '{"model":{}}']);
  });
  test("keys with escapes are decoded the way JSON.parse decodes them", () => {
    expect(topLevelMembers('{"mod\\u0065l":"x","a\\\\":1}').map((m) => m.key)).toEqual(["model", "a\\"]);
  });
  test("an empty object has no members", () => {
    expect(topLevelMembers(" { } ")).toEqual([]);
  });
});

describe("editTopLevel", () => {
  test("a value is replaced in place; every other byte stays", () => {
    const text = '{ "model" : "r",  "a":[1, 2.0, 1e2],"model2":"r"}';
    expect(edit(text, { model: "up/1" })).toBe('{ "model" : "up/1",  "a":[1, 2.0, 1e2],"model2":"r"}');
  });
  test("a model that is not the first key is replaced where it is", () => {
    expect(edit('{"a":1, "model":"r" ,"b":2}', { model: "x" })).toBe('{"a":1, "model":"x" ,"b":2}');
  });
  test("absent keys are added at the front", () => {
    expect(edit('{"a":1}', { max_tokens: 10 })).toBe('{"max_tokens":10,"a":1}');
    expect(edit("{ }", { max_tokens: 10, b: "x" })).toBe('{ "max_tokens":10,"b":"x"}');
  });
  test("removed keys take their separator with them", () => {
    expect(edit('{"a":1, "metadata":{"user_id":"u"},"b":2}', { metadata: undefined })).toBe('{"a":1, "b":2}');
    expect(edit('{"a":1,"metadata":{}}', { metadata: undefined })).toBe('{"a":1}');
    expect(edit('{"metadata":{},"a":1}', { metadata: undefined })).toBe('{"a":1}');
    expect(edit('{"metadata":{}}', { metadata: undefined })).toBe("{}");
    expect(edit('{"a":1,"x":2,"y":3}', { x: undefined, y: undefined })).toBe('{"a":1}');
  });
  test("a duplicated key is edited at every occurrence, so any parser sees the edit", () => {
    const out = edit('{"model":"r","a":1,"model":"other"}', { model: "x" });
    expect(out).toBe('{"model":"x","a":1,"model":"x"}');
    expect(edit('{"m":1,"a":1,"m":2}', { m: undefined })).toBe('{"a":1}');
  });
  test("an escaped spelling of a key is the same key", () => {
    expect(JSON.parse(edit('{"mod\\u0065l":"r"}', { model: "x" }))).toEqual({ model: "x" });
  });
  test("no edits: the very same text", () => {
    const text = '{"a":1}';
    expect(editTopLevel(text, topLevelMembers(text), new Map())).toBe(text);
  });
});

// --- fuzz: random objects in random spellings, random edits; JSON.parse is the judge ---

const KEYS = ["model", "max_tokens", "metadata", "thinking", "stream", "messages", "tools", "reasoning_effort", "a", "é", "q\"k", "back\\slash", ""];
const STRINGS = ["", "x", 'say "hi"', "back\\slash\\", "\\", "tab\there", "line\nbreak", "ünï©ødé ✓ 🚀", "\u2028", "{\"model\":\"fake\"}", "]}\"", "\u0000"];

function fuzzCase(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const ws = () => pick(["", "", "", " ", "\n  ", "\t", " \r\n "]);
  const encodeString = (s: string) => {
    // Sometimes escape characters JSON.stringify would leave alone (\u escapes, \/).
    let out = JSON.stringify(s);
    if (rand() < 0.3) out = out.replace(/[a-z]/, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
    if (rand() < 0.1) out = out.replace("/", "\\/");
    return out;
  };
  const value = (depth: number): string => {
    const r = rand();
    if (depth > 3 || r < 0.3) return pick(["0", "-1", "1.0", "1e2", "12345678901234567890", "-0.5E-3", "true", "false", "null"]);
    if (r < 0.6) return encodeString(pick(STRINGS));
    if (r < 0.8) return `[${ws()}${Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1)).join(`${ws()},${ws()}`)}${ws()}]`;
    return object(depth + 1);
  };
  const object = (depth: number): string => {
    const n = Math.floor(rand() * (depth === 0 ? 7 : 4));
    const members = Array.from({ length: n }, () => `${encodeString(pick(KEYS))}${ws()}:${ws()}${value(depth)}`);
    return `${ws()}{${ws()}${members.join(`${ws()},${ws()}`)}${ws()}}${ws()}`;
  };
  const text = object(0);
  const edits = new Map<string, string | undefined>();
  for (let i = 0, n = Math.floor(rand() * 4); i < n; i++) {
    edits.set(pick(KEYS), rand() < 0.3 ? undefined : value(1));
  }
  return { text, edits };
}

test("fuzz: 5,000 random objects and edits give valid JSON with exactly the edits applied", () => {
  const rand = seededRandom(1616);
  for (let n = 0; n < 5000; n++) {
    const { text, edits } = fuzzCase(rand);
    const members = topLevelMembers(text);
    const out = editTopLevel(text, members, edits);
    const expected = JSON.parse(text) as Record<string, unknown>;
    for (const [k, v] of edits) {
      if (v === undefined) delete expected[k];
      else expected[k] = JSON.parse(v);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(out);
    } catch (e) {
      throw new Error(`case ${n}: invalid JSON out of\n${text}\nedits ${JSON.stringify([...edits])}\n→ ${out}\n${e}`);
    }
    expect(parsed).toEqual(expected);
    // Exact bytes: every member not edited appears in the output as the very same text, in order.
    const outMembers = topLevelMembers(out).filter((m) => !edits.has(m.key));
    const kept = members.filter((m) => !edits.has(m.key));
    expect(outMembers.map((m) => out.slice(m.start, m.valueEnd))).toEqual(kept.map((m) => text.slice(m.start, m.valueEnd)));
  }
});
