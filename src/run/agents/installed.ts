// Which version of an agent is installed, read from its install layout (nothing is started, so a
// launch stays fast): what a launcher decides by when a behaviour came or went in some version.
import { readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";

export const VERSION = /^\d+\.\d+\.\d+$/;

/** `command` with its links followed; undefined when it is not there. */
export function realCommand(command: string): string | undefined {
  try {
    return realpathSync(command);
  } catch {
    return undefined;
  }
}

/**
 * The version of the npm package named `pkg` (or a name starting so: a platform package such as
 * @anthropic-ai/claude-code-linux-x64) holding the file `real`, beside it or one folder up.
 */
export function packageVersion(real: string, pkg: string): string | undefined {
  for (const dir of [dirname(real), dirname(dirname(real))]) {
    try {
      const p = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: unknown; version?: unknown };
      if (typeof p.name === "string" && p.name.startsWith(pkg) && typeof p.version === "string") return p.version;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** The installed version of the npm package `pkg` whose executable is `command`, when it can tell. */
export const npmVersion = (command: string, pkg: string): string | undefined => {
  const real = realCommand(command);
  return real === undefined ? undefined : packageVersion(real, pkg);
};

/**
 * The x.y.z that `command --version` prints first: for an executable whose install layout does not
 * tell (a mise, asdf or volta shim, a wrapper script, a Homebrew cask); undefined when it prints none.
 */
export function printedVersion(command: string): string | undefined {
  try {
    const p = Bun.spawnSync([command, "--version"], { stdin: "ignore", stdout: "pipe", stderr: "ignore", timeout: 5_000 });
    return /\b(\d+\.\d+\.\d+)\b/.exec(p.stdout.toString())?.[1];
  } catch {
    return undefined;
  }
}

/** Whether `version` is known and `since` or later: for a behaviour whose absence breaks more than its presence helps. */
export const knownAtLeast = (version: string | undefined, since: string): boolean => version !== undefined && versionAtLeast(version, since);

/** Whether `version` is `since` or later; one that cannot be told (undefined, not x.y.z) is taken to be current. */
export function versionAtLeast(version: string | undefined, since: string): boolean {
  return version === undefined || !VERSION.test(version) || compareVersions(version, since) >= 0;
}

function compareVersions(a: string, b: string): number {
  const x = a.split(".").map(Number);
  const y = b.split(".").map(Number);
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}
