// No orphans, even when gw dies by SIGKILL: gw records its own pid and every instance's process
// group in .gw/, and the next gw (up or down) stops whatever a dead gw left behind. Identity is
// pid + start time from /proc, which — unlike the command line — survives exec and rules out a
// reused pid.
import { linkSync, readlinkSync, renameSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { INSTANCE_NAME, nameProblem } from "../config/names.ts";
import { writePrivateFile, writePrivateFileSync } from "../fs/atomic-write.ts";
import { readSmallText } from "../fs/read-small.ts";
import { type RecordFile, recordFile } from "../fs/record-file.ts";
import { tempPathFor } from "../fs/temp-files.ts";
import { realOf } from "../fs/same-path.ts";
import { fsWhy, writeProblem } from "../fs/why.ts";
import { type GwPaths, instanceCwd } from "./paths.ts";
import { groupMembers, procInfo, signalGroup } from "./proc.ts";

export interface ProcRecord {
  readonly name: string;
  readonly pid: number;
  readonly startTime: number;
  /** Instances: what it was started with (port and command line), so a successor can tell whether the config still wants it. */
  readonly launch?: string;
}

async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(readSmallText(file) ?? "") as T; // a FIFO planted there reads as no record
  } catch {
    return null;
  }
}

/** Is the recorded process still the very same one? */
export async function stillRunning(rec: Pick<ProcRecord, "pid" | "startTime">): Promise<boolean> {
  const info = await procInfo(rec.pid);
  return info !== null && info.startTime === rec.startTime;
}

export async function recordOf(name: string, pid: number, launch?: string): Promise<ProcRecord | null> {
  const info = await procInfo(pid);
  return info ? { name, pid, startTime: info.startTime, ...(launch === undefined ? {} : { launch }) } : null;
}

/**
 * This gw's pid file, to write (true once written). One that cannot be written (a full disk) is
 * no error — serving beats refusing — and run.ts writes it again once there is room: until then a
 * second `gw up` here is refused only by the port it would take (guard.ts refuseBusyMainPort),
 * after it has written instance files, and a crash's leftovers would go unnoticed.
 */
export async function gwPidFile(paths: GwPaths): Promise<RecordFile> {
  return recordFile(paths.pidFile, await pidRecord());
}

/** The pid file's text: this gw, by pid and start time. */
const pidRecord = async () => `${JSON.stringify(await recordOf("gw", process.pid))}\n`;

/**
 * Takes the pid file for this gw where none is (guard.ts claimFolder): the record is written
 * aside and linked into place, which fails when a file is there — so it appears whole or not at
 * all, and of two gws only one takes it. True when taken; false when a file is in the way (its gw
 * alive or not: the caller looks); undefined when it cannot be written (a full disk: gwPidFile's
 * rewrites carry on, as serving beats refusing).
 */
export async function createPidFile(paths: GwPaths): Promise<boolean | undefined> {
  const aside = tempPathFor(paths.pidFile); // swept as any temp if gw dies before it goes (fs/temp-files.ts)
  try {
    writePrivateFileSync(aside, await pidRecord());
    linkSync(aside, paths.pidFile);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    if (fsWhy(e) !== undefined) return undefined;
    throw e;
  } finally {
    rmSync(aside, { force: true });
  }
}

/**
 * Removes the pid file only while it still holds `stale`, the record of a gw found gone: of two
 * gws starting at once on a dead gw's file, the one that looked second deleted the file the first
 * had just created, and both served on one folder. Moved aside to be compared (no other way to
 * compare and remove in one step), and linked back when it turns out to be a new gw's.
 */
export function removeStalePidFile(paths: GwPaths, stale: string): void {
  const aside = tempPathFor(paths.pidFile);
  try {
    renameSync(paths.pidFile, aside);
  } catch {
    return; // gone already: taken and given up, or removed by the other
  }
  try {
    if (readSmallText(aside) === stale) return;
    try {
      linkSync(aside, paths.pidFile);
    } catch {} // yet another gw took the name meanwhile: its record stays
  } finally {
    rmSync(aside, { force: true });
  }
}

/** The gw recorded in the pid file, when it is still alive. */
export async function runningGw(paths: GwPaths): Promise<ProcRecord | null> {
  const rec = await readJson<ProcRecord>(paths.pidFile);
  return rec && rec.pid !== process.pid && (await stillRunning(rec)) ? rec : null;
}

/** instances.json: the instance processes of one gw, named with that gw so no other gw's get touched. */
interface ChildrenFile {
  readonly gw: ProcRecord | null;
  readonly children: readonly ProcRecord[];
}

async function writeChildren(paths: GwPaths, children: readonly ProcRecord[]): Promise<void> {
  const file: ChildrenFile = { gw: await recordOf("gw", process.pid), children };
  await writePrivateFile(paths.childrenFile, `${JSON.stringify(file)}\n`);
}

/** The instances a gw recorded in instances.json (an upgrade's successor adopts them). */
export async function readChildren(paths: GwPaths): Promise<{ gw: ProcRecord | null; children: readonly ProcRecord[] }> {
  const file = await readJson<ChildrenFile>(paths.childrenFile);
  return { gw: file?.gw ?? null, children: file?.children ?? [] };
}

/**
 * Keeps instances.json in step with the live children; writes are serialized, newest last.
 * `freeze` stops the updates (a gw handing over: the file is its successor's now).
 */
export function childRegistry(paths: GwPaths, children: () => readonly { name: string; pid: number; launch?: string }[], log: { info(m: string): void; warn(m: string): void }) {
  let chain = Promise.resolve();
  let frozen = false;
  let failing = "";
  return {
    update(): void {
      if (frozen) return;
      // A write that fails (disk full) is said once and the next change writes the whole list
      // again: a rejected chain would skip every later write, and make stopping gw throw.
      chain = chain
        .then(async () => {
          if (frozen) return;
          const recs = await Promise.all(children().map((c) => recordOf(c.name, c.pid, c.launch)));
          await writeChildren(paths, recs.filter((r): r is ProcRecord => r !== null));
          if (failing) log.info(`${paths.childrenFile} is written again`);
          failing = "";
        })
        .catch((e: NodeJS.ErrnoException) => {
          const why = e.code ?? e.message;
          if (why !== failing) log.warn(`${writeProblem(paths.childrenFile, e)}; the instances' pids are not recorded, and after a crash of gw they may be left running`);
          failing = why;
        });
    },
    flushed: () => chain,
    freeze: (on = true) => void (frozen = on),
  };
}

/**
 * Stop the instance groups a dead gw left running; returns their names. Nothing is touched while
 * the gw that started them lives, or (with `ofGwPid`) when they belong to another gw; a group
 * whose leader was replaced by an unrelated process (same pid, other start time) is left alone.
 */
export async function stopLeftovers(paths: GwPaths, killWaitMs: number, ofGwPid?: number): Promise<string[]> {
  const file = await readJson<ChildrenFile>(paths.childrenFile);
  if (!file || (file.gw && (await stillRunning(file.gw)))) return [];
  if (ofGwPid !== undefined && file.gw?.pid !== ofGwPid) return [];
  const stopped = await stopRecorded(paths, file.children ?? [], killWaitMs);
  // Only the dead gw's own record goes. A watchdog and the next `gw up` both stop the leftovers
  // of a gw killed with SIGKILL; the one that is slower must not delete the file the new gw wrote
  // meanwhile (its instances, which a `gw upgrade` then adopts: without the file, none — and the
  // successor starts its own beside them).
  const now = await readJson<ChildrenFile>(paths.childrenFile);
  if (now && sameRecord(now.gw, file.gw)) await rm(paths.childrenFile, { force: true });
  return stopped;
}

const sameRecord = (a: ProcRecord | null, b: ProcRecord | null) => a?.pid === b?.pid && a?.startTime === b?.startTime;

/**
 * Stop recorded instance groups of the folder at `paths` still running (SIGTERM, SIGKILL after
 * killWaitMs); returns their names. A group whose leader was replaced by an unrelated process is
 * left alone, and so is one whose leader is gone unless it works in its instance's directory.
 */
export async function stopRecorded(paths: GwPaths, recs: readonly ProcRecord[], killWaitMs: number): Promise<string[]> {
  const stopped: string[] = [];
  await Promise.all(
    recs.map(async (rec) => {
      const leader = await procInfo(rec.pid);
      if (leader && leader.startTime !== rec.startTime) return;
      const members = await groupMembers(rec.pid);
      if (members.length === 0) return;
      // Without its leader, nothing proves the group gw's: the record may be a cloned folder's
      // (.gw/instances.json committed or crafted), naming a group of the user's whose leader
      // exited — a double-forked daemon, the pager a pipeline left. gw starts every instance in
      // instances/NAME, and what it starts works there.
      if (!leader) {
        const home = instanceHome(paths.dir, rec.name);
        if (home === undefined || !members.every((pid) => worksIn(pid, home))) return;
      }
      signalGroup(rec.pid, "SIGTERM");
      const deadline = performance.now() + killWaitMs;
      while ((await groupMembers(rec.pid)).length > 0 && performance.now() < deadline) await Bun.sleep(100);
      signalGroup(rec.pid, "SIGKILL");
      stopped.push(rec.name);
    }),
  );
  return stopped.sort();
}

/**
 * Instance `name`'s directory in the folder `dir`, when it is reached without a link: a folder's
 * `instances -> ~` would make the user's own processes look like its instances.
 */
function instanceHome(dir: string, name: string): string | undefined {
  if (nameProblem(INSTANCE_NAME, name) !== undefined) return undefined; // `..` would lead out of instances/
  const home = join(realOf(dir), "instances", name);
  return realOf(instanceCwd(dir, name)) === home ? home : undefined;
}

/** Whether process `pid` works in the directory `home`. */
function worksIn(pid: number, home: string): boolean {
  try {
    return readlinkSync(`/proc/${pid}/cwd`) === home;
  } catch {
    return false; // gone, or not the user's to read
  }
}

export async function removeRunFiles(paths: GwPaths): Promise<void> {
  // Another gw's, once its pid file names it (one that took the folder over): not this gw's to remove.
  const owner = await readJson<ProcRecord>(paths.pidFile);
  if (owner && owner.pid !== process.pid) return;
  await Promise.all([paths.pidFile, paths.childrenFile, paths.socket].map((f) => rm(f, { force: true })));
}
