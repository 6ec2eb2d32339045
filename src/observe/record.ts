// The shape of one request-log line, and the pure helper that summarises a request body for it.
// Field names are snake_case: the files are read by `gw usage`, jq and people.

import { countMessagesAndTools } from "../lb/upgrade.ts";
import { type Masker, maskedHead } from "./mask.ts";
import type { Usage } from "./tokens.ts";

export interface RequestRecord {
  /** ISO-8601 UTC time the request arrived; its day names the file. */
  ts: string;
  /** gw's id for the request (the one in `x-gw-request-id`, if sent). */
  id: string;
  request: RequestSummary;
  routing: RoutingRecord;
  response: ResponseRecord;
  /** Tokens, from the last SSE event carrying usage or the JSON body; absent when none came. */
  usage?: UsageRecord;
  /** Cooldowns this request set, in order. */
  cooldowns: CooldownRecord[];
  /** The client key that was presented, masked (first 6 … last 4); absent when none. */
  client?: string;
  /** The client program, `name/version` from its User-Agent (agentOf); absent when none is named. */
  agent?: string;
  /**
   * The client machine's address: the socket's peer, or — when that peer is a reverse proxy on
   * this machine (loopback) — the address its forwarding header names (lb/client-address.ts).
   */
  client_ip?: string;
}

/**
 * Did the client get an error: a 4xx or 5xx (not its own hang-up, 499), no answer at all, or a
 * stream that broke. One rule for every count gw shows (`gw status`, the status page), so they agree.
 */
export function failedAnswer(status: number, broken: boolean): boolean {
  return broken || status === 0 || (status >= 400 && status !== 499);
}

/**
 * Did an attempt fail on the upstream's side: neither a success, nor the client's own error, nor
 * a prompt too long for the target's model (the instance is fine), nor the client leaving.
 */
export function failedAttempt(outcome: string): boolean {
  return outcome !== "ok" && outcome !== "client" && outcome !== "context" && outcome !== "aborted";
}

export interface RequestSummary {
  method: string;
  /** Path and query as received, with `key=` values masked. */
  path: string;
  /** anthropic | openai | responses | gemini | other, as intake found it. */
  dialect: string;
  /** Model the client named, masked (past 256 characters cut, ending `…`). */
  model?: string;
  max_tokens?: number;
  stream?: boolean;
  /** Conversation length (`messages`, Responses `input` items, Gemini `contents`). */
  messages: number;
  /** Messages per role, e.g. {"user": 12, "assistant": 11}; past 16 names of a client's own, the rest count as "other". */
  roles: Record<string, number>;
  tools: number;
  /** The body carries signed thinking blocks. */
  signed: boolean;
  /** Short sha256 of the session key: groups a session's requests without revealing it. */
  user?: string;
  /** Body size in bytes. */
  bytes: number;
  /** Request headers with credentials masked (optional: off unless asked for). */
  headers?: Record<string, string>;
}

export interface RoutingRecord {
  /** Route that served the request (after any upgrade, or its signature fallback); absent for unrouted requests. */
  route?: string;
  /** Route the client asked for. */
  requested?: string;
  upgraded: boolean;
  /** Thresholds that triggered the upgrade, e.g. "messages 85>=80". */
  upgrade_reasons: readonly string[];
  /** hit: sticky target reused · lock: signature lock · set: remembered after a 2xx · left: sticky target cooling · none. */
  sticky: "hit" | "lock" | "set" | "left" | "none";
  /** Every attempt in order; the last one produced the response. */
  attempts: AttemptRecord[];
  /** Route params that changed the body or headers (e.g. "max_tokens_max", "anthropic_beta"). */
  params: readonly string[];
  /**
   * Set when a 400 signature error went on to another route of its family: this one — then also
   * `route` when its answer was delivered. When `route` is another and no attempt names this one,
   * it was not tried: no route of the family could answer (lb/fallback-choice.ts), this is the first.
   */
  signature_fallback?: string;
  /** The `auto` router's decision, for requests naming an activation model. */
  router?: RouterRecord;
}

/** What the `auto` router decided (model-router.md; the old LB's fields, snake_case). */
export interface RouterRecord {
  /** category_hit_<name>, rule_hit_<name>, default_model, default_model_not_found, no_rule, disabled; gw adds session_hold, signature_lock and unanswered_fallback. */
  decision: string;
  /** The model the client sent. */
  requested: string;
  /** The route the rule book chose (absent when nothing matched). */
  suggested?: string;
  /** The model the request went on with (the requested one in shadow mode or when nothing matched). */
  resolved: string;
  applied: boolean;
  shadow?: boolean;
  /** The category or rule that chose: a category as `cat_<name>` with match "category" and its signal. */
  hit?: { name: string; match: string; priority?: number; target: string; signal?: string };
  /** Name of the category that matched, or of the rule that matched (for `gw usage --by category|rule`). */
  category?: string;
  rule?: string;
  /** The session's remembered choice, when it decided (session_hold). */
  held?: { route: string; decision: string };
  /** The route chosen first, which could not answer (unanswered_fallback: default_model took the request). */
  unanswered?: string;
  /** With log_factors: every factor (last_user_text shortened and masked) and the evaluation trace. */
  factors?: Record<string, unknown>;
  trace?: { categories: unknown[]; rules: unknown[] };
}

export interface AttemptRecord {
  /** Target id (`instance/model`), or `default:<instance>` for unrouted requests. */
  target: string;
  /**
   * The route the attempt was made on, written only when it is not the record's `routing.route`:
   * the first route's attempts of a request that went on to its `signature_fallback`. Absent
   * otherwise (and in records written before it existed): the attempt was made on `routing.route`.
   */
  route?: string;
  instance: string;
  provider: string;
  /** Model sent upstream. */
  model: string;
  /** Why the target was picked (route.ts PickReason). */
  pick?: string;
  /** Upstream status; 0 = no status line (connection error, timeout). */
  status: number;
  /** Outcome class (classify.ts): ok, auth, signature, transient, context, client, other. */
  class: string;
  /** Attempt duration until its status line (or failure), ms; a wait for the instance (held_ms) included. */
  ms: number;
  /** How long the attempt waited for its instance to be back from a restart, a relaunch or a respawn, ms; absent when it did not wait. */
  held_ms?: number;
  /** Short masked error text for failed attempts. */
  error?: string;
  /**
   * The prompt's tokens (input, cache) an attempt dropped at its stream's opening was billed for:
   * its upstream reported them (message_start) before it failed over. Counted in the record's
   * `usage` too; the last attempt's are only there (absent here).
   */
  usage?: UsageRecord;
}

export interface ResponseRecord {
  /** Status the client got. */
  status: number;
  /** Body bytes sent to the client. */
  bytes: number;
  /** Total time until the response ended, ms. */
  ms: number;
  /** Time until the first body byte reached the client, ms. */
  ttfb_ms?: number;
  /** First 500 characters of an error body, masked. */
  error?: string;
  /** The stream broke after bytes were sent (ended with an error event). */
  broken?: boolean;
  /** The client went away before the answer's end; gw cancelled the upstream request. */
  client_left?: boolean;
  /**
   * A model's answer (a 2xx to a generation call, not count_tokens) that reported no tokens —
   * an OpenAI chat stream without `stream_options.include_usage`: its cost is unknown. Absent in
   * records written before it existed.
   */
  no_usage?: true;
}

/** A request's token counts. */
export interface UsageCounts {
  input?: number;
  output?: number;
  cache_read?: number;
  cache_write?: number;
  /** Of cache_write, the tokens cached for an hour (Anthropic's 1h TTL); absent when none. */
  cache_write_1h?: number;
}

export interface UsageRecord extends UsageCounts {
  /**
   * The answer ended before its final output count (its client left, it broke, or it never got
   * past its opening): `output` is the last count reported — a lower bound, message_start's
   * placeholder when no message_delta came — and absent when the answer ended at its opening,
   * where the placeholder counts nothing. Input and cache counts are whole (message_start's).
   */
  output_partial?: true;
}

export interface CooldownRecord {
  route: string;
  target: string;
  /** state/types.ts CooldownKind: auth, quota, transient_heavy, … */
  kind: string;
  ms: number;
  reason: string;
}

export const ERROR_PREVIEW_CHARS = 500;

/**
 * A request's tokens: its answer's (`answer`: the last attempt's, delivered or dropped) and the
 * prompts of the attempts dropped before it, which the upstream billed all the same. Those are
 * priced with the answer's model (gw usage, the status page): a failover between routes' targets
 * of different models is an estimate, the attempts name each one's own. The last attempt carries
 * none of its own (record-builder.ts): it is counted once, as the answer.
 */
export function requestUsage(answer: UsageRecord | undefined, attempts: readonly AttemptRecord[]): UsageRecord | undefined {
  let sum = answer;
  for (const a of attempts) if (a.usage) sum = addCounts(sum ? { ...sum } : {}, a.usage);
  return sum;
}

function addCounts(into: UsageRecord, u: UsageRecord): UsageRecord {
  for (const k of USAGE_COUNTS) if (u[k] !== undefined) into[k] = (into[k] ?? 0) + u[k];
  return into;
}

const USAGE_COUNTS = ["input", "output", "cache_read", "cache_write", "cache_write_1h"] as const;

/** Log form of a Usage (tokens.ts), or undefined when nothing was reported. */
export function usageRecord(u: Usage | undefined): UsageRecord | undefined {
  if (!u) return undefined;
  if (u.input === undefined && u.output === undefined && u.cacheRead === undefined && u.cacheWrite === undefined && !u.cacheWrite1h) return undefined;
  const r: UsageRecord = {};
  if (u.input !== undefined) r.input = u.input;
  if (u.output !== undefined) r.output = u.output;
  if (u.cacheRead !== undefined) r.cache_read = u.cacheRead;
  if (u.cacheWrite !== undefined) r.cache_write = u.cacheWrite;
  if (u.cacheWrite1h) r.cache_write_1h = u.cacheWrite1h;
  return r;
}

/** Role counts of a parsed body (Anthropic/OpenAI `messages`, Responses `input`, Gemini `contents`). */
export function roleCounts(body: Record<string, unknown> | undefined): Record<string, number> {
  const out: Record<string, number> = Object.create(null); // roles are the client's words: "__proto__" is just a key
  const list = body?.messages ?? body?.input ?? body?.contents;
  if (!Array.isArray(list)) return out;
  let unusual = 0;
  for (const m of list) {
    const role = m && typeof m === "object" ? (m as Record<string, unknown>).role : undefined;
    let key = typeof role === "string" ? role : "other";
    // A few names of its own, then "other": each is masked for the record (maskRoles), and a client
    // could send a 100,000 (3.7 MB with a backslash in each: 0.45 s of masking on the event loop).
    if (!(key in out) && !USUAL_ROLES.has(key) && ++unusual > ROLES_OWN_MAX) key = "other";
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** Distinct role names of its own a record keeps; the rest count as "other". */
const ROLES_OWN_MAX = 16;

/**
 * A name the client chose (a model, a role), masked, at most NAME_CHARS long (and marked cut):
 * masking a MiB with backslashes whole takes ~30 ms of the event loop, per request.
 */
function loggedName(name: string, masker: Masker): string {
  return name.length <= NAME_CHARS ? masker.text(name) : `${maskedHead(masker, name, NAME_CHARS)}…`;
}

const NAME_CHARS = 256;

/** Role names are the client's words too: any but the usual ones pass the masker. */
function maskRoles(roles: Record<string, number>, masker: Masker): Record<string, number> {
  if (allUsual(roles)) return roles;
  const out: Record<string, number> = Object.create(null);
  for (const role of Object.keys(roles)) {
    const shown = USUAL_ROLES.has(role) ? role : loggedName(role, masker);
    out[shown] = (out[shown] ?? 0) + roles[role]!;
  }
  return out;
}

const USUAL_ROLES = new Set(["user", "assistant", "system", "developer", "tool", "model", "function", "other"]);
/** Every key a usual role (a loop over the keys: no list of them made per record). */
function allUsual(roles: Record<string, number>): boolean {
  for (const role in roles) if (!USUAL_ROLES.has(role)) return false;
  return true;
}

/**
 * The client program from a User-Agent: its first product token cut to `name/version`
 * (`codex_exec/0.171.0 (Debian 12; x86_64) …` → `codex_exec/0.171.0`; `GeminiCLI/0.61.0/g3f (…)`
 * → `GeminiCLI/0.61.0`). Platform details, paths and anything else a client put there stay out
 * of the log; a token of other characters counts as none.
 */
export function agentOf(userAgent: string | null | undefined): string | undefined {
  const m = AGENT_TOKEN.exec(userAgent ?? "");
  return m ? (m[2] ? `${m[1]}/${m[2]}` : m[1]) : undefined;
}

const AGENT_TOKEN = /^\s*([A-Za-z][\w.-]{0,39})(?:\/(\d[\w.+-]{0,23}))?(?=[\s/;(]|$)/;

/** Short, stable, non-reversible id of a session key for the `user` field. */
function hashUser(sessionKey: string | undefined): string | undefined {
  if (!sessionKey) return undefined;
  // A session sends many requests: remember the last few hashes rather than hash each time.
  let h = userHashes.get(sessionKey);
  if (h === undefined) {
    h = new Bun.CryptoHasher("sha256").update(sessionKey).digest("hex").slice(0, 12);
    if (userHashes.size >= USER_HASHES_MAX) userHashes.clear();
    userHashes.set(sessionKey, h);
  }
  return h;
}

const USER_HASHES_MAX = 1024;
const userHashes = new Map<string, string>();

interface SummaryFacts {
  method: string;
  /** Path and query as received (masked here). */
  url: string;
  dialect: string;
  model?: string;
  /** What the summary tells of the body (bodyFacts of the parsed body, if JSON). */
  body?: BodyFacts;
  bytes: number;
  sessionKey?: string;
  signed: boolean;
  /** Streaming as the path says it (Gemini `:streamGenerateContent`); else the body's `stream`. */
  stream?: boolean;
  masker: Masker;
  /** Pass to log the (masked) request headers. */
  headers?: Headers;
}

/** What a request's summary tells of its parsed body: read when it is routed, so the body need not be kept until the record completes. */
export interface BodyFacts {
  readonly messages: number;
  readonly tools: number;
  readonly roles: Record<string, number>;
  readonly maxTokens?: number;
  readonly stream?: boolean;
}

export function bodyFacts(json: Record<string, unknown> | undefined): BodyFacts {
  const { messages, tools } = countMessagesAndTools(json);
  const facts: { -readonly [K in keyof BodyFacts]: BodyFacts[K] } = { messages, tools, roles: roleCounts(json) };
  if (typeof json?.max_tokens === "number") facts.maxTokens = json.max_tokens;
  if (typeof json?.stream === "boolean") facts.stream = json.stream;
  return facts;
}

/** The `request` part of a record, from facts intake already has. */
export function summarizeRequest(f: SummaryFacts): RequestSummary {
  const b = f.body ?? bodyFacts(undefined);
  const s: RequestSummary = {
    method: f.method,
    path: f.masker.url(f.url),
    dialect: f.dialect,
    messages: b.messages,
    roles: maskRoles(b.roles, f.masker),
    tools: b.tools,
    signed: f.signed,
    bytes: f.bytes,
  };
  // The model as the client named it: a client (or a page) may name anything, a key included.
  if (f.model !== undefined) s.model = loggedName(f.model, f.masker);
  if (b.maxTokens !== undefined) s.max_tokens = b.maxTokens;
  const stream = f.stream ?? b.stream;
  if (typeof stream === "boolean") s.stream = stream;
  const user = hashUser(f.sessionKey);
  if (user) s.user = user;
  if (f.headers) s.headers = f.masker.headers(f.headers);
  return s;
}
