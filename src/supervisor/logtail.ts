// `gw logs`: the last N lines of one or more log files, then (with follow) what gets appended,
// as NDJSON `{name, line}`. Follow polls the size, which also notices a rotation (the file shrank).
import { constants as C } from "node:fs";
import { lstat, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { openNoFollow, refuseLink } from "../fs/private.ts";
import { oneLine } from "../cli/one-line.ts";
import { maskText } from "../observe/mask.ts";
import { TAIL_END } from "./tail-mark.ts";
import { VERSION_LINE } from "../cliproxy/version.ts";

interface LogSource {
  readonly name: string;
  readonly file: string;
}

const FOLLOW_POLL_MS = 250;
/** How far back from the end the tail reads first; enough for N ordinary lines without reading 10 MiB. */
const TAIL_WINDOW_BYTES = 256 * 1024;
/** The most the tail reads back, doubling the window, for N long lines (a log's rotated past far less). */
const TAIL_MAX_BYTES = 64 * 1024 * 1024;

/** Follow reads this much of what was appended at a time, and queues about as much for its reader. */
const FOLLOW_BATCH_BYTES = 1 << 20;

async function readRange(file: string, from: number, to: number): Promise<string> {
  return (await readBytes(file, from, to)).toString("utf8");
}

async function readBytes(file: string, from: number, to: number): Promise<Buffer> {
  if (to <= from) return Buffer.alloc(0);
  const fh = await openNoFollow(file, C.O_RDONLY | C.O_NONBLOCK); // a planted link is not shown
  try {
    const buf = Buffer.alloc(to - from);
    const { bytesRead } = await fh.read(buf, 0, buf.length, from);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * What was appended from `from`, at most FOLLOW_BATCH_BYTES of it, cut after its last whole line
 * when cut short (a character is never split); `end` is where the next read starts.
 */
async function nextBatch(file: string, from: number, size: number): Promise<{ text: string; end: number }> {
  const bytes = await readBytes(file, from, Math.min(size, from + FOLLOW_BATCH_BYTES));
  const whole = from + bytes.length < size ? bytes.lastIndexOf(0x0a) + 1 : bytes.length;
  const taken = whole > 0 ? bytes.subarray(0, whole) : bytes; // a line longer than a batch: as it comes
  return { text: taken.toString("utf8"), end: from + taken.length };
}

const sizeOf = (file: string) => stat(file).then((s) => s.size, () => 0);

/** The last `n` lines of `file` (fewer only when it has fewer, or they take more than TAIL_MAX_BYTES). */
export async function tailLines(file: string, n: number): Promise<{ lines: string[]; end: number }> {
  const end = await sizeOf(file);
  if (n <= 0) return { lines: [], end };
  for (let window = TAIL_WINDOW_BYTES; ; window *= 2) {
    const from = Math.max(0, end - window);
    const lines = (await readRange(file, from, end)).split("\n");
    if (lines.at(-1) === "") lines.pop();
    if (from > 0) lines.shift(); // probably cut in the middle
    if (lines.length >= n || from === 0 || window >= TAIL_MAX_BYTES) return { lines: lines.slice(-n), end };
  }
}

/**
 * The lines pass `mask` (the config's masker): an instance's log is what CLIProxyAPI printed, and
 * it may print a key gw gave it — the YAML's, a provider's, the one in a request it logs.
 */
export function logStream(sources: readonly LogSource[], n: number, follow: boolean, signal: AbortSignal, mask: (s: string) => string, markTail = false): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let cancelled = false;
  // Queued by bytes: a reader that stops (Ctrl-Z on gw logs -f, a pager left open) stops the reads,
  // and what it has not taken stays in the file, not in gw's memory.
  const queue: QueuingStrategy<Uint8Array> = { highWaterMark: FOLLOW_BATCH_BYTES, size: (chunk) => chunk?.byteLength ?? 0 };
  return new ReadableStream({
    cancel() {
      cancelled = true;
    },
    async start(ctl) {
      const emit = (name: string, line: string) => {
        if (!cancelled) ctl.enqueue(enc.encode(`${JSON.stringify({ name, line: mask(line) })}\n`));
      };
      const offsets = new Map<string, number>();
      for (const s of sources) {
        const { lines, end } = await tailLines(s.file, n);
        for (const line of lines) emit(s.name, line);
        offsets.set(s.file, end);
      }
      if (markTail && !cancelled) ctl.enqueue(enc.encode(`${JSON.stringify(TAIL_END)}\n`));
      const partial = new Map<string, string>();
      let behind = false; // a batch was cut short: more waits in a file, read on without a pause
      while (follow && !signal.aborted && !cancelled) {
        await Bun.sleep(behind ? 0 : FOLLOW_POLL_MS);
        behind = false;
        if ((ctl.desiredSize ?? 1) <= 0) continue; // the reader has not taken what waits
        for (const s of sources) {
          const size = await sizeOf(s.file);
          let from = offsets.get(s.file) ?? 0;
          if (size < from) from = 0; // rotated (copy + truncate)
          if (size === from) continue;
          const batch = await nextBatch(s.file, from, size);
          offsets.set(s.file, batch.end);
          behind ||= batch.end < size;
          const lines = ((partial.get(s.file) ?? "") + batch.text).split("\n");
          partial.set(s.file, lines.pop() ?? "");
          for (const line of lines) emit(s.name, line);
        }
      }
      if (!cancelled) ctl.close();
    },
  }, queue);
}

/**
 * Of log lines read again, those after the last one already shown of each log (every line of a
 * log none of whose lines was shown, or whose last shown line has since left the window).
 */
export function linesAfter<E extends { name: string; line: string }>(entries: readonly E[], shown: ReadonlyMap<string, string>): E[] {
  const from = new Map<string, number>();
  entries.forEach((e, i) => {
    if (shown.get(e.name) === e.line) from.set(e.name, i);
  });
  return entries.filter((e, i) => i > (from.get(e.name) ?? -1));
}

/** What was appended to `file` since `offset` (from 0 again if the file was rotated). */
export async function readNew(file: string, offset: number): Promise<{ text: string; end: number }> {
  const size = await sizeOf(file);
  const from = size < offset ? 0 : offset;
  const text = await readRange(file, from, size);
  // Hand out whole lines only; the rest comes with the next read.
  const whole = text.slice(0, text.lastIndexOf("\n") + 1);
  return { text: whole, end: from + Buffer.byteLength(whole) };
}

/**
 * The logs a gw left on disk (it need not be running): gw.log first, then each instance's by name.
 * gw writes its logs only as regular files in a real directory (fs/private.ts refuses links), so a
 * link, a FIFO or a directory under logs/ — or logs/ itself a link — was planted, not written by
 * gw (a cloned folder: `logs -> ~/.config`): it is not shown, nor waited on.
 */
export async function logSourcesOnDisk(logsDir: string): Promise<LogSource[]> {
  refuseLink(logsDir, "read logs through it");
  const names = await readdir(logsDir).catch(() => [] as string[]);
  const regular = await Promise.all(names.map((n) => lstat(join(logsDir, n)).then((st) => st.isFile(), () => false)));
  const logs = names.filter((n, i) => regular[i] && n.endsWith(".log")).map((n) => n.slice(0, -".log".length));
  const ordered = [...logs.filter((n) => n === "gw"), ...logs.filter((n) => n !== "gw").sort()];
  return ordered.map((name) => ({ name, file: join(logsDir, `${name}.log`) }));
}

/** Of a log's last `n` lines, those the latest run wrote: after gw's "--- gw: starting" marker. */
async function latestRun(file: string, n: number): Promise<string[]> {
  const { lines } = await tailLines(file, n).catch(() => ({ lines: [] as string[] }));
  return lines.slice(lines.findLastIndex((l) => l.startsWith("--- gw: ")) + 1);
}

/** The CLIProxyAPI version the latest run printed first (after gw's "--- gw: starting" marker), if it did. */
export async function runVersion(file: string): Promise<string | undefined> {
  for (const line of await latestRun(file, 40)) {
    const m = VERSION_LINE.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * The last line the latest run wrote to its log (after gw's "--- gw: starting" marker), masked,
 * short and as one line: an instance logs what clients and upstreams sent it, and gw's own lines
 * quote this one on the terminal (gw up, gw status), where its escape sequences would act.
 */
export async function lastLogLine(file: string): Promise<string> {
  const line = (await latestRun(file, 20)).filter((l) => l.trim()).at(-1)?.trim() ?? "";
  const masked = oneLine(maskText(line));
  return masked.length > LAST_LINE_MAX ? `${masked.slice(0, LAST_LINE_MAX)}…` : masked;
}

const LAST_LINE_MAX = 200;
