// OpenAI Codex CLI (npm @openai/codex). Pointed at gw by its own config in CODEX_HOME
// (~/.cache/cld/codex): a `gw` model provider whose base URL is the gateway, wire API
// "responses", key from GW_API_KEY; the route as the model. Codex keeps metadata per model slug
// (instructions, tools, context window) and warns "Model metadata for `ROUTE` not found" for any
// other name, so gw writes a model catalogue (model_catalog_json) with one entry per route: the
// installed Codex's own entry for the route's upstream model when it has one, else its first
// model's — among those that speak the plain Responses API a gateway can carry — renamed to the
// route and given the route's context window from gw's catalogue.
// The user's ~/.codex is only read, for the folders they trusted.
import { join } from "node:path";
import { isObject, type Json, readTable, tableAt, userHome, writeTable } from "../home.ts";
import type { OfferedRoute } from "../routes.ts";
import type { Agent, AgentLaunch } from "./types.ts";

/** The variable Codex reads the gateway key from (the provider's env_key). */
export const KEY_VAR = "GW_API_KEY";
const PROVIDER = "gw";
const CATALOG = "gw-models.json";

export const codex: Agent = {
  name: "codex",
  summary: "OpenAI Codex CLI, through the gateway's Responses API",
  command: "codex",
  label: "Codex CLI",
  install: "npm install -g @openai/codex",
  families: ["gpt"],
  yolo: ["--dangerously-bypass-approvals-and-sandbox"],
  // Codex's built-in provider would read these; nothing else of the user's shell points it anywhere.
  blank: ["OPENAI_BASE_URL", "CODEX_HOME"],
  async prepare(l) {
    const bundled = await bundledModels(l);
    const catalog = bundled ? join(l.home, CATALOG) : undefined;
    if (catalog && bundled) await writeTable(catalog, { models: l.routes.map((r, i) => catalogEntry(r, i, bundled)) });
    const file = join(l.home, "config.toml");
    await writeTable(file, codexConfig(readTable(file), readTable(join(userHome(l.env, "CODEX_HOME", ".codex"), "config.toml")), l, catalog));
    return { env: { CODEX_HOME: l.home, [KEY_VAR]: l.gateway.apiKey } };
  },
};

/**
 * The managed config.toml (pure): what Codex wrote there itself is kept, gw's keys are set, and
 * folders the user trusted (or distrusted) in their own config are carried over once.
 */
export function codexConfig(current: Json, user: Json, l: Pick<AgentLaunch, "gateway" | "route">, catalog: string | undefined): Json {
  const providers = tableAt(current, "model_providers");
  providers[PROVIDER] = { name: "gw", base_url: `${l.gateway.baseUrl}/v1`, env_key: KEY_VAR, wire_api: "responses" };
  const projects = { ...tableAt(user, "projects"), ...tableAt(current, "projects") };
  const next: Json = { ...current, model: l.route.name, model_provider: PROVIDER, model_providers: providers };
  if (Object.keys(projects).length > 0) next.projects = projects;
  if (catalog) {
    next.model_catalog_json = catalog;
    delete next.model_context_window;
  } else {
    // A Codex without a catalogue of its own to copy: at least the window.
    delete next.model_catalog_json;
    next.model_context_window = l.route.window;
  }
  return next;
}

/** One route as a Codex model (pure): the template's behaviour, the route's name and window. */
export function catalogEntry(r: OfferedRoute, index: number, bundled: readonly Json[]): Json {
  const plain = bundled.filter(speaksPlainResponses);
  const template = plain.find((m) => r.models.includes(String(m.slug))) ?? first(plain) ?? { ...first(bundled), ...PLAIN };
  return {
    ...template,
    slug: r.name,
    display_name: r.name,
    description: `gw route → ${r.models.join(", ") || r.name}`,
    context_window: r.window,
    max_context_window: r.window,
    priority: index + 1,
    visibility: "list",
    upgrade: null,
    availability_nux: null,
    // Paid speed tiers are the upstream account's business, not a choice made through gw.
    service_tiers: [],
    additional_speed_tiers: [],
  };
}

/**
 * Entries whose requests are the plain Responses API (`instructions`, `tools`), which CLIProxyAPI
 * translates for every provider. Newer OpenAI models use a "lite" shape (tools as an
 * `additional_tools` input item, code-mode tools) that only OpenAI's own backend reads; through
 * a gateway such a model could not run a single tool.
 */
export const speaksPlainResponses = (m: Json): boolean => m.use_responses_lite !== true && (m.tool_mode === undefined || m.tool_mode === null);
/** What turns a "lite" entry back into a plain one, when a Codex ships no plain entry at all. */
const PLAIN = { use_responses_lite: false, tool_mode: null };

/** The one Codex would pick first: listed, lowest priority number. */
function first(models: readonly Json[]): Json | undefined {
  const listed = models.filter((m) => m.visibility === "list");
  return [...(listed.length ? listed : models)].sort((a, b) => Number(a.priority) - Number(b.priority))[0];
}

/**
 * The installed Codex's own model catalogue (`codex debug models --bundled`), cached in the
 * home per Codex executable and version; undefined when this Codex cannot print one.
 */
async function bundledModels(l: AgentLaunch): Promise<Json[] | undefined> {
  const cacheFile = join(l.home, "gw-bundled-models.json");
  const id = await commandId(l.command);
  const cached = readTable(cacheFile);
  if (cached.id === id && Array.isArray(cached.models)) return cached.models.filter(isObject);
  const proc = Bun.spawn([l.command, "debug", "models", "--bundled"], {
    env: { ...l.env, CODEX_HOME: l.home } as Record<string, string>,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "ignore",
    timeout: 20_000,
  });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  let models: unknown;
  try {
    models = code === 0 ? (JSON.parse(out) as Json).models : undefined;
  } catch {
    models = undefined;
  }
  if (!Array.isArray(models) || models.length === 0) return undefined;
  const list = models.filter(isObject);
  await writeTable(cacheFile, { id, models: list });
  return list;
}

/** Which Codex this is: the resolved executable and its size and time (a reinstall changes them). */
async function commandId(command: string): Promise<string> {
  const { realpath, stat } = await import("node:fs/promises");
  const real = await realpath(command).catch(() => command);
  const s = await stat(real).catch(() => undefined);
  return `${real}:${s?.size ?? 0}:${s?.mtimeMs ?? 0}`;
}
