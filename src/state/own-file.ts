// The state file is opened by SQLite, by its path, from gw's thread and from the checkpoint
// worker's: no O_NOFOLLOW of gw's reaches those opens. A cloned folder may carry .gw/state.db (or
// its -wal, -shm) as a link to a file of the user's or to another gw's database, and SQLite would
// write gw's tables into the target — an empty file grew 0 → 24,576 bytes. So each open is
// preceded by this look: what is there must be gw's own regular file of one name, or nothing.
import { lstatSync } from "node:fs";
import { dirname } from "node:path";
import { ensurePrivateDir, refuseUnlessOwnFile } from "../fs/private.ts";

/** Throws UnsafePathError naming what is planted: .gw a link, or the file, -wal or -shm anything but a plain file. */
export function refusePlantedStateFile(file: string): void {
  ensurePrivateDir(dirname(file)); // .gw a link, or a file in its place
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    // A directory leads nowhere: SQLite cannot open it, and it is moved aside as any unusable file is.
    if (!lstatSync(f, { throwIfNoEntry: false })?.isDirectory()) refuseUnlessOwnFile(f);
  }
}
