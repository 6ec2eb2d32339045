// The state file (`.gw/state.db`): SQLite in WAL mode, written in batches by state/local.ts.
// Only SQL lives here — open (and check), load what is still valid, write a batch, prune, close.

import { Database, type Statement } from "bun:sqlite";
import { accessSync, chmodSync, constants, existsSync, lstatSync, readdirSync, renameSync, rmSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { refusePlantedStateFile } from "./own-file.ts";
import { type Cooldown, forgottenAt, HALF_OPEN_KEEP_MS, type StateChange } from "./types.ts";
import { isCooldownKind } from "./wire.ts";

/** How long opening may wait for another process's lock (once, at start). */
const OPEN_BUSY_MS = 2000;
/** How long one batch write may wait for it. */
const WRITE_BUSY_MS = 20;

/** SQLite's own automatic checkpoint: in the commit that takes the WAL past this many pages. */
const AUTOCHECKPOINT_PAGES = 1000;
/**
 * The WAL file is cut back to this size when it starts over, should it have grown past it (a
 * checkpoint held back by a long reader, such as another gw loading the file).
 */
const WAL_KEEP_BYTES = 4 * 1024 * 1024;

/** Bumped when the tables change; a file from a newer gw is moved aside, not misread. */
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS cooldown (
  route TEXT NOT NULL, target TEXT NOT NULL, until INTEGER NOT NULL,
  kind TEXT NOT NULL, reason TEXT NOT NULL, set_at INTEGER NOT NULL,
  PRIMARY KEY (route, target)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sticky (key TEXT PRIMARY KEY, target TEXT NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS streak (key TEXT PRIMARY KEY, n INTEGER NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sticky_at ON sticky (at);
CREATE INDEX IF NOT EXISTS streak_at ON streak (at);
`;

/**
 * Rows one prune step deletes at most. A client that sends a new session id per request leaves
 * tens of thousands of rows past the cap between hourly prunes; deleting 60,000 of them in one go
 * held the event loop (every request) for 0.5–0.7 s. A row costs ~12 µs to delete (a random key's
 * place in the table and its place in the index), so a step of this size takes ~3 ms.
 */
export const PRUNE_BATCH = 250;

/** How long entries stay valid, and how many sticky/streak keys are worth keeping. */
export interface Validity {
  readonly stickyTtlMs: number;
  readonly streakTtlMs: number;
  readonly stickyMax: number;
  readonly streakMax: number;
}

export class StateFile {
  readonly #db: Database;
  readonly #write: Record<StateChange["op"], Statement>;
  readonly #batch: (changes: readonly StateChange[]) => void;

  /** Open (creating it if missing) and check the file; throws when it is not a usable state file (UnsafePathError: a planted one). */
  constructor(readonly file: string) {
    refusePlantedStateFile(file); // also makes .gw, private
    sideFilesFollow(file);
    const created = !existsSync(file);
    this.#db = new Database(file, { create: true, strict: true });
    try {
      // Sessions and accounts' cooldowns are nobody else's business (-wal/-shm inherit the mode).
      if (created) chmodSync(file, 0o600);
      this.#db.run(`PRAGMA busy_timeout = ${OPEN_BUSY_MS}`);
      const problem = integrityProblem(this.#db.query<{ quick_check: string }, []>("PRAGMA quick_check").all().map((r) => r.quick_check));
      if (problem) throw new Error(`integrity check failed: ${problem}`);
      const version = this.#db.query<{ user_version: number }, []>("PRAGMA user_version").get()?.user_version ?? 0;
      if (version > SCHEMA_VERSION) throw new Error(`written by a newer gw (schema ${version}, this gw knows ${SCHEMA_VERSION})`);
      // WAL: readers never block the writer. NORMAL: a commit is safe from a crash of gw as soon as
      // it returns (no fsync on the request thread); local.ts syncs the WAL to disk off-thread.
      this.#db.run("PRAGMA journal_mode = WAL");
      this.#db.run("PRAGMA synchronous = NORMAL");
      this.#db.run(`PRAGMA journal_size_limit = ${WAL_KEEP_BYTES}`);
      this.#db.run(SCHEMA);
      this.#db.run(`PRAGMA user_version = ${SCHEMA_VERSION}`);
      // From here on writes run on the event loop: another process holding the lock (a second
      // gw on this file during an upgrade) may delay one by this much, no more; local.ts retries.
      this.#db.run(`PRAGMA busy_timeout = ${WRITE_BUSY_MS}`);
      this.#write = {
        setCooldown: this.#db.prepare(
          "INSERT INTO cooldown (route, target, until, kind, reason, set_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (route, target) DO UPDATE SET until = excluded.until, kind = excluded.kind, reason = excluded.reason, set_at = excluded.set_at",
        ),
        clearCooldown: this.#db.prepare("DELETE FROM cooldown WHERE route = ? AND target = ?"),
        setSticky: this.#db.prepare("INSERT INTO sticky (key, target, at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET target = excluded.target, at = excluded.at"),
        clearSticky: this.#db.prepare("DELETE FROM sticky WHERE key = ?"),
        setStreak: this.#db.prepare("INSERT INTO streak (key, n, at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET n = excluded.n, at = excluded.at"),
        resetStreak: this.#db.prepare("DELETE FROM streak WHERE key = ?"),
      };
      this.#batch = this.#db.transaction((changes: readonly StateChange[]) => {
        for (const c of changes) this.#run(c);
      });
    } catch (err) {
      this.#db.close();
      throw err;
    }
  }

  /** The WAL file, which local.ts syncs to disk now and then. */
  get walFile(): string {
    return `${this.file}-wal`;
  }

  /** Entries still valid at `now`, as changes to apply (sticky and streak keys oldest first). */
  load(now: number, v: Validity): StateChange[] {
    return loadFrom(this.#db, now, v);
  }

  /** Rows this connection has inserted, updated or deleted since it opened (a flush that left it alone added nothing to the WAL). */
  get changes(): number {
    return this.#db.query<{ n: number }, []>("SELECT total_changes() AS n").get()!.n;
  }

  /** One transaction: all of the batch or none of it. */
  write(changes: readonly StateChange[]): void {
    if (changes.length) this.#batch(changes);
  }

  /**
   * One bounded step of dropping what is over (and sticky/streak keys beyond what memory keeps),
   * oldest first, so the file stays small: at most `budget` rows, each found through the index on
   * `at`, so a step costs the same however far the file has grown. True when more may be left.
   */
  pruneStep(now: number, v: Validity, budget = PRUNE_BATCH): boolean {
    return this.#db.transaction(() => this.#pruneStep(now, v, budget))();
  }

  #pruneStep(now: number, v: Validity, budget: number): boolean {
    // Forgotten (forgottenAt: a row has no trial); one row per (route, target): small.
    this.#db.run("DELETE FROM cooldown WHERE until + ? <= ?", [HALF_OPEN_KEEP_MS, now]);
    let left = budget;
    for (const [table, ttlMs, max] of [["sticky", v.stickyTtlMs, v.stickyMax], ["streak", v.streakTtlMs, v.streakMax]] as const) {
      if (left > 0) left -= this.#db.run(`DELETE FROM ${table} WHERE key IN (SELECT key FROM ${table} WHERE at <= ? ORDER BY at, key LIMIT ?)`, [now - ttlMs, left]).changes;
      // The newest row past the cap (the index orders ties by key), found by walking `max` index entries.
      const edge = left > 0 ? this.#db.query<{ at: number; key: string }, [number]>(`SELECT at, key FROM ${table} ORDER BY at DESC, key DESC LIMIT 1 OFFSET ?`).get(max) : null;
      if (edge) left -= this.#db.run(`DELETE FROM ${table} WHERE key IN (SELECT key FROM ${table} WHERE (at, key) <= (?, ?) ORDER BY at, key LIMIT ?)`, [edge.at, edge.key, left]).changes;
    }
    return left === 0;
  }

  /**
   * Commits no longer checkpoint: another connection does it, off the event loop
   * (state/checkpoint.ts). Until it does, the WAL grows.
   */
  checkpointsElsewhere(): void {
    this.#db.run("PRAGMA wal_autocheckpoint = 0");
  }

  /** Back to SQLite's own checkpoints, inside the commits (when the other connection cannot be had). */
  checkpointsInline(): void {
    this.#db.run(`PRAGMA wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
  }

  /** Let the next writes wait as long as opening may (the last write before gw exits). */
  patient(): void {
    this.#db.run(`PRAGMA busy_timeout = ${OPEN_BUSY_MS}`);
  }

  close(): void {
    // Statements from prepare() left unfinalized keep the connection open past close() (Bun
    // closes with sqlite3_close_v2): then SQLite's close-time checkpoint never runs, and the WAL
    // stays behind, as large as it grew, with the last batch in it not yet synced to disk.
    for (const s of Object.values(this.#write)) s.finalize();
    this.#db.close();
  }

  #run(c: StateChange): void {
    switch (c.op) {
      case "setCooldown":
        return void this.#write.setCooldown.run(c.route, c.target, c.c.until, c.c.kind, c.c.reason, c.c.setAt);
      case "clearCooldown":
        return void this.#write.clearCooldown.run(c.route, c.target);
      case "setSticky":
        return void this.#write.setSticky.run(c.key, c.target, c.at);
      case "clearSticky":
        return void this.#write.clearSticky.run(c.key);
      case "setStreak":
        return void this.#write.setStreak.run(c.key, c.n, c.at);
      case "resetStreak":
        return void this.#write.resetStreak.run(c.key);
    }
  }
}

/**
 * What a state file this gw cannot open for writing (locked, not this user's) holds, read without
 * writing anything to it: served meanwhile, so sessions land where they were. Throws when it
 * cannot be read either.
 */
export function readStateFile(file: string, now: number, v: Validity): StateChange[] {
  refusePlantedStateFile(file); // never read through a link planted in its place
  const db = new Database(file, { readonly: true, strict: true });
  try {
    db.run(`PRAGMA busy_timeout = ${WRITE_BUSY_MS}`);
    return loadFrom(db, now, v);
  } finally {
    db.close();
  }
}

/** Entries of `db` still valid at `now`, as changes to apply (sticky and streak keys oldest first). */
function loadFrom(db: Database, now: number, v: Validity): StateChange[] {
  const out: StateChange[] = [];
  // Half-open ones too, until forgotten: one row per (route, target), so read whole and judged by the stores' one rule.
  const cooldowns = db.query<{ route: string; target: string; until: number; kind: string; reason: string; set_at: number }, []>(
    "SELECT route, target, until, kind, reason, set_at FROM cooldown",
  );
  for (const r of cooldowns.all()) {
    const c = { until: r.until, kind: r.kind, reason: r.reason, setAt: r.set_at };
    if (isCooldownKind(c.kind) && now < forgottenAt(c as Cooldown)) out.push({ op: "setCooldown", route: r.route, target: r.target, c: c as Cooldown });
  }
  const sticky = db.query<{ key: string; target: string; at: number }, [number, number]>(
    "SELECT key, target, at FROM (SELECT key, target, at FROM sticky WHERE at > ? ORDER BY at DESC, key DESC LIMIT ?) ORDER BY at, key",
  );
  for (const r of sticky.all(now - v.stickyTtlMs, v.stickyMax)) out.push({ op: "setSticky", key: r.key, target: r.target, at: r.at });
  const streaks = db.query<{ key: string; n: number; at: number }, [number, number]>(
    "SELECT key, n, at FROM (SELECT key, n, at FROM streak WHERE at > ? ORDER BY at DESC, key DESC LIMIT ?) ORDER BY at, key",
  );
  for (const r of streaks.all(now - v.streakTtlMs, v.streakMax)) out.push({ op: "setStreak", key: r.key, n: r.n, at: r.at });
  return out;
}

/**
 * SQLite's quick_check report as one line — the first problem and how many more — or undefined
 * when it says "ok". A row may hold many lines (a "*** in database main ***" heading, then one per
 * problem, up to 100): whole, it made the warning ~100 lines of gw.log.
 */
export function integrityProblem(report: readonly string[]): string | undefined {
  if (report.length === 1 && report[0] === "ok") return undefined;
  const problems = report.flatMap((r) => r.split("\n")).map((l) => l.trim()).filter((l) => l && !/^\*\*\* .* \*\*\*$/.test(l));
  if (problems.length === 0) return "no answer";
  return problems.length > 1 ? `${problems[0]} (and ${problems.length - 1} more)` : problems[0];
}

/**
 * The file is not this user's to write (made by another user — a `sudo gw up` once —, its mode
 * taken away, a read-only mount): SQLite opens it read-only or not at all. The file is fine —
 * never move it aside for that; a "cannot open" is this only when the file or its folder is out
 * of this user's reach.
 */
export function isUnwritable(file: string, err: unknown): boolean {
  const code = (err as { code?: string }).code ?? "";
  if (code.startsWith("SQLITE_READONLY")) return true;
  if (!code.startsWith("SQLITE_CANTOPEN")) return false;
  try {
    accessSync(dirname(file), constants.W_OK | constants.X_OK);
    if (existsSync(file)) accessSync(file, constants.R_OK | constants.W_OK);
    return false;
  } catch {
    return true;
  }
}

/** SQLite finds the file damaged (a page it read is not what it wrote): no retry can write it. */
export function isDamaged(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? "";
  return code.startsWith("SQLITE_CORRUPT") || code.startsWith("SQLITE_NOTADB");
}

/** SQLite's "someone else holds the lock": the file is fine, just busy — never move it aside for that. */
export function isBusy(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? "";
  return code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED");
}

const SIDE_FILES = ["-wal", "-shm"];

/**
 * SQLite makes -wal and -shm with the mode the file has at that moment: read while the user had
 * made it read-only (chmod 0400), they stayed read-only once the user gave the file its u+w back,
 * and the file could not be written for the rest of the run. They are SQLite's scratch, never the
 * user's choice: a writable file gets writable side files (gw's own, checked as such before this).
 */
function sideFilesFollow(file: string): void {
  if (!((lstatSync(file, { throwIfNoEntry: false })?.mode ?? 0) & 0o200)) return;
  for (const ext of SIDE_FILES) {
    const side = lstatSync(file + ext, { throwIfNoEntry: false });
    if (side?.isFile() && side.uid === process.getuid?.() && !(side.mode & 0o200)) chmodSync(file + ext, 0o600);
  }
}

/** Files moved aside that are kept, the newest: each is there for a look, not for ever. */
const ASIDE_KEPT = 3;

/** Move a state file (and its -wal/-shm) aside as `NAME.broken-STAMP`; returns the new name. Older ones past ASIDE_KEPT go. */
export function moveAside(file: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[:.]/g, "-");
  const aside = `${file}.broken-${stamp}`;
  renameSync(file, aside);
  for (const ext of SIDE_FILES) {
    if (existsSync(file + ext)) renameSync(file + ext, aside + ext);
  }
  try {
    dropOldAside(file);
  } catch {} // housekeeping: never a reason to refuse the fresh file
  return aside;
}

function dropOldAside(file: string): void {
  const dir = dirname(file);
  const prefix = `${basename(file)}.broken-`;
  // the stamp is ISO: names sort by time
  const all = readdirSync(dir).filter((n) => n.startsWith(prefix) && !SIDE_FILES.some((ext) => n.endsWith(ext))).sort();
  for (const name of all.slice(0, -ASIDE_KEPT)) {
    for (const ext of ["", ...SIDE_FILES]) {
      const path = join(dir, name + ext);
      // a directory once moved aside may hold what is not gw's: left alone
      if (lstatSync(path, { throwIfNoEntry: false })?.isFile()) rmSync(path);
    }
  }
}
