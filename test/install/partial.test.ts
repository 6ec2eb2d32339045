// gw install that cannot write one of its places half-way (here ~/.config is a file, so fish's
// completions cannot go there) has recorded first what it was about to write: --uninstall then
// takes back what did get written. One that cannot write its record writes nothing at all.
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runGw, tempDir } from "../helpers/tmp.ts";

function home() {
  const h = join(tempDir("gw-install-partial-"), "home");
  mkdirSync(h);
  const env = { HOME: h, PATH: "/usr/bin:/bin", XDG_DATA_HOME: undefined, XDG_CONFIG_HOME: undefined, SHELL: "/bin/bash" };
  // Bun itself caches transpiled source under ~/.bun when it runs gw from the tree: not gw's.
  const tree = () => [...new Bun.Glob("**").scanSync({ cwd: h, onlyFiles: false, dot: true, followSymlinks: false })].filter((f) => !f.startsWith(".bun")).sort();
  return { h, env, tree };
}

test("a place it cannot write half-way: exit 1 in one line, and --uninstall removes what was written", async () => {
  const t = home();
  writeFileSync(join(t.h, ".config"), "a file where fish's folder would be");
  const r = await runGw(["install"], { env: t.env });
  expect(r.code).toBe(1);
  expect(r.stderr).toStartWith(`gw: cannot install ${join(t.h, ".config/fish/completions/gw.fish")}: `);
  expect(existsSync(join(t.h, ".local/bin/gw"))).toBe(true); // written before fish's failed
  rmSync(join(t.h, ".config"));
  const u = await runGw(["install", "--uninstall"], { env: t.env });
  expect(u.code).toBe(0);
  expect(u.stdout).toContain(`removed ${join(t.h, ".local/bin/gw")}`);
  expect(t.tree()).toEqual([]);
});

test("a record it cannot write: exit 1, nothing written", async () => {
  const t = home();
  mkdirSync(join(t.h, ".local"));
  writeFileSync(join(t.h, ".local/share"), "a file where the record's folder would be");
  const r = await runGw(["install"], { env: t.env });
  expect(r.code).toBe(1);
  expect(r.stderr).toStartWith(`gw: cannot install ${join(t.h, ".local/share/gw/installed.json")}: `);
  expect(t.tree()).toEqual([".local", ".local/share"]);
});
