import { describe, expect, test } from "bun:test";
import { endsInsideValue, WholeErrors } from "../../src/lb/whole-errors.ts";
import { createMasker } from "../../src/observe/mask.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const KEY = "sk-relay-0123456789abcdef0123";
const mask = (s: string) => s.replaceAll(KEY, "sk-rel…0123");

/** What the client gets of `text` cut at `cuts`. */
function through(text: string, cuts: number[], w = new WholeErrors(mask)): { out: string; found: ReturnType<WholeErrors["error"]> } {
  const bytes = enc.encode(text);
  let out = "";
  let from = 0;
  for (const at of [...cuts, bytes.byteLength]) {
    out += dec.decode(w.push(bytes.subarray(from, at)), { stream: true });
    from = at;
  }
  const rest = w.rest();
  return { out: out + (rest ? dec.decode(rest) : ""), found: w.error() };
}

describe("WholeErrors", () => {
  // Escapes of every kind before the error, so a string's end is found wherever a read ends.
  const first = JSON.stringify({ id: "c1", choices: [{ message: { content: 'a "quoted" {brace} \\ back\\"slash\\\\ \n [x] é' } }] });
  const error = JSON.stringify({ error: { message: `Incorrect API key provided: ${KEY}` } });

  test("NDJSON: an error object after a first value, cut anywhere, goes out masked and counts as after content", () => {
    const text = `${first}\n${error}\n`;
    for (let at = 1; at < enc.encode(text).byteLength; at++) {
      const { out, found } = through(text, [at]);
      expect({ at, out }).toEqual({ at, out: mask(text) });
      expect(found?.afterContent).toBe(true);
    }
  });

  test("values side by side on one line, and a value that only mentions an error in its text, pass as they came", () => {
    const text = `${first}${first} ${JSON.stringify({ content: `{"error":{"message":"${KEY}"}}` })}`;
    for (const at of [1, 30, 60, text.length - 1]) expect(through(text, [at])).toEqual({ out: text, found: undefined });
  });

  test("an error object too large to hold, alone, is judged the same in one read as in several: not at all (its status is not in its first piece)", () => {
    const masker = createMasker([KEY]);
    const text = JSON.stringify({ error: { message: `${KEY} ${"x".repeat(1_500_000)}`, code: 401 } });
    for (const cuts of [[], [700_000], [1_200_000]]) {
      const { out, found } = through(text, cuts, new WholeErrors(masker.text, masker.pieces));
      expect([cuts, out === masker.text(text), found]).toEqual([cuts, true, undefined]);
    }
  });

  test("unfinished: a body cut anywhere inside its value is, a whole one (an object, a Gemini array, NDJSON, an error) is not, wherever the reads cut it", () => {
    const gemini = `[${first},\r\n${first}\r\n]`;
    const ndjson = `${first}\n${first}\n`;
    const n = enc.encode(first).byteLength;
    for (const whole of [first, gemini, ndjson, error]) {
      const bytes = enc.encode(whole);
      // A prefix that is itself whole values (NDJSON's first line, with or without its newline) is no cut.
      const ends = whole === ndjson ? [n, n + 1, 2 * n + 1] : [];
      for (let at = 1; at < bytes.byteLength; at++) {
        expect({ whole: whole.slice(0, 12), at, unfinished: endsInsideValue(bytes.subarray(0, at)) }).toEqual({ whole: whole.slice(0, 12), at, unfinished: !ends.includes(at) });
        const w = new WholeErrors(mask);
        w.push(bytes.subarray(0, at));
        w.push(bytes.subarray(at));
        expect({ at, unfinished: w.unfinished() }).toEqual({ at, unfinished: false });
      }
    }
    // Not JSON values gw can follow (no object, no array), or nothing yet: not judged.
    for (const text of ['"a string', "12", "  ", ""]) expect(endsInsideValue(enc.encode(text))).toBe(false);
  });
});
