// cld fingerprints a checkout's providers.toml and .env before it asks whether to trust them: a
// checkout may carry a .env that is a FIFO or a link to /dev/zero, which must be told apart from
// the file it replaced, never waited on or read without end.
import { afterEach, expect, test } from "bun:test";
import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers/tmp.ts";

const started: Bun.Subprocess[] = [];
afterEach(() => {
  for (const p of started.splice(0)) p.kill("SIGKILL"); // one a failing test left blocked
});

/** fingerprint() run in a child: blocked, it would otherwise hold up the test process itself. */
async function fingerprintOf(file: string): Promise<string> {
  const code = `import { fingerprint } from ${JSON.stringify(join(import.meta.dir, "../../src/cld/confirmed.ts"))}; console.log(await fingerprint(${JSON.stringify(file)}));`;
  const proc = Bun.spawn([process.execPath, "-e", code], { stdout: "pipe", stderr: "inherit" });
  started.push(proc);
  const [out] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return out.trim();
}

test("a .env that is a FIFO or a link to a device is fingerprinted as such, not read", async () => {
  const dir = tempDir("gw-fingerprint-");
  const file = join(dir, "providers.toml");
  writeFileSync(file, "[global]\nmain_port = 8145\n");
  const none = await fingerprintOf(file);
  Bun.spawnSync(["mkfifo", join(dir, ".env")]);
  const fifo = await fingerprintOf(file);
  expect(fifo).toMatch(/^[0-9a-f]{64}$/);
  expect(fifo).not.toBe(none);
  Bun.spawnSync(["rm", join(dir, ".env")]);
  symlinkSync("/dev/zero", join(dir, ".env"));
  expect(await fingerprintOf(file)).toMatch(/^[0-9a-f]{64}$/);
});
