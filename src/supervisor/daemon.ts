// `gw up -d`: run `gw up` again as a detached process (its own session, output to logs/gw.log),
// show its progress from gw.log, and return once it serves — or once it has failed to. The
// upgrade hand-over (handover.ts) starts its successor the same way.
import { closeSync } from "node:fs";
import { dirname } from "node:path";
import { stat } from "node:fs/promises";
import type { Subprocess } from "bun";
import { CliError } from "../cli/errors.ts";
import { waitingOnly } from "../cli/interrupt.ts";
import { openPrivateAppend } from "../fs/private.ts";
import { noRoomIn, ROOM_HINT, writeProblem } from "../fs/why.ts";
import { displayPath } from "../cli/display-path.ts";
import { lbProcessEnv } from "../lb/concurrency.ts";
import { controlProbe } from "./control.ts";
import { refuseIfRunning } from "./guard.ts";
import { logLineParts } from "./logger.ts";
import { readNew } from "./logtail.ts";
import type { GwPaths } from "./paths.ts";
import { lastRefusal } from "./refusal.ts";
import { DETACHED_ENV, selfCommand } from "./self.ts";
import type { StatusReport } from "./status.ts";
import { DAEMON_START_TIMEOUT_MS } from "./timing.ts";

const POLL_MS = 200;
/** Of the lines a starting gw printed itself, those kept: its refusal is its last, a few lines at most. */
const PRINTED_KEPT = 20;

export interface DetachOutcome {
  readonly ok: boolean;
  readonly pid: number;
  readonly url?: string;
  readonly file?: string;
  readonly instances?: StatusReport["instances"];
  readonly exitCode?: number | null;
  /** The signal that ended it, when one did (its exitCode is then null). */
  readonly signal?: string | null;
  /** Still running, but not serving within the time allowed. */
  readonly timedOut?: boolean;
  /** Why it did not serve, in its own words: its refusal (refusal.ts), as it would have said it in the foreground. */
  readonly problem?: string;
  readonly hint?: string;
}

export interface GwProcess {
  readonly proc: Subprocess<"ignore" | "pipe", number, number>;
  /** gw.log's size when it started: its progress is what comes after. */
  readonly logOffset: number;
}

/**
 * Start `argv` (a gw `up`) in its own session, in the config's directory, output appended to
 * gw.log, with the LB's Bun settings from the start (lb/concurrency.ts) so it need not re-exec.
 * `stdin: "pipe"` gives the parent a line to talk to it (the hand-over's verdict).
 */
export async function spawnGw(paths: GwPaths, argv: string[], env: Record<string, string | undefined>, stdin: "ignore" | "pipe" = "ignore"): Promise<GwProcess> {
  const fd = openPrivateAppend(paths.gwLog); // 0600 in a 0700 logs/, never through a planted link
  const logOffset = await stat(paths.gwLog).then((s) => s.size, () => 0);
  const proc = Bun.spawn(argv, {
    // Like a service: it must not hold on to whatever directory the user happened to be in.
    cwd: paths.dir,
    env: lbProcessEnv({ ...env, [DETACHED_ENV]: "1" }),
    stdin,
    stdout: fd,
    stderr: fd,
    detached: true,
  });
  closeSync(fd);
  proc.unref();
  return { proc, logOffset };
}

/**
 * Wait until the gw in `p` answers the control socket as serving; gw.log's new lines go to
 * `progress` meanwhile, its own alone (and lines no gw's logger wrote — `printed`: its refusal,
 * before it logs): a gw upgrading goes on serving and logging into the gw.log its successor
 * writes, and another gw up started here at the same moment writes there too — their lines are
 * not this one's progress, nor its reason to fail. Gives up when it exits or after `timeoutMs`.
 */
export async function waitServing(paths: GwPaths, p: GwProcess, progress: (line: string, printed: boolean) => void, timeoutMs = DAEMON_START_TIMEOUT_MS): Promise<DetachOutcome> {
  const { proc } = p;
  let offset = p.logOffset;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  /** The lines it printed itself (not its logger's), the last few: where its refusal is. */
  const printed: string[] = [];
  const show = async () => {
    const { text, end } = await readNew(paths.gwLog, offset);
    offset = end;
    for (const line of text.split("\n")) {
      const { pid, message } = logLineParts(line);
      if (!line || (pid !== undefined && pid !== proc.pid)) continue;
      if (pid === undefined && printed.push(line) > PRINTED_KEPT) printed.shift();
      progress(message, pid === undefined);
    }
  };
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    await Bun.sleep(POLL_MS);
    // Whether it had exited before the lines are read: one that exits while they are read wrote
    // its last ones (why it failed) after them, and they are read on the next turn.
    const ended = exited;
    await show();
    if (ended) return { ok: false, pid: proc.pid, exitCode: proc.exitCode, signal: proc.signalCode === null ? null : String(proc.signalCode), ...lastRefusal(printed) };
    const status = await controlProbe<StatusReport>(paths, "/status");
    if (status?.phase === "serving" && status.pid === proc.pid) {
      await show();
      return { ok: true, pid: proc.pid, url: status.lb?.url, file: status.file, instances: status.instances };
    }
  }
  return { ok: false, pid: proc.pid, timedOut: true };
}

/** `upArgs` are the arguments of `gw up` minus -d. `progress` gets each new line of gw.log (waitServing). */
export async function startDetached(paths: GwPaths, upArgs: string[], progress: (line: string, printed: boolean) => void): Promise<DetachOutcome> {
  await refuseIfRunning(paths);
  const p = await spawnGw(paths, selfCommand("up", ...upArgs), process.env);
  const out = await waitingOnly(
    () => waitServing(paths, p, progress),
    () => `gw: stopped waiting; gw (pid ${p.proc.pid}) goes on starting in the background\n  see it with: gw status · stop it with: gw down`,
  );
  if (out.timedOut) {
    throw new CliError(`gw (pid ${out.pid}) did not start serving within ${DAEMON_START_TIMEOUT_MS / 1000} s`, 1, `see ${paths.gwLog}; stop it with: gw down`);
  }
  // Its reason went to gw.log, which takes no byte on a full disk: say that instead of nothing.
  if (!out.ok && noRoomIn(dirname(paths.gwLog))) {
    throw new CliError(`gw up -d failed (exit code ${out.exitCode}), and could not say why: ${writeProblem(displayPath(paths.gwLog), { code: "ENOSPC" })}`, 1, ROOM_HINT);
  }
  return out;
}
