// The old launcher's memory: one small file per remembered value, `last_<name>`, in
// ${XDG_CACHE_HOME:-~/.cache}/cld/<mode>/ — same place and format, so existing users keep theirs.
import { mkdirSync, readFileSync } from "node:fs";
import { CliError } from "../cli/errors.ts";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Env } from "../config/env.ts";
import { replaceFileSync, writeNewFileSync } from "../fs/atomic-write.ts";
import { removeStaleTemps } from "../fs/temp-files.ts";

export type { Env };

/** ${XDG_CACHE_HOME:-~/.cache}/cld */
export function cldCacheDir(env: Env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache");
  return join(base, "cld");
}

/**
 * A folder of cld's cache for an agent's home (`cp`, `ag`, `codex`…), made when missing. One that
 * cannot be made is one line with the fix: after a `sudo cld` the cache may be root's.
 */
export function agentHome(cache: string, name: string): string {
  const dir = join(cache, name);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    const elsewhere = "point $XDG_CACHE_HOME at a folder you can write";
    const fix = code === "EACCES" || code === "EPERM" ? `it is not yours (a sudo cld once?): sudo chown -R "$USER" ${cache} — or ${elsewhere}` : elsewhere;
    throw new CliError(`cannot make ${dir} (${code || (err as Error).message}), where Claude Code and the other agents keep their sessions`, 1, fix);
  }
  return dir;
}

// Sync on purpose: a handful of tiny files read before anything else can happen.
export function readLast(dir: string, names: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const n of names) {
    try {
      out[n] = readFileSync(join(dir, `last_${n}`), "utf8").trim() || undefined;
    } catch {
      out[n] = undefined;
    }
  }
  return out;
}

/**
 * Best effort: a read-only cache must not stop the launch. Each file is replaced whole (a full
 * disk truncated it to nothing: the remembered value was lost with the write that failed).
 */
export function writeLast(dir: string, values: Readonly<Record<string, string | undefined>>): void {
  try {
    mkdirSync(dir, { recursive: true });
    removeStaleTemps(dir); // cld's own folder: a value not given again leaves its temp too (temp-files.ts)
    for (const [n, v] of Object.entries(values)) if (v !== undefined) replaceFileSync(join(dir, `last_${n}`), (tmp) => writeNewFileSync(tmp, `${v}\n`), 0o644);
  } catch {
    // ignore: memory is a convenience
  }
}
