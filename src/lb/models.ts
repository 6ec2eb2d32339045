// GET /v1/models answered from the route table: clients discover the names gw routes (and the
// `auto` router's models, when it rewrites), not the upstream names behind them, each with its
// context window (catalog/routes.ts). The Anthropic shape also lists every name under the id
// Claude Code's /model picker keeps (lb/model-ids.ts), labelled so the picker says what it is.
// Bodies are built once per config.

import { lookupModel } from "../catalog/models.ts";
import { DEFAULT_CONTEXT_WINDOW, formatTokens, modelWindow } from "../catalog/routes.ts";
import type { Config } from "../config/types.ts";
import type { Dialect } from "./dialect.ts";
import { modelIdsOf } from "./model-ids.ts";

export interface ModelLists {
  readonly openai: string;
  readonly anthropic: string;
  readonly gemini: string;
}

const GEMINI_LIST = /^\/v1(?:beta|alpha)?\/models$/;

/** Claude Code 2.1.3xx shows at most this much of a gateway model's description. */
const DESCRIPTION_MAX = 100;
const EPOCH = "1970-01-01T00:00:00Z";

export function buildModelLists(config: Config): ModelLists {
  const ids = modelIdsOf(config);
  // Each list asks for every name's window: worked out once per name (a reload of 500 routes).
  const windows = new Map(ids.names.map((name) => [name, modelWindow(config, name) ?? DEFAULT_CONTEXT_WINDOW]));
  const windowOf = (name: string) => windows.get(name)!;
  const openai = {
    object: "list",
    data: ids.names.map((id) => ({ id, object: "model", created: 0, owned_by: "gw", context_window: windowOf(id) })),
  };
  const data = ids.names.flatMap((name) => {
    const entry = anthropicEntry(config, name, windowOf(name));
    const alias = ids.claudeIds.get(name);
    return alias && alias !== name ? [entry, { ...entry, id: alias }] : [entry];
  });
  const anthropic = { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
  // Google's shape: the names its SDKs put in `models/NAME:generateContent`, which gw routes.
  const gemini = {
    models: ids.names.map((name) => ({
      name: `models/${name}`,
      displayName: name,
      description: config.routes.has(name) ? `gw route ${name}` : "gw router: picks a route per request",
      inputTokenLimit: windowOf(name),
      supportedGenerationMethods: ["generateContent", "streamGenerateContent", "countTokens"],
    })),
  };
  return { openai: JSON.stringify(openai), anthropic: JSON.stringify(anthropic), gemini: JSON.stringify(gemini) };
}

/** The model list paths: OpenAI's and Anthropic's /v1/models, Google's under each API version. */
export function isModelList(path: string, dialect: Dialect): boolean {
  return path === "/v1/models" || (dialect === "gemini" && GEMINI_LIST.test(path));
}

/**
 * Google's shape for Gemini clients (its SDKs default to /v1/models, with their own key header),
 * Anthropic's for Anthropic clients (same rule as CLIProxyAPI), else OpenAI's.
 */
export function modelsResponse(lists: ModelLists, headers: Headers, dialect: Dialect): Response {
  const google = dialect === "gemini" || headers.has("x-goog-api-key");
  const anthropic = headers.has("anthropic-version") || (headers.get("user-agent") ?? "").startsWith("claude-cli");
  const body = google ? lists.gemini : anthropic ? lists.anthropic : lists.openai;
  return new Response(body, { headers: { "content-type": "application/json" } });
}

// --- internal ---

/**
 * `display_name` is what the picker shows (older Claude Code shows nothing else):
 * `opus4.6 → Claude Opus 4.6 · 200k`. `description` (newer Claude Code) names the targets.
 */
function anthropicEntry(config: Config, name: string, window: number) {
  const route = config.routes.get(name);
  const models = [...new Set(route?.targets.map((t) => t.model) ?? [])];
  const first = models[0];
  const upstream = !route ? " → gw router" : first === undefined ? "" : ` → ${lookupModel(first)?.name ?? first}${models.length > 1 ? ` +${models.length - 1}` : ""}`;
  const what = route ? `gw route ${name}: ${route.targets.map((t) => `${t.instance}/${t.model}`).join(", ")}` : `gw router: picks a route per request`;
  const tail = ` · ${formatTokens(window)} context`;
  const description = what.length + tail.length <= DESCRIPTION_MAX ? what + tail : `${what.slice(0, DESCRIPTION_MAX - tail.length - 1)}…${tail}`;
  return { type: "model", id: name, display_name: `${name}${upstream} · ${formatTokens(window)}`, created_at: EPOCH, max_input_tokens: window, description };
}
