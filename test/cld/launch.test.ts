// The spawn fallback (platforms without process.execve): stdio inherited, signals forwarded,
// claude's exit code returned.
import { expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(60_000);

test("signals other than Ctrl-C reach claude; its exit code comes back", async () => {
  const dir = tempDir("gw-cld-spawn-");
  const rec = join(dir, "rec");
  const claude = join(dir, "claude");
  writeFileSync(claude, `#!/bin/sh
trap 'echo INT >> "${rec}"' INT
trap 'echo TERM >> "${rec}"; exit 143' TERM
echo "args:$*:$FROM_RUNNER" >> "${rec}"
echo ready > "${rec}.ready"
while :; do /bin/sleep 0.05; done
`, { mode: 0o755 });
  const runner = Bun.spawn([process.execPath, join(import.meta.dir, "spawn-runner.ts"), claude, "-p", "two words"], { stdout: "pipe", stderr: "inherit" });
  try {
    while (!existsSync(`${rec}.ready`)) await Bun.sleep(20);
    runner.kill("SIGINT"); // survived, and not passed on (the terminal delivers Ctrl-C itself)
    runner.kill("SIGTERM");
    expect(await runner.exited).toBe(143);
    expect(readFileSync(rec, "utf8")).toBe("args:-p two words:yes\nTERM\n");
  } finally {
    runner.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});
