// Intake: everything gw learns from a request before routing it. The body is read once (with a
// size limit) and parsed once; the dialect comes from the path, the model from the body or, for
// Gemini, from the path. Bad input is answered here, in the client's dialect.

import { isObject } from "../json/object.ts";
import { BYTES_PER_ELEMENT, type BodyHold, NO_BUDGET } from "./body-budget.ts";
import { type Dialect, dialectOf, errorResponse } from "./dialect.ts";
import { codingsOf, decode, isKnownCoding, isTooLarge, NoRoom } from "./encoding.ts";
import { jsonShape, type Member } from "./json-shape.ts";
import { FIELDS_A_REWRITE_READS } from "./rewrite.ts";

export interface Intake {
  readonly method: string;
  /** Path as forwarded: normalized by URL parsing, doubled `/v1/v1` folded, Gemini model calls under `/v1beta`. */
  readonly path: string;
  /** Query string as forwarded ("" or "?…"), without a client `key=`. */
  readonly search: string;
  readonly dialect: Dialect;
  /** Model the client asked for, if any. */
  readonly model: string | undefined;
  /** Gemini requests carry the model in the path: the parts around it, for the rewrite. */
  readonly geminiPath?: { readonly prefix: string; readonly action: string };
  /** Top-level members of the JSON body in its text (json-shape.ts), for in-place rewrites. */
  readonly members?: readonly Member[];
  /** Parsed JSON object body; undefined for bodiless or non-JSON requests. */
  readonly json: Record<string, unknown> | undefined;
  /** The body as received: text for JSON, bytes otherwise (forwarded as-is when nothing changes). */
  readonly raw: string | Uint8Array<ArrayBuffer> | undefined;
  /** Token counting: only the model and the headers are rewritten. */
  readonly countTokens: boolean;
  /** The client compressed the body (Content-Encoding); `raw` is decoded and goes upstream so. */
  readonly decoded?: boolean;
  /** What the rewrite reads of a JSON body once it is routed, in place of `json` (see `routed`). */
  readonly top?: Readonly<Record<string, unknown>>;
}

/**
 * An intake as its attempts and its record need it once the request is routed: without the parsed
 * body, which would otherwise live (and be marked by the collector, and promoted) as long as the
 * request — for Claude Code's 90 KB body ~700 values, where the bare relay keeps none across
 * the upstream's answer (bench/README.md). What a rewrite reads of it is kept in `top`: every
 * top-level key, with the value of those it may rewrite (rewrite.ts FIELDS_A_REWRITE_READS) and `true` for the rest.
 */
export type RoutedIntake = Omit<Intake, "json">;

export function routed(intake: Intake): RoutedIntake {
  const { json, ...rest } = intake;
  return json ? { ...rest, top: topOf(json) } : rest;
}

/** The body's top-level keys: the values a rewrite reads, `true` for the others (it only asks whether they are there). */
function topOf(json: Record<string, unknown>): Record<string, unknown> {
  const top: Record<string, unknown> = {};
  for (const key of Object.keys(json)) {
    const value = FIELDS_A_REWRITE_READS.has(key) ? json[key] : true;
    // A body's own "__proto__" is a key like any other (JSON.parse makes it one), not a prototype.
    if (key === "__proto__") Object.defineProperty(top, key, { value, enumerable: true, writable: true, configurable: true });
    else top[key] = value;
  }
  return top;
}

/** A Gemini call: its model (a route's name may hold `/` and `:`, which Google's SDKs send as they are) and, after the last `:`, the method. */
const GEMINI_MODEL_PATH = /^(\/v1[a-z0-9]*\/models\/)(.+):([A-Za-z]+)$/;
/** Model calls whose body must name the model (Gemini's name it in the path). */
const MODEL_CALLS = /^\/v1\/(?:messages(?:\/count_tokens)?|chat\/completions|completions|responses(?:\/compact)?)$/;
/** Where CLIProxyAPI serves the Gemini API, whichever version the client named. */
const GEMINI_PREFIX = "/v1beta/models/";

/**
 * Fold any run of `/v1/v1…` at the start into one `/v1` (clients that put /v1 in their base URL),
 * and doubled slashes into one (a base URL ending in `/` joined to `/chat/completions`: CLIProxyAPI's
 * router knows no `/v1//chat/completions`, and its 404 names nothing the client could mend).
 */
export function foldPath(pathname: string): string {
  const p = pathname.includes("//") ? singleSlashes(pathname) : pathname;
  return p.startsWith("/v1/v1") ? p.replace(/^(\/v1)+(?=\/|$)/, "/v1") : p;
}

/** Runs of slashes made one, up to a model's name in the path (a route's name may hold them: GEMINI_MODEL_PATH). */
function singleSlashes(p: string): string {
  const model = p.indexOf("/models/");
  if (model === -1) return p.replace(/\/{2,}/g, "/");
  return p.slice(0, model + 8).replace(/\/{2,}/g, "/") + p.slice(model + 8);
}

/** Query string to forward: the client's own key (`?key=`) is dropped, everything else kept. */
function forwardedSearch(url: URL): string {
  if (!url.search) return "";
  if (!url.searchParams.has("key")) return url.search;
  const q = new URLSearchParams(url.searchParams);
  q.delete("key");
  const s = q.toString();
  return s ? `?${s}` : "";
}

type BodyRead = Uint8Array<ArrayBuffer> | string | "too-large" | "no-memory" | "broken" | "undecodable";
const utf8 = new TextDecoder();

/**
 * Read the body with a byte limit, holding its bytes in the body budget as they come:
 * "too-large" beyond the limit, "no-memory" when the budget cannot take it, "broken" if the
 * client failed mid-body. JSON-typed bodies are read as text in one native step.
 */
function readBody(req: Request, limit: number, hold: BodyHold, asText: boolean): BodyRead | Promise<BodyRead> {
  const declared = req.headers.get("content-length");
  if (declared === null) return readChunked(req, limit, hold, asText);
  const n = Number(declared);
  if (n > limit) return "too-large";
  if (!hold.grow(n)) return "no-memory";
  // One native read, no async frame of ours around it.
  return (asText ? req.text() : req.bytes()).catch(broken);
}

const broken = (): BodyRead => "broken";

/** A chunked body, counted as it arrives so a client cannot make gw buffer more than the limit. */
async function readChunked(req: Request, limit: number, hold: BodyHold, asText: boolean): Promise<BodyRead> {
  const stream = req.body;
  if (stream === null) return asText ? "" : new Uint8Array(0);
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array<ArrayBuffer>>) {
      size += chunk.byteLength;
      if (size > limit) return "too-large";
      if (!hold.grow(chunk.byteLength)) return "no-memory";
      chunks.push(chunk);
    }
  } catch {
    return "broken";
  }
  const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  return asText ? utf8.decode(bytes) : bytes;
}

const JSONISH = /json/i;

/** Whether the body starts (after whitespace) with `{`: a JSON object, whatever its Content-Type says. */
function looksLikeJsonObject(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c === 0x7b) return true;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return false;
}

/**
 * Forms are what CLIProxyAPI's upload endpoints read (image edits, video creation, realtime
 * calls); everywhere else its handlers read the raw body as JSON, leniently (gjson finds a model
 * in `x{"model":…}`), so anything but a JSON object there would reach a model past the routes.
 */
const FORM_PATHS = /^\/(?:v1|openai\/v1)\/(?:images\/edits|videos|realtime|realtime\/calls|live)$/;
const FORM_TYPES = /^\s*(?:multipart\/form-data|application\/x-www-form-urlencoded)\s*(?:;|$)/i;

function isFormUpload(type: string | null, path: string): boolean {
  return type !== null && FORM_TYPES.test(type) && FORM_PATHS.test(path);
}

/** What limits the intake reads (Config.global.lb). */
interface IntakeLimits {
  readonly maxBodyBytes: number;
  readonly maxJsonDepth: number;
  readonly maxJsonElements: number;
}

/**
 * A request gw can route, or the error response that answers it. JSON is recognized by its
 * content: a body that starts as a JSON object is parsed, limited, routed and rewritten whatever
 * its Content-Type says (curl -d sends form-urlencoded; a text/plain JSON body must not slip past
 * the routes), and refused when it does not parse. Any other body is refused (415) unless it is a
 * form sent to an upload endpoint (FORM_PATHS), which passes as bytes, unrouted. The body's
 * memory is held in `hold`, which the caller releases.
 */
export async function readIntake(req: Request, url: URL, limits: IntakeLimits, hold: BodyHold = NO_BUDGET): Promise<Intake | Response> {
  const path = foldPath(url.pathname);
  const dialect = dialectOf(path, req.headers);

  // JSON bodies travel as text (parsed once, maybe spliced, sent as-is); others as bytes.
  const type = req.headers.get("content-type");
  const typedJson = type === null || JSONISH.test(type);
  const codings = codingsOf(req.headers.get("content-encoding"));
  let raw: Intake["raw"];
  // `req.body` is touched only for a chunked body: it makes Bun build a stream object that text()
  // does not need (and a body already in memory is then read through it: bench/README.md).
  if (req.method !== "GET" && req.method !== "HEAD") {
    const unknown = codings.find(isUnknownCoding);
    if (unknown !== undefined) {
      return errorResponse(dialect, 415, `gw takes request bodies plain or compressed with gzip, deflate, br or zstd, not ${unknown.slice(0, 40)} (Content-Encoding)`, "unsupported_media_type");
    }
    let body = await readBody(req, limits.maxBodyBytes, hold, typedJson && codings.length === 0);
    if (body instanceof Uint8Array && codings.length > 0 && body.length > 0) {
      body = await decodeBody(body, codings, limits.maxBodyBytes, hold);
      if (body instanceof Uint8Array && typedJson) body = utf8.decode(body);
    }
    if (body === "too-large") {
      return errorResponse(dialect, 413, `request body exceeds gw's limit of ${limits.maxBodyBytes} bytes (lb_max_body_mb)`, "body_too_large");
    }
    if (body === "no-memory") return busy(dialect);
    if (body === "broken") return bad(dialect, "request body could not be read");
    if (body === "undecodable") return bad(dialect, `request body is not valid ${codings.join(", ")} data, as its Content-Encoding says`);
    if (body.length > 0) raw = typeof body === "string" ? body : looksLikeJsonObject(body) ? utf8.decode(body) : body;
    if (raw instanceof Uint8Array && !isFormUpload(type, path)) {
      return errorResponse(dialect, 415, `gw takes a JSON object as the body of ${path.slice(0, 100)} (forms only where an upload is expected), not ${type?.slice(0, 60)}`, "unsupported_media_type");
    }
  }

  let json: Record<string, unknown> | undefined;
  let members: Member[] | undefined;
  if (typeof raw === "string") {
    members = [];
    const shape = jsonShape(raw, limits.maxJsonDepth, limits.maxJsonElements, members);
    if ("tooDeep" in shape) return bad(dialect, `JSON body nests deeper than ${shape.tooDeep} levels (lb_max_json_depth)`);
    if ("tooMany" in shape) {
      return errorResponse(dialect, 413, `JSON body holds more than ${shape.tooMany} values (lb_max_json_elements)`, "body_too_large");
    }
    // The text and what JSON.parse builds from it, held before it is built.
    if (!hold.grow(raw.length * 2 + shape.elements * BYTES_PER_ELEMENT)) return busy(dialect);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (e) {
      // Also under another type: a lenient upstream parser (CLIProxyAPI reads fields with gjson)
      // would still find the model in `{"model":"x",}` and serve it past the routes.
      return errorResponse(dialect, 400, `malformed JSON body: ${(e as Error).message}`, "invalid_json");
    }
    if (!isObject(parsed)) return bad(dialect, "request body must be a JSON object");
    json = parsed;
    const problem = fieldProblem(json);
    if (problem) return bad(dialect, problem);
  }

  const gm = GEMINI_MODEL_PATH.exec(path);
  let model = typeof json?.model === "string" ? json.model : undefined;
  let geminiPath: Intake["geminiPath"];
  let forwardPath = path;
  if (gm) {
    try {
      model = decodeURIComponent(gm[2]!);
    } catch {
      return bad(dialect, "model name in the path is not valid percent-encoding");
    }
    // Google's SDKs default to /v1 (or are set to /v1alpha); CLIProxyAPI serves Gemini calls
    // under /v1beta only, with the same bodies, so every version goes there.
    geminiPath = { prefix: GEMINI_PREFIX, action: gm[3]! };
    forwardPath = `${GEMINI_PREFIX}${gm[2]}:${gm[3]}`;
  }
  // Without a model the request would reach the default instance as "unknown provider for model ".
  if (!model && req.method === "POST" && MODEL_CALLS.test(path)) {
    return bad(dialect, `${model === "" ? "`model` is empty" : "`model` is missing"}: name a route in the body's \`model\` field (GET /v1/models lists them)`);
  }
  const countTokens = path.endsWith("/count_tokens") || gm?.[3] === "countTokens";
  const decoded = codings.length > 0 && raw !== undefined;
  return { method: req.method, path: forwardPath, search: forwardedSearch(url), dialect, model, geminiPath, json, members, raw, countTokens, decoded };
}

/**
 * A compressed body, decoded (off the event loop) within the same byte limit as a plain one; the
 * decoded bytes are held in the body budget as they come, so bombs decoding side by side are
 * refused once the budget is spent, not after each has filled its limit.
 */
async function decodeBody(bytes: Uint8Array, codings: readonly string[], limit: number, hold: BodyHold): Promise<Uint8Array<ArrayBuffer> | BodyRead> {
  try {
    return (await decode(bytes, codings, limit, (n) => hold.grow(n))) as Uint8Array<ArrayBuffer>;
  } catch (e) {
    return e instanceof NoRoom ? "no-memory" : isTooLarge(e) ? "too-large" : "undecodable";
  }
}

/** 400 in the client's dialect. */
function bad(dialect: Dialect, message: string): Response {
  return errorResponse(dialect, 400, message, "invalid_request");
}

const isUnknownCoding = (c: string) => !isKnownCoding(c);

/** 503 in the client's dialect: other requests hold the body budget now; a retry soon will fit. */
function busy(dialect: Dialect): Response {
  return errorResponse(dialect, 503, "gw is taking in other large requests right now (lb_max_body_memory_mb); retry in a moment", "busy", { "retry-after": "1" });
}

/**
 * Fields gw reads or rewrites must have the type every dialect gives them; anything else would
 * make a rewrite guess. Other fields are the upstream's business.
 */
function fieldProblem(body: Record<string, unknown>): string | undefined {
  if ("model" in body && typeof body.model !== "string") return "`model` must be a string";
  const mt = body.max_tokens;
  if (mt !== undefined && mt !== null && !(Number.isInteger(mt) && (mt as number) >= 0)) {
    return "`max_tokens` must be a non-negative integer";
  }
  const th = body.thinking;
  if (th !== undefined && th !== null) {
    if (!isObject(th)) return "`thinking` must be an object";
    const bt = th.budget_tokens;
    if (bt !== undefined && !Number.isInteger(bt)) return "`thinking.budget_tokens` must be an integer";
  }
  if ("stream" in body && body.stream !== null && typeof body.stream !== "boolean") return "`stream` must be a boolean";
  return undefined;
}
