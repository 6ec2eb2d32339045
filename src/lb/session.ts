// Request facts that tie a request to earlier ones: the session it belongs to (sticky routing,
// failure streaks) and the thinking signatures it carries (only the provider that signed them
// can verify them). Pure functions over the headers and the already-parsed body.

import { familyOfTarget, type ModelFamily } from "../catalog/families.ts";
import type { Config, Route } from "../config/types.ts";

type Json = Record<string, unknown>;

/**
 * The request's session, first match wins: `x-claude-code-session-id`; `metadata.user_id` (the
 * JSON-string form `{"device_id","account_uuid","session_id"}` → its session_id, else the string);
 * `x-session-id`, `x-conversation-id`, `anthropic-conversation-id`; `prompt_cache_key`;
 * `previous_response_id`. Each source gets its own prefix so values from different sources never
 * collide — except Claude Code's session id, which is the same UUID whether it comes from the
 * header, the JSON user_id or the old `user_…_session_<uuid>` string, so all three share `cc:`.
 * Undefined when the request names no session.
 */
export function sessionKey(headers: Headers, body: Json | undefined): string | undefined {
  const cc = headers.get("x-claude-code-session-id");
  if (cc) return `cc:${cc}`;
  const user = userSession(body);
  if (user) return user;
  for (const h of SESSION_HEADERS) {
    const v = headers.get(h);
    if (v) return `hdr:${v}`;
  }
  const pck = body?.prompt_cache_key;
  if (typeof pck === "string" && pck) return `pck:${pck}`;
  const prev = body?.previous_response_id;
  if (typeof prev === "string" && prev) return responseSessionKey(prev);
  return undefined;
}

/**
 * Key under which an OpenAI Responses id is remembered: the LB sets sticky for the id of a
 * response it delivered (usage watcher's `responseId`), so the follow-up that names it as
 * `previous_response_id` lands on the instance that holds it.
 */
export function responseSessionKey(responseId: string): string {
  return `resp:${responseId}`;
}

/** Sticky map key: session and route (old lb.js used `session::model`). */
export function stickyKey(session: string, route: string): string {
  return `${session}::${route}`;
}

/** Failure-streak key for auto-upgrade: (session or "anon", requested model). */
export function streakKey(session: string | undefined, model: string): string {
  return `${session ?? "anon"}::${model}`;
}

export interface SignatureFacts {
  readonly signed: boolean;
  /** Lower-cased text before `#` of the last signature (`claude`, `gemini`, `gpt`…), if any. */
  readonly prefix?: string;
}

/**
 * Does the body carry signed reasoning? Anthropic `thinking` blocks with a `signature` (and
 * `redacted_thinking` blocks, which are opaque to any other provider) in `messages`; OpenAI
 * Responses `reasoning` items with `encrypted_content` in `input`. The last one found gives the
 * prefix, since the newest turn names the provider that must verify it.
 */
export function findSignature(body: Json | undefined): SignatureFacts {
  let signed = false;
  let prefix: string | undefined;
  const note = (sig: string | undefined) => {
    signed = true;
    const m = sig ? SIG_PREFIX.exec(sig) : null;
    if (m) prefix = m[1]!.toLowerCase();
  };
  for (const msg of arrayOf(body?.messages)) {
    for (const block of arrayOf((msg as Json)?.content)) {
      const b = block as Json;
      if (b?.type === "thinking" && typeof b.signature === "string" && b.signature) note(b.signature);
      else if (b?.type === "redacted_thinking" && b.data) note(undefined);
    }
  }
  for (const item of arrayOf(body?.input)) {
    const i = item as Json;
    if (i?.type === "reasoning" && typeof i.encrypted_content === "string" && i.encrypted_content) {
      note(i.encrypted_content);
    }
  }
  return prefix === undefined ? { signed } : { signed, prefix };
}

/** Which model family a signature prefix names (`claude#`, `anthropic#` → claude, …). */
export function familyOfPrefix(prefix: string): ModelFamily | undefined {
  return PREFIX_FAMILY[prefix.toLowerCase()];
}

/**
 * The routes a request whose signature was rejected (400 "signature") may go on to, in file
 * order: those, other than the current one, whose every target serves the signature's family.
 * Empty when the prefix is unknown or no such route exists (the caller then delivers the 400).
 * Which of them it goes to depends on which can answer now: fallback-choice.ts.
 */
export function familyRoutes(config: Config, prefix: string | undefined, currentRoute: string): Route[] {
  const family = prefix === undefined ? undefined : familyOfPrefix(prefix);
  const routes: Route[] = [];
  if (!family) return routes;
  for (const r of config.routes.values()) {
    if (r.name === currentRoute || r.targets.length === 0) continue;
    if (r.targets.every((t) => familyOfTarget(t) === family)) routes.push(r);
  }
  return routes;
}

// --- internal ---

const SESSION_HEADERS = ["x-session-id", "x-conversation-id", "anthropic-conversation-id"];
/** Older Claude Code: `user_<hash>_account_<uuid>_session_<uuid>`. */
const OLD_USER_SESSION = /_session_([0-9a-f-]{8,})$/i;
const SIG_PREFIX = /^([A-Za-z][A-Za-z0-9_-]{0,19})#/;

const PREFIX_FAMILY: Readonly<Record<string, ModelFamily>> = {
  claude: "claude",
  anthropic: "claude",
  gemini: "gemini",
  google: "gemini",
  gpt: "gpt",
  openai: "gpt",
  codex: "gpt",
  grok: "grok",
  xai: "grok",
  kimi: "kimi",
};

function userSession(body: Json | undefined): string | undefined {
  const meta = body?.metadata;
  const uid = meta && typeof meta === "object" ? (meta as Json).user_id : undefined;
  if (typeof uid !== "string" || !uid) return undefined;
  if (uid.startsWith("{")) {
    try {
      const sid = (JSON.parse(uid) as Json)?.session_id;
      if (typeof sid === "string" && sid) return `cc:${sid}`;
    } catch {
      // not JSON after all: use the string as it is
    }
  }
  const old = OLD_USER_SESSION.exec(uid);
  return old ? `cc:${old[1]}` : `user:${uid}`;
}

function arrayOf(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}
