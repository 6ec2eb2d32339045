// An instance's auth dir holds its OAuth credentials (refresh tokens): no one but the user may
// read them. gw makes a new one 0700, but one that already exists — made by hand, by the old
// setup, copied from elsewhere — may be 0755 with credential files 0644 that every local user can
// read. So each time gw writes the instance files (gen, up, reload, login) it takes the group and
// other bits off the dir and off the user's own regular files directly in it, and never adds one
// (a 0500 dir stays 0500). It changes nothing through a link, nothing that is someone else's, and
// nothing in a dir that holds more than credentials (auth_dir pointed at a home, the config's
// folder, a system folder): for an open dir it cannot tighten it returns one line saying so instead.
import { closeSync, constants as C, fchmodSync, fstatSync, lstatSync, openSync, readdirSync, type Stats, statSync } from "node:fs";
import { join } from "node:path";
import { fsWhy } from "../fs/why.ts";

const OPEN_BITS = 0o077;

/** What CLIProxyAPI keeps in an auth dir: one JSON file per login. */
const CREDENTIAL = /\.json$/;

/** Tighten `dir` and the user's own files in it; a line for what stays open to other users, else undefined. */
export function makeAuthDirPrivate(dir: string, uid = process.getuid?.() ?? -1): string | undefined {
  const st = lstatSync(dir, { throwIfNoEntry: false });
  if (!st) return undefined;
  if (st.isSymbolicLink()) {
    const target = statSync(dir, { throwIfNoEntry: false });
    if (!target?.isDirectory() || !(target.mode & OPEN_BITS)) return undefined;
    return `${dir} is a link to an auth dir other users can read (${modeOf(target)}); gw changes nothing through a link — make the directory it leads to private (chmod 700)`;
  }
  if (!st.isDirectory()) return undefined; // mkdir said so already
  if (st.uid !== uid) {
    return st.mode & OPEN_BITS ? `${dir}: auth dir owned by uid ${st.uid}, open to other users (${modeOf(st)}); gw changes no one else's directory — its owner can make it private (chmod 700)` : undefined;
  }
  try {
    const names = readdirSync(dir).sort(); // sorted: the line names the same one each time
    // auth_dir = "." (the config's folder), your home, or — for a gw run as root — "/etc": what is
    // there is not only credentials, and other users or programs may need to read it.
    const other = names.find((n) => !CREDENTIAL.test(n));
    if (other !== undefined) {
      return st.mode & OPEN_BITS ? `${dir}: auth dir open to other users (${modeOf(st)}), and it holds ${other}, no credential: gw makes private only a folder of credentials alone — give the logins a folder of their own, or make this one private yourself (chmod 700)` : undefined;
    }
    if (st.mode & OPEN_BITS) withOpened(dir, C.O_DIRECTORY, st, (fd, now) => fchmodSync(fd, now.mode & 0o7700));
    for (const name of names) tightenFile(join(dir, name), uid);
  } catch (err) {
    return `${dir}: cannot make the auth dir private: ${fsWhy(err) ?? String(err)}`;
  }
  return undefined;
}

// --- internal ---

/** The user's own regular file, not a link, loses its group and other bits. */
function tightenFile(file: string, uid: number): void {
  const st = lstatSync(file, { throwIfNoEntry: false });
  if (!st?.isFile() || st.uid !== uid || !(st.mode & OPEN_BITS)) return;
  withOpened(file, 0, st, (fd, now) => fchmodSync(fd, now.mode & 0o7700));
}

/**
 * Run `change` on a descriptor of `path` opened without following a link, only when it is still
 * what lstat saw (same inode): the name may have been swapped for a link or another file since.
 * O_NONBLOCK: a FIFO put there in between is opened without waiting, then left alone.
 */
function withOpened(path: string, flags: number, seen: Stats, change: (fd: number, now: Stats) => void): void {
  let fd: number;
  try {
    fd = openSync(path, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK | flags);
  } catch {
    return; // gone, or a link now: nothing to tighten
  }
  try {
    const now = fstatSync(fd);
    if (now.ino === seen.ino && now.dev === seen.dev && now.isFile() === seen.isFile() && now.isDirectory() === seen.isDirectory()) change(fd, now);
  } finally {
    closeSync(fd);
  }
}

const modeOf = (st: Stats) => `mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")}`;
