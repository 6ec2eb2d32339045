// `gw install --prefix '~/bin'` (quoted, so the shell left the ~): the home directory, as meant,
// never a folder called `~` in the working directory; `~user/…` is refused with the fix.
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { runGw, tempDir } from "../helpers/tmp.ts";

function place() {
  const dir = tempDir("gw-install-prefix-");
  const home = join(dir, "home");
  const cwd = join(dir, "work");
  mkdirSync(home);
  mkdirSync(cwd);
  const env = { HOME: home, PATH: "/usr/bin:/bin", XDG_DATA_HOME: undefined, XDG_CONFIG_HOME: undefined, SHELL: "/bin/bash" };
  return { home, cwd, env };
}

test("--prefix ~/bin is the home's bin, for install and --uninstall alike", async () => {
  const p = place();
  const r = await runGw(["install", "--prefix", "~/bin"], { cwd: p.cwd, env: p.env });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  expect(existsSync(join(p.home, "bin", "gw"))).toBe(true);
  expect(existsSync(join(p.home, "share", "gw", "installed.json"))).toBe(true);
  expect(readdirSync(p.cwd)).toEqual([]);
  const u = await runGw(["install", "--uninstall", "--prefix", "~/bin"], { cwd: p.cwd, env: p.env });
  expect(u.stdout).toContain(`removed ${join(p.home, "bin", "gw")}`);
  expect(existsSync(join(p.home, "bin", "gw"))).toBe(false);
});

test("--prefix ~someone/bin: refused in one line, nothing written", async () => {
  const p = place();
  const r = await runGw(["install", "--prefix", "~someone/bin"], { cwd: p.cwd, env: p.env });
  expect(r.code).toBe(1);
  expect(r.stderr).toBe("gw: --prefix ~someone/bin: gw expands only ~ and ~/ (your own home)\n  give the directory's full path\n");
  expect(readdirSync(p.cwd)).toEqual([]);
  expect(readdirSync(p.home)).toEqual([]);
});
