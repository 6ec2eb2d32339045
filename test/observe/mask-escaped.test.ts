// Secrets written with JSON escapes: an upstream's error body may write any character of a key
// escaped (`\/`, Go's `\u0026`, `\u0073k-ant-…`), and the client's JSON decoder makes it whole
// again. text() and pieces() mask it as they mask the key written plainly.
import { describe, expect, test } from "bun:test";
import { viewed } from "../../src/observe/json-view.ts";
import { createMasker, maskSecret } from "../../src/observe/mask.ts";
import { escapedUnit, everyUnitEscaped } from "../helpers/json-escapes.ts";
import { seededRandom } from "../helpers/policy.ts";

const KEY = "sk-ant-api03-KnownProviderKey0123456789abcdefXYZ";
const AMP = "relay&pass<word>-0123456789"; // what Go's encoder writes `\u0026`, `\u003c`, `\u003e`
const EMOJI = "pass-🌍-0123456789abcdef"; // a surrogate pair inside
const QUOTED = 'pass "quoted" word-0123456789'; // JSON writes its quotes `\"`
// Shapes gw cannot know: masked by their look (mask.ts TOKEN_SHAPES).
const SHAPE = "sk-ant-api03-UnknownShapeKey9876543210zyxwvu";
const REFRESH = "1//0gRefreshTokenAbCdEfGhIjKlMnOp";
const masker = createMasker([KEY, AMP, EMOJI, QUOTED]);

/** How JSON encoders write a string's characters: each a way some encoder (or a hostile upstream) does. */
const WRITINGS: Record<string, (s: string) => string> = {
  "every character \\u": everyUnitEscaped,
  "upper-case hex": (s) => s.split("").map((c) => escapedUnit(c).toUpperCase().replace("\\U", "\\u")).join(""),
  "slashes \\/ (PHP)": (s) => s.replaceAll("/", "\\/"),
  "&<> as \\u (Go)": (s) => s.replace(/[&<>]/g, escapedUnit),
  "only the first": (s) => escapedUnit(s[0]!) + s.slice(1),
  "only the last": (s) => s.slice(0, -1) + escapedUnit(s.at(-1)!),
  "every other": (s) => s.split("").map((c, i) => (i % 2 ? escapedUnit(c) : c)).join(""),
  "non-ASCII as \\u": (s) => s.replace(/[^\x20-\x7e]/g, escapedUnit),
};
const body = (written: string) => `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key ${written}; see \\"docs\\"\\n"}}`;
const holds = (text: string, secret: string) => text.toLowerCase().includes(secret.toLowerCase());

describe("text(): a secret written with JSON escapes", () => {
  test("known secrets and token shapes, however their characters are escaped: the decoded text holds the mask, not the secret; the JSON stays valid", () => {
    for (const secret of [KEY, AMP, EMOJI, SHAPE, REFRESH]) {
      for (const [how, write] of Object.entries(WRITINGS)) {
        const written = write(secret);
        const out = masker.text(body(written));
        const message = (JSON.parse(out) as { error: { message: string } }).error.message;
        expect([secret, how, holds(message, secret)]).toEqual([secret, how, false]);
        expect([secret, how, message]).toEqual([secret, how, `invalid x-api-key ${maskSecret(secret)}; see "docs"\n`]);
        // What is not the secret stays as written: its escapes too.
        expect(out.replace(/invalid x-api-key .*; see/, "")).toBe(body(written).replace(/invalid x-api-key .*; see/, ""));
      }
    }
  });
  test("the head and tail it shows are as they were written: escapes stay escapes", () => {
    expect(masker.text(`"key \\u0073k-ant-api03-KnownProviderKey0123456789abcdefXY\\u005a"`)).toBe(`"key \\u0073k-ant…fXY\\u005a"`);
    expect(masker.text(`"tok ${REFRESH.replaceAll("/", "\\/")} end"`)).toBe(`"tok 1\\/\\/0gR…MnOp end"`);
  });
  test("Bearer, URL userinfo and a known secret in another letter case, escaped", () => {
    const out = masker.text(`{"m":"got Bearer\\u0020abcdefghijkl.mnop and https:\\/\\/user:hunter2-password@relay and ${escapedUnit("S")}K-ANT-API03-knownproviderkey0123456789ABCDEFxyz"}`);
    const m = (JSON.parse(out) as { m: string }).m;
    expect(m).toBe(`got Bearer ${maskSecret("abcdefghijkl.mnop")} and https://${maskSecret("user:hunter2-password")}@relay and SK-ANT…Fxyz`);
  });
  test("a token right after a newline written `\\n` is found (as written, `\\nsk-…` has no word boundary before `sk-`)", () => {
    const out = masker.text(`{"m":"line\\n${SHAPE}"}`);
    expect(holds(JSON.parse(out).m, SHAPE)).toBe(false);
  });
  test("what is no JSON escape, or escapes the backslash, is left as written", () => {
    for (const text of [
      `{"m":"\\\\u0073k-ant-api03-UnknownShapeKey9876543210zyxwvu"}`, // an escaped backslash: the decoder reads `\u0073k…`, no key
      String.raw`\x73k-ant-api03-UnknownShapeKey9876543210zyxwvu`,
      String.raw`C:\path\to\file and a lone \ and \u12zz`,
      String.raw`{"m":"caf\u00e9 \"quoted\" line\nnext\ud83c\udf0d"}`,
      "ends with a backslash \\",
    ]) {
      expect(masker.text(text)).toBe(text);
    }
  });
  test("a configured secret that holds a backslash is found as written, in a text with other escapes", () => {
    const m = createMasker(["relay\\npass-0123456789", "abc\\xyz-0123456789abc"]);
    expect(m.text(String.raw`plain relay\npass-0123456789 and abc\xyz-0123456789abc, "q\"`)).toBe('plain relay\\n…6789 and abc\\xy…9abc, "q\\"'); // (not String.raw: Bun's transpiler writes its … as \u2026)
    expect(m.text(`{"m":${JSON.stringify("relay\\npass-0123456789")}}`)).toBe('{"m":"relay\\\\…6789"}');
  });
});

describe("pieces(): escaped secrets across the cuts", () => {
  // Words that put escapes, escaped secrets and cut-short escapes side by side.
  const words = [
    ...[KEY, AMP, EMOJI, SHAPE, REFRESH].flatMap((s) => Object.values(WRITINGS).map((w) => w(s))),
    KEY,
    "\\",
    "\\\\",
    "\\u",
    "\\u00",
    "\\x",
    '\\"',
    "\\/",
    "\\n",
    "\\u0020",
    "Bearer",
    "Bearer\\n ",
    "https:\\/\\/",
    "u:p@",
    "\\ud83c",
    "\\udf0d",
    '"',
    " ",
    "abcdefghij",
    "é🌍",
  ];
  test("any text, any cuts (seeded): the same characters as text() of the whole", () => {
    const rand = seededRandom(17);
    for (let t = 0; t < 1500; t++) {
      let text = "";
      for (let n = Math.floor(rand() * 12); n > 0; n--) text += words[Math.floor(rand() * words.length)];
      if (text.length < 2) continue;
      const whole = masker.text(text);
      const cutsAt = [1 + Math.floor(rand() * (text.length - 1)), Math.floor(text.length / 2)];
      for (const k of cutsAt) {
        const p = masker.pieces();
        expect([text, k, p.push(text.slice(0, k)) + p.push(text.slice(k)) + p.end()]).toEqual([text, k, whole]);
      }
      if (t % 10 === 0) {
        const p = masker.pieces();
        expect([text, text.split("").map((ch) => p.push(ch)).join("") + p.end()]).toEqual([text, whole]);
      }
    }
  });
  test("a secret cut anywhere, however written — six characters for each, or its quotes and spaces escaped (safe points as written, not as read) — is masked", () => {
    const writings: [secret: string, written: string][] = [
      [KEY, WRITINGS["every character \\u"]!(KEY)],
      [AMP, WRITINGS["every other"]!(AMP)], // `<` as written, `&` escaped
      [QUOTED, JSON.stringify(QUOTED).slice(1, -1)], // `\"`: a quote where the secret goes on
      ["Bearer\n  abcdefghijkl.mnop", String.raw`Bearer\n  abcdefghijkl.mnop`], // a space as written after `Bearer` as read
    ];
    for (const [secret, written] of writings) {
      const text = `{"error":{"message":"bad key ${written}"}}`;
      for (let k = 1; k < text.length; k++) {
        const p = masker.pieces();
        const out = p.push(text.slice(0, k)) + p.push(text.slice(k)) + p.end();
        expect([secret, k, holds(JSON.parse(out).error.message, secret.slice(-12))]).toEqual([secret, k, false]);
      }
    }
  });
});

describe("cost: linear in the text", () => {
  test("2 MiB of escapes and escaped keys: each character viewed a bounded number of times, text() and pieces() alike", () => {
    const unit = `${WRITINGS["every other"]!(KEY)} \\"x\\" \\n \\u00e9 \\/ `;
    const text = `{"error":{"message":"${unit.repeat(Math.ceil((2 << 20) / unit.length))}"}}`;
    const started = performance.now();
    let before = viewed.chars;
    const whole = masker.text(text);
    // Once to view, once more after each pass that masked something.
    expect(viewed.chars - before).toBeLessThanOrEqual(4 * text.length);
    for (const size of [1 << 16, 1 << 10]) {
      before = viewed.chars;
      const p = masker.pieces();
      let out = "";
      for (let i = 0; i < text.length; i += size) out += p.push(text.slice(i, i + size));
      out += p.end();
      expect(out === whole).toBe(true);
      // Each piece viewed to find its cut, what goes out viewed by text(): what waits is a few hundred characters.
      expect(viewed.chars - before).toBeLessThanOrEqual(6 * text.length);
    }
    expect(holds(whole, KEY)).toBe(false);
    // A guard against a quadratic rescan, not a speed figure (about 0.3 s here).
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});
