// Qwen Code (npm @qwen-code/qwen-code). Pointed at gw by a settings file of gw's, named as Qwen
// Code's system settings (QWEN_CODE_SYSTEM_SETTINGS_PATH=~/.cache/cld/qwen/settings.json), which
// it merges over the user's ~/.qwen/settings.json and a project's .qwen/settings.json alike:
// - the Anthropic auth type, with every route as one of its Anthropic models on the gateway's
//   Messages API (CLIProxyAPI translating for the others), the key read from GW_API_KEY and never
//   written; a project's settings cannot send a route elsewhere (measured: system settings win);
// - each model's context window from gw's catalogue (`contextWindowSize`): Qwen Code knows no
//   route name, and compresses a conversation at the window it believes;
// - its own session id as `x-session-id` on every request (`${session_id}`, which Qwen Code
//   fills in only when outboundCorrelation allows it), so gw keeps a session on one target;
// - the chosen route as the model.
// The user's ~/.qwen (sessions, memories, their own settings) stays Qwen Code's own, and an
// administrator's system settings are the base of gw's file (gw's keys over them). Qwen Code adds
// its settings version (`$version`) to the file; gw leaves it there, so a launch like the last one
// writes nothing.
// On a full disk Qwen Code starts from the command line instead (--auth-type, --model, and the
// gateway in ANTHROPIC_BASE_URL / ANTHROPIC_API_KEY): the route, without the window or session.
import { join } from "node:path";
import type { Env } from "../../config/env.ts";
import { homeWriter, type Json, readTable, tableAt, userHome } from "../home.ts";
import type { OfferedRoute } from "../routes.ts";
import { knownAtLeast, npmVersion } from "./installed.ts";
import type { Agent, AgentLaunch, Prepared } from "./types.ts";
import { oneShotBy } from "./one-shot.ts";
import { newestFile, UUID } from "./sessions.ts";

/** The first Qwen Code seen to send the hosts in NO_PROXY direct (older ones were not measured). */
const NO_PROXY_SINCE = "0.24.4";
/** The variable the models' key is read from. */
const KEY_VAR = "GW_API_KEY";
const AUTH_TYPE = "anthropic";
/** What Qwen Code adds to a settings file itself. */
const QWEN_OWN_KEYS = ["$version"];

/** Its commands, as `qwen --help` lists them. */
const QWEN_COMMANDS = ["auth", "board", "channel", "extensions", "hooks", "mcp", "review", "sandbox", "serve", "sessions", "update"];

export const qwen: Agent = {
  name: "qwen",
  summary: "Qwen Code, through the gateway's Messages API (every route in its /model list)",
  command: "qwen",
  label: "Qwen Code",
  install: "npm install -g @qwen-code/qwen-code",
  families: "any",
  commands: QWEN_COMMANDS,
  oneShot: oneShotBy({ flags: ["-p", "--prompt"], commands: QWEN_COMMANDS }),
  yolo: ["--yolo"],
  // Its own settings, a project's and ANTHROPIC_* / OPENAI_* of the shell all lose to the system
  // settings gw names (measured with 0.24.4): nothing of the user's needs blanking.
  blank: [],
  // Measured with 0.24.4 (test/run/agents-proxy.test.ts): loopback in NO_PROXY goes direct, its own traffic through the proxy.
  honoursNoProxy: (command) => knownAtLeast(npmVersion(command, "@qwen-code/qwen-code"), NO_PROXY_SINCE),
  // Its exit hint, `qwen --resume ID`, starts Qwen Code on the user's own auth (gw's settings are
  // not there): the session, in its runtime dir's projects/PROJECT/chats/ID.jsonl, is named with `gw run qwen`.
  resumeArgs: (l, since) => {
    const runtime = l.env.QWEN_RUNTIME_DIR || userHome(l.env, "QWEN_HOME", ".qwen");
    const id = newestFile(join(runtime, "projects"), new RegExp(`chats/(${UUID})\\.jsonl$`), since)?.[1];
    return id ? ["--resume", id] : undefined;
  },
  async prepare(l): Promise<Prepared> {
    const file = join(l.home, "settings.json");
    const files = homeWriter(l.say, "Qwen Code starts with the route and the gateway from its command line, without the route's window or a session id");
    // Over the system settings Qwen Code would have read (an administrator's): gw's keys win, the rest stays.
    if (await files.put(file, qwenSettings(readTable(systemSettingsPath(l.env)), l), undefined, QWEN_OWN_KEYS)) return { env: { QWEN_CODE_SYSTEM_SETTINGS_PATH: file, [KEY_VAR]: l.gateway.apiKey } };
    return {
      env: { ANTHROPIC_BASE_URL: l.gateway.baseUrl, ANTHROPIC_API_KEY: l.gateway.apiKey },
      args: ["--auth-type", AUTH_TYPE, "--model", l.route.name],
    };
  },
};

/** Where Qwen Code reads its system settings when gw names none: the shell's own choice, else its platform's file. */
export function systemSettingsPath(env: Env, platform: NodeJS.Platform = process.platform): string {
  if (env.QWEN_CODE_SYSTEM_SETTINGS_PATH) return env.QWEN_CODE_SYSTEM_SETTINGS_PATH;
  if (platform === "darwin") return "/Library/Application Support/QwenCode/settings.json";
  return platform === "win32" ? "C:\\ProgramData\\qwen-code\\settings.json" : "/etc/qwen-code/settings.json";
}

/** The managed settings.json (pure): what else is there is kept, gw's auth type, models and model are set. */
export function qwenSettings(current: Json, l: Pick<AgentLaunch, "gateway" | "route" | "routes">): Json {
  const security = tableAt(current, "security");
  security.auth = { ...tableAt(security, "auth"), selectedType: AUTH_TYPE };
  const modelProviders = { ...tableAt(current, "modelProviders"), [AUTH_TYPE]: l.routes.map((r) => modelEntry(r, l.gateway.baseUrl)) };
  const outboundCorrelation = { ...tableAt(current, "outboundCorrelation"), allowDynamicHeaderValues: true };
  return { ...current, security, modelProviders, outboundCorrelation, model: { ...tableAt(current, "model"), name: l.route.name } };
}

/** One route as a Qwen Code model (pure): the name the client sends, its window, the session header. */
function modelEntry(r: OfferedRoute, baseUrl: string): Json {
  return {
    id: r.name,
    name: r.name,
    baseUrl,
    envKey: KEY_VAR,
    generationConfig: { contextWindowSize: r.window, customHeaders: { "x-session-id": "${session_id}" } },
  };
}
