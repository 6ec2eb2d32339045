import { describe, expect, test } from "bun:test";
import { jsonView } from "../../src/observe/json-view.ts";
import { everyUnitEscaped, jsonDecoded } from "../helpers/json-escapes.ts";

/** Each character of the view with what it was written as. */
const written = (raw: string) => {
  const v = jsonView(raw);
  return [...Array(v.text.length).keys()].map((i) => [v.text[i], raw.slice(v.at[i], v.at[i + 1])]);
};

describe("jsonView: a text as a JSON decoder reads it", () => {
  test("JSON's escapes are decoded, each character mapped to where it was written", () => {
    const raw = String.raw`a\/b\u0026\"\\\n\t\b\f\r\u00E9`;
    expect(jsonView(raw).text).toBe('a/b&"\\\n\t\b\f\ré');
    expect(written(raw)).toEqual([["a", "a"], ["/", "\\/"], ["b", "b"], ["&", "\\u0026"], ['"', '\\"'], ["\\", "\\\\"], ["\n", "\\n"], ["\t", "\\t"], ["\b", "\\b"], ["\f", "\\f"], ["\r", "\\r"], ["é", "\\u00E9"]]);
    expect(jsonView(raw).at.at(-1)).toBe(raw.length);
  });
  test("what a decoder would read as JSON.parse reads it, for any string JSON.stringify writes", () => {
    for (const s of ["sk-ant-api03-x", "1//0g", "a&b<c>", 'q"uote\\back', "\u0000\u001f", "naïve 🌍", "\ud83c"]) {
      const inner = JSON.stringify(s).slice(1, -1);
      expect(jsonView(inner).text).toBe(s);
      expect(jsonView(everyUnitEscaped(s)).text).toBe(s);
      expect(jsonView(inner).text).toBe(jsonDecoded(inner));
    }
  });
  test("a surrogate pair written as two escapes is two characters of the view, each its own escape", () => {
    expect(written(String.raw`\ud83c\udf0d!`)).toEqual([["\ud83c", "\\ud83c"], ["\udf0d", "\\udf0d"], ["!", "!"]]);
  });
  test("what is no JSON escape stays as written: \\x, a lone backslash, \\u without four hex digits; an escaped backslash escapes nothing after it", () => {
    for (const raw of [String.raw`\x41`, String.raw`a \ b`, String.raw`\u12zz`, String.raw`\u`, String.raw`\U0041`]) expect(jsonView(raw).text).toBe(raw);
    expect(jsonView(String.raw`\\u0073k`).text).toBe(String.raw`\u0073k`);
    expect(jsonView(String.raw`\\\u0073k`).text).toBe(String.raw`\sk`);
  });
  test("settled: where an escape the text's end cuts short begins", () => {
    expect(jsonView("abc").settled).toBe(3);
    expect(jsonView("ab\\").settled).toBe(2);
    expect(jsonView("ab\\u00").settled).toBe(2);
    expect(jsonView("ab\\u00e").settled).toBe(2);
    expect(jsonView("ab\\u00e9").settled).toBe(3);
    expect(jsonView("ab\\uzz").settled).toBe(6); // can never become one
    expect(jsonView("ab\\\\").settled).toBe(3); // an escaped backslash is whole
    expect(jsonView("a\\qb\\u1").settled).toBe(4);
  });
});
