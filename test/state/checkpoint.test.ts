// The state file's checkpoints run on a worker thread, never inside gw's commits (SQLite's own
// automatic checkpoint stalls the event loop ~12 ms on this VM's disk: bench/state-wal.ts). Real files in a
// temp dir; the WAL index (-shm) says how many frames the WAL holds and how many a checkpoint
// copied back into the database.
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { existsSync, renameSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CheckpointResult } from "../../src/state/checkpoint.ts";
import { openLocalState } from "../../src/state/local.ts";
import { until } from "../helpers/supervisor.ts";
import { tempDir } from "../helpers/tmp.ts";
import { walIndex } from "../helpers/wal.ts";

const NOW = 1_700_000_000_000;
/** SQLite's automatic checkpoint comes in the commit that takes the WAL past this many pages. */
const AUTOCHECKPOINT_PAGES = 1000;
/** What the WAL file is cut back to when it starts over (state/sqlite.ts). */
const WAL_KEEP_BYTES = 4 * 2 ** 20;
/** Long session keys (under the 256 characters memory.ts keeps as they are): ~15 rows a page. */
const pad = "k".repeat(200);
/** Rows that take a commit well past AUTOCHECKPOINT_PAGES. */
const MANY = 30_000;

function logger() {
  const lines: string[] = [];
  return { lines, info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`) };
}

function setup(o: { checkpointWorker?: string; onCheckpoint?: (r: CheckpointResult) => void } = {}) {
  const dir = tempDir("gw-ckpt-");
  const file = join(dir, ".gw", "state.db");
  const log = logger();
  const store = openLocalState({ file, log, now: () => NOW, flushEveryMs: 1, checkpointEveryMs: 1, stickyMax: 1_000_000, ...o });
  let n = 0;
  /** `rows` new sessions, each a sticky key in the file once flushed. */
  const sessions = (rows: number) => {
    for (const end = n + rows; n < end; n++) store.setSticky(`cc:${n}-${pad}::opus`, "a/claude", NOW);
  };
  return { dir, file, shm: `${file}-shm`, wal: `${file}-wal`, log, store, sessions, written: () => n };
}

/** Rows in the file's sticky table, as another reader sees them. */
function stickyRows(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.query<{ n: number }, []>("SELECT count(*) AS n FROM sticky").get()!.n;
  } finally {
    db.close();
  }
}

/**
 * Another connection (another gw loading the file) holds a snapshot while `s` writes: checkpoints
 * cannot copy past it, and the WAL grows with every commit until it is past `bytes`; then the
 * reader lets go.
 */
async function growWalPast(s: ReturnType<typeof setup>, bytes: number): Promise<void> {
  s.sessions(10);
  await until(() => walIndex(s.shm).mxFrame > 0, 20_000, () => "the first commit");
  const reader = new Database(s.file);
  reader.run("BEGIN");
  reader.query("SELECT count(*) FROM sticky").get();
  s.sessions(MANY);
  await until(() => statSync(s.wal).size > bytes, 20_000, () => `WAL of ${statSync(s.wal).size} bytes`);
  reader.run("COMMIT");
  reader.close();
}

describe("checkpoints of the state file", () => {
  test("gw's own commits do not checkpoint, however far the WAL grows", async () => {
    // A worker that opens nothing and never answers: only gw's commits could checkpoint.
    const dir = tempDir("gw-ckpt-worker-");
    const idle = join(dir, "idle-worker.js");
    writeFileSync(idle, "self.onmessage = () => {};\n");
    const s = setup({ checkpointWorker: idle });
    s.sessions(MANY);
    await until(() => walIndex(s.shm).mxFrame > AUTOCHECKPOINT_PAGES * 1.5, 20_000, () => `WAL frames: ${JSON.stringify(walIndex(s.shm))}`);
    expect(walIndex(s.shm).nBackfill).toBe(0);
    expect(s.log.lines).toEqual([]);
    await s.store.close();
    expect(stickyRows(s.file)).toBe(MANY);
  }, 30_000);

  test("the worker copies the WAL back and it starts over instead of growing; a close keeps every row", async () => {
    const results: CheckpointResult[] = [];
    const s = setup({ onCheckpoint: (r) => results.push(r) });
    let frames = 0;
    let walMax = 0;
    // Rounds of writes, each waited out until the worker has copied everything committed.
    for (let round = 0; round < 6; round++) {
      s.sessions(MANY / 6);
      const seen = results.length;
      await until(
        () => results.slice(seen).some((r) => r.log > 0 && r.checkpointed === r.log) && walIndex(s.shm).nBackfill === walIndex(s.shm).mxFrame,
        20_000,
        () => `a full checkpoint after round ${round}: ${JSON.stringify(results.slice(seen))}`,
      );
      frames += walIndex(s.shm).mxFrame;
      walMax = Math.max(walMax, statSync(s.wal).size);
    }
    // Far more frames went through the WAL than it ever held: it restarted after checkpoints.
    expect(frames).toBeGreaterThan(AUTOCHECKPOINT_PAGES);
    expect(walMax).toBeLessThan((frames / 2) * 4096);
    expect(s.log.lines).toEqual([]);
    await s.store.close();
    expect(stickyRows(s.file)).toBe(s.written());
  }, 60_000);

  test("a WAL that grew while a reader held checkpoints back is cut back to 4 MiB once it starts over", async () => {
    const s = setup();
    await growWalPast(s, 2 * WAL_KEEP_BYTES);
    // Each poll writes a session: a checkpoint follows, copies everything, and a commit after it
    // starts the WAL over.
    await until(
      () => {
        s.sessions(1);
        return statSync(s.wal).size <= WAL_KEEP_BYTES;
      },
      20_000,
      () => `WAL of ${statSync(s.wal).size} bytes: ${JSON.stringify(walIndex(s.shm))}`,
    );
    expect(s.log.lines).toEqual([]);
    await s.store.close();
  }, 30_000);

  test("a graceful close copies the WAL into the database and removes it, however far it had grown", async () => {
    const s = setup();
    await growWalPast(s, WAL_KEEP_BYTES);
    s.sessions(10); // the last batch: written by close, after the worker stopped
    await s.store.close();
    // The last connection's close checkpoints (the database synced) and removes the WAL: nothing
    // of the last batch is left only in an unsynced WAL, and no WAL past 4 MiB stays on disk.
    expect(existsSync(s.wal)).toBe(false);
    expect(stickyRows(s.file)).toBe(s.written());
    expect(s.log.lines).toEqual([]);
  }, 30_000);

  test("a gw that changes nothing starts no checkpoint worker (the start's prune finds nothing); its first change starts one", async () => {
    // A worker that notes its start in a file and answers as the real one does.
    const dir = tempDir("gw-ckpt-spy-");
    const started = join(dir, "started");
    const spy = join(dir, "spy-worker.js");
    writeFileSync(
      spy,
      `require("node:fs").writeFileSync(${JSON.stringify(started)}, "");
self.onmessage = (e) => self.postMessage(e.data.op === "checkpoint" ? { op: "checkpointed", busy: 0, log: 0, checkpointed: 0, ms: 0 } : { op: e.data.op === "open" ? "opened" : "stopped" });\n`,
    );
    const file = join(dir, ".gw", "state.db");
    const open = () => openLocalState({ file, log: logger(), now: () => NOW, flushEveryMs: 1, checkpointEveryMs: 1, checkpointWorker: spy });
    const idle = open();
    // Timers fire in the order of their deadlines: the first wait outlasts the start's prune
    // (flushEveryMs), the second the checkpoint that prune would ask for (checkpointEveryMs).
    for (let i = 0; i < 2; i++) await new Promise((r) => setTimeout(r, 1));
    // A worker started by then is told to stop, after it wrote `started`, before close returns.
    await idle.close();
    expect(existsSync(started)).toBe(false);

    const busy = open();
    busy.setSticky("cc:one::opus", "a/claude", NOW);
    await until(() => existsSync(started), 20_000, () => "the worker's start");
    await busy.close();
  }, 30_000);

  const broken: Record<string, () => string> = {
    "cannot start": () => join(tempDir("gw-ckpt-none-"), "missing-worker.js"),
    "dies at its first checkpoint": () => {
      const script = join(tempDir("gw-ckpt-dies-"), "dying-worker.js");
      writeFileSync(script, "self.onmessage = (e) => { if (e.data.op === 'checkpoint') process.exit(1); };\n");
      return script;
    },
  };
  test.each(Object.keys(broken))("a worker that %s: one warning, and SQLite's own checkpoints keep the WAL bounded again", async (how) => {
    const s = setup({ checkpointWorker: broken[how]!() });
    s.sessions(100);
    await until(() => s.log.lines.length > 0, 20_000, () => "the warning");
    expect(s.log.lines).toEqual([expect.stringMatching(/^warn state file .*state\.db: the checkpoint worker (failed \(.*\)|exited); checkpoints run inline again$/)]);
    s.sessions(MANY);
    // A commit past 1000 pages checkpoints inline: frames are copied back without any worker.
    await until(() => walIndex(s.shm).nBackfill > 0, 20_000, () => `WAL index: ${JSON.stringify(walIndex(s.shm))}`);
    await s.store.close();
    expect(stickyRows(s.file)).toBe(MANY + 100);
    expect(s.log.lines).toHaveLength(1);
  }, 30_000);

  test("the state file swapped for a link once gw has it open: the worker does not open it through the link; one warning, checkpoints inline", async () => {
    const s = setup();
    // What gw's own open refuses (state/own-file.ts), put there after it: the worker opens the file by its path too.
    renameSync(s.file, `${s.file}.elsewhere`);
    symlinkSync(`${s.file}.elsewhere`, s.file);
    s.sessions(100);
    await until(() => s.log.lines.length > 0, 20_000, () => "the warning");
    expect(s.log.lines).toEqual([`warn state file ${s.file}: the checkpoint worker failed (${s.file} is a symbolic link; gw does not write through it — remove it and try again); checkpoints run inline again`]);
    await s.store.close();
  }, 30_000);
});
