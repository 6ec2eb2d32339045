// Size-based rotation by copy-and-truncate: instances hold their log open in append mode, so
// after the truncate their next write lands at the start of the empty file. Renaming instead
// would leave them writing into X.log.1 until their next restart.
import { copyFile, rename, stat, truncate } from "node:fs/promises";

/** Rotate `file` when it has grown past maxBytes: X.log → X.log.1 → … → X.log.keep (dropped after). */
export async function rotateIfLarge(file: string, maxBytes: number, keep: number): Promise<boolean> {
  const size = await stat(file).then((s) => s.size, () => 0);
  if (size <= maxBytes) return false;
  for (let i = keep - 1; i >= 1; i--) {
    await rename(`${file}.${i}`, `${file}.${i + 1}`).catch(() => {});
  }
  if (keep >= 1) await copyFile(file, `${file}.1`);
  await truncate(file, 0);
  return true;
}

/** Check the files every rotateCheckMs and rotate those past maxBytes; returns the stop function. */
export function startRotation(files: () => string[], t: { rotateCheckMs: number; logMaxBytes: number; logKeep: number }, warn: (m: string) => void): () => void {
  const timer = setInterval(() => {
    for (const file of files()) {
      void rotateIfLarge(file, t.logMaxBytes, t.logKeep).catch((e: Error) => warn(`log rotation of ${file} failed: ${e.message}`));
    }
  }, t.rotateCheckMs);
  return () => clearInterval(timer);
}
