// opencode (npm opencode-ai). Pointed at gw by a config file of its own, named by OPENCODE_CONFIG
// (~/.cache/cld/opencode/opencode.json), which opencode merges over the user's global config:
// - a `gw` provider on the AI SDK's Anthropic package, which opencode carries inside (nothing is
//   installed at launch): the gateway's Messages API serves every route, CLIProxyAPI translating
//   for the others. Its key is read from the environment (`{env:GW_API_KEY}`), never written;
// - every route as one of its models, with the route's context window from gw's catalogue —
//   opencode knows no route name, and compacts a conversation at the window it believes;
// - the chosen route as the model (over the user's own choice of model, not over a project's).
// opencode names its session in each request, so gw keeps a session on one target by itself.
// The user's own config, sessions and logins stay opencode's own: gw writes none of them. A config
// file their shell names in OPENCODE_CONFIG is the base of gw's (gw's keys over it): gw's name
// takes its place in that variable, which would drop it.
// On a full disk the same config goes in OPENCODE_CONFIG_CONTENT instead of the file.
import { join, resolve } from "node:path";
import { homeWriter, type Json, readTable, tableAt } from "../home.ts";
import type { OfferedRoute } from "../routes.ts";
import type { Agent, AgentLaunch } from "./types.ts";
import { oneShotBy } from "./one-shot.ts";

const PROVIDER = "gw";
/** Its "ask nothing" flag, taken by its TUI and by `opencode run`. */
const AUTO = "--auto";
/** The variable the provider's key is read from. */
const KEY_VAR = "GW_API_KEY";
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
  // An inline config of the user's shell is merged over every file, gw's too: its model would win.
  blank: ["OPENCODE_CONFIG_CONTENT"],
  // A Bun program: Bun's fetch sends the hosts in NO_PROXY direct (measured with 1.18.33:
  // test/run/agents-proxy.test.ts).
  honoursNoProxy: () => true,
  async prepare(l) {
    const file = join(l.home, "opencode.json");
    const own = l.env.OPENCODE_CONFIG;
    const config = opencodeConfig(readTable(own && resolve(own) !== file ? own : file), l);
    const files = homeWriter(l.say, "gw hands opencode its config in OPENCODE_CONFIG_CONTENT instead");
    const written = await files.put(file, config);
    const where: Record<string, string> = written ? { OPENCODE_CONFIG: file } : { OPENCODE_CONFIG_CONTENT: JSON.stringify(config) };
    return { env: { ...where, [KEY_VAR]: l.gateway.apiKey } };
  },
};

/** The managed opencode.json (pure): what else is there is kept, gw's provider and model are set. */
export function opencodeConfig(current: Json, l: Pick<AgentLaunch, "gateway" | "route" | "routes">): Json {
  const provider = tableAt(current, "provider");
  provider[PROVIDER] = {
    name: "gw",
    npm: "@ai-sdk/anthropic",
    options: { baseURL: `${l.gateway.baseUrl}/v1`, apiKey: `{env:${KEY_VAR}}` },
    models: Object.fromEntries(l.routes.map((r) => [r.name, modelEntry(r)])),
  };
  return { $schema: "https://opencode.ai/config.json", ...current, provider, model: `${PROVIDER}/${l.route.name}` };
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
