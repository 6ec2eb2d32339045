// A full disk refuses a checkpoint of the state file as it refuses gw's own writes: that is the
// disk's trouble, not the checkpoint worker's — it checkpoints again once there is room, and gw
// says nothing more than its writes already say. A real full disk (test/helpers/full-disk.ts): the
// runner (full-disk-runner.ts) keeps the state file on it, fills it and frees it again.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { fullDisk } from "../helpers/full-disk.ts";
import { tempDir } from "../helpers/tmp.ts";

test("a checkpoint the full disk refused does not end the worker: it checkpoints again once there is room", async () => {
  const dir = tempDir("gw-ckpt-full-");
  const disk = await fullDisk(join(dir, "disk"), join(dir, "ctl"), "3m");
  try {
    const r = await disk.run([process.execPath, join(import.meta.dir, "full-disk-runner.ts"), disk.mount]);
    if (r.code !== 0) throw new Error(`the runner exited ${r.code}: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as { first: boolean; refused: boolean; again: boolean; missed: number; lines: string[] };
    // gw's own writes may or may not have met the full disk too; the worker gave no warning.
    expect(out.lines.filter((l) => l.includes("checkpoint"))).toEqual([]);
    expect(out).toMatchObject({ first: true, refused: true, again: true });
    expect(out.missed).toBeGreaterThan(0);
  } finally {
    await disk.close();
  }
}, 60_000);
