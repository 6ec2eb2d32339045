// `gw up -d`: run `gw up` again as a detached process (its own session, output to logs/gw.log),
// show its progress from gw.log, and return once it serves — or once it has failed to.
import { closeSync } from "node:fs";
import { stat } from "node:fs/promises";
import { CliError } from "../cli/errors.ts";
import { openPrivateAppend } from "../fs/private.ts";
import { lbProcessEnv } from "../lb/concurrency.ts";
import { controlJson } from "./control.ts";
import { refuseIfRunning } from "./guard.ts";
import { stripLogPrefix } from "./logger.ts";
import { readNew } from "./logtail.ts";
import type { GwPaths } from "./paths.ts";
import { DETACHED_ENV, selfCommand } from "./self.ts";
import type { StatusReport } from "./status.ts";
import { DAEMON_START_TIMEOUT_MS } from "./timing.ts";

const POLL_MS = 200;

export interface DetachOutcome {
  readonly ok: boolean;
  readonly pid: number;
  readonly url?: string;
  readonly file?: string;
  readonly instances?: StatusReport["instances"];
  readonly exitCode?: number | null;
}

/** `upArgs` are the arguments of `gw up` minus -d. `progress` gets each new line of gw.log. */
export async function startDetached(paths: GwPaths, upArgs: string[], progress: (line: string) => void): Promise<DetachOutcome> {
  await refuseIfRunning(paths);
  const fd = openPrivateAppend(paths.gwLog);
  let offset = await stat(paths.gwLog).then((s) => s.size, () => 0);
  const proc = Bun.spawn(selfCommand("up", ...upArgs), {
    // Like a service: it must not hold on to whatever directory the user happened to be in.
    cwd: paths.dir,
    // With Bun's fetch cap raised from the start (lb/concurrency.ts), so it need not re-exec.
    env: lbProcessEnv({ ...process.env, [DETACHED_ENV]: "1" }),
    stdin: "ignore",
    stdout: fd,
    stderr: fd,
    detached: true,
  });
  closeSync(fd);
  proc.unref();
  let exited = false;
  void proc.exited.then(() => (exited = true));
  const show = async () => {
    const { text, end } = await readNew(paths.gwLog, offset);
    offset = end;
    for (const line of text.split("\n")) if (line) progress(stripLogPrefix(line));
  };
  const deadline = Date.now() + DAEMON_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await Bun.sleep(POLL_MS);
    await show();
    if (exited) return { ok: false, pid: proc.pid, exitCode: proc.exitCode };
    const status = await controlJson<StatusReport>(paths, "/status").catch(() => null);
    if (status?.phase === "serving" && status.pid === proc.pid) {
      await show();
      return { ok: true, pid: proc.pid, url: status.lb?.url, file: status.file, instances: status.instances };
    }
  }
  throw new CliError(`gw (pid ${proc.pid}) did not start serving within ${DAEMON_START_TIMEOUT_MS / 1000} s`, 1, `see ${paths.gwLog}; stop it with: gw down`);
}
