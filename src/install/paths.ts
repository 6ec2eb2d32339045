// Where `gw install` puts things: the user's own directories, no root needed.
import { homedir } from "node:os";
import { basename, dirname, join, normalize, resolve } from "node:path";
import { CliError } from "../cli/errors.ts";
import { withHome } from "../fs/home-path.ts";
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
  /** Where completions and the record live: the prefix's share/, else ~/.local/share. */
  readonly dataDir: string;
  /** Completions are under a prefix's share/, which shells search only when XDG_DATA_DIRS lists it. */
  readonly prefixed: boolean;
}

/**
 * Without a prefix: the user's own XDG directories. With `--prefix DIR` nothing goes outside the
 * prefix: gw and cld in DIR, completions and the install record in `share/` beside it — DIR/../share
 * when DIR is a `bin` directory (/usr/local/bin → /usr/local/share, where shells already look),
 * else DIR/share. A leading `~/` the shell left (quoted) is the home directory, as the user meant.
 */
export function installPaths(env: Env, given?: string): InstallPaths {
  const home = env.HOME || homedir();
  const expanded = given === undefined ? undefined : withHome(given, home);
  if (expanded?.startsWith("~")) {
    throw new CliError(`--prefix ${given}: gw expands only ~ and ~/ (your own home)`, 1, "give the directory's full path");
  }
  let prefix = expanded === undefined ? undefined : resolve(expanded);
  // `--prefix ~/.local/bin` names the default place: the user's own directories, where shells look.
  if (prefix !== undefined && normalize(prefix).replace(/\/+$/, "") === join(home, ".local", "bin")) prefix = undefined;
  const share = prefix === undefined ? undefined : basename(prefix) === "bin" ? join(dirname(prefix), "share") : join(prefix, "share");
  const data = share ?? (env.XDG_DATA_HOME || join(home, ".local", "share"));
  const binDir = prefix ?? join(home, ".local", "bin");
  const bashDir = join(data, "bash-completion", "completions");
  // fish: per-user completions in its config dir; a prefix's in its vendor directory.
  const fishDir = share ? join(share, "fish", "vendor_completions.d") : join(env.XDG_CONFIG_HOME || join(home, ".config"), "fish", "completions");
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
    dataDir: data,
    prefixed: share !== undefined,
  };
}
