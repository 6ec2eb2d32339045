// A known secret whose first characters, as written, end a JSON escape (mask.ts maskWrittenKnown):
// `\u00ab12…` reads `«12…` to the decoder, so the view misses it, but a log's reader sees the key.
// Masked with the escape's start: the head shown holds the whole escape, a short secret (or one
// holding a backslash) becomes `***` escape and all; an escaped backslash before it is no escape
// and stays; a secret the view already masked is left as it is. Expected outputs worked out by hand.
import { describe, expect, test } from "bun:test";
import { createMasker, maskedHead, maskSecret } from "../../src/observe/mask.ts";

const LONG = "ab12cd-client-key-0123456789"; // `ab` ends `\u00ab`
const NICE = "nk-client-key-0123456789"; // `n` ends `\n`
const SHORT = "ab12pw";
const MID = "ab12-client-pw"; // short (14), but with `\u00` before it as long as maskSecret shows partly
const EDGE = "ab12-client-pw16"; // exactly MIN_PARTIAL: shown partly
const BACKSLASHED = "nk\\u0041-client-key-0123"; // holds a backslash: its head as written would cut `\u0041`
const masker = createMasker([LONG, NICE, SHORT, MID, EDGE, BACKSLASHED]);

/** The masked message of `{"m":"<written>"}`, as written and as the client's decoder reads it. */
function masked(written: string): { out: string; read: string } {
  const out = masker.text(`{"m":"${written}"}`);
  return { out: out.slice(6, -2), read: (JSON.parse(out) as { m: string }).m };
}

describe("text(): a known secret behind an escape's start", () => {
  test("a long one shows the whole escape as its head, and no more of the secret than maskSecret shows", () => {
    const cases: [written: string, out: string, read: string][] = [
      ["\\u00ab12cd-client-key-0123456789", "\\u00ab…6789", "«…6789"],
      ["\\u000ab12cd-client-key-0123456789", "\\u000a…6789", "\n…6789"], // the longest start: `\u000`
      ["\\u0ab12cd-client-key-0123456789", "\\u0ab1…6789", "\u0ab1…6789"],
      ["\\uab12cd-client-key-0123456789", "\\uab12…6789", "\uab12…6789"],
      ["x\\nk-client-key-0123456789 y", "x\\nk-cl…6789 y", "x\nk-cl…6789 y"],
      ["\\u00AB12CD-CLIENT-KEY-0123456789", "\\u00AB…6789", "«…6789"], // another letter case, kept as written
    ];
    for (const [written, out, read] of cases) expect([written, masked(written)]).toEqual([written, { out, read }]);
    expect(maskSecret(LONG)).toBe("ab12cd…6789");
  });

  test("one shorter than MIN_PARTIAL, or holding a backslash, becomes `***`: the escape's start too, nothing around it", () => {
    const cases: [written: string, out: string][] = [
      ["\\u00ab12pw", "***"],
      ["<\\u00ab12-client-pw>", "<***>"], // 14 characters, 18 with `\u00`: still `***` (maskSecret(MID) is)
      ["x\\u000ab12-client-pw", "x***"],
      ["\\u00ab12-client-pw16", "\\u00ab…pw16"], // 16: partly, as maskSecret shows it
      ["x\\nk\\u0041-client-key-0123 y", "x*** y"], // not `\nk\u0…0123`, no JSON
    ];
    for (const [written, out] of cases) expect([written, masked(written).out]).toEqual([written, out]);
    expect([maskSecret(MID), maskSecret(EDGE)]).toEqual(["***", "ab12-c…pw16"]);
  });

  test("an escaped backslash before a secret is no escape of it: kept as written, the secret masked after it", () => {
    const cases: [written: string, out: string, read: string][] = [
      ["\\\\ab12cd-client-key-0123456789", "\\\\ab12cd…6789", "\\ab12cd…6789"], // the view reads it, and masks it
      ["\\\\\\u00ab12cd-client-key-0123456789", "\\\\\\u00ab…6789", "\\«…6789"], // `\\` then an escape that hides `ab`
      ["\\\\\\u00ab12pw", "\\\\***", "\\***"],
      ["\\\\u00ab12cd-client-key-0123456789", "\\\\u00ab12cd…6789", "\\u00ab12cd…6789"], // no escape at all: the view reads the secret
      ["\\\\ab12pw", "\\\\***", "\\***"],
    ];
    for (const [written, out, read] of cases) expect([written, masked(written)]).toEqual([written, { out, read }]);
    // At the text's very start: the backslashes before are counted to the first character.
    expect(masker.text("\\\\\\u00ab12pw")).toBe("\\\\***");
  });

  test("several on one line, escaped and not, in any order: each masked once, what is between them as written", () => {
    const cases: [written: string, out: string][] = [
      [
        "\\u00ab12cd-client-key-0123456789, ab12cd-client-key-0123456789 and x\\nk-client-key-0123456789 \\\"q\\\"",
        "\\u00ab…6789, ab12cd…6789 and x\\nk-cl…6789 \\\"q\\\"",
      ],
      ["ab12cd-client-key-0123456789\\u00ab12pw\\u00ab12cd-client-key-0123456789", "ab12cd…6789***\\u00ab…6789"],
      ["\\u00ab12pwab12pw\\nk-client-key-0123456789", "******\\nk-cl…6789"],
    ];
    for (const [written, out] of cases) expect([written, masked(written).out]).toEqual([written, out]);
  });

  test("a known secret that is the head of another, where that other is masked: the mask stays as a text without a backslash gets it", () => {
    const m = createMasker([LONG, LONG.slice(0, 6)]);
    const plain = `key ${LONG} (${LONG.slice(0, 6)})`;
    expect(m.text(plain)).toBe("key ab12cd…6789 (***)");
    // A backslash elsewhere, or an escaped one right before: the `ab12cd` of `ab12cd…` is no secret a log shows.
    expect(m.text(`${plain} \\n`)).toBe("key ab12cd…6789 (***) \\n");
    expect(m.text(`"\\\\${LONG}"`)).toBe('"\\\\ab12cd…6789"');
    expect(m.text(`"\\\\\\\\${LONG}"`)).toBe('"\\\\\\\\ab12cd…6789"');
    expect(m.text(`C:\\x${LONG}`)).toBe("C:\\xab12cd…6789"); // `\x` is no escape: the view reads it, and masks it
  });
});

test("a known secret whose own backslash, as written, begins an escape with what follows (`…key\\` + `n`): the view misses it, it is masked `***`, and a secret after it too", () => {
  const m = createMasker(["pw-0123456789abcdef\\", "pw2-0123456789abcdef\\u00", "pw3-0123456789abcdef\\u", NICE, LONG]);
  const cases: [text: string, out: string][] = [
    ['{"m":"pw-0123456789abcdef\\u0041"}', '{"m":"***u0041"}'],
    ["x pw-0123456789abcdef\\n y", "x ***n y"],
    ["x pw2-0123456789abcdef\\u0041 y", "x ***41 y"],
    ["x pw-0123456789abcdef\\ y", "x pw-012…def\\ y"], // no escape: the view reads it, and masks it
    // The escape that hid the next secret's start went with this one's `***`: that one as plain text shows it.
    ["x pw-0123456789abcdef\\nk-client-key-0123456789 y", "x ***nk-cli…6789 y"],
    ["x pw3-0123456789abcdef\\u00ab12cd-client-key-0123456789 y", "x ***00ab12cd…6789 y"],
  ];
  for (const [text, out] of cases) {
    expect([text, m.text(text)]).toEqual([text, out]);
    for (let k = 1; k < text.length; k++) {
      const p = m.pieces();
      expect([text, k, p.push(text.slice(0, k)) + p.push(text.slice(k)) + p.end()]).toEqual([text, k, out]);
    }
  }
});

describe("an escape cut where the text comes in pieces", () => {
  const line = '{"m":"x \\u00ab12cd-client-key-0123456789 y\\u000ab12pw z\\nk-client-key-0123456789 \\\\ab12pw"}';
  const whole = '{"m":"x \\u00ab…6789 y*** z\\nk-cl…6789 \\\\***"}';

  test("pieces(): cut anywhere, inside an escape or a secret, the same as text() of the whole", () => {
    expect(masker.text(line)).toBe(whole);
    for (let k = 1; k < line.length; k++) {
      const p = masker.pieces();
      expect([k, p.push(line.slice(0, k)) + p.push(line.slice(k)) + p.end()]).toEqual([k, whole]);
    }
  });

  test("maskedHead: its steps cutting the escape anywhere, the head is what text() of the whole begins with", () => {
    const step = 4096; // mask.ts HEAD_STEP
    for (let shift = 0; shift < 36; shift++) {
      // The first step ends `shift - 2` characters before the secret's end: in `\u00`, in the secret, at its edges.
      const pad = "w ".repeat(step).slice(0, step - 34 + shift);
      const rest = ` tail ${"z".repeat(step)}`;
      const n = pad.length + 40;
      expect([shift, maskedHead(masker, `${pad}\\u00ab12cd-client-key-0123456789${rest}`, n)]).toEqual([shift, `${pad}\\u00ab…6789${rest}`.slice(0, n)]);
    }
  });
});
