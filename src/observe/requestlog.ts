// The request log: one JSON line per request in `logs/requests/YYYY-MM-DD.jsonl` (UTC day of the
// record's `ts`). Writing never touches the request path: write() serialises the record into a
// queue; a timer appends the batch, in order, and close() drains everything before shutdown.

import { readdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../config/types.ts";
import { appendPrivate, ensurePrivateDir } from "../fs/private.ts";
import type { RequestRecord } from "./record.ts";

export type { AttemptRecord, CooldownRecord, RequestRecord, RequestSummary, UsageRecord } from "./record.ts";

export interface RequestLogOptions {
  /** Directory of the day files (`requestLogDir(config)`); created when missing. */
  readonly dir: string;
  /** Day files older than this are deleted at start and once a day; 0 keeps them forever. */
  readonly retentionDays: number;
  /** How long a record may wait in memory before its batch is written. Default 250 ms. */
  readonly flushMs?: number;
  /** Records kept while the disk is stuck; beyond it new ones are dropped and counted. Default 100,000. */
  readonly maxQueued?: number;
  /** Where write failures go (default: stderr, once per distinct message). */
  readonly onError?: (e: unknown) => void;
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
}

/** `<dir beside providers.toml>/logs/requests`. */
export function requestLogDir(config: Config): string {
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
  // Records wait as their JSON lines: a queue of strings costs the garbage collector nothing to
  // walk, where thousands of live record objects would be marked again on every collection.
  let lines: string[] = [];
  let days: string[] = [];
  let dropped = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let chain: Promise<void> = Promise.resolve(); // appends run one after another, in order
  let dirReady: Promise<unknown> | undefined;

  const ensureDir = () => (dirReady ??= Promise.resolve(dir).then(ensurePrivateDir).catch((e) => ((dirReady = undefined), onError(e))));

  const writeBatch = async (lines: string[], days: string[]) => {
    await ensureDir();
    const byDay = new Map<string, string[]>();
    for (let i = 0; i < lines.length; i++) {
      const day = days[i]!;
      const list = byDay.get(day);
      if (list) list.push(lines[i]!);
      else byDay.set(day, [lines[i]!]);
    }
    for (const [day, list] of byDay) {
      try {
        await appendPrivate(join(dir, `${day}.jsonl`), list.join("")); // 0600, never through a planted link
      } catch (e) {
        onError(e);
      }
    }
  };

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (lines.length > 0) {
      const batch = [lines, days] as const;
      lines = [];
      days = [];
      chain = chain.then(() => writeBatch(...batch));
    }
    return chain;
  };

  const sweep = async (): Promise<string[]> => {
    if (retentionDays <= 0) return [];
    const oldest = dayOf(now() - retentionDays * DAY_MS);
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

  void sweep();
  const daily = setInterval(() => void sweep(), DAY_MS);
  daily.unref?.();
  // Safety net for a process that just runs out of work without calling close(): the flush
  // timer is unref'd, so drain here. (process.exit() cannot wait; callers close() first.)
  const drainOnExit = () => void flush();
  process.on("beforeExit", drainOnExit);

  return {
    write(record) {
      if (lines.length >= maxQueued) {
        dropped++;
        return;
      }
      try {
        lines.push(`${JSON.stringify(record)}\n`);
      } catch (e) {
        onError(e); // a record that cannot be serialised is reported, never thrown into the request
        return;
      }
      days.push(dayOf(record.ts));
      if (!timer) {
        timer = setTimeout(flush, flushMs);
        timer.unref?.();
      }
    },
    flush,
    async close() {
      clearInterval(daily);
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
  };
}

// --- internal ---

const DAY_MS = 86_400_000;
const DAY_FILE = /^\d{4}-\d{2}-\d{2}\.jsonl$/;

function reportOnce(): (e: unknown) => void {
  const seen = new Set<string>();
  return (e) => {
    const msg = e instanceof Error ? e.message : String(e);
    if (seen.has(msg)) return;
    seen.add(msg);
    console.error(`gw: request log: ${msg}`);
  };
}
