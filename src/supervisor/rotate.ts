// Size-based rotation by copy-and-truncate: instances hold their log open in append mode, so
// after the truncate their next write lands at the start of the empty file. Renaming instead
// would leave them writing into X.log.1 until their next restart.
// Nothing here goes through a link: the log is opened with O_NOFOLLOW and truncated through
// that descriptor, the copy is a new exclusive file renamed over X.log.1, and renames move
// whatever sits at X.log.N (a link included) without touching what it points to.
// X.log.1 never goes missing: the copy is made first, the old .1 is hard-linked to .2, and the
// copy then replaces .1 in one rename.
import { constants as C } from "node:fs";
import { link, rename, rm, unlink } from "node:fs/promises";
import { type FileHandle } from "node:fs/promises";
import { removeStaleTempsOf, tempPathFor } from "../fs/temp-files.ts";
import { openNoFollow, PRIVATE_FILE_MODE, UnsafePathError } from "../fs/private.ts";

/** Rotate `file` when it has grown past maxBytes: X.log → X.log.1 → … → X.log.keep (dropped after). */
export async function rotateIfLarge(file: string, maxBytes: number, keep: number): Promise<boolean> {
  const log = await openNoFollow(file, C.O_RDWR | C.O_NONBLOCK).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return null;
    throw e;
  });
  if (!log) return false;
  try {
    const st = await log.stat();
    if (!st.isFile()) throw new UnsafePathError(file, "is not a regular file");
    if (st.size <= maxBytes) return false;
    if (keep >= 1) {
      const copy = await copyOf(log, `${file}.1`);
      for (let i = keep - 1; i >= 2; i--) await rename(`${file}.${i}`, `${file}.${i + 1}`).catch(() => {});
      if (keep >= 2) await shiftFirst(`${file}.1`, `${file}.2`);
      await rename(copy, `${file}.1`);
    }
    await log.truncate(0);
    return true;
  } finally {
    await log.close();
  }
}

/** .1 → .2 while .1 stays in place (a hard link; a rename where links are not possible). */
async function shiftFirst(first: string, second: string): Promise<void> {
  await unlink(second).catch(() => {});
  await link(first, second).catch(() => rename(first, second).catch(() => {}));
}

const CHUNK = 1 << 20;

/** A private copy of the log beside `to`, under a fresh exclusive name; returns that name. */
async function copyOf(from: FileHandle, to: string): Promise<string> {
  removeStaleTempsOf(to); // a copy a killed gw left (temp-files.ts)
  const tmp = tempPathFor(to);
  const out = await openNoFollow(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL);
  try {
    const buf = Buffer.alloc(CHUNK);
    for (let pos = 0; ; ) {
      const { bytesRead } = await from.read(buf, 0, CHUNK, pos);
      if (bytesRead === 0) break;
      await out.write(buf, 0, bytesRead);
      pos += bytesRead;
    }
    await out.chmod(PRIVATE_FILE_MODE);
    await out.close();
    return tmp;
  } catch (err) {
    await out.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Check the files every rotateCheckMs and rotate those past maxBytes; returns the stop function. */
export function startRotation(files: () => string[], t: { rotateCheckMs: number; logMaxBytes: number; logKeep: number }, warn: (m: string) => void): () => void {
  const reported = new Set<string>(); // a planted link would otherwise be reported at every check
  const timer = setInterval(() => {
    for (const file of files()) {
      void rotateIfLarge(file, t.logMaxBytes, t.logKeep).catch((e: Error) => {
        const line = `log rotation of ${file} failed: ${e.message}`;
        if (!reported.has(line)) warn(line);
        reported.add(line);
      });
    }
  }, t.rotateCheckMs);
  return () => clearInterval(timer);
}
