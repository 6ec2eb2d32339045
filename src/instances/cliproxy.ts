import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { Env } from "../config/env.ts";
import type { Config } from "../config/types.ts";

const DEFAULT_NAMES = ["cli-proxy-api", "cliproxy"];

/**
 * Path of the CLIProxyAPI binary: $GW_CLIPROXY, else [global] cliproxy, else ./cli-proxy-api
 * or ./cliproxy beside the config, else either name on PATH. Null when none is found.
 */
export function resolveCliproxy(config: Config, env: Env = process.env): string | null {
  const named = env.GW_CLIPROXY || config.global.cliproxy;
  if (named) return lookup(named, config.dir, env);
  for (const n of DEFAULT_NAMES) {
    const beside = resolve(config.dir, n);
    if (existsSync(beside)) return beside;
  }
  for (const n of DEFAULT_NAMES) {
    const onPath = Bun.which(n, { PATH: env.PATH ?? "" });
    if (onPath) return onPath;
  }
  return null;
}

/** A name with a slash is a path (relative to the config); a bare name is looked up on PATH. */
function lookup(name: string, dir: string, env: Env): string | null {
  if (name.includes("/")) {
    const p = isAbsolute(name) ? name : resolve(dir, name);
    return existsSync(p) ? p : null;
  }
  return Bun.which(name, { PATH: env.PATH ?? "" }) ?? (existsSync(resolve(dir, name)) ? resolve(dir, name) : null);
}
