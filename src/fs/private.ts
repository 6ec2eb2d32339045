// gw's own directories (.gw/, logs/, instances/) and the files in them are private from their
// first byte, whatever the umask, and gw never writes through a link someone planted there: a
// cloned repo may carry `logs/gw.log -> ~/.bashrc`, and appending, rotating or truncating must
// not reach the target. Final components are opened with O_NOFOLLOW (no check-then-open race);
// directories are checked with lstat right after mkdir.
import { chmodSync, closeSync, constants as C, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, type Stats, unlinkSync } from "node:fs";
import { type FileHandle, open, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { CliError } from "../cli/errors.ts";
import { appendWhole } from "./append-whole.ts";

const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** A path gw refuses to use: a planted link, or something other than what belongs there. */
export class UnsafePathError extends CliError {
  constructor(
    readonly path: string,
    what: string,
    use = "write through it",
  ) {
    super(`${path} ${what}; gw does not ${use} — remove it and try again`);
    this.name = "UnsafePathError";
  }
}

const SYMLINK = "is a symbolic link";

/** Refuse `path` if it is a symbolic link — gw makes none, so one was planted; `use` is what gw would have done through it. */
export function refuseLink(path: string, use?: string): void {
  if (lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) throw new UnsafePathError(path, SYMLINK, use);
}

/** mkdir -p with mode 0700; an existing directory is made private; a link or a file is refused. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) throw new UnsafePathError(dir, SYMLINK);
  if (!st.isDirectory()) throw new UnsafePathError(dir, "is not a directory");
  if (st.mode & 0o077) {
    try {
      chmodSync(dir, PRIVATE_DIR_MODE);
    } catch {
      throw new UnsafePathError(dir, `is open to other users and cannot be made private (owner uid ${st.uid})`);
    }
  }
}

/**
 * ensurePrivateDir for a directory one level inside gw's own (instances/NAME, logs/requests), whose
 * parent must be no link either: mkdir -p would make it through one, and a cloned folder's
 * `logs -> ~/other-gw/logs` or `instances -> ~` would then be written, run in or swept through.
 */
export function ensurePrivateSubdir(dir: string): void {
  refuseLink(dirname(dir));
  ensurePrivateDir(dir);
}

/**
 * Refuse what stands at `file`, if anything, unless it is a regular file of one name — for a file
 * another program opens by its path and writes (SQLite's state file, its -wal and -shm), where no
 * O_NOFOLLOW of gw's can reach. Nothing there is fine: it is made anew.
 */
export function refuseUnlessOwnFile(file: string): void {
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (!st) return;
  if (st.isSymbolicLink()) throw new UnsafePathError(file, SYMLINK);
  const why = notOwnFile(st);
  if (why) throw new UnsafePathError(file, why);
}

/** Flags for appending to a log: created 0600, never through a link, never blocking on a planted FIFO. */
const APPEND = C.O_WRONLY | C.O_APPEND | C.O_CREAT | C.O_NOFOLLOW | C.O_NONBLOCK;

/**
 * A file descriptor appending to `file` (created 0600 in a private parent directory). Sync: the
 * supervisor opens logs right before it spawns, and its log lines must not wait for the loop.
 */
export function openPrivateAppend(file: string): number {
  ensurePrivateDir(dirname(file));
  let fd: number;
  try {
    fd = openSync(file, APPEND, PRIVATE_FILE_MODE);
    if (isSharedFile(fstatSync(fd))) {
      closeSync(fd);
      unlinkSync(file);
      fd = openSync(file, APPEND | C.O_EXCL, PRIVATE_FILE_MODE);
    }
  } catch (err) {
    throw refusal(file, err);
  }
  try {
    makePrivate(fd, file, fstatSync(fd));
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** Append `data` to `file` the same way (the request log's day files). */
export async function appendPrivate(file: string, data: string | Uint8Array): Promise<void> {
  ensurePrivateDir(dirname(file)); // O_NOFOLLOW guards the last component only
  let fh = await openNoFollow(file, APPEND);
  if (isSharedFile(await fh.stat())) {
    await fh.close();
    await unlink(file);
    fh = await openNoFollow(file, APPEND | C.O_EXCL);
  }
  try {
    const st = await fh.stat();
    makePrivate(fh.fd, file, st);
    await appendWhole(fh, data, st.size); // a full disk's half line is cut back off
  } finally {
    await fh.close();
  }
}

/** Open an existing or new file without following a link in its last component (rotation, tails). */
export async function openNoFollow(file: string, flags: number): Promise<FileHandle> {
  try {
    return await open(file, flags | C.O_NOFOLLOW, PRIVATE_FILE_MODE);
  } catch (err) {
    throw refusal(file, err);
  }
}

// --- internal ---

function makePrivate(fd: number, file: string, st: Stats): void {
  const why = notOwnFile(st);
  if (why) throw new UnsafePathError(file, why);
  if (st.mode & 0o077) fchmodSync(fd, PRIVATE_FILE_MODE);
}

/**
 * A log gw appends to that has a second name: a folder copied with `cp -al` shares its logs with
 * the original. Appending, chmod and rotation's truncate would reach the other folder's file, so gw
 * takes its own name back for a new file (unlink, then create exclusively) — the other name keeps
 * every line written so far, and this folder's instance still starts.
 */
function isSharedFile(st: Stats): boolean {
  return st.isFile() && st.nlink > 1;
}

/** Why a file (not a link) is not one gw may write as its own, or undefined. */
function notOwnFile(st: Stats): string | undefined {
  if (!st.isFile()) return "is not a regular file";
  // A hard link is no link O_NOFOLLOW sees: a folder copied with `cp -al` shares its logs with the
  // original, and appending, chmod and rotation's truncate would reach the other folder's file.
  if (st.nlink > 1) return `is a hard link (${st.nlink} names for one file)`;
  return undefined;
}

/** ELOOP from O_NOFOLLOW means "the last component is a link": say that, not "too many links". */
function refusal(file: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === "ELOOP") return new UnsafePathError(file, SYMLINK);
  if (code === "ENXIO") return new UnsafePathError(file, "is not a regular file"); // a FIFO nobody reads
  return err;
}
