// Issue 13: the README's commands on a fresh machine. `npm install -g bun` runs only when Bun is
// missing (a normal user without a writable npm prefix stopped there with EACCES although Bun was
// installed), and `bun run test` first runs .ci/deps, which — for a user who cannot install — names
// exactly the missing packages and the command to get them, and stops. Both are run here as bash
// runs them, with stub programs on PATH standing in for the machine. And on a shared machine the
// tests, benches and CI look only at the processes they started.
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { tempDir } from "../helpers/tmp.ts";

const ROOT = join(import.meta.dir, "../..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const DEPS = join(ROOT, ".ci/deps");
const BASH = Bun.which("bash")!;

/** A directory of stub programs: each prints `out` (if any) and records its arguments in `calls`. */
function stubs(names: Record<string, string>): { dir: string; calls: string } {
  const dir = tempDir("gw-deps-");
  const calls = join(dir, "calls");
  for (const [name, out] of Object.entries(names)) {
    const file = join(dir, name);
    writeFileSync(file, `#!${BASH}\necho "${name} $*" >> "${calls}"\n${out ? `echo "${out}"\n` : ""}`);
    chmodSync(file, 0o755);
  }
  return { dir, calls };
}

async function bash(script: string[], path: string) {
  const proc = Bun.spawn([BASH, ...script], { cwd: ROOT, env: { PATH: path }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

/** `command:package` pairs .ci/deps checks, read from the script itself. */
function needs(): Array<[command: string, pkg: string]> {
  const list = /^needs=\(([^)]*)\)/m.exec(readFileSync(DEPS, "utf8"))![1]!;
  return list.trim().split(/\s+/).map((pair) => pair.split(":") as [string, string]);
}

describe("the README's commands", () => {
  const guarded = README.split("\n").filter((l) => l.includes("npm install -g bun") && !l.startsWith("`"));
  const guard = (line: string) => line.slice(0, line.indexOf(" && "));

  test("both install Bun with npm only when it is missing", () => {
    expect(guarded).toHaveLength(2);
    for (const line of guarded) expect(guard(line)).toBe("(command -v bun >/dev/null || npm install -g bun)");
  });

  test("with Bun installed npm is never run; without it, it is", async () => {
    const withBun = stubs({ bun: "", npm: "" });
    const noBun = stubs({ npm: "" });
    for (const line of guarded) {
      expect((await bash(["-c", guard(line)], withBun.dir)).code).toBe(0);
      expect(existsSync(withBun.calls)).toBe(false);
      expect((await bash(["-c", guard(line)], noBun.dir)).code).toBe(0);
    }
    expect(readFileSync(noBun.calls, "utf8")).toBe("npm install -g bun\n".repeat(2));
  });

  test("the test command runs .ci/deps first", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.test).toStartWith("bash .ci/deps && bun test ");
  });
});

describe(".ci/deps", () => {
  // Commands named by path (sshd) are looked up as files, whatever PATH says.
  const onPath = needs().filter(([cmd]) => !cmd.startsWith("/"));

  test("a user who cannot install (not root, no sudo): one line naming exactly the missing packages, the apt-get line, exit 1", async () => {
    const [gone1, gone2] = [onPath[0]!, onPath.at(-1)!];
    const present = Object.fromEntries(onPath.filter((p) => p !== gone1 && p !== gone2).map(([cmd]) => [cmd, ""]));
    const machine = stubs({ ...present, id: "1000", "apt-get": "" });
    const r = await bash([DEPS], machine.dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const absent = needs().filter(([cmd]) => cmd.startsWith("/") && !existsSync(cmd)).map(([, pkg]) => pkg);
    const missing = [gone1[1], ...absent, gone2[1]].join(" ");
    expect(r.stderr).toBe(
      `the tests need these packages, which are missing: ${missing}\n` +
        `install them (Debian/Ubuntu): sudo apt-get install -y ${missing}   — then run the tests again\n`,
    );
    // Only asked who it is: nothing was installed, nothing was tried.
    expect(readFileSync(machine.calls, "utf8").split("\n").filter(Boolean).every((l) => l.startsWith("id "))).toBe(true);
  });

  test("everything present: silent, exit 0, no apt-get", async () => {
    const machine = stubs({ ...Object.fromEntries(onPath.map(([cmd]) => [cmd, ""])), id: "1000", "apt-get": "" });
    expect(await bash([DEPS], machine.dir)).toEqual({ stdout: "", stderr: "", code: 0 });
    expect(existsSync(machine.calls) ? readFileSync(machine.calls, "utf8") : "").not.toContain("apt-get");
  });
});

describe("on a shared machine", () => {
  test("no test, bench or CI step looks for processes host-wide (pgrep, pkill, killall see other users' too)", () => {
    const files = ["test", "bench", ".ci"].flatMap((d) => readdirSync(join(ROOT, d), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)));
    expect(files.length).toBeGreaterThan(100);
    const here = import.meta.path;
    // A call, not a word in a comment: the command at the start of a shell word or a spawn's argv.
    const call = /(?:^|[\s;|&(`"'[])(pgrep|pkill|killall)(?=[\s"',])/m;
    const calls = files.filter((f) => f !== here && !/\/(notes|fixtures)\//.test(f)).filter((f) => readFileSync(f, "utf8").split("\n").some((l) => !/^\s*(\/\/|#|\*)/.test(l) && call.test(l)));
    expect(calls.map((f) => relative(ROOT, f))).toEqual([]);
  });
});
