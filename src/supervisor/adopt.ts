// Instances a previous gw started, taken over by its successor without a restart: they are not
// this process's children, so their end is noticed by polling /proc for the very same process
// (pid + start time, as orphans.ts records them). Exit codes of processes that are not ours are
// unknowable; the log file tells what happened. The poll is the longest one can be gone unnoticed
// — unless the LB's connection to it fails first, which looks at once (lookNow).
import { readFile } from "node:fs/promises";
import type { ProcRecord } from "./orphans.ts";
import { CLOCK_TICKS_PER_SECOND, pidExists, procInfo, signalGroup } from "./proc.ts";
import { type Child, type ExitInfo, monoNow } from "./spawn.ts";

/**
 * Seconds since boot on the kernel's boot clock (/proc/uptime), the clock /proc start times count
 * on: how long a process has run is read without the wall clock, which NTP may have stepped since.
 */
const sinceBootMs = () => readFile("/proc/uptime", "utf8").then((t) => Number.parseFloat(t) * 1000, () => NaN);

/** The running process of `rec` as a Child, or null when it is gone (or another process has its pid). */
/** `pollMs`: how often it is checked (Timing.adoptedPollMs); the shared timer follows the most frequent. */
export async function adoptChild(rec: ProcRecord, pollMs: number): Promise<Child | null> {
  const info = await procInfo(rec.pid);
  if (!info || info.startTime !== rec.startTime) return null;
  // Its start on this process's monotonic clock: the predecessor's stamps are on a clock whose
  // origin was that process's start, so it is placed by how long it has run (the boot clock).
  const ranMs = (await sinceBootMs()) - (rec.startTime * 1000) / CLOCK_TICKS_PER_SECOND;
  const startedAt = monoNow() - (Number.isFinite(ranMs) ? Math.max(0, ranMs) : 0);
  const exited = new Promise<ExitInfo>((resolve) => {
    watched.set(rec.pid, {
      rec,
      pollMs,
      gone: () => {
        // As for a child of ours: whatever the leader left in its group goes with it.
        signalGroup(rec.pid, "SIGKILL");
        resolve({ code: null, signal: null, at: monoNow() });
      },
    });
  });
  watch();
  // Released (handed on): its end is no longer ours to see, and `exited` never settles.
  const lookNow = () => void sameProcess(rec).then((same) => same || ended(rec.pid));
  return { pid: rec.pid, startedAt, exited, release: () => void watched.delete(rec.pid), lookNow };
}

// --- internal ---

/**
 * Every adopted instance, checked by one timer: forty instances with a timer each woke gw 160
 * times a second at idle, four times the CPU of the same gw with its own children.
 */
const watched = new Map<number, { rec: ProcRecord; pollMs: number; gone: () => void }>();
let ticking = false;

function watch(): void {
  if (ticking) return;
  ticking = true;
  void (async () => {
    for (let tick = 1; watched.size; tick++) {
      await Bun.sleep(Math.min(...[...watched.values()].map((w) => w.pollMs)));
      // A signal 0 is all a tick needs (a reaped process is gone at once); /proc, which also
      // tells a zombie nobody reaps and a reused pid, is read every IDENTITY_EVERY ticks.
      const full = tick % IDENTITY_EVERY === 0;
      for (const [pid, w] of watched) if (!(full ? await sameProcess(w.rec) : pidExists(pid))) ended(pid);
    }
    ticking = false;
  })();
}

const IDENTITY_EVERY = 4;

/** The watched process `pid` is gone: its end is told once (a look and a tick may both see it). */
function ended(pid: number): void {
  const w = watched.get(pid);
  if (!w) return;
  watched.delete(pid);
  w.gone();
}

async function sameProcess(rec: ProcRecord): Promise<boolean> {
  return (await procInfo(rec.pid))?.startTime === rec.startTime;
}
