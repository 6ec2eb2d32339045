// The state file's checkpoints, on a thread of their own (state/checkpoint.ts starts it): a second
// connection to the file that copies the WAL back into the database when asked, so the fsyncs
// and page copies of a checkpoint never run inside a commit on gw's event loop.
//
// PASSIVE only: it never takes the writer's lock, so gw's commits go on while it copies (a
// RESTART or TRUNCATE would hold them — up to their busy timeout, on the event loop). Once a
// checkpoint has copied everything, gw's next commit starts the WAL over from its beginning.

import { Database } from "bun:sqlite";
import type { FromCheckpointer, ToCheckpointer } from "./checkpoint.ts";
import { refusePlantedStateFile } from "./own-file.ts";

declare const self: Worker;

let file = "";
let db: Database | undefined;
const tell = (m: FromCheckpointer) => self.postMessage(m);

/** The connection, made again after a failure (a full disk refused a checkpoint: checkpoint.ts asks again later). */
function connection(): Database {
  if (db) return db;
  refusePlantedStateFile(file); // by its path, as gw's own open: not through a link put there since
  db = new Database(file, { readwrite: true, create: false, strict: true });
  // A checkpoint syncs the WAL before copying and the database after: what gw committed
  // is on disk at least as soon as without this thread (local.ts's header).
  db.run("PRAGMA synchronous = NORMAL");
  // Nobody waits on this thread: wait as long as it takes for the locks it needs.
  db.run("PRAGMA busy_timeout = 10000");
  return db;
}

self.onmessage = (e: MessageEvent<ToCheckpointer>) => {
  const m = e.data;
  try {
    if (m.op === "open") {
      file = m.file;
      connection();
      tell({ op: "opened" });
    } else if (m.op === "checkpoint") {
      const t0 = Bun.nanoseconds();
      const r = connection().query<{ busy: number; log: number; checkpointed: number }, []>("PRAGMA wal_checkpoint(PASSIVE)").get()!;
      tell({ op: "checkpointed", busy: r.busy, log: r.log, checkpointed: r.checkpointed, ms: (Bun.nanoseconds() - t0) / 1e6 });
    } else {
      db?.close();
      db = undefined;
      tell({ op: "stopped" });
    }
  } catch (err) {
    db?.close(); // closed here, so gw may end this thread at once
    db = undefined;
    tell({ op: "failed", message: (err as Error).message, code: (err as { code?: string }).code });
  }
};
