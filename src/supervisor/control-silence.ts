// What a control command does when the running gw has not begun its answer in time. Every
// endpoint sends its head at once, so a silent gw is one that cannot run its event loop: stopped
// (kill -STOP, a debugger, a frozen laptop), busy (a reload of thousands of routes on a loaded
// machine) or wedged. Only the first is told "kill -CONT"; a busy gw is waited for, and one that
// neither runs nor is stopped gets the way out.
import { CliError } from "../cli/errors.ts";
import { runningGw } from "./orphans.ts";
import type { GwPaths } from "./paths.ts";
import { procInfo } from "./proc.ts";
import { typed } from "./self.ts";
import { BUSY_ANSWER_MS } from "./timing.ts";

/** How long the first two looks are apart: the answer is given up on (or waited for) `firstMs` after the request, as before. */
const SAMPLE_MS = 1_000;
/** A busy gw uses at least this share of a core; a wedged or idle one next to none. */
const BUSY_SHARE = 0.1;
/** Linux counts CPU time in clock ticks of 10 ms (USER_HZ 100, what /proc reports in). */
const MS_PER_TICK = 10;

/** Why the answer has not begun: decided from what the OS says of the gw's process. */
export type Silence = "stopped" | "busy" | "wedged" | "unknown";

/** The facts of one look at the gw's process (null: no /proc, or no gw recorded). */
export interface ProcessLook {
  readonly state: string;
  readonly cpuTicks: number;
}

/**
 * Stopped by its state letter; busy while it waits on the disk (D) or used at least a tenth of a
 * core between the two looks (`ms` apart). Not by the letter R alone: an idle process is R for the
 * moment it wakes, and on a loaded machine a look caught a wedged one so.
 */
export function judgeSilence(now: ProcessLook | null, before: ProcessLook | null, ms: number): Silence {
  if (!now) return "unknown";
  if (now.state === "T" || now.state === "t") return "stopped";
  if (now.state === "D" || (before !== null && (now.cpuTicks - before.cpuTicks) * MS_PER_TICK >= BUSY_SHARE * ms)) return "busy";
  return "wedged";
}

/** The one-line error of a gw that will not answer: what it is, and the way out. */
export class ControlSilent extends CliError {
  constructor(pid: number | undefined, why: Exclude<Silence, "busy"> | "busy too long") {
    const p = pid ?? "PID";
    const gw = `gw${pid ? ` (pid ${pid})` : ""}`;
    const anyway = `to stop it anyway: kill -KILL ${p}, then ${typed("gw down")} stops the instances it left`;
    const text: Record<typeof why, [string, string]> = {
      stopped: [`${gw} is stopped (SIGSTOP, a debugger) and cannot answer`, `to let it go on: kill -CONT ${p}; ${anyway}`],
      "busy too long": [`${gw} has been busy for ${BUSY_ANSWER_MS / 1000} s without answering on its control socket`, `${typed("gw logs")} shows what it does; ${anyway}`],
      wedged: [`${gw} does not answer on its control socket, though it is neither stopped nor busy`, anyway],
      unknown: [`${gw} does not answer on its control socket (stopped? kill -CONT ${p})`, anyway],
    };
    super(text[why][0], 1, text[why][1]);
    this.name = "ControlSilent";
  }
}

/**
 * Looks at the gw SAMPLE_MS before `firstMs`, at `firstMs` and every `everyMs` then until `stop()`:
 * a busy one is waited for (said once on stderr, up to BUSY_ANSWER_MS in all); otherwise `giveUp`
 * gets the error.
 */
export function watchSilence(paths: GwPaths, firstMs: number, everyMs: number, giveUp: (err: ControlSilent) => void): { stop(): void } {
  const began = performance.now();
  let before: { look: ProcessLook; at: number } | null = null;
  let told = false;
  let stopped = false;
  const look = async () => {
    const gw = await runningGw(paths);
    const now = gw ? await procInfo(gw.pid) : null;
    const at = performance.now();
    if (stopped) return; // the answer began while we looked: aborting now would cut its body
    if (now && !before) {
      // the first look only counts the CPU used so far: what it uses next tells busy from wedged
      before = { look: now, at };
      timer = setTimeout(look, SAMPLE_MS);
      return;
    }
    const silence = judgeSilence(now, before?.look ?? null, at - (before?.at ?? at));
    if (silence !== "busy") return giveUp(new ControlSilent(gw?.pid, silence));
    if (at - began >= BUSY_ANSWER_MS) return giveUp(new ControlSilent(gw?.pid, "busy too long"));
    if (!told) console.error(`gw (pid ${gw!.pid}) is busy and has not answered yet; waiting for it (up to ${BUSY_ANSWER_MS / 1000} s)…`);
    told = true;
    before = { look: now!, at };
    timer = setTimeout(look, everyMs);
  };
  let timer = setTimeout(look, Math.max(0, firstMs - SAMPLE_MS));
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
