// Secrets never reach a log: client keys, instance keys, provider API keys, OAuth tokens. Known
// secrets (from the config) are replaced wherever they appear; well-known token shapes are
// masked even when gw does not know them (an upstream echoing a key back in an error message) —
// however JSON escapes their characters (`\/`, `\u0026`, `\u0073k-…`): the client's decoder would
// make them whole again.

import type { Config } from "../config/types.ts";
import { jsonView, type JsonView } from "./json-view.ts";
import { type PieceMask, pieceMasker } from "./mask-pieces.ts";

const MIN_PARTIAL = 16; // shorter secrets would be half revealed by first 6 … last 4

/** `sk-ant-api03-abcdef…` → `sk-ant…cdef`; short values become `***`. */
export function maskSecret(s: string): string {
  if (!s) return s;
  return s.length < MIN_PARTIAL ? "***" : `${s.slice(0, 6)}…${s.slice(-4)}`;
}

/**
 * Every secret the config holds: client, admin, instance and provider keys, the credentials
 * written into URLs (`https://user:password@relay`, a proxy's `http://user:pass@host:3128`, a
 * shared state's `rediss://default:pass@cache`, a relay's `?key=…`), and what a route's
 * extra_headers send as a credential (`X-Relay-Token`, `Authorization`).
 */
export function secretsOf(config: Config): string[] {
  const out = new Set<string>([...config.global.apiKeys, config.global.adminKey]);
  const urls = [config.global.proxy];
  for (const inst of config.instances) {
    out.add(inst.apiKey);
    urls.push(inst.baseUrl, inst.proxy);
    for (const p of inst.providers) {
      for (const k of p.apiKeys) out.add(k);
      urls.push(p.baseUrl);
    }
  }
  if (config.global.state.kind === "redis") urls.push(config.global.state.url);
  for (const u of urls) for (const part of urlSecrets(u)) out.add(part);
  for (const route of config.routes.values()) {
    for (const t of route.targets) {
      for (const [name, value] of Object.entries(t.params.extraHeaders)) {
        if (CREDENTIAL_NAME.test(name)) for (const part of credentialParts(value)) out.add(part);
      }
    }
  }
  out.delete("");
  return [...out];
}

/** The credentials a URL carries: its userinfo's secret and its credential query values. */
export function urlSecrets(url: string | undefined): string[] {
  return url ? [...userinfoOf(url), ...queryKeysOf(url)] : [];
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
  const known = [...new Set(secrets.flatMap(asWrittenAndRead))].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
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

/**
 * Shapes of credentials worth masking even when unknown: `Bearer <tok>`, OpenAI/Anthropic `sk-…`,
 * Google API keys `AIza…`, Google OAuth access tokens `ya29.…`, refresh tokens `1//…`, JWTs —
 * in any letter case, since error texts reach the log lower-cased (lb/classify.ts errorText).
 */
const TOKEN_SHAPES =
  /(\bBearer\s+)([A-Za-z0-9._~+/=-]{8,})|\bsk-[A-Za-z0-9_-]{16,}|\bAIza[0-9A-Za-z_-]{30,}|\bya29\.[0-9A-Za-z_-]{16,}|\b1\/\/[0-9A-Za-z_-]{20,}|\beyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}/gi;

const KEY_PARAM = /([?&](?:key|api_key|apikey|access_token|auth_token)=)([^&#\s]*)/gi;

/** Credentials inside a URL: `scheme://user:password@host` (or a token as the user). */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@"'<>]+)@/gi;

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
 * text() of a text that holds a backslash: JSON may write any character of a secret escaped
 * (`1\/\/…`, `\u0073k-ant-…`), and the client's decoder makes it whole again. Each pattern is
 * matched on the text as a JSON decoder reads it (json-view.ts), and the part of a match that is
 * the secret replaced in the text as written — what stays, and the head and tail shown of the
 * secret, as written (escapes and all: a JSON string stays one).
 */
function maskEscaped(s: string, passes: readonly ViewPass[]): string {
  let out = s;
  let view = jsonView(s);
  for (const [re, part] of passes) {
    const next = maskInView(out, view, re, part);
    if (next !== out) view = jsonView((out = next));
  }
  return out;
}

/** Where the secret is in a match (view offsets): the part masked; the rest of the match stays. */
type SecretPart = (m: RegExpExecArray) => readonly [number, number];

const wholeMatch: SecretPart = (m) => [m.index, m.index + m[0].length];

type ViewPass = readonly [RegExp, SecretPart];

/** After the known secrets: maskTokenShape's and maskUserinfo's choices, as parts of the match. */
const VIEW_PASSES: readonly ViewPass[] = [
  [TOKEN_SHAPES, (m) => (m[1] && m[2] ? [m.index + m[1].length, m.index + m[0].length] : wholeMatch(m))],
  [URL_USERINFO, (m) => [m.index + m[1]!.length, m.index + m[1]!.length + m[2]!.length]],
];

/** `raw` (seen as `view`) with the secret part of each match of `re` in the view masked as maskSecret masks it. */
function maskInView(raw: string, view: JsonView, re: RegExp, part: SecretPart): string {
  const { text, at } = view;
  let out = "";
  let from = 0;
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const [a, b] = part(m);
    const shown = b - a < MIN_PARTIAL ? "***" : `${raw.slice(at[a], at[a + 6])}…${raw.slice(at[b - 4], at[b])}`;
    out += raw.slice(from, at[a]) + shown;
    from = at[b]!;
  }
  return from === 0 ? raw : out + raw.slice(from);
}

/**
 * Known secrets `re` finds in `s` as written: those an escape hid from maskEscaped's view, whose
 * first characters end it (`\u00ab12…`, `\nk-…`). Masked with that escape's start, which alone
 * would break a JSON string (`\u00***`): the head shown holds the whole escape (at most 6
 * characters), a short secret or one with a backslash becomes `***`, escape and all.
 */
function maskWrittenKnown(s: string, re: RegExp): string {
  let out = "";
  let from = 0;
  re.lastIndex = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const secret = m[0];
    const start = escapeStart(s, m.index, from);
    // One no escape hid was in the view, and is masked (what matches here is in its head: `sk-a` of `sk-ant…`).
    if (start === m.index) continue;
    const shown = secret.length < MIN_PARTIAL || secret.indexOf("\\") !== -1 ? "***" : maskSecret(s.slice(start, m.index + secret.length));
    out += s.slice(from, start) + shown;
    from = m.index + secret.length;
  }
  return from === 0 ? s : out + s.slice(from);
}

/** Where an escape begins that position `i` of `s` ends as written (`\`, `\u`, `\u0`…`\u000` right before it); `i` when none, or it begins before `from`. */
function escapeStart(s: string, i: number, from: number): number {
  for (let j = i - 1; j >= from && j >= i - 5; j--) {
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

/** Made at the first use: building its patterns cost ~3 ms of every command that imports this file. */
let fallback: Masker | undefined;
const defaultMasker = () => (fallback ??= createMasker());

/** `Bearer abc…` keeps its scheme; cookies are masked whole. */
function maskCredential(v: string): string {
  const m = /^(\w+)\s+(.+)$/.exec(v);
  return m && /^(bearer|basic|token)$/i.test(m[1]!) ? `${m[1]} ${maskSecret(m[2]!)}` : maskSecret(v);
}

/**
 * The secret of a URL's userinfo, as written and percent-decoded: the password, or a user name
 * that stands alone (a token as user, `https://TOKEN@host`). A user name beside a password is a
 * name ("user", "admin"), not a secret, and masking it everywhere would garble ordinary text.
 */
function userinfoOf(url: string): string[] {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#@]+)@/i.exec(url);
  if (!m) return [];
  const info = m[1]!;
  const colon = info.indexOf(":");
  const secret = colon === -1 ? (info.length >= 8 ? info : "") : info.slice(colon + 1);
  return [secret, decodeSafe(secret)].filter((x) => x.length >= 4);
}

/** Header names whose values are credentials, beyond CREDENTIAL_HEADERS: `X-Relay-Token`, `X-Goog-User-Key`… */
const CREDENTIAL_NAME = /auth|key|token|secret|passw|cookie|session|signature|credential/i;

/** A credential header's value, and its token alone when it has a scheme (`Bearer abc`). */
function credentialParts(value: string): string[] {
  const m = /^(?:bearer|basic|token)\s+(\S+)$/i.exec(value.trim());
  return m ? [value, m[1]!] : [value];
}

/** Values of credential query parameters (KEY_PARAM's names) in a URL, as written and decoded. */
function queryKeysOf(url: string): string[] {
  const out: string[] = [];
  for (const m of url.matchAll(KEY_PARAM)) out.push(m[2]!, decodeSafe(m[2]!));
  return out.filter((x) => x.length >= 4);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function decodeSafe(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}
