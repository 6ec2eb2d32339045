// The child's environment for each mode (pure). cp's Claude Code variables are the claude
// agent's (run/agents/claude/env.ts).
import type { Env } from "./memory.ts";

export type ChildEnv = Record<string, string>;

/** Proxies would send loopback traffic astray: blanked for every agent a launcher starts. */
export const PROXY_VARS = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"] as const;
/** A stale auth token would override the key. */
const BLANKED = [...PROXY_VARS, "ANTHROPIC_AUTH_TOKEN"];

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

const withBlanks = (base: Env, set: Readonly<Record<string, string>>): ChildEnv => childEnv(base, BLANKED, set);

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

export function agEnv(base: Env, token: string, configDir: string): ChildEnv {
  const m = agRoles(base);
  return withBlanks(base, {
    ANTHROPIC_BASE_URL: agBase(base),
    ANTHROPIC_API_KEY: token,
    ANTHROPIC_MODEL: m.code,
    ANTHROPIC_DEFAULT_SONNET_MODEL: m.code,
    ANTHROPIC_DEFAULT_OPUS_MODEL: m.doc,
    ANTHROPIC_DEFAULT_HAIKU_MODEL: m.fast,
    CLAUDE_CODE_SUBAGENT_MODEL: m.fast,
    CLAUDE_CONFIG_DIR: configDir,
  });
}

/** Anthropic's own service: the user's login and settings, untouched apart from the blanks. */
export function officialEnv(base: Env): ChildEnv {
  return withBlanks(base, {});
}
