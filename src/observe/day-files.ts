// The request log's day files read back for usage: which files hold the days asked for, and their
// records, streamed chunk by chunk (a year of logs never sits in memory) with each line parsed
// once, into the parts of a record usage needs.

import { constants as C } from "node:fs";
import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { fromOldLbRecord } from "./old-record.ts";
import type { RequestRecord, UsageRecord } from "./record.ts";

/** A record as read back for usage: the `request` summary may have been skipped (parseRecord). */
export type LoggedRecord = Omit<RequestRecord, "request"> & { request?: RequestRecord["request"] };

/** No request record comes near this; a longer "line" (a day file linked to a log with no newlines) is cut here. */
const MAX_LINE_CHARS = 4 << 20;

/**
 * Call `line` for every line of a file, read in chunks (`read` gets each chunk's size). Only a
 * regular file is read: a FIFO or a device planted under a day file's name in a cloned or copied
 * folder would block or never end. A line over MAX_LINE_CHARS is passed on cut there (it does not
 * parse: one bad line) and the rest of it skipped, so memory stays bounded whatever the file holds.
 * The event loop gets a turn after each chunk: a file's chunks come as microtasks, so a running
 * gw reading today's log (seedToday: ~3.4 s per GB) answered no request until the file's end.
 */
async function forEachLine(file: string, line: (text: string) => void, read?: (bytes: number) => void): Promise<void> {
  const fh = await open(file, C.O_RDONLY | C.O_NONBLOCK | C.O_NOCTTY);
  try {
    if (!(await fh.stat()).isFile()) throw new Error(`${file} is not a regular file: remove it, it holds no requests`);
    const decoder = new TextDecoder();
    let tail = "";
    let skipping = false;
    // Bun's native stream of the descriptor checked above (a regular file: it ends).
    for await (const chunk of Bun.file(fh.fd).stream()) {
      read?.(chunk.byteLength);
      const text = tail + decoder.decode(chunk, { stream: true });
      let start = 0;
      for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
        if (nl > start && !skipping) line(text.slice(start, nl));
        skipping = false;
        start = nl + 1;
      }
      tail = text.slice(start);
      if (tail.length > MAX_LINE_CHARS) {
        if (!skipping) line(tail.slice(0, MAX_LINE_CHARS));
        skipping = true;
        tail = "";
      }
      await new Promise((r) => setImmediate(r)); // a few µs per chunk of 256-512 KB
    }
    tail += decoder.decode();
    if (tail.length && !skipping) line(tail);
  } finally {
    await fh.close();
  }
}

/** Day files (`YYYY-MM-DD.jsonl`) of `dir` from `firstDay` on, oldest first; [] when there is no dir. Only regular files (or links to them) count. */
export async function dayFiles(dir: string, firstDay: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const days = names.filter((n) => /^\d{4}-\d{2}-\d{2}\.jsonl$/.test(n) && n.slice(0, 10) >= firstDay).sort().map((n) => join(dir, n));
  const regular = await Promise.all(days.map((f) => stat(f).then((st) => st.isFile(), () => false)));
  return days.filter((_, i) => regular[i]);
}

/**
 * Stream the records of `files` at or after `sinceIso` into `each`; returns [records, badLines].
 * `progress` hears the bytes read so far of all the files' bytes.
 */
export async function readRecords(files: readonly string[], sinceIso: string, each: (r: LoggedRecord) => void, progress?: Progress): Promise<[number, number]> {
  let records = 0;
  let bad = 0;
  const total = progress ? files.reduce((sum, f) => sum + Bun.file(f).size, 0) : 0; // size: a stat, no read
  let done = 0;
  const read = progress && ((bytes: number) => progress((done += bytes), total));
  for (const file of files) {
    await forEachLine(file, (text) => {
      const r = parseRecord(text);
      if (!r) return void bad++;
      if (r.ts < sinceIso) return;
      records++;
      each(r);
    }, read);
  }
  return [records, bad];
}

export type Progress = (readBytes: number, totalBytes: number) => void;

/**
 * One log line → the parts of a record usage needs, or null when it is not a record. The
 * `request` summary (the bulkiest part, and unused here) is skipped when the line has the
 * request log's layout: `{"ts":"…",…,"request":{…},"routing":{…},…}`. A `,"routing":{` can
 * only be that top-level key there (the summary's nested values are strings and numbers, whose
 * quotes JSON escapes), so the rest of the line is one object; anything else is parsed whole.
 * A line of the old lb.js (same folder, same file names) is read as a record too.
 */
export function parseRecord(text: string): LoggedRecord | null {
  let r: LoggedRecord;
  try {
    const cut = text.startsWith('{"ts":"') ? text.indexOf(',"routing":{') : -1;
    if (cut > 0) {
      r = JSON.parse(`{${text.slice(cut + 1)}`);
      r.ts = text.slice(7, text.indexOf('"', 7));
    } else r = JSON.parse(text);
  } catch {
    try {
      r = JSON.parse(text); // the cut guessed wrong: judge the line as a whole
    } catch {
      return null;
    }
  }
  if (typeof r?.ts !== "string" || !r.routing || !r.response) return fromOldLbRecord(r);
  // A line that is JSON but not a record gw wrote (a hand edit, another tool's) is a bad line, and
  // token counts that are not numbers are none: one such line must not stop the report.
  if (!Array.isArray(r.routing.attempts)) return null;
  if (r.usage !== undefined) r.usage = countsOf(r.usage);
  return r;
}

const USAGE_FIELDS = ["input", "output", "cache_read", "cache_write", "cache_write_1h"] as const;

function countsOf(u: unknown): UsageRecord | undefined {
  if (typeof u !== "object" || u === null) return undefined;
  const out: UsageRecord = {};
  for (const k of USAGE_FIELDS) {
    const n = (u as Record<string, unknown>)[k];
    if (typeof n === "number" && n >= 0 && Number.isFinite(n)) out[k] = n;
  }
  if ((u as UsageRecord).output_partial === true) out.output_partial = true;
  return out;
}
