// Size-based rotation by copy-and-truncate: instances hold their log open in append mode, so
// after the truncate their next write lands at the start of the empty file. Renaming instead
// would leave them writing into X.log.1 until their next restart.
// Nothing here goes through a link: the log is opened with O_NOFOLLOW and truncated through
// that descriptor, the copy is a new exclusive file renamed over X.log.1, and renames move
// whatever sits at X.log.N (a link included) without touching what it points to.
// X.log.1 never goes missing: the copy is made first, the old .1 is hard-linked to .2, and the
// copy then replaces .1 in one rename.
// A log that grew past twice its cap between two checks (an instance logging a storm) keeps only
// its last maxBytes in X.log.1, from the start of a line, under one line saying what went: no
// generation holds more than twice the cap, however fast the log grew.
// A copy the disk has no room for: the log is emptied all the same, without it (its lines lost,
// the older generations kept as they are). Kept whole, an over-cap log on a full disk would keep
// its old lines while every new one failed — the log would go silent just when trouble starts —
// and hold the very bytes past its cap that the cap says the user does not want it to hold;
// emptied, its new lines find room, and so do gw's other files (request log, state).
import { constants as C } from "node:fs";
import { link, rename, rm, unlink } from "node:fs/promises";
import { type FileHandle } from "node:fs/promises";
import { removeStaleTempsBeside, tempPathFor } from "../fs/temp-files.ts";
import { openNoFollow, PRIVATE_FILE_MODE, UnsafePathError } from "../fs/private.ts";
import { fsWhy, isOutOfRoom, writeProblem } from "../fs/why.ts";

/** A log emptied without its copy, for want of room: the copy's path, the disk's refusal, the bytes lost. */
export interface Emptied {
  readonly copy: string;
  readonly err: unknown;
  readonly lost: number;
}

/**
 * Rotate `file` when it has grown past maxBytes: X.log → X.log.1 → … → X.log.keep (dropped after).
 * When the disk has no room for the copy, `file` is emptied without it and `emptied` told.
 */
export async function rotateIfLarge(file: string, maxBytes: number, keep: number, emptied?: (e: Emptied) => void): Promise<boolean> {
  const log = await openNoFollow(file, C.O_RDWR | C.O_NONBLOCK).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return null;
    throw e;
  });
  if (!log) return false;
  try {
    const st = await log.stat();
    if (!st.isFile()) throw new UnsafePathError(file, "is not a regular file");
    if (st.nlink > 1) throw new UnsafePathError(file, `is a hard link (${st.nlink} names for one file)`); // the truncate would reach its other name
    if (st.size <= maxBytes) return false;
    if (keep >= 1) {
      const from = await keptFrom(log, st.size, maxBytes);
      const copy = await copyOf(log, `${file}.1`, from, maxBytes).catch((err: unknown) => {
        if (!isOutOfRoom(err)) throw err;
        emptied?.({ copy: `${file}.1`, err, lost: st.size });
        return null;
      });
      if (!copy) {
        await log.truncate(0);
        return true;
      }
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

/**
 * Where the kept part of a log of `size` bytes starts: 0 up to twice the cap (a log checked soon
 * after it passed the cap loses nothing); past that, the first line that starts in its last
 * maxBytes (the cut falls inside a line only when none starts there within the first CHUNK).
 */
async function keptFrom(log: FileHandle, size: number, maxBytes: number): Promise<number> {
  if (size <= 2 * maxBytes) return 0;
  const cut = size - maxBytes;
  const buf = Buffer.alloc(Math.min(CHUNK, maxBytes));
  const { bytesRead } = await log.read(buf, 0, buf.length, cut - 1);
  const nl = buf.subarray(0, bytesRead).indexOf(0x0a);
  return nl >= 0 && cut + nl < size ? cut + nl : cut;
}

/**
 * A private copy of the log from byte `start` beside `to`, under a fresh exclusive name; returns
 * that name. A copy that leaves older lines out says so in its first line.
 */
async function copyOf(from: FileHandle, to: string, start: number, maxBytes: number): Promise<string> {
  removeStaleTempsBeside(to); // what killed gws left in logs/: a copy, a log of theirs (temp-files.ts)
  const tmp = tempPathFor(to);
  const out = await openNoFollow(tmp, C.O_WRONLY | C.O_CREAT | C.O_EXCL);
  try {
    if (start > 0) await out.write(`[gw] ${start} bytes of older lines left out: this log grew past its ${maxBytes}-byte cap between two of gw's checks\n`);
    const buf = Buffer.alloc(CHUNK);
    for (let pos = start; ; ) {
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
  const check = rotationCheck(files, t, warn);
  const timer = setInterval(() => void check(), t.rotateCheckMs);
  return () => clearInterval(timer);
}

/**
 * One check of the files, settled once each is rotated or not. A failure is said once per file
 * until a rotation of it goes as it should (a planted link would otherwise be reported at every
 * check, a full disk at every emptying).
 */
export function rotationCheck(files: () => string[], t: { logMaxBytes: number; logKeep: number }, warn: (m: string) => void): () => Promise<void> {
  const reported = new Map<string, string>(); // file → what was said of it (for an emptying: its cause)
  const once = (file: string, said: string, line = said) => {
    if (reported.get(file) !== said) warn(line);
    reported.set(file, said);
  };
  const one = async (file: string) => {
    let short = false;
    const emptied = (e: Emptied) => {
      short = true;
      once(file, writeProblem(e.copy, e.err), emptiedLine(file, e));
    };
    try {
      if ((await rotateIfLarge(file, t.logMaxBytes, t.logKeep, emptied)) && !short) reported.delete(file);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      once(file, fsWhy(e) ? `log rotation: ${writeProblem(e.path ?? file, e)}` : `log rotation of ${file} failed: ${e.message}`);
    }
  };
  return async () => {
    await Promise.all(files().map(one));
  };
}

/** What gw says of a log emptied without its copy (pure). */
const emptiedLine = (file: string, e: Emptied): string =>
  `log rotation: ${writeProblem(e.copy, e.err)}; ${file} was emptied without it (${e.lost} bytes of old lines lost) so that its new lines find room`;
