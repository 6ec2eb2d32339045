import { dirname } from "node:path";
import { CliError } from "../cli/errors.ts";
import { oneLine } from "../cli/one-line.ts";
import { pipedStdout } from "../cli/stdio.ts";
import { loadConfig } from "../config/index.ts";
import { withSavedInstanceKeys } from "../instances/index.ts";
import { writtenSecrets } from "../instances/written-secrets.ts";
import { createMasker, maskerOf } from "../observe/mask.ts";
import { ControlCut, controlRequest, ndjsonLines, NotRunningError, startHint } from "../supervisor/control.ts";
import { linesAfter, logSourcesOnDisk, logStream } from "../supervisor/logtail.ts";
import { runningGw } from "../supervisor/orphans.ts";
import type { GwPaths } from "../supervisor/paths.ts";
import { listRunning } from "../supervisor/registry.ts";
import { TAIL_END, TAIL_MARK_HEADER } from "../supervisor/tail-mark.ts";
import { readableTarget } from "./_config.ts";
import { configArgs, defineGwCommand, jsonArgs } from "./_shared.ts";
import { ABOUT } from "./index.ts";

export default defineGwCommand({
  meta: { name: "logs", description: ABOUT.logs },
  args: {
    ...configArgs,
    ...jsonArgs,
    name: { type: "positional", required: false, description: "an instance, or gw (default: all)" },
    follow: { type: "boolean", alias: "f", description: "keep printing new lines" },
    lines: { type: "string", alias: "n", description: "lines of each log to show first (default 20)", valueHint: "N" },
  },
  async run({ args }) {
    const n = args.lines === undefined ? 20 : Number(args.lines);
    if (!Number.isInteger(n) || n < 0) throw new CliError(`-n ${args.lines} is not a line count`, 1, "give a whole number, e.g. -n 100");
    const { file, paths } = await readableTarget(args.config);
    const follow = !!args.follow;
    const shown = new Map<string, string>(); // the last line shown of each log
    // After gw down or a crash is exactly when the logs are wanted: read the files themselves.
    const tail = async (count: number, following: boolean, notice = true) => ndjsonLines<LogEntry>((await liveLogs(paths, args.name, count, following))?.body ?? (await logsOnDisk(paths, args.name, count, following, await diskMasker(file, paths), notice)));
    // -f -n 0 shows no line read back, yet where the follow began must be known: a resume after
    // the gw stops (followNext) shows what came after it, not the last lines of every log.
    if (follow && n === 0) for await (const entry of await tail(1, false, false)) shown.set(entry.name, entry.line);
    let entries: AsyncIterable<LogEntry> = await tail(n, follow);
    for (;;) {
      try {
        for await (const entry of entries) await show(entry, args.json, args.name, shown);
        if (!follow) return;
      } catch (err) {
        if (!(err instanceof ControlCut) || !follow) throw err;
      }
      // The gw followed went away (cut at gw down, ended at a hand-over): what it wrote since (its
      // last lines: stopping, stopped, or the hand-over), then the successor's lines after an upgrade.
      const next = await followNext(paths, file, args.name, (entry) => void show(entry, args.json, args.name, shown), shown);
      if (!next) {
        console.error(`gw stopped for ${paths.dir}: no more lines to follow`);
        return;
      }
      entries = next;
    }
  },
});

type LogEntry = { name: string; line: string };
/** Lines of each log read again when `logs -f` resumes after gw went away: enough for a stop or a hand-over. */
const RESUME_LINES = 50;

/** Between two looks for a gw to follow while one is still alive for this config (a hand-over in progress). */
const RETRY_MS = 50;

/**
 * After the gw followed went away: show what was written since the lines in `shown`, and return
 * the followed lines of the gw that serves now — null once no gw lives for this config any more.
 * The lines read back and the follow are one request (TAIL_END between them), so a line written
 * between two requests is not lost; a gw from before the mark is asked twice, as it was.
 * A hand-over has windows in which no gw answers on the socket though one lives: the successor
 * may not listen yet, or a follow request may reach a gw that stops or lets go before its first
 * line (Bun sends the answer's head with its first line: the request fails as if nothing ran).
 * So a failed request is tried again while the pid file or the registry names a live gw; whether
 * one lives is asked before the logs are read, so the last read has every line of a gw gone.
 */
async function followNext(paths: GwPaths, file: string, name: string | undefined, emit: (e: LogEntry) => void, shown: Map<string, string>): Promise<AsyncIterable<LogEntry> | null> {
  for (;;) {
    const lives = await gwLives(paths);
    let live = await liveLogs(paths, name, RESUME_LINES, true, true);
    if (live && !live.headers.has(TAIL_MARK_HEADER)) {
      await live.body!.cancel();
      live = await liveLogs(paths, name, RESUME_LINES, false);
    }
    const lines = ndjsonLines<LogEntry | typeof TAIL_END>(live?.body ?? (await logsOnDisk(paths, name, RESUME_LINES, false, await diskMasker(file, paths), false)));
    const recent: LogEntry[] = [];
    let marked = false;
    let whole = true;
    try {
      for (let next = await lines.next(); !next.done; next = await lines.next()) {
        marked = "tailEnd" in next.value;
        if (marked) break; // the rest of `lines` is the follow
        recent.push(next.value as LogEntry);
      }
    } catch (err) {
      if (!(err instanceof ControlCut)) throw err;
      whole = false; // that gw went away too: what it sent, and look again
    }
    for (const entry of linesAfter(recent, shown)) emit(entry);
    if (marked) return lines as AsyncIterable<LogEntry>;
    const next = live && whole && (await liveLogs(paths, name, 0, true)); // a gw from before the mark
    if (next) return ndjsonLines<LogEntry>(next.body!);
    if (!lives && !live) return null; // the files, read after no gw lived, had the last lines
    await Bun.sleep(RETRY_MS);
  }
}

/**
 * Whether a gw process for this config is alive: the pid file's (a successor's, once it took over),
 * or a gw up registered for it (a predecessor taking its files back). Not a gw lb: it has no
 * control socket and writes no gw.log, so it never answers a follow — counting it kept `gw logs
 * -f` asking every 50 ms for as long as a gw lb of the same config ran, after gw down.
 */
async function gwLives(paths: GwPaths): Promise<boolean> {
  return !!(await runningGw(paths)) || (await listRunning()).some((g) => g.kind === "up" && dirname(g.config) === paths.dir);
}

async function show(entry: LogEntry, json: boolean | undefined, name: string | undefined, shown: Map<string, string>): Promise<void> {
  // not console.log: Bun's console.log drops a write to a closed pipe without a word, so
  // `gw logs -f | grep -m1 ready` never ended; pipedStdout ends gw at the EPIPE this raises
  const out = pipedStdout();
  const room = out.write(`${json ? JSON.stringify(entry) : name ? forTerminal(entry.line) : `${entry.name} | ${forTerminal(entry.line)}`}\n`);
  shown.set(entry.name, entry.line);
  // A reader that takes nothing (a pager left open) holds the next lines in gw's log files, not here.
  if (!room) await new Promise((resolve) => out.once("drain", resolve));
}

/**
 * A log line as a terminal shows it: what an instance logged of a request (a model name, a header)
 * is anyone's text, so its control characters are escaped — it cannot retitle or clear the
 * terminal. Tabs stay: a Go stack trace indents with them (a line without one is not split: a
 * follow of a busy log shows a million lines).
 */
const forTerminal = (line: string): string => (line.includes("\t") ? line.split("\t").map(oneLine).join("\t") : oneLine(line));

/** The running gw's logs (TAIL_END after the lines read back, with `markTail`), or null when none runs for this config. */
async function liveLogs(paths: GwPaths, name: string | undefined, n: number, follow: boolean, markTail = false): Promise<Response | null> {
  const query = new URLSearchParams({ n: String(n), ...(name ? { name } : {}), ...(follow ? { follow: "1" } : {}), ...(markTail ? { mark: "1" } : {}) });
  try {
    return await controlRequest(paths, `/logs?${query}`);
  } catch (err) {
    if (err instanceof NotRunningError) return null;
    throw err;
  }
}

async function logsOnDisk(paths: GwPaths, name: string | undefined, n: number, follow: boolean, mask: (s: string) => string, notice: boolean): Promise<ReadableStream<Uint8Array>> {
  const all = await logSourcesOnDisk(paths.logsDir);
  if (all.length === 0) throw new CliError(`gw is not running for ${paths.dir} and has left no logs in ${paths.logsDir}`, 1, startHint());
  const sources = name ? all.filter((s) => s.name === name) : all;
  if (sources.length === 0) throw new CliError(`no log for '${name}' in ${paths.logsDir}`, 1, `valid names: ${all.map((s) => s.name).join(", ")}`);
  // Followed, the files may grow (a gw started later writes them): said, or it reads as a hang.
  if (notice) console.error(`gw is not running for ${paths.dir}; ${follow ? "following" : "showing"} its log files in ${paths.logsDir}${follow ? " (Ctrl-C to stop)" : ""}`);
  return logStream(sources, n, follow, new AbortController().signal, mask);
}

/** The masker of the config these logs belong to, with its saved instance keys; what gw wrote for it when it does not load. */
async function diskMasker(file: string, paths: GwPaths): Promise<(s: string) => string> {
  const { config } = await loadConfig(file);
  return config ? maskerOf(await withSavedInstanceKeys(config)).text : createMasker(await writtenSecrets(paths.dir)).text;
}
