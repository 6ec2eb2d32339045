import { afterAll, expect, test } from "bun:test";
import { mkdirSync, readFileSync, symlinkSync } from "node:fs";
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
