// `state = "local"` (the default): the in-memory store the LB reads, with every change written
// behind it to the state file (state/sqlite.ts) in batches, off the request path.
//
// What may be lost: a graceful stop (close) writes everything. A hard kill of gw (SIGKILL, OOM,
// crash) loses at most the changes of the last FLUSH_EVERY_MS; a power loss at most those not yet
// synced to disk, which happens SYNC_EVERY_MS after a write. Checkpoints (the WAL copied back into
// the database) run on a worker thread, never inside a commit on the event loop; they change
// none of this: a commit is in the WAL before a checkpoint can copy it, and SQLite keeps the WAL
// until the database holds what it copied, synced. A file that cannot be opened or read
// is moved aside with one warning and gw starts clean — unless its disk is full, which makes any
// file unopenable: then it is kept, gw serves from memory and opens it once there is room. One that
// cannot be written any more leaves gw serving from memory (health says so) and retrying. One planted
// in its place (a link, a FIFO, a second name: state/own-file.ts) is neither opened nor moved
// aside — it is not gw's: gw says so once and serves from memory.

import { open } from "node:fs/promises";
import { dirname } from "node:path";
import { UnsafePathError } from "../fs/private.ts";
import { type Rewrite, rewriteUntilDone } from "../fs/rewrite.ts";
import { isOutOfRoom, noRoomIn, writeProblem } from "../fs/why.ts";
import { PendingChanges } from "./changes.ts";
import { type CheckpointResult, Checkpointer } from "./checkpoint.ts";
import { createMemoryStore, entriesMax, type LocalStore, type MemoryStoreOptions, STICKY_MAX, STICKY_TTL_MS, STREAK_TTL_MS } from "./memory.ts";
import { isBusy, isDamaged, isUnwritable, moveAside, PRUNE_BATCH, readStateFile, StateFile, type Validity } from "./sqlite.ts";
import { type DownMark, downHealth, downMark, type StateBackend, type StateChange, type StateHealth, type StateLog } from "./types.ts";

interface LocalStateOptions extends Omit<MemoryStoreOptions, "onChange"> {
  /** The state file, `.gw/state.db` beside the config. */
  readonly file: string;
  readonly log: StateLog;
  readonly flushEveryMs?: number;
  readonly checkpointEveryMs?: number;
  /** Each checkpoint the worker made (bench/state-wal.ts, tests). */
  readonly onCheckpoint?: (r: CheckpointResult) => void;
  /** Each checkpoint the disk refused (tests). */
  readonly onCheckpointMissed?: (why: string) => void;
  /** The checkpoint worker's script, for tests. */
  readonly checkpointWorker?: string | URL;
  readonly now?: () => number;
}

/** Changes reach the file this long after the first of a batch. */
const FLUSH_EVERY_MS = 250;
/** The WAL is synced to disk (off the event loop) this long after a write. */
const SYNC_EVERY_MS = 1000;
/**
 * While gw writes, the WAL is checkpointed (off the event loop) this long after a write: the WAL
 * holds about this much of the writes. A new session per request at ~2000 requests/s adds ~100
 * pages (400 KiB) a second (bench/state-wal.ts).
 */
const CHECKPOINT_EVERY_MS = 2000;
/** Batches in a row that may find the file locked by another process before that counts as a problem. */
const BUSY_TRIES = 8;
/** Expired rows are deleted this often while gw runs (and at every start), a bounded step per flush. */
const PRUNE_EVERY_MS = 3600_000;
/**
 * A prune is due sooner once this share of a cap has been written as sticky or streak keys: a
 * client sending a new session id per request otherwise grew the file far past the caps between
 * hourly prunes (~70 MB at 80 requests/s); now it holds at most about 1.1 × the caps.
 */
const PRUNE_AFTER_CAP_SHARE = 0.1;
/**
 * Rows one prune step may delete at most: ~12 µs a row (sqlite.ts PRUNE_BATCH), so ~12 ms of the
 * event loop. A step deletes at least as many rows as keys were written since the one before, up
 * to this: at PRUNE_BATCH a step (~1,000 rows a second) a burst of ~3,500 new sessions a second
 * grew the file to twice its cap; at this, the prune keeps pace up to ~4,000 a second.
 */
const PRUNE_STEP_MAX = 4 * PRUNE_BATCH;
/** What health says when there is no file to be had at all. */
const MEMORY_ONLY = "the state file cannot be opened; state is kept in memory only";

export function openLocalState(o: LocalStateOptions): StateBackend {
  const now = o.now ?? Date.now;
  const flushEveryMs = o.flushEveryMs ?? FLUSH_EVERY_MS;
  const validity: Validity = {
    stickyTtlMs: o.stickyTtlMs ?? STICKY_TTL_MS,
    streakTtlMs: o.streakTtlMs ?? STREAK_TTL_MS,
    stickyMax: o.stickyMax ?? STICKY_MAX,
    streakMax: o.streakMax ?? STICKY_MAX,
  };
  const pending = new PendingChanges(entriesMax(o));
  let flushTimer: Timer | undefined;
  let syncTimer: Timer | undefined;
  let problem: string | undefined;
  let down: DownMark | undefined;
  /** When the next prune starts; it stays due (a step per flush) until a step finds nothing more. */
  let pruneAt = now();
  /** Sticky and streak keys written since the last prune was due; enough of them make it due now. */
  let keyed = 0;
  /** Sticky and streak keys written since the last prune step: the next step deletes at least as many. */
  let keyedSinceStep = 0;
  const pruneAfterKeys = Math.ceil(Math.min(validity.stickyMax, validity.streakMax) * PRUNE_AFTER_CAP_SHARE);
  let closed = false;
  let busy = 0;
  /** A file found damaged while gw ran is being moved aside; what memory holds then goes into a fresh one. */
  let settingAside: Promise<void> | undefined;
  let snapshotDue = false;

  /**
   * The file refused (it could not be opened for want of room, or a batch was not written): tried
   * again until it takes (fs/rewrite.ts), and changes wait for it meanwhile.
   */
  let retry: Rewrite | undefined;

  const store = createMemoryStore({
    ...o,
    onChange(c) {
      if (!file && !retry) return; // memory only
      pending.add(c);
      if (c.op === "setSticky" || c.op === "setStreak") {
        keyedSinceStep++;
        if (++keyed >= pruneAfterKeys) [keyed, pruneAt] = [0, Math.min(pruneAt, now())];
      }
      if (file && !retry) flushTimer ??= setTimeout(flush, flushEveryMs); // else the retry writes it
    },
  });
  const first = openAndLoad();
  let file = first instanceof StateFile ? first : undefined;
  let checkpoints = file ? offThreadCheckpoints(file, o) : undefined;
  if (first instanceof NoRoom) refused(writeProblem(o.file, first.err));
  else if (first instanceof NotNow) {
    // What it holds is served meanwhile: sessions land where they were, cooldowns stand.
    try {
      for (const c of readStateFile(o.file, now(), validity)) store.apply(c);
    } catch {} // not even readable (locked in a rollback journal): taken in once it opens
    refused(first.why);
  } else if (!file) [problem, down] = [first instanceof Refused ? first.why : MEMORY_ONLY, downMark(now())];
  else flushTimer = setTimeout(flush, flushEveryMs); // the start's prune

  /**
   * Open the file and take in what it holds that memory lacks (all of it, at the start) — but not
   * an entry memory changed while the file could not be opened: that change waits to be written
   * and is newer (a cooldown cleared meanwhile must not come back from the file). A file
   * that cannot be opened or read is judged the same at the start and at each retry for room: the
   * disk's fault while it is full (kept), else the file's (moved aside).
   */
  function openAndLoad(): StateFile | NoRoom | NotNow | Refused | undefined {
    const f = openFile(o.file, o.log, now());
    if (!(f instanceof StateFile)) return f;
    try {
      takeIn(f);
      return f;
    } catch (err) {
      f.close();
      return reopenClean(o.file, o.log, `could not be read (${(err as Error).message})`, now());
    }
  }

  /** What `f` holds that memory neither has nor changed since (a change still waiting is newer). */
  function takeIn(f: StateFile): void {
    const t = now();
    for (const c of f.load(t, validity)) if (!pending.has(c) && missingIn(store, c, t)) store.apply(c);
  }

  /**
   * The file refused: said once, in gw.log, and kept as the problem health shows — the latest
   * cause, which is the one to fix (a disk freed but a file now locked says so) — until a retry
   * (a timer, or a status ask with room back: fs/rewrite.ts) takes it.
   */
  function refused(why: string): void {
    if (!problem) o.log.warn(`state file: ${why}; state is kept in memory and written when it can be`);
    problem = why;
    down ??= downMark(now());
    if (!closed) retry ??= rewriteUntilDone({ write: tryAgain, file: o.file, written: () => (retry = undefined) });
  }

  /**
   * One more try; true once nothing is left to try. A file that could not be opened is opened now
   * (or judged, now that the disk is not to blame) and taken in; then what waited is written.
   */
  function tryAgain(): boolean {
    if (settingAside) return false;
    if (!file) {
      const f = openAndLoad();
      if (f instanceof NoRoom || f instanceof NotNow) {
        refused(f instanceof NoRoom ? writeProblem(o.file, f.err) : f.why); // said once already
        return false;
      }
      if (!(f instanceof StateFile)) {
        // Planted, or no fresh file could be made: memory only from here on, as at a start.
        pending.take();
        problem = f instanceof Refused ? f.why : MEMORY_ONLY;
        return true;
      }
      file = f;
      if (!closed) checkpoints ??= offThreadCheckpoints(f, o); // none for close's last write
      if (snapshotDue) {
        snapshotDue = false;
        pending.take();
        for (const c of store.snapshot(now())) pending.add(c);
      }
    }
    flush(); // says "written again" and ends the problem, or keeps it
    return problem === undefined;
  }

  const pruneDue = () => now() >= pruneAt;

  function flush(): void {
    flushTimer = undefined;
    if (!file || (pending.size === 0 && !pruneDue())) return;
    const batch = pending.take();
    const before = file.changes;
    try {
      file.write(batch);
      if (pruneDue()) {
        const budget = Math.min(PRUNE_STEP_MAX, Math.max(PRUNE_BATCH, keyedSinceStep));
        keyedSinceStep = 0;
        if (file.pruneStep(now(), validity, budget)) { if (!closed) flushTimer ??= setTimeout(flush, flushEveryMs); }
        else pruneAt = now() + PRUNE_EVERY_MS;
      }
      if (problem) o.log.info(`state file ${o.file} is written again`);
      [problem, down] = [undefined, undefined];
      syncTimer ??= setTimeout(sync, SYNC_EVERY_MS);
      // Only for rows written: the start's and the hourly prune run in an idle gw too, and the
      // worker (a thread, ~1-2 MB) would start for a WAL they left as it was.
      if (file.changes !== before) checkpoints?.wrote();
      busy = 0;
    } catch (err) {
      pending.restore(batch);
      // Another process's short write (a second gw on the file): try again at the next tick.
      if (isBusy(err) && ++busy < BUSY_TRIES) return void (closed || (flushTimer = setTimeout(flush, flushEveryMs)));
      if (isDamaged(err)) return setAside(err);
      refused(writeProblem(o.file, err));
    }
  }

  /**
   * The file went bad under gw (a disk fault, another program writing into it): every retry of the
   * batch failed the same way, and the next start moved it aside and began empty — every session
   * and cooldown lost. It is moved aside now (once the checkpoint worker has let go of it), and
   * a fresh file gets all that memory holds, which is everything the old one held and more.
   */
  function setAside(err: unknown): void {
    const [bad, worker] = [file!, checkpoints];
    [file, checkpoints, snapshotDue] = [undefined, undefined, true];
    pending.take(); // the snapshot holds all of it
    const why = `${o.file} was found damaged while gw ran (${(err as Error).message})`;
    [problem, down] = [why, downMark(now())];
    settingAside = (async () => {
      await worker?.stop();
      bad.close();
      let where: string;
      try {
        where = `moved it to ${moveAside(o.file, now())}`;
      } catch (e) {
        where = `could not move it aside (${(e as Error).message})`;
      }
      o.log.warn(`state file ${why}: ${where}; what gw holds is written to a fresh one`);
      settingAside = undefined;
      if (!tryAgain() && !closed) refused(why); // said above: refused() only keeps trying
    })();
  }

  /** fsync of the WAL on a worker thread: commits survive a power loss without stalling requests. */
  async function sync(): Promise<void> {
    syncTimer = undefined;
    if (!file) return;
    const handle = await open(file.walFile, "r").catch(() => undefined);
    await handle?.datasync().catch(() => {});
    await handle?.close();
  }

  return {
    ...store,
    health(): StateHealth {
      retry?.ask(); // asked with room back: the answer is true now, not at the next retry
      return { backend: "local", up: problem === undefined, where: o.file, ...(problem && down ? downHealth(problem, down) : {}) };
    },
    refresh() {
      if (!file || closed) return;
      flush(); // ours first: what this gw changed is newer than anything the other left
      if (!file) return; // that write found it damaged: it is being set aside
      try {
        takeIn(file);
      } catch (err) {
        if (isDamaged(err)) return setAside(err);
        o.log.warn(`state file ${o.file} could not be read again (${(err as Error).message}); going on with what this gw has`);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(flushTimer);
      clearTimeout(syncTimer);
      await settingAside; // its fresh file gets the last write
      // Room back since the last try: the file is taken up now, so the last flush writes what
      // waited — else a stop, or a hand-over whose successor reads the file next, would lose it.
      retry?.ask();
      retry?.stop();
      await checkpoints?.stop(); // no checkpoint under way while the last batch is written and the file closed
      file?.patient(); // no request waits any more
      flush();
      clearTimeout(flushTimer); // a failed last write has nowhere left to go
      file?.close();
      file = undefined;
    },
  };
}

// --- internal ---

/** Is the entry a loaded change is about absent from the store? */
function missingIn(store: LocalStore, c: StateChange, now: number): boolean {
  switch (c.op) {
    case "setCooldown":
      return store.cooldown(c.route, c.target, now) === undefined;
    case "setSticky":
      return store.sticky(c.key, now) === undefined;
    case "setStreak":
      return store.streak(c.key, now) === 0;
    default:
      return false;
  }
}

/** gw's commits stop checkpointing; a worker thread does it, or, if it cannot, the commits again. */
function offThreadCheckpoints(file: StateFile, o: LocalStateOptions): Checkpointer {
  file.checkpointsElsewhere();
  return new Checkpointer({
    file: file.file,
    everyMs: o.checkpointEveryMs ?? CHECKPOINT_EVERY_MS,
    onCheckpoint: o.onCheckpoint,
    onMissed: o.onCheckpointMissed,
    worker: o.checkpointWorker,
    onFail(why) {
      file.checkpointsInline();
      o.log.warn(`state file ${file.file}: ${why}; checkpoints run inline again`);
    },
  });
}

/** A state file that cannot be opened on a full disk (SQLite says "disk I/O error" or "full"): it is kept, never moved aside. */
class NoRoom {
  constructor(readonly err: unknown) {}
}

/**
 * A state file that cannot be opened for writing now but is fine: locked by another process, or
 * not writable by this user (its owner, its mode, chattr +i, a read-only mount). Never moved aside;
 * read as it is, and tried again until it opens (`why`: the cause and its fix, for health).
 */
class NotNow {
  constructor(readonly why: string) {}
}

/** A state file planted in gw's place (a link, a FIFO, a second name): never opened, never moved aside — it is not gw's. */
class Refused {
  constructor(readonly why: string) {}
}

/** The file's disk has no room: whatever opening said, the file is not to blame (refused() says so, once). */
function noRoomFor(path: string, err: unknown): NoRoom | undefined {
  if (!isOutOfRoom(err) && !noRoomIn(dirname(path))) return undefined;
  return new NoRoom(isOutOfRoom(err) ? err : { code: "ENOSPC" });
}

/** The state file, or why there is none to be had now (NoRoom, NotNow: tried again) or at all (Refused, undefined: memory only). */
function openFile(path: string, log: StateLog, now: number): StateFile | NoRoom | NotNow | Refused | undefined {
  try {
    return new StateFile(path);
  } catch (err) {
    if (err instanceof UnsafePathError) {
      log.warn(`state file: ${err.message}; state is kept in memory only`);
      return new Refused(err.message);
    }
    // Said by refused(), once, as the cause health shows.
    if (isBusy(err)) return new NotNow(`${path} is locked by another process (${(err as Error).message})`);
    if (isUnwritable(path, err)) {
      return new NotNow(`${path} cannot be written by this user (${(err as Error).message}): it is kept as it is — make the file and its folder this user's (chown), writable (chmod u+rw) or mutable (chattr -i)`);
    }
    return noRoomFor(path, err) ?? reopenClean(path, log, `is not a usable state file (${(err as Error).message})`, now);
  }
}

/** Move the unusable file aside (kept for a look), say so once, and start a fresh one. */
function reopenClean(path: string, log: StateLog, why: string, now: number): StateFile | NoRoom | undefined {
  const full = noRoomFor(path, undefined);
  if (full) return full;
  try {
    const aside = moveAside(path, now);
    log.warn(`state file ${path} ${why}: moved it to ${aside} and started with empty state`);
    return new StateFile(path);
  } catch (err) {
    log.warn(`state file ${path} ${why}, and a fresh one cannot be made (${(err as Error).message}); state is kept in memory only`);
    return undefined;
  }
}
