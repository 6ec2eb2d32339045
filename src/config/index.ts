// The config loader's public face: find the file, load it (with .env), format problems.
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { displayPath } from "../cli/display-path.ts";
import { parseConfig } from "./build.ts";
import { type Env, envWithDotenv } from "./env.ts";
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

/** Read the file and the .env beside it; never throws for a missing or broken file. */
export async function loadConfig(file: string, opts: { env?: Env } = {}): Promise<LoadResult> {
  const abs = resolve(file);
  const f = Bun.file(abs);
  if (!(await f.exists())) {
    const problem: Problem = { severity: "error", file: abs, line: 0, col: 0, path: "", message: "file not found", hint: "pass -c FILE, or cp providers.toml.example providers.toml" };
    return { config: null, problems: [problem] };
  }
  const env = await envWithDotenv(dirname(abs), opts.env ?? process.env);
  return parseConfig(await f.text(), abs, env);
}

/** `providers.toml:12:5  routing.g3f[0].weight  error: message  (hint)`, the file relative to cwd. */
export function formatProblem(p: Problem, cwd = process.cwd()): string {
  const file = displayPath(p.file, cwd);
  const place = p.line > 0 ? `${file}:${p.line}:${p.col}` : file;
  return [place, p.path || "-", `${p.severity}: ${p.message}${p.hint ? `  (${p.hint})` : ""}`].join("  ");
}

export const hasErrors = (problems: readonly Problem[], strict = false) =>
  problems.some((p) => p.severity === "error" || (strict && p.severity === "warning"));
