// A seeded property test of masking escaped secrets (mask.ts maskEscaped, json-view.ts,
// mask-pieces.ts viewCut): random texts, known secrets and token shapes inserted in random escape
// styles, beside escapes at every boundary (the text's start and end, `\u` without hex, surrogate
// pairs, a lone backslash). Whatever the writing: the decoded text holds no secret, valid JSON stays
// valid, and pieces() at random cuts gives what text() gives of the whole.
import { describe, expect, test } from "bun:test";
import { viewed } from "../../src/observe/json-view.ts";
import { createMasker, maskedHead } from "../../src/observe/mask.ts";
import { jsonDecoded } from "../helpers/json-escapes.ts";
import { seededRandom } from "../helpers/policy.ts";

const KNOWN = ["sk-ant-api03-KnownProviderKey0123456789abcdefXYZ", "relay&pass<word>-0123456789", "pass-🌍-0123456789abcdef", 'pass "quoted" word-0123456789', "n0tice-client-key-0123456789", "ab12cd-client-key-0123456789", "ab12pw", "nk-short-pw"];
const SHAPES = ["sk-ant-api03-UnknownShapeKey9876543210zyxwvu", "1//0gRefreshTokenAbCdEfGhIjKlMnOp", "AIzaSyUnknownGoogleKey0123456789abcdef", "ya29.a0UnknownAccessToken0123456789"];
const SECRETS = [...KNOWN, ...SHAPES];
const masker = createMasker(KNOWN);
const holds = (text: string, secret: string) => text.toLowerCase().includes(secret.toLowerCase());

/** Plain text around the secrets: escapes' neighbours at every boundary. */
const FILLER = ["abc", " ", "\n", '"', "\\", "/", "é", "🌍", "\ud83d", "\u0000", "u00", "x", "Bearer ", ". "];
/** What may stand right before a token shape (its `\b`): no word character. */
const SEPARATORS = [" ", "\n", '"', "/", "("];

/** `s` written as a JSON string's inside, each character in a random one of the ways JSON allows. */
function written(s: string, rand: () => number): string {
  let out = "";
  for (const ch of s) {
    // A surrogate pair as written, or each of its units on its own.
    if (ch.length === 2 && rand() < 0.5) {
      out += ch;
      continue;
    }
    for (let i = 0; i < ch.length; i++) {
      const unit = ch[i]!;
      const hex = unit.charCodeAt(0).toString(16).padStart(4, "0");
      const r = rand();
      if (r < 0.15) out += `\\u${hex}`;
      else if (r < 0.2) out += `\\u${hex.toUpperCase()}`;
      else if (r < 0.3 && unit === "/") out += "\\/";
      else out += JSON.stringify(unit).slice(1, -1);
    }
  }
  return out;
}

/** A random text: filler and secrets, the secrets at the start, the end or between separators. */
function randomText(rand: () => number): { plain: string; secrets: string[] } {
  let plain = "";
  const secrets: string[] = [];
  for (let n = 1 + Math.floor(rand() * 8); n > 0; n--) {
    if (rand() < 0.4) {
      const secret = SECRETS[Math.floor(rand() * SECRETS.length)]!;
      secrets.push(secret);
      plain += SEPARATORS[Math.floor(rand() * SEPARATORS.length)]! + secret + SEPARATORS[Math.floor(rand() * SEPARATORS.length)]!;
    } else plain += FILLER[Math.floor(rand() * FILLER.length)]!;
  }
  return { plain, secrets };
}

describe("masking escaped secrets, seeded", () => {
  test("a JSON string of random text and secrets, in random escape styles: valid JSON after masking, no secret decoded, pieces() as text()", () => {
    const rand = seededRandom(9);
    for (let t = 0; t < 3000; t++) {
      const { plain, secrets } = randomText(rand);
      const json = `"${written(plain, rand)}"`;
      expect(JSON.parse(json)).toBe(plain);
      const out = masker.text(json);
      let decoded: string;
      try {
        decoded = JSON.parse(out) as string;
      } catch {
        throw new Error(`masked JSON no longer valid: ${json} → ${out}`);
      }
      for (const s of secrets) expect([json, s, holds(decoded, s)]).toEqual([json, s, false]);
      const k = 1 + Math.floor(rand() * (json.length - 1));
      const p = masker.pieces();
      expect([json, k, p.push(json.slice(0, k)) + p.push(json.slice(k)) + p.end()]).toEqual([json, k, out]);
      if (t % 20 === 0) {
        const q = masker.pieces();
        expect([json, [...json].map((ch) => q.push(ch)).join("") + q.end()]).toEqual([json, out]);
      }
    }
  });

  test("a text that is no JSON, a secret as written right after a backslash (which JSON would read as an escape): not in the masked text as written, nor decoded", () => {
    const rand = seededRandom(11);
    for (let t = 0; t < 1000; t++) {
      const secret = KNOWN[Math.floor(rand() * KNOWN.length)]!;
      const before = ["\\", "\\u00", "\\u0", "\\\\\\", "C:\\tmp\\", "x\\u12"][Math.floor(rand() * 6)]!;
      // Long enough around it for pieces() to cut before the end (what waits is a secret's length).
      const text = `${randomText(rand).plain}${before}${secret}${randomText(rand).plain}${"word ".repeat(12)}`;
      const out = masker.text(text);
      expect([text, holds(out, secret) || holds(jsonDecoded(out), secret)]).toEqual([text, false]);
      const k = 1 + Math.floor(rand() * (text.length - 1));
      const p = masker.pieces();
      expect([text, k, p.push(text.slice(0, k)) + p.push(text.slice(k)) + p.end()]).toEqual([text, k, out]);
    }
  });
});

test("a known secret as written whose first characters end an escape (`\\u00ab12…`, `\\nk-…`): masked as written, the JSON still valid", () => {
  for (const json of ['{"m":"\\u00ab12pw"}', '{"m":"x\\nk-short-pw"}', '{"m":"\\u0ab12pw"}', '{"m":"\\u00ab12cd-client-key-0123456789"}', '{"m":"\\\\\\nk-short-pw"}', '{"m":"\\\\ab12pw"}']) {
    const out = masker.text(json);
    expect([json, holds(out, "ab12pw") || holds(out, "nk-short-pw") || holds(out, "ab12cd-client-key-0123456789")]).toEqual([json, false]);
    expect([json, out, JSON.parse(out).m]).toEqual([json, out, JSON.parse(out).m]);
  }
});

describe("maskedHead: the start of a long text, masked as text() masks the whole", () => {
  test("random texts and cuts (seeded): the same characters as text(s).slice(0, n)", () => {
    const rand = seededRandom(13);
    for (let t = 0; t < 400; t++) {
      let s = "";
      while (s.length < 3000 * rand()) s += written(randomText(rand).plain, rand);
      const n = Math.floor(rand() * 600);
      expect([s, n, maskedHead(masker, s, n)]).toEqual([s, n, masker.text(s).slice(0, n)]);
    }
  });
  test("long known secrets back to back (JWTs in a relay's header): what the head shows holds no part of one cut", () => {
    const jwt = `eyJhbGciOiJIUzI1NiJ9.${"x".repeat(1000)}.sig0123456789`;
    const m = createMasker([jwt]);
    const s = `${jwt} `.repeat(8);
    const head = maskedHead(m, s, 256);
    expect(head).toBe(m.text(s).slice(0, 256));
    expect(head.includes("xxxxxxxx")).toBe(false);
  });
});

test("maskedHead of a MiB of escapes (an upstream's error, a client's model name) views some ten thousand characters, not the MiB", () => {
  const s = `{"error":{"message":"${"\\q\\u0041\\/".repeat(1 << 17)}"}}`;
  const before = viewed.chars;
  const head = maskedHead(masker, s, 500);
  expect(viewed.chars - before).toBeLessThan(s.length / 8);
  expect(head).toBe(masker.text(s).slice(0, 500));
});
