// Which gw a command means: the one for -c FILE / ./providers.toml / $GW_CONFIG, or — when no
// config is found — the embedded demo's.
import { realpathSync } from "node:fs";
import { dirname } from "node:path";
import { displayPath } from "../cli/display-path.ts";
import { CliError } from "../cli/errors.ts";
import { shellQuote } from "../cli/shell-word.ts";
import { findConfigFile } from "../config/index.ts";
import { demoDir } from "./demo.ts";
import { type GwPaths, gwPaths } from "./paths.ts";
import { listRunning } from "./registry.ts";
import { typed } from "./self.ts";

/**
 * `command`: the gw command asking, refused when the file is not the one its folder's gw serves
 * (the hint names the command that reaches that gw); none for the watchdog, whose gw is gone.
 */
export async function targetPaths(explicit: string | undefined, command?: string): Promise<GwPaths> {
  const file = findConfigFile(explicit);
  if (!file) return gwPaths(demoDir(process.env));
  if (command) await refuseAnotherServed(file, command);
  return gwPaths(dirname(file));
}

/**
 * A gw is reached through its folder, so `-c other.toml` beside the providers.toml a gw serves
 * reached that gw: `gw reload -c other.toml` said "config reloaded" and reloaded the other file,
 * `gw down -c other.toml` stopped it. A file that is not the one served in its folder is refused,
 * with the command that reaches the gw that is.
 */
export async function refuseAnotherServed(file: string, command: string): Promise<void> {
  const there = (await listRunning()).find((g) => g.kind === "up" && dirname(g.config) === dirname(file));
  if (!there || sameFile(there.config, file)) return;
  throw new CliError(`the gw running in ${displayPath(dirname(file))} (pid ${there.pid}) serves ${displayPath(there.config)}, not ${displayPath(file)}`, 1, `to reach it: ${commandFor(command, there.config)}`);
}

/** `gw COMMAND -c FILE`, typed as this user runs gw: the command that reaches the gw serving `config`. */
export function commandFor(command: string, config: string): string {
  return typed(`gw ${command} -c ${shellQuote(displayPath(config))}`);
}

function sameFile(a: string, b: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  return a === b || real(a) === real(b);
}
