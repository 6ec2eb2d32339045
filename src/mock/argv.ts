// Argument parsing for `gw mock` (pure). It takes the real CLIProxyAPI binary's Go-style flags —
// one or two dashes, `-flag value` or `-flag=value` — so the supervisor can launch either binary
// with the same command line, plus the mock's own knobs.

import type { MockOptions } from "./index.ts";

const LOGIN_FLAGS = [
  "claude-login",
  "codex-login",
  "codex-device-login",
  "antigravity-login",
  "kimi-login",
  "xai-login",
] as const;

const VALUE_FLAGS = new Set([
  "config", "port", "host", "api-key", "name", "models", "fault", "events", "interval", "keepalive",
  "oauth-callback-port", "vertex-import",
]);
const BOOL_FLAGS = new Set(["help", "h", "no-browser", "local-model", ...LOGIN_FLAGS]);
/** Flags older CLIProxyAPI builds had; the current binary rejects them. */
const REMOVED: Record<string, string> = {
  login: "-login (Gemini CLI) was removed from CLIProxyAPI; use -antigravity-login",
  project_id: "-project_id (Gemini CLI) was removed from CLIProxyAPI",
};

export type MockArgs =
  | { kind: "help" }
  | { kind: "login"; flag: string; noBrowser: boolean; config?: string; vertexImport?: string }
  | { kind: "serve"; options: MockOptions };

export class ArgvError extends Error {}

function whole(flag: string, v: string): number {
  if (!/^\d+$/.test(v)) throw new ArgvError(`-${flag} needs a whole number, got "${v}"`);
  return Number(v);
}

export function parseMockArgv(argv: readonly string[]): MockArgs {
  const values: Record<string, string[]> = {};
  const bools = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-") || arg === "-" || arg === "--") throw new ArgvError(`unexpected argument "${arg}"`);
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const name = eq < 0 ? body : body.slice(0, eq);
    if (REMOVED[name]) throw new ArgvError(REMOVED[name]!);
    if (BOOL_FLAGS.has(name)) {
      if (eq >= 0 && !/^(true|1)$/.test(body.slice(eq + 1))) continue; // -flag=false
      bools.add(name);
    } else if (VALUE_FLAGS.has(name)) {
      const value = eq >= 0 ? body.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new ArgvError(`flag ${arg} needs a value`);
      (values[name] ??= []).push(value);
    } else {
      throw new ArgvError(`unknown flag ${arg}`);
    }
  }
  if (bools.has("help") || bools.has("h")) return { kind: "help" };
  const one = (n: string) => values[n]?.at(-1);
  const login = LOGIN_FLAGS.find((f) => bools.has(f)) ?? (one("vertex-import") ? "vertex-import" : undefined);
  if (login) return { kind: "login", flag: login, noBrowser: bools.has("no-browser"), config: one("config"), vertexImport: one("vertex-import") };

  const num = (n: string) => (one(n) === undefined ? undefined : whole(n, one(n)!));
  const port = num("port");
  if (port !== undefined && port > 65535) throw new ArgvError(`-port ${port} is out of range (0-65535)`);
  return {
    kind: "serve",
    options: {
      config: one("config"),
      port,
      host: one("host"),
      apiKeys: values["api-key"],
      name: one("name"),
      models: values.models?.flatMap((m) => m.split(",").map((s) => s.trim()).filter(Boolean)),
      fault: values.fault?.join("~"),
      events: num("events"),
      intervalMs: num("interval"),
      keepaliveMs: num("keepalive"),
    },
  };
}

export const MOCK_HELP = `gw mock — a faithful stand-in for one CLIProxyAPI instance (tests, demo, benchmarks)

Usage
  gw mock -config instances/NAME.yaml     host, port, api-keys, models and keep-alive from the YAML;
                                          it and its auth-dir are watched: changes apply live
  gw mock --port N [--api-key K]...      without a file (port 0 = a free one; no key = no auth)

Flags (one or two dashes, "-flag value" or "-flag=value")
  -config FILE       CLIProxyAPI config YAML            -port N        override its port
  -host ADDR         default 127.0.0.1                  -api-key K     accept this client key (repeat)
  -name NAME         shown in answers (default: the YAML's base name, else "mock")
  -models A,B        accept only these models (added to the YAML's; none = accept any)
  -fault SPEC        default fault for every request    -events N      content deltas per answer (12)
  -interval MS       ms between stream events (0)       -keepalive MS  ": keep-alive" every MS ms in streams
  -claude-login -codex-login -codex-device-login -antigravity-login -kimi-login -xai-login
  -vertex-import FILE -no-browser -oauth-callback-port N -local-model
                     as the real binary; logins only print what it would do and exit 0

Faults: "~"-separated tokens, on the model name (gemini-3-flash~429~gzip), in the request header
x-mock-fault (429~gzip), or as -fault. Precedence: model suffix > header > -fault.
  429[=S]  model_cooldown, reset_seconds S (60)     503  auth_unavailable   401  auth failure
  403      insufficient_quota   sig  400 thinking-signature error   529  overloaded   NNN  generic
  after=N        send the status as an error event inside a 200 stream: after the stream's
                 opening (message_start…, response.created…) and N content events; after=0 is
                 CLIProxyAPI's "200, handshake, then the error" before any content (a Codex
                 client — its User-Agent or Originator — gets Responses' response.failed)
  passthrough    like the YAML's passthrough-headers: true (gw writes it), the only way a 429 gets Retry-After
  gzip           gzip the error body            hang           never answer
  slow-first=MS  delay the status line          interval=MS    delay between events
  gap=MS         pause after the first content event     keepalive=MS  ": keep-alive" every MS ms
  ns-keepalive=MS  non-streamed + slow-first: 200 and a newline every MS ms, then the body (even an error)
  cut=N          reset the connection after N events             events=N  answer length
  empty          a stream whose upstream sent nothing: 200 and no events ([DONE] alone on chat;
                 502 on /v1/responses), as CLIProxyAPI answers it
  think          a signed thinking block first, in every dialect (reasoning item, thought part)
  sig=foreign    the 400 thinking-signature error, only for a request carrying a signature another
                 instance made (a strict verifier, as Anthropic and CLIProxyAPI's signature cache)
  tool[=NAME]    call the request's first declared tool (or the one named NAME) instead of
                 answering text (arguments from its schema's required properties); text once a
                 tool's result is the last message, or when the request declares no such tool
  window=N       the model's context window: a prompt over N tokens (4 bytes a token) gets the
                 upstream's own "too long" 400, in its family's words

Answers name the instance and model; /v1/messages with thinking enabled adds a signed thinking
block (claude#… / gpt#…, Gemini raw), as CLIProxyAPI relays them.

Endpoints: GET|HEAD /healthz; POST /v1/messages, /v1/messages/count_tokens, /v1/chat/completions,
/v1/responses, /v1/responses/compact (also under /backend-api/codex),
/v1beta/models/M:generateContent|streamGenerateContent|countTokens; GET /v1/models,
/v1beta/models; GET /_mock/stats[?last=N], POST /_mock/reset (loopback only).
`;
