// gw install / --uninstall on real directories: from the source tree (a wrapper script) and
// from a compiled binary (a copy), then cld through the installed link; and the compiled binary
// before it is installed, whose hints must type it as its user can run it.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CldSandbox, cldConfig, closedPort, fakeGateway, MAIN, removeSandboxes } from "../helpers/cld.ts";
import { freePorts } from "../helpers/ports.ts";
import { startInGroup } from "../helpers/supervisor.ts";

setDefaultTimeout(120_000); // the compiled-binary case builds gw once
const gateway = fakeGateway();
afterAll(() => {
  gateway.stop(true);
  removeSandboxes();
});

async function run(cmd: readonly string[], box: CldSandbox, env: Record<string, string> = {}, cwd = box.dir) {
  const p = Bun.spawn([...cmd], { cwd, env: box.env(env), stdout: "pipe", stderr: "pipe", stdin: "ignore", detached: true });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, code, pid: p.pid };
}

/** Every file and directory under `dir`, for before/after comparisons. */
function tree(dir: string): string[] {
  return [...new Bun.Glob("**").scanSync({ cwd: dir, onlyFiles: false, dot: true, followSymlinks: false })].sort();
}

describe("gw install from the source tree", () => {
  const box = new CldSandbox();
  const prefix = join(box.dir, "tools");
  const gw = [process.execPath, MAIN];
  const toml = box.writeConfig("gw.toml", cldConfig(gateway.port!));
  // Everything under the prefix: completions and the install record in its share/ (not a bin dir).
  const data = () => join(prefix, "share");

  beforeAll(() => {
    // Things that were there before and must survive --uninstall.
    mkdirSync(prefix);
    writeFileSync(join(prefix, "other-tool"), "keep me");
    mkdirSync(join(box.home, ".config"));
  });

  test("installs gw, the cld link and completions for bash, zsh and fish under the prefix, and says how to fix PATH", async () => {
    // Bun itself caches transpiled source under ~/.bun when it runs gw from the tree: not gw's.
    const homeTree = () => tree(box.home).filter((f) => !f.startsWith(".bun"));
    const homeBefore = homeTree();
    const r = await run([...gw, "install", "--prefix", prefix], box);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(lstatSync(join(prefix, "cld")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(prefix, "cld"))).toBe("gw");
    expect(statSync(join(prefix, "gw")).mode & 0o111).toBeTruthy();
    for (const f of ["bash-completion/completions/gw", "bash-completion/completions/cld", "zsh/site-functions/_gw"]) {
      expect(readFileSync(join(data(), f), "utf8")).toContain(`'${prefix}/gw' _complete --`);
    }
    for (const f of ["gw.fish", "cld.fish"]) expect(existsSync(join(data(), "fish/vendor_completions.d", f))).toBe(true);
    expect(existsSync(join(data(), "gw/installed.json"))).toBe(true);
    expect(homeTree()).toEqual(homeBefore); // nothing outside the prefix
    expect(r.stdout).toContain(`add ${prefix} to PATH: export PATH="${prefix}:$PATH"`);
    expect(r.stdout).toContain(`completions are in ${data()}, which bash-completion and fish do not search: export XDG_DATA_DIRS="${data()}:\${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"`);
  });

  test("TMP/cld cp FILTER -p hi launches claude through the link", async () => {
    const r = await run([join(prefix, "cld"), "cp", "kimi", "-p", "hi"], box, { CLD_TOML: toml });
    expect(r.stdout).toBe("fake claude ran\n");
    expect(box.lastCall()!.argv).toEqual(["-p", "hi"]);
    expect(box.lastCall()!.env).toMatchObject({ ANTHROPIC_MODEL: "kimi-k2", ANTHROPIC_BASE_URL: `http://127.0.0.1:${gateway.port}` });
  });

  test("typed in a cloned repo, gw and cld run none of its code and read none of its .env (its bunfig.toml preloads, its $GW_URL)", async () => {
    const repo = join(box.dir, "cloned-repo");
    mkdirSync(repo);
    writeFileSync(join(repo, "bunfig.toml"), 'preload = ["./pwn.ts"]\n');
    writeFileSync(join(repo, "pwn.ts"), 'require("node:fs").writeFileSync(require("node:path").join(import.meta.dir, "PWNED"), String(process.env.GW_API_KEY));\n');
    writeFileSync(join(repo, ".env"), "GW_URL=http://attacker.invalid:8145\n");
    const status = await run([join(prefix, "gw"), "status"], box, { GW_API_KEY: "the-users-key" }, repo);
    expect(status.stdout + status.stderr).not.toContain("attacker.invalid");
    const cld = await run([join(prefix, "cld"), "cp", "kimi", "-p", "hi"], box, { CLD_TOML: toml, GW_API_KEY: "the-users-key" }, repo);
    expect(cld.stdout).toBe("fake claude ran\n");
    expect(box.lastCall()!.env.ANTHROPIC_BASE_URL).toBe(`http://127.0.0.1:${gateway.port}`);
    expect(existsSync(join(repo, "PWNED"))).toBe(false);
  });

  test("installing again changes nothing and reports no PATH hint once the directory is on PATH", async () => {
    const before = tree(box.home).concat(tree(prefix));
    const manifest = readFileSync(join(data(), "gw/installed.json"), "utf8");
    const r = await run([...gw, "install", "--prefix", prefix], box, { PATH: `${box.bin}:${prefix}`, XDG_DATA_DIRS: data() });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("PATH");
    expect(r.stdout).not.toContain("XDG_DATA_DIRS");
    expect(tree(box.home).concat(tree(prefix))).toEqual(before);
    expect(readFileSync(join(data(), "gw/installed.json"), "utf8")).toBe(manifest);
  });

  test("the old setup's cld, a zsh function deploy_cld.sh put in fpath, runs before any cld on PATH: named with the fix", async () => {
    const zsh = Bun.which("zsh")!;
    const env = { PATH: `${box.bin}:${prefix}:/usr/bin:/bin`, XDG_DATA_DIRS: data(), SHELL: zsh };
    const quiet = await run([...gw, "install", "--prefix", prefix], box, env);
    expect(quiet.stdout).not.toContain("cld function");
    const functions = join(box.home, ".zfunc");
    mkdirSync(functions, { recursive: true });
    writeFileSync(join(functions, "cld"), "echo the old launcher\n");
    writeFileSync(join(box.home, ".zshrc"), 'echo "a banner of the user\'s"\nfpath=(~/.zfunc $fpath)\nautoload -Uz cld\n');
    try {
      const r = await run([...gw, "install", "--prefix", prefix], box, env);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`zsh runs its own cld function (${join(functions, "cld")}, autoloaded), not the cld installed here: remove that file, then run unfunction cld in open shells`);
      // Defined in the startup file itself: no file to name.
      writeFileSync(join(box.home, ".zshrc"), "cld() { echo old; }\n");
      expect((await run([...gw, "install", "--prefix", prefix], box, env)).stdout).toContain("zsh runs its own cld function (defined in your zsh startup files), not the cld installed here: remove it");
    } finally {
      rmSync(join(box.home, ".zshrc"));
      rmSync(functions, { recursive: true });
    }
  });

  test("an older gw or cld earlier on PATH, which would still be the one that runs, is named with the fix", async () => {
    const old = join(box.home, "old-bin");
    mkdirSync(old, { recursive: true });
    for (const name of ["gw", "cld"]) {
      writeFileSync(join(old, name), "#!/bin/sh\necho old\n");
      chmodSync(join(old, name), 0o755);
    }
    const r = await run([...gw, "install", "--prefix", prefix], box, { PATH: `${old}:${box.bin}:${prefix}`, XDG_DATA_DIRS: data() });
    expect(r.code).toBe(0);
    for (const name of ["gw", "cld"]) expect(r.stdout).toContain(`${join(old, name)} comes first on PATH and hides the ${name} installed here: remove it, or put ${prefix} before ${old} in PATH`);
    // After the directory on PATH, it hides nothing.
    const after = await run([...gw, "install", "--prefix", prefix], box, { PATH: `${box.bin}:${prefix}:${old}`, XDG_DATA_DIRS: data() });
    expect(after.stdout).not.toContain("comes first on PATH");
  });

  test("bash completion offers route names for cld cp and gw and instance names for gw logs", async () => {
    const script = `source '${data()}/bash-completion/completions/cld'
c() { COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _gw_complete; echo "\${COMPREPLY[*]}"; }
c cld cp ""; c cld "" ; c gw logs -c '${toml}' ""; c gw rel`;
    const r = await run(["/bin/bash", "-c", script], box, { CLD_TOML: toml });
    expect(r.stdout).toBe("opus4.6 g3p g3f g3f.auto kimi-k2\ncp ag official\ngw a\nreload\n");
  });

  test("zsh completion hands the words to gw and offers its answer", async () => {
    const script = `compadd() { [[ $1 == -- ]] && shift; print -r -- "$*" }
_files() { print FILES }
c() { words=("$@"); CURRENT=$#words; source '${data()}/zsh/site-functions/_gw' }
c cld cp ""; c gw cld ""; c cld -c ""`;
    const r = await run([Bun.which("zsh") ?? "zsh", "-f", "-c", script], box, { CLD_TOML: toml });
    expect(r.stdout).toBe("opus4.6 g3p g3f g3f.auto kimi-k2\ncp ag official\nFILES\n");
  });

  test("fish completion offers route names for cld cp", async () => {
    const r = await run([Bun.which("fish") ?? "fish", "-c", `complete -C 'cld cp '; complete -C 'gw cld o'`], box, { CLD_TOML: toml, PATH: `${box.bin}:${prefix}`, XDG_DATA_DIRS: data() });
    expect(r.stdout.split("\n").filter(Boolean).sort()).toEqual(["g3f", "g3f.auto", "g3p", "kimi-k2", "official", "opus4.6"]);
  });

  test("--uninstall removes exactly what was installed", async () => {
    const installed = JSON.parse(readFileSync(join(data(), "gw/installed.json"), "utf8")) as { files: string[]; dirs: string[] };
    expect(installed.dirs).not.toContain(prefix); // it existed before
    const elsewhere = await run([...gw, "install", "--uninstall"], box); // the record is under the prefix
    expect(elsewhere.stdout).toBe(`nothing to remove (no gw install record at ${join(box.home, ".local/share/gw/installed.json")}; installed with --prefix DIR? pass it again)\n`);
    const r = await run([...gw, "install", "--uninstall", "--prefix", prefix], box);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`removed ${prefix}/cld`);
    expect(tree(prefix)).toEqual(["other-tool"]); // share/ and everything in it was gw's
    for (const f of [...installed.files, join(data(), "gw/installed.json"), join(data(), "gw")]) expect(existsSync(f)).toBe(false);
    expect(existsSync(join(box.home, ".config"))).toBe(true);
    const again = await run([...gw, "install", "--uninstall", "--prefix", prefix], box);
    expect(again.stdout).toContain("nothing to remove");
  });

  test("without a prefix: ~/.local/bin and the user's XDG directories; a bin prefix shares its parent's share/", async () => {
    const own = new CldSandbox();
    const r = await run([...gw, "install"], own);
    expect(r.code).toBe(0);
    const local = join(own.home, ".local");
    for (const f of ["bin/gw", "bin/cld", "share/bash-completion/completions/gw", "share/zsh/site-functions/_gw", "share/gw/installed.json"]) expect(existsSync(join(local, f))).toBe(true);
    expect(existsSync(join(own.home, ".config/fish/completions/gw.fish"))).toBe(true);
    expect(r.stdout).not.toContain("XDG_DATA_DIRS");
    // Naming the default place as a prefix is the default install: no hint that shells miss it.
    const named = await run([...gw, "install", "--prefix", join(local, "bin")], own);
    expect(named.code).toBe(0);
    expect(named.stdout).not.toContain("XDG_DATA_DIRS");
    expect(existsSync(join(own.home, ".config/fish/completions/gw.fish"))).toBe(true);
    expect(existsSync(join(local, "bin/share"))).toBe(false);
    const usr = join(own.dir, "usr");
    const b = await run([...gw, "install", "--prefix", join(usr, "bin")], own, { XDG_DATA_DIRS: join(usr, "share") });
    expect(b.code).toBe(0);
    expect(tree(usr).filter((f) => !f.endsWith("/") && f.split("/").length > 1)).toEqual(expect.arrayContaining(["bin/gw", "share/gw/installed.json", "share/fish/vendor_completions.d/gw.fish", "share/bash-completion/completions/cld"]));
    expect(b.stdout).not.toContain("XDG_DATA_DIRS");
  });

  test("a cld that gw did not install is never replaced", async () => {
    writeFileSync(join(prefix, "cld"), "#!/bin/sh\necho old launcher\n");
    const r = await run([...gw, "install", "--prefix", prefix], box);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${prefix}/cld exists and was not installed by gw`);
    expect(readFileSync(join(prefix, "cld"), "utf8")).toContain("old launcher");
    expect(existsSync(join(prefix, "gw"))).toBe(false);
  });

  test("nor is a gw that gw did not install; one it wrote (its wrapper, its binary) is replaced", async () => {
    const other = join(box.dir, "other-prefix");
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, "gw"), "#!/bin/sh\necho some other gw\n");
    const r = await run([...gw, "install", "--prefix", other], box);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${other}/gw exists and was not installed by gw`);
    expect(readFileSync(join(other, "gw"), "utf8")).toContain("some other gw");
    // gw's own wrapper without a manifest (put back by hand after an uninstall): an upgrade, not someone else's file.
    rmSync(join(other, "gw"));
    expect((await run([...gw, "install", "--prefix", other], box)).code).toBe(0);
    const wrapper = readFileSync(join(other, "gw"));
    expect((await run([...gw, "install", "--uninstall", "--prefix", other], box)).code).toBe(0);
    writeFileSync(join(other, "gw"), wrapper, { mode: 0o755 });
    expect((await run([...gw, "install", "--prefix", other], box)).code).toBe(0);
    expect(lstatSync(join(other, "cld")).isSymbolicLink()).toBe(true);
    // Replaced by the user since: --uninstall takes what is still gw's, and leaves theirs.
    writeFileSync(join(other, "gw"), "#!/bin/sh\necho mine now\n");
    const removed = await run([...gw, "install", "--uninstall", "--prefix", other], box);
    expect(removed.code).toBe(0);
    expect(readFileSync(join(other, "gw"), "utf8")).toContain("mine now");
    expect(existsSync(join(other, "cld"))).toBe(false);
  });
});

describe("gw install from a compiled binary", () => {
  const box = new CldSandbox({ agents: ["codex"] });
  // saved where a user might, under a name with a space: hints must keep it one shell word
  const built = join(box.dir, "my build", "gw");
  const prefix = join(box.dir, "bin2");

  beforeAll(async () => {
    const p = Bun.spawn([process.execPath, "build", MAIN, "--compile", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig", "--outfile", built], { stdout: "ignore", stderr: "inherit" });
    expect(await p.exited).toBe(0);
  });

  // from box.dir the binary is 'my build/gw'; from a folder beside it, ../my build/gw: shown absolute
  const gw = `'${built}'`;
  /** A folder of gw init with the keys filled in, where the user then works. */
  async function initialised(name: string): Promise<string> {
    expect((await run([built, "init", name], box)).code).toBe(0);
    writeFileSync(join(box.dir, name, ".env"), "RELAY_KEY=sk-real-1\nOPENAI_RELAY_KEY=sk-real-2\n");
    return join(box.dir, name);
  }

  test("run from where it was saved, before gw install: help, gw init's next steps and Claude Code's resume hint type that path, and gw install is named", async () => {
    // PATH holds no gw
    const help = await run([built, "--help"], box);
    expect(help.stdout).toContain("USAGE 'my build/gw' up|down|");
    expect(help.stdout).toContain("Use 'my build/gw' <command> --help");
    expect((await run([built, "login"], box)).stderr).toContain("usage: 'my build/gw' login [OPTIONS] <NAME> [PROVIDER]  ('my build/gw' login --help says what each is)");
    expect((await run([built, "stauts"], box)).stderr).toContain("('my build/gw' help COMMAND for its flags)");
    const cldHelp = (await run([built, "cld", "--help"], box)).stdout;
    expect(cldHelp).toContain("usage: 'my build/gw' cld [cp|ag|official] [FILTER]");
    expect(cldHelp).toContain("'my build/gw' cld --resume ID (Claude Code's exit hint");
    expect(cldHelp.replaceAll("'my build/gw' cld", "").replaceAll("'my build/gw'", "")).not.toMatch(/\b(gw|cld) (cld|cp|run|--resume)/); // no command this user does not have
    const init = await run([built, "init", "first"], box);
    expect(init.code).toBe(0);
    expect(init.stdout).toContain("then: 'my build/gw' check -c first/providers.toml (every problem, with its line), 'my build/gw' up -c first/providers.toml\n");
    expect(init.stdout).toContain("and: 'my build/gw' install   # puts gw and cld on your PATH");
    const toml = box.writeConfig("gw.toml", cldConfig(gateway.port!));
    // Claude Code's exit hint names only a plain word ("cld"), else "claude --resume ID", which leaves
    // the gateway: gw stays the parent and follows it with the command this user has
    const id = "5e55a0e0-1111-4222-8333-944445555666";
    const launched = await run([built, "cld", "cp", "g3f"], box, { CLD_TOML: toml, FAKE_CLAUDE_SESSION: id });
    expect(launched.code).toBe(0);
    expect(box.lastCall()!.env.CLAUDE_CODE_RESUME_HINT_COMMAND).toBe("");
    expect(launched.stderr.split("\n").at(-2)).toBe(`cld: resume it through the gateway with: 'my build/gw' cld --resume ${id}`);
    const ag = await run([built, "cld", "ag"], box, { ANTI_API_TOKEN: "tok", ANTI_API_BASE: `http://127.0.0.1:${gateway.port}`, FAKE_CLAUDE_SESSION: id });
    expect(ag.stderr.split("\n").at(-2)).toBe(`cld: resume it through Antigravity with: 'my build/gw' cld --resume ${id}`);
  });

  test("before gw install, the first refusals type that path: nothing running yet, a providers.toml cld does not know, no CLIProxyAPI, a gateway not up", async () => {
    const dir = await initialised("refusals");
    expect((await run([built, "status"], box, {}, dir)).stderr).toContain(`start it with: ${gw} up -d\n`);
    expect((await run([built, "logs"], box, {}, dir)).stderr).toContain(`start it with: ${gw} up -d\n`);
    expect((await run([built, "cld", "cp", "g3f", "-p", "hi"], box, {}, dir)).stderr).toContain(`name it if you trust it: ${gw} cld -c providers.toml …  (or run ${gw} cld once in a terminal to confirm it)`);
    const check = await run([built, "check"], box, {}, dir);
    expect(check.stderr).toContain(`(log in: ${gw} login official antigravity)`);
    expect(check.stderr).toContain(`get it with: ${gw} cliproxy install — `);
    const noBinary = await run([built, "up", "--port", "0"], box, { PATH: `${box.bin}:/usr/bin:/bin` }, dir);
    expect(noBinary.stderr).toContain(`get it with: ${gw} cliproxy install — `);
    // said as each instance fails, then once at the end for all (no third "the lines above" line)
    expect(noBinary.stderr).toEndWith(`fix that and run ${gw} up again\n`);
    expect(noBinary.stderr).toContain(`\ngw: no instance can serve, so gw stopped: CLIProxyAPI binary for instances 'official', 'relay' not found (none beside the config, none installed by gw, no cli-proxy-api or cliproxy on PATH) — get it with: ${gw} cliproxy install — `);
    expect(noBinary.stderr).not.toContain("the lines above");
    expect(readFileSync(join(dir, "logs/gw.log"), "utf8")).toMatch(/ERROR no instance can serve, so gw stopped: CLIProxyAPI binary for instances 'official', 'relay' not found/); // and gw.log says it once
    const down = box.writeConfig("down.toml", cldConfig(closedPort()));
    expect((await run([built, "cld", "cp", "g3f", "-p", "hi"], box, { CLD_TOML: down })).stderr).toContain(`start it with: 'my build/gw' up -d -c ${down}`);
    // gw run: no agent named, no route named, and no terminal to ask on
    expect((await run([built, "run"], box)).stderr).toBe("gw: name the agent to run: 'my build/gw' run claude|codex|gemini|opencode|qwen …\n  'my build/gw' run --help\n");
    const toml = box.writeConfig("gw.toml", cldConfig(gateway.port!));
    expect((await run([built, "run", "codex", "exec", "hi"], box, { CLD_TOML: toml })).stderr).toContain("name the route: 'my build/gw' run codex FILTER … (routes: ");
  });

  // Hints written with the README's names ("gw check", "cld cp") are typed where they are printed:
  // one place for each kind of output (refusals, config problems, a command's report, cld's notes).
  test("before gw install, refusals and their fixes type that path, whoever wrote them", async () => {
    expect((await run([built, "up", "--json"], box)).stderr).toBe("gw: --json goes with -d\n  'my build/gw' up -d --json prints one JSON document once gw serves\n");
    expect((await run([built, "service", "frob"], box)).stderr).toBe(`gw: unknown action "frob" for 'my build/gw' service\n  use: 'my build/gw' service install [--write]\n`);
  });

  test("before gw install, config problems type that path", async () => {
    const oauth = box.writeConfig("oauth.toml", `[global]\nmain_port = 18145\n[instances.a]\nport = 18146\nproviders = [{ type = "antigravity", base_url = "http://x" }]\n[routing]\n"m" = [{ instance = "a", provider = "antigravity", model = "x" }]\n`);
    expect((await run([built, "check", "-c", oauth], box)).stderr).toContain("(log in with: 'my build/gw' login <instance> antigravity)");
    // what the problem quotes stays as the file has it: a file and a route named like commands
    const named = box.writeConfig("gw up.toml", `[global]\nmain_port = 18145\n[routing]\n"cld cp" = [{ instance = "zz", provider = "x", model = "y" }]\n`);
    const problems = (await run([built, "check", "-c", named], box)).stderr;
    expect(problems).toContain('gw up.toml:4:1  routing."cld cp"  error: route name "cld cp" may only use');
    expect(problems).not.toContain("'my build/gw' up.toml");
  });

  test("before gw install, a command's report types that path; the file it writes stays as written", async () => {
    const toml = box.writeConfig("gw.toml", cldConfig(gateway.port!));
    const unit = await run([built, "service", "install", "-c", toml], box, { PATH: `${box.bin}:/usr/bin:/bin` }); // it asks id(1) who installs
    expect(unit.stderr).toContain("# 'my build/gw' service install --write puts this in ");
    expect(unit.stdout).not.toContain("'my build/gw' service"); // the unit, read later (when gw may well be installed)
  });

  test("before gw install, cld's own notes type that path", async () => {
    const broken = box.writeConfig("broken.toml", `[global]\nbogus = 1\n[routing]\n"m" = [{ instance = "zz", provider = "x", model = "y" }]\n`);
    expect((await run([built, "cld", "cp", "-p", "hi"], box, { CLD_TOML: broken })).stderr).toContain("(+1 more: 'my build/gw' check); using the built-in routes");
  });

  test("before gw install, the demo's banner types that path, and so does gw up refused by the demo left running", async () => {
    const system = { PATH: `${box.bin}:/usr/bin:/bin` }; // the demo's watchdog needs sleep; no gw there either
    const demo = await run([built, "up", "-d", "--port", "0"], box, system);
    try {
      expect(demo.code).toBe(0);
      // the banner comes from the gw in the background, which types its absolute path
      expect(demo.stdout).toContain(`  ${gw} cld cp -c `);
      expect(demo.stdout).toContain(`  ${gw} install   # puts gw and cld on your PATH`);
      expect(demo.stdout).toContain(`${gw} status · ${gw} logs -f · ${gw} down`);
      expect(demo.stdout).toContain("— 'my build/gw' status · logs -f · down"); // and up -d's own line, its relative one
      expect((await run([built, "up", "-d"], box, system)).stderr).toContain(`see it with: 'my build/gw' status · stop it with: 'my build/gw' down\n`);
      // the load balancer's own errors, which a client shows its user
      const url = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(demo.stdout)![1]!;
      const unknown = (await (await fetch(`${url}/v1/models/nosuch`)).json()) as { error: { message: string } };
      expect(unknown.error.message).toEndWith(`GET /v1/models or ${gw} status lists the routes`);
      // the real config wants the demo's port
      const demoPort = /on http:\/\/127\.0\.0\.1:(\d+)/.exec(demo.stdout)![1]!;
      const busy = await run([built, "up", "--port", demoPort], box, { ...system, GW_CLIPROXY: built }, await initialised("busy"));
      expect(busy.stderr).toContain(`stop it with: ${gw} down -c ${join(box.home, ".cache/gw/demo/demo.toml")} — or run this one elsewhere: change [global] main_port (or ${gw} up --port N)`);
    } finally {
      expect((await run([built, "down"], box, system)).code).toBe(0);
    }
  });

  test("before gw install, a gw beside its config: in the background it types its path whole (it runs in that folder, its user elsewhere); its clients' errors do so always", async () => {
    const system = { PATH: `${box.bin}:/usr/bin:/bin` };
    const [main, inst] = (await freePorts(2)) as [number, number];
    const toml = join(box.dir, "my build", "providers.toml"); // beside the binary: the background gw's cwd is where it is ./gw
    writeFileSync(toml, `[global]\nhost = "127.0.0.1"\nmain_port = ${main}\n[instances.a]\nport = ${inst}\ncommand = ["./gw", "mock", "-config", "{config}"]\nproviders = [{ type = "antigravity" }]\n[routing]\n"m" = [{ instance = "a", provider = "antigravity", model = "x" }]\n`);
    const up = await run([built, "up", "-d", "-c", toml], box, system);
    try {
      expect(up.code).toBe(0);
      expect(up.stdout).toContain(`${gw} status · ${gw} logs -f · ${gw} down`); // not ./gw, which this user has not
      const unknown = (await (await fetch(`http://127.0.0.1:${main}/v1/models/nosuch`)).json()) as { error: { message: string } };
      expect(unknown.error.message).toEndWith(`GET /v1/models or ${gw} status lists the routes`);
    } finally {
      expect((await run([built, "down", "-c", toml], box, system)).code).toBe(0);
    }
    // in the foreground there, its terminal is in that folder (./gw), its clients are not
    const here = startInGroup([built, "up"], join(box.dir, "my build"), box.env(system));
    try {
      await here.waitFor("./gw status · ./gw logs -f · ./gw down");
      const answer = (await (await fetch(`http://127.0.0.1:${main}/v1/models/nosuch`)).json()) as { error: { message: string } };
      expect(answer.error.message).toEndWith(`GET /v1/models or ${gw} status lists the routes`);
    } finally {
      process.kill(-here.proc.pid, "SIGTERM");
      expect(await here.proc.exited).toBe(0);
    }
  });

  test("installed and on PATH, its hints say gw and cld", async () => {
    const bin = join(box.dir, "onpath");
    // A copy of the binary already there by hand (no manifest): gw's own, so installed over.
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "gw"), readFileSync(built), { mode: 0o755 });
    expect((await run([built, "install", "--prefix", bin], box)).code).toBe(0);
    const onPath = { PATH: `${bin}:${box.bin}` };
    const init = await run(["gw", "init", "second"], box, onPath);
    expect(init.stdout).toContain("then: gw check -c second/providers.toml");
    expect(init.stdout).not.toContain("install");
    const toml = box.writeConfig("gw.toml", cldConfig(gateway.port!));
    const launched = await run(["gw", "cld", "cp", "g3f"], box, { ...onPath, CLD_TOML: toml, FAKE_CLAUDE_SESSION: "5e55a0e0-1111-4222-8333-944445555666" });
    expect(box.lastCall()!.env.CLAUDE_CODE_RESUME_HINT_COMMAND).toBe("cld");
    expect(box.lastCall()!.pid).toBe(launched.pid); // Claude Code's own hint says cld: the terminal is handed over
    expect(launched.stderr).not.toContain("resume");
    expect((await run(["cld", "--help"], box, onPath)).stdout).toContain("usage: cld [cp|ag|official] [FILTER] [-y] [-c FILE.toml] [claude args…]\n       gw cld …  (the same)\n");
    expect((await run(["gw", "install", "--uninstall", "--prefix", bin], box, onPath)).code).toBe(0);
  });

  test("copies itself, and its cld link execs claude in the same process", async () => {
    const r = await run([built, "install", "--prefix", prefix], box);
    expect(r.code).toBe(0);
    expect(statSync(join(prefix, "gw")).size).toBe(statSync(built).size);
    const toml = box.writeConfig("gw.toml", cldConfig(gateway.port!));
    const launched = await run([join(prefix, "cld"), "cp", "g3f", "-p", "hi", "-y"], box, { CLD_TOML: toml });
    expect(launched.stdout).toBe("fake claude ran\n");
    const call = box.lastCall()!;
    expect(call.pid).toBe(launched.pid);
    expect(call.argv).toEqual(["-p", "hi", "--dangerously-skip-permissions"]);
    expect(call.env.ANTHROPIC_MODEL).toBe("g3f");
    // the link where PATH does not look: help types the gw it links to
    expect((await run([join(prefix, "cld"), "--help"], box)).stdout).toContain("usage: bin2/gw cld [cp|ag|official]");
    const again = await run([join(prefix, "gw"), "install", "--prefix", prefix], box); // the installed copy reinstalling itself
    expect(again.code).toBe(0);
    expect(statSync(join(prefix, "gw")).size).toBe(statSync(built).size);
    const un = await run([join(prefix, "gw"), "install", "--uninstall", "--prefix", prefix], box);
    expect(un.code).toBe(0);
    expect(existsSync(prefix)).toBe(false); // gw install made it, so it goes
  });

  test("a copy named cld (not gw install's link) types itself by its path, and gw as gw: its path runs cld whatever follows", async () => {
    const copy = join(box.dir, "c", "cld");
    mkdirSync(join(box.dir, "c"), { recursive: true });
    writeFileSync(copy, readFileSync(built), { mode: 0o755 });
    const help = (await run([copy, "--help"], box)).stdout;
    expect(help).toContain("usage: c/cld [cp|ag|official] [FILTER]");
    expect(help).toContain("c/cld --resume ID (Claude Code's exit hint");
    expect(help).toContain("also gw run claude");
    expect(help).not.toContain("c/cld cld");
    expect(help).not.toMatch(/c\/cld (run|up|check)/);
  });
});
