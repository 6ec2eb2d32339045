// gw install: the running binary onto PATH, a `cld` link beside it, completions for bash,
// zsh and fish, and a manifest of exactly what was written so --uninstall can take it back.
// Every file is written to a fresh, unpredictable temp name created exclusively (a planted link
// there is refused, never written through) and renamed into place (a link at the destination is
// replaced, not followed); anything in the way ends in one line saying what and where.
import { accessSync, constants as C, copyFileSync, lstatSync, readFileSync, readlinkSync, realpathSync, rmdirSync, statSync, symlinkSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { CliError } from "../cli/errors.ts";
import { fishWord, shellQuote } from "../cli/shell-word.ts";
import { replaceFileSync, writeNewFileSync } from "../fs/atomic-write.ts";
import { removeStaleTempsOf } from "../fs/temp-files.ts";
import { fsWhy } from "../fs/why.ts";
import { SOURCE_RUN_FLAGS } from "../sys/source-run.ts";
import { bashCompletion, fishCompletion, HEADER as COMPLETION_MARK, zshCompletion } from "./completions.ts";
import { makeDirs, type Manifest, mergeManifest, missingDirs, readManifest, writeManifest } from "./manifest.ts";
import { type Env, type InstallPaths, installPaths } from "./paths.ts";
import { zshCldFunction } from "./zsh-function.ts";

/** What is running: a compiled gw, or the source tree under bun (a development install). */
type Self = { readonly kind: "binary"; readonly path: string } | { readonly kind: "source"; readonly bun: string; readonly main: string };

export function currentSelf(): Self {
  return Bun.isStandaloneExecutable ? { kind: "binary", path: process.execPath } : { kind: "source", bun: process.execPath, main: Bun.main };
}

interface InstallReport {
  readonly paths: InstallPaths;
  readonly written: readonly string[];
  /** Lines telling the user what to add to their shell setup, if anything. */
  readonly hints: readonly string[];
}

export function install(self: Self, env: Env, prefix?: string): InstallReport {
  const paths = installPaths(env, prefix);
  const files: string[] = [];
  const put = (file: string, write: (tmp: string) => void, mode?: number) =>
    inTheWay(file, () => {
      makeDirs(dirname(file));
      replaceFileSync(file, write, mode); // rename, not overwrite: a running gw binary stays intact
      files.push(file);
    });
  const itself = samePath(selfFile(self), paths.gw);
  // Before anything is written: a file of someone else's in any of gw's places ends it untouched.
  const mine = owners(paths);
  for (const [file, ours] of mine) if (!(itself && file === paths.gw)) checkFree(file, ours);
  // Then the record of all that is about to be written: an install that fails half-way (a folder
  // it cannot write) leaves --uninstall what to take back — only what is gw's, told by its content.
  inTheWay(paths.manifest, () => {
    const dirs = [paths.manifest, ...mine.keys()].flatMap((f) => missingDirs(dirname(f)));
    makeDirs(dirname(paths.manifest));
    writeManifest(paths.manifest, mergeManifest(readManifest(paths.manifest), { files: [...mine.keys()], dirs }));
  });
  if (!itself) {
    if (self.kind === "binary") put(paths.gw, (tmp) => copyFileSync(self.path, tmp, C.COPYFILE_EXCL), 0o755);
    else put(paths.gw, (tmp) => writeNewFileSync(tmp, devWrapper(self)), 0o755);
  } else {
    removeStaleTempsOf(paths.gw); // one a killed install of a copy left: gw is not written again here (temp-files.ts)
    files.push(paths.gw);
  }
  put(paths.cld, (tmp) => symlinkSync("gw", tmp)); // relative: the pair can move together
  const text = (s: string) => (tmp: string) => writeNewFileSync(tmp, s);
  for (const f of paths.bash) put(f, text(bashCompletion(paths.gw)), 0o644);
  put(paths.zsh, text(zshCompletion(paths.gw)), 0o644);
  put(paths.fish[0]!, text(fishCompletion(paths.gw, "gw")), 0o644);
  put(paths.fish[1]!, text(fishCompletion(paths.gw, "cld")), 0o644);
  const dev = self.kind === "source" ? [`${paths.gw} runs this source checkout with bun (bun run build, then install dist/gw for a standalone copy)`] : [];
  return { paths, written: files, hints: [...dev, ...shellHints(paths, env)] };
}

/** Remove what the manifest lists (the prefix's, when given); directories only if nothing else has moved in. */
export function uninstall(env: Env, prefix?: string): { removed: string[]; manifest: string } {
  const paths = installPaths(env, prefix);
  const m: Manifest = readManifest(paths.manifest);
  const removed: string[] = [];
  // A file the user put in the place of gw's since (another program, their own script or link) is theirs now.
  const mine = owners(paths);
  const replaced = (f: string) => mine.get(f)?.(f) === false;
  for (const f of [...m.files, paths.manifest]) {
    if (!existsOrLink(f) || lstatSync(f).isDirectory() || replaced(f)) continue; // a directory there now is not ours
    inTheWay(f, () => unlinkSync(f));
    removed.push(f);
  }
  for (const d of [...m.dirs].reverse()) {
    try {
      rmdirSync(d);
      removed.push(d);
    } catch {
      // not empty (someone else's files) or already gone: leave it
    }
  }
  return { removed, manifest: paths.manifest };
}

/** Run `step` for `file`; a file system error becomes one line naming the file and the fix. */
function inTheWay<T>(file: string, step: () => T): T {
  try {
    return step();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof CliError || typeof e?.code !== "string") throw err;
    const where = e.path && e.path !== file && !e.path.includes(".tmp-") ? ` (${e.path})` : "";
    throw new CliError(`cannot install ${file}: ${fsWhy(e) ?? e.message}${where}`, 1, "move what is in the way (or pass --prefix DIR) and run gw install again");
  }
}

const existsOrLink = (p: string) => {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
};

function selfFile(self: Self): string {
  return self.kind === "binary" ? self.path : self.main;
}

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/**
 * A file in one of gw's places that gw did not put there (the old zsh launcher, another program
 * called gw, another tool's completions, the user's own link) is the user's: never replaced —
 * nor, then, removed by --uninstall. Told by what is there, not by the manifest, which says only
 * that gw once wrote that path. One gw wrote without a manifest (a copy of the binary put there
 * by hand) is replaced as an upgrade.
 */
function checkFree(file: string, ours: (file: string) => boolean): void {
  if (!existsOrLink(file) || ours(file)) return;
  throw new CliError(`${file} exists and was not installed by gw`, 1, `move it away (or pass --prefix DIR) and run gw install again`);
}

/** Each file gw install writes, and how gw's own is told there. */
function owners(p: InstallPaths): Map<string, (file: string) => boolean> {
  const completion = (f: string) => isFileWith(f, COMPLETION_MARK);
  return new Map([[p.gw, (f: string) => isFileWith(f, GW_MARK)], [p.cld, isOurCld], ...[...p.bash, p.zsh, ...p.fish].map((f) => [f, completion] as const)]);
}

const isOurCld = (cld: string) => lstatSync(cld).isSymbolicLink() && readlinkSync(cld) === "gw";

/** Words every gw carries: in its wrapper (devWrapper) as written, in its binary as its code's text. */
const GW_MARK = "# gw from a source checkout (gw install run under bun)";

/** A regular file (not a link: gw writes none there) holding `mark`. */
function isFileWith(file: string, mark: string): boolean {
  const st = lstatSync(file);
  if (st.isDirectory()) return true; // said to be in the way as it is, by put
  if (!st.isFile()) return false;
  try {
    return readFileSync(file).includes(mark);
  } catch {
    return false; // unreadable: not gw's to replace
  }
}

/** From a source checkout there is no binary to copy: install a launcher for bun + main.ts. */
function devWrapper(self: Extract<Self, { kind: "source" }>): string {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const bun = [self.bun, ...SOURCE_RUN_FLAGS].map(q).join(" "); // never the bunfig.toml or .env of the folder it is typed in
  return `#!/bin/sh
${GW_MARK}; the cld link passes its name on.
case "\${0##*/}" in cld) exec ${bun} ${q(self.main)} cld "$@" ;; esac
exec ${bun} ${q(self.main)} "$@"
`;
}

/** XDG_DATA_DIRS when unset (the XDG base directory spec). */
const SYSTEM_DATA_DIRS = "/usr/local/share:/usr/share";

function shellHints(p: InstallPaths, env: Env): string[] {
  const hints: string[] = [];
  const dataDirs = (env.XDG_DATA_DIRS || SYSTEM_DATA_DIRS).split(":");
  if (p.prefixed && !dataDirs.some((d) => d && samePath(d, p.dataDir))) {
    hints.push(`completions are in ${p.dataDir}, which bash-completion and fish do not search: ${exportBefore("XDG_DATA_DIRS", p.dataDir, `\${XDG_DATA_DIRS:-${SYSTEM_DATA_DIRS}}`)}`);
  }
  const dirs = (env.PATH ?? "").split(":");
  const at = dirs.findIndex((d) => d && samePath(d, p.binDir));
  if (at === -1) {
    hints.push(`add ${p.binDir} to PATH: ${exportBefore("PATH", p.binDir, "$PATH")}  (bash/zsh rc file; fish: fish_add_path ${fishWord(p.binDir)})`);
  }
  // An older gw or cld (the old setup's launcher, say) earlier on PATH would still be the one that runs.
  for (const name of ["gw", "cld"]) {
    const first = dirs.slice(0, at === -1 ? 0 : at).find((d) => d && isExecutable(join(d, name)));
    if (first) hints.push(`${join(first, name)} comes first on PATH and hides the ${name} installed here: remove it, or put ${p.binDir} before ${first} in PATH`);
  }
  if (env.SHELL?.endsWith("zsh")) {
    hints.push(`zsh: fpath=(${shellQuote(p.zshDir)} $fpath) before compinit in ~/.zshrc, if it is not there yet`);
    const fn = zshCldFunction(env.SHELL, env);
    if (fn !== undefined) {
      const where = fn ? `${fn}, autoloaded` : "defined in your zsh startup files";
      hints.push(`zsh runs its own cld function (${where}), not the cld installed here: remove ${fn ? "that file" : "it"}, then run unfunction cld in open shells`);
    }
  }
  return hints;
}

/**
 * `export NAME=DIR:REST` for bash and zsh, REST expanded there ($PATH) and DIR not: pasted into an
 * rc file, a DIR with a space stays one word and one with `$(…)` or a backquote runs nothing.
 */
function exportBefore(name: string, dir: string, rest: string): string {
  return shellQuote(dir) === dir ? `export ${name}="${dir}:${rest}"` : `export ${name}=${shellQuote(dir)}":${rest}"`;
}

/** A file the shell would run (a program of that name in a PATH directory). */
function isExecutable(path: string): boolean {
  try {
    accessSync(path, C.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
