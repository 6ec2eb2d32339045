// gw init: a first config for a user who has the binary and no checkout to copy the examples from.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runGw, tempDir } from "../helpers/tmp.ts";

const REPO = join(import.meta.dir, "../..");
const example = (name: string) => readFileSync(join(REPO, name), "utf8");

describe("gw init", () => {
  test("writes providers.toml and a private .env from the examples; gw check then names the keys to fill in", async () => {
    const dir = tempDir();
    const r = await runGw(["init"], { cwd: dir });
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toContain("wrote providers.toml");
    expect(r.stdout).toContain("wrote .env (only you can read it)");
    expect(readFileSync(join(dir, "providers.toml"), "utf8")).toBe(example("providers.toml.example"));
    expect(readFileSync(join(dir, ".env"), "utf8")).toBe(example(".env.example"));
    expect(statSync(join(dir, ".env")).mode & 0o777).toBe(0o600);
    const check = await runGw(["check"], { cwd: dir });
    expect(check.code).toBe(1);
    expect(check.stderr + check.stdout).toContain("${RELAY_KEY} still holds a placeholder");
    // the user of the binary alone has neither a .env.example nor anything to copy to .env
    expect(check.stderr + check.stdout).not.toContain(".env.example");
    expect(readFileSync(join(dir, ".env"), "utf8")).not.toContain("Copy to .env");
  });

  test("never overwrites: a providers.toml there is refused (exit 1, untouched); a .env there is kept", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "providers.toml"), "# mine\n");
    const refused = await runGw(["init", dir, "--json"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("exists already: gw init never overwrites it");
    expect(refused.stderr).toMatch(new RegExp(`or move it away and run .* init ${dir} again`)); // the folder named, not the one gw init runs in
    expect(readFileSync(join(dir, "providers.toml"), "utf8")).toBe("# mine\n");
    expect(existsSync(join(dir, ".env"))).toBe(false);

    const other = tempDir();
    writeFileSync(join(other, ".env"), "RELAY_KEY=real\n");
    const kept = await runGw(["init", other, "--json"]);
    expect(kept.code).toBe(0);
    expect(JSON.parse(kept.stdout)).toEqual([
      { file: join(other, "providers.toml"), action: "wrote" },
      { file: join(other, ".env"), action: "kept" },
    ]);
    expect(readFileSync(join(other, ".env"), "utf8")).toBe("RELAY_KEY=real\n");

    // A directory called .env is no .env kept.
    const odd = tempDir();
    mkdirSync(join(odd, ".env"));
    const said = await runGw(["init", odd]);
    expect(said.code).toBe(0);
    expect(said.stdout).toContain(`${join(odd, ".env")} is there but is no file (a directory?): gw reads the keys providers.toml names as \${VARS} from a .env file — move it away and write one`);
    expect(said.stdout).not.toContain("kept");
  });

  test("a directory that does not exist yet is made, as git init DIR does", async () => {
    const dir = join(tempDir(), "new/sub");
    expect((await runGw(["init", dir])).code).toBe(0);
    expect(readFileSync(join(dir, "providers.toml"), "utf8")).toBe(example("providers.toml.example"));
  });

  test("a link planted at providers.toml is not written through", async () => {
    const dir = tempDir();
    const elsewhere = join(tempDir(), "target");
    symlinkSync(elsewhere, join(dir, "providers.toml"));
    const r = await runGw(["init", dir]);
    expect(r.code).toBe(1);
    expect(existsSync(elsewhere)).toBe(false);
  });

  test("gw init DIR run from elsewhere: the next steps it prints name the config they need (as one shell word); a file in the way is said so", async () => {
    const cwd = tempDir();
    const r = await runGw(["init", "my setup"], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("check -c 'my setup/providers.toml' (every problem, with its line)");
    expect(r.stdout).toContain("up -c 'my setup/providers.toml'");
    // followed as printed, gw check reads that config (not "no providers.toml here")
    const check = await runGw(["check", "-c", "my setup/providers.toml"], { cwd });
    expect(check.stderr + check.stdout).toContain("${RELAY_KEY} still holds a placeholder");
    const again = await runGw(["init", "my setup"], { cwd });
    expect(again.stderr).toContain("check it with: ");
    expect(again.stderr).toContain(" check -c 'my setup/providers.toml'");
    writeFileSync(join(cwd, "afile"), "");
    for (const dir of ["afile", "afile/sub"]) {
      const blocked = await runGw(["init", dir], { cwd });
      expect([blocked.code, blocked.stderr.trim().split("\n")[0]]).toEqual([1, `gw: cannot write in ${dir}: a file is in the way, not a directory`]);
    }
    // A directory that takes no new files (procfs answers ENOENT): said in words, with the way out.
    const proc = await runGw(["init", "/proc/1"], { cwd });
    expect([proc.code, ...proc.stderr.trim().split("\n").map((l) => l.trim())]).toEqual([1, "gw: cannot write in /proc/1: the system refused the write (ENOENT)", expect.stringMatching(/^pick a directory you may write in: .* init DIR$/)]);
  });
});
