// The child's environment for each mode (pure). cp's Claude Code variables are the claude
// agent's (run/agents/claude/env.ts).
import type { Env } from "./memory.ts";
import { ELSEWHERE } from "../run/agents/claude/env.ts";
import { proxyRule } from "./proxies.ts";

export type ChildEnv = Record<string, string>;

/** Official mode: a stale auth token would override the login. */
const OFFICIAL_BLANKED = ["ANTHROPIC_AUTH_TOKEN"];
/** Where official mode's Claude Code goes unless the user's own ANTHROPIC_BASE_URL says otherwise. */
const ANTHROPIC_API = "https://api.anthropic.com";

export const AG_DEFAULTS = {
  base: "http://127.0.0.1:8045/v1",
  code: "claude-opus-4-6-thinking",
  doc: "gemini-3-pro-high",
  fast: "gemini-3-flash",
} as const;

/** The user's environment with `blank` emptied (empty = unset for the agents) and `set` on top. */
export function childEnv(base: Env, blank: readonly string[], set: Readonly<Record<string, string>>): ChildEnv {
  const env: ChildEnv = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  for (const k of blank) env[k] = "";
  return Object.assign(env, set);
}

/**
 * Claude Code's environment for an API at `apiUrl`: the user's proxies as proxyRule says
 * (`noProxy`: this Claude Code honours NO_PROXY), `blank` emptied, `set` on top.
 */
function claudeEnv(base: Env, apiUrl: string, noProxy: () => boolean, blank: readonly string[], set: Readonly<Record<string, string>>): ChildEnv {
  const proxies = proxyRule(base, apiUrl, noProxy);
  return childEnv(base, [...proxies.blank, ...blank], { ...proxies.set, ...set });
}

export interface Gateway {
  readonly baseUrl: string;
  readonly apiKey: string;
}

/** Antigravity direct; models overridable with CLD_AG_CODE_MODEL / _DOC_ / _FAST_. */
function agRoles(base: Env): { code: string; doc: string; fast: string } {
  return {
    code: base.CLD_AG_CODE_MODEL || AG_DEFAULTS.code,
    doc: base.CLD_AG_DOC_MODEL || AG_DEFAULTS.doc,
    fast: base.CLD_AG_FAST_MODEL || AG_DEFAULTS.fast,
  };
}

/** Where the Antigravity proxy listens ($ANTI_API_BASE, else its default). */
export function agBase(base: Env): string {
  return base.ANTI_API_BASE || AG_DEFAULTS.base;
}

/**
 * The proxy's base as Claude Code wants it: it adds /v1/messages itself, so a base ending in /v1
 * (the old launcher's default, and how the proxy's address is usually written) asked for
 * /v1/v1/messages.
 */
const forClaudeCode = (url: string) => url.replace(/\/+$/, "").replace(/\/v1$/, "");

export function agEnv(base: Env, token: string, configDir: string, noProxy: () => boolean): ChildEnv {
  const m = agRoles(base);
  return claudeEnv(base, agBase(base), noProxy, ELSEWHERE, {
    ANTHROPIC_BASE_URL: forClaudeCode(agBase(base)),
    ANTHROPIC_API_KEY: token,
    ANTHROPIC_MODEL: m.code,
    ANTHROPIC_DEFAULT_SONNET_MODEL: m.code,
    ANTHROPIC_DEFAULT_OPUS_MODEL: m.doc,
    ANTHROPIC_DEFAULT_HAIKU_MODEL: m.fast,
    CLAUDE_CODE_SUBAGENT_MODEL: m.fast,
    CLAUDE_CONFIG_DIR: configDir,
  });
}

/**
 * Anthropic's own service: the user's login and settings, untouched apart from the blanks; their
 * proxies too (the way out to Anthropic), unless their ANTHROPIC_BASE_URL is on this machine.
 */
export function officialEnv(base: Env, noProxy: () => boolean): ChildEnv {
  return claudeEnv(base, base.ANTHROPIC_BASE_URL || ANTHROPIC_API, noProxy, OFFICIAL_BLANKED, {});
}
