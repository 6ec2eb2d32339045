// gw install's hints are pasted into a shell: for a prefix with a space, quotes, `$(…)` and
// backquotes each line is run here in the shell it is for (bash, zsh, fish), and must give that
// directory as it is, running nothing.
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { runGw, tempDir } from "../helpers/tmp.ts";

const between = (text: string, from: string, to: string) => {
  const start = text.indexOf(from) + from.length;
  expect(start).toBeGreaterThanOrEqual(from.length);
  return text.slice(start, text.indexOf(to, start));
};

async function sh(argv: string[], cwd: string): Promise<string> {
  const p = Bun.spawn(argv, { cwd, env: { PATH: "/usr/bin:/bin", HOME: cwd, XDG_CONFIG_HOME: cwd, XDG_DATA_HOME: cwd }, stdout: "pipe", stderr: "inherit" });
  const [out] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  return out;
}

test("PATH, XDG_DATA_DIRS, fish_add_path and zsh fpath hints keep an awkward prefix one word, running nothing", async () => {
  const dir = tempDir("gw-install-hints-");
  const cwd = join(dir, "here");
  mkdirSync(cwd);
  const prefix = join(dir, "my $(touch PWNED) it's `touch PWNED2` \\ \"x\" tools");
  const env = { HOME: join(dir, "home"), PATH: "/usr/bin:/bin", XDG_DATA_DIRS: undefined, XDG_DATA_HOME: undefined, XDG_CONFIG_HOME: undefined, SHELL: "/bin/zsh" };
  const r = await runGw(["install", "--prefix", prefix], { cwd, env });
  expect(r.code).toBe(0);
  const share = join(prefix, "share");

  const path = between(r.stdout, `add ${prefix} to PATH: `, "  (bash/zsh rc file");
  const fish = between(r.stdout, "fish: fish_add_path ", ")\n");
  const xdg = between(r.stdout, "which bash-completion and fish do not search: ", "\n");
  const fpath = between(r.stdout, "zsh: ", " before compinit");

  for (const shell of ["bash", "zsh"]) {
    expect(await sh([shell, "-c", `${path}\nprintf '%s' "$PATH"`], cwd)).toBe(`${prefix}:/usr/bin:/bin`);
    expect(await sh([shell, "-c", `unset XDG_DATA_DIRS\n${xdg}\nprintf '%s' "$XDG_DATA_DIRS"`], cwd)).toBe(`${share}:/usr/local/share:/usr/share`);
  }
  expect(await sh(["zsh", "-f", "-c", `${fpath}\nprint -r -- "$fpath[1]"`], cwd)).toBe(`${join(share, "zsh", "site-functions")}\n`);
  expect(await sh(["fish", "--no-config", "-c", `printf '%s\\n' ${fish}`], cwd)).toBe(`${prefix}\n`);
  expect(readdirSync(cwd).filter((f) => f.startsWith("PWNED"))).toEqual([]);
  expect(existsSync(join(dir, "PWNED"))).toBe(false);
});
