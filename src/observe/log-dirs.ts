// Which request-log directories `gw usage DIR…` reads: each DIR as given, a glob (quoted, so gw
// expands it: 'hosts/*/logs'), or a gw directory / its logs/ — whatever holds the day files.
// Several hosts' logs (copied or mounted side by side) total as one.

import { existsSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";

interface LogDirs {
  /** Directories holding day files (or that will), each once. */
  readonly dirs: string[];
  /** Arguments that named nothing: no such directory, or a glob that matched none. */
  readonly missing: string[];
}

const GLOB = /[*?[{]/;

export async function resolveLogDirs(args: readonly string[], cwd: string): Promise<LogDirs> {
  const found = new Map<string, string>();
  const missing: string[] = [];
  for (const arg of args) {
    const dirs = GLOB.test(arg) ? await expand(arg, cwd) : [resolve(cwd, arg)].filter(isDir);
    if (dirs.length === 0) missing.push(arg);
    for (const d of dirs) {
      const logs = requestDirOf(d);
      found.set(realpathSync(logs), logs);
    }
  }
  return { dirs: [...found.values()], missing };
}

/** A gw directory or its logs/ leads to logs/requests/; any other directory is taken as it is. */
function requestDirOf(dir: string): string {
  for (const sub of [join("logs", "requests"), "requests"]) {
    if (isDir(join(dir, sub))) return join(dir, sub);
  }
  return dir;
}

async function expand(pattern: string, cwd: string): Promise<string[]> {
  const [base, glob] = isAbsolute(pattern) ? ["/", pattern.slice(1)] : [cwd, pattern];
  const out: string[] = [];
  for await (const p of new Bun.Glob(glob).scan({ cwd: base, onlyFiles: false, absolute: true })) if (isDir(p)) out.push(p);
  return out.sort();
}

function isDir(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}
