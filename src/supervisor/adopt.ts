// Instances a previous gw started, taken over by its successor without a restart: they are not
// this process's children, so their end is noticed by polling /proc for the very same process
// (pid + start time, as orphans.ts records them). Exit codes of processes that are not ours are
// unknowable; the log file tells what happened. The poll (Timing.adoptedPollMs) is the longest it
// can be gone unnoticed — unless the LB meets a refused connection first, which looks at once.
import { readFile } from "node:fs/promises";
import type { ProcRecord } from "./orphans.ts";
import { procInfo, signalGroup } from "./proc.ts";
import type { Child, ExitInfo } from "./spawn.ts";

/** Linux's USER_HZ: /proc start times are in these ticks. */
const CLOCK_TICKS_PER_SECOND = 100;

let bootMs: Promise<number> | undefined;
const bootTime = () =>
  (bootMs ??= readFile("/proc/stat", "utf8").then(
    (t) => Number(/^btime (\d+)$/m.exec(t)?.[1] ?? 0) * 1000,
    () => 0,
  ));

/** The running process of `rec` as a Child, or null when it is gone (or another process has its pid). */
export async function adoptChild(rec: ProcRecord, pollMs: number): Promise<Child | null> {
  const info = await procInfo(rec.pid);
  if (!info || info.startTime !== rec.startTime) return null;
  const startedAt = (await bootTime()) + (rec.startTime * 1000) / CLOCK_TICKS_PER_SECOND;
  let released = false;
  let wake = () => {};
  const exited = (async (): Promise<ExitInfo> => {
    for (;;) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (released) return new Promise<never>(() => {}); // handed on: its end is no longer ours to see
      const now = await procInfo(rec.pid);
      if (!now || now.startTime !== rec.startTime) break;
    }
    // As for a child of ours: whatever the leader left in its group goes with it.
    signalGroup(rec.pid, "SIGKILL");
    return { code: null, signal: null, at: Date.now() };
  })();
  return { pid: rec.pid, startedAt, exited, release: () => void (released = true), lookNow: () => wake() };
}
