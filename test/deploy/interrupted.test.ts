// Ctrl-C during `gw deploy` (here: while ssh is still connecting) ends it at once with 130, and
// what the deploy made on this machine — its work directory, the ssh control socket's — goes with
// it: a `finally` alone does not run when a signal ends the process. The "host" is an ssh alias
// whose ProxyCommand never connects; the test waits until ssh has started it.
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MAIN, until } from "../helpers/supervisor.ts";
import { tempDir } from "../helpers/tmp.ts";

test("Ctrl-C while deploy connects: exit 130, nothing left in the temp dir", async () => {
  const dir = tempDir("gw-deploy-int-");
  const tmp = join(dir, "tmp");
  mkdirSync(tmp);
  const started = join(dir, "connecting");
  writeFileSync(join(dir, "ssh_config"), `Host hangs\n  ProxyCommand sh -c 'touch ${started}; exec sleep 30'\n`);
  writeFileSync(
    join(dir, "providers.toml"),
    `[global]\nmain_port = 18147\n[instances.a]\nport = 18148\nproviders = [{ type = "antigravity" }]\n[routing]\n"m" = [{ instance = "a", provider = "antigravity", model = "gemini-3-flash" }]\n`,
  );
  // Its own process group, as a terminal's foreground job: Ctrl-C reaches gw and its ssh alike.
  const proc = Bun.spawn([process.execPath, MAIN, "deploy", "hangs", "-c", join(dir, "providers.toml")], {
    cwd: dir,
    env: { ...process.env, GW_SSH_CONFIG: join(dir, "ssh_config"), TMPDIR: tmp, NO_COLOR: "1" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    detached: true,
  });
  try {
    await until(() => existsSync(started), 15_000);
    expect(readdirSync(tmp).length).toBeGreaterThan(0); // the deploy's own dirs are there meanwhile
    process.kill(-proc.pid, "SIGINT");
    expect(await proc.exited).toBe(130);
    expect(readdirSync(tmp)).toEqual([]);
  } finally {
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {}
  }
}, 30_000);
