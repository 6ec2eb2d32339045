// What gw install created: files and the directories it had to make. --uninstall reads it
// back and removes exactly those (directories only when they are empty again).
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { replaceFileSync, writeNewFileSync } from "../fs/atomic-write.ts";

export interface Manifest {
  readonly files: readonly string[];
  readonly dirs: readonly string[];
}

const EMPTY: Manifest = { files: [], dirs: [] };

export function readManifest(path: string): Manifest {
  if (!existsSync(path)) return EMPTY;
  try {
    const m = JSON.parse(readFileSync(path, "utf8")) as Partial<Manifest>;
    return { files: m.files ?? [], dirs: m.dirs ?? [] };
  } catch {
    return EMPTY;
  }
}

/** Union with what an earlier install recorded, so reinstalling keeps track of everything. */
export function mergeManifest(a: Manifest, b: Manifest): Manifest {
  return { files: [...new Set([...a.files, ...b.files])], dirs: [...new Set([...a.dirs, ...b.dirs])] };
}

export function writeManifest(path: string, m: Manifest): void {
  replaceFileSync(path, (tmp) => writeNewFileSync(tmp, `${JSON.stringify(m, null, 2)}\n`), 0o644);
}

/** The directories mkdir -p would create for `dir` (outermost first). */
export function missingDirs(dir: string): string[] {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) missing.unshift(d);
  return missing;
}

/** mkdir -p that reports which directories it created (outermost first). */
export function makeDirs(dir: string): string[] {
  const missing = missingDirs(dir);
  if (missing.length) mkdirSync(dir, { recursive: true });
  return missing;
}
