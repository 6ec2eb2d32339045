// GET /v1/models answered from the route table: clients discover the names gw routes, not the
// upstream names behind them. Bodies are built once per config, not per request.

import type { Config } from "../config/types.ts";
import { routedModels } from "../config/router.ts";

export interface ModelLists {
  readonly openai: string;
  readonly anthropic: string;
}

export function buildModelLists(config: Config): ModelLists {
  // The `auto` router's models are served too, so clients that list models can find them.
  const names = [...new Set([...config.routes.keys(), ...routedModels(config.global.lb.router)])];
  const openai = { object: "list", data: names.map((id) => ({ id, object: "model", created: 0, owned_by: "gw" })) };
  const anthropic = {
    data: names.map((id) => ({ type: "model", id, display_name: id, created_at: "1970-01-01T00:00:00Z" })),
    has_more: false,
    first_id: names[0] ?? null,
    last_id: names[names.length - 1] ?? null,
  };
  return { openai: JSON.stringify(openai), anthropic: JSON.stringify(anthropic) };
}

/** Anthropic's shape for Anthropic clients (same rule as CLIProxyAPI), else OpenAI's. */
export function modelsResponse(lists: ModelLists, headers: Headers): Response {
  const anthropic = headers.has("anthropic-version") || (headers.get("user-agent") ?? "").startsWith("claude-cli");
  return new Response(anthropic ? lists.anthropic : lists.openai, { headers: { "content-type": "application/json" } });
}
