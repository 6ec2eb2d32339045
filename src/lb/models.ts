// GET /v1/models answered from the route table: clients discover the names gw routes, not the
// upstream names behind them, with each route's context window (catalog/windows.ts). The
// Anthropic shape also lists every route under the id Claude Code's /model picker keeps
// (lb/model-ids.ts), labelled so the picker says what it is. Bodies are built once per config.

import { lookupModel } from "../catalog/models.ts";
import { formatTokens, routeWindow } from "../catalog/routes.ts";
import type { Config, Route } from "../config/types.ts";
import type { RouteIds } from "./model-ids.ts";

export interface ModelLists {
  readonly openai: string;
  readonly anthropic: string;
}

/** Claude Code 2.1.3xx shows at most this much of a gateway model's description. */
const DESCRIPTION_MAX = 100;
const EPOCH = "1970-01-01T00:00:00Z";

export function buildModelLists(config: Config, ids: RouteIds): ModelLists {
  const routes = [...config.routes.values()];
  const openai = {
    object: "list",
    data: routes.map((r) => ({ id: r.name, object: "model", created: 0, owned_by: "gw", context_window: routeWindow(r).tokens })),
  };
  const data = routes.flatMap((r) => {
    const entry = anthropicEntry(r);
    const alias = ids.claudeIds.get(r.name);
    return alias && alias !== r.name ? [entry, { ...entry, id: alias }] : [entry];
  });
  const anthropic = { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
  return { openai: JSON.stringify(openai), anthropic: JSON.stringify(anthropic) };
}

/** Anthropic's shape for Anthropic clients (same rule as CLIProxyAPI), else OpenAI's. */
export function modelsResponse(lists: ModelLists, headers: Headers): Response {
  const anthropic = headers.has("anthropic-version") || (headers.get("user-agent") ?? "").startsWith("claude-cli");
  return new Response(anthropic ? lists.anthropic : lists.openai, { headers: { "content-type": "application/json" } });
}

// --- internal ---

/**
 * `display_name` is what the picker shows (older Claude Code shows nothing else):
 * `opus4.6 → Claude Opus 4.6 · 200k`. `description` (newer Claude Code) names the targets.
 */
function anthropicEntry(r: Route) {
  const window = routeWindow(r).tokens;
  const models = [...new Set(r.targets.map((t) => t.model))];
  const first = models[0];
  const upstream = first === undefined ? "" : ` → ${lookupModel(first)?.name ?? first}${models.length > 1 ? ` +${models.length - 1}` : ""}`;
  const targets = r.targets.map((t) => `${t.instance}/${t.model}`).join(", ");
  const tail = ` · ${formatTokens(window)} context`;
  const head = `gw route ${r.name}: ${targets}`;
  const description = head.length + tail.length <= DESCRIPTION_MAX ? head + tail : `${head.slice(0, DESCRIPTION_MAX - tail.length - 1)}…${tail}`;
  return {
    type: "model",
    id: r.name,
    display_name: `${r.name}${upstream} · ${formatTokens(window)}`,
    created_at: EPOCH,
    max_input_tokens: window,
    description,
  };
}
