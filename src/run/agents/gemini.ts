// Google Gemini CLI (npm @google/gemini-cli). Pointed at gw by GOOGLE_GEMINI_BASE_URL and the
// gateway key as GEMINI_API_KEY, with its settings in GEMINI_CLI_HOME (~/.cache/cld/gemini/.gemini):
// - the auth type "gemini-api-key" (without one it stops at "Invalid auth method selected");
// - the route as the model, for the conversation and for the helpers it runs beside it (loop and
//   next-speaker checks, summaries, compression), which would otherwise ask for Gemini models no
//   route may serve; every other route stays its own, so `-m ROUTE` and `/model` switch;
// - when to compress: Gemini CLI assumes a 1M window for a model it does not know and compresses
//   at half of it, so the threshold is scaled to half the route's window from gw's catalogue.
// - a session id header (GEMINI_CLI_CUSTOM_HEADERS), so gw keeps the session on one target.
// Folder trust stays Gemini CLI's own question: the folders the user trusted (or not) in their
// own ~/.gemini are carried over, and gw trusts none by itself — a cloned repository's
// .gemini/settings.json can start commands, which is what the question guards.
// On a full disk (gw's files for it cannot be written) Gemini CLI starts with its settings as they
// were when they already select the key (the route reaches it as GEMINI_MODEL anyway); without
// that it would stop at "Invalid auth method selected", so gw stops first, saying why.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { homeWriter, type Json, readTable, tableAt, userHome } from "../home.ts";
import { knownAtLeast, npmVersion } from "./installed.ts";
import type { Agent, AgentLaunch } from "./types.ts";
import { oneShotBy } from "./one-shot.ts";
import { newestFile } from "./sessions.ts";

/** The first Gemini CLI seen to honour NO_PROXY (older ones were not measured). */
const NO_PROXY_SINCE = "0.61.0";

/** What Gemini CLI assumes for a model it does not know, and the share of it at which it compresses. */
const GEMINI_ASSUMED_WINDOW = 1_048_576;
const GEMINI_COMPRESSION_SHARE = 0.5;

/** Its commands and aliases, as `gemini --help` lists them. */
const GEMINI_COMMANDS = ["mcp", "extensions", "extension", "skills", "skill", "hooks", "hook", "gemma"];

export const gemini: Agent = {
  name: "gemini",
  summary: "Google Gemini CLI, through the gateway's Gemini API",
  command: "gemini",
  label: "Gemini CLI",
  install: "npm install -g @google/gemini-cli",
  families: ["gemini"],
  commands: GEMINI_COMMANDS,
  oneShot: oneShotBy({ flags: ["-p", "--prompt"], commands: GEMINI_COMMANDS }),
  yolo: ["--yolo"],
  // Each would choose another service (Vertex, a Google login) or another key or model.
  blank: ["GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_GCA", "GOOGLE_API_KEY", "GOOGLE_VERTEX_BASE_URL", "GEMINI_CLI_TRUSTED_FOLDERS_PATH"],
  // Measured with 0.61.0 (test/run/agents-proxy.test.ts): loopback in NO_PROXY goes direct, its
  // own traffic through the proxy. Earlier builds put every request through an undici ProxyAgent,
  // which reads no NO_PROXY (google-gemini/gemini-cli#3340, #6307): for them and any build before
  // the one measured, the proxies are blanked, as before; so for one whose version its layout does
  // not tell (a shim: `gemini --version` takes 3 s, too long to ask on each launch).
  honoursNoProxy: (command) => knownAtLeast(npmVersion(command, "@google/gemini-cli"), NO_PROXY_SINCE),
  // Its exit hint, `gemini --resume ID`, starts Gemini CLI on Google's service (its sign-in): the
  // session, in GEMINI_CLI_HOME/.gemini/tmp/PROJECT/chats/session-….json(l), is named with `gw run gemini`.
  resumeArgs: (l, since) => {
    const dir = join(l.home, ".gemini", "tmp");
    const file = newestFile(dir, /chats\/session-[^/]*\.jsonl?$/, since)?.input;
    const id = file === undefined ? undefined : sessionIdIn(join(dir, file));
    return id ? ["--resume", id] : undefined;
  },
  async prepare(l) {
    const dir = join(l.home, ".gemini");
    const settings = join(dir, "settings.json");
    const files = homeWriter(l.say, "Gemini CLI starts with it as it was");
    const current = readTable(settings);
    await files.put(settings, geminiSettings(current, l), selectsKey(current) ? undefined : `let this user write in ${dir}`);
    const trust = join(dir, "trustedFolders.json");
    const userTrust = readTable(join(userHome(l.env, "GEMINI_CLI_HOME", ""), ".gemini", "trustedFolders.json"));
    await files.put(trust, { ...userTrust, ...readTable(trust) });
    return {
      env: {
        GEMINI_CLI_HOME: l.home,
        GOOGLE_GEMINI_BASE_URL: l.gateway.baseUrl,
        GEMINI_API_KEY: l.gateway.apiKey,
        GEMINI_MODEL: l.route.name,
        GEMINI_CLI_CUSTOM_HEADERS: sessionHeaders(l.env.GEMINI_CLI_CUSTOM_HEADERS, crypto.randomUUID()),
      },
    };
  },
};

/** The managed settings.json (pure): Gemini CLI's own keys kept, gw's set. */
export function geminiSettings(current: Json, l: Pick<AgentLaunch, "route" | "routes">): Json {
  const route = l.route.name;
  const security = tableAt(current, "security");
  security.auth = { ...tableAt(security, "auth"), selectedType: "gemini-api-key" };
  const model: Json = { ...tableAt(current, "model"), name: route };
  const share = (GEMINI_COMPRESSION_SHARE * l.route.window) / GEMINI_ASSUMED_WINDOW;
  if (share < GEMINI_COMPRESSION_SHARE) model.compressionThreshold = Math.round(share * 1000) / 1000;
  else delete model.compressionThreshold;
  // Every helper alias extends `base`; compression of an unknown model uses `chat-compression-default`.
  const helpers = ["base", "chat-compression-default"].map((alias) => ({ match: { model: alias }, modelConfig: { model: route } }));
  // The chat model extends `base` too, so that pin took -m and /model with it. An override of the
  // model's own name is deeper in its chain and wins: each route named stays itself.
  const routes = l.routes.map((r) => ({ match: { model: r.name }, modelConfig: { model: r.name } }));
  const modelConfigs: Json = { ...tableAt(current, "modelConfigs"), customOverrides: [...helpers, ...routes] };
  return { ...current, security, model, modelConfigs };
}

/** Whether settings select the gateway key as Gemini CLI's auth (pure). */
const selectsKey = (settings: Json): boolean => tableAt(tableAt(settings, "security"), "auth").selectedType === "gemini-api-key";

/**
 * Gemini CLI names no session in its requests, so gw could not keep one on one target (and its
 * prompt cache). One launch is one session: its id goes out as `x-session-id` on every request,
 * after the user's own custom headers.
 */
export function sessionHeaders(user: string | undefined, id: string): string {
  return user?.trim() ? `${user.trim()}, x-session-id: ${id}` : `x-session-id: ${id}`;
}

/** The session id a Gemini CLI session file names first (its file name holds only 8 characters of it). */
function sessionIdIn(file: string): string | undefined {
  try {
    return /"sessionId"\s*:\s*"([\w-]+)"/.exec(readFileSync(file, "utf8").slice(0, 4096))?.[1];
  } catch {
    return undefined;
  }
}
