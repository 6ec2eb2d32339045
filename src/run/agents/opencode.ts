// opencode (npm opencode-ai). Pointed at gw by an inline config, OPENCODE_CONFIG_CONTENT, which
// opencode merges last of all the user's and a project's sources (after ~/.config/opencode, the
// file in OPENCODE_CONFIG, a project's opencode.json and its .opencode directories; only an
// administrator's managed config comes after it: measured with 1.18.33). So a cloned repository's
// opencode.json cannot send gw's provider, with the gateway key, anywhere else. It holds:
// - a `gw` provider on the AI SDK's Anthropic package, which opencode carries inside (nothing is
//   installed at launch): the gateway's Messages API serves every route, CLIProxyAPI translating
//   for the others. Its key is read from the environment (`{env:GW_API_KEY}`), never written;
// - every route as one of its models, with the route's context window from gw's catalogue —
//   opencode knows no route name, and compacts a conversation at the window it believes;
// - the chosen route as the model, and as the small model (titles, summaries) the route cld gives
//   Claude Code's fast tier: a small model of the user's own provider took the prompt elsewhere;
// - the user's enabled_providers with gw added, their disabled_providers without it: a list
//   leaving gw out stopped opencode at "Unexpected server error".
// opencode names its session in each request, so gw keeps a session on one target by itself.
// The user's own config (their files, OPENCODE_CONFIG), sessions and logins stay opencode's own:
// gw writes none of them and nothing of its own. An inline config of the user's shell is the base
// of gw's (gw's keys over it), since gw's takes its place in that variable.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { isObject } from "../../json/object.ts";
import { type Json, readTable, tableAt, userHome } from "../home.ts";
import { chooseRoute, type ChooseContext } from "../choose.ts";
import type { OfferedRoute } from "../routes.ts";
import type { Agent, AgentLaunch } from "./types.ts";
import { fastRoute } from "./claude/choose.ts";
import { oneShotBy } from "./one-shot.ts";
import { newestOpencodeSession } from "./sessions.ts";

const PROVIDER = "gw";
/** Its "ask nothing" flag, taken by its TUI and by `opencode run`. */
const AUTO = "--auto";
/** The variable the provider's key is read from. */
const KEY_VAR = "GW_API_KEY";
/** opencode's inline config: merged after every file of the user's and a project's. */
const INLINE_VAR = "OPENCODE_CONFIG_CONTENT";
/**
 * opencode requires an output limit beside the window and caps what it asks for at 32,000 tokens
 * anyway (its OUTPUT_TOKEN_MAX): the cap, which is also what it asks of a model it has no limit for.
 */
const OUTPUT_TOKENS = 32_000;

/** Its commands and aliases, as `opencode --help` lists them. */
const OPENCODE_COMMANDS = [
  "completion", "acp", "mcp", "attach", "run", "debug", "providers", "auth", "agent", "upgrade", "uninstall", "serve",
  "web", "models", "stats", "export", "import", "github", "pr", "session", "plugin", "plug", "db",
];

export const opencode: Agent = {
  name: "opencode",
  summary: "opencode, through the gateway's Messages API (every route in its model list)",
  command: "opencode",
  label: "opencode",
  install: "npm install -g opencode-ai",
  families: "any",
  commands: OPENCODE_COMMANDS,
  oneShot: oneShotBy({ commands: OPENCODE_COMMANDS, sessions: ["attach"] }),
  yolo: [AUTO],
  arrange: autoAfterRun,
  // gw's config goes in the variable that comes last: nothing of the user's shell is left to blank.
  blank: [],
  // A Bun program: Bun's fetch sends the hosts in NO_PROXY direct (measured with 1.18.33:
  // test/run/agents-proxy.test.ts).
  honoursNoProxy: () => true,
  choose: chooseWithSmall,
  // Its exit hint, `opencode -s ID`, starts opencode without gw's provider (an unknown model): the
  // session, in its database (XDG_DATA_HOME/opencode/opencode.db), is named with `gw run opencode`.
  resumeArgs: (l, since) => {
    const id = newestOpencodeSession(join(userHome(l.env, "XDG_DATA_HOME", ".local/share"), "opencode", "opencode.db"), since);
    return id ? ["-s", id] : undefined;
  },
  async prepare(l) {
    const inline = opencodeConfig(parseInline(l.env[INLINE_VAR]), l, providerLists(l.env, process.cwd()));
    return { env: { [INLINE_VAR]: JSON.stringify(inline), [KEY_VAR]: l.gateway.apiKey } };
  },
};

/** The route, as for any agent, and the small model's route: what cld gives Claude Code's fast tier for it. */
async function chooseWithSmall(c: ChooseContext) {
  const chosen = await chooseRoute(c);
  return { ...chosen, roles: { small: fastRoute(c.src, chosen.route.name) } };
}

/** The user's enabled_providers and disabled_providers as opencode would read them (the last source setting each). */
interface ProviderLists {
  readonly enabled?: readonly string[];
  readonly disabled?: readonly string[];
}

/**
 * gw's inline config (pure), over the user's own inline config: gw's provider, its route as the
 * model and small model, gw in the user's provider lists; the rest of `current` kept.
 */
export function opencodeConfig(current: Json, l: Pick<AgentLaunch, "gateway" | "route" | "routes" | "roles">, lists: ProviderLists = {}): Json {
  const provider = tableAt(current, "provider");
  provider[PROVIDER] = {
    name: "gw",
    npm: "@ai-sdk/anthropic",
    options: { baseURL: `${l.gateway.baseUrl}/v1`, apiKey: `{env:${KEY_VAR}}` },
    models: Object.fromEntries(l.routes.map((r) => [r.name, modelEntry(r)])),
  };
  const small = l.roles?.small ?? l.route.name;
  const next: Json = { $schema: "https://opencode.ai/config.json", ...current, provider, model: `${PROVIDER}/${l.route.name}`, small_model: `${PROVIDER}/${small}` };
  if (lists.enabled) next.enabled_providers = [...new Set([...lists.enabled, PROVIDER])];
  if (lists.disabled?.includes(PROVIDER)) next.disabled_providers = lists.disabled.filter((p) => p !== PROVIDER);
  return next;
}

/**
 * The provider lists of every source opencode reads before gw's inline config, in its order (a
 * later list replaces an earlier one): its global config dir's config.json, opencode.json and
 * opencode.jsonc, the file the user's shell names in OPENCODE_CONFIG, the project's files from
 * `cwd` up (projectFiles: a repository's own list left gw out, and the launch stopped), the
 * user's inline config.
 */
export function providerLists(env: AgentLaunch["env"], cwd: string): ProviderLists {
  const dir = join(userHome(env, "XDG_CONFIG_HOME", ".config"), "opencode");
  const files = [...["config.json", "opencode.json", "opencode.jsonc"].map((f) => join(dir, f)), ...(env.OPENCODE_CONFIG ? [env.OPENCODE_CONFIG] : []), ...(env.OPENCODE_DISABLE_PROJECT_CONFIG ? [] : projectFiles(cwd))];
  const sources = [...files.map(readTable), parseInline(env[INLINE_VAR])];
  const last = (key: string) => sources.reduce<string[] | undefined>((found, s) => (Array.isArray(s[key]) ? s[key].map(String) : found), undefined);
  return { enabled: last("enabled_providers"), disabled: last("disabled_providers") };
}

/**
 * A project's config files as opencode finds them, from `cwd` up to
 * its worktree (the git checkout's top, else /): every opencode.jsonc, then every opencode.json,
 * each outermost first; then the .opencode directories' files. opencode merges the directories
 * after the inline config, yet measured with 1.18.33 gw's inline keys still win over them.
 */
export function projectFiles(cwd: string): string[] {
  const dirs: string[] = [];
  for (let d = resolve(cwd); ; d = dirname(d)) {
    dirs.push(d);
    if (existsSync(join(d, ".git")) || dirname(d) === d) break;
  }
  const outermostFirst = dirs.toReversed();
  return [
    ...outermostFirst.map((d) => join(d, "opencode.jsonc")),
    ...outermostFirst.map((d) => join(d, "opencode.json")),
    ...dirs.flatMap((d) => [join(d, ".opencode", "opencode.jsonc"), join(d, ".opencode", "opencode.json")]),
  ].filter((f) => existsSync(f));
}

/** An inline config of the user's shell ({} when none, or not a JSON object). */
function parseInline(text: string | undefined): Json {
  if (!text?.trim()) return {};
  try {
    const doc: unknown = Bun.JSONC.parse(text);
    return isObject(doc) ? (doc as Json) : {};
  } catch {
    return {};
  }
}

/** One route as an opencode model (pure): its name as the client sends it (opencode shows it in its prompt line). */
function modelEntry(r: OfferedRoute): Json {
  return { name: r.name, limit: { context: r.window, output: OUTPUT_TOKENS } };
}

/**
 * opencode reads its flags after its subcommand: `opencode --auto run …` prints its help. So -y,
 * wherever it was written (`gw run opencode -y opus run …`), goes after `run` (pure).
 */
export function autoAfterRun(args: readonly string[]): readonly string[] {
  const run = args.indexOf("run");
  if (run === -1 || !args.slice(0, run).includes(AUTO)) return args;
  return [...args.slice(0, run).filter((a) => a !== AUTO), "run", AUTO, ...args.slice(run + 1)];
}
