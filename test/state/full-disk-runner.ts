// Child used by checkpoint-full.test.ts, run inside its full-disk namespace with its argument the
// small tmpfs: the state file there, its checkpoints on the worker; the disk filled and freed again
// here, between the writes. Prints one JSON line: the log lines, the checkpoints the disk refused
// and whether the worker checkpointed again after the disk had room.
import { closeSync, openSync, rmSync, statfsSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { CheckpointResult } from "../../src/state/checkpoint.ts";
import { openLocalState } from "../../src/state/local.ts";

const dir = process.argv[2]!;
const lines: string[] = [];
const log = { info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`) };
const checkpoints: CheckpointResult[] = [];
const missed: string[] = [];
const store = openLocalState({
  file: join(dir, ".gw", "state.db"),
  log,
  flushEveryMs: 1,
  checkpointEveryMs: 1,
  stickyMax: 1_000_000,
  onCheckpoint: (r) => checkpoints.push(r),
  onCheckpointMissed: (why) => missed.push(why),
});
const pad = "k".repeat(200);
let n = 0;
/** New sessions, in one batch: each a sticky key of ~250 bytes. */
const sessions = (rows: number) => {
  for (const end = n + rows; n < end; n++) store.setSticky(`cc:${n}-${pad}::opus`, "a/claude", Date.now());
};
/** Until `done`, a timer tick apart (or 20 s: the answer says which). */
async function until(done: () => boolean): Promise<boolean> {
  for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 1))) if (done()) return true;
  return false;
}
const fullCheckpoint = (from: number) => () => checkpoints.slice(from).some((c) => c.log > 0 && c.checkpointed === c.log);

// ~500 KiB through the WAL, all copied back: the WAL file keeps its size, and the next commit
// starts over at its beginning — written into room the file already has.
sessions(2000);
const first = await until(fullCheckpoint(0));
// Every free block taken: the pages the database grows by are refused (SQLITE_FULL).
const fd = openSync(join(dir, "filler"), "w");
try {
  for (const block = Buffer.alloc(64 * 1024); statfsSync(dir).bavail > 0; ) writeSync(fd, block);
} catch {} // ENOSPC: full
closeSync(fd);
// ~50 KiB: within the WAL's room, but new pages for the database.
sessions(200);
const refused = await until(() => missed.length > 0 || lines.length > 0);
rmSync(join(dir, "filler"));
const since = checkpoints.length;
sessions(20);
const again = await until(() => fullCheckpoint(since)() || lines.some((l) => l.includes("checkpoint")));
await store.close();
console.log(JSON.stringify({ first, refused, again, missed: missed.length, lines }));
