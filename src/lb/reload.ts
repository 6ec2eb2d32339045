// Hot reload: a changed config file, SIGHUP, or `gw reload` (control socket) builds a new Config;
// a valid one is handed to `apply`, a broken one is reported and the running config stays. So
// does one that `apply` refuses (Gateway.reload: a public listener may not lose its client keys).
// `apply` swaps the config and returns: what takes longer (gw up drains and restarts instances)
// it leaves running as `work`, so an edit saved meanwhile takes effect at once, not after a drain.

import { existsSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname, join } from "node:path";
import { formatProblem, loadConfig } from "../config/index.ts";
import type { Config, Problem } from "../config/types.ts";
import { CliError } from "../cli/errors.ts";
import { ReloadRefused } from "./exposure.ts";
import { typed } from "../supervisor/self.ts";

export interface ReloadLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** What `apply` hands back: what waits for a restart (Gateway.reload's notes), and the work it left running. */
interface Applied<W> {
  readonly notes?: readonly Problem[];
  readonly work?: W;
}

interface ReloaderOptions<W> {
  file: string;
  /**
   * Receives the new config exactly as loaded: managed instances' keys are not filled in yet
   * (call `withInstanceKeys` first). A throw counts as a failed reload; the caller's old state stays.
   * Its notes are logged and handed to `gw reload`, its work too (to follow it).
   */
  apply: (config: Config) => Promise<Applied<W> | void> | Applied<W> | void;
  log: ReloadLog;
  /** Quiet period after the last file event before reloading (editors write in bursts). */
  debounceMs?: number;
  /** Listen for SIGHUP (default true; tests that run several reloaders turn it off). */
  sighup?: boolean;
  /** Files the running config included (Config.includes): edits to them reload too. */
  includes?: readonly string[];
}

export interface ReloadResult<W = unknown> {
  ok: boolean;
  problems: readonly Problem[];
  /** What `apply` left running (absent when it failed or left nothing). */
  work?: W;
}

export interface Reloader<W = unknown> {
  /** Reload now (what `gw reload` calls); concurrent calls share one run per pending change. */
  reload(): Promise<ReloadResult<W>>;
  /**
   * Once the run under way (and one queued, and one for an edit the watcher saw) has ended, no
   * reload runs until `resume`: a change meanwhile waits, and `reload()` is refused with `why`.
   * While gw hands over to its successor (gw upgrade), which reads the file itself, a reload here
   * would start instances nobody supervises afterwards.
   */
  pause(why: string): Promise<void>;
  /** Reload again as usual, at once when something changed while paused. */
  resume(): void;
  close(): void;
}

const DEFAULT_DEBOUNCE_MS = 150;

export function createReloader<W = never>(opts: ReloaderOptions<W>): Reloader<W> {
  const { file, apply, log } = opts;
  const debounceMs = opts.debounceMs ?? DEFAULT_DEBOUNCE_MS;
  // Reloads run one at a time; a request arriving meanwhile waits for the next run, so the
  // newest file content always wins and `apply` never runs concurrently with itself. A run lasts
  // as long as reading the file and the swap: the work `apply` leaves running is not waited for.
  let running: Promise<ReloadResult<W>> | undefined;
  let queued: Promise<ReloadResult<W>> | undefined;

  async function runOnce(): Promise<ReloadResult<W>> {
    const loaded = await loadConfig(file);
    const config = loaded.config;
    let problems = loaded.problems;
    if (!config) {
      log.error(`config reload failed; keeping the running config (${problems.filter((p) => p.severity === "error").length} error(s)):`);
      for (const p of problems) log.error(`  ${formatProblem(p)}`);
      return { ok: false, problems };
    }
    follow(config.includes ?? []);
    let work: W | undefined;
    try {
      const applied = await apply(config);
      if (applied?.notes) problems = [...problems, ...applied.notes];
      work = applied?.work;
    } catch (e) {
      // Said in the log and handed back, so `gw reload` prints why and exits 1.
      const err = e as Error;
      // The fix, where the refusal names one (a file gw cannot write says what to change).
      const hint = err instanceof ReloadRefused || err instanceof CliError ? err.hint : undefined;
      const why: Problem = { severity: "error", file, line: 0, col: 0, path: err instanceof ReloadRefused ? err.path : "", message: err instanceof ReloadRefused ? err.message : `config reload failed while applying it: ${err.message}`, hint };
      log.error(formatProblem(why));
      return { ok: false, problems: [why, ...problems] };
    }
    for (const p of problems) log.warn(formatProblem(p));
    log.info(`config reloaded from ${file}`);
    return { ok: true, problems, ...(work === undefined ? {} : { work }) };
  }

  let paused: { why: string; changed: boolean } | undefined;

  function reload(): Promise<ReloadResult<W>> {
    if (paused) {
      paused.changed = true;
      return Promise.resolve({ ok: false, problems: [{ severity: "error", file, line: 0, col: 0, path: "", message: paused.why }] });
    }
    return start();
  }

  /** A run now, or the one queued after the run under way (which a pause lets run: it was asked for before). */
  function start(): Promise<ReloadResult<W>> {
    if (!running) {
      running = runOnce().finally(() => (running = undefined));
      return running;
    }
    queued ??= running.then(() => {
      queued = undefined;
      return start();
    });
    return queued;
  }

  // Watch directories, not files: editors save by writing a new file and renaming it over the
  // old one, which ends a watch on the file itself. The .env beside the config feeds ${VAR}s;
  // included files (the router's config_file) may live elsewhere, and change with the config.
  // One that does not exist yet, nor its directory, is watched for in the nearest directory that
  // does (its first missing part): creating it reloads, and that reload follows it further down.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watchers = new Map<string, { watcher: FSWatcher; names: Set<string> }>();
  function follow(includes: readonly string[]): void {
    const wanted = new Map<string, Set<string>>();
    for (const path of [file, join(dirname(file), ".env"), ...includes.map(existingOrFirstMissing)]) {
      const dir = dirname(path);
      if (!wanted.has(dir)) wanted.set(dir, new Set());
      wanted.get(dir)!.add(basename(path));
    }
    for (const [dir, w] of watchers) {
      if (wanted.has(dir)) continue;
      w.watcher.close();
      watchers.delete(dir);
    }
    for (const [dir, names] of wanted) {
      const w = watchers.get(dir);
      if (w) {
        w.names = names;
        continue;
      }
      try {
        const entry = { names, watcher: undefined as unknown as FSWatcher };
        entry.watcher = watch(dir, (_event, name) => {
          if (name && !entry.names.has(String(name))) return;
          clearTimeout(timer);
          timer = setTimeout(() => {
            timer = undefined;
            void reload();
          }, debounceMs);
        });
        watchers.set(dir, entry);
      } catch (e) {
        log.warn(`not watching ${dir} for changes: ${(e as Error).message} (${typed("gw reload")} and SIGHUP still work)`);
      }
    }
  }
  follow(opts.includes ?? []);

  const onHup = () => void reload();
  if (opts.sighup !== false) process.on("SIGHUP", onHup);

  return {
    reload,
    async pause(why) {
      // An edit seen but not applied yet (the watcher's quiet period) is applied now, first.
      if (timer !== undefined) {
        clearTimeout(timer);
        timer = undefined;
        void start();
      }
      paused = { why, changed: false };
      await queued;
      await running;
    },
    resume() {
      const changed = paused?.changed;
      paused = undefined;
      if (changed) void reload();
    },
    close() {
      clearTimeout(timer);
      for (const w of watchers.values()) w.watcher.close();
      watchers.clear();
      process.off("SIGHUP", onHup);
    },
  };
}

/** `path` when its directory exists; else its first missing part (whose directory exists), or the root. */
function existingOrFirstMissing(path: string): string {
  let p = path;
  while (dirname(p) !== p && !existsSync(dirname(p))) p = dirname(p);
  return p;
}
