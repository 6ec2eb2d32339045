// Completion candidates are data in bash, zsh and fish (issue 12 item 4). A stand-in gw answers
// `_complete` with hostile names; each shell completes them for real — as a script and, in a
// tmux pane, interactively: TAB, then Enter runs a recording `cld`. Nothing may run, nothing
// may be globbed, and cld must receive each name exactly.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bashCompletion, fishCompletion, zshCompletion } from "../../src/install/completions.ts";
import { TmuxPane } from "../cld/tmux-pane.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(120_000); // three interactive shells on a shared 2-core machine

/** Each tries another way to make a shell act on a name: substitution, separators, globs, expansions, quotes. */
const HOSTILE = ["$(touch PWNED-1)", "`touch PWNED-2`", ";touch PWNED-3;", "(touch PWNED-4)", "|touch PWNED-5", "&& touch PWNED-6", "*", "$HOME", "a b", "{a,b}", "~", "!!", "x'y\"z\\w"];

const dir = tempDir("gw-complete-");
const bin = join(dir, "bin");
const names = join(dir, "names.txt");
const record = join(dir, "cld.argv");
mkdirSync(bin);
writeFileSync(join(bin, "gw"), `#!/bin/sh\nexec cat '${names}'\n`);
writeFileSync(join(bin, "cld"), `#!/bin/sh\nprintf '%s\\0' "$@" > '${record}.tmp' && mv '${record}.tmp' '${record}'\n`); // whole or not at all
for (const f of ["gw", "cld"]) chmodSync(join(bin, f), 0o755);
for (const f of ["decoy-1", "decoy-2"]) writeFileSync(join(dir, f), ""); // what `*` would glob to
const scripts = {
  bash: join(dir, "gw.bash"),
  zsh: join(dir, "zfunc", "_gw"),
  fish: join(dir, "cld.fish"),
};
mkdirSync(join(dir, "zfunc"));
writeFileSync(scripts.bash, bashCompletion(join(bin, "gw")));
writeFileSync(scripts.zsh, zshCompletion(join(bin, "gw")));
writeFileSync(scripts.fish, fishCompletion(join(bin, "gw"), "cld"));
mkdirSync(join(dir, "run"), { mode: 0o700 });
const env = { HOME: dir, PATH: `${bin}:/usr/bin:/bin`, TERM: "xterm", LANG: "C.UTF-8", XDG_RUNTIME_DIR: join(dir, "run") }; // fish's runtime folder, not /tmp/fish.USER

const pwned = () => readdirSync(dir).filter((n) => n.startsWith("PWNED"));
afterAll(() => expect(pwned()).toEqual([]));

async function shell(argv: string[]) {
  const p = Bun.spawn(argv, { cwd: dir, env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code };
}

describe("candidates reach each shell as data (completion run as a script)", () => {
  writeFileSync(names, `${HOSTILE.join("\n")}\n`);

  test("bash: COMPREPLY holds each name shell-quoted; a prefix filters literally", async () => {
    const r = await shell(["bash", "--norc", "--noprofile", "-c", `source '${scripts.bash}'
c() { COMP_WORDS=("$@"); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); _gw_complete; printf '%s\\n' "\${COMPREPLY[@]}"; echo --; }
c cld cp ""; c cld cp '$'; c cld cp '*'`]);
    expect(r.err).toBe("");
    const [all, dollar, star] = r.out.split("--\n");
    const quoted = (await shell(["bash", "-c", `printf '%q\\n' "$@"`, "q", ...HOSTILE])).out;
    expect(all).toBe(quoted);
    expect(dollar).toBe("\\$\\(touch\\ PWNED-1\\)\n\\$HOME\n");
    expect(star).toBe("\\*\n");
    expect(pwned()).toEqual([]);
  });

  test("zsh: compadd gets each name as one argument", async () => {
    const r = await shell(["zsh", "-f", "-c", `compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@" }
_files() { print FILES }
words=(cld cp ""); CURRENT=3; source '${scripts.zsh}'`]);
    expect(r.err).toBe("");
    expect(r.out).toBe(`${HOSTILE.join("\n")}\n`);
    expect(pwned()).toEqual([]);
  });

  test("fish: complete -C lists each name as it is (but ~, which fish would expand on insertion)", async () => {
    const r = await shell(["fish", "--no-config", "-c", `source '${scripts.fish}'; complete -C 'cld cp '`]);
    expect(r.err).toBe("");
    expect(r.out.split("\n").filter(Boolean).sort()).toEqual(HOSTILE.filter((n) => n !== "~").sort());
    expect(pwned()).toEqual([]);
  });
});

/** Start `argv` in a tmux pane, in `dir` (where a PWNED file would land), and wait for its prompt. */
async function interactive(argv: string[], extraEnv: Record<string, string> = {}): Promise<TmuxPane> {
  const pane = new TmuxPane(dir);
  await pane.start(["/bin/sh", "-c", 'cd "$0" && exec "$@"', dir, ...argv], { ...env, ...extraEnv });
  await pane.waitFor("READY>");
  return pane;
}

/**
 * For each name alone as the candidate: `cld cp ` TAB `END` Enter. cld must get exactly that name
 * (then END), or — for a name the shell cannot insert as data and so does not offer — only END.
 * The shell handles the keys in order, so nothing needs to wait between them.
 */
async function tabThenEnter(pane: TmuxPane, notOffered: readonly string[] = []): Promise<void> {
  const received: { name: string; argv: string[] | null }[] = [];
  for (const name of HOSTILE) {
    writeFileSync(names, `${name}\n`);
    rmSync(record, { force: true });
    await pane.send("-l", "cld cp ");
    await pane.send("Tab");
    await pane.send("-l", "END");
    await pane.send("Enter");
    const deadline = Date.now() + 10_000;
    while (!existsSync(record) && Date.now() < deadline) await Bun.sleep(20);
    const argv = existsSync(record) ? readFileSync(record, "utf8").split("\0").slice(0, -1) : null;
    received.push({ name, argv });
    await pane.send("C-l"); // a clean screen for the next round's check
    await pane.waitFor(/^READY>\s*$/m);
  }
  expect(received).toEqual(HOSTILE.map((name) => ({ name, argv: notOffered.includes(name) ? ["cp", "END"] : ["cp", name, "END"] })));
  expect(pwned()).toEqual([]);
}

describe("interactively: TAB inserts the name quoted, Enter passes it to cld as data", () => {
  test("bash", async () => {
    const rc = join(dir, "bashrc");
    writeFileSync(rc, `PS1='READY> '\nsource '${scripts.bash}'\n`);
    const pane = await interactive(["bash", "--noprofile", "--rcfile", rc, "-i"]);
    try {
      await tabThenEnter(pane);
    } finally {
      await pane.kill();
    }
  });

  test("zsh", async () => {
    const zdot = join(dir, "zdot");
    mkdirSync(zdot, { recursive: true });
    writeFileSync(join(zdot, ".zshrc"), `PS1='READY> '\nfpath=('${join(dir, "zfunc")}' $fpath)\nautoload -U compinit && compinit -u -D\n`);
    const pane = await interactive(["zsh", "-i"], { ZDOTDIR: zdot });
    try {
      await tabThenEnter(pane);
    } finally {
      await pane.kill();
    }
  });

  test("fish", async () => {
    const pane = await interactive(["fish", "--no-config", "-i", "-C", `function fish_prompt; echo -n 'READY> '; end; function fish_greeting; end; source '${scripts.fish}'`]);
    try {
      await tabThenEnter(pane, ["~"]);
    } finally {
      await pane.kill();
    }
  });
});
