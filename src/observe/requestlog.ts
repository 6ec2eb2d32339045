// The request log: one JSON line per request in `logs/requests/YYYY-MM-DD.jsonl` (UTC day of the
// record's `ts`). Writing never touches the request path: write() serialises the record into a
// queue; a timer appends the batch, in order, and close() drains everything before shutdown.

import { readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../config/types.ts";
import { appendPrivate, ensurePrivateSubdir } from "../fs/private.ts";
import { isOutOfRoom, noRoomIn, writeProblem } from "../fs/why.ts";
import type { RequestRecord } from "./record.ts";

export type { RequestRecord } from "./record.ts";

interface RequestLogOptions {
  /** Directory of the day files (`requestLogDir(config)`); created when missing. */
  readonly dir: string;
  /** Day files older than this are deleted at start and as each UTC day begins; 0 keeps them forever. */
  readonly retentionDays: number;
  /** How long a record may wait in memory before its batch is written. Default 250 ms. */
  readonly flushMs?: number;
  /** Records kept while the disk is stuck; beyond it new ones are dropped and counted. Default 100,000. */
  readonly maxQueued?: number;
  /** Where other failures go — a record that cannot be serialised, a sweep (default: stderr, once per distinct message). */
  readonly onError?: (e: unknown) => void;
  /** Where a day file that cannot be written is said, once until it can be again (default: stderr). */
  readonly say?: { info(msg: string): void; warn(msg: string): void };
  /** Clock for the retention sweep (tests). */
  readonly now?: () => number;
}

export interface RequestLog {
  /** Queue one record. Cheap and synchronous; never throws. */
  write(record: RequestRecord): void;
  /** Write everything queued so far. */
  flush(): Promise<void>;
  /** Stop the timers and write everything queued; later writes still land (flushed on the timer). */
  close(): Promise<void>;
  /** Delete day files older than the retention; returns the names deleted. */
  sweep(): Promise<string[]>;
  /** A reloaded `lb_log_retention_days`: kept from now on, and a shorter one swept at once. */
  setRetentionDays(days: number): void;
  /** Records dropped because the queue overflowed (disk stuck or full). */
  readonly dropped: number;
  /** The day file that cannot be written now, as one line (`cannot write …: no space left on the device`); undefined while all is well. */
  readonly problem: string | undefined;
}

/** `<dir beside providers.toml>/logs/requests`. */
export function requestLogDir(config: Pick<Config, "dir">): string {
  return join(config.dir, "logs", "requests");
}

/** UTC day of an ISO timestamp or epoch ms: `2026-11-26`. */
export function dayOf(ts: string | number): string {
  return (typeof ts === "string" ? ts : new Date(ts).toISOString()).slice(0, 10);
}

export function createRequestLog(opts: RequestLogOptions): RequestLog {
  const { dir, flushMs = 250, maxQueued = 100_000, now = Date.now } = opts;
  let retentionDays = opts.retentionDays;
  const onError = opts.onError ?? reportOnce();
  const say = opts.say ?? { info: (m: string) => console.error(`gw: ${m}`), warn: (m: string) => console.error(`gw: ${m}`) };
  // A failed append loses its batch (the disk is full or gone: holding records would only move
  // the problem into memory); it is said once, and once more when a day file takes lines again.
  let problem: string | undefined;
  let refusal: { readonly file: string; readonly err: unknown } | undefined; // the append that made it
  let lost = 0;
  const ended = (file: string, how: string) => {
    say.info(`request log ${file} ${how} (${lost} record(s) lost meanwhile)`);
    [problem, refusal, lost] = [undefined, undefined, 0];
  };
  // Records wait as UTF-8 in byte slabs outside the JS heap, not as strings or objects: a line's
  // string dies young, and nothing the collector marks piles up between flushes (the queue as
  // strings cost ~12 µs per request under load, bench/README.md).
  let open: Slab | undefined;
  const spare: Buffer[] = [];
  let queued = 0;
  let dropped = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let chain: Promise<void> = Promise.resolve(); // appends run one after another, in order

  /** The slab a line of at most `room` bytes for `day` goes into; a full one is written at once. */
  const slabFor = (day: string, room: number): Slab => {
    if (open && open.day === day && open.used + room <= open.bytes.length) return open;
    if (open) void flush(); // back among the spares soon: a steady load reuses the same few slabs
    const bytes = (room <= SLAB_BYTES && spare.pop()) || Buffer.allocUnsafe(Math.max(SLAB_BYTES, room));
    open = { day, bytes, used: 0, lines: 0 };
    return open;
  };

  const writeSlab = async (slab: Slab) => {
    const file = join(dir, `${slab.day}.jsonl`);
    try {
      ensurePrivateSubdir(dir); // logs/ a link (gw lb writes no gw.log to be refused first): not written through
      await appendPrivate(file, slab.bytes.subarray(0, slab.used)); // 0600, never through a planted link; makes the directory
      // A small batch may fit in the room left in the file's last page while the disk stays full:
      // the trouble ends only with room on the disk, or it would be said again at the next batch.
      if (problem && !noRoomIn(dir)) ended(file, "is written again");
    } catch (e) {
      if (!problem) say.warn(`request log: ${writeProblem(file, e)}; requests are still served, their records are lost until it can be written`);
      problem = writeProblem(file, e);
      refusal = { file, err: e };
      lost += slab.lines;
    }
    queued -= slab.lines;
    if (slab.bytes.length === SLAB_BYTES && spare.length < SPARE_SLABS) spare.push(slab.bytes);
  };

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const slab = open;
    open = undefined;
    if (slab) chain = chain.then(() => writeSlab(slab));
    return chain;
  };

  const sweep = async (): Promise<string[]> => {
    if (retentionDays <= 0) return [];
    const oldest = dayOf(now() - retentionDays * DAY_MS);
    try {
      ensurePrivateSubdir(dir); // logs/requests a link: another folder's day files are not ours to delete
    } catch (e) {
      onError(e);
      return [];
    }
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return []; // nothing written yet
    }
    const old = names.filter((n) => DAY_FILE.test(n) && n.slice(0, 10) < oldest);
    await Promise.all(old.map((n) => unlink(join(dir, n)).catch(onError)));
    return old;
  };

  // A day file passes the retention the moment a UTC day begins, so the sweep runs then (a
  // second late: a timer may fire a little before the wall clock's midnight), not a day after start.
  let daily: ReturnType<typeof setTimeout>;
  const sweepAtNextDay = () => {
    daily = setTimeout(() => {
      void sweep();
      sweepAtNextDay();
    }, DAY_MS - (now() % DAY_MS) + SWEEP_LATE_MS);
    daily.unref?.();
  };
  void sweep();
  sweepAtNextDay();
  // Safety net for a process that just runs out of work without calling close(): the flush
  // timer is unref'd, so drain here. (process.exit() cannot wait; callers close() first.)
  const drainOnExit = () => void flush();
  process.on("beforeExit", drainOnExit);

  return {
    write(record) {
      if (queued >= maxQueued) {
        dropped++;
        return;
      }
      let line: string;
      try {
        line = JSON.stringify(record);
      } catch (e) {
        onError(e); // a record that cannot be serialised is reported, never thrown into the request
        return;
      }
      // UTF-8 takes at most 3 bytes per UTF-16 unit; the newline goes in as a byte (a `line + "\n"`
      // string would be a rope, flattened again by the encoder).
      const slab = slabFor(dayOf(record.ts), line.length * 3 + 1);
      slab.used += slab.bytes.write(line, slab.used);
      slab.bytes[slab.used++] = 0x0a;
      slab.lines++;
      queued++;
      if (!timer) {
        timer = setTimeout(flush, flushMs);
        timer.unref?.();
      }
    },
    flush,
    async close() {
      clearTimeout(daily);
      process.off("beforeExit", drainOnExit);
      await flush();
    },
    sweep,
    setRetentionDays(days) {
      if (days === retentionDays) return;
      retentionDays = days;
      void sweep();
    },
    get dropped() {
      return dropped;
    },
    get problem() {
      // Asked (gw status, the page, /metrics) after a full disk's refusal: with room back the
      // trouble ends now, not at a next batch an idle gw may not have — as gw.log's does when
      // asked (supervisor/logger.ts). Another refusal (a file in the way) ends only with a write.
      if (refusal && isOutOfRoom(refusal.err) && !noRoomIn(dir)) ended(refusal.file, "can be written again");
      return problem;
    },
  };
}

// --- internal ---

const DAY_MS = 86_400_000;
const SWEEP_LATE_MS = 1_000;
const DAY_FILE = /^\d{4}-\d{2}-\d{2}\.jsonl$/;
/** One slab holds ~1,500 typical lines; a line longer than a slab gets one of its own. */
const SLAB_BYTES = 1 << 20;
/** Slabs kept for reuse once written, so a steady load allocates none. */
const SPARE_SLABS = 4;

/** Lines of one day, encoded, waiting to be appended. */
interface Slab {
  readonly day: string;
  readonly bytes: Buffer;
  used: number;
  lines: number;
}

function reportOnce(): (e: unknown) => void {
  const seen = new Set<string>();
  return (e) => {
    const msg = e instanceof Error ? e.message : String(e);
    if (seen.has(msg)) return;
    seen.add(msg);
    console.error(`gw: request log: ${msg}`);
  };
}
