// OpenAI Codex CLI (npm @openai/codex). Pointed at gw by its own config in CODEX_HOME
// (~/.cache/cld/codex): a `gw` model provider whose base URL is the gateway, wire API
// "responses", key from GW_API_KEY; the route as the model. Codex keeps metadata per model slug
// (instructions, tools, context window) and warns "Model metadata for `ROUTE` not found" for any
// other name, so gw writes a model catalogue (model_catalog_json) with one entry per route: the
// installed Codex's own entry for the route's upstream model when it has one, else its first
// model's — among those that speak the plain Responses API a gateway can carry — renamed to the
// route and given the route's context window from gw's catalogue.
// Codex ≥ 0.17x runs its TUI's sessions in a shared background server (an app-server daemon per
// CODEX_HOME) that outlives the launch and keeps the environment of the launch that started it:
// the next `gw run codex` on another gateway sent that old key there (401). gw starts such a
// Codex with --no-daemon, so each launch talks with its own gateway and key.
// The user's ~/.codex is only read, for the folders they trusted.
// On a full disk (gw's files for it cannot be written) Codex starts all the same: what gw sets in
// config.toml goes on its command line (`-c key=value`, which Codex takes over its config file).
import { join } from "node:path";
import { isObject } from "../../json/object.ts";
import { homeWriter, type Json, readTable, tableAt, userHome } from "../home.ts";
import type { OfferedRoute } from "../routes.ts";
import type { Agent, AgentLaunch } from "./types.ts";
import { oneShotBy } from "./one-shot.ts";
import { newestFile, UUID } from "./sessions.ts";

/** The variable Codex reads the gateway key from (the provider's env_key). */
const KEY_VAR = "GW_API_KEY";
const PROVIDER = "gw";
const CATALOG = "gw-models.json";

/** Its commands and aliases, as `codex --help` lists them. */
const CODEX_COMMANDS = [
  "agents", "exec", "e", "review", "login", "logout", "mcp", "plugin", "app-server", "remote-control", "completion", "update", "doctor", "sandbox",
  "debug", "apply", "a", "resume", "queue", "archive", "delete", "migrate-rollouts", "migrate-nfs-db", "unarchive", "fork", "cloud", "exec-server", "features", "help",
];

export const codex: Agent = {
  name: "codex",
  summary: "OpenAI Codex CLI, through the gateway's Responses API",
  command: "codex",
  label: "Codex CLI",
  install: "npm install -g @openai/codex",
  families: ["gpt"],
  commands: CODEX_COMMANDS,
  oneShot: oneShotBy({ commands: CODEX_COMMANDS, sessions: ["resume", "fork"] }),
  // A Rust program: it reads no $NODE_EXTRA_CA_CERTS (with only that set, it retried a gateway
  // behind a private CA for ever), but its own variable.
  caVar: "CODEX_CA_CERTIFICATE",
  yolo: ["--dangerously-bypass-approvals-and-sandbox"],
  // Codex's built-in provider would read these; nothing else of the user's shell points it anywhere.
  blank: ["OPENAI_BASE_URL", "CODEX_HOME"],
  // Its HTTP client (Rust's reqwest) reads NO_PROXY as curl does: with loopback there, its calls
  // to a gateway on this machine go direct and its own (github.com, chatgpt.com) through the
  // user's proxy (measured with 0.171.0: test/run/agents-proxy.test.ts).
  honoursNoProxy: () => true,
  // Its exit hint, `codex resume ID`, starts Codex on OpenAI's own service (its sign-in screen):
  // the session, in CODEX_HOME/sessions/YYYY/MM/DD/rollout-…-ID.jsonl, is named with `gw run codex`.
  resumeArgs: (l, since) => {
    const id = newestFile(join(l.home, "sessions"), new RegExp(`rollout-[^/]*(${UUID})\\.jsonl$`), since)?.[1];
    return id ? ["resume", id] : undefined;
  },
  async prepare(l) {
    const files = homeWriter(l.say, "Codex CLI starts with it as it was");
    const { models: bundled, noDaemon } = await codexFacts(l, files);
    const catalogFile = join(l.home, CATALOG);
    const catalog = bundled && (await files.put(catalogFile, { models: l.routes.map((r, i) => catalogEntry(r, i, bundled)) })) ? catalogFile : undefined;
    const file = join(l.home, "config.toml");
    const config = codexConfig(readTable(file), readTable(join(userHome(l.env, "CODEX_HOME", ".codex"), "config.toml")), l, catalog);
    const written = await files.put(file, config);
    return { env: { CODEX_HOME: l.home, [KEY_VAR]: l.gateway.apiKey }, args: [...(noDaemon ? [NO_DAEMON] : []), ...(written ? [] : codexOverrides(config))] };
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

/** The keys gw sets in config.toml, as Codex's `-c key=value` arguments (pure): for a config.toml that could not be written. */
function codexOverrides(config: Json): string[] {
  const keys = ["model", "model_provider", "model_catalog_json", "model_context_window"].filter((k) => config[k] !== undefined);
  const values: [string, unknown][] = [...keys.map((k): [string, unknown] => [k, config[k]]), [`model_providers.${PROVIDER}`, tableAt(config, "model_providers")[PROVIDER]]];
  return values.flatMap(([k, v]) => ["-c", `${k}=${tomlValue(v)}`]);
}

/** A string, number or flat table as a TOML value: JSON's string escapes are TOML's. */
function tomlValue(v: unknown): string {
  if (isObject(v)) return `{${Object.entries(v).map(([k, x]) => `${k}=${tomlValue(x)}`).join(",")}}`;
  return typeof v === "number" ? String(v) : JSON.stringify(String(v));
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
const speaksPlainResponses = (m: Json): boolean => m.use_responses_lite !== true && (m.tool_mode === undefined || m.tool_mode === null);
/** What turns a "lite" entry back into a plain one, when a Codex ships no plain entry at all. */
const PLAIN = { use_responses_lite: false, tool_mode: null };

/** The one Codex would pick first: listed, lowest priority number. */
function first(models: readonly Json[]): Json | undefined {
  const listed = models.filter((m) => m.visibility === "list");
  return [...(listed.length ? listed : models)].sort((a, b) => Number(a.priority) - Number(b.priority))[0];
}

/** Codex's flag for running without its shared background server (codex --help lists it when it has one). */
const NO_DAEMON = "--no-daemon";
/** Whether a Codex whose `--help` says this has the flag (pure). */
export const offersNoDaemon = (help: string): boolean => new RegExp(`^\\s*${NO_DAEMON}\\b`, "m").test(help);

interface CodexFacts {
  /** Its own model catalogue (`codex debug models --bundled`); undefined when it cannot print one. */
  readonly models?: Json[];
  /** It has a shared background server, and the flag to do without it. */
  readonly noDaemon: boolean;
}

/** What gw asks the installed Codex, cached in the home per Codex executable and version. */
async function codexFacts(l: AgentLaunch, files: ReturnType<typeof homeWriter>): Promise<CodexFacts> {
  const cacheFile = join(l.home, "gw-bundled-models.json");
  const id = await commandId(l.command);
  const cached = readTable(cacheFile);
  if (cached.id === id && typeof cached.noDaemon === "boolean") {
    return { models: Array.isArray(cached.models) ? cached.models.filter(isObject) : undefined, noDaemon: cached.noDaemon };
  }
  const [catalog, help] = await Promise.all([askCodex(l, ["debug", "models", "--bundled"]), askCodex(l, ["--help"])]);
  let models: unknown;
  try {
    models = catalog === undefined ? undefined : (JSON.parse(catalog) as Json).models;
  } catch {
    models = undefined;
  }
  const list = Array.isArray(models) && models.length > 0 ? models.filter(isObject) : undefined;
  const facts = { models: list, noDaemon: help !== undefined && offersNoDaemon(help) };
  await files.put(cacheFile, { id, noDaemon: facts.noDaemon, ...(list ? { models: list } : {}) }); // unwritten: asked again next time
  return facts;
}

/** What `codex ARGS` prints, in gw's home for it; undefined when it fails. */
async function askCodex(l: AgentLaunch, args: readonly string[]): Promise<string | undefined> {
  const proc = Bun.spawn([l.command, ...args], {
    env: { ...l.env, CODEX_HOME: l.home } as Record<string, string>,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "ignore",
    timeout: 20_000,
  });
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return code === 0 ? out : undefined;
}

/** Which Codex this is: the resolved executable and its size and time (a reinstall changes them). */
async function commandId(command: string): Promise<string> {
  const { realpath, stat } = await import("node:fs/promises");
  const real = await realpath(command).catch(() => command);
  const s = await stat(real).catch(() => undefined);
  return `${real}:${s?.size ?? 0}:${s?.mtimeMs ?? 0}`;
}
