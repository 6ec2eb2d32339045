// Appending all of a line or none of it. A full disk takes what fits in a file's last page and
// refuses the rest (write(2) returns short, the next call ENOSPC): the half line left behind ran
// into the first line written once there was room again, and neither parsed (a request log
// record, a gw.log line). So a failed append is cut back off to the size the file had before it.
// Another writer's append between the two (gw.log has a few: the watchdog, `gw up -d`) would be
// cut too; it can only come in that instant, and only on a disk that is refusing writes anyway.
import { fstatSync, ftruncateSync, writeSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";

/** Append `data` to `fd` (opened O_APPEND) whole, or throw the write's error with the file as it was. */
export function appendWholeSync(fd: number, data: string | Uint8Array): void {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  const before = fstatSync(fd).size;
  let done = 0;
  try {
    while (done < bytes.length) done += writeSync(fd, bytes, done);
  } catch (err) {
    try {
      if (done > 0) ftruncateSync(fd, before);
    } catch {
      // the write's own error is the one to report
    }
    throw err;
  }
}

/** appendWholeSync for a FileHandle; `before` is its size before (the caller's stat). */
export async function appendWhole(fh: FileHandle, data: string | Uint8Array, before: number): Promise<void> {
  try {
    await fh.appendFile(data);
  } catch (err) {
    await fh.truncate(before).catch(() => {});
    throw err;
  }
}
