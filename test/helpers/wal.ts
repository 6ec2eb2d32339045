// What a state file's WAL index (its -shm file) says, read as another process would: how many
// frames the WAL holds and how many of them a checkpoint has copied back into the database. The
// layout is SQLite's documented file format (sqlite.org/walformat.html, "the wal-index header":
// mxFrame at byte 16; the checkpoint info's nBackfill at byte 96), in the machine's byte order.
import { closeSync, openSync, readSync } from "node:fs";

export function walIndex(shm: string): { mxFrame: number; nBackfill: number } {
  let fd: number;
  try {
    fd = openSync(shm, "r");
  } catch {
    return { mxFrame: 0, nBackfill: 0 }; // no WAL index yet
  }
  try {
    const b = Buffer.alloc(100);
    readSync(fd, b, 0, 100, 0);
    return { mxFrame: b.readUInt32LE(16), nBackfill: b.readUInt32LE(96) };
  } finally {
    closeSync(fd);
  }
}
