// What tells Claude Code to work through a gateway (pure). Checked against Claude Code 2.1.197
// and 2.1.332 (their code and their behaviour, test/cld/claude-code.test.ts):
// - the key goes as ANTHROPIC_AUTH_TOKEN (Bearer), which Claude Code uses without asking; an
//   ANTHROPIC_API_KEY makes the first interactive launch ask, with "No" preselected and remembered;
// - every variable through which Claude Code picks a model names a route, so nothing in the
//   /model picker or in background work falls back to a built-in Anthropic id;
// - the window of the main route, because Claude Code assumes 1M for an id it does not know.

/**
 * What the user's shell may have set that sends Claude Code to another provider, past whatever
 * base URL it is given (Claude Code 2.1.332): Bedrock, Vertex, Foundry, Anthropic on AWS or
 * Google Cloud, Mantle, a Claude apps gateway. cld cp, cld ag and gw run claude empty them, as the
 * stale ANTHROPIC_AUTH_TOKEN that would override the key.
 */
export const ELSEWHERE = [
  "ANTHROPIC_AUTH_TOKEN",
  "CLAUDE_CODE_USE_BEDROCK",
  "CLAUDE_CODE_USE_VERTEX",
  "CLAUDE_CODE_USE_FOUNDRY",
  "CLAUDE_CODE_USE_ANTHROPIC_AWS",
  "CLAUDE_CODE_USE_ANTHROPIC_GOOGLE_CLOUD",
  "CLAUDE_CODE_USE_MANTLE",
  "CLAUDE_CODE_USE_GATEWAY",
];

/** The routes that play Claude Code's model roles. */
export interface ClaudeRoles {
  /** The conversation (ANTHROPIC_MODEL, the Sonnet tier, the picker's Default). */
  readonly main: string;
  /** Titles, summaries, subagents (the Haiku tier). */
  readonly fast: string;
  /** The strongest tier (Opus, and Fable in versions that know it). */
  readonly opus: string;
}

interface ClaudeGatewayLaunch {
  readonly baseUrl: string;
  readonly key: string;
  readonly roles: ClaudeRoles;
  /** Context window of the main route, in tokens. */
  readonly contextWindow: number;
  readonly configDir: string;
}

/** Where Claude Code's 1M context begins: what CLAUDE_CODE_DISABLE_1M_CONTEXT caps a session at. */
const CONTEXT_1M_BOUNDARY = 200_000;

/** Claude Code (2.1.332) names a launcher in its exit hint only when it is one plain word; anything else and it says `claude`. */
const LAUNCHER_WORD = /^\w[\w-]*$/;

/**
 * Model variables cld does not set but a user's shell may: each would send some of Claude Code's
 * requests to a model no route names. Blanked (empty = unset for Claude Code).
 */
const STRAY_MODEL_VARS = ["ANTHROPIC_CUSTOM_MODEL_OPTION", "CLAUDE_CODE_AUTO_MODE_MODEL", "CLAUDE_CODE_BG_CLASSIFIER_MODEL", "CLAUDE_CODE_WORKFLOW_SUBAGENT_MODEL"] as const;

/** The environment that makes Claude Code a client of the gateway. */
export function gatewayEnv(l: ClaudeGatewayLaunch): Record<string, string> {
  const { main, fast, opus } = l.roles;
  return {
    ANTHROPIC_BASE_URL: l.baseUrl,
    ANTHROPIC_AUTH_TOKEN: l.key,
    ANTHROPIC_API_KEY: "",
    ...Object.fromEntries(STRAY_MODEL_VARS.map((k) => [k, ""])),
    ANTHROPIC_MODEL: main,
    ANTHROPIC_DEFAULT_MODEL: main,
    ...tier("SONNET", main, "main"),
    ...tier("OPUS", opus, "opus"),
    ...tier("FABLE", opus, "opus"),
    ...tier("HAIKU", fast, "fast"),
    ANTHROPIC_SMALL_FAST_MODEL: fast, // the Haiku tier's older name, which wins over the new one when both are set
    CLAUDE_CODE_SUBAGENT_MODEL: fast,
    CLAUDE_CODE_MAX_CONTEXT_TOKENS: String(l.contextWindow),
    // A `[1m]` model would claim a 1M window and send the context-1m beta; the route decides both.
    // Only for a route within 200K: past it Claude Code (2.1.332) warns on every -p run that the
    // 200K cap "isn't enforced" and advises capping the route's window at 200K.
    ...(l.contextWindow <= CONTEXT_1M_BOUNDARY ? { CLAUDE_CODE_DISABLE_1M_CONTEXT: "1" } : {}),
    CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY: "1",
    CLAUDE_CONFIG_DIR: l.configDir,
  };
}

/**
 * What Claude Code's exit hint names instead of `claude` ("Resume this session with: cld --resume
 * ID"), in every cld mode: `launcher` ("cld", or "./gw cld" before gw install) when it is one
 * plain word; else empty, and the launcher prints the hint itself (hand-over.ts).
 */
export function resumeHintEnv(launcher: string): { CLAUDE_CODE_RESUME_HINT_COMMAND: string } {
  return { CLAUDE_CODE_RESUME_HINT_COMMAND: LAUNCHER_WORD.test(launcher) ? launcher : "" };
}

/** One of Claude Code's model tiers, labelled in the /model picker: `g3f` — `gw fast route (Haiku tier)`. */
function tier(name: "SONNET" | "OPUS" | "FABLE" | "HAIKU", route: string, role: "main" | "fast" | "opus"): Record<string, string> {
  const v = `ANTHROPIC_DEFAULT_${name}_MODEL`;
  const tierName = name[0] + name.slice(1).toLowerCase();
  return { [v]: route, [`${v}_NAME`]: route, [`${v}_DESCRIPTION`]: `gw ${role} route (${tierName} tier)` };
}
