// The config loader's public face: find the file, load it (with .env), format problems.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { displayPath } from "../cli/display-path.ts";
import { DOES_NOT_EXIST, IS_DIRECTORY, isDescriptorPath, NOT_REGULAR, PERMISSION_DENIED, readSmallFile } from "../fs/read-small.ts";
import { parseConfig } from "./build.ts";
import { INSTANCE_NAME, nameProblem } from "./names.ts";
import { parseToml } from "./reader.ts";
import { isObject } from "../json/object.ts";
import { type Env, withDotenv } from "./env.ts";
import type { LoadResult, Problem } from "./types.ts";

export { parseConfig } from "./build.ts";
export type * from "./types.ts";

/** `-c FILE`, else ./providers.toml, else $GW_CONFIG; null when none exists. */
export function findConfigFile(explicit?: string, env: Env = process.env): string | null {
  if (explicit) return resolve(explicit);
  const local = resolve("providers.toml");
  if (existsSync(local)) return local;
  return env.GW_CONFIG ? resolve(env.GW_CONFIG) : null;
}

/** Read the file and the .env beside it; never throws for a missing, unreadable or broken file. */
export async function loadConfig(file: string, opts: { env?: Env; instance?: string } = {}): Promise<LoadResult> {
  const abs = resolve(file);
  // `-c <(…)` (a descriptor the user's shell handed over) is read to its end, as before read-small.
  const text = readText(abs, { missing: "check the path; gw init writes a providers.toml to fill in", directory: "pass -c with the providers.toml inside it", special: "pass -c with a regular file", pipe: isDescriptorPath(abs) });
  if (typeof text !== "string") return { config: null, problems: [text ?? notReadable(abs, "file not found", "")] };
  const base = opts.env ?? process.env;
  const dotenv = readText(join(dirname(abs), ".env"), {
    directory: "gw reads NAME=VALUE lines from a file named .env beside the config: rename the directory",
    special: "gw reads NAME=VALUE lines from a regular file named .env beside the config: put one there",
  });
  if (dotenv === undefined || typeof dotenv === "string") {
    const unread: number[] = [];
    const result = parseConfig(text, abs, withDotenv(base, dotenv, unread), { instance: opts.instance });
    if (unread.length === 0) return result;
    const envFile = join(dirname(abs), ".env");
    const warnings = unread.map((line): Problem => ({ severity: "warning", file: envFile, line, col: 1, path: "", message: "gw cannot read this line, so it sets nothing", hint: 'write NAME=value (quotes optional, closed on the same line: NAME="a b")' }));
    return { config: result.config, problems: [...warnings, ...result.problems] };
  }
  // The .env's own problem first: the ${VAR}s it would have set are reported unset after it.
  const parsed = parseConfig(text, abs, base, { instance: opts.instance });
  return { config: parsed.config, problems: [dotenv, ...parsed.problems] };
}

/**
 * A file's text, or the one problem saying why it cannot be read and what to do (a directory, no
 * permission, a FIFO or device a cloned folder links there, which would block or never end). A
 * missing file is a problem with the `missing` hint, or undefined without one (.env).
 */
function readText(abs: string, hints: { missing?: string; directory: string; special: string; pipe?: boolean }): string | Problem | undefined {
  const read = readSmallFile(abs, MAX_CONFIG_BYTES, { pipe: hints.pipe });
  if ("bytes" in read) return new TextDecoder().decode(read.bytes);
  switch (read.why) {
    case DOES_NOT_EXIST:
      return hints.missing === undefined ? undefined : notReadable(abs, "file not found", hints.missing);
    case IS_DIRECTORY:
      return notReadable(abs, read.why, hints.directory);
    case PERMISSION_DENIED:
      return notReadable(abs, read.why, `let this user read it (chmod u+r ${abs}), or run gw as the user who owns it`);
    case NOT_REGULAR:
      return notReadable(abs, read.why, hints.special);
    default:
      return notReadable(abs, read.why, "check the file and the folder it is in");
  }
}

/**
 * The instance names a config file declares, the valid ones, whatever else is wrong with it: what
 * TAB offers (after gw init the example relay's placeholder keys leave no config, yet its
 * instances are there to log in to; a crafted name never reaches the shell's line). [] when the
 * file cannot be read or is no TOML.
 */
export function declaredInstanceNames(file: string): string[] {
  return Object.keys(declaredInstances(file));
}

/** The instances a file declares, each with the provider types it lists, as written (no validation beyond names). */
export function declaredInstances(file: string): Record<string, string[]> {
  const read = readSmallFile(file, MAX_CONFIG_BYTES);
  if (!("bytes" in read)) return {};
  const parsed = parseToml(new TextDecoder().decode(read.bytes), file);
  const table = "doc" in parsed ? parsed.doc.instances : undefined;
  if (!isObject(table)) return {};
  const out: Record<string, string[]> = {};
  for (const [name, inst] of Object.entries(table)) {
    if (nameProblem(INSTANCE_NAME, name) !== undefined) continue;
    const providers = isObject(inst) && Array.isArray(inst.providers) ? inst.providers : [];
    out[name] = providers.flatMap((p) => (isObject(p) && typeof p.type === "string" ? [p.type] : []));
  }
  return out;
}

/** Far above any real config (a few KiB); what is larger is no config. */
const MAX_CONFIG_BYTES = 16 << 20;

const notReadable = (file: string, message: string, hint: string): Problem => ({ severity: "error", file, line: 0, col: 0, path: "", message, hint });

/** `providers.toml:12:5  routing.g3f[0].weight  error: message  (hint)`, the file relative to cwd. */
export function formatProblem(p: Problem, cwd = process.cwd()): string {
  const file = displayPath(p.file, cwd);
  const place = p.line > 0 ? `${file}:${p.line}:${p.col}` : file;
  return [place, p.path || "-", `${p.severity}: ${p.message}${p.hint ? `  (${p.hint})` : ""}`].join("  ");
}

export const hasErrors = (problems: readonly Problem[], strict = false) =>
  problems.some((p) => p.severity === "error" || (strict && p.severity === "warning"));
