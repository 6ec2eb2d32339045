// Whether two spellings of a path name one file: a linked directory, or a config given by another
// path, must not read as a second file (a second gw, a second config).
import { realpathSync } from "node:fs";
import { isAbsolute, relative, sep } from "node:path";

/** The path with every link resolved; as given when it cannot be (gone, unreadable). */
export function realOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Whether `a` and `b` are one file or directory (the same string, or the same once links are resolved). */
export const samePath = (a: string, b: string): boolean => a === b || realOf(a) === realOf(b);

/** Whether `path` is `dir` or below it, by the names as given (links are the caller's: realOf). A name like `..x` is below. */
export function isUnder(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}
