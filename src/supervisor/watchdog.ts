// Instances must not outlive a gw killed with SIGKILL (OOM killer, kill -9). CLIProxyAPI cannot
// watch its parent, so gw starts one tiny shell loop, in its own session, that waits for gw's pid
// to disappear and then runs `gw down --after-crash PID`: it stops exactly the instances that gw
// recorded, and nothing if another gw has taken over meanwhile. A gw that stops normally ends the
// loop itself. Should the loop die too, the next gw up or gw down still cleans up (orphans.ts).
import { closeSync } from "node:fs";
import { openPrivateAppend } from "../fs/private.ts";
import type { GwPaths } from "./paths.ts";
import { selfCommand } from "./self.ts";

/** How often the loop checks that gw is alive; the worst-case lifetime of an orphan. */
const WATCH_INTERVAL_S = 1;

// A PATH without sleep would turn the loop into a busy spin: the watchdog says so and leaves
// (gw's next start or stop still cleans up after a kill -9), it never runs the down early. A sleep
// ended by a signal (status above 128: a `pkill sleep`) is no missing sleep: the loop goes on.
const LOOP = `gw=$1; shift; while kill -0 "$gw" 2>/dev/null; do sleep ${WATCH_INTERVAL_S} || [ $? -gt 128 ] || { echo "gw: watchdog: no working sleep on PATH ($PATH): instances will not be stopped if gw is killed with SIGKILL — start gw with /bin or /usr/bin on PATH" >&2; exit 1; }; done; exec "$@"`;

export function startWatchdog(paths: GwPaths, configFile: string, env: Record<string, string | undefined>): { stop(): Promise<void>; readonly exited: Promise<number> } {
  const fd = openPrivateAppend(paths.gwLog);
  const argv = ["/bin/sh", "-c", LOOP, "gw-watchdog", String(process.pid), ...selfCommand("down", "-c", configFile, "--after-crash", String(process.pid))];
  const proc = Bun.spawn(argv, { env, stdin: "ignore", stdout: fd, stderr: fd, detached: true });
  closeSync(fd);
  proc.unref();
  return {
    exited: proc.exited,
    async stop() {
      try {
        process.kill(-proc.pid, "SIGKILL"); // the loop and its sleep
      } catch {}
      await proc.exited;
    },
  };
}
