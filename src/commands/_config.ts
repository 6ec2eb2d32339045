// Shared by commands that need a config: find it, load it, print its problems.
import { consola } from "consola";
import { CliError } from "../cli/errors.ts";
import { findConfigFile, formatProblem, hasErrors, loadConfig } from "../config/index.ts";
import type { LoadResult } from "../config/types.ts";

/** Find the config file or fail with the one line that says how to get one. */
export function requireConfigFile(explicit?: string): string {
  const file = findConfigFile(explicit);
  if (!file) throw new CliError("no providers.toml here and $GW_CONFIG is not set", 1, "pass -c FILE, or: cp providers.toml.example providers.toml");
  return file;
}

/** Problems (already in file order), one line each, on stderr. */
export function printProblems(result: LoadResult): void {
  for (const p of result.problems) console.error(formatProblem(p));
}

/** Load, print problems, and refuse (exit 1) when there are errors — what gen and up need. */
export async function loadValidConfig(explicit?: string, strict = false) {
  const file = requireConfigFile(explicit);
  const result = await loadConfig(file);
  printProblems(result);
  if (!result.config || hasErrors(result.problems, strict)) {
    const n = result.problems.filter((p) => p.severity === "error").length;
    throw new CliError(`${file}: ${n} error${n === 1 ? "" : "s"}; nothing was changed`, 1, "fix them (gw check lists every problem) and run again");
  }
  consola.debug(`config ${file}`);
  return result.config;
}
