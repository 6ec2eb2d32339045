// Which CLIProxyAPI binary an instance runs, and why that one:
// $GW_CLIPROXY, else [global] cliproxy, else ./cli-proxy-api or ./cliproxy beside the config,
// else the one `gw cliproxy install` put in place, else either name on PATH.
import { existsSync, realpathSync } from "node:fs";
import { homedir } from "node:os";
import { basename, isAbsolute, resolve } from "node:path";
import type { Env } from "../config/env.ts";
import { withHome } from "../fs/home-path.ts";
import type { Config } from "../config/types.ts";
import { managedBinary } from "./home.ts";
import { typed } from "../supervisor/self.ts";

const DEFAULT_NAMES = ["cli-proxy-api", "cliproxy"];

type CliproxySource = "$GW_CLIPROXY" | "[global] cliproxy" | "beside the config" | "gw cliproxy install" | "PATH";

interface FoundCliproxy {
  readonly path: string;
  readonly source: CliproxySource;
  /** The binary is gw itself (`cliproxy = "/path/to/gw"`): instances run `gw mock`. */
  readonly isGw: boolean;
}

/** What the lookup needs from a config; null when there is none (`gw cliproxy version` outside one). */
export type CliproxyScope = Pick<Config, "dir"> & { readonly global: Pick<Config["global"], "cliproxy"> };

/** The one line every "binary not found" message ends with (a function: how to type gw is known when it runs). */
export const getCliproxyHint = () => `get it with: ${typed("gw cliproxy install")} — or point $GW_CLIPROXY or [global] cliproxy = "/path/to/cli-proxy-api" at one`;

export function findCliproxy(scope: CliproxyScope | null, env: Env = process.env): FoundCliproxy | null {
  const found = (path: string | null, source: CliproxySource) => (path ? { path, source, isGw: isGwBinary(path) } : null);
  const dir = scope?.dir ?? process.cwd();
  if (env.GW_CLIPROXY) return found(lookup(env.GW_CLIPROXY, dir, env), "$GW_CLIPROXY");
  if (scope?.global.cliproxy) return found(lookup(scope.global.cliproxy, dir, env), "[global] cliproxy");
  if (scope) {
    for (const n of DEFAULT_NAMES) {
      const beside = resolve(scope.dir, n);
      if (existsSync(beside)) return found(beside, "beside the config");
    }
  }
  const managed = managedBinary(env);
  if (existsSync(managed)) return found(managed, "gw cliproxy install");
  for (const n of DEFAULT_NAMES) {
    const onPath = Bun.which(n, { PATH: env.PATH ?? "" });
    if (onPath) return found(onPath, "PATH");
  }
  return null;
}

/**
 * `cliproxy = "/path/to/gw"` is the natural guess for running a real config on the stand-in:
 * gw is recognised by name (gw, or a link to it) or as the very binary running now.
 */
function isGwBinary(path: string): boolean {
  let real = path;
  try {
    real = realpathSync(path);
  } catch {}
  if (Bun.isStandaloneExecutable && real === realpathSync(process.execPath)) return true;
  return [path, real].some((p) => basename(p) === "gw");
}

/** A name with a slash is a path (relative to the config; ~/ is the home directory); a bare name is looked up on PATH. */
function lookup(written: string, dir: string, env: Env): string | null {
  const name = withHome(written, env.HOME || homedir());
  if (name.includes("/")) {
    const p = isAbsolute(name) ? name : resolve(dir, name);
    return existsSync(p) ? p : null;
  }
  return Bun.which(name, { PATH: env.PATH ?? "" }) ?? (existsSync(resolve(dir, name)) ? resolve(dir, name) : null);
}

/** Why findCliproxy found nothing, in the words of the setting that was looked at. */
export function whyNoCliproxy(scope: CliproxyScope | null, env: Env = process.env): string {
  if (env.GW_CLIPROXY) return `$GW_CLIPROXY names ${env.GW_CLIPROXY}, which does not exist`;
  if (scope?.global.cliproxy) return `[global] cliproxy names ${scope.global.cliproxy}, which does not exist`;
  return `none beside the config, none installed by gw, no ${DEFAULT_NAMES.join(" or ")} on PATH`;
}
