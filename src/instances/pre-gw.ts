// An instances/NAME.yaml that gw did not write is the old setup's: its `auth-dir` may be the only
// record of where that instance's logins are. Before gw first replaces it, the old text is kept
// beside it as NAME.yaml.pre-gw (private, written whole, never replaced once there), and gw
// migrate reads that copy when the live file is gw's.
import { existsSync } from "node:fs";
import { link, rename, rm } from "node:fs/promises";
import { stageFile } from "../fs/atomic-write.ts";
import { PRIVATE_FILE_MODE } from "../fs/private.ts";

/** How every instance file gw writes begins (yaml.ts). */
export const GW_HEADER = "# Written by gw from ";
/** The kept copy's suffix. */
export const PRE_GW = ".pre-gw";

export const writtenByGw = (text: string): boolean => text.startsWith(GW_HEADER);

/**
 * Keep `was`, the text now at `path`, as `path.pre-gw` — unless gw wrote it or a copy is kept
 * already (the first one is the old setup's). Whether it was kept now.
 */
export async function keepPreGw(path: string, was: string | undefined): Promise<boolean> {
  if (was === undefined || writtenByGw(was)) return false;
  const kept = path + PRE_GW;
  if (existsSync(kept)) return false;
  const tmp = await stageFile(kept, was, PRIVATE_FILE_MODE);
  try {
    await link(tmp, kept); // whole, and never over one already there (EEXIST)
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS") throw err;
    await rename(tmp, kept); // a file system without hard links: checked a moment ago
    return true;
  } finally {
    await rm(tmp, { force: true });
  }
}
