// A gw is reached through its folder: `-c other.toml` beside the providers.toml a gw serves had
// reached that gw — `gw reload -c other.toml` said "config reloaded" with the served file left
// as it was, `gw down -c other.toml` stopped it. A file that is not the one served is refused.
import { afterAll, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { alive, gw, killAll, type Sandbox, sandbox } from "../helpers/supervisor.ts";

let sb: Sandbox | undefined;
afterAll(async () => {
  if (sb) await killAll(sb);
});

test("down, reload, restart, upgrade and status with another file of the folder are refused, naming the command that reaches the gw there", async () => {
  sb = await sandbox([{ name: "a" }]);
  const started = await gw(sb, ["up", "-d", "--json"]);
  expect(started.code).toBe(0);
  const { pid } = JSON.parse(started.stdout.trim().split("\n").at(-1)!) as { pid: number };
  const other = join(sb.dir, "other.toml");
  copyFileSync(sb.file, other);
  for (const command of ["reload", "down", "restart", "upgrade", "status"]) {
    const r = await gw(sb, [command, "-c", "other.toml"]);
    expect([command, r.code, r.stderr]).toEqual([
      command,
      1,
      `gw: the gw running in ${sb.dir} (pid ${pid}) serves providers.toml, not other.toml\n  to reach it: gw ${command} -c providers.toml\n`,
    ]);
  }
  expect(await alive(pid)).toBe(true);
  const down = await gw(sb, ["down"]); // ./providers.toml: the file it serves
  expect(down.code).toBe(0);
  expect(await alive(pid)).toBe(false);
}, 60_000);
