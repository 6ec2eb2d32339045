// Which paths may reach an instance at all. gw forwards CLIProxyAPI's model APIs and nothing
// else: everything else an instance serves is for its owner or its local callers, and a request
// through gw arrives there from loopback, with the instance's own key.
//
// Read from CLIProxyAPI's router (v5 – v7.2.140, internal/api/server*.go), the paths outside
// the model APIs are: the management API `/v0/management/*` (incl. its OAuth callback) and plugin
// resources `/v0/resource/plugins/*`; the control panel `/management.html`; `/keep-alive` (the
// TUI's heartbeat); the OAuth callbacks `/anthropic|codex|google|antigravity|xai/callback`, which
// write into the auth directory; the Gemini CLI's `/v1internal:*` (up to v7.2.19, loopback only);
// v6's Amp module (`/api/*` but `/api/provider/*`, `/threads`, `/docs`, `/settings`, `/auth`,
// `/*.rss`, loopback only); and `/`. Inside `/v1/` one more: `/v1/ws`, the AI Studio relay, where
// a websocket registers itself as a provider (and would then receive other users' prompts).
//
// Rather than chase that list version by version, gw allows the model API roots and refuses
// the rest, so a local-only path a future version adds is refused before anyone names it.

/** Roots of the model APIs (what SDKs, Claude Code, Codex and Amp send), after normalization. */
const API_ROOT = /^\/(?:v1|v1beta|v1alpha|openai\/v1|backend-api\/codex|api\/provider)\//;
/** Internal paths inside an API root. */
const INTERNAL = /^\/v1\/ws(?:[/?;:]|$)/;
/** Ordinary spelling of an ordinary API path: nothing to normalize. */
const PLAIN_API = /^\/v1(?:beta)?\/(?!ws(?:[/;:]|$))[^%\\]*$/;

/**
 * Whether gw refuses to forward `pathname` (as the URL parser left it: dot segments resolved,
 * escapes kept). Judged on the path the upstream router will see, whatever the spelling:
 * percent escapes (decoded until stable), backslashes, doubled slashes, letter case; a path
 * that still holds a dot segment after decoding, or does not decode, is refused.
 */
export function isForbiddenPath(pathname: string): boolean {
  if (PLAIN_API.test(pathname) && !pathname.includes("//")) return false;
  const p = canonicalPath(pathname);
  return p === undefined || !API_ROOT.test(p) || INTERNAL.test(p);
}

/** Decoded, `\` → `/`, slashes collapsed, lower-cased; undefined if undecodable or holding dot segments. */
export function canonicalPath(pathname: string): string | undefined {
  let p = pathname;
  for (let round = 0; p.includes("%"); round++) {
    let next: string;
    try {
      next = decodeURIComponent(p);
    } catch {
      return undefined;
    }
    if (next === p) break;
    if (round === 3) return undefined; // still unfolding after four rounds: nobody spells a path so
    p = next;
  }
  p = p.replace(/\\/g, "/").replace(/\/{2,}/g, "/").toLowerCase();
  return /(^|\/)\.\.?(\/|$)/.test(p) ? undefined : p;
}

/**
 * Model calls whose event stream is an answer with an end of its own (answer-end.ts
 * endsTheAnswer), under any API root (`/api/provider/anthropic/v1/messages`, Codex's
 * `/backend-api/codex/responses`): a stream elsewhere is relayed to its close as it comes.
 */
export const hasAnswerEnd = (path: string): boolean => ANSWER_CALL.test(path);
const ANSWER_CALL = /(?:\/messages|\/completions|\/responses|:streamGenerateContent|:generateContent)$/;

/**
 * A model call (a generation, a compaction or a token count) under any API root, whatever it is
 * sent to (a route's target, the default instance): its answer below 400 must be one (non-answer.ts).
 */
export const isModelCall = (path: string): boolean => ANSWER_CALL.test(path) || OTHER_MODEL_CALL.test(path);
const OTHER_MODEL_CALL = /(?:\/messages\/count_tokens|\/responses\/compact|:countTokens)$/;

/** An OpenAI Responses call (CLIProxyAPI's /v1, /openai/v1 and Codex-direct spellings): its body and events have their own shapes. */
export const isResponsesCall = (path: string): boolean => RESPONSES_CALL.test(path);
const RESPONSES_CALL = /\/responses$/;

/** A Gemini method that generates an answer (not `countTokens`, `embedContent`, …). */
export const isGeminiGeneration = (action: string): boolean => action === "generateContent" || action === "streamGenerateContent";
