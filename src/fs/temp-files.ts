// gw's temp files: the name a file is written under beside its place before the rename, and the
// cleaning of those a killed writer left behind (between its stage and its rename). A writer in a
// folder of gw's own (private state, instances/, logs/, cld's memory) sweeps every file's temps
// there, not only its own file's: a killed gw leaves its registry entry's temp (running/PID.json)
// under a pid no later gw has, cld remembers only the values it was given, and .gw/keys.json is
// written again only when a key changes. A writer in a folder it shares with the user and other
// tools — the home folder (~/.claude.json), ~/.local/bin, the config's folder, the systemd unit's —
// sweeps only the temps of the files gw writes there: a `notes.tmp-abcdefghijkl` of the user's or
// another program's is none of gw's business. Cleaning must never take the
// file of a writer that is between the two right now, in this process or another: only gw's exact
// temp names go (NAME.tmp- and 12 characters), only in the writer's own folder (nothing deeper),
// only regular files and links — a link is unlinked, its target never followed — and only when
// older than any stage-to-rename can take.
import { lstatSync, readdirSync, rmSync, type Stats } from "node:fs";
import { basename, dirname, join } from "node:path";

/** 9 random bytes, base64url: 12 characters. */
const TEMP_NAME = /^(.+)\.tmp-[A-Za-z0-9_-]{12}$/;

/**
 * A fresh name beside `path` for a temp file. Unpredictable, and always created with O_EXCL
 * ("wx"): a link planted under the name would be refused, never written through.
 */
export function tempPathFor(path: string): string {
  // Web Crypto's generator (a global): loading node:crypto for it cost ~5 ms of every command that
  // imports this file (gw status, cld; bench/startup.ts)
  return `${path}.tmp-${Buffer.from(crypto.getRandomValues(new Uint8Array(9))).toString("base64url")}`;
}

/**
 * Past this age a temp file's writer is gone: gw renames a temp file within moments of writing it
 * (a reload stages every instance file, swaps the gateway, renames). An hour is room for a machine
 * that stalls — swapping, suspended — and a leftover harms nothing meanwhile.
 */
export const STALE_TEMP_MS = 60 * 60_000;

/**
 * Whether directory entry `name` (lstat `st`) is a temp a killed writer left (pure): a file, or a
 * link (gw install's cld and gw cliproxy's current are written as links under a temp name).
 */
export function isStaleTemp(name: string, st: Pick<Stats, "isFile" | "isSymbolicLink" | "mtimeMs">, now: number): boolean {
  return TEMP_NAME.test(name) && (st.isFile() || st.isSymbolicLink()) && now - st.mtimeMs > STALE_TEMP_MS;
}

/**
 * Remove the stale temps in `dir` of the files `ours` says gw writes there (all, in a folder of
 * gw's own); the names removed. Never fails: a directory that cannot be
 * read, or a file gone meanwhile (its writer renamed it), is left alone.
 * Synchronous, so gw install (sync) and every async writer share it; it reads one directory.
 */
export function removeStaleTemps(dir: string, ours: (file: string) => boolean = () => true, now = Date.now()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => {
      const file = TEMP_NAME.exec(n)?.[1];
      return file !== undefined && ours(file);
    });
  } catch {
    return [];
  }
  const gone: string[] = [];
  for (const n of names) {
    try {
      if (!isStaleTemp(n, lstatSync(join(dir, n)), now)) continue;
      rmSync(join(dir, n)); // unlink removes the name, whatever it is by now: never a link's target
      gone.push(n);
    } catch {
      // gone meanwhile, or not this user's to remove: left alone
    }
  }
  return gone;
}

/** Those killed writers of `path` left beside it: called before gw writes it, in a folder not only gw's. */
export const removeStaleTempsOf = (path: string) => removeStaleTemps(dirname(path), (file) => file === basename(path));

/** Those killed writers left in the folder of `path`, any file's: called before gw writes in a folder of its own. */
export const removeStaleTempsBeside = (path: string) => removeStaleTemps(dirname(path));
