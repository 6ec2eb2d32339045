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
import { decodeSafe } from "../observe/secret-shapes.ts";

export interface ModelLists {
  readonly openai: string;
  readonly anthropic: string;
  readonly gemini: string;
  /** Each listed name's own entry in the three shapes (GET /v1/models/NAME), by every id a list carries. */
  readonly entries: ReadonlyMap<string, Shapes<object>>;
}

type Shape = "openai" | "anthropic" | "gemini";
type Shapes<T> = Readonly<Record<Shape, T>>;

const GEMINI_LIST = /^\/v1(?:beta|alpha)?\/models$/;
/** One model: the SDKs' models.retrieve (OpenAI, Anthropic) and models.get (Google). A name may hold `/` and `:`. */
const MODEL_ENTRY = /^\/v1(?:beta|alpha)?\/models\/(.+)$/;

/** Claude Code 2.1.3xx shows at most this much of a gateway model's description. */
const DESCRIPTION_MAX = 100;
const EPOCH = "1970-01-01T00:00:00Z";

export function buildModelLists(config: Config): ModelLists {
  const ids = modelIdsOf(config);
  const entries = new Map<string, Shapes<object>>();
  for (const name of ids.names) {
    const window = modelWindow(config, name) ?? DEFAULT_CONTEXT_WINDOW;
    const entry = {
      openai: { id: name, object: "model", created: 0, owned_by: "gw", context_window: window },
      anthropic: anthropicEntry(config, name, window),
      // Google's shape: the names its SDKs put in `models/NAME:generateContent`, which gw routes.
      gemini: {
        name: `models/${name}`,
        displayName: name,
        description: config.routes.has(name) ? `gw route ${name}` : "gw router: picks a route per request",
        inputTokenLimit: window,
        supportedGenerationMethods: ["generateContent", "streamGenerateContent", "countTokens"],
      },
    };
    entries.set(name, entry);
    // The id Claude Code's picker keeps is listed in Anthropic's shape, and found in each.
    const alias = ids.claudeIds.get(name);
    if (alias && alias !== name) entries.set(alias, { openai: { ...entry.openai, id: alias }, anthropic: { ...entry.anthropic, id: alias }, gemini: { ...entry.gemini, name: `models/${alias}` } });
  }
  const listed = (shape: Shape, withAliases: boolean) => (withAliases ? [...entries.values()] : ids.names.map((n) => entries.get(n)!)).map((e) => e[shape]);
  const data = listed("anthropic", true) as { id: string }[];
  const anthropic = { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
  return {
    openai: JSON.stringify({ object: "list", data: listed("openai", false) }),
    anthropic: JSON.stringify(anthropic),
    gemini: JSON.stringify({ models: listed("gemini", false) }),
    entries,
  };
}

/** The model list paths: OpenAI's and Anthropic's /v1/models, Google's under each API version. */
export function isModelList(path: string, dialect: Dialect): boolean {
  return path === "/v1/models" || (dialect === "gemini" && GEMINI_LIST.test(path));
}

export function modelsResponse(lists: ModelLists, headers: Headers, dialect: Dialect): Response {
  return jsonResponse(lists[shapeFor(headers, dialect)]);
}

/**
 * The path of an entry's answer as /metrics labels it: its API version, not the name — a client
 * can spell one name without end (`opus`, `%6Fpus`, `%6fpus`…), each a series of its own.
 */
export const modelEntryLabel = (path: string): string => `${path.slice(0, path.indexOf("/models/"))}/models/{id}`;

/**
 * GET /v1/models/NAME for a name the list carries: its entry, in the list's shape. Undefined for
 * any other path or name (the default instance may serve it, or gw's 404 names the routes).
 */
export function modelEntryResponse(lists: ModelLists, path: string, headers: Headers): Response | undefined {
  const m = MODEL_ENTRY.exec(path);
  const entry = m ? lists.entries.get(decodeSafe(m[1]!)) : undefined;
  // By the path's version, not the request's dialect: a GET of `/v1/models/a:b` reads as a Gemini call by its path alone.
  return entry && jsonResponse(JSON.stringify(entry[shapeFor(headers, path.startsWith("/v1/") ? "openai" : "gemini")]));
}

/**
 * Google's shape for Gemini clients (its SDKs default to /v1/models, with their own key header),
 * Anthropic's for Anthropic clients (same rule as CLIProxyAPI), else OpenAI's.
 */
function shapeFor(headers: Headers, dialect: Dialect): Shape {
  if (dialect === "gemini" || headers.has("x-goog-api-key")) return "gemini";
  return headers.has("anthropic-version") || (headers.get("user-agent") ?? "").startsWith("claude-cli") ? "anthropic" : "openai";
}

const jsonResponse = (body: string) => new Response(body, { headers: { "content-type": "application/json" } });

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
