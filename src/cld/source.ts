// Where cp mode's (and every `gw run` agent's) routes, scenarios and gateway address come from:
// the config chooseConfig picks (choose.ts), else the old launcher's built-ins. cld says which in one line. A broken
// config costs one warning line, not the session; a config cld may not use without asking is
// confirmed on the terminal (or refused in one line when there is none).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { CliError } from "../cli/errors.ts";
import { displayPath } from "../cli/display-path.ts";
import { isLoopback } from "../config/loopback.ts";
import type { Config, Scenario } from "../config/types.ts";
import { routedModels } from "../config/routed-models.ts";
import { clientUrl, describeSeveral, listRunning, type RunningGw } from "../supervisor/registry.ts";
import { typed } from "../supervisor/self.ts";
import { chooseConfig, type ConfigChoice, type ConfigFacts } from "./choose.ts";
import { confirmation, fingerprint, rememberConfirmed } from "./confirmed.ts";
import type { Gateway } from "./env.ts";
import type { Env } from "./memory.ts";
import { pick } from "./picker.ts";
import { askRemote, COMPLETION_TIMEOUT_MS, KEY_VAR, REMOTE_TIMEOUT_MS, remoteGatewayOf, remoteLine, URL_VAR } from "./remote.ts";
import { say } from "./say.ts";
import { BUILTIN_ROUTES, DEFAULT_SCENARIOS } from "./scenarios.ts";
import { confirm, hasTerminal } from "./tty.ts";
import { realOf } from "../fs/same-path.ts";

export interface CldSource {
  readonly file: string | null;
  /** The loaded config (route targets: families, windows and prices); null for the built-in routes. */
  readonly config: Config | null;
  /** Route names, and the router's model (`auto`) when the config routes it. */
  readonly routes: readonly string[];
  /** The model the gateway's `auto` router takes (enabled, not in shadow mode), for the Auto scenario. */
  readonly auto?: string;
  readonly scenarios: Readonly<Record<string, Scenario>>;
  readonly gateway: Gateway;
  /** The windows the gateway listed when cld asked it already (a gw named by $GW_URL). */
  readonly windows?: ReadonlyMap<string, number>;
  /** The one line cld prints: which config (or why none) and where Claude Code is sent. */
  readonly line: string;
}

interface SourceOptions {
  /** False for shell completion: never a question, never an error — the built-ins instead. */
  readonly ask: boolean;
  /** cld's cache directory (the confirmed files are remembered there). */
  readonly cacheDir: string;
  /** Who is launched, for the messages (default: Claude Code by `cld`; `gw run codex` names Codex CLI). */
  readonly client?: Client;
}

/** The program the config sends somewhere, and the command the user typed to launch it. */
interface Client {
  readonly label: string;
  readonly command: string;
}

const CLD: Client = { label: "Claude Code", command: "cld" };

/** The config reader (and smol-toml), loaded once there is a file to read: TAB's route list often has none. */
const configReader = () => import("../config/index.ts");

/** The old launcher's key; the gateway accepts anything when [global] api_keys is empty. */
const PLACEHOLDER_KEY = "dummy-key";
const DEFAULT_PORT = 8145;
const WILDCARDS = new Set(["", "0.0.0.0", "::", "[::]"]);

/** Where a client on this machine reaches the LB of a config (pure). */
export function gatewayOf(config: Config | null): Gateway {
  if (!config) return { baseUrl: `http://127.0.0.1:${DEFAULT_PORT}`, apiKey: PLACEHOLDER_KEY };
  const host = config.global.bindHost;
  const reachable = WILDCARDS.has(host) ? "127.0.0.1" : host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return { baseUrl: `http://${reachable}:${config.global.mainPort}`, apiKey: config.global.apiKeys[0] || PLACEHOLDER_KEY };
}

/**
 * The router's first activation model when the router rewrites (in shadow mode it decides but
 * sends `auto` on unchanged, which no instance serves).
 */
function routerModel(config: Config | null): string | undefined {
  return routedModels(config?.global.lb.router)[0];
}

export function sourceOf(file: string | null, config: Config | null, line: string, running?: RunningGw): CldSource {
  const gateway = gatewayOf(config);
  const auto = routerModel(config);
  const routes = config && config.routes.size > 0 ? [...config.routes.keys()] : BUILTIN_ROUTES;
  return {
    file,
    config,
    routes: auto === undefined || routes.includes(auto) ? routes : [...routes, auto],
    ...(auto === undefined ? {} : { auto }),
    scenarios: config?.cld.scenarios ?? DEFAULT_SCENARIOS,
    // A running gw may listen elsewhere than main_port says (gw up --port N): ask the gw.
    gateway: running ? { ...gateway, baseUrl: clientUrl(running) } : gateway,
    line,
  };
}

const builtin = (why: string) => sourceOf(null, null, `${why}: built-in routes → ${gatewayOf(null).baseUrl}`);

export async function loadCldSource(explicit: string | undefined, env: Env, opts: SourceOptions): Promise<CldSource> {
  const client = opts.client ?? CLD;
  const choice = chooseConfig(await factsOf(explicit, env, opts.cacheDir));
  switch (choice.kind) {
    case "builtin":
      return builtin("no config chosen (no -c, $CLD_TOML, $GW_CONFIG, running gw or ./providers.toml)");
    case "several":
      if (!opts.ask) return builtin("several gws are running");
      return fromFile(await chooseRunning(choice.running, env, client), client, env, opts);
    case "ask":
      return askFirst(choice, env, opts, client);
    case "file":
      return fromFile(choice, client, env, opts);
    case "remote":
      return fromRemote(env, opts);
  }
}

// --- internal ---

async function factsOf(explicit: string | undefined, env: Env, cacheDir: string): Promise<ConfigFacts> {
  const gatewayUrl = env[URL_VAR]?.trim() || undefined;
  if (explicit || env.CLD_TOML || env.GW_CONFIG || gatewayUrl) {
    const running = gatewayUrl && !explicit ? [] : await listRunning(env);
    const abs = (p: string | undefined) => (p ? asServed(resolve(p), running) : undefined);
    return { flag: abs(explicit), cldToml: abs(env.CLD_TOML), gwConfig: abs(env.GW_CONFIG), gatewayUrl, running };
  }
  const running = await listRunning(env);
  const here = asServed(resolve("providers.toml"), running);
  const exists = existsSync(here);
  return {
    running,
    ...(exists ? { here, hereConfirmed: await confirmation(cacheDir, here, await fingerprint(here)) } : {}),
  };
}

/**
 * A path under the name the running gw that serves the same file registered it by: a symlink
 * to it, or the link a gw was started through, is that gw's file, reached where it listens.
 */
function asServed(path: string, running: readonly RunningGw[]): string {
  // The gw registered under this very path first: two gws may serve two links to one file.
  if (running.some((r) => r.config === path)) return path;
  const real = realOf(path);
  return running.find((r) => realOf(r.config) === real)?.config ?? path;
}

/**
 * A team's gw named by $GW_URL: its routes are what it lists, the scenarios the built-in ones.
 * Asked before any menu, so a wrong key or address stops here in one line. Shell completion
 * (no questions) falls back to the built-ins when it does not answer.
 */
async function fromRemote(env: Env, opts: SourceOptions): Promise<CldSource> {
  try {
    const gateway = remoteGatewayOf(env, PLACEHOLDER_KEY)!;
    return await listedBy(gateway, env, opts, (routes) => remoteLine(gateway.baseUrl, routes));
  } catch (err) {
    if (opts.ask) throw err;
    return builtin(`the gw at $${URL_VAR} did not answer`);
  }
}

/** A gateway's routes and windows as it lists them at /v1/models (no config at hand), with the built-in scenarios. */
async function listedBy(gateway: Gateway, env: Env, opts: SourceOptions, line: (routes: number) => string): Promise<CldSource> {
  const listing = await askRemote(gateway, env, opts.ask ? REMOTE_TIMEOUT_MS : COMPLETION_TIMEOUT_MS);
  return { file: null, config: null, routes: listing.routes, ...(listing.auto === undefined ? {} : { auto: listing.auto }), scenarios: DEFAULT_SCENARIOS, gateway, windows: listing.windows, line: line(listing.routes.length) };
}

/**
 * A file that does not load here (an edit gone wrong; a `${VAR}` set only where gw was started)
 * while a gw serves it: that gw runs its last good version, so Claude Code goes there, with the
 * routes it lists — not to the built-in address, which may be another gw or nothing.
 */
async function fromServing(file: string, running: RunningGw, why: string, env: Env, opts: SourceOptions): Promise<CldSource> {
  const gateway: Gateway = { baseUrl: clientUrl(running), apiKey: env[KEY_VAR] || PLACEHOLDER_KEY };
  return listedBy(gateway, env, opts, (routes) => `${displayPath(file)}: ${why}; the gw running as pid ${running.pid} serves its last good version → ${gateway.baseUrl} (${routes} routes it lists)`);
}

type FileChoice = Extract<ConfigChoice, { kind: "file" }>;

/**
 * Several gws run and none serves ./providers.toml: on a terminal, a menu of them (each the user
 * started, so choosing one is naming it); without one, the list and how to name one.
 */
async function chooseRunning(running: readonly RunningGw[], env: Env, client: Client): Promise<FileChoice> {
  const several = new CliError(describeSeveral(running), 1, `choose one: ${client.command} -c FILE …`);
  if (!hasTerminal()) throw several;
  const choices = running.map((r) => ({ key: `${displayPath(r.config)} (pid ${r.pid})`, detail: `→ ${clientUrl(r)}` }));
  const picked = await pick({ title: "Gateway", choices, path: env.PATH, hint: several.hint });
  const gw = picked && running[choices.findIndex((c) => c.key === picked.key)];
  if (!gw) throw new CliError("no gateway chosen", 130);
  return { kind: "file", file: gw.config, origin: `the gw running as pid ${gw.pid}, chosen`, named: true, running: gw };
}

async function fromFile(choice: FileChoice, client: Client, env: Env, opts: SourceOptions): Promise<CldSource> {
  const { file } = choice;
  try {
    const { config, problems } = await (await configReader()).loadConfig(file);
    if (!config) {
      const errors = problems.filter((p) => p.severity === "error");
      const why = `${errors[0]?.message}${errors.length > 1 ? ` (+${errors.length - 1} more: gw check)` : ""}`;
      // (shell completion asks nothing and never fails: the built-ins when that gw does not list)
      if (choice.running) return await fromServing(file, choice.running, why, env, opts).catch((err) => (opts.ask ? Promise.reject(err) : builtin(`${displayPath(file)}: ${why}`)));
      return sourceOf(file, null, `${displayPath(file)}: ${why}; using the built-in routes and ${gatewayOf(null).baseUrl}`);
    }
    const src = ownKey(sourceOf(file, config, "", choice.running), config, env);
    if (!choice.named) await refuseEnvSecretAbroad(file, src.gateway, client);
    return { ...src, line: `config ${displayPath(file)} (${choice.origin}) → ${src.gateway.baseUrl}` };
  } catch (err) {
    if (err instanceof CliError) throw err;
    const why = err instanceof Error ? err.message : String(err);
    return sourceOf(file, null, `cannot read ${file} (${why}); using the built-in routes`);
  }
}

/**
 * The user's own client key ($GW_API_KEY) when the config lists it: on the team's server, its
 * operator's requests are booked to them (gw usage --by client), not to whoever holds the first
 * key. Only one of the file's own: a key the file does not list would be refused anyway.
 */
function ownKey(src: CldSource, config: Config, env: Env): CldSource {
  const mine = env[KEY_VAR];
  return mine && mine !== src.gateway.apiKey && config.global.apiKeys.includes(mine) ? { ...src, gateway: { ...src.gateway, apiKey: mine } } : src;
}

/** ./providers.toml the user has not confirmed (in this version): ask once, on the terminal. */
async function askFirst(choice: Extract<ConfigChoice, { kind: "ask" }>, env: Env, opts: SourceOptions, client: Client): Promise<CldSource> {
  const shown = displayPath(choice.file);
  const cmd = client.command;
  if (!opts.ask) return builtin(`${shown} is not confirmed for ${cmd}`);
  const unconfirmed = new CliError(`${shown} is not confirmed for ${cmd}, and there is no terminal to ask`, 1, `name it if you trust it: ${typed(cmd)} -c ${shown} …  (or run ${typed(cmd)} once in a terminal to confirm it)`);
  if (!hasTerminal()) throw unconfirmed;
  const { config } = await (await configReader()).loadConfig(choice.file).catch(() => ({ config: null }));
  // A file that would be refused once confirmed is refused now, before the question shows its address.
  // One read of the file without the environment serves the refusal and the address shown.
  const own = config ? await gatewayWithoutEnvironment(choice.file) : undefined;
  if (config) await refuseEnvSecretAbroad(choice.file, gatewayOf(config), client, async () => own);
  const where = config ? addressAsWritten(gatewayOf(config).baseUrl, own) : "(it has errors; gw check lists them)";
  say(`${shown} ${choice.changed ? "changed since you confirmed it" : `was not chosen for ${cmd} before`}; it sends ${client.label} to ${where}`, cmd);
  const yes = confirm(`Use ${shown} for ${cmd} (asked again when it changes)?`);
  if (yes === null) throw unconfirmed;
  if (!yes) return builtin(`not using ${shown}`);
  await rememberConfirmed(opts.cacheDir, choice.file, await fingerprint(choice.file));
  return fromFile({ kind: "file", file: choice.file, origin: "./providers.toml, confirmed", named: false }, client, env, opts);
}

/**
 * The gateway `file` gives with a stand-in for each `${VAR}` it names (.env beside it still
 * applies): what differs from the real one came from the user's environment. In the address a
 * stand-in reads as the `${VAR}` it stands for; undefined when the file does not load even so.
 */
async function gatewayWithoutEnvironment(file: string): Promise<Gateway | undefined> {
  const names = [...new Set([...(await Bun.file(file).text()).matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!))];
  const standIn = (i: number) => `gw-stand-in-${i}`;
  const env = Object.fromEntries(names.map((name, i) => [name, standIn(i)]));
  const { config } = await (await configReader()).loadConfig(file, { env }).catch(() => ({ config: null }));
  if (!config) return undefined;
  const own = gatewayOf(config);
  return { ...own, baseUrl: names.reduce((url, name, i) => url.replaceAll(standIn(i), `\${${name}}`), own.baseUrl) };
}

/**
 * The address to show for a file the user has not confirmed: as the file gives it, or — when a
 * `${VAR}` of the user's environment goes into it — not the value, which may be anything.
 */
function addressAsWritten(url: string, own: Gateway | undefined): string {
  return own?.baseUrl === url ? url : "an address it takes from your environment";
}

/**
 * A config nobody named may not send a secret from the user's environment (a `${VAR}`) to a host
 * that is not this machine: a checkout's providers.toml could otherwise ship any variable to any
 * server — as the key, or inside the address itself (`host = "${GITHUB_TOKEN}.example.com"`, which
 * the very first lookup gives away). Naming the file (-c, $CLD_TOML, $GW_CONFIG) lifts this.
 */
async function refuseEnvSecretAbroad(file: string, gw: Gateway, client: Client, withoutEnvironment = () => gatewayWithoutEnvironment(file)): Promise<void> {
  if (isLoopback(new URL(gw.baseUrl).hostname)) return;
  const own = await withoutEnvironment();
  if (own?.baseUrl === gw.baseUrl && (gw.apiKey === PLACEHOLDER_KEY || own.apiKey === gw.apiKey)) return;
  const shown = displayPath(file);
  // The address is shown only when it is the file's own: else it is the environment's, which may be anything.
  const what =
    own?.baseUrl === gw.baseUrl
      ? `a key from your environment to ${gw.baseUrl}, which is not on this machine`
      : `its address ${own ? `${own.baseUrl} ` : ""}from your environment, which is not on this machine`;
  throw new CliError(`${shown} would send ${what}`, 1, `name the file if you trust it: ${typed(client.command)} -c ${shown} …`);
}
