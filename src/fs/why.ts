// What a file-system error code means to the person who has to fix it, in a few words, and the one
// way gw describes a write that failed: `cannot write PATH: no space left on the device`, the same
// line from a command (a CliError, with what to do) and from a running gw (said once in gw.log,
// shown by status).
import { accessSync, constants, statfsSync } from "node:fs";
import { CliError } from "../cli/errors.ts";
import { displayPath } from "../cli/display-path.ts";

const WHY: Readonly<Record<string, string>> = {
  EISDIR: "a directory is in the way",
  ENOTDIR: "a file is in the way where a directory belongs",
  EEXIST: "something is already there",
  EACCES: "permission denied",
  EPERM: "permission denied",
  EROFS: "the file system is read-only",
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is used up",
  SQLITE_FULL: "no space left on the device", // SQLite's own word for ENOSPC
  ELOOP: "a loop of symbolic links is in the way",
};

/** What to do when a command found the disk full (a running gw goes on by itself once there is room). */
export const ROOM_HINT = "free some space on that disk, then run it again";

/** The words for `err`'s code; undefined for an error that is no file-system error gw knows. */
export function fsWhy(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" ? WHY[code] : undefined;
}

/**
 * Whether the file system holding `dir` has no block left for this user; false when it cannot
 * tell — `dir` missing, or not writable anyway (a read-only mount, another's directory: a write
 * fails for that, which "no space" would misname). Quotas are not seen here (EDQUOT is).
 */
export function noRoomIn(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return noRoomBy(statfsSync(dir), process.geteuid?.() === 0);
  } catch {
    return false;
  }
}

/**
 * statfs's numbers, as a writer who is root or not sees them: root may also use the blocks kept
 * for it (ext4 keeps 5 %, bfree), others only bavail — a disk full for users is not for a gw run
 * as root, whose writes go on. A file system that reports no blocks at all (some FUSE and network
 * ones) cannot tell.
 */
export function noRoomBy(s: { readonly blocks: number; readonly bfree: number; readonly bavail: number }, root: boolean): boolean {
  return s.blocks > 0 && (root ? s.bfree : s.bavail) === 0;
}

/** Whether `err` says the disk is out of room (space or quota): waiting for room is the fix. */
export function isOutOfRoom(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOSPC" || code === "EDQUOT" || code === "SQLITE_FULL";
}

/** `cannot write PATH: WHY` — the known words for the code, else the error's own message; PATH as given. */
export function writeProblem(path: string, err: unknown): string {
  return `cannot write ${path}: ${fsWhy(err) ?? (err instanceof Error ? err.message : String(err))}`;
}

/**
 * A failed write of `path` as a command's one-line refusal (a CliError saying what to do), when it
 * is a file-system error gw knows; anything else (a bug) as it came. `hint` is for errors other
 * than a full disk, whose fix is always the same.
 */
export function writeError(err: unknown, path: string, hint: string): unknown {
  if (err instanceof CliError || fsWhy(err) === undefined) return err;
  return new CliError(writeProblem(displayPath(path), err), 1, isOutOfRoom(err) ? ROOM_HINT : hint);
}
