import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { chmod, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { ensurePrivateDir, PRIVATE_FILE_MODE } from "./private.ts";
import { removeStaleTempsBeside, removeStaleTempsOf, tempPathFor } from "./temp-files.ts";

export { tempPathFor } from "./temp-files.ts";

/**
 * Write via a temp file in the same directory and rename it into place, so a reader (or
 * CLIProxyAPI's file watcher) sees the old bytes or the new ones, never a half-written file.
 * rename replaces a link at `path` itself; it never writes through it.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  removeStaleTempsOf(path); // only its own: the folder may be the user's (temp-files.ts)
  const tmp = await stageFile(path, data, mode);
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * `data` in a new temp file beside `path` (its directory must exist), for the caller to rename
 * into place — several files staged first can then all be renamed, or all dropped when one
 * cannot be written. Returns the temp file's path; leaves nothing behind when it fails.
 */
export async function stageFile(path: string, data: string | Uint8Array, mode: number): Promise<string> {
  const tmp = tempPathFor(path);
  try {
    await writeFile(tmp, data, { mode, flag: "wx" });
    await chmod(tmp, mode); // the umask may have taken bits away
    return tmp;
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * The same, synchronously (gw install). `write` creates the temp file it is given exclusively
 * (writeNewFileSync, COPYFILE_EXCL, symlinkSync); `mode` is set on it unless it is a link.
 */
export function replaceFileSync(path: string, write: (tmp: string) => void, mode?: number): void {
  mkdirSync(dirname(path), { recursive: true });
  removeStaleTempsOf(path); // only its own: the folder may be the user's (temp-files.ts)
  const tmp = tempPathFor(path);
  try {
    write(tmp);
    if (mode !== undefined) chmodSync(tmp, mode);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** A file only this user may read (keys, instance YAML, pid files), in a directory made private (0700). */
export async function writePrivateFile(path: string, data: string): Promise<void> {
  ensurePrivateDir(dirname(path));
  removeStaleTempsBeside(path); // a private folder is gw's own: any file's (temp-files.ts)
  await writeFileAtomic(path, data, PRIVATE_FILE_MODE);
}

/** The same, synchronously: a small record (fs/record-file.ts). */
export function writePrivateFileSync(path: string, data: string): void {
  ensurePrivateDir(dirname(path));
  removeStaleTempsBeside(path); // a private folder is gw's own: any file's (temp-files.ts)
  replaceFileSync(path, (tmp) => writeNewFileSync(tmp, data), PRIVATE_FILE_MODE);
}

/** writeFileSync that creates `tmp` exclusively: for replaceFileSync's `write`. */
export const writeNewFileSync = (tmp: string, data: string | Uint8Array) => writeFileSync(tmp, data, { flag: "wx", mode: 0o600 });
