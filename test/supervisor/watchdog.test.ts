import { afterAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { gwPaths } from "../../src/supervisor/paths.ts";
import { startWatchdog } from "../../src/supervisor/watchdog.ts";
import { removeTempDirs, tempDir } from "../helpers/tmp.ts";

afterAll(removeTempDirs);

// The loop's `sleep` comes from the user's PATH; without one, `while kill -0; do sleep; done` spun
// a core for as long as gw lived.
test("a PATH without sleep: the watchdog says so in gw.log and leaves (no busy loop, no early gw down)", async () => {
  const dir = tempDir();
  const paths = gwPaths(dir);
  mkdirSync(join(dir, "logs"), { recursive: true });
  // only what the loop's sh needs besides sleep: nothing; kill is a shell builtin
  const bin = join(dir, "bin");
  mkdirSync(bin);
  symlinkSync("/bin/sh", join(bin, "sh"));
  const dog = startWatchdog(paths, join(dir, "providers.toml"), { PATH: bin });
  try {
    expect(await dog.exited).toBe(1);
    const log = readFileSync(paths.gwLog, "utf8");
    expect(log).toContain("gw: watchdog: no working sleep on PATH");
    expect(log).not.toContain("after-crash"); // gw down never ran: gw is alive
  } finally {
    await dog.stop();
  }
});

/** Children of a process (any of its threads may have started them). */
const childrenOf = (pid: number) =>
  readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim().split(" ").filter(Boolean).map(Number));

/** A child of `pid` (other than `not`) whose command line holds `word`, once there is one. */
async function childOf(pid: number, word: string, not?: number): Promise<number> {
  for (;;) {
    const kid = childrenOf(pid).find((k) => k !== not && readFileSync(`/proc/${k}/cmdline`, "utf8").includes(word));
    if (kid) return kid;
    await Bun.sleep(10);
  }
}

// A sleep ended by a signal (a `pkill sleep`, a stray SIGTERM) is no PATH without sleep: the loop goes on.
test("its sleep killed by a signal: the watchdog keeps watching, and says nothing of PATH", async () => {
  const dir = tempDir();
  const paths = gwPaths(dir);
  mkdirSync(join(dir, "logs"), { recursive: true });
  const dog = startWatchdog(paths, join(dir, "providers.toml"), { PATH: process.env.PATH });
  try {
    const sh = await childOf(process.pid, "gw-watchdog");
    const first = await childOf(sh, "sleep");
    process.kill(first, "SIGTERM");
    const next = await Promise.race([childOf(sh, "sleep", first), dog.exited.then(() => 0)]);
    expect(next).toBeGreaterThan(0);
    expect(readFileSync(paths.gwLog, "utf8")).not.toContain("no working sleep");
  } finally {
    await dog.stop();
  }
});
