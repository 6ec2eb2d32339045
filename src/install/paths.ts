// Where `gw install` puts things: the user's own directories, no root needed.
import { homedir } from "node:os";
import { join } from "node:path";
import type { Env } from "../config/env.ts";

export type { Env };

export interface InstallPaths {
  readonly binDir: string;
  readonly gw: string;
  readonly cld: string;
  /** Loaded on demand by bash-completion 2.x, by command name. */
  readonly bash: readonly string[];
  /** `_gw` with `#compdef gw cld`; zsh finds it once the directory is in fpath. */
  readonly zshDir: string;
  readonly zsh: string;
  /** Autoloaded by fish from its completions directory. */
  readonly fish: readonly string[];
  /** The record of what was installed, so --uninstall removes exactly that. */
  readonly manifest: string;
}

export function installPaths(env: Env, prefix?: string): InstallPaths {
  const home = env.HOME || homedir();
  const data = env.XDG_DATA_HOME || join(home, ".local", "share");
  const config = env.XDG_CONFIG_HOME || join(home, ".config");
  const binDir = prefix ?? join(home, ".local", "bin");
  const bashDir = join(data, "bash-completion", "completions");
  const fishDir = join(config, "fish", "completions");
  const zshDir = join(data, "zsh", "site-functions");
  return {
    binDir,
    gw: join(binDir, "gw"),
    cld: join(binDir, "cld"),
    bash: [join(bashDir, "gw"), join(bashDir, "cld")],
    zshDir,
    zsh: join(zshDir, "_gw"),
    fish: [join(fishDir, "gw.fish"), join(fishDir, "cld.fish")],
    manifest: join(data, "gw", "installed.json"),
  };
}
