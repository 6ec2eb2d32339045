import { relative } from "node:path";

/** Relative to cwd when the file is below it, else absolute: never a `../../..` chain. */
export function displayPath(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith("..") ? rel : file;
}
