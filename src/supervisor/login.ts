// `gw login NAME PROVIDER`: run the instance's own binary with its YAML and -PROVIDER-login in
// the foreground (so the credential lands in that instance's auth dir), then find out whether
// the running instance picked it up — CLIProxyAPI watches its auth dir, and new credentials
// show up as new models in its /v1/models.
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { CliError } from "../cli/errors.ts";
import { makeAuthDirPrivate } from "../instances/auth-dir.ts";
import { ensureInstanceCwd } from "./instance-cwd.ts";
import { type Config, type InstanceConfig, KEY_PROVIDERS, OAUTH_PROVIDERS } from "../config/types.ts";
import { displayPath } from "../cli/display-path.ts";
import { bypassProxyForInstances } from "../lb/noproxy.ts";
import { controlJson } from "./control.ts";
import { launchFor } from "./launch.ts";
import { gwPaths, instanceCwd } from "./paths.ts";
import type { StatusReport } from "./status.ts";

/**
 * Every OAuth login CLIProxyAPI has, by the PROVIDER word gw accepts: `-PROVIDER-login`, except
 * plain Gemini (the Gemini CLI login), which is `-login` — builds from v7.2.20 (2026-06) on no
 * longer have it, and say so themselves.
 */
export const LOGIN_PROVIDERS = ["antigravity", "claude", "codex", "codex-device", "kimi", "xai", "gemini"] as const;
const GEMINI_GONE = "CLIProxyAPI v7.2.20 and later have no Gemini CLI login: use antigravity (Gemini models through Antigravity), or a gemini provider with api_keys";

/** How long a running instance gets to show new models after the login. */
const PICKUP_WAIT_MS = 5_000;

async function authFiles(dir: string): Promise<Map<string, number>> {
  const names = await readdir(dir).catch(() => [] as string[]);
  // A link to a file moved away, or a loop, stats never: it is no credential, and must not stop the login.
  const stats = await Promise.all(names.map(async (n) => [n, (await stat(join(dir, n)).catch(() => undefined))?.mtimeMs ?? 0] as const));
  return new Map(stats);
}

async function modelIds(inst: InstanceConfig): Promise<Set<string> | null> {
  try {
    const res = await fetch(`${inst.baseUrl}/v1/models`, { headers: { authorization: `Bearer ${inst.apiKey}` }, signal: AbortSignal.timeout(2_000) });
    if (!res.ok) return null;
    const body = (await res.json()) as { data?: { id: string }[] };
    return new Set((body.data ?? []).map((m) => m.id));
  } catch {
    return null;
  }
}

/** The provider type a PROVIDER word logs in to (codex-device is codex by device code). */
const loginType = (provider: string): string => (provider === "codex-device" ? "codex" : provider);

/** Whether `inst` defines a provider of `type`. */
const hasType = (inst: InstanceConfig, type: string): boolean => inst.providers.some((p) => p.type === type);

/** The PROVIDER words `inst` can log in with: its OAuth types (codex by device code too). The Gemini CLI login, gone from new builds, is not offered. */
function loginsOf(inst: InstanceConfig): string[] {
  return LOGIN_PROVIDERS.filter((p) => p !== "gemini" && hasType(inst, loginType(p)));
}

/** What `inst` can log in to, as commands; for an instance of API keys alone, where they go instead. */
function loginsHint(config: Config, inst: InstanceConfig): string {
  const logins = loginsOf(inst);
  if (logins.length) return `log in to what it has: ${logins.map((t) => `gw login ${inst.name} ${t}`).join(" · ")}`;
  return `[instances.${inst.name}] uses API keys only, no login: put them in its providers' api_keys in ${displayPath(config.file)} (a \${VAR} there is read from the .env beside it)`;
}

/** `gw login NAME` with no PROVIDER: the ones that instance has. */
export function noProviderNamed(config: Config, inst: InstanceConfig): CliError {
  const what = loginsOf(inst).length ? `name the provider to log in to for instance '${inst.name}'` : `instance '${inst.name}' has no OAuth provider to log in to`;
  return new CliError(what, 1, loginsHint(config, inst));
}

export function loginArgv(config: Config, inst: InstanceConfig, provider: string, browser: boolean, env: Record<string, string | undefined>, projectId?: string): string[] {
  if (!(LOGIN_PROVIDERS as readonly string[]).includes(provider)) {
    const keys = (KEY_PROVIDERS as readonly string[]).includes(provider);
    throw new CliError(keys ? `${provider} takes API keys, not a login` : `"${provider}" has no login`, 1, loginsHint(config, inst));
  }
  if (projectId !== undefined && provider !== "gemini") throw new CliError("--project-id is for the gemini login only", 1, `gw login ${inst.name} gemini --project-id ID`);
  // A credential for an OAuth provider the instance does not define would sit in its auth dir
  // unused. (The Gemini CLI login has no provider type in providers.toml: nothing to check.)
  const type = loginType(provider);
  if ((OAUTH_PROVIDERS as readonly string[]).includes(type) && !hasType(inst, type)) {
    throw new CliError(
      `instance '${inst.name}' has no ${type} provider, so a ${type} login would go unused`,
      1,
      loginsOf(inst).length ? loginsHint(config, inst) : `add { type = "${type}" } to [instances.${inst.name}] providers first`,
    );
  }
  const launch = launchFor(config, inst, env);
  if ("error" in launch) throw new CliError(launch.error);
  const flag = provider === "gemini" ? ["-login", ...(projectId ? ["-project_id", projectId] : [])] : [`-${provider}-login`];
  return [...launch.argv, ...flag, ...(browser ? [] : ["-no-browser"])];
}

/** Runs the login in this terminal; returns what to tell the user afterwards. */
export async function runLogin(config: Config, inst: InstanceConfig, provider: string, argv: string[], env: Record<string, string | undefined>): Promise<string> {
  // The login itself gets the user's environment as it is (its OAuth goes out through their
  // proxy); asking the running instance for its models must not go to that proxy.
  const loginEnv = { ...env };
  bypassProxyForInstances(config);
  const status = await controlJson<StatusReport>(gwPaths(config.dir), "/status").catch(() => null);
  const mine = status?.instances.find((i) => i.name === inst.name);
  const running = mine?.state === "ready";
  const before = await authFiles(inst.authDir);
  const modelsBefore = running ? await modelIds(inst) : null;
  const cwd = instanceCwd(config.dir, inst.name);
  ensureInstanceCwd(cwd); // the login runs there, as the instance does (spawn.ts): its logins must not go to a planted .env's store
  const proc = Bun.spawn(argv, { cwd, env: loginEnv, stdio: ["inherit", "inherit", "inherit"] });
  const code = await proc.exited;
  if (code !== 0) {
    const gemini = argv.includes("-login");
    throw new CliError(`login for instance '${inst.name}' failed (exit code ${code})`, 1, gemini ? `the lines above say why; if the flag is unknown: ${GEMINI_GONE}` : `the lines above say why; try again with: gw login ${inst.name} ${provider}`);
  }
  makeAuthDirPrivate(inst.authDir); // what the login saved, as gw keeps the rest (its line, if any, was said before the login)
  const after = await authFiles(inst.authDir);
  const fresh = [...after].filter(([n, m]) => before.get(n) !== m).map(([n]) => n);
  if (fresh.length === 0) throw new CliError(`no new credential in ${inst.authDir} — the login saved nothing; nothing for instance '${inst.name}' to pick up`, 1, `the login above did not finish (or saved elsewhere); try again with: gw login ${inst.name} ${provider}`);
  const saved = `saved ${fresh.join(", ")} in ${inst.authDir}`;
  if (!status) return `${saved}; gw is not running ${inst.name} now — it will use them at the next gw up`;
  if (!mine) return `${saved}; the running gw does not run ${inst.name} yet — it will use them once it takes this config (gw reload)`;
  if (!running) return `${saved}; the running gw's instance '${inst.name}' is ${mine.state}, not ready — it reads them once it is (gw logs ${inst.name} says why not)`;
  const deadline = performance.now() + PICKUP_WAIT_MS;
  while (performance.now() < deadline) {
    const now = await modelIds(inst);
    const added = now && modelsBefore ? [...now].filter((m) => !modelsBefore.has(m)) : [];
    if (added.length) return `${saved}; the running instance '${inst.name}' picked them up (new models: ${added.join(", ")})`;
    await Bun.sleep(500);
  }
  return `${saved}; the running instance '${inst.name}' shows no new models yet — if the account does not appear, run: gw restart ${inst.name}`;
}
