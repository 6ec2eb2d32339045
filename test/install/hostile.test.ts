// gw install where someone prepared the ground (issue 12 item 13): links planted where it writes,
// and files or directories in its way. It must never write through a link, and must end with
// one line (no stack trace) when it cannot go on.
import { describe, expect, test } from "bun:test";
import { chmodSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { STALE_TEMP_MS } from "../../src/fs/temp-files.ts";
import { installPaths } from "../../src/install/paths.ts";
import { runGw, tempDir } from "../helpers/tmp.ts";

function home() {
  const dir = tempDir("gw-install-");
  const h = join(dir, "home");
  const prefix = join(dir, "bin");
  mkdirSync(h);
  const victims = ["victim-1", "victim-2", "victim-3", "victim-4", "victim-5", "victim-6"].map((n) => {
    const f = join(dir, n);
    writeFileSync(f, `precious ${n}\n`);
    chmodSync(f, 0o600);
    return f;
  });
  const env = { HOME: h, PATH: "/usr/bin:/bin", XDG_DATA_HOME: undefined, XDG_CONFIG_HOME: undefined, SHELL: "/bin/bash" };
  const install = () => runGw(["install", "--prefix", prefix], { env });
  /** Where this install writes (with --prefix: completions and the record under the prefix's share/). */
  const paths = installPaths(env, prefix);
  const untouched = () => victims.every((v) => readFileSync(v, "utf8") === `precious ${v.split("/").pop()}\n` && (lstatSync(v).mode & 0o777) === 0o600);
  return { dir, h, prefix, victims, env, install, untouched, paths };
}

const noStack = (stderr: string) => !/^\s+at /m.test(stderr) && !stderr.includes("Error:");

describe("links planted where gw install writes", () => {
  test("a link at the manifest is replaced, its target untouched; one at gw or a completion is someone else's: refused, never followed", async () => {
    const t = home();
    mkdirSync(dirname(t.paths.manifest), { recursive: true });
    symlinkSync(t.victims[0]!, t.paths.manifest);
    const r = await t.install();
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(t.untouched()).toBe(true);
    expect(lstatSync(t.paths.manifest).isFile()).toBe(true);
    expect(readFileSync(join(t.prefix, "gw"), "utf8")).toStartWith("#!/bin/sh\n# gw from a source checkout");
    expect(readlinkSync(join(t.prefix, "cld"))).toBe("gw");
    // no temp file is left behind anywhere
    const all = readdirSync(t.dir, { recursive: true }) as string[];
    expect(all.filter((n) => n.includes(".tmp-"))).toEqual([]);

    for (const [i, f] of [t.paths.gw, t.paths.bash[0]!, t.paths.zsh, t.paths.fish[0]!, t.paths.fish[1]!].entries()) {
      const other = home();
      const at = f.replace(t.dir, other.dir);
      mkdirSync(dirname(at), { recursive: true });
      symlinkSync(other.victims[i]!, at);
      const refused = await other.install();
      expect(refused.code).toBe(1);
      expect(refused.stderr).toStartWith(`gw: ${at} exists and was not installed by gw\n`);
      expect(readlinkSync(at)).toBe(other.victims[i]!);
      expect(other.untouched()).toBe(true);
    }
  });

  test("links planted at every temp name the next few processes could have used catch nothing", async () => {
    // The old scheme wrote FILE.tmp-PID through whatever was there; pids are handed out in order,
    // so the attacker plants links for the next ones. Temp names are now random and exclusive.
    const t = home();
    const files = [t.paths.gw, t.paths.cld, t.paths.bash[0]!, t.paths.manifest];
    for (const f of files) mkdirSync(join(f, ".."), { recursive: true });
    const last = Number(readFileSync("/proc/sys/kernel/ns_last_pid", "utf8"));
    for (let pid = last + 1; pid <= last + 64; pid++) files.forEach((f, i) => symlinkSync(t.victims[i]!, `${f}.tmp-${pid}`));
    const r = await t.install();
    expect(r.code).toBe(0);
    expect(t.untouched()).toBe(true);
    expect(lstatSync(join(t.prefix, "gw")).isFile()).toBe(true);
  });
});

describe("what a killed gw install left", () => {
  test("its temps in the folders it writes go at the next install — cld's link, a victim's link (unlinked, never followed), — fresh ones and other files' stay (the folder is shared: a temp-like name not gw's or cld's may be another tool's)", async () => {
    const t = home();
    mkdirSync(t.prefix, { recursive: true });
    const old = (Date.now() - STALE_TEMP_MS - 60_000) / 1000;
    const at = (name: string) => join(t.prefix, name);
    symlinkSync("gw", at("cld.tmp-AAAAAAAAAAAA")); // killed between the link and its rename
    symlinkSync(t.victims[0]!, at("cld.tmp-BBBBBBBBBBBB"));
    writeFileSync(at("gw.tmp-CCCCCCCCCCCC"), "half a binary");
    writeFileSync(at("gw-old-name.tmp-DDDDDDDDDDDD"), "another tool's (or a name no install writes now): not gw's to judge in a shared folder");
    for (const n of ["cld.tmp-AAAAAAAAAAAA", "cld.tmp-BBBBBBBBBBBB", "gw.tmp-CCCCCCCCCCCC", "gw-old-name.tmp-DDDDDDDDDDDD"]) lutimesSync(at(n), old, old);
    writeFileSync(at("gw.tmp-EEEEEEEEEEEE"), "another install, writing now");
    writeFileSync(at("mine.tmp-1234"), "the user's");
    lutimesSync(at("mine.tmp-1234"), old, old);
    const r = await t.install();
    expect(r.code).toBe(0);
    expect(readdirSync(t.prefix).sort()).toEqual(["cld", "gw", "gw-old-name.tmp-DDDDDDDDDDDD", "gw.tmp-EEEEEEEEEEEE", "mine.tmp-1234"]);
    expect(t.untouched()).toBe(true);
  });
});

describe("something in the way: one line, no stack trace", () => {
  test("a directory where gw goes", async () => {
    const t = home();
    mkdirSync(join(t.prefix, "gw"), { recursive: true });
    const r = await t.install();
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`gw: cannot install ${join(t.prefix, "gw")}: a directory is in the way\n  move what is in the way (or pass --prefix DIR) and run gw install again\n`);
  });

  test("a file where a completion directory belongs", async () => {
    const t = home();
    const completionRoot = dirname(dirname(t.paths.bash[0]!)); // …/share/bash-completion
    mkdirSync(dirname(completionRoot), { recursive: true });
    writeFileSync(completionRoot, "a file, not a directory");
    const r = await t.install();
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n")[0]).toStartWith(`gw: cannot install ${t.paths.bash[0]}: `);
    expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(2);
    expect(noStack(r.stderr)).toBe(true);
    expect(readFileSync(completionRoot, "utf8")).toBe("a file, not a directory");
  });

  test("--uninstall leaves a directory that took the place of an installed file", async () => {
    const t = home();
    expect((await t.install()).code).toBe(0);
    const zsh = t.paths.zsh;
    Bun.spawnSync(["rm", zsh]);
    mkdirSync(zsh);
    const r = await runGw(["install", "--uninstall", "--prefix", t.prefix], { env: t.env });
    expect(r.code).toBe(0);
    expect(noStack(r.stderr)).toBe(true);
    expect(lstatSync(zsh).isDirectory()).toBe(true);
    expect(r.stdout).toContain(`removed ${join(t.prefix, "gw")}`);
  });
});

describe("someone else's gw, cld or completions where gw install writes: left as they are (README: install)", () => {
  test("a gw or cld the user put where gw once installed one is not replaced, though the install record lists it", async () => {
    const t = home();
    expect((await t.install()).code).toBe(0);
    for (const [file, text] of [[t.paths.gw, "#!/bin/sh\necho my own gw\n"], [t.paths.cld, "#!/bin/sh\necho my own cld\n"]] as const) {
      const saved = readFileSync(file); // gw's own, put back after
      Bun.spawnSync(["rm", file]);
      writeFileSync(file, text);
      const r = await t.install();
      expect(r.code).toBe(1);
      expect(r.stderr).toStartWith(`gw: ${file} exists and was not installed by gw\n`);
      expect(readFileSync(file, "utf8")).toBe(text);
      Bun.spawnSync(["rm", file]);
      if (file === t.paths.gw) writeFileSync(file, saved, { mode: 0o755 });
      else symlinkSync("gw", file);
    }
  });

  test("the user's gw link: not replaced, and --uninstall leaves it", async () => {
    const t = home();
    const theirs = join(t.dir, "their-gw");
    writeFileSync(theirs, "#!/bin/sh\necho theirs\n");
    mkdirSync(t.prefix, { recursive: true });
    symlinkSync(theirs, t.paths.gw);
    const r = await t.install();
    expect(r.code).toBe(1);
    expect(readlinkSync(t.paths.gw)).toBe(theirs);
    // gw installed, then the user links their own gw there: --uninstall takes the rest and leaves the link
    Bun.spawnSync(["rm", t.paths.gw]);
    expect((await t.install()).code).toBe(0);
    Bun.spawnSync(["rm", t.paths.gw]);
    symlinkSync(theirs, t.paths.gw);
    const u = await runGw(["install", "--uninstall", "--prefix", t.prefix], { env: t.env });
    expect(u.code).toBe(0);
    expect(readlinkSync(t.paths.gw)).toBe(theirs);
    expect(lstatSync(t.paths.cld, { throwIfNoEntry: false })).toBeUndefined();
  });

  test("another tool's completions for gw: not overwritten; written there after gw's, --uninstall leaves them", async () => {
    const t = home();
    const bash = t.paths.bash[0]!;
    const theirs = "complete -W 'status push' gw # another tool called gw\n";
    mkdirSync(dirname(bash), { recursive: true });
    writeFileSync(bash, theirs);
    const r = await t.install();
    expect(r.code).toBe(1);
    expect(r.stderr).toStartWith(`gw: ${bash} exists and was not installed by gw\n`);
    expect(readFileSync(bash, "utf8")).toBe(theirs);
    expect(lstatSync(t.paths.gw, { throwIfNoEntry: false })).toBeUndefined(); // refused before anything was written
    Bun.spawnSync(["rm", bash]);
    expect((await t.install()).code).toBe(0);
    writeFileSync(bash, theirs);
    const u = await runGw(["install", "--uninstall", "--prefix", t.prefix], { env: t.env });
    expect(u.code).toBe(0);
    expect(readFileSync(bash, "utf8")).toBe(theirs);
    expect(lstatSync(t.paths.zsh, { throwIfNoEntry: false })).toBeUndefined();
  });
});
