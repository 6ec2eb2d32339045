// What a control command does when the running gw has not begun its answer in time. Every
// endpoint sends its head at once, so a silent gw is one that cannot run its event loop: stopped
// (kill -STOP, a debugger, a frozen laptop), busy (a reload of thousands of routes on a loaded
// machine) or wedged. Only the first is told "kill -CONT"; a busy gw is waited for, and one that
// neither runs nor is stopped gets the way out.
import { CliError } from "../cli/errors.ts";
import { runningGw } from "./orphans.ts";
import type { GwPaths } from "./paths.ts";
import { mainThreadLook } from "./proc.ts";
import { typed } from "./self.ts";

/** A busy gw wants a core at least this share of the time (running, or waiting for one); a wedged or idle one next to never. */
const BUSY_SHARE = 0.1;

/** Why the answer has not begun: decided from what the OS says of the gw's process. */
export type Silence = "stopped" | "busy" | "wedged" | "unknown";

/** The facts of one look at the gw's main thread (null: no /proc, or no gw recorded). */
export interface ProcessLook {
  readonly state: string;
  /** How long it has wanted a CPU, ms (proc.ts mainThreadLook). */
  readonly wantedMs: number;
}

/**
 * Stopped by its state letter; busy while it waits on the disk (D) or wanted a core at least a
 * tenth of the time between the two looks (`ms` apart) — ran or waited to run: on a machine too
 * loaded to give it a tenth of a core, a working gw read as wedged. Not by the letter R alone: an
 * idle process is R for the moment it wakes, and on a loaded machine a look caught a wedged one so.
 */
export function judgeSilence(now: ProcessLook | null, before: ProcessLook | null, ms: number): Silence {
  if (!now) return "unknown";
  if (now.state === "T" || now.state === "t") return "stopped";
  if (now.state === "D" || (before !== null && now.wantedMs - before.wantedMs >= BUSY_SHARE * ms)) return "busy";
  return "wedged";
}

/** The one-line error of a gw that will not answer: what it is, and the way out. */
export class ControlSilent extends CliError {
  /** `busyMs`: how long a busy gw was waited for, for "busy too long". */
  constructor(pid: number | undefined, why: Exclude<Silence, "busy"> | "busy too long", busyMs = 0) {
    const p = pid ?? "PID";
    const gw = `gw${pid ? ` (pid ${pid})` : ""}`;
    const anyway = `to stop it anyway: kill -KILL ${p}, then ${typed("gw down")} stops the instances it left`;
    const text: Record<typeof why, [string, string]> = {
      stopped: [`${gw} is stopped (SIGSTOP, a debugger) and cannot answer`, `to let it go on: kill -CONT ${p}; ${anyway}`],
      "busy too long": [`${gw} has been busy for ${busyMs / 1000} s without answering on its control socket`, `${typed("gw logs")} shows what it does; ${anyway}`],
      wedged: [`${gw} does not answer on its control socket, though it is neither stopped nor busy`, anyway],
      unknown: [`${gw} does not answer on its control socket (stopped? kill -CONT ${p})`, anyway],
    };
    super(text[why][0], 1, text[why][1]);
    this.name = "ControlSilent";
  }
}

/** When the watcher looks and gives up; control.ts fills them from timing.ts, tests with shorter ones. */
export interface SilenceLimits {
  /** The answer is given up on, or a busy gw waited for, from this long after the request. */
  readonly firstMs: number;
  /** The first look is this long before `firstMs`: the CPU used in between tells busy from wedged. */
  readonly sampleMs: number;
  /** A busy gw is looked at again this often... */
  readonly everyMs: number;
  /** ...until this long after the request (0: not waited for — a caller that asks again, gw up -d's poll). */
  readonly busyMs: number;
}

/**
 * Looks at the gw `sampleMs` before `firstMs`, at `firstMs` and every `everyMs` then until `stop()`:
 * a busy one is waited for (said once on stderr, up to `busyMs` in all); otherwise `giveUp` gets
 * the error — never before `firstMs`, with or without a gw to look at — or null when the gw looked
 * at is gone: it is not running.
 */
export function watchSilence(paths: GwPaths, limits: SilenceLimits, giveUp: (err: ControlSilent | null) => void): { stop(): void } {
  const began = performance.now();
  let before: { look: ProcessLook; pid: number; startTime: number; at: number } | null = null;
  let told = false;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const lookIn = (ms: number, first = false) => (timer = setTimeout(() => void look(first), Math.max(0, ms)));
  const look = async (first: boolean) => {
    const gw = await runningGw(paths);
    const now = gw ? mainThreadLook(gw.pid, gw.startTime) : null;
    const at = performance.now();
    if (stopped) return; // the answer began while we looked: aborting now would cut its body
    const sameGw = before !== null && gw !== null && before.pid === gw.pid && before.startTime === gw.startTime;
    if (now && (first || !sameGw)) {
      // A first look at this process (or at a successor that took over the pid file since) only
      // counts the CPU used so far: what it uses next tells busy from wedged.
      before = { look: now, pid: gw!.pid, startTime: gw!.startTime, at };
      return lookIn(first ? limits.firstMs - (at - began) : limits.sampleMs);
    }
    if (first) return lookIn(limits.firstMs - (at - began)); // nothing to look at: the verdict is due at firstMs all the same
    // Timers keep whole milliseconds, so one may fire up to 1 ms before its mark by performance.now().
    if (at - began < limits.firstMs) return lookIn(limits.firstMs - (at - began) + 1);
    // The gw looked at before has exited (or is exiting) since: not silent but gone, whatever the
    // fetch, racing its closed socket, has heard yet.
    if (!now && before) return giveUp(null);
    const silence = judgeSilence(now, before?.look ?? null, at - (before?.at ?? at));
    if (silence !== "busy") return giveUp(new ControlSilent(gw?.pid, silence));
    if (at - began >= limits.busyMs) return giveUp(new ControlSilent(gw!.pid, "busy too long", limits.busyMs));
    if (!told) console.error(`gw (pid ${gw!.pid}) is busy and has not answered yet; waiting for it (up to ${limits.busyMs / 1000} s)…`);
    told = true;
    before = { look: now!, pid: gw!.pid, startTime: gw!.startTime, at };
    lookIn(limits.everyMs);
  };
  lookIn(limits.firstMs - limits.sampleMs, true);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
