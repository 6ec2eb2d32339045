// A team's gw on a server, named by its address alone: $GW_URL (https://gw.example.com, a path
// prefix allowed) and the user's client key in $GW_API_KEY. No providers.toml on the laptop: the
// routes and their windows are what that gw lists at /v1/models. Both come from the environment
// only — never from a file in the current directory, which a cloned repo could bring to send
// Claude Code (and the key) elsewhere — and the key never reaches a command line or a message.
import { CliError } from "../cli/errors.ts";
import { oneLine } from "../cli/one-line.ts";
import type { Env } from "../config/env.ts";
import { isLoopback } from "../config/loopback.ts";
import { nameProblem, ROUTE_NAME } from "../config/names.ts";
import { CLAUDE_ALIAS_PREFIX } from "../lb/model-ids.ts";
import { maskSecret } from "../observe/mask.ts";
import type { Gateway } from "./env.ts";

export const URL_VAR = "GW_URL";
export const KEY_VAR = "GW_API_KEY";

/** TLS handshake and a few round trips to a server across a VPN; a refused port fails at once. */
export const REMOTE_TIMEOUT_MS = 5_000;
/** Shell completion waits no longer than this for the route names (then: the built-ins). */
export const COMPLETION_TIMEOUT_MS = 1_000;

/** What the remote gw lists: its route names (aliases left out), their windows, its router's name. */
interface RemoteListing {
  readonly routes: readonly string[];
  readonly windows: ReadonlyMap<string, number>;
  readonly auto?: string;
}

/** $GW_URL as a base URL (no trailing slash), or the one line that says what is wrong with it. */
export function remoteGatewayOf(env: Env, placeholderKey: string): Gateway | undefined {
  const raw = env[URL_VAR]?.trim();
  if (!raw) return undefined;
  return { baseUrl: parseGatewayUrl(raw), apiKey: env[KEY_VAR] || placeholderKey };
}

/** Pure: `https://host[:port][/prefix]` → the same without a trailing slash; anything else refused in one line. */
function parseGatewayUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Shown masked: a key pasted into the wrong variable must not be printed whole.
    throw new CliError(`$${URL_VAR} is not an address ("${maskSecret(raw)}"): set it as https://HOST[:PORT][/PREFIX]`);
  }
  // Shown in every status line: a key inside the address would be printed; it belongs in $GW_API_KEY.
  if (url.username || url.password) throw new CliError(`$${URL_VAR} holds a user or key (…//***@${url.host}): put the key in $${KEY_VAR} and only https://HOST[/PREFIX] in $${URL_VAR}`);
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new CliError(`$${URL_VAR} must start with https:// or http:// (it is ${url.protocol}//…)`);
  if (url.search || url.hash) throw new CliError(`$${URL_VAR} takes no ?query or #fragment: set it as ${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
}

/**
 * The line cld says for a gw at $GW_URL (pure). Plain http to another machine is said, not
 * refused (a gw on a private network may well be), since the key and every prompt then cross the
 * network readable by anyone on the way.
 */
export function remoteLine(baseUrl: string, routes: number): string {
  const url = new URL(baseUrl);
  const clear = url.protocol === "http:" && !isLoopback(url.hostname) ? "; plain http: your key and prompts cross the network unencrypted (use https:// if that gw has it)" : "";
  return `gw at ${baseUrl} ($${URL_VAR}, no providers.toml): ${routes} routes${clear}`;
}

/**
 * GET /v1/models at the remote gw, as Claude Code asks it. Over fetch, unlike the loopback probe:
 * TLS, the CA certificates the user trusts ($NODE_EXTRA_CA_CERTS and $SSL_CERT_FILE, both read by
 * Bun and so by the native Claude Code; Node agents get the second as the first: launch.ts), and
 * their proxy ($HTTPS_PROXY, $NO_PROXY), as the agent will take them.
 * Every failure is one line naming what to fix.
 */
export async function askRemote(gw: Gateway, env: Env, timeoutMs = REMOTE_TIMEOUT_MS): Promise<RemoteListing> {
  const at = `${gw.baseUrl}/v1/models`;
  let res: Response;
  try {
    res = await fetch(at, { headers: { "anthropic-version": "2023-06-01", authorization: `Bearer ${gw.apiKey}` }, signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
  } catch (err) {
    throw new CliError(unreachable(gw.baseUrl, err, timeoutMs));
  }
  const body = await res.text().catch(() => "");
  if (res.status === 401) {
    const key = env[KEY_VAR] ? `refused the key in $${KEY_VAR} (401)` : `wants a key (401) and $${KEY_VAR} is not set`;
    throw new CliError(`the gateway at ${gw.baseUrl} ${key}: set ${KEY_VAR} to your client key for that gw (one of its [global] api_keys)`);
  }
  // gw's 403 is never about the key (that is 401): a Host it does not know behind a proxy, a path
  // that is not an API. Its own words say which, and the fix.
  if (res.status === 403) throw new CliError(`the gateway at ${gw.baseUrl} refused the request (403): ${refusalIn(body) ?? `check $${URL_VAR}`}`);
  const listing = res.status === 200 ? listingIn(body) : undefined;
  if (listing) return listing;
  const what = res.status === 200 ? "answered, but not with gw's model list" : `answered ${res.status}`;
  const fix = res.status >= 500 ? "the proxy there is up but gw behind it is not answering: check that gw runs on that server" : `check $${URL_VAR} (the path prefix too, if gw sits under one)`;
  throw new CliError(`${at} ${what}: ${fix}`);
}

/** Pure: the message of an error answer (gw's, in Anthropic's shape), on one line and short; undefined when there is none. */
function refusalIn(body: string): string | undefined {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    return typeof message === "string" && message ? oneLine(message).slice(0, 300) : undefined;
  } catch {
    return undefined;
  }
}

/** Pure: gw's Anthropic-shaped model list → its routes; undefined when the body is not one. */
function listingIn(body: string): RemoteListing | undefined {
  let list: { data?: unknown };
  try {
    list = JSON.parse(body) as { data?: unknown };
  } catch {
    return undefined;
  }
  if (!Array.isArray(list.data)) return undefined;
  // Only names a gw config may give a route: an id reaches the terminal (menu, launch line,
  // title), the agent's environment and config files, so one with an escape sequence, a line
  // break or a leading "-" from a hostile or broken server is left out.
  const entries = list.data.filter((m): m is { id: string; max_input_tokens?: unknown; description?: unknown } => typeof m?.id === "string" && nameProblem(ROUTE_NAME, m.id) === undefined);
  const ids = new Set(entries.map((m) => m.id));
  // Each route is listed a second time under the id Claude Code's picker keeps (lb/model-ids.ts).
  const named = entries.filter((m) => !(m.id.startsWith(CLAUDE_ALIAS_PREFIX) && ids.has(m.id.slice(CLAUDE_ALIAS_PREFIX.length))));
  const windows = new Map<string, number>();
  for (const m of entries) if (typeof m.max_input_tokens === "number") windows.set(m.id, m.max_input_tokens);
  const auto = named.find((m) => typeof m.description === "string" && m.description.startsWith("gw router"))?.id;
  return { routes: named.map((m) => m.id), windows, ...(auto === undefined ? {} : { auto }) };
}

// --- internal ---

/** Why fetch found nobody there, and what to do about it. */
function unreachable(base: string, err: unknown, timeoutMs: number): string {
  const e = err as { code?: string; name?: string; message?: string };
  const code = e.code ?? e.name ?? "";
  if (code === "TimeoutError") return `the gateway at ${base} did not answer within ${timeoutMs / 1000} s: check that gw runs there and that this machine reaches it (curl ${base}/healthz)`;
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ISSUER|TLS|SSL/i.test(code)) {
    return `the gateway at ${base} has a TLS certificate this machine does not trust (${code}): set NODE_EXTRA_CA_CERTS to its CA certificate (a PEM file; Claude Code reads it too)`;
  }
  return `cannot reach the gateway at ${base} (${code || e.message}): check $${URL_VAR} and that this machine reaches it (curl ${base}/healthz)`;
}
