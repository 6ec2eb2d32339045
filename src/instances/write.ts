import { existsSync, lstatSync } from "node:fs";
import { lstat, mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CliError } from "../cli/errors.ts";
import { displayPath } from "../cli/display-path.ts";
import { formatPath } from "../config/positions.ts";
import type { Config, InstanceConfig, Problem } from "../config/types.ts";
import { stageFile } from "../fs/atomic-write.ts";
import { removeStaleTemps } from "../fs/temp-files.ts";
import { ensurePrivateDir, PRIVATE_FILE_MODE } from "../fs/private.ts";
import { readSmallText } from "../fs/read-small.ts";
import { fsWhy, writeError } from "../fs/why.ts";
import { makeAuthDirPrivate } from "./auth-dir.ts";
import { keepPreGw, PRE_GW } from "./pre-gw.ts";
import { instanceYaml } from "./yaml.ts";

export const instanceYamlPath = (config: Config, inst: InstanceConfig) => join(config.dir, "instances", `${inst.name}.yaml`);

/** The instances gw starts (not those given by url), each with its instances/NAME.yaml, in the config's order. */
export const managedInstanceFiles = (config: Config): { inst: InstanceConfig; path: string }[] =>
  config.instances.filter((i) => i.managed).map((inst) => ({ inst, path: instanceYamlPath(config, inst) }));

/**
 * Write instances/NAME.yaml for every instance gw starts; returns the paths written. All or
 * nothing (prepareInstanceFiles), and unchanged files are not touched (no needless reloads in
 * CLIProxyAPI's watcher). `warn` gets a warning for each auth dir left open to other users (auth-dir.ts).
 */
export async function writeInstanceFiles(config: Config, warn: (p: Problem) => void = () => {}): Promise<string[]> {
  const files = await prepareInstanceFiles(config);
  const written = await files.commit();
  for (const p of files.notes) warn(p);
  return written;
}

/**
 * `swap` (a running gateway taking `config`) and the instance files of `config`: both or neither.
 * The files are made ready first and renamed in only once `swap` has returned; a file that cannot
 * be written, or a `swap` that throws (a config that would open the gateway), changes nothing.
 * Returns the swap's notes after those about auth dirs left open.
 */
export async function swapWithInstanceFiles(config: Config, swap: () => Problem[]): Promise<Problem[]> {
  const files = await prepareInstanceFiles(config);
  let out: Problem[];
  try {
    out = swap();
  } catch (err) {
    await files.drop();
    throw err;
  }
  await files.commit();
  return [...files.notes, ...out];
}

/**
 * Tighten the auth dirs of `config`'s instances (auth-dir.ts); a warning at the instance for each
 * left open to other users. Tightening again changes nothing: what it says then is what stays open
 * — so gw gen tells it when a running gw wrote the files (commands/_instance-files.ts).
 */
export function makeAuthDirsPrivate(config: Config): Problem[] {
  const insts = managedInstanceFiles(config).map((f) => f.inst);
  const notes: Problem[] = [];
  for (const inst of insts) {
    if (insts.find((i) => i.authDir === inst.authDir) !== inst) continue; // a dir shared: once, at its first instance
    const open = makeAuthDirPrivate(inst.authDir);
    if (open) notes.push({ severity: "warning", file: config.file, line: 0, col: 0, path: formatPath(["instances", inst.name]), message: open });
  }
  return notes;
}

/** Instance files written beside their places, to be renamed in (commit) or dropped. */
interface PreparedFiles {
  /** Rename them in, all or none; the paths written. Fails only where a rename does (a file gw may not replace). */
  commit(): Promise<string[]>;
  /** Remove them: nothing was changed. */
  drop(): Promise<void>;
  /** Auth dirs left open to other users (auth-dir.ts): a warning each, at the instance. */
  readonly notes: Problem[];
}

/** An instance file as it was before a commit that could not finish: its old text, or none. */
async function putBack(path: string, was: string | undefined): Promise<void> {
  if (was === undefined) await rm(path, { force: true });
  else await rename(await stageFile(path, was, PRIVATE_FILE_MODE), path);
}

/**
 * Every auth dir made and every changed file written beside its place, before any is renamed in:
 * an auth dir that cannot be made or a full disk leaves every file as it was, and a reload can
 * still be refused elsewhere (the gateway) before anything changes.
 */
async function prepareInstanceFiles(config: Config): Promise<PreparedFiles> {
  const rendered = managedInstanceFiles(config).map((f) => ({ ...f, text: instanceYaml(config, f.inst) }));
  for (const { inst } of rendered) {
    await mkdir(inst.authDir, { recursive: true, mode: 0o700 }).catch((err: unknown) => {
      throw fileError(err, `cannot make the auth dir of instance '${inst.name}'`, inst.authDir, `fix [instances.${inst.name}] auth_dir, or move what is in the way`);
    });
  }
  // Made private only when made here: one that was already there is tightened now (auth-dir.ts).
  const notes = makeAuthDirsPrivate(config);
  // What a gw, gen or login killed between stage and rename left (temp-files.ts), an old instance's too.
  removeStaleTemps(join(config.dir, "instances"));
  const changed: { inst: InstanceConfig; path: string; text: string; was: string | undefined }[] = [];
  for (const r of rendered) {
    const was = readSmallText(r.path);
    if (was !== r.text) changed.push({ ...r, was }); // a FIFO planted there is replaced, not waited on
  }
  const staged: { path: string; tmp: string; was: string | undefined }[] = [];
  const drop = async () => {
    await Promise.all(staged.map((s) => rm(s.tmp, { force: true })));
  };
  try {
    for (const { inst, path, text, was } of changed) {
      ensurePrivateDir(dirname(path));
      // A file gw did not write (the old setup's) is kept before it is first replaced.
      if (await keepPreGw(path, was)) notes.push(keptNote(config, inst, path));
      // The one thing a rename within a directory trips on, found before any file is renamed in.
      if ((await lstat(path).catch(() => undefined))?.isDirectory()) throw Object.assign(new Error(`EISDIR: ${path}`), { code: "EISDIR" });
      staged.push({ path, tmp: await stageFile(path, text, PRIVATE_FILE_MODE), was });
    }
  } catch (err) {
    await drop();
    const path = changed[staged.length]?.path ?? config.dir;
    throw writeError(err, path, inTheWay(err, path, config.dir) ?? "let this user write in the instances directory");
  }
  return {
    async commit() {
      // A rename can still fail on a file gw may not replace (immutable, a mount point): the files
      // renamed in before it get their old text back and the rest are dropped — all or nothing.
      let renamed = 0;
      try {
        for (const { path, tmp } of staged) {
          await rename(tmp, path);
          renamed++;
        }
      } catch (err) {
        await Promise.all(staged.slice(renamed).map((s) => rm(s.tmp, { force: true })));
        for (const s of staged.slice(0, renamed)) await putBack(s.path, s.was).catch(() => {});
        throw writeError(err, staged[renamed]!.path, "make it a file this user may replace (not immutable, not a mount point), then run this again");
      }
      return staged.map((s) => s.path);
    },
    drop,
    notes,
  };
}

/** The one line that says an instance file gw did not write was kept. */
function keptNote(config: Config, inst: InstanceConfig, path: string): Problem {
  const shown = displayPath(path, config.dir);
  const message = `${shown} was not written by gw: its text is kept in ${shown}${PRE_GW} (gw migrate reads the old auth-dir there)`;
  return { severity: "warning", file: config.file, line: 0, col: 0, path: formatPath(["instances", inst.name]), message };
}

/**
 * The fix when something stands where an instance file or its directory belongs (`instances` a
 * file, `instances/a.yaml` a directory): rights would not help, moving it away does. Undefined otherwise.
 */
function inTheWay(err: unknown, path: string, top: string): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code !== "EISDIR" && code !== "ENOTDIR" && code !== "EEXIST") return undefined;
  if (isDirectory(path)) return `${displayPath(path)} is a directory: move it away, gw writes this instance's YAML there`;
  // The nearest folder on the way that is something else (a file named like the instances directory).
  for (let d = dirname(path); d.length > top.length; d = dirname(d)) {
    if (existsSync(d) && !isDirectory(d)) return `${displayPath(d)} is a file where gw keeps a directory: move it away, then run this again`;
  }
  return undefined;
}

/** Whether `p` is a directory; false for anything else, or when a file on its way makes it no path at all (ENOTDIR). */
function isDirectory(p: string): boolean {
  try {
    return lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** A file-system error as one line that says what and where; anything else as it came. */
function fileError(err: unknown, what: string, path: string | undefined, hint: string): unknown {
  if (err instanceof CliError) return err;
  const why = fsWhy(err);
  if (why === undefined) return err;
  return new CliError(`${what}: ${why}${path ? ` (${displayPath(path)})` : ""}`, 1, hint);
}
