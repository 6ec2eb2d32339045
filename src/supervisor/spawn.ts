// One instance process: its own process group (so a stop reaches every grandchild), stdout and
// stderr appended to its log file, and an exit promise that also sweeps the group.
import { closeSync, writeSync } from "node:fs";
import { openPrivateAppend } from "../fs/private.ts";
import { ensureInstanceCwd } from "./instance-cwd.ts";
import { signalGroup } from "./proc.ts";

interface SpawnSpec {
  readonly name: string;
  readonly argv: readonly string[];
  /** The command line for the start line in the log, secrets already masked (launch.ts). */
  readonly shown: string;
  readonly cwd: string;
  readonly env: Record<string, string | undefined>;
  readonly logFile: string;
}

export interface ExitInfo {
  /** Exit code, or null when a signal ended it. */
  readonly code: number | null;
  readonly signal: string | null;
  /** When, on this process's monotonic clock (monoNow): what `gw status` shows is derived from it (status.ts). */
  readonly at: number;
}

/**
 * How a process ended, in a few words. An instance adopted at an upgrade is not this process's
 * child: its exit status cannot be read (adopt.ts), and "code null" would say nothing.
 */
export function exitStatus(e: Pick<ExitInfo, "code" | "signal">): string {
  if (e.signal) return e.signal;
  return e.code === null ? "status unknown, adopted" : `code ${e.code}`;
}

export interface Child {
  readonly pid: number;
  /** On this process's monotonic clock (monoNow), so its uptime survives a wall-clock step. */
  readonly startedAt: number;
  readonly exited: Promise<ExitInfo>;
  /** Stop holding on to it: this gw may exit while it runs on (an upgrade hands it over). */
  readonly release: () => void;
  /** Look now whether it exited, rather than at the next poll (an adopted process: adopt.ts). */
  readonly lookNow?: () => void;
}

/** Spawn failed before a process existed (binary missing, not executable, bad cwd). */
export class SpawnError extends Error {}

export function spawnChild(spec: SpawnSpec): Child {
  // CLIProxyAPI writes ./logs and reads ./.env there: not through a link out of the folder, nor with a .env planted in it.
  ensureInstanceCwd(spec.cwd);
  const fd = openPrivateAppend(spec.logFile); // a planted link is refused (UnsafePathError), never appended through
  try {
    writeSync(fd, `--- gw: starting ${spec.name} at ${new Date().toISOString()}: ${spec.shown}\n`);
    const proc = Bun.spawn([...spec.argv], {
      cwd: spec.cwd,
      env: spec.env,
      stdin: "ignore",
      stdout: fd,
      stderr: fd,
      // Session and group leader: `kill -PGID` stops its whole tree, and a Ctrl-C in gw's
      // terminal reaches gw only, which then stops instances in order.
      detached: true,
    });
    const exited = proc.exited.then((): ExitInfo => {
      // The leader is gone; anything it left behind in its group goes with it.
      signalGroup(proc.pid, "SIGKILL");
      return { code: proc.signalCode ? null : proc.exitCode, signal: proc.signalCode == null ? null : String(proc.signalCode), at: monoNow() };
    });
    return { pid: proc.pid, startedAt: monoNow(), exited, release: () => proc.unref() };
  } catch (err) {
    throw new SpawnError(err instanceof Error ? err.message : String(err));
  } finally {
    closeSync(fd); // the child has its own copy
  }
}

/** SIGTERM the group, SIGKILL it after killWaitMs; resolves once the leader has exited. */
export async function stopChild(child: Child, killWaitMs: number): Promise<ExitInfo> {
  signalGroup(child.pid, "SIGTERM");
  // A stopped group (SIGSTOP, a debugger) acts on the SIGTERM only once continued, as systemd
  // does it: else it waited out killWaitMs and was killed without its own shutdown.
  signalGroup(child.pid, "SIGCONT");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      signalGroup(child.pid, "SIGKILL");
      resolve();
    }, killWaitMs);
  });
  await Promise.race([child.exited, killed]);
  clearTimeout(timer);
  return child.exited;
}

/**
 * The supervisor's clock for durations (uptimes, exits, the backoff's window): monotonic, so NTP
 * stepping the wall clock (a laptop's sleep, a resumed VM, someone setting the date) neither
 * zeroes an uptime nor keeps old exits inside the crash-loop window for the length of the step.
 * Its origin is this process's start: a stamp on it means nothing to another process (status.ts
 * hands out durations; adopt.ts places an adopted process on it from the kernel's boot clock).
 */
export const monoNow = (): number => performance.now();
