// Shared by commands that need a config: find it, load it, print its problems.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { displayPath } from "../cli/display-path.ts";
import { CliError } from "../cli/errors.ts";
import { shellQuote } from "../cli/shell-word.ts";
import { declaredInstanceNames, findConfigFile, formatProblem, hasErrors, loadConfig } from "../config/index.ts";
import { editedExample } from "../config/starter.ts";
import type { Config, LoadResult, Problem } from "../config/types.ts";
import { isDescriptorPath } from "../fs/read-small.ts";
import { demoFile } from "../supervisor/demo.ts";
import { type GwPaths, gwPaths } from "../supervisor/paths.ts";
import { describeSeveral, listRunning } from "../supervisor/registry.ts";
import { selfDisplay } from "../supervisor/self.ts";
import { typedIn } from "../supervisor/self.ts";

const noConfig = () => notRenamed() ?? new CliError("no providers.toml here and $GW_CONFIG is not set", 1, `pass -c FILE, or write one here: ${selfDisplay()} init`);

/** The refusal for an edited providers.toml.example in `dir` and no providers.toml (config/starter.ts editedExample). */
export function notRenamed(dir = process.cwd()): CliError | undefined {
  const example = editedExample(dir);
  if (!example) return undefined;
  const mv = (from: string, to: string) => `mv ${shellQuote(displayPath(join(dir, from)))} ${shellQuote(displayPath(join(dir, to)))}`;
  const env = existsSync(join(dir, ".env.example")) && !existsSync(join(dir, ".env")) ? ` && ${mv(".env.example", ".env")}` : "";
  return new CliError(`no providers.toml in ${displayPath(dir)}; providers.toml.example has edits, but gw reads providers.toml`, 1, `rename it: ${mv("providers.toml.example", "providers.toml")}${env}`);
}

/** Find the config file or fail with the one line that says how to get one. */
export function requireConfigFile(explicit?: string): string {
  const file = findConfigFile(explicit);
  if (!file) throw noConfig();
  return file;
}

/**
 * The config file, for commands that need it again after reading it (deploy copies it to the
 * host, a service reads it at every start): a pipe (`-c <(…)`, /dev/stdin) is read once and gone,
 * and the folder it seems to be in (/dev/fd) holds no .env or auth dirs. `needs`: what for.
 */
export function requireRealConfigFile(explicit: string | undefined, needs: string): string {
  const file = requireConfigFile(explicit);
  if (isDescriptorPath(resolve(file))) throw new CliError(`-c ${file} names what your shell hands over (a pipe, stdin), read once; ${needs}`, 1, "save the config to a file (… > providers.toml) and pass -c with that file");
  return file;
}

/**
 * For commands that only read a config (usage, route explain): with none found here, the config
 * of the one gw running (the demo's too, where a first hour starts), named on stderr so the
 * answer is never taken for this directory's. Commands that write or start things never guess.
 */
export async function readableConfigFile(explicit?: string): Promise<string> {
  const file = findConfigFile(explicit) ?? (await runningConfig());
  if (!file) throw noConfig();
  return file;
}

/**
 * For status and logs: as readableConfigFile (a gw running for another folder is the one meant,
 * not "gw is not running"), and with none running the demo's, whose log files outlive it.
 */
export async function readableTarget(explicit?: string): Promise<{ file: string; paths: GwPaths }> {
  const file = findConfigFile(explicit) ?? (await runningConfig()) ?? demoFile(process.env);
  return { file, paths: gwPaths(dirname(file)) };
}

/** The config of the one gw running, said on stderr; null when none runs; several are an error. */
async function runningConfig(): Promise<string | null> {
  const running = await listRunning();
  if (running.length > 1) {
    throw new CliError(`no providers.toml here, and ${describeSeveral(running)}`, 1, "choose one with -c FILE");
  }
  const one = running[0];
  if (!one) return null;
  console.error(`gw: no providers.toml here; reading the running ${one.demo ? "demo's" : "gw's"} ${displayPath(one.config)}`);
  return one.config;
}

/** Problems (already in file order), one line each, on stderr. */
export function printProblems(result: LoadResult): void {
  for (const p of result.problems) console.error(typedIn(formatProblem(p)));
}

/**
 * Load, print problems, and refuse (exit 1) when there are errors — what gen and up need.
 * `instance` (gw login): errors in other instances' tables are said but do not refuse, and the
 * config then holds that instance alone, so nothing is written or started for the others.
 * `printed` gets the problems printed (gw up -d: its background gw prints them again).
 */
export async function loadValidConfig(explicit?: string, { strict = false, instance, printed }: { strict?: boolean; instance?: string; printed?: Problem[] } = {}): Promise<Config> {
  const file = requireConfigFile(explicit);
  const result = await loadConfig(file, { instance });
  printProblems(result);
  printed?.push(...result.problems);
  const elsewhere = result.problems.some((p) => p.severity === "error" && p.instance !== undefined && p.instance !== instance);
  const one = result.config?.instances.find((i) => i.name === instance);
  if (result.config && elsewhere) {
    // No such instance: the caller says so and lists them; nothing is touched.
    if (!one) return result.config;
    console.error(`gw: the errors above are in other instances; this touches [instances.${instance}] alone (gw up needs them fixed)`);
    return withInstances(result.config, (i) => i === one);
  }
  if (!result.config || hasErrors(result.problems, strict)) {
    const count = (severity: string, what: string) => {
      const n = result.problems.filter((p) => p.severity === severity).length;
      return `${n} ${what}${n === 1 ? "" : "s"}`;
    };
    // Refused for warnings alone: --strict's doing, which the count says.
    const found = result.config && !hasErrors(result.problems, false) ? `${count("warning", "warning")}, which --strict refuses` : count("error", "error");
    throw new CliError(`${file}: ${found}; nothing was changed`, 1, "fix them (gw check lists every problem) and run again");
  }
  return result.config;
}

/**
 * When every error of `result` is in an instance's table (after gw init, the example relay's
 * placeholder keys): the config of the instances without one — what a command about them alone
 * (gw check's missing logins) can still read. Null otherwise.
 */
export async function configOfSoundInstances(file: string, result: LoadResult): Promise<Config | null> {
  const errors = result.problems.filter((p) => p.severity === "error");
  if (result.config || errors.length === 0 || errors.some((p) => p.instance === undefined)) return null;
  const broken = new Set(errors.map((p) => p.instance));
  // Read for one sound instance, the errors of the others do not count (config/build.ts ParseOptions).
  const sound = declaredInstanceNames(file).find((name) => !broken.has(name));
  const config = sound === undefined ? null : (await loadConfig(file, { instance: sound })).config;
  return config && withInstances(config, (i) => !broken.has(i.name));
}

/** `config` holding only the instances `keep` keeps, frozen as loadConfig's are. */
export const withInstances = (config: Config, keep: (i: Config["instances"][number]) => boolean): Config => Object.freeze({ ...config, instances: Object.freeze(config.instances.filter(keep)) });
