// Secrets never reach a log: client keys, instance keys, provider API keys, OAuth tokens. Known
// secrets (from the config: config-secrets.ts) are replaced wherever they appear; well-known token
// shapes (secret-shapes.ts) are masked even when gw does not know them (an upstream echoing a key
// back in an error message) — however JSON escapes their characters (`\/`, `\u0026`,
// `\u0073k-…`: mask-escaped.ts): the client's decoder would make them whole again.

import type { Config } from "../config/types.ts";
import { secretsOf } from "./config-secrets.ts";
import { jsonView } from "./json-view.ts";
import { maskEscaped, VIEW_PASSES, wholeMatch } from "./mask-escaped.ts";
import { type PieceMask, pieceMasker } from "./mask-pieces.ts";
import { decodeSafe, KEY_PARAM, MIN_PARTIAL, TOKEN_SHAPES, URL_USERINFO } from "./secret-shapes.ts";

/** `sk-ant-api03-abcdef…` → `sk-ant…cdef`; short values become `***`. */
export function maskSecret(s: string): string {
  if (!s) return s;
  return s.length < MIN_PARTIAL ? "***" : `${s.slice(0, 6)}…${s.slice(-4)}`;
}

export interface Masker {
  /** Free text (error previews, reasons): known secrets and token shapes masked, written plainly or JSON-escaped. */
  text(s: string): string;
  /** A header map for the log: credential headers masked, any known secret masked. */
  headers(h: Headers | Readonly<Record<string, string>>): Record<string, string>;
  /** A URL or path: `key=` query values masked, plus text(). */
  url(u: string): string;
  /** A text that comes in pieces (an error too large to hold whole) masked as text() masks it whole, whatever the cuts. */
  pieces(): PieceMask;
}

/** A masker that also knows the given secrets (e.g. `secretsOf(config)`); rebuild it on reload. */
export function createMasker(secrets: readonly string[] = []): Masker {
  // Longest first, so a secret that contains another is masked whole. A secret with a backslash
  // is looked for as a JSON decoder reads it too: a text that holds a backslash is matched on its
  // decoded view, where the secret written as is (not JSON-escaped) reads so.
  const known = [...new Set(secrets.flatMap(asWrittenAndRead).flatMap(encodedForms))].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  // In any letter case: error texts get lower-cased on their way to the log, and a copy in
  // another case still gives a key away (its case variants are few enough to try).
  const knownRe = known.length ? new RegExp(known.map(escapeRe).join("|"), "gi") : undefined;
  const escapedPasses = knownRe ? [[knownRe, wholeMatch] as const, ...VIEW_PASSES] : VIEW_PASSES;
  const text = (s: string): string => {
    if (s.indexOf("\\") !== -1) {
      // And as written: an escape may read a known secret's first character otherwise (`\relay…`,
      // `\u00ab12…`), a log's reader does not.
      const out = maskEscaped(s, escapedPasses);
      return knownRe ? maskWrittenKnown(out, knownRe) : out;
    }
    const out = knownRe ? s.replace(knownRe, maskSecret) : s;
    return out.replace(TOKEN_SHAPES, maskTokenShape).replace(URL_USERINFO, maskUserinfo);
  };
  return {
    text,
    headers(h) {
      const out: Record<string, string> = {};
      const entries = h instanceof Headers ? h.entries() : Object.entries(h);
      for (const [name, value] of entries) {
        const lower = name.toLowerCase();
        out[lower] = CREDENTIAL_HEADERS.has(lower) ? maskCredential(value) : text(value);
      }
      return out;
    },
    url: (u) => text(u.replace(KEY_PARAM, maskKeyParam)),
    pieces: pieceMasker(text, knownRe, known[0]?.length ?? 0),
  };
}

/**
 * text(s).slice(0, chars), masking only as much of `s` as those characters need (pieces(): masking
 * a long text whole costs ~30 ms a MiB with backslashes). Cutting `s` first instead could cut a
 * secret, whose rest would then show unmasked.
 */
export function maskedHead(masker: Masker, s: string, chars: number): string {
  if (s.length <= chars) return masker.text(s).slice(0, chars);
  const p = masker.pieces();
  let out = "";
  for (let i = 0; out.length < chars && i < s.length; i += HEAD_STEP) out += p.push(s.slice(i, i + HEAD_STEP));
  if (out.length < chars) out += p.end();
  return out.slice(0, chars);
}

/** What maskedHead hands pieces() at a time. */
const HEAD_STEP = 4096;

interface LogLike {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  record?(message: string): void;
}

/** `log` with every line masked by the masker current at the time (it follows reloads). */
export function maskedLog<L extends LogLike>(log: L, masker: () => Masker): L {
  return {
    ...log,
    info: (m: string) => log.info(masker().text(m)),
    warn: (m: string) => log.warn(masker().text(m)),
    error: (m: string) => log.error(masker().text(m)),
    ...(log.record ? { record: (m: string) => log.record!(masker().text(m)) } : {}),
  };
}

const byConfig = new WeakMap<Config, Masker>();

/** The masker of one config's secrets, built once per config (a reload brings a new one). */
export function maskerOf(config: Config): Masker {
  let m = byConfig.get(config);
  if (!m) byConfig.set(config, (m = createMasker(secretsOf(config))));
  return m;
}

/** Masker knowing only token shapes, for code that has no config at hand. */
export const maskText = (s: string): string => defaultMasker().text(s);

/**
 * A copy of plain data (what a status answer or report is made of) with every string passed
 * through `text`: whatever a field holds, and whatever fields are added later, is masked.
 */
export function maskDeep<T>(v: T, text: (s: string) => string): T {
  if (typeof v === "string") return text(v) as T;
  if (Array.isArray(v)) return v.map((x) => maskDeep(x, text)) as T;
  if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = maskDeep(x, text);
    return out as T;
  }
  return v;
}

// --- internal ---

const CREDENTIAL_HEADERS = new Set([
  "authorization",
  "proxy-authorization",
  "x-api-key",
  "x-goog-api-key",
  "api-key",
  "cookie",
  "set-cookie",
  "x-admin-key",
]);

// The replacers are module functions, not arrows inside text(): it runs several times per request,
// and each arrow would be a new function object for the collector (bench/README.md).
function maskTokenShape(m: string, bearer: string | undefined, tok: string | undefined): string {
  return bearer && tok ? `${bearer}${maskSecret(tok)}` : maskSecret(m);
}

function maskUserinfo(_m: string, scheme: string, info: string): string {
  return `${scheme}${maskSecret(info)}@`;
}

function maskKeyParam(_m: string, pre: string, v: string): string {
  return `${pre}${maskSecret(decodeSafe(v))}`;
}

/**
 * Known secrets `re` finds in `s` as written: those an escape hid from maskEscaped's view, whose
 * first characters end it (`\u00ab12…`, `\nk-…`). Masked with that escape's start, which alone
 * would break a JSON string (`\u00***`): the head shown holds the whole escape (at most 6
 * characters), a short secret or one with a backslash becomes `***`, escape and all. So does one
 * whose own backslash ends it in an escape with what follows (`…key\` + `u0041`): the view read it otherwise.
 */
function maskWrittenKnown(s: string, re: RegExp): string {
  let out = "";
  let from = 0;
  re.lastIndex = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const secret = m[0];
    const escape = escapeStart(s, m.index);
    // One no escape hid was in the view, and is masked (what matches here is in its head: `sk-a` of `sk-ant…`) —
    // unless it holds a backslash, which what follows it may have read into an escape (`…key\` + `n`).
    if (escape === m.index && secret.indexOf("\\") === -1) continue;
    // An escape begun in the secret before it went with that one's `***`: this one is as plain text shows it.
    const start = escape < from ? m.index : escape;
    const shown = secret.length < MIN_PARTIAL || secret.indexOf("\\") !== -1 ? "***" : maskSecret(s.slice(start, m.index + secret.length));
    out += s.slice(from, start) + shown;
    from = m.index + secret.length;
  }
  return from === 0 ? s : out + s.slice(from);
}

/** Where an escape begins that position `i` of `s` ends as written (`\`, `\u`, `\u0`…`\u000` right before it); `i` when none. */
function escapeStart(s: string, i: number): number {
  for (let j = i - 1; j >= 0 && j >= i - 5; j--) {
    if (s.charCodeAt(j) !== BACKSLASH) continue;
    const prefix = s.slice(j + 1, i);
    return (prefix === "" || ESCAPE_PREFIX.test(prefix)) && unescaped(s, j) ? j : i;
  }
  return i;
}

/** What may follow a backslash in an escape cut short: `u` and up to three hex digits. */
const ESCAPE_PREFIX = /^u[0-9a-fA-F]{0,3}$/;
const BACKSLASH = 92;

/** Whether the backslash at `j` begins an escape: an even number of backslashes before it. */
function unescaped(s: string, j: number): boolean {
  let k = j;
  while (k > 0 && s.charCodeAt(k - 1) === BACKSLASH) k--;
  return (j - k) % 2 === 0;
}

/** A secret, and how a JSON decoder reads it when it holds a backslash. */
function asWrittenAndRead(s: string): string[] {
  return s.indexOf("\\") === -1 ? [s] : [s, jsonView(s).text];
}

/**
 * A secret as an upstream may echo what it was sent: as is, percent-encoded (a key with `+ / =`
 * quoted in a URL), and inside base64 (a header echoed encoded, `Bearer KEY` and all).
 */
function encodedForms(s: string): string[] {
  const pct = encodeURIComponent(s);
  return [s, ...(pct === s ? [] : [pct]), ...(s.length >= BASE64_MIN ? base64Cores(s) : [])];
}

/** Shorter secrets would leave base64 runs short enough to turn up by chance. */
const BASE64_MIN = 16;

/**
 * What any base64 of a text holding `s` contains, whatever comes before and after it: at each of
 * the three byte alignments, the characters `s`'s bytes alone decide (a group shared with
 * neighbouring bytes is left out), in the standard and the URL-safe alphabet.
 */
function base64Cores(s: string): string[] {
  const bytes = Buffer.from(s);
  const out: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString("base64");
    const core = encoded.slice(shift ? 4 : 0, Math.floor((shift + bytes.length) / 3) * 4);
    out.push(core, core.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return out;
}

/** Made at the first use: building its patterns cost ~3 ms of every command that imports this file. */
let fallback: Masker | undefined;
const defaultMasker = () => (fallback ??= createMasker());

/** `Bearer abc…` keeps its scheme; cookies are masked whole. */
function maskCredential(v: string): string {
  const m = /^(\w+)\s+(.+)$/.exec(v);
  return m && /^(bearer|basic|token)$/i.test(m[1]!) ? `${m[1]} ${maskSecret(m[2]!)}` : maskSecret(v);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
